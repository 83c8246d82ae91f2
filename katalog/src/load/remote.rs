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

#[cfg(test)]
mod tests {
    use crate::load::{LoadOptions, load_file};
    use crate::remote::{Remote, RemoteAuth, RemoteError, RemoteKind, RemoteRequest, Resolved};
    use std::path::{Path, PathBuf};
    use std::sync::{Arc, Mutex};

    /// Resolves every reference to one directory and records the requests.
    struct Dir(PathBuf, Mutex<Vec<RemoteRequest>>);

    impl Remote for Dir {
        fn pattern(&self, request: &RemoteRequest) -> Result<Resolved, RemoteError> {
            self.1.lock().unwrap_or_else(|e| e.into_inner()).push(request.clone());
            Ok(Resolved { path: self.0.clone(), warning: None })
        }
        fn file(&self, url: &str, _: Option<&RemoteAuth>) -> Result<Resolved, RemoteError> {
            Err(RemoteError { message: format!("no network in this test ({url})") })
        }
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(path, text).unwrap_or_else(|e| panic!("{e}"));
    }

    const KATALOG: &str = "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: imported}\nprofiles:\n  include: ../outside.yaml\nspec:\n  crds:\n    web:\n      apiTypes: {group: x.dev, version: v1, kind: Web, plural: webs}\n";

    #[test]
    fn registry_imports_resolve_through_the_remote_and_stay_in_their_directory() {
        let d = std::env::temp_dir().join(format!("katalog-remote-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        write(&d.join("cache/p/katalog.yaml"), KATALOG);
        write(&d.join("cache/outside.yaml"), "user: []\n");
        write(
            &d.join("consumer/komposer.yaml"),
            "apiVersion: orkestra.orkspace.io/v1\nkind: Komposer\nmetadata: {name: c}\nimports:\n  registry:\n    - url: oci://r.example/team/p@v1\n      auth: {type: basic, usernameFromEnv: U, passwordFromEnv: P}\n      verify: keys/ork.pub\n",
        );
        let remote = Arc::new(Dir(d.join("cache/p"), Mutex::new(Vec::new())));
        let loaded = load_file(&d.join("consumer/komposer.yaml"), &LoadOptions { remote: Some(remote.clone()), ..LoadOptions::default() });
        let requests = remote.1.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].reference, "r.example/team/p:v1");
        assert_eq!(requests[0].kind, RemoteKind::Katalog);
        assert_eq!(requests[0].auth, Some(RemoteAuth::Basic { username_env: "U".into(), password_env: "P".into() }));
        assert_eq!(requests[0].verify_key, Some(d.join("consumer/keys/ork.pub")));
        // The imported Katalog's include leaves its own directory: refused, naming the include.
        let outside: Vec<String> = loaded.diagnostics.iter().filter(|x| x.code == "outside-root").map(|x| x.message.clone()).collect();
        assert_eq!(outside.len(), 1, "{:?}", loaded.diagnostics);
        assert!(outside[0].contains("include") && outside[0].contains("outside.yaml"), "{}", outside[0]);
        // Without a resolver, the reference is an error that says what to do.
        let plain = load_file(&d.join("consumer/komposer.yaml"), &LoadOptions::default());
        assert!(plain.diagnostics.iter().any(|x| x.code == "registry-unavailable"), "{:?}", plain.diagnostics);
        let _ = std::fs::remove_dir_all(&d);
    }
}
