//! The belt to the name rule's braces: a [`Redactor`] knows the sensitive values of one CR (and
//! of the Secrets around it) and scrubs them out of any text or JSON, wherever a message, an
//! error or a status field may have picked them up; and a Secret can be shown without its data.
//!
//! Which fields are sensitive is [`crate::sensitive`]'s rule; this module holds the values. It
//! sits beside `sensitive`, not in it, because it decodes and prints values the way templates do
//! (base64, text) while the template engine itself only needs the rule.

use crate::model::katalog::Katalog;
use crate::sensitive::{Segment, Sensitivity, classify};
use crate::template::value::to_text;
use crate::template::{base64_decode, base64_encode};
use serde_json::Value;
use std::fmt;

/// What a scrubbed value becomes inside a message.
pub const SCRUBBED: &str = "[redacted]";

/// Values shorter than this are not scrubbed from text: `on`, `1`, `yes` would turn every
/// message into noise, and a reported violation on a sensitive field never shows its value,
/// however short, in the first place.
const MIN_LEN: usize = 4;

/// The sensitive values of one CR and the Secrets it reads or renders, ready to be scrubbed
/// out of text. Holds secret values, so its `Debug` shows only how many.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Redactor {
    /// Longest first, so that a value is replaced before any value it contains.
    needles: Vec<String>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor").field("values", &self.needles.len()).finish()
    }
}

impl Redactor {
    /// The redactor of a CR: its sensitive values (by `sensitivity`) and the data of every
    /// Secret among `objects` (observed children).
    pub fn for_cr(sensitivity: &Sensitivity, cr: &Value, objects: &[Value]) -> Redactor {
        let mut r = Redactor::default();
        r.add_cr(sensitivity, cr);
        for o in objects {
            r.add_secret(o);
        }
        r
    }

    /// Adds one value, with the forms it takes in output: as is, base64 (a Secret's `data`), and
    /// escaped as Rust's `{:?}` and JSON print it. Values under 4 characters are ignored.
    pub fn add(&mut self, value: &str) {
        if value.chars().count() < MIN_LEN {
            return;
        }
        let quoted = |q: String| q.strip_prefix('"').and_then(|s| s.strip_suffix('"')).map(str::to_string);
        let forms =
            [Some(value.to_string()), Some(base64_encode(value.as_bytes())), quoted(format!("{value:?}")), serde_json::to_string(value).ok().and_then(quoted)];
        let mut added = false;
        for f in forms.into_iter().flatten() {
            if f.chars().count() >= MIN_LEN && !self.needles.contains(&f) {
                self.needles.push(f);
                added = true;
            }
        }
        if added {
            self.needles.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        }
    }

    /// Adds every scalar of `cr` at a sensitive path (its `status` and `metadata.managedFields`
    /// excepted: they hold what ork and the API server wrote, not user input).
    pub fn add_cr(&mut self, sensitivity: &Sensitivity, cr: &Value) {
        let Some(obj) = cr.as_object() else { return };
        let mut path = Vec::new();
        for (k, v) in obj.iter().filter(|(k, _)| k.as_str() != "status") {
            path.push(k.as_str());
            self.walk(sensitivity, v, &mut path, classify(k));
            path.pop();
        }
    }

