//! The span-carrying YAML tree ([`Node`]) and the bounded parser that builds it from
//! `yaml-rust2` events.

use crate::diag::{Diagnostic, FileId, Span};
use std::collections::HashMap;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Caps applied to every document ork reads (files, and YAML request bodies the dev cluster
/// parses with [`parse`]).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted file, in bytes (enforced while reading: [`crate::files::read_bounded`]).
    pub max_bytes: u64,
    /// Deepest accepted nesting of lists and mappings.
    pub max_depth: usize,
    /// Most nodes a file may expand to, aliases included.
    pub max_nodes: usize,
    /// Most bytes of scalar text (values and mapping keys) a document may expand to, counting
    /// the text reached through every alias again: an alias copies its anchor's content, so
    /// this is what bounds the memory of the tree when few nodes carry long strings (one 4 MiB
    /// string anchored once and aliased 2,000 times is 2,000 nodes but 8 GiB). The default is
    /// twice the default `max_bytes`: a document without aliases never reaches it (the text of
    /// a scalar is never longer than its source), and aliases may at most double the text.
    pub max_expanded_bytes: usize,
}

/// Default [`Limits::max_bytes`]: 8 MiB, far above any real Katalog (the demos are a few KiB).
pub const DEFAULT_MAX_BYTES: u64 = 8 * 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bytes: DEFAULT_MAX_BYTES, max_depth: 64, max_nodes: 1_000_000, max_expanded_bytes: 2 * DEFAULT_MAX_BYTES as usize }
    }
}

/// How a scalar was written. Only plain scalars are resolved to null, booleans and numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Unquoted.
    Plain,
    /// Single- or double-quoted, or a block scalar (`|`, `>`).
    Quoted,
}

/// A YAML value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`, `~` or nothing.
    Null,
    /// Any other scalar, kept as written.
    Scalar(String, Style),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order (keys are unique).
    Map(Vec<(Node, Node)>),
}

/// A YAML value and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Its position.
    pub span: Span,
}

/// The resolved type of a scalar under the YAML 1.2 core schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'a> {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// Anything else.
    Str(&'a str),
}

impl Node {
    /// A node with `value` at `span`.
    pub fn new(value: Value, span: Span) -> Node {
        Node { value, span }
    }

    /// True for null.
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// The text of a scalar (of any resolved type).
    pub fn as_scalar_text(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    /// The text of a scalar that resolves to a string.
    pub fn as_str(&self) -> Option<&str> {
        match self.scalar() {
            Some(Scalar::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// The entries of a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items of a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// Looks up a key in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?.iter().find(|(k, _)| k.as_scalar_text() == Some(key)).map(|(_, v)| v)
    }

    /// Resolves a scalar: plain `true`/`false`, integers and floats get their type; quoted
    /// scalars are always strings.
    pub fn scalar(&self) -> Option<Scalar<'_>> {
        let Value::Scalar(s, style) = &self.value else { return None };
        if *style == Style::Quoted {
            return Some(Scalar::Str(s));
        }
        Some(resolve_plain(s))
    }

    /// How the value is named in type errors: "a string", "a list", …
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Seq(_) => "a list",
            Value::Map(_) => "an object",
            Value::Scalar(..) => match self.scalar() {
                Some(Scalar::Bool(_)) => "a boolean",
                Some(Scalar::Int(_)) | Some(Scalar::Float(_)) => "a number",
                _ => "a string",
            },
        }
    }

    /// Converts to JSON (scalars resolved as in [`Node::scalar`]; mapping keys as their text).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Scalar(..) => match self.scalar() {
                Some(Scalar::Bool(b)) => J::Bool(b),
                Some(Scalar::Int(i)) => J::from(i),
                Some(Scalar::Float(f)) => serde_json::Number::from_f64(f).map_or(J::Null, J::Number),
                Some(Scalar::Str(s)) => J::String(s.to_string()),
                None => J::Null,
            },
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(entries.iter().map(|(k, v)| (k.as_scalar_text().unwrap_or_default().to_string(), v.to_json())).collect()),
        }
    }
}

