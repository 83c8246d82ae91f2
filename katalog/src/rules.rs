//! Conditions (`when` / `or`), validation rules and mutation rules (reference §5–§6), evaluated
//! against a CR (or any template data) as JSON.
//!
//! One vocabulary serves gates, admission and reconcile. Fields are dot paths into the data
//! (`spec.replicas`) or templates (`"{{ replicasReady .children.deployment }}"`); comparison
//! values may be templates too. Numeric operators are false on non-numbers, an invalid `regex`
//! is false, and `in` lists match an empty item against an empty field.

use crate::decode::Str;
use crate::model::condition::{Comparison, Condition, MutationRule, Operator, RuleAction, StrList, ValidationRule, ValueType};
use crate::template::funcs::{lookup_path, parse_bool};
use crate::template::value::{to_text, type_name};
use crate::template::{Env, EvalError, ParseError, Rng, TemplateSet};
use serde_json::{Map, Value};

/// Why a condition, validation rule or mutation rule could not be evaluated. A rule that
/// evaluates to false is not an error: validation reports it as a [`Violation`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuleError {
    /// A template in the rule does not parse (the Katalog's validation reports these first).
    #[error("template error: {}", .0.message)]
    Template(#[source] ParseError),
    /// A template in the rule failed while rendering.
    #[error(transparent)]
    Render(#[from] EvalError),
    /// A condition with neither an `operator` nor a comparison key such as `equals`.
    #[error("condition on `{field}` has no operator")]
    NoOperator {
        /// The condition's field, as written.
        field: String,
    },
    /// The value (or a mutation's new value) does not convert to the rule's `valueType`.
    #[error("`{field}`: {source}")]
    ValueType {
        /// The rule's field.
        field: String,
        /// What did not convert.
        #[source]
        source: CoerceError,
    },
    /// A mutation rule with both or neither of `default` and `override`.
    #[error("a mutation rule needs exactly one of `default` or `override`")]
    MutationAction,
    /// A mutation's target path cannot be set or patched.
    #[error(transparent)]
    Patch(#[from] PatchError),
    /// Where in a list of conditions or rules the error is: `when[0]`, `validation.rules[2]`, ...
    #[error("{at}: {source}")]
    At {
        /// The position, e.g. `mutation.rules[1]`.
        at: String,
        /// The error there.
        #[source]
        source: Box<RuleError>,
    },
}

impl RuleError {
    /// Wraps an error with its position (`when[0]`), for `map_err`.
    fn at(at: String) -> impl FnOnce(RuleError) -> RuleError {
        move |e| RuleError::At { at, source: Box::new(e) }
    }
}

/// A value that does not convert to a declared `valueType`. The message quotes the value: rule
/// reports pass through [`crate::sensitive`] scrubbing like every other report text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoerceError {
    /// Not an integer (`valueType: int`).
    #[error("{text:?} is not an integer")]
    NotInteger {
        /// The value as text.
        text: String,
    },
    /// Not a finite number (`valueType: float`).
    #[error("{text:?} is not a number")]
    NotNumber {
        /// The value as text.
        text: String,
    },
    /// Not a boolean word (`valueType: bool`).
    #[error("{text:?} is not a boolean")]
    NotBoolean {
        /// The value as text.
        text: String,
    },
}

/// A dot path that mutation rules cannot set, or a patch that does not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The rule's field renders to an empty path.
    #[error("empty field path")]
    EmptyPath,
    /// A step of the path exists and is not an object (`spec.port` is a string).
    #[error("cannot set `{field}`: `{part}` is a {type_name}, not an object")]
    NotAnObject {
        /// The whole path.
        field: String,
        /// The step that is not an object.
        part: String,
        /// Its type.
        type_name: &'static str,
    },
    /// The path starts below a value that is not an object.
    #[error("cannot set `{field}`: its parent is a {type_name}")]
    ParentNotObject {
        /// The whole path.
        field: String,
        /// The parent's type.
        type_name: &'static str,
    },
    /// The path could not be resolved (not reached for non-empty paths; kept for completeness).
    #[error("cannot set `{field}`")]
    Unsettable {
        /// The whole path.
        field: String,
    },
    /// A patch operation below a member that does not exist.
    #[error("patch path {path} does not exist")]
    MissingParent {
        /// The operation's JSON pointer.
        path: String,
    },
    /// A patch operation below a value that is not an object.
    #[error("patch path {path} is not inside an object")]
    NotInsideObject {
        /// The operation's JSON pointer.
        path: String,
    },
}

