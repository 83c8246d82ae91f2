//! What the webhook tests share: an in-process dev cluster, a rustls webhook server on loopback
//! with its own CA, and kubectl run against the cluster with its own discovery cache.

use axum::Router;
use services::devcluster::{DevCluster, Options};
use services::serve::tls::{Ca, TlsListener, server_config};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tokio::task::JoinHandle;

/// A webhook server: where it listens and the CA bundle (base64 PEM) that trusts it.
pub struct Hooks {
    pub addr: SocketAddr,
    pub ca_bundle: String,
    server: JoinHandle<()>,
}

impl Drop for Hooks {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Serves `app` over TLS on 127.0.0.1:0, with a certificate for 127.0.0.1 from a fresh CA.
pub async fn serve(app: Router) -> Hooks {
    let ca = Ca::new("webhook-ca").unwrap();
    let leaf = ca.leaf(&["127.0.0.1"]).unwrap();
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = tcp.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let _ = axum::serve(TlsListener::new(tcp, server_config(&leaf).unwrap()).unwrap(), app).await;
    });
    Hooks { addr, ca_bundle: katalog::template::base64_encode(ca.pem().as_bytes()), server }
}

/// A port nothing listens on.
pub async fn dead_port() -> SocketAddr {
    tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap()
}

/// A dev cluster and the kubeconfig kubectl uses for it.
pub struct Cluster {
    pub dev: DevCluster,
    pub kubeconfig: PathBuf,
    pub dir: ork_tests::TempDir,
}

pub async fn cluster(tag: &str) -> Cluster {
    let dir = ork_tests::TempDir::new(tag);
    let dev = DevCluster::start(Options { port: 0, ready_after: Duration::from_secs(1), tls: true, ..Options::default() }).await.unwrap();
    let kubeconfig = dir.write("kubeconfig", &dev.kubeconfig());
    Cluster { dev, kubeconfig, dir }
}

/// What kubectl did: exit code, stdout, stderr.
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

impl Cluster {
    /// Runs kubectl (off the async runtime, which serves the cluster and the webhooks).
    pub async fn kubectl(&self, args: &[&str]) -> Out {
        self.kubectl_in(args, None).await
    }

    /// The same, with `stdin` as its standard input.
    pub async fn kubectl_in(&self, args: &[&str], stdin: Option<&str>) -> Out {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let (kubeconfig, cache) = (self.kubeconfig.clone(), self.dir.path().join("kube-cache"));
        let stdin = stdin.map(str::to_string);
        tokio::task::spawn_blocking(move || {
            use std::io::Write;
            use std::process::{Command, Stdio};
            let mut child = Command::new("kubectl")
                .args(&args)
                .env("KUBECONFIG", &kubeconfig)
                .env("KUBECACHEDIR", &cache)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("kubectl is required: {e}"));
            let mut input = child.stdin.take().unwrap();
            if let Some(text) = stdin {
                input.write_all(text.as_bytes()).unwrap();
            }
            drop(input);
            let out = child.wait_with_output().unwrap();
            Out {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }
        })
        .await
        .unwrap()
    }

    /// kubectl that must succeed; its stdout.
    pub async fn ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args).await;
        assert_eq!(out.code, 0, "kubectl {args:?}:\n{out}");
        out.stdout
    }

    /// `kubectl apply -f -` of `yaml` (plus `extra` arguments).
    pub async fn apply(&self, yaml: &str, extra: &[&str]) -> Out {
        let mut args = vec!["apply", "-f", "-"];
        args.extend_from_slice(extra);
        self.kubectl_in(&args, Some(yaml)).await
    }
}
