//! One validation of the pattern, run off the UI thread after every save: the same
//! `load_file` + `validate` as `ork validate`, the [`Valid`] Katalog the other views render
//! from when there are no errors, the pattern's files found again, and the Katalog file's own
//! YAML tree (with positions) for the Katalog view — available even when the Katalog is
//! invalid, so the tree never disappears while it is being edited.

use super::pattern::Pattern;
use katalog::diag::FileId;
use katalog::load::{LoadOptions, load_file};
use katalog::valid::{Valid, valid_from};
use katalog::validate::{Report, validate};
use katalog::yaml::{Limits, Node, parse};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The result of one validation.
#[derive(Debug)]
pub struct Analysis {
    /// Increases with every validation: views compare it to know when to recompute.
    pub generation: u64,
    /// The pattern's files as found this time.
    pub pattern: Pattern,
    /// `ork validate`'s report: kind, CRD summaries and every diagnostic, sorted.
    pub report: Report,
    /// True when the Katalog file could not be read at all.
    pub unreadable: bool,
    /// The Katalog, when it is valid.
    pub valid: Option<Arc<Valid>>,
    /// The Katalog file's documents as parsed (positions kept), when it parses as YAML.
    pub source: Vec<Node>,
    /// The Katalog file's text, line by line (for showing a node's YAML).
    pub lines: Vec<String>,
    /// How long the validation took.
    pub took: Duration,
}

impl Analysis {
    /// Loads and validates the pattern's Katalog and finds its files again.
    pub fn run(generation: u64, mut pattern: Pattern, opts: &LoadOptions) -> Analysis {
        let started = Instant::now();
        let path = pattern.katalog.clone();
        let loaded = load_file(&path, opts);
        let report = validate(&loaded);
        let unreadable = loaded.unreadable();
        let kinds: BTreeSet<(String, String)> =
            report.crds.iter().map(|c| (c.group_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("").to_string(), c.kind.clone())).collect();
        pattern.rescan(&kinds);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let source = parse(&text, FileId::intern(&path), Limits::default()).map(|docs| docs.into_iter().map(|d| d.root).collect()).unwrap_or_default();
        let lines = text.lines().map(str::to_string).collect();
        let (report, valid) = if !unreadable && report.is_valid() {
            // valid_from consumes the report; keep a copy of what the views show from it.
            let kept = clone_report(&report);
            match valid_from(&path, loaded, report) {
                Ok(v) => (kept, Some(Arc::new(v))),
                Err(_) => (kept, None),
            }
        } else {
            (report, None)
        };
        Analysis { generation, pattern, report, unreadable, valid, source, lines, took: started.elapsed() }
    }

    /// Error and warning counts.
    pub fn counts(&self) -> (usize, usize) {
        (self.report.diagnostics.error_count(), self.report.diagnostics.warning_count())
    }

    /// True when the Katalog has no errors.
    pub fn is_valid(&self) -> bool {
        !self.unreadable && self.report.is_valid()
    }
}

fn clone_report(r: &Report) -> Report {
    Report {
        kind: r.kind,
        name: r.name.clone(),
        crds: r.crds.clone(),
        startup_order: r.startup_order.clone(),
        diagnostics: r.diagnostics.clone(),
        templates: None,
        op_rules: r.op_rules,
        expectations: r.expectations,
    }
}
