//! Lexer and parser for the Go `text/template` subset Katalogs use.
//!
//! The grammar follows Go's `text/template/parse`: text and `{{ actions }}` with optional trim
//! markers (`{{- ` / ` -}}`), comments, pipelines with variable declarations, `if` / `else if` /
//! `else`, `range` (with `break` / `continue`), `with` / `else with`. Function names and their
//! argument counts are resolved here, against the registry, so an unknown function or a wrong
//! argument count is a load-time error, not a surprise at reconcile time.

use super::funcs::{self, FuncRef};
use std::fmt;

/// A parse error: byte offset into the template source plus message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset into the template source.
    pub offset: usize,
    /// What is wrong, and how to fix it where that is knowable.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// One node of the template tree.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Text(String),
    Action(Pipe),
    If { branches: Vec<(Pipe, Vec<Node>)>, otherwise: Vec<Node> },
    With { branches: Vec<(Pipe, Vec<Node>)>, otherwise: Vec<Node> },
    Range { pipe: Pipe, body: Vec<Node>, otherwise: Vec<Node> },
    Break,
    Continue,
}

/// `$a, $b := cmd | cmd`.
#[derive(Debug, Clone)]
pub(crate) struct Pipe {
    pub pos: usize,
    /// Declared (`:=`) or assigned (`=`) variables.
    pub vars: Vec<String>,
    pub declare: bool,
    pub cmds: Vec<Cmd>,
}

/// One command of a pipeline: an operand, or a function and its arguments.
#[derive(Debug, Clone)]
pub(crate) struct Cmd {
    pub pos: usize,
    pub args: Vec<Arg>,
}

/// An operand.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    /// `.`
    Dot,
    /// `.a.b`
    Field(Vec<String>),
    /// `$x.a.b` (`$` alone is the root).
    Var(String, Vec<String>),
    /// A function (built-in or registered).
    Func(FuncRef),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
    /// `( pipeline ).a.b`
    Sub(Box<Pipe>, Vec<String>),
}

/// [`super::Template::may_read`] over a node list.
pub(crate) fn may_read(nodes: &[Node], key: &str) -> bool {
    let pipe = |p: &Pipe| p.cmds.iter().any(|c| c.args.iter().any(|a| arg_may_read(a, key)));
    let branches = |b: &[(Pipe, Vec<Node>)]| b.iter().any(|(p, body)| pipe(p) || may_read(body, key));
    nodes.iter().any(|n| match n {
        Node::Text(_) | Node::Break | Node::Continue => false,
        Node::Action(p) => pipe(p),
        Node::If { branches: b, otherwise } | Node::With { branches: b, otherwise } => branches(b) || may_read(otherwise, key),
        Node::Range { pipe: p, body, otherwise } => pipe(p) || may_read(body, key) || may_read(otherwise, key),
    })
}

fn arg_may_read(arg: &Arg, key: &str) -> bool {
    match arg {
        Arg::Dot => true,
        Arg::Field(chain) => chain.first().is_some_and(|f| f == key),
        Arg::Var(_, chain) => chain.first().is_none_or(|f| f == key),
        Arg::Sub(p, chain) => chain.first().is_some_and(|f| f == key) || p.cmds.iter().any(|c| c.args.iter().any(|a| arg_may_read(a, key))),
        Arg::Func(_) | Arg::Str(_) | Arg::Int(_) | Arg::Float(_) | Arg::Bool(_) | Arg::Nil => false,
    }
}

/// Extra zero-argument function names a Katalog declares (notes, sentinels).
pub trait Names {
    /// Whether `name` is a declared zero-argument function.
    fn has(&self, name: &str) -> bool;
}

