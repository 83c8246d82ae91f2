//! Files → typed documents: pick the document, check kind and apiVersion, expand Motif imports
//! and Komposer imports, then decode strictly (reading `include:` files through [`mod@include`]);
//! a Simulate or E2E document's op-rule and expectation includes are expanded after decoding
//! ([`mod@documents`]), under the same limits and pattern root.
//!
//! Expansion works on the span-carrying YAML tree *before* typed decoding: a Motif's resources
//! are spliced into the importing CRD entry and a Komposer's imported Katalogs are merged into
//! one Katalog tree. Every node keeps the position it had in its own file, so an error inside an
//! imported file is reported at that file's line and column.

use crate::decode::{Cx, Decode};
use crate::diag::{Diagnostic, Diagnostics, Span, display_path, suggest};
use crate::files::PatternRoot;
use crate::model::{API_VERSION, KINDS, Katalog, Komposer, Motif};
use crate::yaml::{Limits, Node, Style, Value};
use include::read_yaml_file;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod documents;
pub mod include;
mod motif;

mod remote;

pub use crate::remote::{Remote, RemoteAuth, RemoteError, RemoteKind, RemoteRequest, Resolved};

/// Options for loading.
#[derive(Clone, Default)]
pub struct LoadOptions {
    /// Input caps.
    pub limits: Limits,
    /// Let `include:` (in any document), Motif, Komposer and E2E imports, `crdFile` and
    /// `crFiles` name files outside the pattern root (the directory of the file given to
    /// [`load_file`]). Off by default: a pattern pulled from elsewhere must not read, ship or
    /// echo the reader's other files (`ork … --allow-outside-root`).
    pub allow_outside_root: bool,
    /// Resolves registry and https references (Motif `oci://` imports, Komposer
    /// `imports.registry` and https `imports.files`); `None`: they are reported as needing a
    /// registry client.
    pub remote: Option<std::sync::Arc<dyn Remote>>,
}

impl std::fmt::Debug for LoadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadOptions")
            .field("limits", &self.limits)
            .field("allow_outside_root", &self.allow_outside_root)
            .field("remote", &self.remote.is_some())
            .finish()
    }
}

/// The kind of the top-level document that was loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    /// `kind: Katalog`.
    Katalog,
    /// `kind: Komposer`.
    Komposer,
    /// `kind: Motif`.
    Motif,
    /// `kind: Simulate`.
    Simulate,
    /// `kind: E2E`.
    E2e,
}

impl DocKind {
    /// The `kind:` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Katalog => "Katalog",
            DocKind::Komposer => "Komposer",
            DocKind::Motif => "Motif",
            DocKind::Simulate => "Simulate",
            DocKind::E2e => "E2E",
        }
    }
}

/// The result of loading one file: whatever could be decoded plus every finding.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The file given.
    pub path: PathBuf,
    /// Its document kind, when it could be determined.
    pub kind: Option<DocKind>,
    /// The expanded Katalog (for a Katalog, or the composition of a Komposer).
    pub katalog: Option<Katalog>,
    /// The Katalog tree that was decoded (imports and Komposer merges applied), and the
    /// blocks its `include:`s expanded to: see [`Loaded::expanded`].
    decoded: Option<(Node, Vec<(Node, Node)>)>,
    /// Each admitted `crdFile` (by [`CrdEntry::crd_file_path`]), read and parsed as it was
    /// loaded: see [`Loaded::crd_file`].
    crd_files: Vec<(PathBuf, Result<Vec<crate::yaml::Document>, Diagnostic>)>,
    /// The Komposer as written.
    pub komposer: Option<Komposer>,
    /// The Simulate document (when one was given), its op-rule `include:`s expanded: no rule
    /// left has an `include`.
    pub simulate: Option<crate::model::Simulate>,
    /// The E2E document (when one was given), its expectation `include:`s expanded: no
    /// expectation left has an `include`.
    pub e2e: Option<crate::model::E2e>,
    /// The Motif (when a Motif file was given).
    pub motif: Option<Motif>,
    /// Every finding, sorted.
    pub diagnostics: Diagnostics,
}

