//! Strict decoding of [`Node`] trees into the typed model.
//!
//! [`Decode`] is implemented by `#[derive(Decode)]` for model structs and by hand for the leaf
//! types here. Decoding never stops at the first problem: a field that fails records a
//! [`Diagnostic`] in the [`Cx`] and keeps its default, so one `ork validate` run reports every
//! unknown field and wrong type in a file, each with file:line:col, YAML path and a fix.

use crate::diag::{Diagnostic, Diagnostics, Span, suggest};
use crate::files::PatternRoot;
use crate::yaml::{Limits, Node, Scalar, Value};
use std::fmt;
use std::ops::Deref;
use std::path::{Path, PathBuf};

/// A value decoded from YAML together with where it was written.
#[derive(Clone, Default)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Its position.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Wraps `value` at `span`.
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

impl<T> Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

impl<T: fmt::Display> fmt::Display for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    /// Equality ignores positions: the same text written in two places is the same value.
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

/// A string from a document: a literal or a template (`{{ … }}`), with its position.
pub type Str = Spanned<String>;

impl Str {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// True when the text contains template markup and is evaluated per CR.
    pub fn is_template(&self) -> bool {
        self.value.contains("{{")
    }
}

/// One segment of a YAML path.
#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Decoding context: where we are (the YAML path), what went wrong so far, and what is needed to
/// follow `include:` references.
pub struct Cx {
    path: Vec<Seg>,
    diags: Diagnostics,
    limits: Limits,
    include_stack: Vec<PathBuf>,
    /// Every block that had an `include:`, with its merged content (for [`Cx::resolve_includes`]).
    includes: Vec<(Node, Node)>,
    /// Where referenced files may come from.
    root: PatternRoot,
    /// Reads and merges `include:` files; `None`: decoding reads no files and `include:` is an
    /// unknown field.
    read_include: Option<IncludeReader>,
    /// Resolves registry and https references (see [`crate::remote::Remote`]).
    remote: Option<std::sync::Arc<dyn crate::remote::Remote>>,
}

/// Expands `include:` on a block being decoded as a struct that accepts includes (`keys`: the
/// top-level keys the included file may have): returns the merged block, or `None` when the
/// block has no `include:`. Decoding reads no files itself; the loader supplies the reader
/// (`load::include::expand`) through [`Cx::reading_includes`].
pub type IncludeReader = fn(&mut Cx, &Node, &[&str]) -> Option<Node>;

impl Cx {
    /// A fresh context that admits a referenced file anywhere and reads no `include:` file (add
    /// a reader with [`Cx::reading_includes`]; the loader's contexts come from
    /// `load::include::context`).
    pub fn new(limits: Limits) -> Cx {
        Cx::with_root(limits, PatternRoot::unrestricted())
    }

    /// A fresh context whose `include:`s, imports and file references must stay inside `root`.
    pub fn with_root(limits: Limits, root: PatternRoot) -> Cx {
        Cx { path: Vec::new(), diags: Diagnostics::default(), limits, include_stack: Vec::new(), includes: Vec::new(), root, read_include: None, remote: None }
    }

    /// This context, expanding `include:` with `reader`.
    pub fn reading_includes(mut self, reader: IncludeReader) -> Cx {
        self.read_include = Some(reader);
        self
    }

    /// The files being decoded, outermost first (canonical paths): an include of one of them is a
    /// cycle.
    pub(crate) fn include_stack(&self) -> &[PathBuf] {
        &self.include_stack
    }

    /// Records that the (canonical) file `path` is now being decoded, until the block that
    /// included it is done.
    pub(crate) fn push_include(&mut self, canonical: PathBuf) {
        self.include_stack.push(canonical);
    }

