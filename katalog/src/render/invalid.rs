//! The last step of rendering an object: would the API server accept its name, namespace,
//! labels and annotations? A render that produces one it would refuse fails here, in the
//! renderer, so `ork template`, `ork simulate` and the runtime refuse the same objects with the
//! same message, before anything is sent.

use super::{RenderError, RenderFailure};
use crate::names::{NameRule, check_object};
use serde_json::Value;

/// Checks `object` (a rendered child, or the CR when `is_cr`) against the API server's rules for
/// names, labels and annotations; the error names the CRD entry, `resource` (the entry that
/// rendered it: `onCreate.services[0]`, or `cr`), every violation in the API server's words,
/// and how to fix it.
pub(super) fn check(crd: &str, resource: &str, object: &Value, is_cr: bool) -> Result<(), RenderError> {
    let violations = check_object(object);
    if violations.is_empty() {
        return Ok(());
    }
    let text = |p: &str| object.pointer(p).and_then(Value::as_str).unwrap_or_default();
    let kind = text("/kind");
    let group = text("/apiVersion").rsplit_once('/').map_or("", |(g, _)| g);
    let name = text("/metadata/name");
    let shown: String = if name.chars().count() > 80 { format!("{}...", name.chars().take(77).collect::<String>()) } else { name.to_string() };
    let what = if is_cr { format!("the CR ({kind} {shown:?})") } else { format!("the rendered {kind} {shown:?}") };
    let listed: Vec<String> = violations.iter().map(ToString::to_string).collect();
    let mut message = format!("{what} would be refused by the API server: {}", listed.join("; "));
    if violations.iter().any(|v| v.field == "metadata.name") {
        message.push_str(&format!(" ({kind} names must be an {})", NameRule::for_kind(group, kind).describe()));
    }
    message.push_str(if is_cr {
        "; fix the CR's metadata"
    } else {
        "; fix the entry's templates or the CR: `{{ .metadata.name | truncateName }}` keeps a name or label within 63 characters, `slugify` makes text a valid DNS label"
    });
    Err(RenderError { crd: crd.to_string(), resource: resource.to_string(), field: String::new(), message, failure: RenderFailure::InvalidObject })
}
