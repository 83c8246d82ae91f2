//! Why an e2e step or check did not succeed. The text is what the report shows (after the
//! run's secrets are scrubbed from it): the check or step, then why, outermost first.

use crate::devcluster::requests::RequestEvent;
use std::path::PathBuf;

/// A failed step or check of `ork e2e`.
#[derive(Debug, thiserror::Error)]
// Variant fields are the message's parts and its `#[source]` cause.
#[allow(missing_docs)]
pub enum Failure {
    /// A check did not hold, or a tool said no: what was expected and what was seen (kubectl's
    /// own message, for a kubectl call that had to succeed).
    #[error("{0}")]
    Check(String),
    /// The program (`kubectl`, `sh`) is not installed.
    #[error("{what}: not found on PATH (install it)")]
    NotInstalled {
        /// The program.
        what: &'static str,
    },
    /// The program could not be started.
    #[error("{what}: cannot start: {source}")]
    Spawn {
        /// The program.
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// Waiting for the program failed.
    #[error("{what}: {source}")]
    Wait {
        /// The program.
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The program outlived its time and was killed.
    #[error("{what}: still running after {secs}s; killed")]
    Killed {
        /// The program.
        what: &'static str,
        /// Seconds it was allowed to run.
        secs: u64,
    },
    /// A directory of the run cannot be created.
    #[error("cannot create {}: {source}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file of the run cannot be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// No random token for the runtime.
    #[error("cannot make a token for the runtime: {0}")]
    Token(#[source] std::io::Error),
    /// The dev cluster did not start.
    #[error("cannot start the dev cluster: {0}")]
    DevCluster(#[source] std::io::Error),
    /// No client for the runtime on the dev cluster.
    #[error("runtime client: {0}")]
    RuntimeClient(#[source] crate::serve::client::ClientError),
    /// No client for the current context.
    #[error("cannot build a client for the current context: {0}")]
    CurrentContext(#[source] kube::Error),
    /// No client for the gateway on the dev cluster.
    #[error("gateway client: {0}")]
    GatewayClient(#[source] crate::serve::client::ClientError),
    /// The gateway refused to start (a port, TLS).
    #[error("the gateway did not start: {0}")]
    GatewayStart(#[source] crate::gateway::GatewayError),
    /// The gateway did not register its webhooks in time.
    #[error("the gateway was not ready within {secs}s (its TLS Secret and webhook configurations are not in place){}", last.as_ref().map(|e| format!(": {e}")).unwrap_or_default())]
    GatewayNotReady {
        /// Seconds waited.
        secs: u64,
        /// The housekeeper's last error.
        last: Option<String>,
    },
    /// The runtime refused to start.
    #[error("the runtime did not start: {0}")]
    RuntimeStart(#[source] crate::runtime::StartError),
    /// The runtime's boxes did not start in time.
    #[error(transparent)]
    NotStarted(#[from] crate::runtime::NotStarted),
    /// The in-process runtime did not become the leader on the dev cluster.
    #[error("the runtime did not acquire the orkestra-konductor Lease within 10s")]
    NoLease,
    /// The run was interrupted (Ctrl-C).
    #[error("interrupted")]
    Interrupted,
    /// A failure in a context: `<context>: <failure>`.
    #[error("{context}: {source}")]
    In {
        /// The step or check (`kubectl.get[0]`, `applying the bundle failed`).
        context: String,
        /// What failed in it.
        #[source]
        source: Box<Failure>,
    },
    /// A failure and what the runtime and the dev cluster's request log tell about it, one line
    /// each after it.
    #[error("{source}{}", report.iter().map(|l| format!("\n{l}")).collect::<String>())]
    Reported {
        /// The failure.
        #[source]
        source: Box<Failure>,
        /// The report's lines.
        report: Vec<String>,
    },
}

impl Failure {
    /// This failure inside `context`: `<context>: <self>`.
    pub fn context(self, context: impl Into<String>) -> Failure {
        Failure::In { context: context.into(), source: Box::new(self) }
    }

    /// This failure with the report's lines after it (none: unchanged).
    pub fn reported(self, report: Vec<String>) -> Failure {
        if report.is_empty() { self } else { Failure::Reported { source: Box::new(self), report } }
    }
}

/// The requests of `user_name` (`who`: `the runtime`, `the gateway`) the dev cluster refused
/// with 403, from its request log: one line per distinct verb, resource and namespace (at most
/// 8), with how often, then the API server's message for the first (its first lines: an
/// escalation refusal lists every rule not held).
/// `the runtime was refused: create services in namespace shop (403) ×3`.
pub(super) fn refusals(events: &[RequestEvent], user_name: &str, who: &str) -> Vec<String> {
    /// (verb, resource, namespace) of a refused request.
    type Key = (String, String, Option<String>);
    // Each kind of refused request: how often, and the first one's message.
    let mut groups: Vec<(Key, u64, Option<String>)> = Vec::new();
    for e in events.iter().filter(|e| e.response_status.code == 403 && e.effective_user().username == user_name) {
        let Some(o) = &e.object_ref else { continue };
        let resource = match &o.subresource {
            Some(s) => format!("{}/{s}", o.resource),
            None => o.resource.clone(),
        };
        let key = (e.verb.clone(), resource, o.namespace.clone());
        match groups.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, n, _)) => *n += 1,
            None => groups.push((key, 1, e.response_status.message.clone())),
        }
    }
    let mut out = Vec::new();
    for (i, ((verb, resource, namespace), n, message)) in groups.iter().enumerate() {
        if i == 8 {
            out.push(format!("… and {} more kinds of refused requests", groups.len() - 8));
            break;
        }
        let scope = namespace.as_ref().map_or_else(|| "at the cluster scope".to_string(), |ns| format!("in namespace {ns}"));
        let times = if *n > 1 { format!(" ×{n}") } else { String::new() };
        out.push(format!("{who} was refused: {verb} {resource} {scope} (403){times}"));
        if let Some(m) = message {
            let lines: Vec<&str> = m.lines().collect();
            let shown = if lines.len() > 4 { format!("{}\n  … and {} more", lines[..4].join("\n"), lines.len() - 4) } else { m.clone() };
            out.push(format!("  {shown}"));
        }
    }
    out
}