    /// Records a finding as is (its path already set, or deliberately none).
    pub(crate) fn push_as_is(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// The pattern root in force.
    pub fn root(&self) -> &PatternRoot {
        &self.root
    }

    /// This context, resolving remote references with `remote`.
    pub fn with_remote(mut self, remote: Option<std::sync::Arc<dyn crate::remote::Remote>>) -> Cx {
        self.remote = remote;
        self
    }

    /// The resolver of remote references, if any.
    pub fn remote(&self) -> Option<std::sync::Arc<dyn crate::remote::Remote>> {
        self.remote.clone()
    }

    /// Confines the files of the fetched pattern in `dir` to `dir`.
    pub fn add_fetched_root(&mut self, dir: &Path) {
        self.root.add_fetched(dir);
    }

    /// Whether the file `path` (named at `reference`, as `what`: "include", "motif", …) may be
    /// read: inside the pattern root, symlinks and `..` resolved. When not, records an
    /// `outside-root` error at `reference` (with the current YAML path) and returns false;
    /// nothing is opened either way.
    pub fn admit(&mut self, path: &Path, reference: Span, what: &str) -> bool {
        match self.root.check(path, reference, what) {
            Ok(()) => true,
            Err(d) => {
                self.push(d);
                false
            }
        }
    }

    /// The input caps in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The current YAML path, `spec.crds.web.operatorBox.reconcile.onCreate.deployments[0]`.
    pub fn path_string(&self) -> String {
        let mut out = String::new();
        for seg in &self.path {
            match seg {
                Seg::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Seg::Index(i) => {
                    out.push_str(&format!("[{i}]"));
                }
            }
        }
        out
    }

    /// Runs `f` with `key` appended to the path.
    pub fn in_key<R>(&mut self, key: &str, f: impl FnOnce(&mut Cx) -> R) -> R {
        self.path.push(Seg::Key(key.to_string()));
        let r = f(self);
        self.path.pop();
        r
    }

    /// Runs `f` with `[index]` appended to the path.
    pub fn in_index<R>(&mut self, index: usize, f: impl FnOnce(&mut Cx) -> R) -> R {
        self.path.push(Seg::Index(index));
        let r = f(self);
        self.path.pop();
        r
    }

    /// Records a finding, filling in the current path when it has none.
    pub fn push(&mut self, mut d: Diagnostic) {
        if d.path.is_none() {
            d.path = Some(self.path_string());
        }
        self.diags.push(d);
    }

    /// Records an error at `span`.
    pub fn error(&mut self, code: &'static str, span: Span, message: impl Into<String>) {
        self.push(Diagnostic::error(code, message).at(span));
    }

    /// Records an error with a fix hint.
    pub fn error_help(&mut self, code: &'static str, span: Span, message: impl Into<String>, help: impl Into<String>) {
        self.push(Diagnostic::error(code, message).at(span).help(help));
    }

    /// Records "expected X, got Y".
    pub fn type_error(&mut self, node: &Node, expected: &str) {
        let got = node.type_name();
        let mut d = Diagnostic::error("wrong-type", format!("expected {expected}, got {got}")).at(node.span);
        if expected == "a list" && got == "a string" {
            d = d.help("write the value as a YAML list: `- item` on its own line, or `[a, b]`");
        } else if expected == "a number" && got == "a string" && node.as_scalar_text().is_some_and(|t| t.trim().parse::<f64>().is_ok()) {
            d = d.help("remove the quotes around the number");
        } else if expected == "true or false" && got == "a string" {
            d = d.help("write true or false without quotes");
        }
        self.push(d);
    }

    /// Records a missing required field.
    pub fn missing_field(&mut self, node: &Node, key: &str) {
        self.push(Diagnostic::error("missing-field", format!("missing required field `{key}`")).at(node.span).help(format!("add `{key}:` here")));
    }

    /// Records that a field was parsed but is not executed by this version of ork.
    pub fn unsupported(&mut self, node: &Node, reason: &str) {
        let path = self.path_string();
        self.push(Diagnostic::warning("not-supported-yet", format!("`{path}` is parsed but not supported yet")).at(node.span).help(reason.to_string()));
    }

    /// Records that a field was parsed but cannot be honoured: an error (code `unsupported`),
    /// for fields whose omission would silently change what a document means.
    pub fn rejected(&mut self, node: &Node, reason: &str) {
        let path = self.path_string();
        self.push(Diagnostic::error("unsupported", format!("`{path}` is not supported by ork")).at(node.span).help(reason.to_string()));
    }

    /// All findings so far.
    pub fn diagnostics(&self) -> &Diagnostics {
        &self.diags
    }

    /// Every block decoded through an `include:`, with its merged content (see
    /// `load::include::resolve_includes`).
    pub fn take_includes(&mut self) -> Vec<(Node, Node)> {
        std::mem::take(&mut self.includes)
    }

    /// Takes the findings out.
    pub fn take_diagnostics(&mut self) -> Diagnostics {
        std::mem::take(&mut self.diags)
    }

    /// Marks `path` as being decoded, so that an include of it is reported as a cycle.
    pub fn enter_file(&mut self, path: &Path) {
        self.include_stack.push(path.canonicalize().unwrap_or_else(|_| path.to_path_buf()));
    }
}

/// Visits every string of a decoded model with its position: how templates are found and
/// compiled once at load time, without a second list of "which fields are templated".
/// Fields marked `unsupported` are not visited (ork never evaluates them).
pub trait Walk {
    /// Calls `f` for each string value (text, position).
    fn walk(&self, f: &mut dyn FnMut(&str, Span));

