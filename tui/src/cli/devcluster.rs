//! `ork dev-cluster`: the embedded dev cluster in the foreground (docs/devcluster.md).

use super::{CliError, Outcome, output};
use services::devcluster::{DevCluster, Options};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `ork dev-cluster`.
#[derive(clap::Args)]
pub struct Args {
    /// Port on 127.0.0.1 (default: a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Where to write the kubeconfig.
    #[arg(long, default_value = "ork-dev.kubeconfig")]
    kubeconfig: PathBuf,
    /// How long Deployments, StatefulSets and Jobs take to become ready or complete (a duration: 1s, 500ms).
    #[arg(long, default_value = "1s")]
    ready_after: String,
    /// Serve plain HTTP instead of HTTPS with a generated CA.
    #[arg(long)]
    plain_http: bool,
    /// Enforce RBAC: stored Roles and bindings authorize (without it the kubeconfig's random administrator token is the only credential, and it may do anything).
    #[arg(long)]
    rbac: bool,
    /// With --rbac: another token, as TOKEN=USER or TOKEN=system:serviceaccount:NAMESPACE:NAME (repeatable; tokens must be unique).
    #[arg(long = "token", value_name = "TOKEN=USER", requires = "rbac")]
    tokens: Vec<String>,
    /// Append one JSON line per request to FILE, as kube-apiserver's audit log at the Metadata level (audit.k8s.io/v1 Events: user, verb, object, status code; never bodies or tokens). Created 0600.
    #[arg(long, value_name = "FILE")]
    audit_log: Option<PathBuf>,
}

fn user(spec: &str) -> services::devcluster::authz::User {
    match spec.strip_prefix("system:serviceaccount:").and_then(|rest| rest.split_once(':')) {
        Some((ns, name)) => services::devcluster::authz::User::service_account(ns, name),
        None => services::devcluster::authz::User::named(spec),
    }
}

/// Runs until interrupted.
pub fn run(args: Args) -> Outcome {
    let Some(ready_after) = katalog::duration::parse_duration(&args.ready_after).filter(|s| *s >= 0.0) else {
        return Err(CliError::Usage(format!("--ready-after {:?}: expected a duration such as 1s or 500ms", args.ready_after)).into());
    };
    let rt = super::async_runtime(Some(2))?;
    rt.block_on(async {
        let mut tokens = Vec::new();
        for t in &args.tokens {
            match t.split_once('=') {
                Some((token, who)) if !token.is_empty() && !who.is_empty() => tokens.push((token.to_string(), user(who))),
                _ => return Err(CliError::Usage(format!("--token {t:?}: expected TOKEN=USER")).into()),
            }
        }
        let opts = Options {
            port: args.port,
            ready_after: Duration::from_secs_f64(ready_after.max(0.01)),
            tls: !args.plain_http,
            rbac: args.rbac,
            tokens,
            audit_log: args.audit_log.clone(),
            ..Options::default()
        };
        if let Some(path) = &args.audit_log {
            services::devcluster::requests::open(path)
                .map_err(|e| CliError::Usage(format!("--audit-log {}: cannot open it for appending: {e}", path.display())))?;
        }
        let dev = DevCluster::start(opts).await.map_err(|e| {
            let message = if e.kind() == std::io::ErrorKind::InvalidInput { e.to_string() } else { format!("cannot listen on 127.0.0.1:{}: {e}", args.port) };
            anyhow::Error::new(e).context(message)
        })?;
        dev.write_kubeconfig(&args.kubeconfig).map_err(|e| CliError::Usage(format!("cannot write {}: {e}", args.kubeconfig.display())))?;
        output::print_line(&format!("dev cluster serving {}; kubeconfig: {}", dev.url(), args.kubeconfig.display()));
        output::print_line(&format!("try: KUBECONFIG={} kubectl get namespaces", args.kubeconfig.display()));
        let _ = std::io::stdout().flush();
        services::serve::signal::shutdown_signal().await;
        dev.stop().await;
        Ok(0)
    })
}