    /// Array items are walked as `*`: the schema marks them so, and no name rule applies to an
    /// index.
    fn walk<'v>(&mut self, sensitivity: &Sensitivity, v: &'v Value, path: &mut Vec<&'v str>, names: Segment) {
        if path.len() == 2 && path[0] == "metadata" && path[1] == "managedFields" {
            return;
        }
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    let next = if names == Segment::Plain { classify(k) } else { names };
                    path.push(k.as_str());
                    self.walk(sensitivity, child, path, next);
                    path.pop();
                }
            }
            Value::Array(items) => {
                for child in items {
                    path.push("*");
                    self.walk(sensitivity, child, path, names);
                    path.pop();
                }
            }
            Value::Null | Value::Bool(_) => {}
            scalar => {
                if names == Segment::Secret || sensitivity.schema_marks(path) {
                    self.add(&to_text(scalar));
                }
            }
        }
    }

    /// Adds the data of a Secret (`data`: the base64 text and what it decodes to; `stringData`);
    /// any other object adds nothing.
    pub fn add_secret(&mut self, obj: &Value) {
        if obj.get("kind").and_then(Value::as_str) != Some("Secret") {
            return;
        }
        for v in obj.get("data").and_then(Value::as_object).into_iter().flat_map(|m| m.values()).filter_map(Value::as_str) {
            self.add(v);
            if let Some(text) = base64_decode(v).ok().and_then(|b| String::from_utf8(b).ok()) {
                self.add(&text);
            }
        }
        for v in obj.get("stringData").and_then(Value::as_object).into_iter().flat_map(|m| m.values()) {
            self.add(&to_text(v));
        }
    }

    /// Adds the sensitive values of any manifest: a Secret's data; a CR of one of `katalog`'s
    /// CRD entries by that entry's [`Sensitivity`] (its crdFile schema read now); anything else
    /// by the name rule. For runners that apply files (`ork e2e`) rather than render a CR.
    pub fn add_manifest(&mut self, katalog: &Katalog, doc: &Value) {
        if doc.get("kind").and_then(Value::as_str) == Some("Secret") {
            self.add_secret(doc);
            return;
        }
        let kind = doc.get("kind").and_then(Value::as_str).unwrap_or_default();
        let group = crate::kinds::split_api_version(doc.get("apiVersion").and_then(Value::as_str).unwrap_or_default()).0;
        let entry = katalog.crds().iter().map(|(_, e)| e).find(|e| crate::kinds::api_identity(e).is_some_and(|id| id.kind == kind && id.group == group));
        match entry {
            Some(e) => self.add_cr(&Sensitivity::of_entry(e), doc),
            None => self.add_cr(&Sensitivity::NAMES_ONLY, doc),
        }
    }

    /// Adds everything `other` knows.
    pub fn extend(&mut self, other: &Redactor) {
        for n in &other.needles {
            if !self.needles.contains(n) {
                self.needles.push(n.clone());
            }
        }
        self.needles.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    }

    /// How many forms of values it scrubs.
    pub fn len(&self) -> usize {
        self.needles.len()
    }

    /// Whether it knows no value.
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// `text` with every known value replaced by [`SCRUBBED`].
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for n in &self.needles {
            if out.contains(n.as_str()) {
                out = out.replace(n.as_str(), SCRUBBED);
            }
        }
        out
    }

    /// Scrubs every string in `v` (values, not keys).
    pub fn scrub_json(&self, v: &mut Value) {
        if self.needles.is_empty() {
            return;
        }
        match v {
            Value::String(s) if self.needles.iter().any(|n| s.contains(n.as_str())) => *s = self.scrub(s),
            Value::Array(items) => items.iter_mut().for_each(|i| self.scrub_json(i)),
            Value::Object(m) => m.values_mut().for_each(|i| self.scrub_json(i)),
            _ => {}
        }
    }
}

/// What a redacted Secret value shows instead of itself: how long it is, in bytes.
pub fn secret_placeholder(bytes: usize) -> String {
    format!("<redacted: {bytes} bytes>")
}