impl Names for () {
    fn has(&self, _: &str) -> bool {
        false
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Field(Vec<String>),
    Var(String, Vec<String>),
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
    LParen,
    RParen,
    /// `.a.b` directly after `)`.
    Chain(Vec<String>),
    Pipe,
    Declare,
    Assign,
    Comma,
    Dot,
}

/// Splits the source into text and action token lists.
enum Piece {
    Text(String),
    Action { pos: usize, toks: Vec<(usize, Tok)> },
}

fn err<T>(offset: usize, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError { offset, message: message.into() })
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn split(src: &str) -> Result<Vec<Piece>, ParseError> {
    let bytes = src.as_bytes();
    let mut pieces = Vec::new();
    let mut pos = 0;
    let mut trim_next = false;
    while pos < bytes.len() {
        let Some(rel) = src[pos..].find("{{") else {
            let mut text = &src[pos..];
            if trim_next {
                text = text.trim_start_matches(|c: char| c.is_ascii_whitespace());
            }
            pieces.push(Piece::Text(text.to_string()));
            break;
        };
        let open = pos + rel;
        let mut inner = open + 2;
        let trim_left = bytes.get(inner) == Some(&b'-') && bytes.get(inner + 1).copied().is_some_and(is_space);
        if trim_left {
            inner += 2;
        }
        let mut text = &src[pos..open];
        if trim_next {
            text = text.trim_start_matches(|c: char| c.is_ascii_whitespace());
        }
        if trim_left {
            text = text.trim_end_matches(|c: char| c.is_ascii_whitespace());
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text.to_string()));
        }
        // Comment: `{{/* ... */}}`.
        let after_ws = skip_ws(bytes, inner);
        if src[after_ws..].starts_with("/*") {
            let Some(end_rel) = src[after_ws + 2..].find("*/") else {
                return err(open, "unclosed comment: add `*/}}`");
            };
            let mut close = after_ws + 2 + end_rel + 2;
            close = skip_ws(bytes, close);
            let trim_right = src[close..].starts_with("-}}");
            if trim_right {
                close += 1;
            }
            if !src[close..].starts_with("}}") {
                return err(close, "comment ends with `*/` but is not followed by `}}`");
            }
            trim_next = trim_right;
            pos = close + 2;
            continue;
        }
        let (toks, end, trim_right) = lex_action(src, inner, open)?;
        pieces.push(Piece::Action { pos: open, toks });
        trim_next = trim_right;
        pos = end;
    }
    Ok(pieces)
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && is_space(bytes[i]) {
        i += 1;
    }
    i
}

fn ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Lexes one action body starting at `i`; returns tokens, the offset after `}}`, and whether a
/// right trim marker was present.
type Lexed = (Vec<(usize, Tok)>, usize, bool);

