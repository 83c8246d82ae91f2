//! Shape checks of conditions and rules: one comparison per condition, an operator's value in
//! the right form, a mutation with exactly one of `default` and `override`.

use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::model::condition::{Comparison, Condition, MutationRule, Operator, ValidationRule};

/// Checks the shape of every condition in a list.
pub(crate) fn conditions(list: &[Condition], crd: &str, diags: &mut Diagnostics) {
    for c in list {
        comparison_shape(&c.cmp, c.span, crd, diags, "condition");
    }
}

/// Checks a validation rule: one comparison, and the shapes of its `when` / `or` conditions.
pub(super) fn rule_shape(r: &ValidationRule, crd: &str, diags: &mut Diagnostics) {
    comparison_shape(&r.cmp, r.span, crd, diags, "validation rule");
    conditions(&r.when, crd, diags);
    conditions(&r.or, crd, diags);
}

/// Checks a mutation rule: exactly one of `default` and `override`, and its conditions.
pub(super) fn mutation_shape(r: &MutationRule, crd: &str, diags: &mut Diagnostics) {
    match (&r.default, &r.override_) {
        (Some(_), Some(_)) => diags.push(
            Diagnostic::error("mutation-both", "a mutation rule has both `default` and `override`")
                .at(r.span)
                .crd(crd)
                .help("keep one: `default` sets a missing value, `override` always sets it"),
        ),
        (None, None) => diags.push(
            Diagnostic::error("mutation-none", "a mutation rule needs `default` or `override`")
                .at(r.span)
                .crd(crd)
                .help("add `default: <value>` or `override: <value>`"),
        ),
        _ => {}
    }
    conditions(&r.when, crd, diags);
    conditions(&r.or, crd, diags);
}

/// Checks that a comparison declares exactly one operator and that its value has the right form.
pub(crate) fn comparison_shape(c: &Comparison, span: Span, crd: &str, diags: &mut Diagnostics, what: &str) {
    let declared = c.declared();
    match declared.len() {
        0 => diags.push(
            Diagnostic::error("missing-operator", format!("{what} has no comparison"))
                .at(span)
                .crd(crd)
                .help("add one of: equals, notEquals, exists, in, regex, between, greaterThan, … or `operator` + `value`"),
        ),
        1 => {}
        _ => diags.push(
            Diagnostic::error("multiple-operators", format!("{what} declares several comparisons: {}", declared.join(", ")))
                .at(span)
                .crd(crd)
                .help("split it into one condition per comparison"),
        ),
    }
    if let Some(op) = &c.operator {
        let needs_value = !matches!(
            op.value,
            Operator::Exists
                | Operator::NotExists
                | Operator::Unique
                | Operator::TypeMap
                | Operator::TypeList
                | Operator::TypeString
                | Operator::TypeNumber
                | Operator::TypeBool
                | Operator::TypeNull
        );
        if needs_value && c.value.is_none() {
            diags.push(Diagnostic::error("missing-value", format!("operator `{}` needs a `value`", op.value)).at(op.span).crd(crd));
        }
    } else if c.value.is_some() {
        diags.push(
            Diagnostic::error("value-without-operator", "`value` is only used with `operator`")
                .at(span)
                .crd(crd)
                .help("write the comparison as a shorthand (`equals: x`) or add `operator: equals`"),
        );
    }
    for (name, v) in [("between", &c.between), ("notBetween", &c.not_between)] {
        if let Some(v) = v
            && !v.is_template()
            && v.split(',').filter(|p| p.trim().parse::<f64>().is_ok()).count() != 2
        {
            diags.push(Diagnostic::error("invalid-range", format!("`{name}` must be \"low,high\", got \"{v}\"")).at(v.span).crd(crd));
        }
    }
    for v in [&c.greater_than, &c.less_than, &c.greater_than_or_equal, &c.less_than_or_equal, &c.min, &c.max].into_iter().flatten() {
        if !v.is_template() && v.trim().parse::<f64>().is_err() {
            diags.push(
                Diagnostic::error("not-a-number", format!("numeric comparison with non-number \"{v}\""))
                    .at(v.span)
                    .crd(crd)
                    .help("numeric comparisons are always false on non-numbers"),
            );
        }
    }
}