/// Renders templates and evaluates rules for one Katalog.
pub struct Evaluator<'a> {
    templates: &'a TemplateSet,
    env: Env<'a>,
}

/// Where rules are being evaluated: some rules fire only at admission (`fires.reconcile: false`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// In the admission webhook.
    Admission,
    /// In the reconciler.
    Reconcile,
}

/// A validation rule that did not hold.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Violation {
    /// The rule's field (as written).
    pub field: String,
    /// The rule's message.
    pub message: String,
    /// `deny` or `warn`.
    pub action: &'static str,
    /// The value found (rendered as text; "" when missing), or
    /// [`crate::sensitive::REDACTED_VALUE`] when the field is sensitive.
    pub value: String,
    /// The field is sensitive ([`crate::sensitive`]): its value is never reported.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
    /// UI link key, when the rule declares one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

impl Violation {
    /// Whether this violation blocks (deny).
    pub fn is_deny(&self) -> bool {
        self.action == "deny"
    }

    /// How a report shows the value found: `(got "80")`, or
    /// `(value redacted: sensitive field)` for a sensitive field.
    pub fn got(&self) -> String {
        if self.sensitive { crate::sensitive::REDACTED_VALUE.to_string() } else { format!("(got {:?})", self.value) }
    }

    /// Forgets the value when `sensitivity` (the CRD's, schema included) says the field is
    /// sensitive. Rules already apply the name rule; this adds the schema.
    pub fn redact(&mut self, sensitivity: &crate::sensitive::Sensitivity) {
        if !self.sensitive && sensitivity.field(&self.field) {
            self.sensitive = true;
            self.value = crate::sensitive::REDACTED_VALUE.to_string();
        }
    }
}

/// One RFC 6902 operation produced by mutation rules (`add` both creates and replaces).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PatchOp {
    /// Always `add`.
    pub op: &'static str,
    /// JSON pointer.
    pub path: String,
    /// New value.
    pub value: Value,
}

impl<'a> Evaluator<'a> {
    /// An evaluator over `templates` with the given clock (Unix seconds) and randomness.
    pub fn new(templates: &'a TemplateSet, now: i64, rng: Rng) -> Self {
        Evaluator { templates, env: Env::new(now, rng).with_notes(templates.notes()) }
    }

    /// Gives the declared sentinels these values (zero-argument functions in preReconcile gates).
    pub fn with_sentinels(mut self, sentinels: std::collections::BTreeMap<String, bool>) -> Self {
        self.env.sentinels = sentinels;
        self
    }

    /// Whether sentinel `name` is set for the change being evaluated.
    pub fn sentinel(&self, name: &str) -> bool {
        self.env.sentinels.get(name).copied().unwrap_or(false)
    }

    /// The clock this evaluator uses.
    pub fn now(&self) -> i64 {
        self.env.now
    }

    /// Renders a template (or returns a literal) against `data`.
    pub fn text(&mut self, src: &str, data: &Value) -> Result<String, RuleError> {
        if !crate::template::is_template(src) {
            return Ok(src.to_string());
        }
        let t = self.templates.get(src).map_err(RuleError::Template)?;
        Ok(t.render(data, &mut self.env)?)
    }

    /// The value a condition's `field` names: a template's text, or the value at a dot path.
    pub fn field(&mut self, field: &str, data: &Value) -> Result<Value, RuleError> {
        if crate::template::is_template(field) {
            return self.text(field, data).map(Value::String);
        }
        Ok(lookup_path(data, field).cloned().unwrap_or(Value::Null))
    }