    /// Registers in `r` the field table of every derived struct reachable from this type through
    /// executed (not `unsupported`) fields. Leaf types register nothing (the default); derived
    /// structs, containers and hand-written wrappers of derived structs forward.
    fn reach(r: &mut Reach)
    where
        Self: Sized,
    {
        let _ = r;
    }
}

/// One field of a derived struct, as the derive sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldInfo {
    /// The YAML key (empty for a `flatten` field, whose keys are its struct's).
    pub yaml: &'static str,
    /// The Rust field name.
    pub ident: &'static str,
    /// Marked `unsupported` or `rejected`: parsed, reported, never executed.
    pub unsupported: bool,
    /// Marked `flatten`.
    pub flatten: bool,
}

/// The derived structs reached by [`Walk::reach`], each once, in discovery order.
#[derive(Debug, Default)]
pub struct Reach {
    /// `(module path::type name, fields)`.
    pub types: Vec<(&'static str, &'static [FieldInfo])>,
}

impl Reach {
    /// Every struct reachable from `T`.
    pub fn from<T: Walk>() -> Reach {
        let mut r = Reach::default();
        T::reach(&mut r);
        r
    }

    /// Records a struct; false when it was already recorded (stops recursion on cycles).
    pub fn enter(&mut self, key: &'static str, fields: &'static [FieldInfo]) -> bool {
        if self.types.iter().any(|(k, _)| *k == key) {
            return false;
        }
        self.types.push((key, fields));
        true
    }
}

impl<T: Walk> Walk for Option<T> {
    fn walk(&self, f: &mut dyn FnMut(&str, Span)) {
        if let Some(v) = self {
            v.walk(f);
        }
    }
    fn reach(r: &mut Reach) {
        T::reach(r);
    }
}

impl<T: Walk> Walk for Vec<T> {
    fn walk(&self, f: &mut dyn FnMut(&str, Span)) {
        for v in self {
            v.walk(f);
        }
    }
    fn reach(r: &mut Reach) {
        T::reach(r);
    }
}

impl<T: Walk> Walk for Box<T> {
    fn walk(&self, f: &mut dyn FnMut(&str, Span)) {
        (**self).walk(f);
    }
    fn reach(r: &mut Reach) {
        T::reach(r);
    }
}

impl<T: Walk> Walk for Map<T> {
    fn walk(&self, f: &mut dyn FnMut(&str, Span)) {
        for (_, v) in &self.0 {
            v.walk(f);
        }
    }
    fn reach(r: &mut Reach) {
        T::reach(r);
    }
}

impl Walk for Spanned<String> {
    fn walk(&self, f: &mut dyn FnMut(&str, Span)) {
        f(&self.value, self.span);
    }
}

impl Walk for Node {
    fn walk(&self, f: &mut dyn FnMut(&str, Span)) {
        match &self.value {
            Value::Scalar(text, _) => f(text, self.span),
            Value::Seq(items) => items.iter().for_each(|i| i.walk(f)),
            Value::Map(entries) => entries.iter().for_each(|(_, v)| v.walk(f)),
            Value::Null => {}
        }
    }
}

macro_rules! walk_nothing {
    ($($t:ty),*) => {$(
        impl Walk for $t {
            fn walk(&self, _: &mut dyn FnMut(&str, Span)) {}
        }
    )*};
}
walk_nothing!(bool, i64, u32, String, Spanned<i64>);

