//! Conditions, validation and mutation rules: one test per operator, with empty, missing and
//! non-numeric edge cases.
#![allow(clippy::unwrap_used)]

use katalog::decode::{Cx, Decode};
use katalog::diag::FileId;
use katalog::model::condition::{Condition, MutationRule, ValidationRule};
use katalog::rules::{Evaluator, Phase, apply_patch};
use katalog::template::{Rng, TemplateSet};
use katalog::yaml::{self, Limits};
use serde_json::{Value, json};
use std::path::Path;

fn decode<T: Decode>(src: &str) -> T {
    let docs = yaml::parse(src, FileId::intern(Path::new("test.yaml")), Limits::default()).unwrap();
    let mut cx = Cx::new(Limits::default());
    let v = T::decode(&docs[0].root, &mut cx);
    assert!(cx.diagnostics().is_empty(), "{:?}", cx.diagnostics());
    v.unwrap()
}

fn cr() -> Value {
    json!({
        "metadata": {"name": "db1", "namespace": "team-a", "labels": {"tier": "gold"}},
        "spec": {"tier": "medium", "replicas": 3, "size": "10Gi", "name": "orders", "empty": "",
                 "list": ["a"], "map": {"k": "v"}, "flag": true, "none": null, "version": "14.2"}
    })
}

fn check(yaml_condition: &str, data: &Value) -> bool {
    let set = TemplateSet::default();
    let mut ev = Evaluator::new(&set, 0, Rng::Seeded(0));
    let c: Condition = decode(yaml_condition);
    ev.condition(&c, data, &[]).unwrap()
}

#[track_caller]
fn holds(c: &str) {
    assert!(check(c, &cr()), "expected true: {c}");
}

#[track_caller]
fn fails(c: &str) {
    assert!(!check(c, &cr()), "expected false: {c}");
}

#[test]
fn string_operators() {
    holds("{field: spec.tier, equals: medium}");
    fails("{field: spec.tier, equals: large}");
    holds("{field: spec.tier, operator: equals, value: medium}");
    holds("{field: spec.tier, value: medium}");
    holds("{field: spec.tier, notEquals: large}");
    fails("{field: spec.tier, notEquals: medium}");
    holds("{field: spec.size, contains: Gi}");
    holds("{field: spec.size, notContains: Mi}");
    holds("{field: spec.name, prefix: ord}");
    holds("{field: spec.name, notPrefix: x}");
    holds("{field: spec.name, suffix: ers}");
    holds("{field: spec.name, notSuffix: x}");
    // A missing field is "".
    holds("{field: spec.missing, equals: ''}");
    fails("{field: spec.missing, contains: a}");
}

#[test]
fn existence() {
    holds("{field: spec.tier, exists: true}");
    fails("{field: spec.missing, exists: true}");
    fails("{field: spec.empty, exists: true}");
    fails("{field: spec.none, exists: true}");
    holds("{field: spec.missing, notExists: true}");
    holds("{field: spec.empty, operator: notExists}");
    holds("{field: spec.missing, exists: false}");
    holds("{field: spec.list, exists: true}");
    holds("{field: spec.flag, exists: true}");
}

#[test]
fn numeric_operators_are_false_on_non_numbers() {
    holds("{field: spec.replicas, greaterThan: '2'}");
    fails("{field: spec.replicas, greaterThan: '3'}");
    holds("{field: spec.replicas, operator: gt, value: 2}");
    holds("{field: spec.replicas, lessThan: '4'}");
    holds("{field: spec.replicas, greaterThanOrEqual: '3'}");
    holds("{field: spec.replicas, min: 3}");
    holds("{field: spec.replicas, lessThanOrEqual: '3'}");
    holds("{field: spec.replicas, max: 3}");
    holds("{field: spec.version, operator: gt, value: 14}");
    fails("{field: spec.tier, operator: gt, value: '1'}");
    fails("{field: spec.tier, operator: lt, value: '1'}");
    fails("{field: spec.missing, operator: gte, value: '0'}");
    fails("{field: spec.replicas, operator: gt, value: abc}");
    holds("{field: spec.replicas, between: '1,5'}");
    holds("{field: spec.replicas, between: '3,3'}");
    fails("{field: spec.replicas, between: '4,5'}");
    holds("{field: spec.replicas, notBetween: '4,5'}");
    fails("{field: spec.tier, between: '1,5'}");
    fails("{field: spec.tier, notBetween: '1,5'}");
    fails("{field: spec.replicas, between: 'x,5'}");
}

