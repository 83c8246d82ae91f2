//! Registry credentials: always *named* — by environment variables, a docker `config.json`
//! entry or a credential helper — and read at use. A [`Credential`] never prints its secret:
//! its `Debug` shows only the scheme and where it came from, and no message of this crate
//! contains one.

use crate::error::OciError;
use base64::Engine;
use std::path::PathBuf;

/// The CLI's username variable.
pub const USERNAME_ENV: &str = "ORK_REGISTRY_USERNAME";
/// The CLI's password variable.
pub const PASSWORD_ENV: &str = "ORK_REGISTRY_PASSWORD";

/// A secret string: compared and used, never shown.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `s`.
    pub fn new(s: String) -> Secret {
        Secret(s)
    }

    /// The secret itself, for the HTTP client only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How to authenticate to one registry.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// No credentials.
    Anonymous,
    /// HTTP basic (or the registry's token service with these).
    Basic {
        /// The user name (not secret, but not printed either).
        username: String,
        /// The password or token.
        password: Secret,
        /// Where they came from, for messages: `env ORK_REGISTRY_USERNAME`, `docker config`.
        source: String,
    },
    /// A bearer token.
    Bearer {
        /// The token.
        token: Secret,
        /// Where it came from.
        source: String,
    },
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Anonymous => f.write_str("Anonymous"),
            Credential::Basic { source, .. } => write!(f, "Basic(from {source})"),
            Credential::Bearer { source, .. } => write!(f, "Bearer(from {source})"),
        }
    }
}

impl Credential {
    pub(crate) fn to_client(&self) -> oci_client::secrets::RegistryAuth {
        use oci_client::secrets::RegistryAuth;
        match self {
            Credential::Anonymous => RegistryAuth::Anonymous,
            Credential::Basic { username, password, .. } => RegistryAuth::Basic(username.clone(), password.expose().to_string()),
            Credential::Bearer { token, .. } => RegistryAuth::Bearer(token.expose().to_string()),
        }
    }

    /// A human description without the secret: `anonymous`, `basic (env ORK_REGISTRY_USERNAME)`.
    pub fn describe(&self) -> String {
        match self {
            Credential::Anonymous => "anonymous".into(),
            Credential::Basic { source, .. } => format!("basic ({source})"),
            Credential::Bearer { source, .. } => format!("bearer ({source})"),
        }
    }
}

/// Credentials named by variables, as written in a Katalog or Komposer `auth:` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvNames {
    /// `type: basic` with `usernameFromEnv` / `passwordFromEnv`.
    Basic {
        /// Variable holding the user name.
        username: String,
        /// Variable holding the password.
        password: String,
    },
    /// `type: bearer` (or `github`) with `fromEnv`.
    Bearer {
        /// Variable holding the token.
        token: String,
    },
}

fn var(name: &str, what: &str) -> Result<String, OciError> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => Err(OciError::MissingEnv { var: name.to_string(), what: what.to_string() }),
    }
}

impl EnvNames {
    /// Reads the variables now.
    pub fn resolve(&self) -> Result<Credential, OciError> {
        match self {
            EnvNames::Basic { username, password } => Ok(Credential::Basic {
                username: var(username, "the registry user name of this import")?,
                password: Secret::new(var(password, "the registry password of this import")?),
                source: format!("env {username}"),
            }),
            EnvNames::Bearer { token } => {
                Ok(Credential::Bearer { token: Secret::new(var(token, "the registry token of this import")?), source: format!("env {token}") })
            }
        }
    }
}

/// The CLI's credentials for `registry`: `ORK_REGISTRY_USERNAME` + `ORK_REGISTRY_PASSWORD`
/// when set (both, or an error naming the missing one), else the docker config's entry for the
/// host (`auths` or a credential helper), else anonymous.
pub fn for_cli(registry: &str) -> Result<Credential, OciError> {
    let user = std::env::var(USERNAME_ENV).ok().filter(|s| !s.is_empty());
    let pass = std::env::var(PASSWORD_ENV).ok().filter(|s| !s.is_empty());
    match (user, pass) {
        (Some(username), Some(password)) => {
            return Ok(Credential::Basic { username, password: Secret::new(password), source: format!("env {USERNAME_ENV}") });
        }
        (Some(_), None) => {
            return Err(OciError::MissingEnv { var: PASSWORD_ENV.into(), what: format!("{USERNAME_ENV} is set, so the password is expected here") });
        }
        (None, Some(_)) => {
            return Err(OciError::MissingEnv { var: USERNAME_ENV.into(), what: format!("{PASSWORD_ENV} is set, so the user name is expected here") });
        }
        (None, None) => {}
    }
    Ok(docker_config(registry)?.unwrap_or(Credential::Anonymous))
}