    /// `when` (all) and `or` (any): both must pass when both are given; empty passes.
    pub fn gate(&mut self, when: &[Condition], or: &[Condition], data: &Value) -> Result<bool, RuleError> {
        for (i, c) in when.iter().enumerate() {
            if !self.condition(c, data, &[]).map_err(RuleError::at(format!("when[{i}]")))? {
                return Ok(false);
            }
        }
        if or.is_empty() {
            return Ok(true);
        }
        for (i, c) in or.iter().enumerate() {
            if self.condition(c, data, &[]).map_err(RuleError::at(format!("or[{i}]")))? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// One condition. `others` are the other CRs of the same CRD (for `unique`).
    pub fn condition(&mut self, c: &Condition, data: &Value, others: &[Value]) -> Result<bool, RuleError> {
        let field = c.field.as_ref().map(|f| f.value.as_str()).unwrap_or_default();
        let value = self.field(field, data)?;
        self.compare(field, &value, &c.cmp, data, others, None)
    }

    /// Evaluates `cmp` on `value`. `value_type` converts the value first (validation rules).
    fn compare(
        &mut self,
        field: &str,
        value: &Value,
        cmp: &Comparison,
        data: &Value,
        others: &[Value],
        value_type: Option<ValueType>,
    ) -> Result<bool, RuleError> {
        let (op, operand) = operation(cmp).ok_or_else(|| RuleError::NoOperator { field: field.to_string() })?;
        let raw = match value_type {
            Some(t) if !value.is_null() && value != &Value::String(String::new()) => {
                coerce(value, t).map_err(|source| RuleError::ValueType { field: field.to_string(), source })?
            }
            _ => value.clone(),
        };
        let text = to_text(&raw);
        let operand = match operand {
            Operand::None => Operand::None,
            Operand::One(s) => Operand::Text(self.text(&s.value, data)?),
            Operand::List(l) => {
                let mut items = Vec::with_capacity(l.items.len());
                for item in &l.items {
                    items.push(self.text(&item.value, data)?);
                }
                Operand::Items(items)
            }
            other => other,
        };
        let arg = match &operand {
            Operand::Text(t) => t.as_str(),
            _ => "",
        };
        let items = match &operand {
            Operand::Items(items) => items.clone(),
            _ if matches!(op, Operator::In | Operator::NotIn) => arg.split(',').map(|p| p.trim().to_string()).collect(),
            _ => Vec::new(),
        };
        if let Some(result) = compare_text(op, &text, arg, &items) {
            return Ok(result != cmp.negate.unwrap_or(false));
        }
        let result = match op {
            Operator::Exists => exists(&raw),
            Operator::NotExists => !exists(&raw),
            Operator::Unique => {
                text.is_empty()
                    || !others.iter().any(|o| {
                        let theirs = if crate::template::is_template(field) {
                            self.text(field, o).unwrap_or_default()
                        } else {
                            lookup_path(o, field).map(to_text).unwrap_or_default()
                        };
                        theirs == text
                    })
            }
            Operator::TypeOf => type_matches(&raw, arg),
            Operator::TypeMap => raw.is_object(),
            Operator::TypeList => raw.is_array(),
            Operator::TypeString => raw.is_string(),
            Operator::TypeNumber => raw.is_number(),
            Operator::TypeBool => raw.is_boolean(),
            Operator::TypeNull => raw.is_null(),
            _ => false, // answered by compare_text above
        };
        Ok(result != cmp.negate.unwrap_or(false))
    }

    /// Runs validation rules; every violation is reported (not just the first). Rules whose
    /// gate is false do not apply; rules with `fires.reconcile: false` are skipped at reconcile.
    /// `others` are the other CRs of the CRD (for `unique`).
    pub fn validate(&mut self, rules: &[ValidationRule], data: &Value, others: &[Value], phase: Phase) -> Result<Vec<Violation>, RuleError> {
        let mut out = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            let at = |e: RuleError| RuleError::At { at: format!("validation.rules[{i}]"), source: Box::new(e) };
            if phase == Phase::Reconcile && rule.fires.as_ref().and_then(|f| f.reconcile) == Some(false) {
                continue;
            }
            if !self.gate(&rule.when, &rule.or, data).map_err(at)? {
                continue;
            }
            let field = rule.field.as_ref().map(|f| f.value.as_str()).unwrap_or_default();
            let value = self.field(field, data).map_err(at)?;
            let ok = match self.compare(field, &value, &rule.cmp, data, others, rule.value_type) {
                Ok(ok) => ok,
                // The value cannot be converted to the rule's valueType: that is the violation.
                Err(RuleError::ValueType { .. }) if rule.value_type.is_some() => false,
                Err(e) => return Err(at(e)),
            };
            if !ok {
                let message = match &rule.message {
                    Some(m) => self.text(&m.value, data).map_err(at)?,
                    None => format!("{field} is not valid"),
                };
                let action = match rule.action.as_ref().map(|a| a.value) {
                    Some(RuleAction::Warn) => "warn",
                    _ => "deny",
                };
                let mut v = Violation {
                    field: field.to_string(),
                    message,
                    action,
                    value: to_text(&value),
                    sensitive: false,
                    link: rule.link.as_ref().map(|l| l.value.clone()),
                };
                v.redact(&crate::sensitive::Sensitivity::NAMES_ONLY);
                out.push(v);
            }
        }
        Ok(out)
    }

    /// Runs mutation rules in order and returns the JSON patch that applies them. Each rule sees
    /// the result of the rules before it. `default` sets a field only when it is absent or
    /// empty; `override` always sets it (no operation when it already has that value).
    pub fn mutate(&mut self, rules: &[MutationRule], data: &Value) -> Result<Vec<PatchOp>, RuleError> {
        let mut current = data.clone();
        let mut ops = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            let at = |e: RuleError| RuleError::At { at: format!("mutation.rules[{i}]"), source: Box::new(e) };
            if !self.gate(&rule.when, &rule.or, &current).map_err(at)? {
                continue;
            }
            let field = match &rule.field {
                Some(f) => self.text(&f.value, &current).map_err(at)?,
                None => continue,
            };
            let (node, is_default) = match (&rule.default, &rule.override_) {
                (Some(d), None) => (d, true),
                (None, Some(o)) => (o, false),
                _ => return Err(at(RuleError::MutationAction)),
            };
            let existing = lookup_path(&current, &field).cloned().unwrap_or(Value::Null);
            if is_default && crate::template::value::truthy(&existing) {
                continue;
            }
            if is_default && matches!(existing, Value::Bool(false) | Value::Number(_)) {
                // `false` and `0` are set values, not "empty", for defaulting.
                continue;
            }
            let mut value = node.to_json();
            if let Value::String(s) = &value {
                let rendered = self.text(s, &current).map_err(at)?;
                value = Value::String(rendered);
            }
            if let Some(t) = rule.value_type {
                value = coerce(&value, t).map_err(|source| at(RuleError::ValueType { field: field.clone(), source }))?;
            }
            if existing == value {
                continue;
            }
            let op = patch_for(&current, &field, value).map_err(|e| at(e.into()))?;
            apply_patch(&mut current, std::slice::from_ref(&op)).map_err(|e| at(e.into()))?;
            ops.push(op);
        }
        Ok(ops)
    }
}

