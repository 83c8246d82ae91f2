//! The wire format: `admission.k8s.io/v1` AdmissionReview and `apiextensions.k8s.io/v1`
//! ConversionReview, decoded into [`Request`]s and encoded from [`Verdict`]s. Decoding is strict
//! about what a verdict needs (a `request` with a `uid`, a resource, an operation) and tolerant of
//! everything else, as the API server adds fields over time.

use super::{ConvertError, Operation, Request, UserInfo, Verdict};
use crate::rules::PatchOp;
use crate::template::base64_encode;
use serde_json::{Value, json};

/// Why a review could not be decoded; the gateway answers 400 with this text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    /// Not JSON.
    #[error("invalid {kind}: the body is not JSON: {reason}")]
    Json {
        /// AdmissionReview or ConversionReview.
        kind: &'static str,
        /// The parser's message (line and column).
        reason: String,
    },
    /// A required field is missing or has the wrong type.
    #[error("invalid {kind}: {field} is missing or not {expected}")]
    Field {
        /// AdmissionReview or ConversionReview.
        kind: &'static str,
        /// JSON path of the field.
        field: &'static str,
        /// What it should be.
        expected: &'static str,
    },
    /// The operation is not one the API server sends.
    #[error("invalid AdmissionReview: request.operation {0:?} is not CREATE, UPDATE, DELETE or CONNECT")]
    Operation(String),
}

fn field<'v>(v: &'v Value, pointer: &'static str, kind: &'static str, expected: &'static str) -> Result<&'v Value, ReviewError> {
    v.pointer(pointer).ok_or(ReviewError::Field { kind, field: pointer, expected })
}

fn text(v: &Value, pointer: &'static str, kind: &'static str) -> Result<String, ReviewError> {
    match v.pointer(pointer) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(ReviewError::Field { kind, field: pointer, expected: "a string" }),
    }
}

fn object(v: &Value, pointer: &'static str, kind: &'static str) -> Result<Option<Value>, ReviewError> {
    match v.pointer(pointer) {
        None | Some(Value::Null) => Ok(None),
        Some(o @ Value::Object(_)) => Ok(Some(o.clone())),
        Some(_) => Err(ReviewError::Field { kind, field: pointer, expected: "an object" }),
    }
}

const ADMISSION: &str = "AdmissionReview";
const CONVERSION: &str = "ConversionReview";

/// Decodes an AdmissionReview body.
pub fn decode_admission(body: &[u8]) -> Result<Request, ReviewError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| ReviewError::Json { kind: ADMISSION, reason: e.to_string() })?;
    if !v.is_object() {
        return Err(ReviewError::Field { kind: ADMISSION, field: "/", expected: "an object" });
    }
    let req = field(&v, "/request", ADMISSION, "an object")?;
    if !req.is_object() {
        return Err(ReviewError::Field { kind: ADMISSION, field: "/request", expected: "an object" });
    }
    let uid = match req.get("uid") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(ReviewError::Field { kind: ADMISSION, field: "/request/uid", expected: "a non-empty string" }),
    };
    let op_text = match req.get("operation") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(ReviewError::Field { kind: ADMISSION, field: "/request/operation", expected: "a string" }),
    };
    let operation = Operation::parse(&op_text).ok_or(ReviewError::Operation(op_text))?;
    let resource = text(&v, "/request/resource/resource", ADMISSION)?;
    if resource.is_empty() {
        return Err(ReviewError::Field { kind: ADMISSION, field: "/request/resource/resource", expected: "a non-empty string" });
    }
    let groups = match v.pointer("/request/userInfo/groups") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        Some(_) => return Err(ReviewError::Field { kind: ADMISSION, field: "/request/userInfo/groups", expected: "a list" }),
    };
    Ok(Request {
        uid,
        review_api_version: text(&v, "/apiVersion", ADMISSION)?,
        group: text(&v, "/request/resource/group", ADMISSION)?,
        version: text(&v, "/request/resource/version", ADMISSION)?,
        kind: text(&v, "/request/kind/kind", ADMISSION)?,
        resource,
        sub_resource: text(&v, "/request/subResource", ADMISSION)?,
        operation: Some(operation),
        namespace: text(&v, "/request/namespace", ADMISSION)?,
        name: text(&v, "/request/name", ADMISSION)?,
        object: object(&v, "/request/object", ADMISSION)?,
        old_object: object(&v, "/request/oldObject", ADMISSION)?,
        user: UserInfo { username: text(&v, "/request/userInfo/username", ADMISSION)?, groups },
        dry_run: v.pointer("/request/dryRun").and_then(Value::as_bool).unwrap_or(false),
    })
}