/// The docker config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("config.json"));
    }
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".docker/config.json"))
}

/// The host part of a docker config key (`https://index.docker.io/v1/` → `index.docker.io`).
fn key_host(key: &str) -> &str {
    let k = key.strip_prefix("https://").or_else(|| key.strip_prefix("http://")).unwrap_or(key);
    k.split('/').next().unwrap_or(k)
}

/// The credential the docker config holds for `registry`, if any.
fn docker_config(registry: &str) -> Result<Option<Credential>, OciError> {
    let Some(path) = docker_config_path() else { return Ok(None) };
    let bytes = match katalog::files::read_bounded(&path, 1024 * 1024) {
        Ok(b) => b,
        Err(d) if d.code == "file-not-found" => return Ok(None),
        Err(d) => return Err(OciError::Layout { path, why: d.message }),
    };
    let bad = |why: &str| OciError::Layout { path: path.clone(), why: why.to_string() };
    let config: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| bad(&format!("not valid JSON ({e})")))?;
    let source = format!("docker config {}", katalog::diag::display_path(&path));
    if let Some(helper) = config["credHelpers"].as_object().and_then(|m| m.iter().find(|(k, _)| key_host(k) == registry)).and_then(|(_, v)| v.as_str()) {
        return helper_get(helper, registry);
    }
    if let Some((_, entry)) = config["auths"].as_object().and_then(|m| m.iter().find(|(k, _)| key_host(k) == registry)) {
        if let Some(token) = entry["identitytoken"].as_str().filter(|t| !t.is_empty()) {
            return Ok(Some(Credential::Bearer { token: Secret::new(token.to_string()), source }));
        }
        if let Some(auth) = entry["auth"].as_str().filter(|a| !a.is_empty()) {
            let decoded = base64::engine::general_purpose::STANDARD.decode(auth).map_err(|_| bad(&format!("auths.{registry}.auth is not base64")))?;
            let text = String::from_utf8(decoded).map_err(|_| bad(&format!("auths.{registry}.auth is not UTF-8")))?;
            let (username, password) = text.split_once(':').ok_or_else(|| bad(&format!("auths.{registry}.auth is not user:password")))?;
            return Ok(Some(Credential::Basic { username: username.to_string(), password: Secret::new(password.to_string()), source }));
        }
        if let (Some(u), Some(p)) = (entry["username"].as_str(), entry["password"].as_str()) {
            return Ok(Some(Credential::Basic { username: u.to_string(), password: Secret::new(p.to_string()), source }));
        }
    }
    if let Some(store) = config["credsStore"].as_str().filter(|s| !s.is_empty()) {
        return helper_get(store, registry);
    }
    Ok(None)
}

/// Asks `docker-credential-<helper> get` for `registry` (the docker credential-helper protocol:
/// the server URL on stdin, `{"Username","Secret"}` on stdout). A helper that is not installed
/// or knows no credential for the host gives none.
fn helper_get(helper: &str, registry: &str) -> Result<Option<Credential>, OciError> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    if !helper.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Ok(None);
    }
    let program = format!("docker-credential-{helper}");
    let Ok(mut child) = Command::new(&program).arg("get").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn() else {
        return Ok(None);
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(registry.as_bytes());
    }
    let Ok(out) = child.wait_with_output() else { return Ok(None) };
    if !out.status.success() {
        return Ok(None);
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let (Some(user), Some(secret)) = (v["Username"].as_str(), v["Secret"].as_str()) else { return Ok(None) };
    let source = format!("credential helper {program}");
    // The helper protocol's convention: the user `<token>` means the secret is an identity token.
    if user == "<token>" {
        return Ok(Some(Credential::Bearer { token: Secret::new(secret.to_string()), source }));
    }
    Ok(Some(Credential::Basic { username: user.to_string(), password: Secret::new(secret.to_string()), source }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let c = Credential::Basic { username: "u".into(), password: Secret::new("hunter2-secret".into()), source: "env X".into() };
        let shown = format!("{c:?} {}", c.describe());
        assert!(!shown.contains("hunter2"), "{shown}");
        let b = Credential::Bearer { token: Secret::new("tok-secret".into()), source: "env T".into() };
        assert!(!format!("{b:?}").contains("tok-secret"));
    }

    #[test]
    fn docker_keys() {
        assert_eq!(key_host("https://index.docker.io/v1/"), "index.docker.io");
        assert_eq!(key_host("127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(key_host("http://localhost:5000"), "localhost:5000");
    }
}
