//! The Kubernetes protobuf encoding of request bodies, read as kubectl's typed commands send it
//! (`kubectl create deployment`, `expose`, `run`, `create token`, `auth can-i`, ...): the
//! envelope (`k8s\0` + runtime.Unknown) and then the object, walked with a generated field table
//! (`proto/schema.txt`, from the Kubernetes 1.32 `generated.proto` and `types.go` files by
//! `scripts/gen-proto-schema.py`) into the JSON the API server would have decoded from the same
//! object: JSON names, inline structs merged, `bytes` as base64, int64 as numbers, and the
//! special types (IntOrString, Quantity, Time, MicroTime, Duration, RawExtension, FieldsV1,
//! list wrappers such as ExtraValue).
//!
//! Zero values follow Go, which the API server's JSON round trip applies: gogo-protobuf writes a
//! non-pointer scalar even when it is zero, and Go's JSON encoding then drops it where the field
//! is `omitempty` — so this decoder drops a zero non-pointer `omitempty` scalar and keeps every
//! pointer field that was sent (`replicas: 0` given explicitly survives) and every non-`omitempty`
//! one (`containerPort`). A zero Time that was sent becomes `null`, as Go writes it
//! (`template.metadata.creationTimestamp: null`). Absent repeated fields and maps, an empty
//! RawExtension and a zero non-pointer IntOrString are left out (Go would write `null` or `0`;
//! the JSON path treats them as unset, as the API server's defaulting does).

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::LazyLock;

/// The generated table (see the module doc and the script's header for its format).
const SCHEMA: &str = include_str!("proto/schema.txt");

const META: &str = "k8s.io.apimachinery.pkg.apis.meta.v1";
const INT_OR_STRING: &str = "k8s.io.apimachinery.pkg.util.intstr.IntOrString";
const QUANTITY: &str = "k8s.io.apimachinery.pkg.api.resource.Quantity";
const RAW_EXTENSION: &str = "k8s.io.apimachinery.pkg.runtime.RawExtension";
const TIME: &str = "k8s.io.apimachinery.pkg.apis.meta.v1.Time";
const MICRO_TIME: &str = "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime";
const DURATION: &str = "k8s.io.apimachinery.pkg.apis.meta.v1.Duration";
const FIELDS_V1: &str = "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1";

/// Why a protobuf body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    /// Not the Kubernetes envelope.
    #[error("the body is not a Kubernetes protobuf object (it must start with `k8s\\0` and a runtime.Unknown); send JSON or YAML instead")]
    NoEnvelope,
    /// A kind the table does not have.
    #[error(
        "the protobuf body is a {kind} of {api_version}, which the ork dev cluster cannot read as protobuf (it reads the built-in kinds of the stable API groups); send it as JSON (kubectl create -f / apply -f)"
    )]
    UnknownKind {
        /// The envelope's apiVersion.
        api_version: String,
        /// The envelope's kind.
        kind: String,
    },
    /// Bytes that do not follow the wire format or the table.
    #[error("the protobuf body is malformed at {path}: {what}")]
    Malformed {
        /// The JSON path of the field being read (`spec.template.spec.containers`).
        path: String,
        /// What is wrong there.
        what: &'static str,
    },
    /// The committed table does not parse (a build defect, caught by the unit tests).
    #[error(
        "the dev cluster's protobuf table (services/src/devcluster/proto/schema.txt) is broken at line {line}: {what}; regenerate it with scripts/gen-proto-schema.py"
    )]
    Schema {
        /// The 1-based line of the table.
        line: usize,
        /// What is wrong there.
        what: &'static str,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scalar {
    String,
    Bytes,
    Bool,
    Int32,
    Int64,
    Uint32,
    Uint64,
    Double,
    Float,
}

