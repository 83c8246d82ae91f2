//! `:diff` — the Katalog, the CRDs it generates and its install bundle, compared by meaning
//! (`ork diff`'s engine: every document re-emitted with sorted keys, then a unified diff)
//! against git HEAD by default, or against any git ref or file named in the palette
//! (`:diff HEAD~3`, `:diff ../old/katalog.yaml`). The old side of a git ref is the pattern
//! directory as `git archive` gives it, so includes and Motifs resolve as they did then. The
//! work runs off the UI thread; `s` lays the same diff out side by side.

use super::super::pattern::Pattern;
use super::super::view::{Action, Ctx, KeyHelp, View, ViewId, result_for};
use super::super::widgets::{DocPane, NAV_KEYS};
use crate::report::diff::{diff_doc, side_by_side};
use crate::report::{Doc, Line, Tone};
use crossterm::event::{KeyCode, KeyEvent};
use katalog::authoring::bundle::{bundle, shipped_katalog};
use katalog::authoring::diff::{normalize, read_docs, unified};
use katalog::authoring::generate::{crds, selection};
use katalog::authoring::rbac::derive;
use katalog::load::LoadOptions;
use katalog::valid::{Valid, load_valid};
use ratatui::Frame;
use ratatui::layout::Rect;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What the working tree is compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A git ref (commit, branch, tag, `HEAD~1`).
    Git(String),
    /// Another Katalog file.
    File(PathBuf),
}

impl Target {
    fn label(&self) -> String {
        match self {
            Target::Git(r) => r.clone(),
            Target::File(p) => katalog::diag::display_path(p),
        }
    }
}

/// One compared artefact.
#[derive(Debug, Clone)]
pub struct Section {
    /// What it is: `Katalog`, `CRDs`, `bundle`.
    pub title: String,
    /// The unified diff, `None` when equal.
    pub diff: Option<String>,
    /// Why it could not be compared, when it could not.
    pub note: Option<String>,
}

/// The result of one comparison.
#[derive(Debug, Clone)]
pub struct Compared {
    /// Against what.
    pub target: Target,
    /// The Katalog's own diff, then the CRDs', then the bundle's.
    pub sections: Vec<Section>,
    /// Why nothing could be compared (not a git repository, unknown ref, missing file).
    pub error: Option<String>,
}

const KEYS: &[KeyHelp] = &[("s", "side by side / unified"), ("r", "compare again"), NAV_KEYS[0], NAV_KEYS[1], NAV_KEYS[2]];
const COMMANDS: &[KeyHelp] = &[("diff REF|FILE", "compare with a git ref (default HEAD) or another Katalog file")];

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).stdin(Stdio::null()).output().map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// A temporary directory removed on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch() -> std::io::Result<Scratch> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let p = std::env::temp_dir().join(format!("ork-tui-diff-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p)?;
    Ok(Scratch(p))
}

/// The pattern directory at git ref `r`, extracted into `into`; returns the Katalog file there.
fn checkout(pattern: &Pattern, r: &str, into: &Path) -> Result<PathBuf, String> {
    let top = git(&pattern.dir, &["rev-parse", "--show-toplevel"])
        .map_err(|_| "the pattern is not in a git repository; compare with a file instead: :diff FILE".to_string())?;
    git(&pattern.dir, &["rev-parse", "--verify", "--quiet", &format!("{r}^{{commit}}")]).map_err(|_| format!("unknown git ref {r:?}"))?;
    let top = PathBuf::from(top);
    let dir = pattern.dir.canonicalize().map_err(|e| format!("{}: {e}", pattern.dir.display()))?;
    let rel = dir.strip_prefix(&top).map(Path::to_path_buf).unwrap_or_default();
    let spec = if rel.as_os_str().is_empty() { ".".to_string() } else { rel.display().to_string() };
    let archive = Command::new("git")
        .arg("-C")
        .arg(&top)
        .args(["archive", "--format=tar", r, "--", &spec])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let untar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(into)
        .stdin(archive.stdout.ok_or("git archive gave no output")?)
        .output()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    if !untar.status.success() {
        return Err(format!("{} did not exist at {r}: everything is new", katalog::diag::display_path(&pattern.dir)));
    }
    let name = pattern.katalog.file_name().map(PathBuf::from).unwrap_or_default();
    let old = into.join(&rel).join(&name);
    if !old.is_file() {
        return Err(format!("{} did not exist at {r}: everything is new", name.display()));
    }
    Ok(old)
}