fn resolve_plain(s: &str) -> Scalar<'_> {
    match s {
        "true" | "True" | "TRUE" => return Scalar::Bool(true),
        "false" | "False" | "FALSE" => return Scalar::Bool(false),
        _ => {}
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = s.parse::<i64>() {
            return Scalar::Int(i);
        }
    } else if let Some(hex) = s.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return Scalar::Int(i);
        }
    } else if let Some(oct) = s.strip_prefix("0o")
        && let Ok(i) = i64::from_str_radix(oct, 8)
    {
        return Scalar::Int(i);
    }
    match s {
        ".inf" | ".Inf" | ".INF" | "+.inf" => return Scalar::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Scalar::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Scalar::Float(f64::NAN),
        _ => {}
    }
    let looks_float = s.bytes().any(|b| b.is_ascii_digit()) && s.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if looks_float && let Ok(f) = s.parse::<f64>() {
        return Scalar::Float(f);
    }
    Scalar::Str(s)
}

/// One document of a (possibly multi-document) YAML stream.
#[derive(Debug, Clone)]
pub struct Document {
    /// The root value (null for an empty document).
    pub root: Node,
}

/// How much a subtree expands to: nodes and scalar bytes (what an alias to it costs again).
#[derive(Debug, Clone, Copy, Default)]
struct Size {
    nodes: usize,
    bytes: usize,
}

enum Frame {
    Seq { items: Vec<Node>, span: Span, anchor: usize, start: Size },
    Map { entries: Vec<(Node, Node)>, key: Option<Node>, span: Span, anchor: usize, start: Size },
}

struct Builder {
    file: FileId,
    limits: Limits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, Size)>,
    /// Expanded so far, aliases included.
    total: Size,
    docs: Vec<Document>,
    root: Option<Node>,
}

impl Builder {
    fn span(&self, m: &Marker) -> Span {
        // yaml-rust2 columns are 0-based; lines are 1-based.
        Span::new(self.file, m.line() as u32, m.col() as u32 + 1)
    }

    /// Adds `size` to the running total; an error (at `span`, where the expansion happens)
    /// once either cap is passed. Called before the node is built or an alias is copied, so
    /// the memory is never spent.
    fn count(&mut self, size: Size, span: Span) -> Result<(), Diagnostic> {
        self.total.nodes = self.total.nodes.saturating_add(size.nodes);
        self.total.bytes = self.total.bytes.saturating_add(size.bytes);
        if self.total.nodes > self.limits.max_nodes {
            return Err(Diagnostic::error("input-too-large", format!("document expands to more than {} nodes (YAML aliases included)", self.limits.max_nodes))
                .at(span)
                .help("this looks like an alias bomb; write the values out or reduce aliasing"));
        }
        if self.total.bytes > self.limits.max_expanded_bytes {
            return Err(Diagnostic::error(
                "input-too-large",
                format!(
                    "document expands to more than {} bytes of text (YAML aliases included: each alias repeats its anchor's text)",
                    self.limits.max_expanded_bytes
                ),
            )
            .at(span)
            .help("an alias copies everything under its anchor; write long values once and do not alias them (or alias smaller pieces)"));
        }
        Ok(())
    }

    /// Where the subtree that starts now begins, for [`Builder::size_since`].
    fn mark(&self) -> Size {
        self.total
    }

    /// What was counted since `start`, plus the node itself.
    fn size_since(&self, start: Size) -> Size {
        Size { nodes: self.total.nodes - start.nodes + 1, bytes: self.total.bytes - start.bytes }
    }

    fn finish_node(&mut self, node: Node, anchor: usize, size: Size) -> Result<(), Diagnostic> {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        self.attach(node)
    }

