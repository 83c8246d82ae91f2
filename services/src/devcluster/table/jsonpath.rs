//! The JSONPath a CRD's `additionalPrinterColumns` use, as the API server evaluates them against
//! an object: fields (`.status.replicas`, `['app.kubernetes.io/name']`), indexes (`[0]`, `[-1]`),
//! wildcards (`[*]`, `.*`) and filters comparing a field with a literal
//! (`[?(@.type=="Ready")]`, `!=`, `<`, `<=`, `>`, `>=`; a bare `[?(@.ready)]` tests presence).
//! A path is parsed once per table; evaluation yields every match in document order.

use serde_json::Value;

/// Why a JSONPath could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSONPath {path:?} at character {at}: {what}")]
pub struct JsonPathError {
    /// The path as written.
    pub path: String,
    /// The character position of the problem.
    pub at: usize,
    /// What was expected.
    pub what: &'static str,
}

/// A literal compared with in a filter.
#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Str(String),
    Num(f64),
    Bool(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Index(i64),
    All,
    /// `[?(@.path op literal)]`, or a presence test without `op`.
    Filter(Vec<Step>, Option<(Op, Literal)>),
}

/// A parsed JSONPath.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    steps: Vec<Step>,
}

struct Parser<'a> {
    path: &'a str,
    chars: Vec<char>,
    at: usize,
}

impl Parser<'_> {
    fn fail(&self, what: &'static str) -> JsonPathError {
        JsonPathError { path: self.path.to_string(), at: self.at, what }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    /// Steps until `stop` (or the end).
    fn steps(&mut self, stop: &[char]) -> Result<Vec<Step>, JsonPathError> {
        let mut steps = Vec::new();
        while let Some(c) = self.peek() {
            if stop.contains(&c) {
                break;
            }
            match c {
                '.' => {
                    self.at += 1;
                    if self.eat('*') {
                        steps.push(Step::All);
                        continue;
                    }
                    let start = self.at;
                    while self.peek().is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '$')) {
                        self.at += 1;
                    }
                    if self.at == start {
                        // `..` (recursive descent) and a trailing dot are not supported.
                        if self.peek().is_none() && steps.is_empty() {
                            continue;
                        }
                        return Err(self.fail("a field name after '.'"));
                    }
                    steps.push(Step::Field(self.chars[start..self.at].iter().collect()));
                }
                '[' => {
                    self.at += 1;
                    self.skip_spaces();
                    steps.push(self.bracket()?);
                    self.skip_spaces();
                    if !self.eat(']') {
                        return Err(self.fail("']'"));
                    }
                }
                _ => return Err(self.fail("'.' or '['")),
            }
        }
        Ok(steps)
    }

    fn bracket(&mut self) -> Result<Step, JsonPathError> {
        match self.peek() {
            Some('*') => {
                self.at += 1;
                Ok(Step::All)
            }
            Some('\'' | '"') => Ok(Step::Field(self.quoted()?)),
            Some('?') => {
                self.at += 1;
                if !self.eat('(') {
                    return Err(self.fail("'(' after '?'"));
                }
                self.skip_spaces();
                if !self.eat('@') {
                    return Err(self.fail("'@' in a filter"));
                }
                let path = self.steps(&[' ', '=', '!', '<', '>', ')'])?;
                self.skip_spaces();
                let test = if self.peek() == Some(')') { None } else { Some((self.op()?, self.literal()?)) };
                self.skip_spaces();
                if !self.eat(')') {
                    return Err(self.fail("')' closing the filter"));
                }
                Ok(Step::Filter(path, test))
            }
            _ => {
                let start = self.at;
                self.eat('-');
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.at += 1;
                }
                let text: String = self.chars[start..self.at].iter().collect();
                text.parse().map(Step::Index).map_err(|_| self.fail("an index, '*', a quoted name or a filter"))
            }
        }
    }

    fn quoted(&mut self) -> Result<String, JsonPathError> {
        let Some(q) = self.peek() else { return Err(self.fail("a quote")) };
        self.at += 1;
        let start = self.at;
        while self.peek().is_some_and(|c| c != q) {
            self.at += 1;
        }
        let text = self.chars[start..self.at].iter().collect();
        if !self.eat(q) {
            return Err(self.fail("a closing quote"));
        }
        Ok(text)
    }

    fn op(&mut self) -> Result<Op, JsonPathError> {
        self.skip_spaces();
        let two: String = self.chars[self.at..].iter().take(2).collect();
        let (op, len) = match two.as_str() {
            "==" => (Op::Eq, 2),
            "!=" => (Op::Ne, 2),
            "<=" => (Op::Le, 2),
            ">=" => (Op::Ge, 2),
            _ if two.starts_with('<') => (Op::Lt, 1),
            _ if two.starts_with('>') => (Op::Gt, 1),
            _ => return Err(self.fail("a comparison (==, !=, <, <=, >, >=)")),
        };
        self.at += len;
        self.skip_spaces();
        Ok(op)
    }

    fn literal(&mut self) -> Result<Literal, JsonPathError> {
        if matches!(self.peek(), Some('\'' | '"')) {
            return Ok(Literal::Str(self.quoted()?));
        }
        let start = self.at;
        while self.peek().is_some_and(|c| !c.is_whitespace() && c != ')') {
            self.at += 1;
        }
        let text: String = self.chars[start..self.at].iter().collect();
        match text.as_str() {
            "true" => Ok(Literal::Bool(true)),
            "false" => Ok(Literal::Bool(false)),
            t => t.parse().map(Literal::Num).map_err(|_| self.fail("a quoted string, a number, true or false")),
        }
    }
}