#[test]
fn membership() {
    holds("{field: spec.tier, in: 'small, medium,large'}");
    holds("{field: spec.tier, in: [small, medium]}");
    fails("{field: spec.tier, in: 'small,large'}");
    holds("{field: spec.tier, notIn: 'small,large'}");
    fails("{field: spec.tier, notIn: [medium]}");
    // An empty item matches an empty or missing field.
    holds("{field: spec.missing, in: 'Pending,'}");
    fails("{field: spec.missing, in: 'Pending'}");
}

#[test]
fn regex_and_negate() {
    holds("{field: spec.name, regex: '^[a-z]+$'}");
    fails("{field: spec.size, regex: '^[0-9]+$'}");
    // Invalid pattern: false, never an error.
    fails("{field: spec.name, regex: '(['}");
    holds("{field: spec.tier, equals: large, negate: true}");
    fails("{field: spec.tier, equals: medium, negate: true}");
}

#[test]
fn type_operators() {
    holds("{field: spec.map, operator: typeMap}");
    holds("{field: spec.list, operator: typeList}");
    holds("{field: spec.tier, operator: typeString}");
    holds("{field: spec.replicas, operator: typeNumber}");
    holds("{field: spec.flag, operator: typeBool}");
    holds("{field: spec.none, operator: typeNull}");
    holds("{field: spec.missing, operator: typeNull}");
    fails("{field: spec.tier, operator: typeNumber}");
    holds("{field: spec.replicas, operator: typeOf, value: int}");
    holds("{field: spec.replicas, operator: typeOf, value: number}");
    holds("{field: spec.map, operator: typeOf, value: object}");
    fails("{field: spec.map, operator: typeOf, value: list}");
}

#[test]
fn template_fields_and_values() {
    holds("{field: '{{ .metadata.labels.tier }}', equals: gold}");
    holds("{field: spec.tier, equals: '{{ .spec.tier }}'}");
    holds("{field: '{{ len .spec.list }}', equals: '1'}");
    fails("{field: '{{ .spec.missing }}', exists: true}");
}

#[test]
fn unique_against_other_crs() {
    let set = TemplateSet::default();
    let mut ev = Evaluator::new(&set, 0, Rng::Seeded(0));
    let c: Condition = decode("{field: spec.name, operator: unique}");
    let other_same = json!({"spec": {"name": "orders"}});
    let other_diff = json!({"spec": {"name": "billing"}});
    assert!(ev.condition(&c, &cr(), std::slice::from_ref(&other_diff)).unwrap());
    assert!(!ev.condition(&c, &cr(), &[other_diff, other_same]).unwrap());
    assert!(ev.condition(&c, &cr(), &[]).unwrap());
    // An empty value never conflicts.
    assert!(ev.condition(&decode("{field: spec.missing, operator: unique}"), &cr(), &[json!({"spec": {}})]).unwrap());
}

#[test]
fn gates_combine_when_and_or() {
    let set = TemplateSet::default();
    let mut ev = Evaluator::new(&set, 0, Rng::Seeded(0));
    let t: Vec<Condition> = decode("[{field: spec.tier, equals: medium}]");
    let f: Vec<Condition> = decode("[{field: spec.tier, equals: large}]");
    let tf: Vec<Condition> = decode("[{field: spec.tier, equals: large}, {field: spec.flag, equals: 'true'}]");
    let data = cr();
    assert!(ev.gate(&[], &[], &data).unwrap());
    assert!(ev.gate(&t, &[], &data).unwrap());
    assert!(!ev.gate(&f, &[], &data).unwrap());
    assert!(!ev.gate(&tf, &[], &data).unwrap(), "when = all");
    assert!(ev.gate(&[], &tf, &data).unwrap(), "or = any");
    assert!(!ev.gate(&[], &f, &data).unwrap());
    assert!(!ev.gate(&f, &tf, &data).unwrap(), "both declared: both must pass");
    assert!(ev.gate(&t, &tf, &data).unwrap());
}