/// The only values `field` (a dotted path like `spec.role`) can have when a CR is reconciled,
/// if the validation rules pin it: an unconditional deny rule that also fires at reconcile with
/// operator `in` and literal items. Several such rules intersect. `None` when nothing pins it.
pub fn allowed_values(rules: &[ValidationRule], field: &str) -> Option<Vec<String>> {
    let norm = |f: &str| {
        let f = f.trim();
        let inner = f.strip_prefix("{{").and_then(|x| x.strip_suffix("}}")).map(str::trim).unwrap_or(f);
        inner.trim_start_matches('.').to_string()
    };
    let want = norm(field);
    let mut out: Option<Vec<String>> = None;
    for r in rules {
        let deny = r.action.as_ref().is_none_or(|a| a.value == RuleAction::Deny);
        let unconditional = r.when.is_empty() && r.or.is_empty() && r.cmp.negate != Some(true);
        let at_reconcile = r.fires.as_ref().and_then(|f| f.reconcile) != Some(false);
        if !(deny && unconditional && at_reconcile) || r.field.as_ref().is_none_or(|f| norm(f) != want) {
            continue;
        }
        let items: Vec<String> = match operation(&r.cmp) {
            Some((Operator::In, Operand::List(l))) => l.items.iter().map(|i| i.value.clone()).collect(),
            Some((Operator::In, Operand::One(v))) => v.split(',').map(|p| p.trim().to_string()).collect(),
            _ => continue,
        };
        if items.iter().any(|i| i.contains("{{") || i.is_empty()) {
            continue;
        }
        out = Some(match out {
            None => items,
            Some(prev) => prev.into_iter().filter(|p| items.contains(p)).collect(),
        });
    }
    out.map(|mut v| {
        v.sort();
        v.dedup();
        v
    })
}