impl Loaded {
    /// The Katalog document as decoded, with imports, Komposer merges and includes all
    /// resolved: what a bundle ships to the cluster. `None` for a Motif or an unreadable file.
    pub fn expanded(&self) -> Option<Node> {
        self.decoded.as_ref().map(|(node, includes)| include::resolve_includes(node, includes))
    }

    /// The `crdFile` at `path` (a CRD entry's [`CrdEntry::crd_file_path`]) as read and parsed
    /// while loading, or why it could not be; `None` when it was not read (no such entry).
    pub fn crd_file(&self, path: &Path) -> Option<&Result<Vec<crate::yaml::Document>, Diagnostic>> {
        self.crd_files.iter().find(|(p, _)| p == path).map(|(_, read)| read)
    }

    /// True when the file given could not be read at all (missing, I/O error, not a regular
    /// file): exit code 2 territory.
    pub fn unreadable(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_unreadable) && self.kind.is_none()
    }
}

/// Loads and expands the document in `path`.
///
/// Every file the document names (includes, Motif and Komposer imports, each CRD entry's
/// `crdFile` and `crFiles`; a Simulate document's op-rule includes, an E2E document's
/// expectation includes and imports) must resolve inside the directory of `path` unless
/// [`LoadOptions::allow_outside_root`]; one that does not is reported (`outside-root`) and
/// never opened.
pub fn load_file(path: &Path, opts: &LoadOptions) -> Loaded {
    let mut cx = include::context(opts.limits, PatternRoot::of_file(path, opts.allow_outside_root)).with_remote(opts.remote.clone());
    let mut out = Loaded { path: path.to_path_buf(), ..Loaded::default() };
    if let Some((kind, root)) = read_document(path, &mut cx, None) {
        out.kind = Some(kind);
        cx.enter_file(path);
        match kind {
            DocKind::Katalog => {
                let node = motif::expand_katalog_imports(root, &mut cx);
                out.katalog = Katalog::decode(&node, &mut cx);
                out.decoded = Some((node, cx.take_includes()));
            }
            DocKind::Motif => out.motif = Motif::decode(&root, &mut cx),
            DocKind::Simulate => {
                out.simulate = crate::model::Simulate::decode(&root, &mut cx);
                if let Some(sim) = &mut out.simulate {
                    documents::expand_simulate(sim, path, &mut cx);
                }
            }
            DocKind::E2e => {
                out.e2e = crate::model::E2e::decode(&root, &mut cx);
                if let Some(doc) = &mut out.e2e {
                    documents::expand_e2e(doc, path, &mut cx);
                }
            }
            DocKind::Komposer => {
                out.komposer = Komposer::decode(&root, &mut cx);
                let merged = compose(&root, &mut cx);
                out.katalog = Katalog::decode(&merged, &mut cx);
                out.decoded = Some((merged, cx.take_includes()));
            }
        }
    }
    if let Some(k) = &mut out.katalog {
        resolve_entry_files(k, &mut cx);
        out.crd_files = read_crd_files(k, cx.limits());
    }
    out.diagnostics = cx.take_diagnostics();
    out.diagnostics.sort();
    out
}

/// Resolves each CRD entry's `crdFile` and `crFiles` against the file that names them and
/// admits them by the pattern root: [`CrdEntry::crd_file_path`] and
/// [`CrdEntry::cr_file_paths`] are what every reader opens. A remote `crdFile` gets no path.
fn resolve_entry_files(katalog: &mut Katalog, cx: &mut Cx) {
    let Some(spec) = katalog.spec.as_mut() else { return };
    for (name, entry) in spec.crds.0.iter_mut() {
        let at = |field: &str| format!("spec.crds.{}.{field}", name.as_str());
        if let Some(f) = &entry.crd_file
            && !f.value.starts_with("https://")
            && !f.value.starts_with("http://")
        {
            let path = include::join_relative(&f.span.file.path(), &f.value);
            match cx.root().check(&path, f.span, "crdFile") {
                Ok(()) => entry.crd_file_path = Some(path),
                Err(d) => cx.push(d.path(at("crdFile")).crd(name.as_str())),
            }
        }
        for (i, f) in entry.cr_files.iter().enumerate() {
            let path = include::join_relative(&f.span.file.path(), &f.value);
            match cx.root().check(&path, f.span, "crFiles entry") {
                Ok(()) => entry.cr_file_paths.push(path),
                Err(d) => cx.push(d.path(at(&format!("crFiles[{i}]"))).crd(name.as_str())),
            }
        }
    }
}