impl JsonPath {
    /// Parses a path such as `.status.conditions[?(@.type=="Ready")].status`; surrounding
    /// `{…}` and a leading `$` are accepted.
    pub fn parse(path: &str) -> Result<JsonPath, JsonPathError> {
        let trimmed = path.trim();
        let inner = trimmed.strip_prefix('{').and_then(|p| p.strip_suffix('}')).unwrap_or(trimmed);
        let inner = inner.strip_prefix('$').unwrap_or(inner);
        let mut p = Parser { path, chars: inner.chars().collect(), at: 0 };
        let steps = p.steps(&[])?;
        Ok(JsonPath { steps })
    }

    /// Every value the path selects in `root`, in document order.
    pub fn find<'a>(&self, root: &'a Value) -> Vec<&'a Value> {
        walk(&self.steps, vec![root])
    }
}

fn walk<'a>(steps: &[Step], mut current: Vec<&'a Value>) -> Vec<&'a Value> {
    for step in steps {
        let mut next = Vec::new();
        for v in current {
            match step {
                Step::Field(name) => next.extend(v.get(name.as_str())),
                Step::Index(i) => {
                    if let Some(a) = v.as_array() {
                        let len = i64::try_from(a.len()).unwrap_or(i64::MAX);
                        let at = if *i < 0 { len + i } else { *i };
                        next.extend(usize::try_from(at).ok().and_then(|at| a.get(at)));
                    }
                }
                Step::All => match v {
                    Value::Array(a) => next.extend(a.iter()),
                    Value::Object(m) => next.extend(m.values()),
                    _ => {}
                },
                Step::Filter(path, test) => {
                    let items: Vec<&Value> = match v {
                        Value::Array(a) => a.iter().collect(),
                        other => vec![other],
                    };
                    next.extend(items.into_iter().filter(|item| {
                        let found = walk(path, vec![item]);
                        match test {
                            None => !found.is_empty(),
                            Some((op, lit)) => found.first().is_some_and(|f| compare(f, *op, lit)),
                        }
                    }));
                }
            }
        }
        current = next;
    }
    current
}

fn compare(v: &Value, op: Op, lit: &Literal) -> bool {
    let ord = match (v, lit) {
        (Value::String(s), Literal::Str(l)) => s.as_str().partial_cmp(l.as_str()),
        (Value::Number(n), Literal::Num(l)) => n.as_f64().and_then(|n| n.partial_cmp(l)),
        (Value::Bool(b), Literal::Bool(l)) => b.partial_cmp(l),
        _ => None,
    };
    match (ord, op) {
        (None, Op::Ne) => true,
        (None, _) => false,
        (Some(o), Op::Eq) => o.is_eq(),
        (Some(o), Op::Ne) => o.is_ne(),
        (Some(o), Op::Lt) => o.is_lt(),
        (Some(o), Op::Le) => o.is_le(),
        (Some(o), Op::Gt) => o.is_gt(),
        (Some(o), Op::Ge) => o.is_ge(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn first(path: &str, v: &Value) -> Option<Value> {
        JsonPath::parse(path).unwrap().find(v).first().map(|v| (*v).clone())
    }

    #[test]
    fn fields_indexes_wildcards_and_filters_select_as_the_api_server_does() {
        let obj = json!({
            "metadata": {"labels": {"app.kubernetes.io/name": "web"}},
            "spec": {"replicas": 3, "ports": [{"port": 80}, {"port": 443}]},
            "status": {"conditions": [
                {"type": "Progressing", "status": "True", "reason": "NewRS"},
                {"type": "Ready", "status": "False", "reason": "Waiting"}
            ], "ok": true}
        });
        assert_eq!(first(".spec.replicas", &obj), Some(json!(3)));
        assert_eq!(first("{.spec.replicas}", &obj), Some(json!(3)));
        assert_eq!(first("$.spec.replicas", &obj), Some(json!(3)));
        assert_eq!(first(".spec.ports[1].port", &obj), Some(json!(443)));
        assert_eq!(first(".spec.ports[-1].port", &obj), Some(json!(443)));
        assert_eq!(first(".spec.ports[*].port", &obj), Some(json!(80)));
        assert_eq!(JsonPath::parse(".spec.ports[*].port").unwrap().find(&obj).len(), 2);
        assert_eq!(first(".metadata.labels['app.kubernetes.io/name']", &obj), Some(json!("web")));
        assert_eq!(first(r#".status.conditions[?(@.type=="Ready")].status"#, &obj), Some(json!("False")));
        assert_eq!(first(r#".status.conditions[?(@.type == 'Ready')].reason"#, &obj), Some(json!("Waiting")));
        assert_eq!(first(r#".status.conditions[?(@.type!="Ready")].type"#, &obj), Some(json!("Progressing")));
        assert_eq!(first(".spec.ports[?(@.port>100)].port", &obj), Some(json!(443)));
        assert_eq!(first(".status.conditions[?(@.reason)].type", &obj), Some(json!("Progressing")));
        assert_eq!(first(".status.ok", &obj), Some(json!(true)));
        assert_eq!(first(".status.missing", &obj), None);
        assert_eq!(first(r#".status.conditions[?(@.type=="Gone")].status"#, &obj), None);
        assert_eq!(first(".spec.ports[7].port", &obj), None);
    }

    #[test]
    fn malformed_paths_say_where() {
        let e = JsonPath::parse(".spec[").unwrap_err();
        assert!(e.to_string().contains("at character"), "{e}");
        assert!(JsonPath::parse(".a[?(@.b ~ 1)]").is_err());
        assert!(JsonPath::parse("spec").is_err());
        assert!(JsonPath::parse(".a['b").is_err());
    }
}