/// The generated artefacts of a Katalog: its CRDs and its bundle, as normalised YAML.
fn generated(v: &Valid, ns: &str) -> (Result<String, String>, Result<String, String>) {
    let crds = crds(&v.katalog, None, ns).map_err(|e| e.to_string());
    let bundle = (|| {
        let sel = selection("all").map_err(|e| e.to_string())?;
        let derived = derive(&v.katalog, ns).map_err(|e| e.to_string())?;
        let shipped = shipped_katalog(&v.katalog, &v.expanded).map_err(|e| e.to_string())?;
        Ok(bundle(&derived, v.katalog.name(), &shipped, sel))
    })();
    (crds, bundle)
}

fn section(title: &str, old: (&str, Result<String, String>), new: (&str, Result<String, String>)) -> Section {
    match (old.1, new.1) {
        (Ok(a), Ok(b)) => Section { title: title.into(), diff: unified(old.0, &a, new.0, &b), note: None },
        (Err(e), _) => Section { title: title.into(), diff: None, note: Some(format!("{}: {e}", old.0)) },
        (_, Err(e)) => Section { title: title.into(), diff: None, note: Some(format!("{}: {e}", new.0)) },
    }
}

/// Compares the pattern's Katalog, CRDs and bundle with `target` (what the view's job runs).
pub fn compare(pattern: &Pattern, target: &Target, namespace: &str, load: &LoadOptions) -> Compared {
    let mut out = Compared { target: target.clone(), sections: Vec::new(), error: None };
    let tmp;
    let old_path = match target {
        Target::File(p) => p.clone(),
        Target::Git(r) => {
            tmp = match scratch() {
                Ok(t) => t,
                Err(e) => {
                    out.error = Some(format!("cannot make a temporary directory: {e}"));
                    return out;
                }
            };
            match checkout(pattern, r, &tmp.0) {
                Ok(p) => p,
                Err(e) => {
                    out.error = Some(e);
                    return out;
                }
            }
        }
    };
    let shown_new = pattern.shown(&pattern.katalog);
    let shown_old = match target {
        Target::Git(r) => format!("{r}:{shown_new}"),
        Target::File(p) => katalog::diag::display_path(p),
    };
    let text = |p: &Path| read_docs(p).map(|d| normalize(&d)).map_err(|d| d.message.clone());
    out.sections.push(section("Katalog", (&shown_old, text(&old_path)), (&shown_new, text(&pattern.katalog))));
    let invalid = |e: katalog::valid::Invalid| format!("not a valid Katalog ({} error(s))", e.errors().count());
    let (old_v, new_v) = (load_valid(&old_path, load).map_err(invalid), load_valid(&pattern.katalog, load).map_err(invalid));
    let (old_crds, old_bundle) = match &old_v {
        Ok(v) => generated(v, namespace),
        Err(e) => (Err(e.clone()), Err(e.clone())),
    };
    let (new_crds, new_bundle) = match &new_v {
        Ok(v) => generated(v, namespace),
        Err(e) => (Err(e.clone()), Err(e.clone())),
    };
    out.sections.push(section("CRDs (ork generate crd)", (&shown_old, old_crds), (&shown_new, new_crds)));
    out.sections.push(section("bundle (ork generate bundle)", (&shown_old, old_bundle), (&shown_new, new_bundle)));
    out
}

/// The Diff view.
#[derive(Default)]
pub struct DiffView {
    target: Option<Target>,
    result: Option<Compared>,
    pane: DocPane,
    side: bool,
    /// Width the side-by-side layout was built for.
    built_for: Option<(bool, u16)>,
    shown: bool,
    running: bool,
    again: bool,
}

