//! `x-kubernetes-validations`: the CEL rules of a CRD's structural schema, evaluated as
//! kube-apiserver evaluates them on every write of a custom resource.
//!
//! Each rule sees `self`, the value at its schema node (absent values are not checked), and on
//! an update `oldSelf`, the value at the same place in the stored object. A *transition rule*
//! (one that names `oldSelf`) is skipped where there is no old value: on create, and for a
//! value the update adds. Old values are found by field name in objects and by key in
//! `x-kubernetes-list-type: map` lists, as the API server correlates them; items of other
//! lists have none.
//!
//! A failed rule is reported at the node (or at `fieldPath` below it) with its `message`, else
//! the string `messageExpression` evaluates to, else `failed rule: <rule>`, as the `reason`
//! says: `Invalid value: "object": …` (the default), `Forbidden: …`, `Required value: …` or
//! `Duplicate value: "object"`. A rule that does not compile or fails to evaluate is an
//! invalid value naming the rule.
//!
//! The library is cel-rust's standard one with its strings and lists extensions. Not there:
//! Kubernetes' own functions (`quantity()`, `url()`, `ip()`, `cidr()`, `isSorted()`, …),
//! `optionalOldSelf`, type checking at CRD creation and the cost limits.

use super::structural::{Step, child, field_schema, path_string, type_of};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The environment every rule runs in.
fn env() -> &'static Arc<cel::Env> {
    static ENV: OnceLock<Arc<cel::Env>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = cel::Env::stdlib();
        // Both register disjoint functions into a fresh environment: they cannot clash.
        let _ = env.add_extension(cel::extensions::strings);
        let _ = env.add_extension(cel::extensions::lists);
        Arc::new(env)
    })
}

/// Why a rule does not compile (cel-rust's parse errors, printed).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
struct CompileError(String);

/// A compiled rule, or why it does not compile.
type Compiled = Result<Arc<cel::Program>, CompileError>;

/// A rule that failed, at its node's path (what ratcheting compares), reported at `at` when
/// the rule names a `fieldPath`.
pub(super) struct Failure {
    pub(super) path: Vec<Step>,
    pub(super) at: Option<String>,
    pub(super) detail: String,
}

/// Programs by source: a rule is compiled once, however many objects it checks.
fn compiled(source: &str) -> Compiled {
    static PROGRAMS: OnceLock<Mutex<HashMap<String, Compiled>>> = OnceLock::new();
    let mut programs = PROGRAMS.get_or_init(Default::default).lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    programs.entry(source.to_string()).or_insert_with(|| env().compile(source).map(Arc::new).map_err(|e| CompileError(e.to_string()))).clone()
}

/// Why `rule` cannot be compiled, if it cannot.
fn compile_error(rule: &str) -> Option<String> {
    compiled(rule).err().map(|e| e.0)
}

/// The rules (and message expressions) of a CRD version's schema that do not compile, as
/// (field path, source, why), the path as the API server names it
/// (`…openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule`): such a CRD is
/// refused when it is written.
pub(super) fn compile_errors(schema: &Value, at: &str, out: &mut Vec<(String, String, String)>) {
    for (i, rule) in schema.get("x-kubernetes-validations").and_then(Value::as_array).into_iter().flatten().enumerate() {
        for field in ["rule", "messageExpression"] {
            if let Some(source) = rule.get(field).and_then(Value::as_str)
                && let Some(why) = compile_error(source)
            {
                out.push((format!("{at}.x-kubernetes-validations[{i}].{field}"), source.to_string(), why));
            }
        }
    }
    for (k, s) in schema.get("properties").and_then(Value::as_object).into_iter().flatten() {
        compile_errors(s, &format!("{at}.properties[{k}]"), out);
    }
    for key in ["additionalProperties", "items"] {
        if let Some(s) = schema.get(key).filter(|s| s.is_object()) {
            compile_errors(s, &format!("{at}.{key}"), out);
        }
    }
}

/// A JSON value as CEL sees it: integers as `int` (`uint` only beyond int64), objects as maps.
fn to_cel(v: &Value) -> cel::Value {
    match v {
        Value::Null => cel::Value::Null,
        Value::Bool(b) => cel::Value::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => cel::Value::Int(i),
            (None, Some(u)) => cel::Value::UInt(u),
            _ => cel::Value::Float(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => cel::Value::String(Arc::new(s.clone())),
        Value::Array(items) => cel::Value::List(Arc::new(items.iter().map(to_cel).collect())),
        Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), to_cel(v))).collect::<HashMap<String, cel::Value>>().into(),
    }
}

