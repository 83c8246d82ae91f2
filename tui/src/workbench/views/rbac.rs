//! `:rbac` — the permissions derived from the Katalog, per component (runtime, gateway) and
//! scope, each rule with its reasons: the same derivation and the same report as `ork validate
//! --full`. `b` shows the raw install bundle (`ork generate bundle`). Against a deployed bundle
//! (`ork tui --bundle FILE`, `bundle.yaml` beside the Katalog, or `:bundle FILE`) it shows `ork
//! plan`'s report first, escalations highlighted. Computed off the UI thread after every save.

use super::super::view::{Action, Ctx, KeyHelp, View, ViewId, result_for};
use super::super::widgets::{DocPane, Move, NAV_KEYS};
use crate::report::plan::plan_doc;
use crate::report::rbac::permissions_doc;
use crate::report::{Doc, Line, Tone};
use crossterm::event::{KeyCode, KeyEvent};
use katalog::authoring::bundle::{bundle, shipped_katalog};
use katalog::authoring::diff::{read_bundle, read_docs};
use katalog::authoring::generate::{plan_against, selection};
use katalog::authoring::rbac::derive;
use katalog::diag::display_path;
use katalog::valid::Valid;
use ratatui::Frame;
use ratatui::layout::Rect;
use std::path::{Path, PathBuf};

/// What the view's job computes.
#[derive(Debug, Clone, Default)]
pub struct Derived {
    /// The permissions report (warnings of the derivation first), or why there is none.
    pub permissions: Doc,
    /// The install bundle's YAML.
    pub bundle: String,
    /// `ork plan` against the deployed bundle, when there is one.
    pub plan: Option<Doc>,
    /// How many permissions the plan adds.
    pub escalations: usize,
}

/// Derives the permissions and the bundle of `valid`, and plans against `deployed` when given.
pub fn derive_all(valid: &Valid, namespace: &str, deployed: Option<&Path>, shown_katalog: &str) -> Derived {
    let mut out = Derived::default();
    // The plan's namespace is the deployed bundle's, as `ork plan` takes it.
    let mut ns = namespace.to_string();
    let mut bundle_read = None;
    if let Some(path) = deployed {
        let read = read_docs(path).map_err(|d| d.to_string()).and_then(|docs| read_bundle(&docs).map_err(|e| format!("{}: {e}", display_path(path))));
        if let Ok(b) = &read
            && let Some(n) = &b.namespace
        {
            ns = n.clone();
        }
        bundle_read = Some((path, read));
    }
    let derived = match derive(&valid.katalog, &ns) {
        Ok(d) => d,
        Err(e) => {
            out.permissions.toned(Tone::Bad, format!("error: {e}"));
            return out;
        }
    };
    for w in &derived.warnings {
        out.permissions.push(Line::toned(Tone::Warn, "warning").with(Tone::Plain, format!(": {w}")));
    }
    out.permissions.append(permissions_doc(&derived));
    match (selection("all"), shipped_katalog(&valid.katalog, &valid.expanded)) {
        (Ok(sel), Ok(shipped)) => out.bundle = bundle(&derived, valid.katalog.name(), &shipped, sel),
        (Err(e), _) => out.bundle = format!("# cannot generate the bundle: {e}\n"),
        (_, Err(e)) => out.bundle = format!("# cannot generate the bundle: {e}\n"),
    }
    if let Some((path, read)) = bundle_read {
        let mut d = Doc::new();
        match read {
            Err(e) => d.toned(Tone::Bad, format!("cannot read the deployed bundle: {e}")),
            Ok(deployed) => {
                if deployed.katalog.is_none() {
                    d.toned(Tone::Warn, format!("note: {} has no Katalog ConfigMap: every CRD is new", display_path(path)));
                }
                match plan_against(&valid.katalog, &valid.expanded, &derived, &deployed) {
                    Ok(p) => {
                        out.escalations = p.grants_added.len();
                        d.append(plan_doc(&p, shown_katalog, &display_path(path), &ns));
                    }
                    Err(e) => d.toned(Tone::Bad, format!("cannot plan: {e}")),
                }
            }
        }
        out.plan = Some(d);
    }
    out
}

