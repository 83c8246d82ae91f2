//! `ork generate install`: the whole installation in one YAML stream — byte-stable, valid
//! against the Kubernetes schemas, hardened on every pod and container, understood by `ork
//! plan`, applied with the real kubectl to the dev cluster (every object accepted, the
//! Deployments Ready) and removed by `kubectl delete -f` without a trace.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use katalog::security::{container_security_context, pod_security_context, template_violations};
use ork_tests::{TempDir, kubectl, kubernetes_validate, ork, root};
use serde_json::{Value, json};
use services::devcluster::{DevCluster, Options};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The documents of a multi-document YAML stream.
pub fn docs(text: &str) -> Vec<Value> {
    katalog::yaml::parse(text, katalog::diag::FileId::intern(Path::new("install.yaml")), katalog::yaml::Limits::default())
        .unwrap_or_else(|e| panic!("not YAML: {}\n{text}", e.message))
        .into_iter()
        .map(|d| d.root.to_json())
        .filter(|v| !v.is_null())
        .collect()
}

fn demo(rel: &str) -> PathBuf {
    root().join("demos").join(rel).join("katalog.yaml")
}

/// `ork generate install` of `katalog` with `extra` flags: the text.
pub fn generate(katalog: &Path, extra: &[&str]) -> String {
    let dir = TempDir::new("install-gen");
    let mut args = vec!["generate", "install", "-f"];
    let k = katalog.to_string_lossy().to_string();
    args.push(&k);
    args.extend_from_slice(extra);
    let r = ork(dir.path(), &args);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    r.stdout
}

fn kinds_and_names(docs: &[Value]) -> Vec<String> {
    docs.iter().map(|d| format!("{}/{}", d["kind"].as_str().unwrap(), d["metadata"]["name"].as_str().unwrap())).collect()
}