/// The type name the API server reports a failed rule's value as: the schema's `type`, else
/// the value's.
fn type_name<'a>(schema: &'a Value, v: &Value) -> &'a str {
    schema.get("type").and_then(Value::as_str).unwrap_or_else(|| type_of(v))
}

/// Every rule of `schema` and below it, for `obj` (with `old`, the stored object, on update).
pub(super) fn rules(schema: &Value, obj: &Value, old: Option<&Value>) -> Vec<Failure> {
    let mut out = Vec::new();
    walk(schema, obj, old, &[], true, &mut out);
    out
}

fn walk(schema: &Value, v: &Value, old: Option<&Value>, path: &[Step], root: bool, out: &mut Vec<Failure>) {
    for rule in schema.get("x-kubernetes-validations").and_then(Value::as_array).into_iter().flatten() {
        evaluate(schema, rule, v, old, path, out);
    }
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if root && k == "metadata" {
                    continue;
                }
                if let Some(s) = field_schema(schema, k) {
                    walk(s, x, old.and_then(|o| o.get(k)), &child(path, Step::Key(k.clone())), false, out);
                }
            }
        }
        Value::Array(items) => {
            let Some(s) = schema.get("items").filter(|s| s.is_object()) else { return };
            let keys: Vec<&str> = schema.get("x-kubernetes-list-map-keys").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
            let map_list = schema.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("map") && !keys.is_empty();
            let old_items = old.and_then(Value::as_array).filter(|_| map_list);
            for (i, x) in items.iter().enumerate() {
                let old_x = old_items.and_then(|olds| olds.iter().find(|o| keys.iter().all(|k| o.get(*k) == x.get(*k))));
                walk(s, x, old_x, &child(path, Step::Index(i)), false, out);
            }
        }
        _ => {}
    }
}