const KEYS: &[KeyHelp] = &[("b", "the raw install bundle YAML / the rules"), ("r", "derive again"), NAV_KEYS[0], NAV_KEYS[1], NAV_KEYS[2]];
const COMMANDS: &[KeyHelp] = &[("bundle FILE", "plan against a deployed bundle (ork plan)")];

/// The RBAC view.
#[derive(Default)]
pub struct RbacView {
    bundle_override: Option<PathBuf>,
    deployed: Option<PathBuf>,
    result: Option<Derived>,
    invalid: Option<usize>,
    pane: DocPane,
    raw: bool,
    running: bool,
    again: bool,
}

impl RbacView {
    fn run(&mut self, ctx: &Ctx<'_>) {
        let Some(a) = ctx.analysis else { return };
        let Some(valid) = a.valid.clone() else {
            self.invalid = Some(a.counts().0);
            self.refresh();
            return;
        };
        self.invalid = None;
        if self.running {
            self.again = true;
            return;
        }
        self.running = true;
        self.deployed = self.bundle_override.clone().or_else(|| a.pattern.bundle.clone());
        let (ns, deployed, shown) = (ctx.options.namespace.clone(), self.deployed.clone(), a.pattern.shown(&a.pattern.katalog));
        ctx.jobs.spawn("rbac", move || result_for(ViewId::Rbac, derive_all(&valid, &ns, deployed.as_deref(), &shown)));
    }

    fn refresh(&mut self) {
        let mut d = Doc::new();
        if let Some(n) = self.invalid {
            d.toned(Tone::Bad, format!("the Katalog has {n} error(s): permissions are derived from a valid Katalog — see :problems"));
        }
        if let Some(r) = &self.result {
            if self.invalid.is_some() {
                d.toned(Tone::Dim, "(as last derived)");
            }
            if self.raw {
                for l in r.bundle.lines() {
                    let tone = if l.trim_start().starts_with('#') { Tone::Dim } else { Tone::Plain };
                    d.toned(tone, l);
                }
            } else {
                if let Some(plan) = &r.plan {
                    d.append(plan.clone());
                    d.push("");
                } else {
                    d.toned(Tone::Dim, "no deployed bundle to plan against: ork tui --bundle FILE, bundle.yaml beside the Katalog, or :bundle FILE");
                    d.push("");
                }
                d.append(r.permissions.clone());
            }
        }
        self.pane.set_doc(d);
    }
}

impl View for RbacView {
    fn id(&self) -> ViewId {
        ViewId::Rbac
    }