#[test]
fn template_errors_in_conditions_are_errors() {
    let set = TemplateSet::default();
    let mut ev = Evaluator::new(&set, 0, Rng::Seeded(0));
    let c: Vec<Condition> = decode("[{field: '{{ add .spec.tier 1 }}', equals: '1'}]");
    let e = ev.gate(&c, &[], &cr()).unwrap_err().to_string();
    assert!(e.contains("when[0]") && e.contains("\"medium\" is not a number"), "{e}");
}

#[test]
fn validation_reports_every_violation() {
    let set = TemplateSet::default();
    let mut ev = Evaluator::new(&set, 0, Rng::Seeded(0));
    let rules: Vec<ValidationRule> = decode(
        r#"
- {field: spec.tier, in: "small,large", message: "tier must be small or large"}
- {field: spec.replicas, max: "2", message: "at most 2 replicas", action: warn, link: replicas}
- {field: spec.replicas, min: "1", message: "never shown"}
- {field: spec.size, equals: "1Gi", message: "gated off", when: [{field: spec.tier, equals: tiny}]}
- {field: spec.name, operator: unique, message: "name taken"}
- {field: spec.request, exists: true, message: "admission only", fires: {reconcile: false}}
- {field: spec.tier, valueType: int, min: "1", message: "tier must be a number"}
"#,
    );
    let others = [json!({"spec": {"name": "orders"}})];
    let v = ev.validate(&rules, &cr(), &others, Phase::Reconcile).unwrap();
    let got: Vec<(&str, &str, &str)> = v.iter().map(|v| (v.action, v.field.as_str(), v.message.as_str())).collect();
    assert_eq!(
        got,
        vec![
            ("deny", "spec.tier", "tier must be small or large"),
            ("warn", "spec.replicas", "at most 2 replicas"),
            ("deny", "spec.name", "name taken"),
            ("deny", "spec.tier", "tier must be a number"),
        ]
    );
    assert_eq!(v[1].link.as_deref(), Some("replicas"));
    assert_eq!(v[0].value, "medium");
    // At admission the admission-only rule fires too.
    let v = ev.validate(&rules, &cr(), &others, Phase::Admission).unwrap();
    assert!(v.iter().any(|v| v.message == "admission only"));
}

#[test]
fn mutation_produces_a_json_patch() {
    let set = TemplateSet::default();
    let mut ev = Evaluator::new(&set, 0, Rng::Seeded(0));
    let rules: Vec<MutationRule> = decode(
        r#"
- {field: spec.replicas, default: 1}
- {field: spec.port, default: 8080}
- {field: spec.empty, default: filled}
- {field: spec.registry, override: "registry.internal/{{ .metadata.namespace }}"}
- {field: spec.tier, override: medium}
- {field: spec.limits.cpu, default: "500m"}
- {field: spec.count, default: "3", valueType: int}
- {field: spec.debug, override: "true", valueType: bool, when: [{field: spec.tier, equals: medium}]}
- {field: spec.never, override: x, when: [{field: spec.tier, equals: large}]}
"#,
    );
    let data = cr();
    let ops = ev.mutate(&rules, &data).unwrap();
    let got: Vec<(String, Value)> = ops.iter().map(|o| (o.path.clone(), o.value.clone())).collect();
    assert_eq!(
        got,
        vec![
            ("/spec/port".into(), json!(8080)),
            ("/spec/empty".into(), json!("filled")),
            ("/spec/registry".into(), json!("registry.internal/team-a")),
            ("/spec/limits".into(), json!({"cpu": "500m"})),
            ("/spec/count".into(), json!(3)),
            ("/spec/debug".into(), json!(true)),
        ]
    );
    let mut patched = data.clone();
    apply_patch(&mut patched, &ops).unwrap();
    assert_eq!(patched["spec"]["limits"]["cpu"], "500m");
    assert_eq!(patched["spec"]["replicas"], 3, "default never overwrites a set value");
    // Idempotent: mutating the mutated object changes nothing.
    assert!(ev.mutate(&rules, &patched).unwrap().is_empty());
    let bad: Vec<MutationRule> = decode("[{field: spec.count, default: abc, valueType: int}]");
    assert!(ev.mutate(&bad, &data).unwrap_err().to_string().contains("\"abc\" is not an integer"));
}