fn lex_action(src: &str, mut i: usize, open: usize) -> Result<Lexed, ParseError> {
    let b = src.as_bytes();
    let mut toks = Vec::new();
    loop {
        while i < b.len() && is_space(b[i]) {
            // ` -}}` — trim marker needs the space before it.
            if src[i + 1..].starts_with("-}}") {
                return Ok((toks, i + 4, true));
            }
            i += 1;
        }
        if i >= b.len() {
            return err(open, "unclosed action: `{{` has no matching `}}`");
        }
        if src[i..].starts_with("}}") {
            return Ok((toks, i + 2, false));
        }
        let start = i;
        let c = b[i];
        match c {
            b'(' => {
                toks.push((start, Tok::LParen));
                i += 1;
            }
            b')' => {
                toks.push((start, Tok::RParen));
                i += 1;
                if b.get(i) == Some(&b'.') && b.get(i + 1).copied().is_some_and(ident_char) {
                    let (chain, end) = lex_chain(src, i);
                    toks.push((i, Tok::Chain(chain)));
                    i = end;
                }
            }
            b'|' => {
                toks.push((start, Tok::Pipe));
                i += 1;
            }
            b',' => {
                toks.push((start, Tok::Comma));
                i += 1;
            }
            b':' if b.get(i + 1) == Some(&b'=') => {
                toks.push((start, Tok::Declare));
                i += 2;
            }
            b'=' => {
                toks.push((start, Tok::Assign));
                i += 1;
            }
            b'.' => {
                if b.get(i + 1).copied().is_some_and(ident_char) && !b[i + 1].is_ascii_digit() {
                    let (chain, end) = lex_chain(src, i);
                    toks.push((start, Tok::Field(chain)));
                    i = end;
                } else if b.get(i + 1).copied().is_some_and(|d| d.is_ascii_digit()) {
                    let (tok, end) = lex_number(src, i)?;
                    toks.push((start, tok));
                    i = end;
                } else {
                    toks.push((start, Tok::Dot));
                    i += 1;
                }
            }
            b'$' => {
                let mut j = i + 1;
                while j < b.len() && ident_char(b[j]) {
                    j += 1;
                }
                let name = src[i..j].to_string();
                let (chain, end) = if b.get(j) == Some(&b'.') && b.get(j + 1).copied().is_some_and(ident_char) { lex_chain(src, j) } else { (Vec::new(), j) };
                toks.push((start, Tok::Var(name, chain)));
                i = end;
            }
            b'"' => {
                let (s, end) = lex_string(src, i)?;
                toks.push((start, Tok::Str(s)));
                i = end;
            }
            b'`' => {
                let Some(rel) = src[i + 1..].find('`') else {
                    return err(start, "unterminated raw string: add the closing backquote");
                };
                toks.push((start, Tok::Str(src[i + 1..i + 1 + rel].to_string())));
                i = i + 2 + rel;
            }
            b'\'' => {
                return err(start, "character literals are not supported; use a double-quoted string");
            }
            b'-' | b'+' | b'0'..=b'9' => {
                let (tok, end) = lex_number(src, i)?;
                toks.push((start, tok));
                i = end;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut j = i;
                while j < b.len() && ident_char(b[j]) {
                    j += 1;
                }
                toks.push((start, Tok::Ident(src[i..j].to_string())));
                i = j;
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return err(start, format!("unexpected character `{ch}` in action"));
            }
        }
    }
}

fn lex_chain(src: &str, mut i: usize) -> (Vec<String>, usize) {
    let b = src.as_bytes();
    let mut out = Vec::new();
    while b.get(i) == Some(&b'.') && b.get(i + 1).copied().is_some_and(ident_char) {
        let mut j = i + 1;
        while j < b.len() && ident_char(b[j]) {
            j += 1;
        }
        out.push(src[i + 1..j].to_string());
        i = j;
    }
    (out, i)
}

fn lex_number(src: &str, i: usize) -> Result<(Tok, usize), ParseError> {
    let b = src.as_bytes();
    let mut j = i;
    if matches!(b[j], b'-' | b'+') {
        j += 1;
    }
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'.' || b[j] == b'_') {
        // Exponent sign: 1e-3.
        j += 1;
        if matches!(b[j - 1], b'e' | b'E') && j < b.len() && matches!(b[j], b'-' | b'+') && !src[i..].starts_with("0x") {
            j += 1;
        }
    }
    let text = src[i..j].replace('_', "");
    let (neg, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.trim_start_matches('+')),
    };
    let hex = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X"));
    if let Some(h) = hex {
        if let Ok(v) = i64::from_str_radix(h, 16) {
            return Ok((Tok::Int(if neg { -v } else { v }), j));
        }
    } else if let Ok(v) = text.trim_start_matches('+').parse::<i64>() {
        return Ok((Tok::Int(v), j));
    } else if let Ok(v) = text.parse::<f64>()
        && v.is_finite()
    {
        return Ok((Tok::Float(v), j));
    }
    err(i, format!("bad number syntax: `{}`", &src[i..j]))
}

fn lex_string(src: &str, start: usize) -> Result<(String, usize), ParseError> {
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((k, c)) = chars.next() {
        match c {
            '"' => return Ok((out, start + 1 + k + 1)),
            '\n' => break,
            '\\' => {
                let Some((_, e)) = chars.next() else { break };
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    '\\' => out.push('\\'),
                    '"' => out.push('"'),
                    '\'' => out.push('\''),
                    'u' => {
                        let hex: String = chars.by_ref().take(4).map(|(_, h)| h).collect();
                        match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                            Some(ch) => out.push(ch),
                            None => return err(start + 1 + k, format!("bad unicode escape `\\u{hex}`")),
                        }
                    }
                    other => return err(start + 1 + k, format!("unknown escape sequence `\\{other}`")),
                }
            }
            c => out.push(c),
        }
    }
    err(start, "unterminated quoted string: add the closing `\"`")
}

