//! Keeping secrets out of what `ork e2e` prints and reports. Expectations show what kubectl
//! and commands printed when they fail, and `onFailure` prints objects on purpose: a CR with its
//! password, a Secret with its data. Every event and every result passes a [`Redactor`] that
//! knows the sensitive values of the files the run applies (by the Katalog's sensitivity rule,
//! `katalog::sensitive`) and, learned just before anything about a failure is printed, the data
//! of every Secret ork manages in the cluster.

use super::checks::Shell;
use super::{CaseResult, DocRun, Event, Reporter};
use katalog::model::Katalog;
use katalog::redact::Redactor;
use katalog::render::LABEL_MANAGED;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

/// The sensitive values of `files` (multi-document YAML; unreadable files add nothing — the run
/// reports them when it applies them).
pub(super) fn of_files(katalog: &Katalog, files: &[PathBuf]) -> Redactor {
    let mut guard = Redactor::default();
    for f in files {
        let Ok(docs) = katalog::load::include::read_yaml_file(f, katalog::yaml::Limits::default()) else { continue };
        for d in docs {
            guard.add_manifest(katalog, &d.root.to_json());
        }
    }
    guard
}

/// A [`Reporter`] that scrubs every event before passing it on.
pub(super) struct Scrubbing<'a> {
    inner: &'a dyn Reporter,
    guard: Mutex<Redactor>,
}

impl<'a> Scrubbing<'a> {
    /// Scrubs with `guard`, reports to `inner`.
    pub fn new(inner: &'a dyn Reporter, guard: Redactor) -> Scrubbing<'a> {
        Scrubbing { inner, guard: Mutex::new(guard) }
    }

    fn guard(&self) -> std::sync::MutexGuard<'_, Redactor> {
        self.guard.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `text`, scrubbed.
    pub fn text(&self, text: &str) -> String {
        self.guard().scrub(text)
    }

    /// Adds the data of every Secret ork manages in the cluster (`managed=true`, any namespace),
    /// read with the administrator's kubeconfig: Secrets a Katalog generates (random passwords)
    /// are known only there. Best effort: a failed read adds nothing.
    pub async fn learn_cluster_secrets(&self, shell: &Shell) {
        let selector = format!("{LABEL_MANAGED}=true");
        let Ok(out) = shell.kubectl(&["get", "secrets", "-A", "-l", &selector, "-o", "json"], Duration::from_secs(30)).await else { return };
        let Ok(list) = serde_json::from_str::<Value>(&out.stdout) else { return };
        let mut guard = self.guard();
        for s in list["items"].as_array().into_iter().flatten() {
            guard.add_secret(s);
        }
    }

    /// A case with its error scrubbed.
    pub fn case(&self, mut c: CaseResult) -> CaseResult {
        let guard = self.guard();
        c.error = c.error.map(|e| guard.scrub(&e));
        c
    }

    /// A document's result with every error scrubbed.
    pub fn run(&self, mut r: DocRun) -> DocRun {
        r.error = r.error.map(|e| self.text(&e));
        r.cases = r.cases.into_iter().map(|c| self.case(c)).collect();
        r
    }
}

impl Reporter for Scrubbing<'_> {
    fn event(&self, e: Event) {
        let e = match e {
            Event::Document { name, description, file } => Event::Document { name, description, file },
            Event::Step(s) => Event::Step(self.text(&s)),
            Event::Done(s) => Event::Done(self.text(&s)),
            Event::Note(s) => Event::Note(self.text(&s)),
            Event::Waiting { name, timeout_secs } => Event::Waiting { name, timeout_secs },
            Event::StillWaiting { name, secs, reason } => Event::StillWaiting { name, secs, reason: self.text(&reason) },
            Event::Case(c) => Event::Case(self.case(c)),
            Event::Diagnostics { title, text } => Event::Diagnostics { title: self.text(&title), text: self.text(&text) },
            Event::Finished(r) => Event::Finished(self.run(r)),
        };
        self.inner.event(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Collect(Mutex<Vec<String>>);

    impl Reporter for Collect {
        fn event(&self, e: Event) {
            self.0.lock().unwrap_or_else(|p| p.into_inner()).push(format!("{e:?}"));
        }
    }

    #[test]
    fn every_event_and_result_is_scrubbed() {
        let mut guard = Redactor::default();
        guard.add("s3cr3t-value");
        let sink = Collect(Mutex::new(Vec::new()));
        let rep = Scrubbing::new(&sink, guard);
        let case = CaseResult {
            name: "c".into(),
            after: "cr-applied".into(),
            file: "e2e.yaml".into(),
            passed: false,
            not_run: false,
            elapsed_secs: 1.0,
            error: Some("got \"s3cr3t-value\"".into()),
        };
        rep.event(Event::Case(case.clone()));
        rep.event(Event::StillWaiting { name: "c".into(), secs: 10, reason: "s3cr3t-value".into() });
        rep.event(Event::Diagnostics { title: "$ kubectl get secret".into(), text: "password: czNjcjN0LXZhbHVl".into() });
        let run = rep.run(DocRun {
            file: "e2e.yaml".into(),
            name: "d".into(),
            description: None,
            cluster: "dev".into(),
            elapsed_secs: 1.0,
            error: Some("setup: s3cr3t-value".into()),
            cases: vec![case],
        });
        rep.event(Event::Finished(run.clone()));
        let seen = sink.0.lock().unwrap_or_else(|p| p.into_inner()).join("\n");
        assert!(!seen.contains("s3cr3t-value") && !seen.contains("czNjcjN0LXZhbHVl"), "{seen}");
        assert_eq!(seen.matches("[redacted]").count(), 5, "{seen}");
        assert_eq!(run.error.as_deref(), Some("setup: [redacted]"));
        assert_eq!(run.cases[0].error.as_deref(), Some("got \"[redacted]\""));
    }
}
