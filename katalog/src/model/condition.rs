//! Conditions (`when` / `or`), validation rules and mutation rules (reference §5–§6).

// Field names are the document's keys (camelCase in YAML), documented in docs/ and by the
// decoder's errors; a field has a doc comment only where its name does not say it all.
#![allow(missing_docs)]

use crate::decode::{Cx, Decode, Str};
use crate::string_enum;
use crate::yaml::{Node, Value};
use katalog_derive::Decode;

string_enum! {
    /// An explicit comparison operator (`operator:`). Shorthand keys map onto these.
    pub enum Operator {
        Equals = ["equals"], NotEquals = ["notEquals"], Contains = ["contains"],
        NotContains = ["notContains"], Prefix = ["prefix"], NotPrefix = ["notPrefix"],
        Suffix = ["suffix"], NotSuffix = ["notSuffix"], Exists = ["exists"], NotExists = ["notExists"],
        Gt = ["gt", "greaterThan"], Lt = ["lt", "lessThan"], Gte = ["gte", "greaterThanOrEqual"],
        Lte = ["lte", "lessThanOrEqual"], Between = ["between"], NotBetween = ["notBetween"],
        In = ["in"], NotIn = ["notIn"], Regex = ["regex"], Unique = ["unique"], TypeOf = ["typeOf"],
        TypeMap = ["typeMap"], TypeList = ["typeList"], TypeString = ["typeString"],
        TypeNumber = ["typeNumber"], TypeBool = ["typeBool"], TypeNull = ["typeNull"],
    }
}

string_enum! {
    /// How a rule's field value is coerced before comparing.
    pub enum ValueType {
        String = ["string"], Int = ["int", "integer"], Float = ["float", "number"], Bool = ["bool", "boolean"],
    }
}

string_enum! {
    /// What a failing validation rule does.
    pub enum RuleAction { Deny = ["deny"], Warn = ["warn"] }
}

/// A list value written either as a YAML list or as one comma-separated string (`"a,b"`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StrList {
    /// The items, trimmed; an empty item matches an empty field.
    pub items: Vec<Str>,
    /// True when written as a comma-separated string.
    pub comma: bool,
}

impl Decode for StrList {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        match &node.value {
            Value::Scalar(s, _) => Some(StrList { items: s.split(',').map(|p| Str::new(p.trim().to_string(), node.span)).collect(), comma: true }),
            Value::Seq(_) => Some(StrList { items: Vec::<Str>::decode(node, cx)?, comma: false }),
            _ => {
                cx.type_error(node, "a list or a comma-separated string");
                None
            }
        }
    }
}

/// The comparison part shared by conditions and validation rules: `operator` + `value`, or
/// exactly one shorthand key.
#[derive(Debug, Clone, Default, Decode)]
pub struct Comparison {
    /// Explicit operator.
    pub operator: Option<crate::decode::Spanned<Operator>>,
    /// Value for the explicit operator.
    pub value: Option<Str>,
    /// Shorthand: string equality.
    pub equals: Option<Str>,
    /// Shorthand: string inequality.
    pub not_equals: Option<Str>,
    /// Shorthand: substring.
    pub contains: Option<Str>,
    /// Shorthand: no substring.
    pub not_contains: Option<Str>,
    /// Shorthand: string prefix.
    pub prefix: Option<Str>,
    /// Shorthand: no string prefix.
    pub not_prefix: Option<Str>,
    /// Shorthand: string suffix.
    pub suffix: Option<Str>,
    /// Shorthand: no string suffix.
    pub not_suffix: Option<Str>,
    /// Shorthand: `exists: true`.
    pub exists: Option<bool>,
    /// Shorthand: `notExists: true`.
    pub not_exists: Option<bool>,
    /// Shorthand: numeric >.
    pub greater_than: Option<Str>,
    /// Shorthand: numeric <.
    pub less_than: Option<Str>,
    /// Shorthand: numeric >=.
    pub greater_than_or_equal: Option<Str>,
    /// Shorthand: numeric <=.
    pub less_than_or_equal: Option<Str>,
    /// Shorthand: numeric >= (alias of greaterThanOrEqual).
    pub min: Option<Str>,
    /// Shorthand: numeric <= (alias of lessThanOrEqual).
    pub max: Option<Str>,
    /// Shorthand: `"lo,hi"` inclusive.
    pub between: Option<Str>,
    /// Shorthand: numeric, outside `"lo,hi"`.
    pub not_between: Option<Str>,
    /// Shorthand: one of a list.
    #[decode(rename = "in")]
    pub in_: Option<StrList>,
    /// Shorthand: none of a list.
    pub not_in: Option<StrList>,
    /// Shorthand: RE2 regular expression.
    pub regex: Option<Str>,
    /// Invert the result.
    pub negate: Option<bool>,
}

