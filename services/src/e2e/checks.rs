//! The checks of one expectation, each run through the real `kubectl` (or `sh -c` for
//! `commands`) against the cluster under test, in the order of cli-and-workflows.md §6.2:
//! commands → kubectl mutations (apply, patch, delete) → kubectl reads (get, auth) → resources.
//! The first check that fails fails the pass, with a message saying which check and why.

use super::Failure;
use super::assert::{check as assert_output, clip};
use katalog::decode::{Spanned, Str};
use katalog::model::e2e::{ApplyCheck, AuthCheck, CommandCheck, DeleteCheck, Expectation, GetCheck, GetFormat, PatchCheck, PatchType, ResourceCheck, WaitFor};
use katalog::validate::e2e::resolve;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// What one process printed, and how it ended.
#[derive(Debug, Clone)]
pub struct Output {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Output {
    /// stdout and stderr together, trimmed (what upstream asserts on).
    pub fn combined(&self) -> String {
        let mut s = self.stdout.trim().to_string();
        let e = self.stderr.trim();
        if !e.is_empty() {
            if !s.is_empty() {
                s.push('\n');
            }
            s.push_str(e);
        }
        s
    }
}

/// How to reach the cluster under test.
#[derive(Debug, Clone)]
pub struct Shell {
    /// The kubeconfig kubectl and commands use (`KUBECONFIG`); `None`: the caller's own
    /// environment (the current context).
    pub kubeconfig: Option<PathBuf>,
    /// A kubeconfig authenticating as the runtime's ServiceAccount (dev cluster only), for
    /// `kubectl.auth` steps with `as: <that ServiceAccount>`.
    pub runtime_kubeconfig: Option<PathBuf>,
    /// The runtime's user name, `system:serviceaccount:<ns>:orkestra`.
    pub runtime_user: String,
    /// Where inline manifests are written.
    pub scratch: PathBuf,
    /// kubectl's discovery and HTTP cache (`KUBECACHEDIR`) for a dev cluster: inside the run's
    /// scratch directory, so a run leaves nothing under `~/.kube/cache`; `None` on a borrowed
    /// cluster (the user's own cache).
    pub cache_dir: Option<PathBuf>,
}

/// The longest any single process may run: a hung command fails its check, it does not hang
/// the run.
const MAX_PROCESS: Duration = Duration::from_secs(120);

impl Shell {
    async fn run(&self, mut cmd: tokio::process::Command, timeout: Duration, what: &'static str) -> Result<Output, Failure> {
        if let Some(kc) = &self.kubeconfig {
            cmd.env("KUBECONFIG", kc);
        }
        if let Some(dir) = &self.cache_dir {
            cmd.env("KUBECACHEDIR", dir);
        }
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        let child = cmd
            .spawn()
            .map_err(|source| if source.kind() == std::io::ErrorKind::NotFound { Failure::NotInstalled { what } } else { Failure::Spawn { what, source } })?;
        let limit = timeout.clamp(Duration::from_secs(5), MAX_PROCESS);
        match tokio::time::timeout(limit, child.wait_with_output()).await {
            Err(_) => Err(Failure::Killed { what, secs: limit.as_secs() }),
            Ok(Err(source)) => Err(Failure::Wait { what, source }),
            Ok(Ok(out)) => Ok(Output {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }),
        }
    }

    /// `kubectl args…` with the cluster's kubeconfig.
    pub async fn kubectl<S: AsRef<std::ffi::OsStr>>(&self, args: &[S], timeout: Duration) -> Result<Output, Failure> {
        let mut cmd = tokio::process::Command::new("kubectl");
        cmd.args(args);
        self.run(cmd, timeout, "kubectl").await
    }

    /// `kubectl args…` that must succeed; `Err` carries kubectl's message.
    pub async fn kubectl_ok<S: AsRef<std::ffi::OsStr>>(&self, args: &[S], timeout: Duration) -> Result<Output, Failure> {
        let out = self.kubectl(args, timeout).await?;
        if out.code == 0 { Ok(out) } else { Err(Failure::Check(out.combined())) }
    }