/// Reads each CRD entry's admitted `crdFile` (under `limits`), so that validation checks it
/// against `apiTypes` without reading files itself. A failure is kept for validation to report
/// in its terms.
fn read_crd_files(katalog: &Katalog, limits: Limits) -> Vec<(PathBuf, Result<Vec<crate::yaml::Document>, Diagnostic>)> {
    let mut out: Vec<(PathBuf, Result<Vec<crate::yaml::Document>, Diagnostic>)> = Vec::new();
    for (_, entry) in katalog.crds().iter() {
        if let Some(path) = &entry.crd_file_path
            && !out.iter().any(|(p, _)| p == path)
        {
            out.push((path.clone(), read_yaml_file(path, limits)));
        }
    }
    out
}

/// Reads `path`, picks the Orkestra document in it, and checks `kind` (against `want`, if given)
/// and `apiVersion`. Findings go to `cx`.
pub(crate) fn read_document(path: &Path, cx: &mut Cx, want: Option<&[DocKind]>) -> Option<(DocKind, Node)> {
    let docs = match read_yaml_file(path, cx.limits()) {
        Ok(d) => d,
        Err(d) => {
            cx.push(d.path(""));
            return None;
        }
    };
    let file = crate::diag::FileId::intern(path);
    let at_start = Span::new(file, 1, 1);
    let non_empty: Vec<Node> = docs.into_iter().map(|d| d.root).filter(|r| !r.is_null()).collect();
    if non_empty.is_empty() {
        cx.push(
            Diagnostic::error("empty-document", format!("{} is empty", display_path(path)))
                .at(at_start)
                .path("")
                .help(format!("a Katalog starts with `apiVersion: {API_VERSION}` and `kind: Katalog`")),
        );
        return None;
    }
    // In a multi-document stream, only Orkestra documents count; others (Helm output, CRDs)
    // are skipped, as upstream does.
    let kind_of = |n: &Node| n.get("kind").and_then(|k| k.as_scalar_text()).map(str::to_string);
    let ours: Vec<&Node> = if non_empty.len() > 1 {
        non_empty.iter().filter(|n| kind_of(n).is_some_and(|k| KINDS.contains(&k.as_str()))).collect()
    } else {
        non_empty.iter().collect()
    };
    let Some(root) = ours.first().copied() else {
        cx.push(Diagnostic::error("no-katalog", format!("{} has no Katalog, Komposer or Motif document", display_path(path))).at(at_start).path(""));
        return None;
    };
    if ours.len() > 1 {
        cx.push(
            Diagnostic::warning("extra-documents", "more than one Orkestra document in this file; only the first is used")
                .at(ours[1].span)
                .path("")
                .help("compose several Katalogs with a `kind: Komposer` file"),
        );
    }
    if root.as_map().is_none() {
        cx.push(Diagnostic::error("wrong-type", format!("expected an object at the top of the document, got {}", root.type_name())).at(root.span).path(""));
        return None;
    }
    let kind = match root.get("kind") {
        None => {
            cx.push(Diagnostic::error("missing-kind", "missing `kind`").at(root.span).path("").help(format!("add `kind:` with one of: {}", KINDS.join(", "))));
            return None;
        }
        Some(k) => {
            let text = k.as_scalar_text().unwrap_or("");
            match text {
                "Katalog" => DocKind::Katalog,
                "Komposer" => DocKind::Komposer,
                "Motif" => DocKind::Motif,
                "Simulate" => DocKind::Simulate,
                "E2E" => DocKind::E2e,
                other => {
                    let help = match suggest(other, KINDS.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("use one of: {}", KINDS.join(", ")),
                    };
                    cx.push(Diagnostic::error("unknown-kind", format!("kind `{other}` cannot be used here")).at(k.span).path("kind").help(help));
                    return None;
                }
            }
        }
    };
    if let Some(want) = want
        && !want.contains(&kind)
    {
        let expected: Vec<&str> = want.iter().map(|k| k.as_str()).collect();
        let help = if kind == DocKind::Komposer && want == [DocKind::Katalog] {
            "a Komposer cannot import a Komposer; import the Katalog files it imports instead".to_string()
        } else {
            format!("expected kind {}", expected.join(" or "))
        };
        let k = root.get("kind").map_or(root.span, |k| k.span);
        cx.push(Diagnostic::error("wrong-kind", format!("kind `{}` cannot be used here", kind.as_str())).at(k).path("kind").help(help));
        return None;
    }
    match root.get("apiVersion") {
        Some(v) if v.as_scalar_text() == Some(API_VERSION) => {}
        Some(v) => {
            cx.push(
                Diagnostic::error("unsupported-api-version", format!("unsupported apiVersion `{}`", v.as_scalar_text().unwrap_or("?")))
                    .at(v.span)
                    .path("apiVersion")
                    .help(format!("supported: {API_VERSION}")),
            );
            return None;
        }
        None => {} // reported as a missing required field by the decoder
    }
    Some((kind, root.clone()))
}