#[test]
fn installs_are_byte_stable_schema_valid_and_hardened_with_gateway_objects_only_when_declared() {
    let dir = TempDir::new("install-valid");
    for (rel, gateway) in [("beginner/hello-website", false), ("security/admission-rules", true)] {
        let text = generate(&demo(rel), &[]);
        assert_eq!(text, generate(&demo(rel), &[]), "{rel}: two runs differ");
        let docs = docs(&text);
        let names = kinds_and_names(&docs);
        let gw: Vec<&String> = names.iter().filter(|n| n.contains("orkestra-gateway")).collect();
        if gateway {
            for want in [
                "ServiceAccount/orkestra-gateway",
                "Service/orkestra-gateway",
                "Deployment/orkestra-gateway",
                "PodDisruptionBudget/orkestra-gateway",
                "NetworkPolicy/orkestra-gateway",
            ] {
                assert!(names.iter().any(|n| n == want), "{rel}: {want} missing from {names:?}");
            }
        } else {
            assert!(gw.is_empty(), "{rel}: no gateway feature, yet {gw:?}");
        }
        // CRDs first, then the bundle, then the workloads.
        assert!(names[0].starts_with("CustomResourceDefinition/"), "{names:?}");
        assert!(names.iter().any(|n| n == "Deployment/orkestra") && names.iter().any(|n| n == "NetworkPolicy/orkestra-default-deny"), "{names:?}");

        let file = dir.write(&format!("{}.yaml", rel.replace('/', "-")), &text);
        kubernetes_validate(&[file], docs.len());

        for d in docs.iter().filter(|d| d["kind"] == "Deployment") {
            let pod = &d["spec"]["template"]["spec"];
            assert_eq!(template_violations(&d["spec"]["template"]), vec![], "{rel}: {}", d["metadata"]["name"]);
            assert_eq!(pod["securityContext"], pod_security_context());
            assert_eq!(pod["securityContext"]["runAsUser"], 65532);
            assert_eq!(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
            assert_eq!(pod["automountServiceAccountToken"], true);
            assert_eq!(d["spec"]["replicas"], 2);
            for c in pod["containers"].as_array().unwrap() {
                let sc = &c["securityContext"];
                assert_eq!(sc, &container_security_context());
                assert_eq!((&sc["runAsNonRoot"], &sc["runAsUser"], &sc["runAsGroup"]), (&json!(true), &json!(65532), &json!(65532)));
                assert_eq!((&sc["readOnlyRootFilesystem"], &sc["allowPrivilegeEscalation"]), (&json!(true), &json!(false)));
                assert_eq!(sc["capabilities"], json!({"drop": ["ALL"]}));
                for (probe, path) in [("startupProbe", "/startup"), ("livenessProbe", "/health"), ("readinessProbe", "/ready")] {
                    assert_eq!(c[probe]["httpGet"]["path"], path);
                }
                assert!(c["resources"]["requests"].is_object() && c["resources"]["limits"].is_object(), "{c}");
                assert!(c["volumeMounts"].as_array().unwrap().iter().any(|m| m["mountPath"] == "/tmp"), "{c}");
            }
            assert!(pod["volumes"].as_array().unwrap().iter().any(|v| v["name"] == "tmp" && v["emptyDir"].is_object()));
        }
        // The ServiceAccounts mount no token by themselves: each pod opts in.
        for sa in docs.iter().filter(|d| d["kind"] == "ServiceAccount") {
            assert_eq!(sa["automountServiceAccountToken"], false);
        }
        // The Namespace enforces what the pods satisfy: the labels come from the same source.
        let ns = docs.iter().find(|d| d["kind"] == "Namespace").unwrap();
        for (k, v) in katalog::security::namespace_labels() {
            assert_eq!(ns["metadata"]["labels"][k], v, "{k}");
        }
        // Each component's NetworkPolicy lets in exactly the ports its containers serve.
        for d in docs.iter().filter(|d| d["kind"] == "Deployment") {
            let name = d["metadata"]["name"].as_str().unwrap();
            let mut served: Vec<i64> =
                d["spec"]["template"]["spec"]["containers"][0]["ports"].as_array().unwrap().iter().map(|p| p["containerPort"].as_i64().unwrap()).collect();
            let np = docs.iter().find(|n| n["kind"] == "NetworkPolicy" && n["metadata"]["name"] == name).unwrap();
            let mut allowed: Vec<i64> = np["spec"]["ingress"][0]["ports"].as_array().unwrap().iter().map(|p| p["port"].as_i64().unwrap()).collect();
            served.sort();
            allowed.sort();
            assert_eq!(served, allowed, "{name}");
            assert_eq!(np["spec"]["ingress"].as_array().unwrap().len(), 1);
        }
    }
}

#[test]
fn images_and_namespace_are_flags_and_a_bad_image_is_a_usage_error() {
    let text = generate(
        &demo("security/admission-rules"),
        &["-n", "platform", "--image-runtime", "registry.test/ork-runtime@sha256:abc", "--image-gateway", "registry.test/gw:1"],
    );
    let docs = docs(&text);
    let image = |name: &str| {
        docs.iter().find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == name).unwrap()["spec"]["template"]["spec"]["containers"][0]["image"].clone()
    };
    assert_eq!(image("orkestra"), "registry.test/ork-runtime@sha256:abc");
    assert_eq!(image("orkestra-gateway"), "registry.test/gw:1");
    assert!(docs.iter().filter(|d| d["kind"] != "Namespace" && d["metadata"]["namespace"].is_string()).all(|d| d["metadata"]["namespace"] == "platform"));
    // The default images are this version's.
    let default = docs_of(&demo("beginner/hello-website"));
    let v = env!("CARGO_PKG_VERSION");
    assert_eq!(
        default.iter().find(|d| d["kind"] == "Deployment").unwrap()["spec"]["template"]["spec"]["containers"][0]["image"],
        format!("ghcr.io/orkspace/ork-runtime:{v}")
    );

    let dir = TempDir::new("install-bad");
    let k = demo("beginner/hello-website").to_string_lossy().to_string();
    let r = ork(dir.path(), &["generate", "install", "-f", &k, "--image-runtime", "bad image"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--image-runtime") && r.stderr.contains("expected an image reference"), "{}", r.stderr);
    let r = ork(dir.path(), &["generate", "install", "-f", &k, "-n", "Not_A_Namespace"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.is_empty());
}

fn docs_of(katalog: &Path) -> Vec<Value> {
    docs(&generate(katalog, &[]))
}

#[test]
fn ork_plan_reads_an_install_as_the_deployed_bundle() {
    let k = demo("security/admission-rules");
    let dir = TempDir::new("install-plan");
    let file = dir.write("install.yaml", &generate(&k, &[]));
    let ks = k.to_string_lossy().to_string();
    let r = ork(dir.path(), &["plan", "-f", &ks, "--bundle", &file.to_string_lossy()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("No changes"), "{}", r.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_applies_the_install_the_deployments_become_ready_and_delete_removes_everything() {
    let dev = DevCluster::start(Options { ready_after: Duration::from_millis(200), ..Options::default() }).await.unwrap();
    let dir = TempDir::new("install-apply");
    let kc = dir.write("kubeconfig", &dev.kubeconfig());
    for rel in ["beginner/hello-website", "security/admission-rules"] {
        let text = generate(&demo(rel), &["-n", "ork-install"]);
        let docs = docs(&text);
        let file = dir.write("install.yaml", &text);
        let f = file.to_string_lossy().to_string();
        let (code, out) = kubectl(&kc, &["apply", "-f", &f]);
        assert_eq!(code, 0, "{rel}: {out}");
        for name in kinds_and_names(&docs) {
            let (kind, obj) = name.split_once('/').unwrap();
            let line = format!("/{obj} created");
            assert!(out.lines().any(|l| l.to_lowercase().starts_with(&kind.to_lowercase()) && l.ends_with(&line)), "{rel}: {name} not created:\n{out}");
        }
        let (code, out) = kubectl(&kc, &["-n", "ork-install", "wait", "--for=condition=Available", "deployment", "--all", "--timeout=30s"]);
        assert_eq!(code, 0, "{rel}: {out}");
        let ready = out.lines().filter(|l| l.ends_with("condition met")).count();
        assert_eq!(ready, docs.iter().filter(|d| d["kind"] == "Deployment").count(), "{out}");

        // `--ignore-not-found`, as docs/install.md says: the Namespace comes first in the file, and
        // the namespace controller may empty it before kubectl reaches the objects in it (on a
        // real cluster too: it runs asynchronously, after the DELETE has answered).
        let (code, out) = kubectl(&kc, &["delete", "-f", &f, "--ignore-not-found", "--timeout=30s"]);
        assert_eq!(code, 0, "{rel}: {out}");
        // Nothing is left: every object of the file is gone, cluster-scoped ones too.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (code, out) = kubectl(&kc, &["get", "-f", &f, "--ignore-not-found", "-o", "name"]);
            if code == 0 && out.trim().is_empty() {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{rel}: left after delete:\n{out}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The process a Deployment's container would run: its `args`, its `env` (the downward-API
/// namespace filled in, `KATALOG_PATH` pointed at the ConfigMap's file written locally, `ORK_PORT`
/// a free port), and a kubeconfig holding its ServiceAccount's token.
struct Pod {
    child: std::process::Child,
    port: u16,
    log: PathBuf,
}

impl Drop for Pod {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

// The child is kept inside `Pod`, whose `Drop` kills and waits for it.
#[allow(clippy::zombie_processes)]
fn run_container(bin: &Path, deployment: &Value, katalog_file: &Path, kubeconfig: &Path, log: PathBuf) -> Pod {
    let c = &deployment["spec"]["template"]["spec"]["containers"][0];
    let ns = deployment["metadata"]["namespace"].as_str().unwrap();
    let port = free_port();
    let mut cmd = std::process::Command::new(bin);
    cmd.args(c["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()));
    cmd.env_clear().env("KUBECONFIG", kubeconfig).env("HOSTNAME", deployment["metadata"]["name"].as_str().unwrap());
    for e in c["env"].as_array().unwrap() {
        let name = e["name"].as_str().unwrap();
        let value = match name {
            "ORK_NAMESPACE" => {
                assert_eq!(e["valueFrom"]["fieldRef"]["fieldPath"], "metadata.namespace");
                ns.to_string()
            }
            "KATALOG_PATH" => {
                assert_eq!(e["value"], "/etc/orkestra/katalog.yaml");
                katalog_file.to_string_lossy().into_owned()
            }
            "ORK_PORT" => {
                assert_eq!(e["value"], "8080");
                port.to_string()
            }
            other => panic!("unexpected env {other}"),
        };
        cmd.env(name, value);
    }
    let child = cmd.stdout(std::process::Stdio::null()).stderr(std::fs::File::create(&log).unwrap()).spawn().unwrap();
    Pod { child, port, log }
}

/// The probes of the Deployment answer 200 on the process within `within`.
async fn probes_pass(pod: &Pod, deployment: &Value, within: Duration) {
    let c = &deployment["spec"]["template"]["spec"]["containers"][0];
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", pod.port).parse().unwrap();
    for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
        assert_eq!(c[probe]["httpGet"]["port"], "http");
        let path = c[probe]["httpGet"]["path"].as_str().unwrap();
        let deadline = std::time::Instant::now() + within;
        loop {
            let got = crate::rt::http_get(addr, path).await;
            if matches!(got, Ok((200, _))) {
                break;
            }
            let log = std::fs::read_to_string(&pod.log).unwrap_or_default();
            assert!(std::time::Instant::now() < deadline, "{probe} {path}: {got:?}\n{log}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deployments_command_env_and_probes_start_the_real_binaries_under_the_install_s_rbac() {
    use services::devcluster::authz::User;
    let ns = "ork-install";
    let text = generate(&demo("security/admission-rules"), &["-n", ns]);
    let docs = docs(&text);
    let opts = Options {
        ready_after: Duration::from_millis(200),
        rbac: true,
        tokens: vec![("t-runtime".into(), User::service_account(ns, "orkestra")), ("t-gateway".into(), User::service_account(ns, "orkestra-gateway"))],
        ..Options::default()
    };
    let dev = DevCluster::start(opts).await.unwrap();
    let dir = TempDir::new("install-run");
    let admin = dir.write("admin.kubeconfig", &dev.kubeconfig());
    let file = dir.write("install.yaml", &text);
    let (code, out) = kubectl(&admin, &["apply", "-f", &file.to_string_lossy()]);
    assert_eq!(code, 0, "{out}");
    let cm = docs.iter().find(|d| d["kind"] == "ConfigMap").unwrap();
    let katalog_file = dir.write("katalog.yaml", cm["data"]["katalog.yaml"].as_str().unwrap());
    let deployment = |name: &str| docs.iter().find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == name).unwrap().clone();

    let runtime = deployment("orkestra");
    let kc = dir.write("runtime.kubeconfig", &dev.kubeconfig_with_token("t-runtime"));
    let pod = run_container(&ork_tests::ork_runtime_bin(), &runtime, &katalog_file, &kc, dir.path().join("runtime.log"));
    probes_pass(&pod, &runtime, Duration::from_secs(30)).await;

    let gateway = deployment("orkestra-gateway");
    let kc = dir.write("gateway.kubeconfig", &dev.kubeconfig_with_token("t-gateway"));
    let pod = run_container(&ork_tests::ork_gateway_bin(), &gateway, &katalog_file, &kc, dir.path().join("gateway.log"));
    probes_pass(&pod, &gateway, Duration::from_secs(30)).await;
    // The gateway made its TLS Secret under its own ServiceAccount.
    let (code, out) = kubectl(&admin, &["-n", ns, "get", "secret", "orkestra-internal-tls", "-o", "name"]);
    assert_eq!((code, out.trim()), (0, "secret/orkestra-internal-tls"), "{out}");
}