impl Scalar {
    fn parse(s: &str) -> Option<Scalar> {
        Some(match s {
            "string" => Scalar::String,
            "bytes" => Scalar::Bytes,
            "bool" => Scalar::Bool,
            "int32" | "sint32" => Scalar::Int32,
            "int64" | "sint64" => Scalar::Int64,
            "uint32" | "fixed32" => Scalar::Uint32,
            "uint64" | "fixed64" => Scalar::Uint64,
            "double" => Scalar::Double,
            "float" => Scalar::Float,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Type {
    Scalar(Scalar),
    Message(&'static str),
    Map(Scalar, Box<Type>),
}

impl Type {
    fn parse(s: &'static str) -> Option<Type> {
        if let Some(kv) = s.strip_prefix("map:") {
            let (k, v) = kv.split_once(':')?;
            return Some(Type::Map(Scalar::parse(k)?, Box::new(Type::parse(v)?)));
        }
        Some(Scalar::parse(s).map_or(Type::Message(s), Type::Scalar))
    }
}

#[derive(Debug, Clone)]
struct Field {
    number: u64,
    json: &'static str,
    ty: Type,
    repeated: bool,
    pointer: bool,
    omitempty: bool,
    inline: bool,
}

#[derive(Debug, Default)]
struct Message {
    /// The JSON is the bare list of the `items` field (a Go named slice such as ExtraValue).
    list: bool,
    fields: Vec<Field>,
}

#[derive(Debug, Default)]
struct Schema {
    /// apiVersion → protobuf package (`apps/v1` → `k8s.io.api.apps.v1`).
    packages: HashMap<&'static str, &'static str>,
    messages: HashMap<&'static str, Message>,
}

fn parse_schema(text: &'static str) -> Result<Schema, ProtoError> {
    let mut schema = Schema::default();
    let mut current: Option<&'static str> = None;
    for (i, line) in text.lines().enumerate() {
        let err = |what| ProtoError::Schema { line: i + 1, what };
        let parts: Vec<&'static str> = line.split_whitespace().collect();
        match parts.as_slice() {
            [] => {}
            [c, ..] if c.starts_with('#') => {}
            ["g", api_version, package] => {
                schema.packages.insert(api_version, package);
            }
            ["m", name, rest @ ..] => {
                schema.messages.insert(name, Message { list: rest.contains(&"list"), fields: Vec::new() });
                current = Some(name);
            }
            [number, json, ty, flags] => {
                let message = current.and_then(|c| schema.messages.get_mut(c)).ok_or(err("a field before any message"))?;
                message.fields.push(Field {
                    number: number.parse().map_err(|_| err("the field number is not a number"))?,
                    json,
                    ty: Type::parse(ty).ok_or(err("an unknown field type"))?,
                    repeated: flags.contains('r'),
                    pointer: flags.contains('p'),
                    omitempty: flags.contains('o'),
                    inline: flags.contains('i'),
                });
            }
            _ => return Err(err("a line of neither form")),
        }
    }
    Ok(schema)
}

static TABLE: LazyLock<Result<Schema, ProtoError>> = LazyLock::new(|| parse_schema(SCHEMA));

fn schema() -> Result<&'static Schema, ProtoError> {
    TABLE.as_ref().map_err(Clone::clone)
}

/// One field on the wire.
#[derive(Debug, Clone, Copy)]
enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Bytes(&'a [u8]),
}

fn varint(b: &[u8], i: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*i)?;
        *i += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn fixed<const N: usize>(b: &[u8], i: &mut usize) -> Option<[u8; N]> {
    let end = i.checked_add(N)?;
    let out = b.get(*i..end)?.try_into().ok()?;
    *i = end;
    Some(out)
}

/// Every field of a message, in wire order; `None` for bytes that are not a message.
fn fields(b: &[u8]) -> Option<Vec<(u64, Wire<'_>)>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let key = varint(b, &mut i)?;
        let wire = match key & 7 {
            0 => Wire::Varint(varint(b, &mut i)?),
            1 => Wire::Fixed64(u64::from_le_bytes(fixed::<8>(b, &mut i)?)),
            2 => {
                let len = usize::try_from(varint(b, &mut i)?).ok()?;
                let end = i.checked_add(len).filter(|e| *e <= b.len())?;
                let bytes = &b[i..end];
                i = end;
                Wire::Bytes(bytes)
            }
            5 => Wire::Fixed32(u32::from_le_bytes(fixed::<4>(b, &mut i)?)),
            _ => return None,
        };
        out.push((key >> 3, wire));
    }
    Some(out)
}

/// The bytes of the last length-delimited occurrence of field `n`.
fn last_bytes<'a>(fs: &[(u64, Wire<'a>)], n: u64) -> Option<&'a [u8]> {
    fs.iter().rev().find_map(|(f, w)| match w {
        Wire::Bytes(b) if *f == n => Some(*b),
        _ => None,
    })
}