/// Mutable access to a mapping entry.
pub(crate) fn entry_mut<'a>(node: &'a mut Node, key: &str) -> Option<&'a mut Node> {
    match &mut node.value {
        Value::Map(entries) => entries.iter_mut().find(|(k, _)| k.as_scalar_text() == Some(key)).map(|(_, v)| v),
        _ => None,
    }
}

/// Mutable access to a mapping entry, creating an empty mapping (at `span`) when absent or null.
/// `None` when `node` is not a mapping or the entry exists but is not a mapping / list as needed.
pub(crate) fn ensure<'a>(node: &'a mut Node, key: &str, empty: Value, span: Span) -> Option<&'a mut Node> {
    let Value::Map(entries) = &mut node.value else { return None };
    let idx = match entries.iter().position(|(k, _)| k.as_scalar_text() == Some(key)) {
        Some(i) => {
            if entries[i].1.is_null() {
                entries[i].1 = Node::new(empty, span);
            }
            i
        }
        None => {
            entries.push((Node::new(Value::Scalar(key.to_string(), Style::Plain), span), Node::new(empty, span)));
            entries.len() - 1
        }
    };
    Some(&mut entries[idx].1)
}

/// Deep merge: mappings merge key by key (`over` wins), everything else is replaced by `over`.
pub(crate) fn deep_merge(base: &mut Node, over: &Node) {
    match (&mut base.value, &over.value) {
        (Value::Map(b), Value::Map(o)) => {
            for (ok, ov) in o {
                match b.iter_mut().find(|(bk, _)| bk.as_scalar_text() == ok.as_scalar_text()) {
                    Some((_, bv)) => deep_merge(bv, ov),
                    None => b.push((ok.clone(), ov.clone())),
                }
            }
        }
        _ => *base = over.clone(),
    }
}

/// Appends the items of list `items` to the list at `key` of mapping `node` (created if absent).
pub(crate) fn append_list(node: &mut Node, key: &str, items: &[Node], span: Span) {
    if items.is_empty() {
        return;
    }
    if let Some(list) = ensure(node, key, Value::Seq(Vec::new()), span)
        && let Value::Seq(v) = &mut list.value
    {
        v.extend(items.iter().cloned());
    }
}