/// Decodes a value from a node. On failure the reason is recorded in `cx` and `None` returned.
pub trait Decode: Sized {
    /// Decodes `node`.
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self>;
}

/// The field table of a derived struct (see `katalog-derive`).
pub trait DecodeFields: Default {
    /// The Rust type name, used to pick migration hints for fields of older layouts.
    const TYPE_NAME: &'static str;
    /// Top-level keys an `include:` file of this block may have (empty: no include).
    const INCLUDE_KEYS: &'static [&'static str];
    /// Every field, in declaration order (`skip` and `span` fields excluded).
    const FIELDS: &'static [FieldInfo];
    /// Appends the YAML keys this struct accepts.
    fn field_names(out: &mut Vec<&'static str>);
    /// Decodes one key; false when the key is not a field of this struct.
    fn decode_field(&mut self, key: &str, value: &Node, cx: &mut Cx) -> bool;
    /// Runs after all keys: required-field checks and spans.
    fn finish(&mut self, node: &Node, present: &[&str], cx: &mut Cx);
}

/// A migration hint for a key that is valid in an older upstream layout (or a common mistake),
/// looked up by the Rust type being decoded. `None` when the key has no special story.
pub fn legacy_hint(type_name: &str, key: &str) -> Option<&'static str> {
    Some(match (type_name, key) {
        ("Katalog", "imports") => "a Katalog cannot import other Katalogs; use `kind: Komposer` with `imports.files`, or `spec.imports` for motifs",
        ("Komposer", "crds") => "Komposer CRD overrides go under `spec.crds`",
        ("CrdEntry", "validation" | "mutation" | "conversion" | "webhooks") => {
            "in the current layout admission rules live under `admission:` (e.g. `admission.validation`)"
        }
        ("CrdEntry", "imports" | "normalize" | "forceConflict") => "in the current layout this lives under `operatorBox.reconcile`",
        (
            "CrdEntry",
            "allowedNamespaces" | "restrictedNamespaces" | "deletionProtection" | "ignoreStatusPatch" | "ignoreObservedGeneration" | "removeFinalizers",
        ) => "in the current layout this lives under `operatorBox.runtime`",
        ("CrdEntry", "workers" | "resync") => "in the current layout this lives under `operatorBox.reconcile`",
        ("CrdEntry", "name") => "the entry name is its key under `spec.crds`; remove `name:`",
        ("OperatorBox", "reconciler") => "`reconciler` was renamed: use `operatorBox.reconcile`",
        ("OperatorBox", "onCreate" | "onReconcile" | "onDelete") => {
            "lifecycle blocks live under `operatorBox.reconcile` (e.g. `operatorBox.reconcile.onCreate`)"
        }
        ("OperatorBox", "status") => "status lives under `operatorBox.emit.status`",
        ("OperatorBox", "finalizers" | "autoscale") => "this lives under `operatorBox.runtime`",
        ("OperatorBox", "cross") => "cross reads live under `operatorBox.observe.cross`",
        ("OperatorBox", "watch" | "events") => "watches and event triggers live under `operatorBox.observe` (`observe.watch`, `observe.events`)",
        ("OperatorBox", "default" | "hooks" | "constructor") => "this lives under `operatorBox.reconcile`",
        (_, "anyOf") => "`anyOf` was renamed to `or`",
        (_, "reconcileMode") => "did you mean `reconcile`?",
        _ => return None,
    })
}

/// The shared body of every derived `Decode` impl.
pub fn decode_struct<T: DecodeFields>(node: &Node, cx: &mut Cx) -> Option<T> {
    let depth = cx.include_stack.len();
    let mut expanded: Option<Node> = None;
    if !T::INCLUDE_KEYS.is_empty()
        && let Some(read) = cx.read_include
    {
        // An included file may itself include (bounded: a repeat is reported as a cycle).
        while let Some(next) = read(cx, expanded.as_ref().unwrap_or(node), T::INCLUDE_KEYS) {
            let done = next.get("include").is_none();
            expanded = Some(next);
            if done || cx.include_stack.len() > depth + 32 {
                break;
            }
        }
    }
    if let Some(e) = &expanded {
        cx.includes.push((node.clone(), e.clone()));
    }
    let node_ref = expanded.as_ref().unwrap_or(node);
    let out = decode_struct_entries::<T>(node_ref, cx);
    cx.include_stack.truncate(depth);
    out
}

