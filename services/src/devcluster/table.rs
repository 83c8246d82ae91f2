//! Server-side printing: the `meta.k8s.io` Table a client gets when its `Accept` header asks for
//! `application/json;as=Table;v=v1;g=meta.k8s.io` (or `v1beta1`), as kubectl's `get` does — for
//! get, list (with `metadata.continue` for `--chunk-size` pages) and watch (one row per event;
//! column definitions on the first event only, as the API server sends them).
//!
//! Columns: a custom resource's `additionalPrinterColumns` of the served version (JSONPath
//! evaluated against the object; `Age` of the creationTimestamp when the CRD declares none),
//! after `Name`; the API server's printers for the built-in kinds kubectl users know
//! (`columns`); for any other kind the API server's default table, `Name` and `Created At`.
//! Each row carries the object per `includeObject`: `None`, `Metadata` (the default: a
//! PartialObjectMetadata) or `Object`.

mod columns;
pub mod jsonpath;

use crate::cluster::ApiResource;
use axum::http::{HeaderMap, header};
use jsonpath::JsonPath;
use katalog::time::{format_rfc3339, parse_rfc3339};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// One column of a Table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Column {
    /// As the API server names it (`Up-to-date`); kubectl prints it upper-cased.
    pub name: String,
    /// `string`, `integer`, `number`, `boolean` or `date`.
    pub kind: String,
    /// `name` for the column holding the object's name, else empty (or a CRD column's format).
    pub format: String,
    /// What the column shows.
    pub description: String,
    /// 0 for the default columns, more for those `-o wide` adds.
    pub priority: i64,
}

impl Column {
    fn new(name: &str, kind: &str, priority: i64, description: &str) -> Column {
        Column { name: name.into(), kind: kind.into(), format: String::new(), description: description.into(), priority }
    }

    /// The `Name` column every printer starts with (events have it last, wide only).
    fn name() -> Column {
        Column { format: "name".into(), ..Column::new("Name", "string", 0, "The name of the object, unique within its namespace.") }
    }

    fn to_json(&self) -> Value {
        json!({"name": self.name, "type": self.kind, "format": self.format, "description": self.description, "priority": self.priority})
    }
}

/// What each row carries besides its cells (`includeObject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Include {
    /// Nothing.
    None,
    /// The object's metadata, as a PartialObjectMetadata (the default).
    Metadata,
    /// The whole object.
    Object,
}

/// A request for a Table: its version and what each row carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Wanted {
    /// `v1` or `v1beta1` of `meta.k8s.io`.
    pub version: &'static str,
    /// `includeObject`.
    pub include: Include,
}

/// Why a Table request is refused (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum TableError {
    /// `includeObject` is not one of the three values.
    #[error("Invalid value: {0:?}: must be 'Metadata', 'Object', 'None', or empty")]
    Include(String),
}

/// Whether the request asks for a Table: the first media type of `Accept` that is a
/// `meta.k8s.io` Table this server speaks (a later plain `application/json` is the fallback
/// kubectl offers, not a preference).
pub(super) fn wanted(headers: &HeaderMap, q: &BTreeMap<String, String>) -> Result<Option<Wanted>, TableError> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let version = accept.split(',').find_map(|media| {
        let mut parts = media.split(';').map(str::trim);
        let base = parts.next().unwrap_or_default();
        let params: BTreeMap<&str, &str> = parts.filter_map(|p| p.split_once('=')).map(|(k, v)| (k.trim(), v.trim())).collect();
        let table = base == "application/json" && params.get("as") == Some(&"Table") && params.get("g") == Some(&"meta.k8s.io");
        match params.get("v") {
            Some(&"v1") if table => Some("v1"),
            Some(&"v1beta1") if table => Some("v1beta1"),
            _ => None,
        }
    });
    let Some(version) = version else { return Ok(None) };
    let include = match q.get("includeObject").map(String::as_str) {
        None | Some("" | "Metadata") => Include::Metadata,
        Some("Object") => Include::Object,
        Some("None") => Include::None,
        Some(other) => return Err(TableError::Include(other.to_string())),
    };
    Ok(Some(Wanted { version, include }))
}