impl DiffView {
    fn run(&mut self, ctx: &Ctx<'_>) {
        let Some(a) = ctx.analysis else { return };
        if self.running {
            self.again = true;
            return;
        }
        self.running = true;
        let target = self.target.clone().unwrap_or_else(|| Target::Git("HEAD".into()));
        let (pattern, ns, load) = (a.pattern.clone(), ctx.options.namespace.clone(), ctx.options.load.clone());
        ctx.jobs.spawn("diff", move || result_for(ViewId::Diff, compare(&pattern, &target, &ns, &load)));
    }

    fn build(&mut self, width: u16) {
        let Some(r) = &self.result else { return };
        let mut d = Doc::new();
        let against = r.target.label();
        if let Some(e) = &r.error {
            d.toned(Tone::Bad, format!("cannot compare with {against}: {e}"));
        }
        let half = (width.saturating_sub(5) / 2).max(10) as usize;
        for s in &r.sections {
            d.push(Line::toned(Tone::Strong, format!("── {} ", s.title)).with(Tone::Dim, format!("({against} → working tree)")));
            match (&s.diff, &s.note) {
                (_, Some(n)) => d.toned(Tone::Warn, format!("  not compared: {n}")),
                (None, None) => d.toned(Tone::Good, "  ✓ no differences by meaning"),
                (Some(diff), None) => d.append(if self.side { side_by_side(diff, half) } else { diff_doc(diff) }),
            }
            d.push("");
        }
        self.pane.set_doc(d);
        self.built_for = Some((self.side, width));
    }

    fn changed(&self) -> Option<usize> {
        self.result.as_ref().map(|r| r.sections.iter().filter(|s| s.diff.is_some()).count())
    }
}

impl View for DiffView {
    fn id(&self) -> ViewId {
        ViewId::Diff
    }