/// `op` applied to the text `text` with the operand `arg` (`items` for `in` / `notIn`): the
/// comparison semantics of `when:` conditions, shared with the output assertions of `ork e2e`
/// (cli-and-workflows.md §6.2). `None` for the operators that need the structured value rather
/// than its text (`exists`, `unique`, the type checks).
pub fn compare_text(op: Operator, text: &str, arg: &str, items: &[String]) -> Option<bool> {
    Some(match op {
        Operator::Equals => text == arg,
        Operator::NotEquals => text != arg,
        Operator::Contains => text.contains(arg),
        Operator::NotContains => !text.contains(arg),
        Operator::Prefix => text.starts_with(arg),
        Operator::NotPrefix => !text.starts_with(arg),
        Operator::Suffix => text.ends_with(arg),
        Operator::NotSuffix => !text.ends_with(arg),
        Operator::Gt => numeric(text, arg, |a, b| a > b),
        Operator::Lt => numeric(text, arg, |a, b| a < b),
        Operator::Gte => numeric(text, arg, |a, b| a >= b),
        Operator::Lte => numeric(text, arg, |a, b| a <= b),
        Operator::Between => between(text, arg).unwrap_or(false),
        Operator::NotBetween => between(text, arg).map(|b| !b).unwrap_or(false),
        Operator::In => items.iter().any(|i| i == text),
        Operator::NotIn => !items.iter().any(|i| i == text),
        Operator::Regex => regex_lite::Regex::new(arg).map(|re| re.is_match(text)).unwrap_or(false),
        _ => return None,
    })
}

enum Operand<'c> {
    None,
    One(&'c Str),
    List(&'c StrList),
    Text(String),
    Items(Vec<String>),
}

/// The operator a comparison declares, and its operand. `value` alone means `equals`.
fn operation(c: &Comparison) -> Option<(Operator, Operand<'_>)> {
    if let Some(op) = &c.operator {
        let operand = match &c.value {
            Some(v) => Operand::One(v),
            None => Operand::None,
        };
        return Some((op.value, operand));
    }
    fn one(v: &Option<Str>, op: Operator) -> Option<(Operator, Operand<'_>)> {
        v.as_ref().map(|s| (op, Operand::One(s)))
    }
    fn list(v: &Option<StrList>, op: Operator) -> Option<(Operator, Operand<'_>)> {
        v.as_ref().map(|l| (op, Operand::List(l)))
    }
    let flag = |v: Option<bool>, yes, no| v.map(|b| (if b { yes } else { no }, Operand::None));
    one(&c.equals, Operator::Equals)
        .or_else(|| one(&c.not_equals, Operator::NotEquals))
        .or_else(|| one(&c.contains, Operator::Contains))
        .or_else(|| one(&c.not_contains, Operator::NotContains))
        .or_else(|| one(&c.prefix, Operator::Prefix))
        .or_else(|| one(&c.not_prefix, Operator::NotPrefix))
        .or_else(|| one(&c.suffix, Operator::Suffix))
        .or_else(|| one(&c.not_suffix, Operator::NotSuffix))
        .or_else(|| flag(c.exists, Operator::Exists, Operator::NotExists))
        .or_else(|| flag(c.not_exists, Operator::NotExists, Operator::Exists))
        .or_else(|| one(&c.greater_than, Operator::Gt))
        .or_else(|| one(&c.less_than, Operator::Lt))
        .or_else(|| one(&c.greater_than_or_equal, Operator::Gte))
        .or_else(|| one(&c.min, Operator::Gte))
        .or_else(|| one(&c.less_than_or_equal, Operator::Lte))
        .or_else(|| one(&c.max, Operator::Lte))
        .or_else(|| one(&c.between, Operator::Between))
        .or_else(|| one(&c.not_between, Operator::NotBetween))
        .or_else(|| list(&c.in_, Operator::In))
        .or_else(|| list(&c.not_in, Operator::NotIn))
        .or_else(|| one(&c.regex, Operator::Regex))
        .or_else(|| one(&c.value, Operator::Equals))
}

/// Present and non-empty.
fn exists(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
        _ => true,
    }
}

fn number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|f| f.is_finite())
}