/// Where a column's cells come from.
#[derive(Debug, Clone)]
enum Source {
    /// A built-in kind's printer: every cell of a row at once.
    Builtin(columns::Cells),
    /// A custom resource: the name, then one JSONPath per printer column (`None`: a path the
    /// CRD declares that does not parse, whose cells stay empty).
    Custom(Vec<Option<JsonPath>>),
    /// The API server's default table: name and creation time.
    Default,
}

/// How the objects of one resource are printed.
#[derive(Debug, Clone)]
pub(super) struct Printer {
    columns: Vec<Column>,
    source: Source,
}

impl Printer {
    /// The printer of `res` as served at `version`: the printer columns of its CRD (`crd`, for
    /// a custom resource) at that version, the built-in printer of its kind, or the default
    /// table.
    pub(super) fn of(crd: Option<&Value>, res: &ApiResource, version: &str) -> Printer {
        if let Some(crd) = crd {
            return Printer::custom(crd, version);
        }
        match columns::builtin(&res.group, &res.kind) {
            Some((columns, cells)) => Printer { columns, source: Source::Builtin(cells) },
            None => Printer::default_table(),
        }
    }

    fn default_table() -> Printer {
        let created = Column::new("Created At", "date", 0, "When the object was created.");
        Printer { columns: vec![Column::name(), created], source: Source::Default }
    }

    /// A CRD's printer columns at `version` (a v1 CRD declares them per version), `Name`
    /// first; `Age` of the creationTimestamp when it declares none.
    fn custom(crd: &Value, version: &str) -> Printer {
        let at_version = crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .and_then(|vs| vs.iter().find(|v| v.get("name").and_then(Value::as_str) == Some(version)))
            .and_then(|v| v.get("additionalPrinterColumns"));
        let declared = at_version.or_else(|| crd.pointer("/spec/additionalPrinterColumns")).and_then(Value::as_array).cloned().unwrap_or_default();
        let declared = if declared.is_empty() {
            vec![json!({"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp", "description": "How long ago the object was created."})]
        } else {
            declared
        };
        let mut columns = vec![Column::name()];
        let mut paths = Vec::new();
        for c in &declared {
            let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
            columns.push(Column {
                name: s("name"),
                kind: s("type"),
                format: s("format"),
                description: s("description"),
                priority: c.get("priority").and_then(Value::as_i64).unwrap_or_default(),
            });
            paths.push(JsonPath::parse(&s("jsonPath")).ok());
        }
        Printer { columns, source: Source::Custom(paths) }
    }

    /// The cells of one object at `now` (Unix seconds).
    fn cells(&self, obj: &Value, now: i64) -> Vec<Value> {
        match &self.source {
            Source::Builtin(cells) => cells(obj, now),
            Source::Default => {
                let created = obj.pointer("/metadata/creationTimestamp").and_then(Value::as_str).and_then(|t| parse_rfc3339(t).ok());
                vec![json!(obj.pointer("/metadata/name")), created.map_or(Value::Null, |t| json!(format_rfc3339(t)))]
            }
            Source::Custom(paths) => {
                let mut cells = vec![json!(obj.pointer("/metadata/name"))];
                for (path, column) in paths.iter().zip(self.columns.iter().skip(1)) {
                    let found = path.as_ref().and_then(|p| p.find(obj).into_iter().next());
                    cells.push(found.map_or(Value::Null, |v| cell(&column.kind, v, now)));
                }
                cells
            }
        }
    }