fn decode_struct_entries<T: DecodeFields>(node: &Node, cx: &mut Cx) -> Option<T> {
    let Some(entries) = node.as_map() else {
        cx.type_error(node, "an object");
        return None;
    };
    let mut out = T::default();
    let mut present: Vec<&str> = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let Some(key) = k.as_scalar_text() else {
            cx.error("invalid-key", k.span, "mapping keys must be strings");
            continue;
        };
        let known = cx.in_key(key, |cx| out.decode_field(key, v, cx));
        if known {
            present.push(key);
        } else {
            cx.in_key(key, |cx| unknown_field::<T>(key, k, cx));
        }
    }
    out.finish(node, &present, cx);
    Some(out)
}

fn unknown_field<T: DecodeFields>(key: &str, key_node: &Node, cx: &mut Cx) {
    let mut valid = Vec::new();
    T::field_names(&mut valid);
    let mut d = Diagnostic::error("unknown-field", format!("unknown field `{key}`")).at(key_node.span);
    if let Some(hint) = legacy_hint(T::TYPE_NAME, key) {
        d = d.help(hint);
    } else if key == "include" {
        d = d.help("`include:` is not supported in this block");
    } else if let Some(s) = suggest(key, valid.iter().copied()) {
        d = d.help(format!("did you mean `{s}`?"));
    } else {
        valid.sort_unstable();
        d = d.help(format!("valid fields here: {}", valid.join(", ")));
    }
    cx.push(d);
}

impl<T: Decode> Decode for Option<T> {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        if node.is_null() {
            return Some(None);
        }
        T::decode(node, cx).map(Some)
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        if node.is_null() {
            return Some(Vec::new());
        }
        let Some(items) = node.as_seq() else {
            cx.type_error(node, "a list");
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if let Some(v) = cx.in_index(i, |cx| T::decode(item, cx)) {
                out.push(v);
            }
        }
        Some(out)
    }
}

impl<T: Decode> Decode for Box<T> {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        T::decode(node, cx).map(Box::new)
    }
}

impl Decode for String {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        match &node.value {
            Value::Scalar(s, _) => Some(s.clone()),
            _ => {
                cx.type_error(node, "a string");
                None
            }
        }
    }
}

impl<T: Decode> Decode for Spanned<T> {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        T::decode(node, cx).map(|v| Spanned::new(v, node.span))
    }
}

impl Decode for bool {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        match node.scalar() {
            Some(Scalar::Bool(b)) => Some(b),
            _ => {
                cx.type_error(node, "true or false");
                None
            }
        }
    }
}

impl Decode for i64 {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        match node.scalar() {
            Some(Scalar::Int(i)) => Some(i),
            _ => {
                cx.type_error(node, "a number");
                None
            }
        }
    }
}

impl Decode for u32 {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        match node.scalar() {
            Some(Scalar::Int(i)) if (0..=u32::MAX as i64).contains(&i) => Some(i as u32),
            Some(Scalar::Int(_)) => {
                cx.error("out-of-range", node.span, "expected a non-negative number");
                None
            }
            _ => {
                cx.type_error(node, "a number");
                None
            }
        }
    }
}

impl Decode for Node {
    fn decode(node: &Node, _cx: &mut Cx) -> Option<Self> {
        Some(node.clone())
    }
}

/// A mapping with string keys, in source order (keys are unique: the YAML layer rejects
/// duplicates). Output that must be sorted sorts at the point of output.
#[derive(Debug, Clone)]
pub struct Map<T>(pub Vec<(Str, T)>);

impl<T> Default for Map<T> {
    fn default() -> Self {
        Map(Vec::new())
    }
}

impl<T> Map<T> {
    /// Looks up a key.
    pub fn get(&self, key: &str) -> Option<&T> {
        self.0.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    }

