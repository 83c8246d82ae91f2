//! Executes a parsed template against JSON data.

use super::funcs::{Callable, FuncRef};
use super::parse::{Arg, Cmd, Node, Pipe};
use super::value::{to_text, truthy, type_name, write_value};
use super::{Env, EvalError};
use serde_json::Value;
use std::borrow::Cow;

/// A value during evaluation: borrowed from the data when possible.
pub type Val<'a> = Cow<'a, Value>;

/// Hard bounds on one evaluation: a template is user input and must not run away.
const MAX_STEPS: u64 = 1_000_000;
const MAX_OUTPUT: usize = 1 << 20;
/// Notes may call notes; this bounds the nesting.
pub(crate) const MAX_NOTE_DEPTH: u32 = 16;

enum Flow {
    Normal,
    Break,
    Continue,
}

pub(crate) struct State<'a, 'e, 'r> {
    pub env: &'e mut Env<'r>,
    pub root: &'a Value,
    vars: Vec<(String, Val<'a>)>,
    pub out: String,
    steps: u64,
}

fn fail<T>(pos: usize, message: impl Into<String>) -> Result<T, EvalError> {
    Err(EvalError { pos, message: message.into(), cause: None })
}

impl<'a, 'e, 'r> State<'a, 'e, 'r> {
    pub fn new(env: &'e mut Env<'r>, root: &'a Value) -> Self {
        State { env, root, vars: vec![("$".to_string(), Cow::Borrowed(root))], out: String::new(), steps: 0 }
    }

    pub fn run(&mut self, nodes: &[Node]) -> Result<(), EvalError> {
        let dot = Cow::Borrowed(self.root);
        self.list(&dot, nodes).map(|_| ())
    }