    /// The Table of `objects` (already at the version of the request) with the list metadata
    /// `metadata`; `headers: false` leaves the column definitions out (watch events after the
    /// first).
    pub(super) fn table(&self, wanted: Wanted, objects: &[Value], metadata: Value, headers: bool, now: i64) -> Value {
        let meta_version = format!("meta.k8s.io/{}", wanted.version);
        let rows: Vec<Value> = objects
            .iter()
            .map(|o| {
                let mut row = json!({"cells": self.cells(o, now)});
                match wanted.include {
                    Include::None => {}
                    Include::Metadata => {
                        row["object"] =
                            json!({"kind": "PartialObjectMetadata", "apiVersion": meta_version, "metadata": o.get("metadata").cloned().unwrap_or(json!({}))})
                    }
                    Include::Object => row["object"] = o.clone(),
                }
                row
            })
            .collect();
        let columns = if headers { json!(self.columns.iter().map(Column::to_json).collect::<Vec<_>>()) } else { Value::Null };
        json!({"kind": "Table", "apiVersion": meta_version, "metadata": metadata, "columnDefinitions": columns, "rows": rows})
    }
}

/// A CRD column's cell, by the column's type, as the API server converts it: a string is
/// printed as JSONPath prints it (compound values as JSON), an integer or number must be a
/// number, a boolean a boolean, a date a timestamp shown as its age; anything else is empty.
fn cell(kind: &str, v: &Value, now: i64) -> Value {
    match (kind, v) {
        (_, Value::Null) => Value::Null,
        ("string", Value::String(s)) => json!(s),
        ("string", other) => json!(other.to_string()),
        ("integer", Value::Number(n)) => n.as_i64().map_or_else(|| n.as_f64().map_or(Value::Null, |f| json!(f.trunc() as i64)), |i| json!(i)),
        ("number", Value::Number(n)) => n.as_f64().map_or(Value::Null, |f| json!(f)),
        ("boolean", Value::Bool(b)) => json!(b),
        ("date", Value::String(s)) => match parse_rfc3339(s) {
            Ok(t) => json!(human_duration(now - t)),
            Err(_) => json!("<invalid>"),
        },
        _ => Value::Null,
    }
}

/// How long ago a timestamp was, as the API server prints ages (`<unknown>` without one).
pub(super) fn age(timestamp: Option<&str>, now: i64) -> String {
    match timestamp.map(parse_rfc3339) {
        Some(Ok(t)) => human_duration(now - t),
        _ => "<unknown>".into(),
    }
}