/// Merges a Komposer and its imported Katalogs into one Katalog tree.
fn compose(komposer: &Node, cx: &mut Cx) -> Node {
    let span = komposer.span;
    let mut crds: Vec<(Node, Node)> = Vec::new();
    let mut first_seen: BTreeMap<String, Span> = BTreeMap::new();
    let mut merged = Node::new(Value::Map(Vec::new()), span);
    let mut spec_imports: Vec<Node> = Vec::new();
    let mut description: Option<Node> = None;
    let mut version: Option<Node> = None;

    let mut sources: Vec<PathBuf> = Vec::new();
    let registry = komposer.get("imports").and_then(|i| i.get("registry")).and_then(Node::as_seq).unwrap_or(&[]);
    for (i, entry) in registry.iter().enumerate() {
        let url_node = entry.get("url").unwrap_or(entry);
        let Some(raw) = url_node.as_scalar_text() else { continue }; // type errors come from Komposer::decode
        let at = |cx: &mut Cx, d: Diagnostic| cx.in_key("imports", |cx| cx.in_key("registry", |cx| cx.in_index(i, |cx| cx.push(d))));
        if entry.get("oci").and_then(Node::as_scalar_text) == Some("false") || (raw.starts_with("https://") && !raw.starts_with("oci://")) {
            at(
                cx,
                Diagnostic::error("not-supported", "git sources are not fetched by ork")
                    .at(url_node.span)
                    .help("push the pattern to an OCI registry (`ork push`) and import it by its oci:// reference"),
            );
            continue;
        }
        if entry.get("useKomposer").and_then(Node::as_scalar_text) == Some("true") {
            at(
                cx,
                Diagnostic::error("not-supported", "importing a pattern's komposer.yaml (`useKomposer: true`) is not supported by ork")
                    .at(url_node.span)
                    .help("import the Katalog patterns that Komposer imports"),
            );
            continue;
        }
        let version = entry.get("version").and_then(Node::as_scalar_text);
        let request = remote::request(raw, version, RemoteKind::Katalog, entry, url_node.span);
        let dir = cx.in_key("imports", |cx| cx.in_key("registry", |cx| cx.in_index(i, |cx| remote::fetch(cx, request, url_node.span))));
        if let Some(dir) = dir {
            sources.push(dir.join("katalog.yaml"));
        }
    }
    let files = komposer.get("imports").and_then(|i| i.get("files")).and_then(Node::as_seq).unwrap_or(&[]);
    for (i, entry) in files.iter().enumerate() {
        let url_node = entry.get("url").unwrap_or(entry);
        let Some(raw) = url_node.as_scalar_text() else { continue }; // type errors come from Komposer::decode
        let resolved = match raw.strip_prefix('$') {
            Some(var) => match std::env::var(var) {
                Ok(v) => v,
                Err(_) => {
                    cx.push(
                        Diagnostic::error("env-not-set", format!("environment variable `{var}` is not set"))
                            .at(url_node.span)
                            .path(format!("imports.files[{i}]"))
                            .help(format!("export {var}=<path or URL of a Katalog>")),
                    );
                    continue;
                }
            },
            None => raw.to_string(),
        };
        if resolved.starts_with("http://") {
            cx.push(
                Diagnostic::error("insecure-url", "Katalog imports are fetched over https only")
                    .at(url_node.span)
                    .path(format!("imports.files[{i}]"))
                    .help("use an https:// URL"),
            );
            continue;
        }
        if resolved.starts_with("https://") {
            let auth = crate::remote::auth_of(entry.get("auth"));
            let fetched = cx.in_key("imports", |cx| {
                cx.in_key("files", |cx| {
                    cx.in_index(i, |cx| {
                        let Some(remote) = cx.remote() else {
                            cx.push(
                                Diagnostic::error("registry-unavailable", "this command does not fetch remote Katalog imports")
                                    .at(url_node.span)
                                    .help("run `ork validate` or `ork simulate`, or download the file and import it by local path"),
                            );
                            return None;
                        };
                        match remote.file(&resolved, auth.as_ref()) {
                            Ok(r) => {
                                if let Some(w) = r.warning {
                                    cx.push(Diagnostic::warning("registry-unreachable", w).at(url_node.span));
                                }
                                cx.add_fetched_root(&crate::files::dir_of(&r.path));
                                Some(r.path)
                            }
                            Err(message) => {
                                cx.push(Diagnostic::error("import-failed", format!("cannot fetch {resolved}: {message}")).at(url_node.span));
                                None
                            }
                        }
                    })
                })
            });
            sources.extend(fetched);
            continue;
        }
        let path = include::join_relative(&span.file.path(), &resolved);
        if !cx.in_key("imports", |cx| cx.in_key("files", |cx| cx.in_index(i, |cx| cx.admit(&path, url_node.span, "Komposer import")))) {
            continue;
        }
        sources.push(path);
    }
    for path in sources {
        let Some((_, root)) = read_document(&path, cx, Some(&[DocKind::Katalog])) else {
            // Point an unreadable import at the line that names it.
            continue;
        };
        cx.enter_file(&path);
        let root = motif::expand_katalog_imports(root, cx);
        if let Some(map) = root.as_map() {
            for (k, v) in map {
                let key = k.as_scalar_text().unwrap_or("");
                match key {
                    "spec" => {
                        if let Some(entries) = v.get("crds").and_then(Node::as_map) {
                            for (name, entry) in entries {
                                let n = name.as_scalar_text().unwrap_or("").to_string();
                                if let Some(first) = first_seen.get(&n) {
                                    cx.push(
                                        Diagnostic::error("duplicate-crd", format!("CRD `{n}` is defined by more than one import (first at {first})"))
                                            .at(name.span)
                                            .path(format!("spec.crds.{n}"))
                                            .help("rename one of the entries, or import only one of the Katalogs"),
                                    );
                                    continue;
                                }
                                first_seen.insert(n, name.span);
                                crds.push((name.clone(), entry.clone()));
                            }
                        }
                        if let Some(items) = v.get("imports").and_then(Node::as_seq) {
                            spec_imports.extend(items.iter().cloned());
                        }
                    }
                    "security" | "gateway" | "notes" | "profiles" | "crossAccess" => {
                        merge_block(&mut merged, key, v, cx);
                    }
                    "metadata" => {
                        description = description.or_else(|| v.get("description").cloned());
                        version = version.or_else(|| v.get("version").cloned());
                    }
                    _ => {}
                }
            }
        }
        // The imported file's own top-level fields are checked by decoding it alone.
        let _ = Katalog::decode(&root, cx);
        // Its CRD entries are decoded again inside the merged tree; duplicates are removed
        // when diagnostics are sorted.
    }

    // Inline overrides.
    if let Some(entries) = komposer.get("spec").and_then(|s| s.get("crds")).and_then(Node::as_map) {
        for (name, over) in entries {
            match crds.iter_mut().find(|(k, _)| k.as_scalar_text() == name.as_scalar_text()) {
                Some((_, base)) => deep_merge(base, over),
                None => crds.push((name.clone(), over.clone())),
            }
        }
    }
    // Komposer-level blocks win over the imports'.
    for key in ["security", "gateway", "notes", "profiles"] {
        if let Some(v) = komposer.get(key) {
            merge_block(&mut merged, key, v, cx);
        }
    }

    let mut top: Vec<(Node, Node)> = Vec::new();
    let key = |k: &str| Node::new(Value::Scalar(k.to_string(), Style::Plain), span);
    let str_node = |s: &str, at: Span| Node::new(Value::Scalar(s.to_string(), Style::Plain), at);
    top.push((key("apiVersion"), komposer.get("apiVersion").cloned().unwrap_or_else(|| str_node(API_VERSION, span))));
    top.push((key("kind"), str_node("Katalog", span)));
    let mut meta = komposer.get("metadata").cloned().unwrap_or_else(|| Node::new(Value::Map(Vec::new()), span));
    if meta.get("description").is_none()
        && let Some(d) = description
        && let Value::Map(m) = &mut meta.value
    {
        m.push((key("description"), d));
    }
    if meta.get("version").is_none()
        && let Some(v) = version
        && let Value::Map(m) = &mut meta.value
    {
        m.push((key("version"), v));
    }
    top.push((key("metadata"), meta));
    let mut spec = vec![(key("crds"), Node::new(Value::Map(crds), span))];
    if !spec_imports.is_empty() {
        spec.push((key("imports"), Node::new(Value::Seq(spec_imports), span)));
    }
    top.push((key("spec"), Node::new(Value::Map(spec), span)));
    if let Value::Map(m) = merged.value {
        top.extend(m);
    }
    Node::new(Value::Map(top), span)
}