fn evaluate(schema: &Value, rule: &Value, v: &Value, old: Option<&Value>, path: &[Step], out: &mut Vec<Failure>) {
    let Some(source) = rule.get("rule").and_then(Value::as_str) else { return };
    let type_name = type_name(schema, v);
    let mut fail = |at: Option<String>, detail: String| out.push(Failure { path: path.to_vec(), at, detail });
    let program = match compiled(source) {
        Ok(p) => p,
        Err(e) => return fail(None, format!("Invalid value: {type_name:?}: compilation failed: {e} in rule: {source}")),
    };
    let transition = program.references().has_variable("oldSelf");
    if transition && old.is_none() {
        return;
    }
    let mut ctx = cel::Context::with_env(env().clone());
    ctx.add_variable_from_value("self", to_cel(v));
    if let Some(old) = old.filter(|_| transition) {
        ctx.add_variable_from_value("oldSelf", to_cel(old));
    }
    match program.execute(&ctx) {
        Ok(cel::Value::Bool(true)) => {}
        Ok(cel::Value::Bool(false)) => {
            let message = rule.get("message").and_then(Value::as_str).filter(|m| !m.is_empty()).map(str::to_string).or_else(|| {
                let expr = rule.get("messageExpression").and_then(Value::as_str)?;
                match compiled(expr).ok()?.execute(&ctx) {
                    Ok(cel::Value::String(s)) if !s.trim().is_empty() => Some(s.to_string()),
                    _ => None,
                }
            });
            let message = message.unwrap_or_else(|| format!("failed rule: {source}"));
            let at = rule.get("fieldPath").and_then(Value::as_str).filter(|f| !f.is_empty()).map(|f| {
                let base = path_string(path);
                if base.is_empty() { f.trim_start_matches('.').to_string() } else { format!("{base}{f}") }
            });
            let detail = match rule.get("reason").and_then(Value::as_str) {
                Some("FieldValueForbidden") => format!("Forbidden: {message}"),
                Some("FieldValueRequired") => format!("Required value: {message}"),
                Some("FieldValueDuplicate") => format!("Duplicate value: {type_name:?}"),
                _ => format!("Invalid value: {type_name:?}: {message}"),
            };
            fail(at, detail);
        }
        Ok(other) => fail(None, format!("Invalid value: {type_name:?}: rule did not evaluate to a bool but to {:?} in rule: {source}", other.type_of())),
        Err(e) => fail(None, format!("Invalid value: {type_name:?}: {e} evaluating rule: {source}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "properties": {"spec": {
            "type": "object",
            "x-kubernetes-validations": [
                {"rule": "self.minReplicas <= self.maxReplicas", "message": "minReplicas must not exceed maxReplicas"},
                {"rule": "!has(self.image) || self.image.startsWith('registry.example/')", "messageExpression": "'image ' + self.image + ' is not from registry.example'", "fieldPath": ".image"},
            ],
            "properties": {
                "minReplicas": {"type": "integer"},
                "maxReplicas": {"type": "integer"},
                "image": {"type": "string"},
                "mode": {"type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "mode is immutable", "reason": "FieldValueForbidden"}]},
                "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-validations": [{"rule": "self.all(t, t.lowerAscii() == t)"}]},
                "ports": {
                    "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                    "items": {"type": "object", "properties": {"name": {"type": "string"}, "port": {"type": "integer"}},
                              "x-kubernetes-validations": [{"rule": "self.port >= oldSelf.port", "message": "a port may only grow"}]}
                }
            }
        }}})
    }

    fn errors(obj: &Value, old: Option<&Value>) -> Vec<String> {
        rules(&schema(), obj, old).into_iter().map(|v| format!("{}: {}", v.at.unwrap_or_else(|| path_string(&v.path)), v.detail)).collect()
    }

    fn cr(spec: Value) -> Value {
        json!({"apiVersion": "x.dev/v1", "kind": "W", "metadata": {"name": "w"}, "spec": spec})
    }

    #[test]
    fn a_failed_rule_says_its_message_or_itself() {
        assert!(errors(&cr(json!({"minReplicas": 1, "maxReplicas": 3})), None).is_empty());
        assert_eq!(
            errors(&cr(json!({"minReplicas": 5, "maxReplicas": 3})), None),
            [r#"spec: Invalid value: "object": minReplicas must not exceed maxReplicas"#]
        );
        assert_eq!(
            errors(&cr(json!({"minReplicas": 1, "maxReplicas": 3, "tags": ["a", "B"]})), None),
            [r#"spec.tags: Invalid value: "array": failed rule: self.all(t, t.lowerAscii() == t)"#]
        );
    }

    #[test]
    fn message_expressions_and_field_paths() {
        assert_eq!(
            errors(&cr(json!({"minReplicas": 1, "maxReplicas": 3, "image": "docker.io/nginx"})), None),
            [r#"spec.image: Invalid value: "object": image docker.io/nginx is not from registry.example"#]
        );
    }

    #[test]
    fn an_evaluation_error_names_the_rule() {
        assert_eq!(
            errors(&cr(json!({"maxReplicas": 3})), None),
            [r#"spec: Invalid value: "object": No such key: minReplicas evaluating rule: self.minReplicas <= self.maxReplicas"#]
        );
    }

    #[test]
    fn transition_rules_need_an_old_value() {
        let new = cr(json!({"minReplicas": 1, "maxReplicas": 3, "mode": "b", "ports": [{"name": "http", "port": 80}, {"name": "new", "port": 1}]}));
        assert!(errors(&new, None).is_empty(), "on create, rules naming oldSelf are skipped");
        let old = cr(json!({"minReplicas": 1, "maxReplicas": 3, "mode": "a", "ports": [{"name": "http", "port": 8080}]}));
        assert_eq!(
            errors(&new, Some(&old)),
            [r#"spec.mode: Forbidden: mode is immutable"#, r#"spec.ports[0]: Invalid value: "object": a port may only grow"#],
            "list items are matched by their map keys; the new item has no old value"
        );
    }

    #[test]
    fn a_rule_that_does_not_compile_is_reported() {
        assert!(compile_error("self.a >").is_some());
        assert!(compile_error("self.a > 1").is_none());
        let s = json!({"properties": {"spec": {"x-kubernetes-validations": [{"rule": "self.a > 1"}, {"rule": "self.a >"}],
                       "properties": {"xs": {"items": {"x-kubernetes-validations": [{"rule": "true", "messageExpression": "'a' +"}]}}}}}});
        let mut out = Vec::new();
        compile_errors(&s, "v", &mut out);
        let fields: Vec<&str> = out.iter().map(|(f, _, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            ["v.properties[spec].x-kubernetes-validations[1].rule", "v.properties[spec].properties[xs].items.x-kubernetes-validations[0].messageExpression"]
        );
    }
}