/// The AdmissionReview answering `req` with `verdict`: uid echoed, warnings, the patch (base64
/// JSONPatch) when there is one, the refusal's status with a cause per denied rule.
pub fn encode_admission(req: &Request, verdict: &Verdict) -> Value {
    let api_version = if req.review_api_version.is_empty() { "admission.k8s.io/v1" } else { req.review_api_version.as_str() };
    let mut response = json!({"uid": req.uid, "allowed": verdict.allowed});
    if !verdict.warnings.is_empty() {
        response["warnings"] = json!(verdict.warnings);
    }
    if !verdict.allowed {
        let causes: Vec<Value> = verdict.denials.iter().map(|d| json!({"type": "FieldValueInvalid", "field": d.field, "message": d.message})).collect();
        let mut status = json!({"code": verdict.code, "reason": verdict.reason, "message": verdict.message});
        if !causes.is_empty() {
            status["details"] = json!({"causes": causes});
        }
        response["status"] = status;
    } else if !verdict.patch.is_empty() {
        response["patchType"] = json!("JSONPatch");
        response["patch"] = json!(base64_encode(patch_json(&verdict.patch).as_bytes()));
    }
    json!({"apiVersion": api_version, "kind": "AdmissionReview", "response": response})
}

/// The JSONPatch document of mutation operations.
pub fn patch_json(patch: &[PatchOp]) -> String {
    serde_json::to_string(patch).unwrap_or_else(|_| "[]".to_string())
}

/// A decoded ConversionReview request.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversionRequest {
    /// The review's apiVersion (echoed).
    pub api_version: String,
    /// Echoed in the response.
    pub uid: String,
    /// The apiVersion to convert to.
    pub desired_api_version: String,
    /// The objects.
    pub objects: Vec<Value>,
}

/// Decodes a ConversionReview body.
pub fn decode_conversion(body: &[u8]) -> Result<ConversionRequest, ReviewError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| ReviewError::Json { kind: CONVERSION, reason: e.to_string() })?;
    let req = field(&v, "/request", CONVERSION, "an object")?;
    let uid = match req.get("uid") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(ReviewError::Field { kind: CONVERSION, field: "/request/uid", expected: "a non-empty string" }),
    };
    let desired_api_version = match req.get("desiredAPIVersion") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(ReviewError::Field { kind: CONVERSION, field: "/request/desiredAPIVersion", expected: "a non-empty string" }),
    };
    let objects = match req.get("objects") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err(ReviewError::Field { kind: CONVERSION, field: "/request/objects", expected: "a list" }),
    };
    Ok(ConversionRequest { api_version: text(&v, "/apiVersion", CONVERSION)?, uid, desired_api_version, objects })
}

/// The ConversionReview answering `req`: the converted objects, or the failure.
pub fn encode_conversion(req: &ConversionRequest, result: &Result<Vec<Value>, ConvertError>) -> Value {
    let api_version = if req.api_version.is_empty() { "apiextensions.k8s.io/v1" } else { req.api_version.as_str() };
    let response = match result {
        Ok(objects) => json!({"uid": req.uid, "convertedObjects": objects, "result": {"status": "Success"}}),
        Err(e) => json!({"uid": req.uid, "convertedObjects": [], "result": {"status": "Failure", "message": e.to_string()}}),
    };
    json!({"apiVersion": api_version, "kind": "ConversionReview", "response": response})
}