/// Parser state over the pieces.
struct Parser<'n> {
    pieces: std::vec::IntoIter<Piece>,
    names: &'n dyn Names,
    /// Declared variables, innermost last.
    vars: Vec<String>,
    range_depth: usize,
}

/// How a list of nodes ended.
enum End {
    Eof,
    Close(usize),
    Else(usize, Vec<(usize, Tok)>),
}

/// Parses a template source into its tree.
pub(crate) fn parse(src: &str, names: &dyn Names) -> Result<Vec<Node>, ParseError> {
    let pieces = split(src)?;
    let mut p = Parser { pieces: pieces.into_iter(), names, vars: vec!["$".to_string()], range_depth: 0 };
    let (nodes, end) = p.list()?;
    match end {
        End::Eof => Ok(nodes),
        End::Close(pos) => err(pos, "unexpected `{{ end }}` without a matching if/range/with"),
        End::Else(pos, _) => err(pos, "unexpected `{{ else }}` outside if/range/with"),
    }
}

impl Parser<'_> {
    fn list(&mut self) -> Result<(Vec<Node>, End), ParseError> {
        let mut nodes = Vec::new();
        while let Some(piece) = self.pieces.next() {
            match piece {
                Piece::Text(t) => nodes.push(Node::Text(t)),
                Piece::Action { pos, toks } => {
                    let Some((kpos, first)) = toks.first().cloned() else {
                        return err(pos, "empty action `{{ }}`");
                    };
                    match &first {
                        Tok::Ident(k) if k == "end" => {
                            if toks.len() > 1 {
                                return err(kpos, "unexpected tokens after `end`");
                            }
                            return Ok((nodes, End::Close(kpos)));
                        }
                        Tok::Ident(k) if k == "else" => {
                            return Ok((nodes, End::Else(kpos, toks[1..].to_vec())));
                        }
                        Tok::Ident(k) if k == "if" || k == "with" => {
                            let is_if = k == "if";
                            nodes.push(self.branching(is_if, kpos, &toks[1..])?);
                        }
                        Tok::Ident(k) if k == "range" => nodes.push(self.range(kpos, &toks[1..])?),
                        Tok::Ident(k) if k == "break" || k == "continue" => {
                            if self.range_depth == 0 {
                                return err(kpos, format!("`{k}` outside of a range"));
                            }
                            if toks.len() > 1 {
                                return err(kpos, format!("unexpected tokens after `{k}`"));
                            }
                            nodes.push(if k == "break" { Node::Break } else { Node::Continue });
                        }
                        Tok::Ident(k) if matches!(k.as_str(), "define" | "template" | "block") => {
                            return err(kpos, format!("`{k}` is not supported in Katalog templates; use a notes function instead"));
                        }
                        _ => {
                            let pipe = self.pipeline(pos, &toks, true)?;
                            nodes.push(Node::Action(pipe));
                        }
                    }
                }
            }
        }
        Ok((nodes, End::Eof))
    }

    /// `if` / `with` with `else if` / `else with` chains.
    fn branching(&mut self, is_if: bool, pos: usize, toks: &[(usize, Tok)]) -> Result<Node, ParseError> {
        let word = if is_if { "if" } else { "with" };
        let mut branches = Vec::new();
        let mut cond_toks = toks.to_vec();
        let mut cond_pos = pos;
        loop {
            if cond_toks.is_empty() {
                return err(cond_pos, format!("missing condition after `{word}`"));
            }
            let mark = self.vars.len();
            let pipe = self.pipeline(cond_pos, &cond_toks, true)?;
            let (body, end) = self.list()?;
            self.vars.truncate(mark);
            branches.push((pipe, body));
            match end {
                End::Eof => return err(pos, format!("`{{{{ {word} }}}}` is missing its `{{{{ end }}}}`")),
                End::Close(_) => {
                    let node = if is_if { Node::If { branches, otherwise: Vec::new() } } else { Node::With { branches, otherwise: Vec::new() } };
                    return Ok(node);
                }
                End::Else(epos, rest) => {
                    if let Some((_, Tok::Ident(k))) = rest.first()
                        && k == word
                    {
                        cond_toks = rest[1..].to_vec();
                        cond_pos = epos;
                        continue;
                    }
                    if !rest.is_empty() {
                        return err(epos, format!("`else` may only be followed by `{word}` here"));
                    }
                    let (otherwise, end) = self.list()?;
                    if !matches!(end, End::Close(_)) {
                        return err(epos, format!("`{{{{ else }}}}` of `{word}` is missing its `{{{{ end }}}}`"));
                    }
                    let node = if is_if { Node::If { branches, otherwise } } else { Node::With { branches, otherwise } };
                    return Ok(node);
                }
            }
        }
    }

    fn range(&mut self, pos: usize, toks: &[(usize, Tok)]) -> Result<Node, ParseError> {
        if toks.is_empty() {
            return err(pos, "missing value after `range`");
        }
        let mark = self.vars.len();
        let pipe = self.pipeline(pos, toks, true)?;
        if pipe.vars.len() > 2 {
            return err(pos, "range can declare at most two variables: `$key, $value := ...`");
        }
        self.range_depth += 1;
        let (body, end) = self.list()?;
        self.range_depth -= 1;
        self.vars.truncate(mark);
        let otherwise = match end {
            End::Eof => return err(pos, "`{{ range }}` is missing its `{{ end }}`"),
            End::Close(_) => Vec::new(),
            End::Else(epos, rest) => {
                if !rest.is_empty() {
                    return err(epos, "`else` after range takes no arguments");
                }
                let (otherwise, end) = self.list()?;
                if !matches!(end, End::Close(_)) {
                    return err(epos, "`{{ else }}` of range is missing its `{{ end }}`");
                }
                otherwise
            }
        };
        Ok(Node::Range { pipe, body, otherwise })
    }

    /// A full pipeline, optionally with a variable declaration.
    fn pipeline(&mut self, pos: usize, toks: &[(usize, Tok)], allow_decl: bool) -> Result<Pipe, ParseError> {
        let mut vars = Vec::new();
        let mut declare = false;
        let mut rest = toks;
        // `$x :=`, `$x =`, `$k, $v :=`
        if allow_decl {
            let mut i = 0;
            let mut names = Vec::new();
            while let Some((_, Tok::Var(name, chain))) = rest.get(i) {
                if !chain.is_empty() {
                    break;
                }
                names.push(name.clone());
                match rest.get(i + 1) {
                    Some((_, Tok::Comma)) => i += 2,
                    Some((_, Tok::Declare)) | Some((_, Tok::Assign)) => {
                        declare = matches!(rest[i + 1].1, Tok::Declare);
                        vars = names;
                        rest = &rest[i + 2..];
                        break;
                    }
                    _ => break,
                }
            }
        }
        if !declare {
            for v in &vars {
                if !self.vars.contains(v) {
                    return err(pos, format!("undefined variable `{v}`: declare it with `{v} := ...` first"));
                }
            }
        }
        let mut cmds = Vec::new();
        let mut i = 0;
        let mut cmd_start = 0;
        let mut depth = 0usize;
        while i <= rest.len() {
            let boundary = i == rest.len() || (depth == 0 && rest[i].1 == Tok::Pipe);
            if i < rest.len() {
                match rest[i].1 {
                    Tok::LParen => depth += 1,
                    Tok::RParen => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
            if boundary {
                let part = &rest[cmd_start..i];
                let cpos = part.first().map(|t| t.0).unwrap_or(pos);
                if part.is_empty() {
                    return err(cpos, "missing command in pipeline");
                }
                cmds.push(self.command(cpos, part, !cmds.is_empty())?);
                cmd_start = i + 1;
            }
            i += 1;
        }
        if cmds.is_empty() {
            return err(pos, "missing value in action");
        }
        if declare {
            self.vars.extend(vars.iter().cloned());
        }
        Ok(Pipe { pos, vars, declare, cmds })
    }

    fn command(&mut self, pos: usize, toks: &[(usize, Tok)], piped: bool) -> Result<Cmd, ParseError> {
        let mut args = Vec::new();
        let mut i = 0;
        while i < toks.len() {
            let (tpos, tok) = &toks[i];
            let arg = match tok {
                Tok::Dot => Arg::Dot,
                Tok::Field(chain) => Arg::Field(chain.clone()),
                Tok::Var(name, chain) => {
                    if !self.vars.contains(name) {
                        return err(*tpos, format!("undefined variable `{name}`"));
                    }
                    Arg::Var(name.clone(), chain.clone())
                }
                Tok::Str(s) => Arg::Str(s.clone()),
                Tok::Int(n) => Arg::Int(*n),
                Tok::Float(f) => Arg::Float(*f),
                Tok::Ident(name) => match name.as_str() {
                    "true" => Arg::Bool(true),
                    "false" => Arg::Bool(false),
                    "nil" => Arg::Nil,
                    _ => match funcs::lookup(name, self.names) {
                        Some(f) => Arg::Func(f),
                        None => {
                            // Upstream functions ork refuses on purpose: say so, and what to use.
                            if let Some(r) = funcs::refused(name) {
                                return err(*tpos, format!("function `{name}` is not supported ({}): {}", r.why, r.instead));
                            }
                            let hint = funcs::suggest(name).map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
                            return err(*tpos, format!("function `{name}` not defined{hint}"));
                        }
                    },
                },
                Tok::LParen => {
                    // Find the matching paren.
                    let mut depth = 0usize;
                    let mut j = i;
                    loop {
                        match toks.get(j).map(|t| &t.1) {
                            Some(Tok::LParen) => depth += 1,
                            Some(Tok::RParen) => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            None => return err(*tpos, "unclosed `(`: add the matching `)`"),
                            _ => {}
                        }
                        j += 1;
                    }
                    let inner = self.pipeline(*tpos, &toks[i + 1..j], false)?;
                    let chain = match toks.get(j + 1) {
                        Some((_, Tok::Chain(c))) => {
                            j += 1;
                            c.clone()
                        }
                        _ => Vec::new(),
                    };
                    i = j;
                    Arg::Sub(Box::new(inner), chain)
                }
                Tok::RParen => return err(*tpos, "unexpected `)`"),
                Tok::Chain(_) => return err(*tpos, "unexpected field chain"),
                Tok::Pipe => return err(*tpos, "unexpected `|`"),
                Tok::Declare | Tok::Assign => {
                    return err(*tpos, "unexpected `:=`/`=`: variables are declared at the start of an action");
                }
                Tok::Comma => return err(*tpos, "unexpected `,`"),
            };
            args.push(arg);
            i += 1;
        }
        let Some(first) = args.first() else {
            return err(pos, "empty command");
        };
        let supplied = args.len() - 1 + usize::from(piped);
        match first {
            Arg::Func(f) => {
                let (min, max) = f.arity();
                if supplied < min || max.is_some_and(|m| supplied > m) {
                    let want = match max {
                        Some(m) if m == min => format!("{min}"),
                        Some(m) => format!("{min} to {m}"),
                        None => format!("at least {min}"),
                    };
                    let piped_note = if piped { " (including the piped value)" } else { "" };
                    return err(pos, format!("wrong number of arguments for `{}`: want {want}, got {supplied}{piped_note}", f.name()));
                }
            }
            _ if args.len() > 1 || piped => {
                return err(pos, "only a function can take arguments; this command starts with a value");
            }
            _ => {}
        }
        Ok(Cmd { pos, args })
    }
}