    fn keys(&self) -> &'static [KeyHelp] {
        KEYS
    }

    fn commands(&self) -> &'static [KeyHelp] {
        COMMANDS
    }

    fn badge(&self) -> Option<String> {
        match self.changed() {
            Some(0) | None => None,
            Some(n) => Some(format!("±{n}")),
        }
    }

    fn on_show(&mut self, ctx: &Ctx<'_>) {
        if !self.shown {
            self.shown = true;
            self.run(ctx);
        }
    }

    fn on_analysis(&mut self, ctx: &Ctx<'_>) {
        // Compared lazily: only once the view has been opened, then after every save.
        if self.shown {
            self.run(ctx);
        }
    }

    fn on_result(&mut self, result: Box<dyn std::any::Any + Send>, ctx: &Ctx<'_>) -> Action {
        self.running = false;
        if let Ok(r) = result.downcast::<Compared>() {
            self.result = Some(*r);
            self.built_for = None;
        }
        if std::mem::take(&mut self.again) {
            self.run(ctx);
        }
        Action::None
    }

    fn on_command(&mut self, command: &str, arg: &str, ctx: &Ctx<'_>) -> Option<Action> {
        if command != "diff" {
            return None;
        }
        let arg = arg.trim();
        let base = ctx.analysis.map(|a| a.pattern.dir.clone()).unwrap_or_default();
        self.target = Some(if arg.is_empty() {
            Target::Git("HEAD".into())
        } else if base.join(arg).is_file() || Path::new(arg).is_file() {
            Target::File(if Path::new(arg).is_file() { PathBuf::from(arg) } else { base.join(arg) })
        } else {
            Target::Git(arg.to_string())
        });
        self.shown = true;
        self.run(ctx);
        Some(Action::Switch(ViewId::Diff))
    }

    fn set_filter(&mut self, filter: &str) {
        self.pane.set_filter(filter);
    }

    fn on_scroll(&mut self, delta: i32, _ctx: &Ctx<'_>) {
        self.pane.apply(super::super::widgets::Move::By(delta as i64));
    }

    fn on_key(&mut self, key: KeyEvent, ctx: &Ctx<'_>) -> Action {
        if self.pane.on_key(&key) {
            return Action::None;
        }
        match key.code {
            KeyCode::Char('s') => {
                self.side = !self.side;
                self.built_for = None;
                Action::Status(if self.side { "side by side".into() } else { "unified".into() })
            }
            KeyCode::Char('r') => {
                self.run(ctx);
                Action::None
            }
            _ => Action::Ignored,
        }
    }

    fn render(&mut self, frame: &mut Frame<'_>, area: Rect, ctx: &Ctx<'_>) {
        if self.built_for != Some((self.side, area.width)) && self.result.is_some() {
            self.build(area.width.saturating_sub(2));
        }
        let against = self.target.as_ref().map(Target::label).unwrap_or_else(|| "HEAD".into());
        let title = match (&self.result, self.running) {
            (None, _) => format!("diff — comparing with {against}…"),
            (Some(r), false) if r.error.is_some() => format!("diff — cannot compare with {against}"),
            (Some(_), true) => format!("diff — against {against} (comparing again…)"),
            (Some(_), false) => match self.changed() {
                Some(0) => format!("diff — against {against}: no differences"),
                Some(n) => format!("diff — against {against}: {n} of 3 differ · s {}", if self.side { "unified" } else { "side by side" }),
                None => format!("diff — against {against}"),
            },
        };
        self.pane.render(frame, area, &ctx.theme, &title);
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::harness::Harness;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(ok, "git {args:?}");
    }

    /// A git repository holding a copy of hello-website, committed, then its Katalog changed.
    fn repo(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ork-wb-diff-{tag}-{:010}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../demos/beginner/hello-website");
        for f in ["katalog.yaml", "cr.yaml", "simulate.yaml"] {
            std::fs::copy(src.join(f), dir.join(f)).unwrap_or_else(|e| panic!("{e}"));
        }
        git(&dir, &["init", "-q"]);
        git(&dir, &["add", "."]);
        git(&dir, &["commit", "-q", "-m", "start"]);
        let k = std::fs::read_to_string(dir.join("katalog.yaml")).unwrap_or_default();
        std::fs::write(dir.join("katalog.yaml"), k.replace("workers: 2", "workers: 3")).unwrap_or_else(|e| panic!("{e}"));
        dir
    }

    #[test]
    fn the_working_tree_against_head_by_meaning() {
        let dir = repo("head");
        let mut h = Harness::open(&dir);
        h.keys("6");
        h.settle();
        let s = h.render(100, 30).replace(&dir.display().to_string(), "$DIR");
        assert!(s.contains("-          workers: 2") && s.contains("+          workers: 3"), "{s}");
        insta::assert_snapshot!(s);
        // Side by side, at 80×24.
        h.keys("s");
        let s = h.render(80, 24).replace(&dir.display().to_string(), "$DIR");
        insta::assert_snapshot!("side_by_side_80x24", s);
        // Against a file: itself, so nothing differs.
        h.keys(":diff katalog.yaml<Enter>");
        h.settle();
        let s = h.render(100, 12);
        assert!(s.contains("no differences"), "{s}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn outside_git_and_unknown_refs_say_why() {
        let dir = std::env::temp_dir().join(format!("ork-wb-diff-nogit-{:010}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../demos/beginner/hello-website/katalog.yaml");
        std::fs::copy(&src, dir.join("katalog.yaml")).unwrap_or_else(|e| panic!("{e}"));
        let mut h = Harness::open(&dir);
        h.keys("6");
        h.settle();
        let s = h.render(120, 12);
        assert!(s.contains("not in a git repository") && s.contains(":diff FILE"), "{s}");
        let _ = std::fs::remove_dir_all(&dir);
        let dir = repo("badref");
        let mut h = Harness::open(&dir);
        h.keys(":diff no-such-ref<Enter>");
        h.settle();
        let s = h.render(120, 12);
        assert!(s.contains("unknown git ref \"no-such-ref\""), "{s}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