    fn attach(&mut self, node: Node) -> Result<(), Diagnostic> {
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(())
            }
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => {
                    if !matches!(node.value, Value::Scalar(..) | Value::Null) {
                        return Err(Diagnostic::error("invalid-yaml", "mapping keys must be plain strings, not lists or objects").at(node.span));
                    }
                    let text = node.as_scalar_text().unwrap_or("");
                    if let Some((first, _)) = entries.iter().find(|(k, _)| k.as_scalar_text().unwrap_or("") == text) {
                        return Err(Diagnostic::error("duplicate-key", format!("duplicate key `{text}` (first defined at line {})", first.span.line))
                            .at(node.span)
                            .help("YAML mapping keys must be unique; remove or merge one of them"));
                    }
                    *key = Some(node);
                    Ok(())
                }
                Some(k) => {
                    entries.push((k, node));
                    Ok(())
                }
            },
        }
    }

    fn event(&mut self, ev: Event, mark: Marker) -> Result<(), Diagnostic> {
        let span = self.span(&mark);
        match ev {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => Ok(()),
            Event::DocumentStart => {
                self.root = None;
                Ok(())
            }
            Event::DocumentEnd => {
                let root = self.root.take().unwrap_or_else(|| Node::new(Value::Null, span));
                self.docs.push(Document { root });
                Ok(())
            }
            Event::Alias(id) => {
                // Count first, copy after: the copy is what an alias bomb spends memory on.
                let Some(size) = self.anchors.get(&id).map(|(_, size)| *size) else {
                    return Err(Diagnostic::error("invalid-yaml", "alias to an unknown anchor").at(span));
                };
                self.count(size, span)?;
                let Some(node) = self.anchors.get(&id).map(|(node, _)| node.clone()) else {
                    return Err(Diagnostic::error("invalid-yaml", "alias to an unknown anchor").at(span));
                };
                self.attach(node)
            }
            Event::Scalar(text, style, anchor, _tag) => {
                let size = Size { nodes: 1, bytes: text.len() };
                self.count(size, span)?;
                let value = match style {
                    TScalarStyle::Plain if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL") => Value::Null,
                    TScalarStyle::Plain => Value::Scalar(text, Style::Plain),
                    _ => Value::Scalar(text, Style::Quoted),
                };
                self.finish_node(Node::new(value, span), anchor, size)
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                self.count(Size { nodes: 1, bytes: 0 }, span)?;
                if self.stack.len() >= self.limits.max_depth {
                    return Err(Diagnostic::error("input-too-deep", format!("nesting deeper than {} levels", self.limits.max_depth)).at(span));
                }
                let start = self.mark();
                self.stack.push(if matches!(ev, Event::SequenceStart(..)) {
                    Frame::Seq { items: Vec::new(), span, anchor, start }
                } else {
                    Frame::Map { entries: Vec::new(), key: None, span, anchor, start }
                });
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor, start) = match self.stack.pop() {
                    Some(Frame::Seq { items, span, anchor, start }) => (Node::new(Value::Seq(items), span), anchor, start),
                    Some(Frame::Map { entries, span, anchor, start, .. }) => (Node::new(Value::Map(entries), span), anchor, start),
                    None => return Err(Diagnostic::error("invalid-yaml", "unbalanced YAML events").at(span)),
                };
                let size = self.size_since(start);
                self.finish_node(node, anchor, size)
            }
        }
    }
}