fn numeric(a: &str, b: &str, f: fn(f64, f64) -> bool) -> bool {
    matches!((number(a), number(b)), (Some(x), Some(y)) if f(x, y))
}

/// `"lo,hi"` inclusive; `None` when anything is non-numeric.
fn between(value: &str, range: &str) -> Option<bool> {
    let (lo, hi) = range.split_once(',')?;
    let (v, lo, hi) = (number(value)?, number(lo)?, number(hi)?);
    Some(v >= lo && v <= hi)
}

fn type_matches(v: &Value, want: &str) -> bool {
    let have = type_name(v);
    match want.trim().to_ascii_lowercase().as_str() {
        "number" => v.is_number(),
        "integer" | "int" => have == "int",
        "float" => v.is_number(),
        "array" | "list" | "slice" => have == "list",
        "object" | "map" => have == "map",
        "boolean" | "bool" => have == "bool",
        "null" | "nil" => have == "nil",
        "string" => have == "string",
        _ => false,
    }
}

/// Converts a value to a declared type (`valueType`).
pub fn coerce(v: &Value, t: ValueType) -> Result<Value, CoerceError> {
    let text = to_text(v);
    match t {
        ValueType::String => Ok(Value::String(text)),
        ValueType::Int => match v {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(v.clone()),
            _ => text.trim().parse::<i64>().map(Value::from).map_err(|_| CoerceError::NotInteger { text }),
        },
        ValueType::Float => match v {
            Value::Number(_) => Ok(v.clone()),
            _ => number(&text).and_then(serde_json::Number::from_f64).map(Value::Number).ok_or(CoerceError::NotNumber { text }),
        },
        ValueType::Bool => match v {
            Value::Bool(_) => Ok(v.clone()),
            _ => parse_bool(&text).map(Value::Bool).ok_or(CoerceError::NotBoolean { text }),
        },
    }
}

/// Escapes one JSON pointer segment.
pub fn pointer_segment(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// The `add` operation that sets dot path `field` to `value`, creating missing parent objects.
fn patch_for(current: &Value, field: &str, value: Value) -> Result<PatchOp, PatchError> {
    let parts: Vec<&str> = field.trim_start_matches('.').split('.').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return Err(PatchError::EmptyPath);
    }
    let mut cur = current;
    let mut pointer = String::new();
    for (i, part) in parts.iter().enumerate() {
        pointer.push('/');
        pointer.push_str(&pointer_segment(part));
        let last = i == parts.len() - 1;
        match cur {
            Value::Object(m) => match m.get(*part) {
                Some(next) if !last && next.is_object() => cur = next,
                Some(Value::Null) | None if !last => {
                    // Build the missing subtree in one operation.
                    let mut v = value;
                    for p in parts[i + 1..].iter().rev() {
                        let mut m = Map::new();
                        m.insert((*p).to_string(), v);
                        v = Value::Object(m);
                    }
                    return Ok(PatchOp { op: "add", path: pointer, value: v });
                }
                Some(other) if !last => {
                    return Err(PatchError::NotAnObject { field: field.to_string(), part: (*part).to_string(), type_name: type_name(other) });
                }
                _ => return Ok(PatchOp { op: "add", path: pointer, value }),
            },
            other => return Err(PatchError::ParentNotObject { field: field.to_string(), type_name: type_name(other) }),
        }
    }
    Err(PatchError::Unsettable { field: field.to_string() })
}

/// Applies `add` operations (object members only — what mutation rules produce).
pub fn apply_patch(target: &mut Value, ops: &[PatchOp]) -> Result<(), PatchError> {
    for op in ops {
        let segments: Vec<String> = op.path.split('/').skip(1).map(|s| s.replace("~1", "/").replace("~0", "~")).collect();
        let Some((last, parents)) = segments.split_last() else {
            *target = op.value.clone();
            continue;
        };
        let mut cur = &mut *target;
        for p in parents {
            cur = cur.as_object_mut().and_then(|m| m.get_mut(p)).ok_or_else(|| PatchError::MissingParent { path: op.path.clone() })?;
        }
        let map = cur.as_object_mut().ok_or_else(|| PatchError::NotInsideObject { path: op.path.clone() })?;
        map.insert(last.clone(), op.value.clone());
    }
    Ok(())
}