fn last_int(fs: &[(u64, Wire<'_>)], n: u64) -> i64 {
    fs.iter()
        .rev()
        .find_map(|(f, w)| match w {
            Wire::Varint(v) if *f == n => Some(*v as i64),
            _ => None,
        })
        .unwrap_or(0)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The envelope's (apiVersion, kind) and raw object bytes.
fn envelope(body: &[u8]) -> Result<(String, String, &[u8]), ProtoError> {
    let fs = body.strip_prefix(b"k8s\0").and_then(fields).ok_or(ProtoError::NoEnvelope)?;
    let tm = last_bytes(&fs, 1).and_then(fields).ok_or(ProtoError::NoEnvelope)?;
    let api_version = last_bytes(&tm, 1).map(text).unwrap_or_default();
    let kind = last_bytes(&tm, 2).map(text).ok_or(ProtoError::NoEnvelope)?;
    Ok((api_version, kind, last_bytes(&fs, 2).unwrap_or_default()))
}

/// The JSON of a protobuf request body: its `apiVersion`, `kind` and every field the object
/// carries, as the API server's JSON of the same object would hold them.
pub fn decode(body: &[u8]) -> Result<Value, ProtoError> {
    let (api_version, kind, raw) = envelope(body)?;
    let schema = schema()?;
    let unknown = || ProtoError::UnknownKind { api_version: api_version.clone(), kind: kind.clone() };
    let package = schema.packages.get(api_version.as_str()).ok_or_else(unknown)?;
    // The option kinds (DeleteOptions, ...) travel under the request's apiVersion.
    let name = [format!("{package}.{kind}"), format!("{META}.{kind}")].into_iter().find_map(|n| schema.messages.get_key_value(n.as_str()).map(|(k, _)| *k));
    let name = name.ok_or_else(unknown)?;
    let mut out = Map::new();
    out.insert("apiVersion".into(), Value::String(api_version.clone()));
    out.insert("kind".into(), Value::String(kind.clone()));
    let decoder = Decoder { schema };
    if let Value::Object(fields) = decoder.message(name, raw, "")? {
        out.extend(fields);
    }
    Ok(Value::Object(out))
}

struct Decoder {
    schema: &'static Schema,
}

fn malformed(path: &str, what: &'static str) -> ProtoError {
    ProtoError::Malformed { path: if path.is_empty() { "the object".into() } else { path.to_string() }, what }
}

fn child(path: &str, name: &str) -> String {
    if path.is_empty() { name.to_string() } else { format!("{path}.{name}") }
}

/// Nanoseconds as Go's `time.Duration.String()` (`1h0m0s`, `1.5s`, `300ms`).
fn go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    if n < 1_000_000_000 {
        let (unit, scale) = if n < 1_000 {
            ("ns", 1)
        } else if n < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{sign}{}{unit}", fraction(n / scale, n % scale, scale));
    }
    let secs = n / 1_000_000_000;
    let s = fraction(secs % 60, n % 1_000_000_000, 1_000_000_000);
    let (h, m) = (secs / 3600, secs % 3600 / 60);
    if h > 0 {
        format!("{sign}{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{sign}{m}m{s}s")
    } else {
        format!("{sign}{s}s")
    }
}

/// `whole.frac` with the fraction's trailing zeros dropped (`1.5`, `2`).
fn fraction(whole: u64, frac: u64, scale: u64) -> String {
    if frac == 0 {
        return whole.to_string();
    }
    let digits = scale.ilog10() as usize;
    let f = format!("{frac:0digits$}");
    format!("{whole}.{}", f.trim_end_matches('0'))
}

impl Decoder {
    /// A message as JSON; `Value::Null` for a zero Time (kept: Go writes `null`) and an empty
    /// RawExtension (left out).
    fn message(&self, name: &str, b: &[u8], path: &str) -> Result<Value, ProtoError> {
        let fs = fields(b).ok_or_else(|| malformed(path, "the bytes are not a protobuf message"))?;
        match name {
            INT_OR_STRING => {
                return Ok(if last_int(&fs, 1) == 1 {
                    Value::String(last_bytes(&fs, 3).map(text).unwrap_or_default())
                } else {
                    Value::from(last_int(&fs, 2) as i32)
                });
            }
            QUANTITY => return Ok(Value::String(last_bytes(&fs, 1).map(text).unwrap_or_else(|| "0".into()))),
            TIME | MICRO_TIME => {
                let (seconds, nanos) = (last_int(&fs, 1), last_int(&fs, 2));
                if seconds == 0 && nanos == 0 {
                    // Go's JSON of a zero Time (`creationTimestamp: null` in a pod template).
                    return Ok(Value::Null);
                }
                let t = katalog::time::format_rfc3339(seconds);
                return Ok(Value::String(if name == MICRO_TIME { format!("{}.{:06}Z", t.trim_end_matches('Z'), nanos / 1000) } else { t }));
            }
            DURATION => return Ok(Value::String(go_duration(last_int(&fs, 1)))),
            RAW_EXTENSION | FIELDS_V1 => {
                let raw = last_bytes(&fs, 1).unwrap_or_default();
                if raw.is_empty() {
                    return Ok(Value::Null);
                }
                return serde_json::from_slice(raw).map_err(|_| malformed(path, "an embedded object (RawExtension) that is not JSON"));
            }
            _ => {}
        }
        let Some(message) = self.schema.messages.get(name) else {
            // Types the table leaves out are skipped, as a decoder skips unknown fields.
            return Ok(Value::Null);
        };
        if message.list {
            let items = fs.iter().filter(|(n, _)| *n == 1).map(|(_, w)| self.scalar(Scalar::String, *w, path)).collect::<Result<Vec<_>, _>>()?;
            return Ok(Value::Array(items));
        }
        let mut out = Map::new();
        for field in &message.fields {
            let wires: Vec<Wire<'_>> = fs.iter().filter(|(n, _)| *n == field.number).map(|(_, w)| *w).collect();
            if wires.is_empty() {
                continue;
            }
            let here = child(path, field.json);
            let value = self.field(field, &wires, &here)?;
            match value {
                Some(Value::Object(inner)) if field.inline => out.extend(inner),
                Some(v) => {
                    out.insert(field.json.to_string(), v);
                }
                None => {}
            }
        }
        Ok(Value::Object(out))
    }

    /// The JSON of one field from its occurrences on the wire; `None` to leave it out.
    fn field(&self, field: &Field, wires: &[Wire<'_>], path: &str) -> Result<Option<Value>, ProtoError> {
        match &field.ty {
            Type::Map(key, value) => {
                let mut m = Map::new();
                for w in wires {
                    let Wire::Bytes(entry) = w else { return Err(malformed(path, "a map entry that is not length-delimited")) };
                    let e = fields(entry).ok_or_else(|| malformed(path, "a map entry that is not a message"))?;
                    let k = match e.iter().rev().find(|(n, _)| *n == 1) {
                        Some((_, w)) => self.scalar(*key, *w, path)?,
                        None => Value::String(String::new()),
                    };
                    let k = match k {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    let here = child(path, &k);
                    let v = match (value.as_ref(), e.iter().rev().find(|(n, _)| *n == 2)) {
                        (Type::Message(name), w) => {
                            let bytes = match w {
                                Some((_, Wire::Bytes(b))) => *b,
                                Some(_) => return Err(malformed(&here, "a map value that is not length-delimited")),
                                None => &[],
                            };
                            self.message(name, bytes, &here)?
                        }
                        (Type::Scalar(s), Some((_, w))) => self.scalar(*s, *w, &here)?,
                        (Type::Scalar(s), None) => zero(*s),
                        (Type::Map(..), _) => return Err(malformed(&here, "a map of maps")),
                    };
                    m.insert(k, v);
                }
                Ok((!m.is_empty()).then_some(Value::Object(m)))
            }
            Type::Scalar(s) if field.repeated => {
                let mut items = Vec::new();
                for w in wires {
                    match (w, s) {
                        // A packed run of numbers.
                        (Wire::Bytes(b), s) if !matches!(s, Scalar::String | Scalar::Bytes) => items.extend(self.packed(*s, b, path)?),
                        (w, s) => items.push(self.scalar(*s, *w, path)?),
                    }
                }
                Ok(Some(Value::Array(items)))
            }
            Type::Scalar(s) => {
                let v = self.scalar(*s, wires[wires.len() - 1], path)?;
                Ok((field.pointer || !field.omitempty || !is_zero(&v)).then_some(v))
            }
            Type::Message(name) if field.repeated => {
                let items = wires
                    .iter()
                    .enumerate()
                    .map(|(i, w)| match w {
                        Wire::Bytes(b) => self.message(name, b, &format!("{path}[{i}]")),
                        _ => Err(malformed(path, "a message that is not length-delimited")),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Some(Value::Array(items)))
            }
            Type::Message(name) => {
                // Several occurrences of one message field merge, as concatenated bytes do.
                let mut bytes = Vec::new();
                for w in wires {
                    let Wire::Bytes(b) = w else { return Err(malformed(path, "a message that is not length-delimited")) };
                    bytes.extend_from_slice(b);
                }
                let v = self.message(name, &bytes, path)?;
                // A zero Time was sent (gogo writes it empty) and Go's JSON says `null`.
                let time = matches!(*name, TIME | MICRO_TIME);
                let zero_int_or_string = *name == INT_OR_STRING && v.as_i64() == Some(0) && !field.pointer;
                Ok(((time || !v.is_null()) && !zero_int_or_string).then_some(v))
            }
        }
    }

    fn scalar(&self, s: Scalar, w: Wire<'_>, path: &str) -> Result<Value, ProtoError> {
        Ok(match (s, w) {
            (Scalar::String, Wire::Bytes(b)) => Value::String(text(b)),
            (Scalar::Bytes, Wire::Bytes(b)) => Value::String(katalog::template::base64_encode(b)),
            (Scalar::Bool, Wire::Varint(v)) => Value::Bool(v != 0),
            (Scalar::Int32, Wire::Varint(v)) => Value::from(v as i64 as i32),
            (Scalar::Int64, Wire::Varint(v)) => Value::from(v as i64),
            (Scalar::Uint32, Wire::Varint(v)) => Value::from(v as u32),
            (Scalar::Uint64, Wire::Varint(v)) => Value::from(v),
            (Scalar::Uint32, Wire::Fixed32(v)) => Value::from(v),
            (Scalar::Uint64, Wire::Fixed64(v)) => Value::from(v),
            (Scalar::Double, Wire::Fixed64(v)) => Value::from(f64::from_bits(v)),
            (Scalar::Float, Wire::Fixed32(v)) => Value::from(f64::from(f32::from_bits(v))),
            _ => return Err(malformed(path, "a value whose wire type does not match the field's type")),
        })
    }

    fn packed(&self, s: Scalar, b: &[u8], path: &str) -> Result<Vec<Value>, ProtoError> {
        let mut out = Vec::new();
        let mut i = 0;
        let short = || malformed(path, "a packed list that ends mid-value");
        while i < b.len() {
            let w = match s {
                Scalar::Double => Wire::Fixed64(u64::from_le_bytes(fixed::<8>(b, &mut i).ok_or_else(short)?)),
                Scalar::Float => Wire::Fixed32(u32::from_le_bytes(fixed::<4>(b, &mut i).ok_or_else(short)?)),
                _ => Wire::Varint(varint(b, &mut i).ok_or_else(short)?),
            };
            out.push(self.scalar(s, w, path)?);
        }
        Ok(out)
    }
}

fn zero(s: Scalar) -> Value {
    match s {
        Scalar::String | Scalar::Bytes => Value::String(String::new()),
        Scalar::Bool => Value::Bool(false),
        _ => Value::from(0),
    }
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(n: u64, wire: u64) -> Vec<u8> {
        enc_varint((n << 3) | wire)
    }

    fn enc_varint(mut v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                return out;
            }
            out.push(byte | 0x80);
        }
    }

    fn field(n: u64, payload: &[u8]) -> Vec<u8> {
        [key(n, 2), enc_varint(payload.len() as u64), payload.to_vec()].concat()
    }

    fn int(n: u64, v: i64) -> Vec<u8> {
        [key(n, 0), enc_varint(v as u64)].concat()
    }

    fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
        [b"k8s\0".to_vec(), field(1, &[field(1, api_version.as_bytes()), field(2, kind.as_bytes())].concat()), field(2, raw)].concat()
    }

    #[test]
    fn the_table_parses_and_knows_the_stable_groups() {
        let s = schema().unwrap();
        for v in ["v1", "apps/v1", "batch/v1", "networking.k8s.io/v1", "policy/v1", "rbac.authorization.k8s.io/v1", "scheduling.k8s.io/v1", "autoscaling/v2"] {
            assert!(s.packages.contains_key(v), "{v}");
        }
        assert!(s.messages["k8s.io.api.authentication.v1.ExtraValue"].list);
    }

    #[test]
    fn a_protobuf_configmap_decodes_to_its_json() {
        let label = [field(1, b"app"), field(2, b"web")].concat();
        // gogo writes the empty generateName, a zero generation and a zero creationTimestamp; Go's
        // JSON drops the first two and writes `null` for the third.
        let meta = [field(1, b"c1"), field(2, b""), field(3, b"demo"), int(7, 0), field(11, &label), field(8, b"")].concat();
        let data = [field(1, b"a"), field(2, b"b")].concat();
        let binary = [field(1, b"bin"), field(2, b"\x00\x01")].concat();
        let raw = [field(1, &meta), field(2, &data), field(3, &binary)].concat();
        assert_eq!(
            decode(&envelope("v1", "ConfigMap", &raw)).unwrap(),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c1", "namespace": "demo", "labels": {"app": "web"}, "creationTimestamp": null},
                   "data": {"a": "b"}, "binaryData": {"bin": "AAE="}})
        );
        assert_eq!(decode(b"not protobuf"), Err(ProtoError::NoEnvelope));
        assert!(matches!(decode(&envelope("example.com/v1", "Widget", &raw)), Err(ProtoError::UnknownKind { .. })));
    }

    #[test]
    fn a_deployment_keeps_explicit_zero_replicas_and_reads_the_special_types() {
        let container = [
            field(1, b"nginx"),
            field(2, b"nginx"),
            field(6, &[field(1, b""), int(3, 80), field(4, b"TCP")].concat()),
            field(8, &[field(1, &[field(1, b"cpu"), field(2, &field(1, b"100m"))].concat())].concat()),
        ]
        .concat();
        let pod_spec = field(2, &container);
        let template = [field(1, &field(11, &[field(1, b"app"), field(2, b"web")].concat())), field(2, &pod_spec)].concat();
        let strategy = field(2, &[field(1, &[int(1, 1), field(3, b"25%")].concat()), field(2, &int(2, 0))].concat());
        let spec = [int(1, 0), field(3, &template), field(4, &[field(1, b"RollingUpdate"), strategy].concat()), int(5, 0), int(7, 0)].concat();
        let meta = [field(1, b"web"), field(8, &[int(1, 1_700_000_000)].concat())].concat();
        let raw = [field(1, &meta), field(2, &spec), field(3, b"")].concat();
        assert_eq!(
            decode(&envelope("apps/v1", "Deployment", &raw)).unwrap(),
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "web", "creationTimestamp": "2023-11-14T22:13:20Z"},
                   "spec": {"replicas": 0,
                            "template": {"metadata": {"labels": {"app": "web"}},
                                         "spec": {"containers": [{"name": "nginx", "image": "nginx", "ports": [{"containerPort": 80, "protocol": "TCP"}],
                                                                  "resources": {"limits": {"cpu": "100m"}}}]}},
                            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": 0}}},
                   "status": {}})
        );
    }

    #[test]
    fn inline_structs_merge_and_list_wrappers_are_lists() {
        let volume = [field(1, b"data"), field(2, &field(2, &field(1, b"Memory")))].concat();
        let pod = [field(1, &field(1, b"p")), field(2, &field(1, &volume))].concat();
        let json = decode(&envelope("v1", "Pod", &pod)).unwrap();
        assert_eq!(json["spec"]["volumes"], json!([{"name": "data", "emptyDir": {"medium": "Memory"}}]));
        let extra = field(5, &[field(1, b"scopes"), field(2, &[field(1, b"a"), field(1, b"b")].concat())].concat());
        let sar = field(2, &[field(1, &[field(2, b"get"), field(5, b"pods")].concat()), field(3, b""), extra].concat());
        let json = decode(&envelope("authorization.k8s.io/v1", "SubjectAccessReview", &sar)).unwrap();
        assert_eq!(json["spec"], json!({"resourceAttributes": {"verb": "get", "resource": "pods"}, "extra": {"scopes": ["a", "b"]}}));
    }

    #[test]
    fn every_truncation_of_a_body_is_an_error_or_a_value_never_a_panic() {
        let container = [field(1, b"nginx"), field(2, b"nginx"), field(6, &int(3, 80))].concat();
        let spec = [int(1, 2), field(3, &field(2, &field(2, &container)))].concat();
        let body = envelope("apps/v1", "Deployment", &[field(1, &field(1, b"web")), field(2, &spec)].concat());
        assert!(decode(&body).is_ok());
        for end in 0..body.len() {
            let _ = decode(&body[..end]);
        }
        // A string where a number belongs names the field.
        let bad = envelope("apps/v1", "Deployment", &field(2, &field(1, b"two")));
        assert_eq!(decode(&bad), Err(ProtoError::Malformed { path: "spec.replicas".into(), what: "a value whose wire type does not match the field's type" }));
    }

    #[test]
    fn durations_print_as_go_does() {
        assert_eq!(go_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(go_duration(1_500_000_000), "1.5s");
        assert_eq!(go_duration(300_000_000), "300ms");
        assert_eq!(go_duration(-90_000_000_000), "-1m30s");
        assert_eq!(go_duration(0), "0s");
    }
}