/// Replaces every value of a Secret's `data` and `stringData` by [`secret_placeholder`] (the
/// decoded length for `data`), keeping the keys, so the manifest stays valid YAML and shows
/// what it holds but not the values. Returns whether `manifest` is a Secret.
pub fn redact_secret_data(manifest: &mut Value) -> bool {
    if manifest.get("kind").and_then(Value::as_str) != Some("Secret") {
        return false;
    }
    if let Some(data) = manifest.get_mut("data").and_then(Value::as_object_mut) {
        for v in data.values_mut() {
            let text = to_text(v);
            let bytes = base64_decode(&text).map_or(text.len(), |b| b.len());
            *v = Value::String(secret_placeholder(bytes));
        }
    }
    if let Some(data) = manifest.get_mut("stringData").and_then(Value::as_object_mut) {
        for v in data.values_mut() {
            *v = Value::String(secret_placeholder(to_text(v).len()));
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sensitive::tests::schema;
    use serde_json::json;

    #[test]
    fn a_redactor_knows_the_sensitive_values_of_a_cr_and_its_secrets() {
        let s = Sensitivity::from_schema(&schema());
        let cr = json!({
            "apiVersion": "x/v1", "kind": "W",
            "metadata": {"name": "w1", "labels": {"token": "label-tok"}, "managedFields": [{"f:spec": {"f:password": {}}, "manager": "kubectl-client"}]},
            "spec": {"password": "hunter2!", "unlockCode": "123456789", "users": [{"pin": "9876", "login": "alice"}],
                     "credentials": {"user": "root-user", "port": 5432}, "secretName": "db-creds", "replicas": 3, "pw": "abc"},
            "status": {"token": "written-by-us"},
        });
        let observed = json!({"kind": "Secret", "data": {"k": base64_encode(b"from-the-secret")}, "stringData": {"s": "string-data"}});
        let r = Redactor::for_cr(&s, &cr, std::slice::from_ref(&observed));
        let text = "hunter2! 123456789 9876 root-user 5432 label-tok from-the-secret string-data alice db-creds kubectl-client written-by-us abc";
        assert_eq!(
            r.scrub(text),
            "[redacted] [redacted] [redacted] [redacted] [redacted] [redacted] [redacted] [redacted] alice db-creds kubectl-client written-by-us abc"
        );
        // The forms a value takes in output are scrubbed too.
        assert_eq!(r.scrub(&base64_encode(b"hunter2!")), "[redacted]");
        assert_eq!(r.scrub(&base64_encode(b"from-the-secret")), "[redacted]");
        assert!(format!("{r:?}").starts_with("Redactor { values: "), "Debug shows a count only: {r:?}");
        assert!(!format!("{r:?}").contains("hunter2"));
    }

    #[test]
    fn escaped_forms_and_overlapping_values_are_scrubbed() {
        let mut r = Redactor::default();
        r.add("pa\"ss\\word");
        r.add("abcd");
        r.add("abcdef");
        assert_eq!(r.scrub(&format!("{:?}", "pa\"ss\\word")), "\"[redacted]\"");
        assert_eq!(r.scrub(&serde_json::to_string("pa\"ss\\word").unwrap_or_default()), "\"[redacted]\"");
        assert_eq!(r.scrub("xabcdefx abcd"), "x[redacted]x [redacted]", "the longer value goes first");
        let mut v = json!({"a": ["abcd", {"b": "keep", "c": "1abcd2"}], "abcd": 1});
        r.scrub_json(&mut v);
        assert_eq!(v, json!({"a": ["[redacted]", {"b": "keep", "c": "1[redacted]2"}], "abcd": 1}));
        let mut short = Redactor::default();
        short.add("abc");
        assert!(short.is_empty(), "values under 4 characters are not scrubbed from text");
    }

    #[test]
    fn a_secret_is_shown_with_its_keys_and_lengths_only() {
        let mut m = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"password": base64_encode(b"hunter22")}, "stringData": {"t": "abc"}});
        assert!(redact_secret_data(&mut m));
        assert_eq!(m["data"], json!({"password": "<redacted: 8 bytes>"}));
        assert_eq!(m["stringData"], json!({"t": "<redacted: 3 bytes>"}));
        let mut cm = json!({"kind": "ConfigMap", "data": {"a": "b"}});
        assert!(!redact_secret_data(&mut cm));
        assert_eq!(cm["data"]["a"], "b");
    }
}