    fn tick(&mut self, pos: usize) -> Result<(), EvalError> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return fail(pos, format!("template exceeded {MAX_STEPS} evaluation steps"));
        }
        if self.out.len() > MAX_OUTPUT {
            return fail(pos, format!("template output exceeded {MAX_OUTPUT} bytes"));
        }
        Ok(())
    }

    fn list(&mut self, dot: &Val<'a>, nodes: &[Node]) -> Result<Flow, EvalError> {
        for node in nodes {
            match node {
                Node::Text(t) => self.out.push_str(t),
                Node::Action(pipe) => {
                    self.tick(pipe.pos)?;
                    let v = self.pipe(dot, pipe)?;
                    if pipe.vars.is_empty() {
                        write_value(&mut self.out, &v);
                    }
                }
                Node::If { branches, otherwise } => {
                    let mark = self.vars.len();
                    let mut taken = None;
                    for (cond, body) in branches {
                        self.tick(cond.pos)?;
                        let v = self.pipe(dot, cond)?;
                        if truthy(&v) {
                            taken = Some(body);
                            break;
                        }
                    }
                    let flow = self.list(dot, taken.map(Vec::as_slice).unwrap_or(otherwise))?;
                    self.vars.truncate(mark);
                    if !matches!(flow, Flow::Normal) {
                        return Ok(flow);
                    }
                }
                Node::With { branches, otherwise } => {
                    let mark = self.vars.len();
                    let mut flow = None;
                    for (cond, body) in branches {
                        self.tick(cond.pos)?;
                        let v = self.pipe(dot, cond)?;
                        if truthy(&v) {
                            flow = Some(self.list(&v, body)?);
                            break;
                        }
                    }
                    let flow = match flow {
                        Some(f) => f,
                        None => self.list(dot, otherwise)?,
                    };
                    self.vars.truncate(mark);
                    if !matches!(flow, Flow::Normal) {
                        return Ok(flow);
                    }
                }
                Node::Range { pipe, body, otherwise } => {
                    let mark = self.vars.len();
                    let flow = self.range(dot, pipe, body, otherwise)?;
                    self.vars.truncate(mark);
                    if !matches!(flow, Flow::Normal) {
                        return Ok(flow);
                    }
                }
                Node::Break => return Ok(Flow::Break),
                Node::Continue => return Ok(Flow::Continue),
            }
        }
        Ok(Flow::Normal)
    }

    fn range(&mut self, dot: &Val<'a>, pipe: &Pipe, body: &[Node], otherwise: &[Node]) -> Result<Flow, EvalError> {
        let over = self.pipe_value(dot, pipe)?;
        let items: Vec<(Val<'a>, Val<'a>)> = match over {
            Cow::Borrowed(Value::Array(a)) => a.iter().enumerate().map(|(i, v)| (Cow::Owned(Value::from(i)), Cow::Borrowed(v))).collect(),
            Cow::Borrowed(Value::Object(m)) => m.iter().map(|(k, v)| (Cow::Owned(Value::String(k.clone())), Cow::Borrowed(v))).collect(),
            Cow::Owned(Value::Array(a)) => a.into_iter().enumerate().map(|(i, v)| (Cow::Owned(Value::from(i)), Cow::Owned(v))).collect(),
            Cow::Owned(Value::Object(m)) => m.into_iter().map(|(k, v)| (Cow::Owned(Value::String(k)), Cow::Owned(v))).collect(),
            Cow::Borrowed(Value::Null) | Cow::Owned(Value::Null) => Vec::new(),
            other => match other.as_i64() {
                Some(n) if n >= 0 => (0..n).map(|i| (Cow::Owned(Value::from(i)), Cow::Owned(Value::from(i)))).collect(),
                _ => {
                    return fail(pipe.pos, format!("range can't iterate over a {} (`{}`); expected a list or a map", type_name(&other), to_text(&other)));
                }
            },
        };
        if items.is_empty() {
            return self.list(dot, otherwise);
        }
        let mark = self.vars.len();
        for (key, item) in items {
            self.tick(pipe.pos)?;
            match pipe.vars.len() {
                0 => {}
                1 => self.vars.push((pipe.vars[0].clone(), item.clone())),
                _ => {
                    self.vars.push((pipe.vars[0].clone(), key));
                    self.vars.push((pipe.vars[1].clone(), item.clone()));
                }
            }
            let flow = self.list(&item, body)?;
            self.vars.truncate(mark);
            if matches!(flow, Flow::Break) {
                break;
            }
        }
        Ok(Flow::Normal)
    }

    /// Evaluates a pipeline and binds its declared/assigned variables.
    fn pipe(&mut self, dot: &Val<'a>, pipe: &Pipe) -> Result<Val<'a>, EvalError> {
        let v = self.pipe_value(dot, pipe)?;
        for name in &pipe.vars {
            if pipe.declare {
                self.vars.push((name.clone(), v.clone()));
            } else if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| n == name) {
                slot.1 = v.clone();
            } else {
                return fail(pipe.pos, format!("undefined variable `{name}`"));
            }
        }
        Ok(v)
    }

    fn pipe_value(&mut self, dot: &Val<'a>, pipe: &Pipe) -> Result<Val<'a>, EvalError> {
        let mut piped: Option<Val<'a>> = None;
        for cmd in &pipe.cmds {
            piped = Some(self.cmd(dot, cmd, piped)?);
        }
        Ok(piped.unwrap_or(Cow::Owned(Value::Null)))
    }

    fn cmd(&mut self, dot: &Val<'a>, cmd: &Cmd, piped: Option<Val<'a>>) -> Result<Val<'a>, EvalError> {
        self.tick(cmd.pos)?;
        match &cmd.args[0] {
            Arg::Func(f) => self.call(dot, cmd, f, piped),
            operand => self.arg(dot, operand, cmd.pos),
        }
    }

    fn call(&mut self, dot: &Val<'a>, cmd: &Cmd, f: &FuncRef, piped: Option<Val<'a>>) -> Result<Val<'a>, EvalError> {
        let pos = cmd.pos;
        match f.callable() {
            Callable::And | Callable::Or => {
                let want = matches!(f.callable(), Callable::Or);
                let mut last = Cow::Owned(Value::Null);
                let count = cmd.args.len() - 1 + usize::from(piped.is_some());
                let mut piped = piped;
                for i in 0..count {
                    let v = match cmd.args.get(i + 1) {
                        Some(a) => self.arg(dot, a, pos)?,
                        None => piped.take().unwrap_or(Cow::Owned(Value::Null)),
                    };
                    if truthy(&v) == want {
                        return Ok(v);
                    }
                    last = v;
                }
                Ok(last)
            }
            Callable::Note(name) => {
                if let Some(v) = self.env.sentinels.get(name) {
                    return Ok(Cow::Owned(Value::Bool(*v)));
                }
                let Some(note) = self.env.notes.and_then(|n| n.get(name)) else {
                    return fail(pos, format!("`{name}` is only available in preReconcile gates"));
                };
                if self.env.depth >= MAX_NOTE_DEPTH {
                    return fail(pos, format!("notes function `{name}` nests deeper than {MAX_NOTE_DEPTH} calls (a cycle?)"));
                }
                let root = self.root;
                self.env.depth += 1;
                let result = note.render(root, self.env);
                self.env.depth -= 1;
                let text = result.map_err(|e| EvalError { pos, message: format!("in notes function `{name}`: {}", e.message), cause: e.cause })?;
                Ok(Cow::Owned(match text.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    _ => Value::String(text),
                }))
            }
            Callable::Plain(func) => {
                let mut args: Vec<Val<'a>> = Vec::with_capacity(cmd.args.len());
                for a in &cmd.args[1..] {
                    args.push(self.arg(dot, a, pos)?);
                }
                if let Some(p) = piped {
                    args.push(p);
                }
                match func(self.env, &args) {
                    Ok(v) => Ok(Cow::Owned(v)),
                    Err(cause) => Err(EvalError { pos, message: format!("{}: {cause}", f.name()), cause: Some(std::sync::Arc::new(cause)) }),
                }
            }
        }
    }

    fn arg(&mut self, dot: &Val<'a>, arg: &Arg, pos: usize) -> Result<Val<'a>, EvalError> {
        Ok(match arg {
            Arg::Dot => dot.clone(),
            Arg::Field(chain) => field_chain(dot.clone(), chain, pos)?,
            Arg::Var(name, chain) => {
                let Some((_, v)) = self.vars.iter().rev().find(|(n, _)| n == name) else {
                    return fail(pos, format!("undefined variable `{name}`"));
                };
                field_chain(v.clone(), chain, pos)?
            }
            Arg::Func(f) => {
                let cmd = Cmd { pos, args: vec![Arg::Func(f.clone())] };
                self.call(dot, &cmd, f, None)?
            }
            Arg::Str(s) => Cow::Owned(Value::String(s.clone())),
            Arg::Int(i) => Cow::Owned(Value::from(*i)),
            Arg::Float(f) => Cow::Owned(serde_json::Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null)),
            Arg::Bool(b) => Cow::Owned(Value::Bool(*b)),
            Arg::Nil => Cow::Owned(Value::Null),
            Arg::Sub(pipe, chain) => {
                let v = self.pipe_value(dot, pipe)?;
                field_chain(v, chain, pos)?
            }
        })
    }
}

/// `.a.b.c` on a value. A missing key — at any depth — is nil (renders as ""), the lenient form
/// of Go's `missingkey=zero`; a field on a string, number or list is an error, as in Go.
fn field_chain<'a>(mut v: Val<'a>, chain: &[String], pos: usize) -> Result<Val<'a>, EvalError> {
    for name in chain {
        v = match v {
            Cow::Borrowed(Value::Object(m)) => Cow::Borrowed(m.get(name).unwrap_or(&Value::Null)),
            Cow::Owned(Value::Object(mut m)) => Cow::Owned(m.remove(name).unwrap_or(Value::Null)),
            Cow::Borrowed(Value::Null) | Cow::Owned(Value::Null) => Cow::Owned(Value::Null),
            other => {
                return fail(pos, format!("can't evaluate field `{name}` in a {} (`{}`)", type_name(&other), to_text(&other)));
            }
        };
    }
    Ok(v)
}