/// Parses YAML text (all documents) into span-carrying trees, enforcing `limits` (except
/// `max_bytes`, which bounds how much of a file is read: [`crate::files::read_bounded`]; a
/// caller parsing text from elsewhere, such as a request body, bounds its length itself).
pub fn parse(text: &str, file: FileId, limits: Limits) -> Result<Vec<Document>, Diagnostic> {
    if let Some(pos) = text.find('\0') {
        let line = text[..pos].lines().count().max(1) as u32;
        return Err(Diagnostic::error("invalid-yaml", "file contains NUL bytes; it is binary, not YAML").at(Span::new(file, line, 1)));
    }
    let mut b = Builder { file, limits, stack: Vec::new(), anchors: HashMap::new(), total: Size::default(), docs: Vec::new(), root: None };
    let mut parser = Parser::new_from_str(text);
    loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => break,
            Ok((ev, mark)) => b.event(ev, mark)?,
            Err(e) => {
                let m = e.marker();
                return Err(Diagnostic::error("invalid-yaml", format!("invalid YAML: {}", e.info())).at(Span::new(file, m.line() as u32, m.col() as u32 + 1)));
            }
        }
    }
    Ok(b.docs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn p(text: &str) -> Result<Vec<Document>, Diagnostic> {
        parse(text, FileId::intern(Path::new("t.yaml")), Limits::default())
    }

    #[test]
    fn positions_are_one_based() {
        let docs = p("a:\n  bb: 1\n").unwrap();
        let bb = &docs[0].root.as_map().unwrap()[0].1.as_map().unwrap()[0];
        assert_eq!((bb.0.span.line, bb.0.span.col), (2, 3));
        assert_eq!(bb.1.scalar(), Some(Scalar::Int(1)));
    }

    #[test]
    fn scalars_resolve_like_yaml_1_2() {
        let docs = p("[true, 'true', 3, '3', 1.5, x, ~, '']").unwrap();
        let items = docs[0].root.as_seq().unwrap();
        let names: Vec<_> = items.iter().map(Node::type_name).collect();
        assert_eq!(names, ["a boolean", "a string", "a number", "a string", "a number", "a string", "null", "a string"]);
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let e = p("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e.code, "duplicate-key");
        assert_eq!(e.span.unwrap().line, 3);
    }

    #[test]
    fn alias_bomb_is_bounded() {
        let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = format!("*a{}", i - 1);
            s.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
        }
        let e = p(&s).unwrap_err();
        assert_eq!(e.code, "input-too-large");
    }

    #[test]
    fn long_string_alias_bomb_is_bounded_by_bytes() {
        // Few nodes, much text: 1 MiB anchored once and aliased 20 times is 22 nodes (far under
        // max_nodes) but 21 MiB of text, over the default 16 MiB byte cap.
        let big = "a".repeat(1024 * 1024);
        let refs = "  - *s\n".repeat(20);
        let e = p(&format!("big: &s {big}\nrefs:\n{refs}")).unwrap_err();
        assert_eq!(e.code, "input-too-large");
        assert!(e.message.contains("more than 16777216 bytes of text"), "{}", e.message);
        // The alias that crosses the cap: the 15th (the anchor's 1 MiB, 15 copies and the 7
        // bytes of the keys `big` and `refs` are more than 16 MiB), on line 2 + 15.
        assert_eq!(e.span.map(|s| (s.line, s.col)), Some((17, 5)));
        assert!(e.help.is_some());
        // Under the cap, the same shape parses.
        let docs = p(&format!("big: &s {big}\nrefs:\n{}", "  - *s\n".repeat(14))).unwrap();
        assert_eq!(docs[0].root.get("refs").and_then(Node::as_seq).map(<[Node]>::len), Some(14));
    }

    #[test]
    fn keys_count_towards_the_byte_cap() {
        let limits = Limits { max_expanded_bytes: 10, ..Limits::default() };
        let e = parse("abcdef: 1\nghijkl: 2\n", FileId::intern(Path::new("t.yaml")), limits).unwrap_err();
        assert_eq!(e.code, "input-too-large");
        assert_eq!(e.span.map(|s| s.line), Some(2));
    }

    #[test]
    fn aliases_expand_within_budget() {
        let docs = p("base: &b {x: 1}\nother: *b\n").unwrap();
        assert_eq!(docs[0].root.get("other").unwrap().get("x").unwrap().scalar(), Some(Scalar::Int(1)));
    }

    #[test]
    fn deep_nesting_is_rejected() {
        let s = "[".repeat(200) + &"]".repeat(200);
        assert!(p(&s).is_err());
    }

    #[test]
    fn nul_bytes_are_rejected() {
        assert_eq!(p("a: 1\0\0").unwrap_err().code, "invalid-yaml");
    }

    #[test]
    fn multi_document_streams() {
        let docs = p("a: 1\n---\nb: 2\n").unwrap();
        assert_eq!(docs.len(), 2);
    }
}