/// A duration as kubectl users read ages: `45s`, `2m5s`, `15m`, `3h20m`, `2d4h`, `1y20d`.
pub(super) fn human_duration(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    if secs < 0 {
        return "0s".into();
    }
    if secs < 120 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        return match secs % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        return match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        return match hours % 24 {
            0 => format!("{}d", hours / 24),
            h => format!("{}d{h}h", hours / 24),
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let days = (hours / 24) % 365;
        return match days {
            0 => format!("{}y", hours / 24 / 365),
            d => format!("{}y{d}d", hours / 24 / 365),
        };
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn ages_read_as_kubectl_prints_them() {
        let cases = [
            (-5, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (119, "119s"),
            (120, "2m"),
            (125, "2m5s"),
            (600, "10m"),
            (179 * 60, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 20 * 60, "3h20m"),
            (30 * 3600, "30h"),
            (52 * 3600, "2d4h"),
            (10 * 86_400, "10d"),
            (3 * 365 * 86_400 + 20 * 86_400, "3y20d"),
            (9 * 365 * 86_400, "9y"),
        ];
        for (secs, shown) in cases {
            assert_eq!(human_duration(secs), shown, "{secs}");
        }
        assert_eq!(age(None, 0), "<unknown>");
        assert_eq!(age(Some("2026-01-01T00:00:00Z"), parse_rfc3339("2026-01-01T00:01:00Z").unwrap()), "60s");
    }

    #[test]
    fn the_accept_header_and_include_object_choose_the_table() {
        let mut h = HeaderMap::new();
        let q = BTreeMap::new();
        assert_eq!(wanted(&h, &q), Ok(None));
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"),
        );
        assert_eq!(wanted(&h, &q), Ok(Some(Wanted { version: "v1", include: Include::Metadata })));
        h.insert(header::ACCEPT, HeaderValue::from_static("application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json"));
        let q: BTreeMap<String, String> = [("includeObject".to_string(), "Object".to_string())].into();
        assert_eq!(wanted(&h, &q), Ok(Some(Wanted { version: "v1beta1", include: Include::Object })));
        let bad: BTreeMap<String, String> = [("includeObject".to_string(), "All".to_string())].into();
        assert!(wanted(&h, &bad).is_err());
        h.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert_eq!(wanted(&h, &q), Ok(None));
    }

    #[test]
    fn a_crd_prints_its_columns_and_age_only_when_it_declares_none() {
        let crd = json!({"spec": {"versions": [
            {"name": "v1", "additionalPrinterColumns": [
                {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
                {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas", "priority": 1},
                {"name": "Since", "type": "date", "jsonPath": ".status.since"},
                {"name": "Broken", "type": "string", "jsonPath": "[["}]},
            {"name": "v2"}]}});
        let now = parse_rfc3339("2026-01-01T01:00:00Z").unwrap();
        let obj = json!({"metadata": {"name": "w", "creationTimestamp": "2026-01-01T00:00:00Z"}, "spec": {"replicas": 2.0},
            "status": {"since": "2026-01-01T00:59:00Z", "conditions": [{"type": "Ready", "status": "True"}]}});
        let p = Printer::custom(&crd, "v1");
        let names: Vec<&str> = p.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Name", "Ready", "Replicas", "Since", "Broken"]);
        assert_eq!(p.columns[2].priority, 1);
        assert_eq!(p.cells(&obj, now), vec![json!("w"), json!("True"), json!(2), json!("60s"), Value::Null]);
        assert_eq!(p.cells(&json!({"metadata": {"name": "x"}}), now), vec![json!("x"), Value::Null, Value::Null, Value::Null, Value::Null]);
        let v2 = Printer::custom(&crd, "v2");
        assert_eq!(v2.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["Name", "Age"]);
        assert_eq!(v2.cells(&obj, now), vec![json!("w"), json!("60m")]);
        assert_eq!(cell("integer", &json!("3"), now), Value::Null, "a string is no integer");
        assert_eq!(cell("string", &json!({"a": 1}), now), json!("{\"a\":1}"));
        assert_eq!(cell("date", &json!("yesterday"), now), json!("<invalid>"));
    }

    #[test]
    fn tables_carry_rows_objects_and_list_metadata() {
        let p = Printer::default_table();
        let obj = json!({"metadata": {"name": "admin", "creationTimestamp": "2026-01-01T00:00:00Z"}, "rules": []});
        let meta = json!({"resourceVersion": "7", "continue": "abc"});
        let t = p.table(Wanted { version: "v1", include: Include::Metadata }, std::slice::from_ref(&obj), meta.clone(), true, 0);
        assert_eq!(t["kind"], "Table");
        assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
        assert_eq!(t["metadata"], meta);
        assert_eq!(t["columnDefinitions"][1]["name"], "Created At");
        assert_eq!(t["rows"][0]["cells"], json!(["admin", "2026-01-01T00:00:00Z"]));
        assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(t["rows"][0]["object"]["metadata"]["name"], "admin");
        let t = p.table(Wanted { version: "v1beta1", include: Include::Object }, std::slice::from_ref(&obj), json!({}), false, 0);
        assert_eq!(t["rows"][0]["object"], obj);
        assert!(t["columnDefinitions"].is_null(), "later watch events carry no headers");
        let t = p.table(Wanted { version: "v1", include: Include::None }, &[obj], json!({}), true, 0);
        assert!(t["rows"][0].get("object").is_none());
    }
}