impl Comparison {
    /// The operators this comparison declares (explicit and shorthand). Exactly one is valid.
    pub fn declared(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut add = |present: bool, name: &'static str| {
            if present {
                out.push(name);
            }
        };
        add(self.operator.is_some(), "operator");
        add(self.equals.is_some(), "equals");
        add(self.not_equals.is_some(), "notEquals");
        add(self.contains.is_some(), "contains");
        add(self.not_contains.is_some(), "notContains");
        add(self.prefix.is_some(), "prefix");
        add(self.not_prefix.is_some(), "notPrefix");
        add(self.suffix.is_some(), "suffix");
        add(self.not_suffix.is_some(), "notSuffix");
        add(self.exists.is_some(), "exists");
        add(self.not_exists.is_some(), "notExists");
        add(self.greater_than.is_some(), "greaterThan");
        add(self.less_than.is_some(), "lessThan");
        add(self.greater_than_or_equal.is_some(), "greaterThanOrEqual");
        add(self.less_than_or_equal.is_some(), "lessThanOrEqual");
        add(self.min.is_some(), "min");
        add(self.max.is_some(), "max");
        add(self.between.is_some(), "between");
        add(self.not_between.is_some(), "notBetween");
        add(self.in_.is_some(), "in");
        add(self.not_in.is_some(), "notIn");
        add(self.regex.is_some(), "regex");
        out
    }
}

/// One condition of a `when:` (all must pass) or `or:` (one must pass) list.
#[derive(Debug, Clone, Default, Decode)]
pub struct Condition {
    /// A dot path (`spec.replicas`) or a template whose rendered text is compared.
    #[decode(required)]
    pub field: Option<Str>,
    #[decode(flatten)]
    pub cmp: Comparison,
    /// Time-of-day window.
    #[decode(unsupported = "time-window conditions are not evaluated by ork; remove it or gate on a field")]
    pub time: Option<Node>,
    /// Day-of-week window.
    #[decode(unsupported = "time-window conditions are not evaluated by ork; remove it or gate on a field")]
    pub day_of_week: Option<Node>,
    /// Cron window.
    #[decode(unsupported = "time-window conditions are not evaluated by ork; remove it or gate on a field")]
    pub cron: Option<Node>,
    /// Duration of a cron window.
    #[decode(unsupported = "time-window conditions are not evaluated by ork; remove it or gate on a field")]
    pub duration: Option<Node>,
    /// Notification while true.
    #[decode(unsupported = "notifications are not sent by ork")]
    pub notify: Option<Node>,
    /// HTTP fallback for cross metrics.
    #[decode(unsupported = "cross-binary metric sources are not read by ork")]
    pub source: Option<Node>,
    /// Position of the condition.
    #[decode(span)]
    pub span: crate::diag::Span,
}

/// When a rule fires.
#[derive(Debug, Clone, Default, Decode)]
pub struct Fires {
    /// Also at reconcile (default true); false = admission only.
    pub reconcile: Option<bool>,
}

/// A validation rule (admission and reconcile).
#[derive(Debug, Clone, Default, Decode)]
pub struct ValidationRule {
    /// Dot path or template.
    #[decode(required)]
    pub field: Option<Str>,
    #[decode(flatten)]
    pub cmp: Comparison,
    /// Shown when the rule is violated.
    #[decode(required)]
    pub message: Option<Str>,
    /// deny (default) or warn.
    pub action: Option<crate::decode::Spanned<RuleAction>>,
    /// Gate: the rule applies only when all pass.
    pub when: Vec<Condition>,
    /// Gate: the rule applies only when one passes.
    pub or: Vec<Condition>,
    /// Coercion before comparing.
    pub value_type: Option<ValueType>,
    /// Where the rule fires.
    pub fires: Option<Fires>,
    /// UI field key.
    pub link: Option<Str>,
    #[decode(span)]
    pub span: crate::diag::Span,
}

/// A mutation rule: exactly one of `default` / `override`.
#[derive(Debug, Clone, Default, Decode)]
pub struct MutationRule {
    /// Dot path or template of the field to set.
    #[decode(required)]
    pub field: Option<Str>,
    /// Set only when absent or empty.
    pub default: Option<Node>,
    /// Always set.
    #[decode(rename = "override")]
    pub override_: Option<Node>,
    /// Coercion of the value.
    pub value_type: Option<ValueType>,
    /// Gate: all must pass.
    pub when: Vec<Condition>,
    /// Gate: one must pass.
    pub or: Vec<Condition>,
    #[decode(span)]
    pub span: crate::diag::Span,
}

impl crate::decode::Walk for StrList {
    fn walk(&self, f: &mut dyn FnMut(&str, crate::diag::Span)) {
        crate::decode::Walk::walk(&self.items, f);
    }
}
