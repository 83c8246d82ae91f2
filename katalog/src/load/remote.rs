//! The loader's side of [`crate::remote`]: turning an import entry into a request, and a
//! resolved directory into a confined pattern root.

use crate::remote::{RemoteKind, RemoteRequest, auth_of};
use std::path::PathBuf;

/// The request for the reference `raw` (a registry import as written): `oci://` and the YAML
/// form's `@version` accepted, a separate `version:` applied when the reference has no tag,
/// `auth:` and `verify:` taken from `entry` (`verify:` resolved against the file at `at`).
pub(crate) fn request(raw: &str, version: Option<&str>, kind: RemoteKind, entry: &crate::yaml::Node, at: crate::diag::Span) -> RemoteRequest {
    let bare = raw.trim().strip_prefix("oci://").unwrap_or(raw.trim());
    // In YAML, `name@v1` is a version (only a digest keeps its '@').
    let mut reference = match bare.rsplit_once('@') {
        Some((name, ver)) if !ver.contains(':') => format!("{name}:{ver}"),
        _ => bare.to_string(),
    };
    let last = reference.rsplit('/').next().unwrap_or("");
    if let Some(v) = version
        && !last.contains(':')
        && !reference.contains('@')
    {
        reference = format!("{reference}:{v}");
    }
    let verify_key = entry.get("verify").and_then(crate::yaml::Node::as_scalar_text).map(|k| super::include::join_relative(&at.file.path(), k));
    RemoteRequest { reference, kind, auth: auth_of(entry.get("auth")), verify_key }
}

/// Resolves `request` with the context's [`Remote`]: the directory of the fetched pattern,
/// confined to itself from now on; a failure (or no resolver) is an error at `at`.
pub(crate) fn fetch(cx: &mut crate::decode::Cx, request: RemoteRequest, at: crate::diag::Span) -> Option<PathBuf> {
    use crate::diag::Diagnostic;
    let Some(remote) = cx.remote() else {
        cx.push(
            Diagnostic::error(
                "registry-unavailable",
                format!("`{}` is a registry reference, and this command does not fetch from registries", request.reference),
            )
            .at(at)
            .help("run `ork validate`, `ork simulate` or `ork pull` for it, or import the pattern by a local path"),
        );
        return None;
    };
    match remote.pattern(&request) {
        Ok(resolved) => {
            if let Some(w) = resolved.warning {
                cx.push(Diagnostic::warning("registry-unreachable", w).at(at));
            }
            cx.add_fetched_root(&resolved.path);
            Some(resolved.path)
        }
        Err(message) => {
            cx.push(Diagnostic::error("import-failed", format!("cannot fetch `{}`: {message}", request.reference)).at(at));
            None
        }
    }
}