    /// `sh -c line` in `cwd`, `KUBECONFIG` exported.
    pub async fn sh(&self, line: &str, cwd: &Path, timeout: Duration) -> Result<Output, Failure> {
        let mut cmd = tokio::process::Command::new("sh");
        cmd.arg("-c").arg(line).current_dir(cwd);
        self.run(cmd, timeout, "sh").await
    }
}

/// The directory of the file a value was written in (commands run there).
fn dir_of(s: &Str) -> PathBuf {
    katalog::files::dir_of(&s.span.file.path())
}

fn ns(n: &Option<Str>) -> String {
    n.as_ref().map(|s| s.value.clone()).unwrap_or_else(|| "default".into())
}

fn text(s: &Option<Str>) -> String {
    s.as_ref().map(|s| s.value.clone()).unwrap_or_default()
}

fn exit(expected: Option<&Spanned<i64>>, out: &Output) -> Result<(), Failure> {
    let want = expected.map_or(0, |c| c.value);
    if i64::from(out.code) == want {
        return Ok(());
    }
    let shown = clip(&out.combined(), 400);
    Err(Failure::Check(format!("exit code {}, expected {want}{}", out.code, if shown.is_empty() { String::new() } else { format!(": {shown}") })))
}

/// Whether an object reports ready:
/// - with a `Ready` condition: it is `True`;
/// - an `apps/v1` workload: all of `spec.replicas` (default 1) available;
/// - a Job: it succeeded;
/// - otherwise `status.availableReplicas`, when present, is not 0 (upstream's rule, under
///   which a Service is ready).
pub fn ready(obj: &Value) -> Result<(), Failure> {
    let int = |p: &str| obj.pointer(p).and_then(Value::as_i64);
    let conditions = obj.pointer("/status/conditions").and_then(Value::as_array);
    if let Some(c) = conditions.and_then(|cs| cs.iter().find(|c| c["type"] == "Ready")) {
        return if c["status"] == "True" {
            Ok(())
        } else {
            let why = [c["reason"].as_str(), c["message"].as_str()].into_iter().flatten().collect::<Vec<_>>().join(": ");
            Err(Failure::Check(format!(
                "Ready is {}{}",
                c["status"].as_str().unwrap_or("unknown"),
                if why.is_empty() { String::new() } else { format!(" ({why})") }
            )))
        };
    }
    let api = obj["apiVersion"].as_str().unwrap_or_default();
    let kind = obj["kind"].as_str().unwrap_or_default();
    match (api, kind) {
        ("apps/v1", "DaemonSet") => {
            let (want, have) = (int("/status/desiredNumberScheduled").unwrap_or(0), int("/status/numberAvailable").unwrap_or(0));
            if have >= want { Ok(()) } else { Err(Failure::Check(format!("{have}/{want} pods available"))) }
        }
        ("apps/v1", _) => {
            let (want, have) = (int("/spec/replicas").unwrap_or(1), int("/status/availableReplicas").unwrap_or(0));
            if have >= want { Ok(()) } else { Err(Failure::Check(format!("{have}/{want} replicas available"))) }
        }
        ("batch/v1", "Job") => {
            if int("/status/succeeded").unwrap_or(0) >= 1 {
                Ok(())
            } else {
                Err(Failure::Check("the Job has not completed".into()))
            }
        }
        _ => match int("/status/availableReplicas") {
            Some(0) => Err(Failure::Check("0 replicas available".into())),
            _ => Ok(()),
        },
    }
}

/// `Kind/name in namespace` (or `Kind in namespace`).
fn describe(kind: &str, name: Option<&str>, namespace: &str) -> String {
    match name {
        Some(n) => format!("{kind}/{n} in namespace {namespace}"),
        None => format!("{kind} in namespace {namespace}"),
    }
}

/// A `resources` entry (also setup waits).
pub async fn resource(
    sh: &Shell,
    kind: &str,
    name: Option<&str>,
    namespace: &str,
    count: Option<u32>,
    want_ready: bool,
    timeout: Duration,
) -> Result<(), Failure> {
    let what = describe(kind, name, namespace);
    let mut args: Vec<String> = vec!["get".into(), kind.into()];
    args.extend(name.map(str::to_string));
    args.extend(["-n".into(), namespace.into()]);
    if count == Some(0) {
        args.extend(["--ignore-not-found".into(), "-o".into(), "name".into()]);
        let out = sh.kubectl(&args, timeout).await?;
        // A kubectl error (an unknown kind) also means that nothing of it exists.
        let left = if out.code == 0 { out.stdout.trim().to_string() } else { String::new() };
        return if left.is_empty() {
            Ok(())
        } else {
            Err(Failure::Check(format!("{what}: expected none, still there: {}", left.lines().collect::<Vec<_>>().join(", "))))
        };
    }
    args.extend(["-o".into(), "json".into()]);
    let out = sh.kubectl(&args, timeout).await?;
    if out.code != 0 {
        let msg = out.combined();
        return Err(Failure::Check(if msg.contains("(NotFound)") { format!("{what}: not found") } else { format!("{what}: {}", clip(&msg, 400)) }));
    }
    let v: Value = serde_json::from_str(&out.stdout).map_err(|e| Failure::Check(format!("{what}: kubectl printed no JSON ({e})")))?;
    let first = if name.is_some() {
        v
    } else {
        let items = v["items"].as_array().cloned().unwrap_or_default();
        match count {
            Some(n) if items.len() != n as usize => return Err(Failure::Check(format!("{what}: expected {n}, found {}", items.len()))),
            _ if items.is_empty() => return Err(Failure::Check(format!("{what}: none found"))),
            _ => items.into_iter().next().unwrap_or_default(),
        }
    };
    if want_ready {
        let shown = first.pointer("/metadata/name").and_then(Value::as_str).map(|n| describe(kind, Some(n), namespace)).unwrap_or(what);
        ready(&first).map_err(|e| e.context(format!("{shown} is not ready")))?;
    }
    Ok(())
}

async fn resource_check(sh: &Shell, r: &ResourceCheck, timeout: Duration) -> Result<(), Failure> {
    let kind = text(&r.kind);
    resource(sh, &kind, r.name.as_ref().map(|n| n.as_str()), &ns(&r.namespace), r.count, r.ready == Some(true), timeout).await
}

/// A setup wait (one attempt).
pub async fn wait_for(sh: &Shell, w: &WaitFor, timeout: Duration) -> Result<(), Failure> {
    resource(sh, &text(&w.kind), w.name.as_ref().map(|n| n.as_str()), &ns(&w.namespace), None, w.ready == Some(true), timeout).await
}

async fn command(sh: &Shell, c: &CommandCheck, timeout: Duration) -> Result<(), Failure> {
    let Some(run) = &c.run else { return Ok(()) };
    let out = sh.sh(run, &dir_of(run), timeout).await?;
    let label = format!("command `{}`", clip(run, 80));
    exit(c.exit_code.as_ref(), &out).map_err(|e| e.context(&label))?;
    assert_output(&c.assert, &out.combined()).map_err(|e| e.context(&label))
}

fn jsonpath(field: &str) -> String {
    let f = field.trim();
    if f.starts_with('{') { f.to_string() } else { format!("{{{f}}}") }
}

/// `kubectl get` arguments of a get step (also used by onFailure, which prints the object).
pub fn get_args(g: &GetCheck, for_print: bool) -> Vec<String> {
    let mut args: Vec<String> = vec!["get".into(), text(&g.kind)];
    args.extend(g.name.as_ref().map(|n| n.value.clone()));
    args.extend(["-n".into(), ns(&g.namespace)]);
    if let Some(sel) = &g.label_selector {
        args.extend(["-l".into(), sel.value.clone()]);
    }
    let output = match (&g.field, &g.format) {
        (Some(f), _) => format!("jsonpath={}", jsonpath(f)),
        (None, Some(f)) => f.value.as_str().to_string(),
        (None, None) if for_print => GetFormat::Yaml.as_str().to_string(),
        (None, None) => GetFormat::Name.as_str().to_string(),
    };
    args.extend(["-o".into(), output]);
    args
}

async fn get(sh: &Shell, g: &GetCheck, timeout: Duration) -> Result<(), Failure> {
    let label = format!("kubectl get {}", describe(&text(&g.kind), g.name.as_ref().map(|n| n.as_str()), &ns(&g.namespace)));
    let out = sh.kubectl(&get_args(g, false), timeout).await?;
    if out.code != 0 {
        return Err(Failure::Check(format!("{label}: {}", clip(&out.combined(), 400))));
    }
    let shown = match &g.field {
        Some(f) => format!("{label} {}", jsonpath(f)),
        None => label,
    };
    assert_output(&g.assert, &out.stdout).map_err(|e| e.context(shown))
}

static INLINE: AtomicU32 = AtomicU32::new(0);

async fn apply(sh: &Shell, a: &ApplyCheck, timeout: Duration) -> Result<(), Failure> {
    let (file, label) = match (&a.file, &a.inline) {
        (Some(f), _) => (resolve(f), format!("kubectl apply -f {}", f.value)),
        (None, Some(node)) => {
            let text = match node.as_scalar_text() {
                Some(t) => t.to_string(),
                None => katalog::yaml::emit(&node.to_json()),
            };
            let path = sh.scratch.join(format!("inline-{}.yaml", INLINE.fetch_add(1, Ordering::SeqCst)));
            std::fs::write(&path, text).map_err(|source| Failure::Write { path: path.clone(), source })?;
            (path, "kubectl apply (inline)".to_string())
        }
        (None, None) => return Err(Failure::Check("a `kubectl.apply` step needs `file` or `inline`".into())),
    };
    let mut args: Vec<String> = vec!["apply".into(), "-f".into(), file.to_string_lossy().into_owned()];
    if let Some(n) = &a.namespace {
        args.extend(["-n".into(), n.value.clone()]);
    }
    let out = sh.kubectl(&args, timeout).await?;
    exit(a.exit_code.as_ref(), &out).map_err(|e| e.context(&label))?;
    assert_output(&a.assert, &out.combined()).map_err(|e| e.context(&label))
}

async fn delete(sh: &Shell, d: &DeleteCheck, timeout: Duration) -> Result<(), Failure> {
    let mut args: Vec<String> = vec!["delete".into()];
    let label = match (&d.file, &d.kind, &d.name) {
        (Some(f), _, _) => {
            args.extend(["-f".into(), resolve(f).to_string_lossy().into_owned()]);
            format!("kubectl delete -f {}", f.value)
        }
        (None, Some(k), Some(n)) => {
            args.extend([k.value.clone(), n.value.clone(), "-n".into(), ns(&d.namespace)]);
            format!("kubectl delete {}", describe(k, Some(n), &ns(&d.namespace)))
        }
        _ => return Err(Failure::Check("a `kubectl.delete` step needs `file`, or `kind` and `name`".into())),
    };
    args.push("--wait=false".into());
    if d.ignore_not_found != Some(false) {
        args.push("--ignore-not-found".into());
    }
    let out = sh.kubectl(&args, timeout).await?;
    exit(d.exit_code.as_ref(), &out).map_err(|e| e.context(&label))?;
    assert_output(&d.assert, &out.combined()).map_err(|e| e.context(&label))
}

async fn patch(sh: &Shell, p: &PatchCheck, timeout: Duration) -> Result<(), Failure> {
    let body = match &p.patch {
        Some(node) => match node.as_scalar_text() {
            Some(t) => t.to_string(),
            None => node.to_json().to_string(),
        },
        None => return Err(Failure::Check("a `kubectl.patch` step needs `patch`".into())),
    };
    let kind = text(&p.kind);
    let name = text(&p.name);
    let namespace = ns(&p.namespace);
    let kind_arg = p.patch_type.as_ref().map_or(PatchType::Merge, |t| t.value).as_str();
    let args = ["patch", &kind, &name, "-n", &namespace, "--type", kind_arg, "-p", &body];
    let out = sh.kubectl(&args, timeout).await?;
    let label = format!("kubectl patch {}", describe(&kind, Some(&name), &namespace));
    exit(p.exit_code.as_ref(), &out).map_err(|e| e.context(&label))?;
    assert_output(&p.assert, &out.combined()).map_err(|e| e.context(&label))
}

async fn auth(sh: &Shell, a: &AuthCheck, timeout: Duration) -> Result<(), Failure> {
    let (verb, res, namespace) = (text(&a.verb), text(&a.resource), ns(&a.namespace));
    let mut label = format!("kubectl auth can-i {verb} {res} -n {namespace}");
    let mut args: Vec<String> = vec!["auth".into(), "can-i".into(), verb, res, "-n".into(), namespace];
    let mut shell = sh.clone();
    if let Some(user) = &a.as_user {
        label.push_str(&format!(" --as {}", user.value));
        match &sh.runtime_kubeconfig {
            // The dev cluster does not impersonate; it knows the runtime's token, though.
            Some(kc) if user.value == sh.runtime_user => shell.kubeconfig = Some(kc.clone()),
            Some(_) => {
                return Err(Failure::Check(format!(
                    "{label}: the dev cluster does not support impersonation; `as` may name only the runtime's ServiceAccount ({})",
                    sh.runtime_user
                )));
            }
            None => args.extend(["--as".into(), user.value.clone()]),
        }
    }
    let out = shell.kubectl(&args, timeout).await?;
    let answer = out.stdout.trim();
    if answer != "yes" && answer != "no" {
        return Err(Failure::Check(format!("{label}: {}", clip(&out.combined(), 400))));
    }
    let mut assert = a.assert.clone();
    if !assert.any() {
        assert.equals = Some(Str::new("yes".into(), a.span));
    }
    assert_output(&assert, answer).map_err(|e| e.context(&label))
}

/// One pass over every check of `e`; `Err` is the first failure. `timeout` bounds each
/// process.
pub async fn pass(sh: &Shell, e: &Expectation, timeout: Duration) -> Result<(), Failure> {
    for (i, c) in e.commands.iter().enumerate() {
        command(sh, c, timeout).await.map_err(|m| m.context(format!("commands[{i}]")))?;
    }
    if let Some(k) = &e.kubectl {
        for (i, a) in k.apply.iter().enumerate() {
            apply(sh, a, timeout).await.map_err(|m| m.context(format!("kubectl.apply[{i}]")))?;
        }
        for (i, p) in k.patch.iter().enumerate() {
            patch(sh, p, timeout).await.map_err(|m| m.context(format!("kubectl.patch[{i}]")))?;
        }
        for (i, d) in k.delete.iter().enumerate() {
            delete(sh, d, timeout).await.map_err(|m| m.context(format!("kubectl.delete[{i}]")))?;
        }
        for (i, g) in k.get.iter().enumerate() {
            get(sh, g, timeout).await.map_err(|m| m.context(format!("kubectl.get[{i}]")))?;
        }
        for (i, a) in k.auth.iter().enumerate() {
            auth(sh, a, timeout).await.map_err(|m| m.context(format!("kubectl.auth[{i}]")))?;
        }
    }
    for (i, r) in e.resources.iter().enumerate() {
        resource_check(sh, r, timeout).await.map_err(|m| m.context(format!("resources[{i}]")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ready_follows_the_ready_condition_first() {
        let cr = json!({"apiVersion": "demo.ork.dev/v1", "kind": "Website", "spec": {"replicas": 2},
            "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "Progressing", "message": "1/2"}]}});
        assert_eq!(ready(&cr).unwrap_err().to_string(), "Ready is False (Progressing: 1/2)");
        let ok = json!({"kind": "Website", "status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        assert!(ready(&ok).is_ok());
    }

    #[test]
    fn workloads_need_every_replica_available() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": 2}, "status": {"availableReplicas": 1}});
        assert_eq!(ready(&d).unwrap_err().to_string(), "1/2 replicas available");
        let fresh = json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {}});
        assert_eq!(ready(&fresh).unwrap_err().to_string(), "0/1 replicas available", "a Deployment without status is not ready yet");
        let d = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "spec": {"replicas": 2}, "status": {"availableReplicas": 2}});
        assert!(ready(&d).is_ok());
        let job = json!({"apiVersion": "batch/v1", "kind": "Job", "status": {"active": 1}});
        assert!(ready(&job).is_err());
        assert!(ready(&json!({"apiVersion": "batch/v1", "kind": "Job", "status": {"succeeded": 1}})).is_ok());
    }

    #[test]
    fn other_objects_follow_upstreams_available_replicas_rule() {
        assert!(ready(&json!({"apiVersion": "v1", "kind": "Service", "spec": {}})).is_ok());
        assert!(ready(&json!({"apiVersion": "x/v1", "kind": "Thing", "status": {"availableReplicas": 0}})).is_err());
    }

    #[test]
    fn jsonpath_gets_braces_when_missing() {
        assert_eq!(jsonpath(".status.phase"), "{.status.phase}");
        assert_eq!(jsonpath("{.status.conditions[?(@.type==\"Ready\")].status}"), "{.status.conditions[?(@.type==\"Ready\")].status}");
    }

    #[test]
    fn combined_output_is_stdout_then_stderr_trimmed() {
        let o = Output { code: 0, stdout: " a\n".into(), stderr: "\nb \n".into() };
        assert_eq!(o.combined(), "a\nb");
        let o = Output { code: 1, stdout: String::new(), stderr: "err\n".into() };
        assert_eq!(o.combined(), "err");
        assert!(exit(Some(&Spanned::new(1, katalog::diag::Span::default())), &o).is_ok());
        assert_eq!(exit(None, &o).unwrap_err().to_string(), "exit code 1, expected 0: err");
    }
}