    /// Looks up a key, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut T> {
        self.0.iter_mut().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    }

    /// Iterates in source order.
    pub fn iter(&self) -> impl Iterator<Item = (&Str, &T)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The keys in source order.
    pub fn keys(&self) -> impl Iterator<Item = &Str> {
        self.0.iter().map(|(k, _)| k)
    }

    /// Inserts or replaces.
    pub fn insert(&mut self, key: Str, value: T) {
        match self.get_mut(&key) {
            Some(v) => *v = value,
            None => self.0.push((key, value)),
        }
    }
}

impl<T: Decode> Decode for Map<T> {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        if node.is_null() {
            return Some(Map::default());
        }
        let Some(entries) = node.as_map() else {
            cx.type_error(node, "an object");
            return None;
        };
        let mut out = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            let key = Spanned::new(k.as_scalar_text().unwrap_or_default().to_string(), k.span);
            if let Some(val) = cx.in_key(&key.value.clone(), |cx| T::decode(v, cx)) {
                out.push((key, val));
            }
        }
        Some(Map(out))
    }
}

/// Defines a string enum decoded from a fixed set of spellings, with suggestions for typos.
/// `string_enum!(Name { Variant = ["spelling", "alias"], … })`. Matching is exact unless the
/// enum is declared `ci` (case-insensitive).
#[macro_export]
macro_rules! string_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident $(($ci:ident))? { $($(#[$vmeta:meta])* $variant:ident = [$($spelling:literal),+]),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name { $($(#[$vmeta])* #[doc = concat!($("`", $spelling, "` "),+)] $variant),+ }

        impl $name {
            /// Every accepted spelling, canonical first per variant.
            pub const SPELLINGS: &'static [&'static str] = &[$($($spelling),+),+];

            /// The canonical spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => [$($spelling),+][0]),+ }
            }

            /// Parses one spelling.
            pub fn parse(s: &str) -> Option<Self> {
                let ci = string_enum!(@ci $($ci)?);
                $(
                    if [$($spelling),+].iter().any(|c| if ci { c.eq_ignore_ascii_case(s) } else { *c == s }) {
                        return Some($name::$variant);
                    }
                )+
                None
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::decode::Walk for $name {
            fn walk(&self, _: &mut dyn FnMut(&str, $crate::diag::Span)) {}
        }

        impl $crate::decode::Walk for $crate::decode::Spanned<$name> {
            fn walk(&self, _: &mut dyn FnMut(&str, $crate::diag::Span)) {}
        }

        impl $crate::decode::Decode for $name {
            fn decode(node: &$crate::yaml::Node, cx: &mut $crate::decode::Cx) -> Option<Self> {
                $crate::decode::decode_enum(node, cx, Self::SPELLINGS, Self::parse)
            }
        }
    };
    (@ci ci) => { true };
    (@ci) => { false };
}

/// Shared body of `string_enum!` decoders.
pub fn decode_enum<T>(node: &Node, cx: &mut Cx, spellings: &[&str], parse: fn(&str) -> Option<T>) -> Option<T> {
    let Some(text) = node.as_scalar_text() else {
        cx.type_error(node, "a string");
        return None;
    };
    if let Some(v) = parse(text) {
        return Some(v);
    }
    let help = match suggest(text, spellings.iter().copied()) {
        Some(s) => format!("did you mean `{s}`? (one of: {})", spellings.join(", ")),
        None => format!("use one of: {}", spellings.join(", ")),
    };
    cx.error_help("invalid-value", node.span, format!("invalid value `{text}`"), help);
    None
}

#[cfg(test)]
mod tests {
    use super::legacy_hint;

    #[test]
    fn older_layouts_get_a_relocation_hint() {
        // Upstream's G4 fixtures put `watch` directly under operatorBox.
        assert_eq!(
            legacy_hint("OperatorBox", "watch"),
            Some("watches and event triggers live under `operatorBox.observe` (`observe.watch`, `observe.events`)")
        );
        assert_eq!(legacy_hint("OperatorBox", "events"), legacy_hint("OperatorBox", "watch"));
        assert_eq!(legacy_hint("OperatorBox", "cross"), Some("cross reads live under `operatorBox.observe.cross`"));
        assert_eq!(legacy_hint("OperatorBox", "observe"), None);
    }
}