    fn keys(&self) -> &'static [KeyHelp] {
        KEYS
    }

    fn commands(&self) -> &'static [KeyHelp] {
        COMMANDS
    }

    fn badge(&self) -> Option<String> {
        self.result.as_ref().filter(|r| r.escalations > 0).map(|r| format!("⚠ {}", r.escalations))
    }

    fn on_analysis(&mut self, ctx: &Ctx<'_>) {
        self.run(ctx);
    }

    fn on_result(&mut self, result: Box<dyn std::any::Any + Send>, ctx: &Ctx<'_>) -> Action {
        self.running = false;
        if let Ok(r) = result.downcast::<Derived>() {
            self.result = Some(*r);
            self.refresh();
        }
        if std::mem::take(&mut self.again) {
            self.run(ctx);
        }
        Action::None
    }

    fn on_command(&mut self, command: &str, arg: &str, ctx: &Ctx<'_>) -> Option<Action> {
        if command != "bundle" {
            return None;
        }
        let base = ctx.analysis.map(|a| a.pattern.dir.clone()).unwrap_or_default();
        let arg = arg.trim();
        if arg.is_empty() {
            return Some(Action::Status("usage: :bundle FILE (a bundle written by ork generate bundle)".into()));
        }
        let path = if Path::new(arg).is_file() { PathBuf::from(arg) } else { base.join(arg) };
        if !path.is_file() {
            return Some(Action::Status(format!("{arg}: not found")));
        }
        self.bundle_override = Some(path);
        self.raw = false;
        self.run(ctx);
        Some(Action::Switch(ViewId::Rbac))
    }

    fn set_filter(&mut self, filter: &str) {
        self.pane.set_filter(filter);
    }

    fn on_scroll(&mut self, delta: i32, _ctx: &Ctx<'_>) {
        self.pane.apply(Move::By(delta as i64));
    }

    fn on_key(&mut self, key: KeyEvent, ctx: &Ctx<'_>) -> Action {
        if self.pane.on_key(&key) {
            return Action::None;
        }
        match key.code {
            KeyCode::Char('b') => {
                self.raw = !self.raw;
                self.refresh();
                Action::None
            }
            KeyCode::Char('r') => {
                self.run(ctx);
                Action::None
            }
            _ => Action::Ignored,
        }
    }

    fn render(&mut self, frame: &mut Frame<'_>, area: Rect, ctx: &Ctx<'_>) {
        let what = if self.raw { "install bundle (ork generate bundle) · b: rules" } else { "derived permissions (ork validate --full) · b: bundle YAML" };
        let title = match (&self.result, &self.deployed) {
            (None, _) if self.invalid.is_none() => "rbac — deriving…".to_string(),
            (Some(r), Some(d)) if !self.raw => {
                let esc = if r.escalations > 0 { format!("⚠ {} escalation(s)", r.escalations) } else { "no escalation".into() };
                format!("rbac — plan against {}: {esc} · {what}", display_path(d))
            }
            _ => format!("rbac — {what}"),
        };
        self.pane.render(frame, area, &ctx.theme, &title);
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::harness::Harness;
    use std::path::{Path, PathBuf};

    fn demo(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../demos").join(rel)
    }

    #[test]
    fn the_derived_rules_with_their_reasons_and_the_raw_bundle() {
        let mut h = Harness::open(&demo("security/admission-rules"));
        h.keys("5");
        h.settle();
        let s = h.render(100, 30);
        assert!(s.contains("runtime permissions") && s.contains("· "), "{s}");
        insta::assert_snapshot!(s);
        h.keys("b");
        let s = h.render(80, 24);
        assert!(s.contains("kind: ServiceAccount") || s.contains("kind: Namespace"), "{s}");
        insta::assert_snapshot!("raw_bundle_80x24", s);
    }

    #[test]
    fn a_deployed_bundle_with_fewer_permissions_shows_the_escalation() {
        // The bundle of hello-website, deployed; the pattern is admission-rules (a Database
        // with StatefulSets and a gateway): planning shows what it would add.
        let dir = std::env::temp_dir().join(format!("ork-wb-rbac-{:010}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let src = demo("security/admission-rules");
        for f in ["katalog.yaml", "cr.yaml"] {
            std::fs::copy(src.join(f), dir.join(f)).unwrap_or_else(|e| panic!("{e}"));
        }
        let hello = katalog::valid::load_valid(&demo("beginner/hello-website/katalog.yaml"), &Default::default()).unwrap_or_else(|e| panic!("{e}"));
        let deployed = super::derive_all(&hello, "orkestra-system", None, "katalog.yaml").bundle;
        std::fs::write(dir.join("deployed.yaml"), deployed).unwrap_or_else(|e| panic!("{e}"));
        let mut h = Harness::open(&dir);
        h.keys(":bundle deployed.yaml<Enter>");
        h.settle();
        let s = h.render(110, 30).replace(&dir.display().to_string(), "$DIR");
        assert!(s.contains("ESCALATION") && s.contains("statefulsets") && s.contains("5 rbac ⚠"), "{s}");
        insta::assert_snapshot!(s);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_invalid_katalog_points_at_problems() {
        let mut h = Harness::open(&demo("beginner/hello-website/invalid/katalog-typo.yaml"));
        h.keys("5");
        h.settle();
        let s = h.render(100, 8);
        assert!(s.contains("3 error(s)") && s.contains(":problems"), "{s}");
    }
}