/// Merges one top-level block of an import (or the Komposer) into the composition.
/// `profiles`: the same class + name from two sources is a conflict; `notes`: the same function
/// name from two sources is a conflict; other blocks merge deeply, later wins.
fn merge_block(merged: &mut Node, key: &str, value: &Node, cx: &mut Cx) {
    let span = value.span;
    let Some(slot) = ensure(merged, key, Value::Map(Vec::new()), span) else { return };
    // A block that still names an `include:` is merged as written; the include is resolved
    // (relative to the file that names it) when the composed tree is decoded.
    let key = if value.get("include").is_some() { "" } else { key };
    match key {
        "profiles" => {
            for (class, items) in value.as_map().unwrap_or(&[]) {
                let class_name = class.as_scalar_text().unwrap_or("");
                let Some(items) = items.as_seq() else { continue };
                let existing: Vec<(String, Span)> = slot
                    .get(class_name)
                    .and_then(Node::as_seq)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(|n| n.get("name").and_then(|v| v.as_scalar_text().map(|s| (s.to_string(), n.span))))
                    .collect();
                let mut fresh = Vec::new();
                for item in items {
                    let name = item.get("name").and_then(Node::as_scalar_text).unwrap_or("");
                    if let Some((_, first)) = existing.iter().find(|(n, _)| n == name) {
                        cx.push(
                            Diagnostic::error(
                                "profile-conflict",
                                format!("profile conflict: {class_name} profile `{name}` is defined twice (first at {first})"),
                            )
                            .at(item.span)
                            .path(format!("profiles.{class_name}"))
                            .help("give one of the profiles another name"),
                        );
                    } else {
                        fresh.push(item.clone());
                    }
                }
                append_list(slot, class_name, &fresh, span);
            }
        }
        "notes" => {
            let existing: Vec<String> = slot
                .get("functions")
                .and_then(Node::as_seq)
                .unwrap_or(&[])
                .iter()
                .filter_map(|n| n.get("name").and_then(|v| v.as_scalar_text().map(str::to_string)))
                .collect();
            let mut fresh = Vec::new();
            for f in value.get("functions").and_then(Node::as_seq).unwrap_or(&[]) {
                let name = f.get("name").and_then(Node::as_scalar_text).unwrap_or("");
                if existing.iter().any(|n| n == name) {
                    cx.push(
                        Diagnostic::error("note-conflict", format!("notes function `{name}` is defined by more than one import"))
                            .at(f.span)
                            .path("notes.functions")
                            .help("rename one of them"),
                    );
                } else {
                    fresh.push(f.clone());
                }
            }
            append_list(slot, "functions", &fresh, span);
        }
        _ => deep_merge(slot, value),
    }
}

/// Every file below `dir` whose name ends with `suffix` (`simulate.yaml`, `e2e.yaml`), sorted;
/// hidden directories and `target` are skipped. What `ork simulate DIR/...` and `ork e2e
/// DIR/...` discover.
pub fn find_documents(dir: &Path, suffix: &str) -> Vec<std::path::PathBuf> {
    fn walk(dir: &Path, suffix: &str, out: &mut Vec<std::path::PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else { return };
        let mut entries: Vec<std::path::PathBuf> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if p.is_dir() {
                if !name.starts_with('.') && name != "target" {
                    walk(&p, suffix, out);
                }
            } else if name.ends_with(suffix) {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, suffix, &mut out);
    out
}
