//! The gateway's TLS: the serving certificate of the webhook server and the CA bundle the API
//! server trusts it with.
//!
//! Managed (the default), the certificate lives in the Secret `orkestra-internal-tls`
//! (`katalog::install::TLS_SECRET`) in the install namespace, type `kubernetes.io/tls`, keys
//! `tls.crt`, `tls.key`, `ca.crt` — plus `ca-previous.crt` while a rotation's old CA is still
//! trusted — so that every replica and every restart serves the same certificate:
//! - missing at the first start: a CA and a serving certificate are generated (rcgen, ECDSA
//!   P-256: see `serve::tls` for why not RSA) and the Secret is created;
//! - present and usable (the key is the certificate's, it chains to `ca.crt`, names every name
//!   the gateway is reached by and is valid now): reused;
//! - malformed or unusable: replaced — by the certificate in memory when that one is usable (the
//!   webhook configurations already trust its CA), else by a new one;
//! - deleted while running: re-created from memory, never regenerated (the CA bundles stay
//!   valid);
//! - expiring within `security.certManager.rotationThreshold` (default 30d, with `validFor`
//!   default 1y, `autoRotate` default true): in one pass a new CA and certificate are generated
//!   and the caller puts BOTH CAs into every CA bundle ("announced"); in the next pass (one sync
//!   interval later, time for API servers to see the new bundles) [`Tls::commit`] writes the
//!   Secret and swaps the serving certificate in the running server ([`ReloadableCert`]) — no
//!   restart, and no request is refused, since the API server trusts the old and the new
//!   certificate alike throughout. The old CA stays in the bundles until the old certificate
//!   would have expired.
//!
//! With certificate files (`TlsSource::Files`) ork manages nothing: it serves the files (re-read
//! each pass, swapped when they change) and uses the certificate file as the CA bundle.
//!
//! Key material is never logged, never in an error, never in `Debug` output.

use super::TlsSource;
use crate::cluster::{ApiResource, Cluster, ClusterError};
use crate::serve::tls::{Ca, Leaf, ReloadableCert, TlsError, Validity, certified_key, verify_leaf};
use katalog::install::TLS_SECRET;
use katalog::model::Katalog;
use katalog::template::{base64_decode, base64_encode};
use katalog::time::{format_rfc3339, parse_rfc3339};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Secret data key of the serving certificate.
pub const CERT_KEY: &str = "tls.crt";
/// Secret data key of the serving certificate's private key.
pub const KEY_KEY: &str = "tls.key";
/// Secret data key of the CA certificate.
pub const CA_KEY: &str = "ca.crt";
/// Secret data key of the previous CA during a rotation's overlap.
pub const PREVIOUS_CA_KEY: &str = "ca-previous.crt";
/// Annotation: until when (RFC 3339) the previous CA stays in the CA bundles.
pub const PREVIOUS_UNTIL: &str = "orkestra.orkspace.io/previous-ca-until";
/// Annotation: when the certificate was generated (RFC 3339).
pub const GENERATED_AT: &str = "orkestra.orkspace.io/generated-at";
/// The largest certificate or key file read (a chain is a few KiB).
const MAX_PEM: u64 = 1024 * 1024;
/// The CA's common name.
const CA_NAME: &str = "orkestra-ca";
/// Generated certificates are valid from a little before now: clocks of the API server and
/// the gateway differ.
const BACKDATE: i64 = 300;

/// How long generated certificates live (`security.certManager`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    /// Validity of a serving certificate (`validFor`, default 1y). The CA gets a day more.
    pub valid_for: Duration,
    /// Rotate when the certificate expires within this (`rotationThreshold`, default 30d).
    pub rotation_threshold: Duration,
    /// Rotate automatically (`autoRotate`, default true); otherwise only warn.
    pub auto_rotate: bool,
}

impl Default for Lifetime {
    fn default() -> Self {
        Lifetime { valid_for: Duration::from_secs(365 * 86400), rotation_threshold: Duration::from_secs(30 * 86400), auto_rotate: true }
    }
}

impl Lifetime {
    /// The Katalog's `security.certManager`, defaults for what it leaves out. A threshold not
    /// below the validity (only possible when one of them is defaulted: `ork validate` refuses
    /// the pair) becomes a third of it, so a fresh certificate is never due for rotation.
    pub fn from_katalog(k: &Katalog) -> Lifetime {
        let mut lt = Lifetime::default();
        let Some(cm) = k.security.as_ref().and_then(|s| s.cert_manager.as_ref()) else { return lt };
        let secs = |d: &Option<katalog::decode::Str>| d.as_ref().and_then(|d| katalog::duration::parse_duration(d)).filter(|s| s.is_finite() && *s > 0.0);
        if let Some(v) = secs(&cm.valid_for) {
            lt.valid_for = Duration::from_secs_f64(v.max(1.0));
        }
        if let Some(t) = secs(&cm.rotation_threshold) {
            lt.rotation_threshold = Duration::from_secs_f64(t);
        }
        if lt.rotation_threshold >= lt.valid_for {
            lt.rotation_threshold = lt.valid_for / 3;
        }
        lt.auto_rotate = cm.auto_rotate != Some(false);
        lt
    }
}

/// What the gateway serves and what the API server must trust. (No `Debug` derive: the key.)
#[derive(Clone, PartialEq, Eq)]
pub struct Material {
    /// The CA that signed the serving certificate, PEM.
    pub ca_pem: String,
    /// The serving certificate and its key.
    pub leaf: Leaf,
    /// The CA of the certificate before the last rotation, and until when (Unix seconds) it is
    /// still trusted.
    pub previous_ca: Option<(String, i64)>,
    /// Generated by ork (kept in the Secret), or read from files.
    pub managed: bool,
}

impl std::fmt::Debug for Material {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Material")
            .field("previous_ca", &self.previous_ca.as_ref().map(|(_, until)| until))
            .field("managed", &self.managed)
            .finish_non_exhaustive()
    }
}

impl Material {
    /// The PEM the API server trusts: the CA, and the previous one until its time is up.
    pub fn ca_bundle(&self, now: i64) -> String {
        let mut out = self.ca_pem.trim_end().to_string();
        out.push('\n');
        if let Some((prev, until)) = &self.previous_ca
            && *until > now
        {
            out.push_str(prev.trim_end());
            out.push('\n');
        }
        out
    }

    /// The Secret holding this material in namespace `ns`.
    pub fn to_secret(&self, ns: &str, now: i64) -> Value {
        let mut data = json!({
            CERT_KEY: base64_encode(self.leaf.cert_pem.as_bytes()),
            KEY_KEY: base64_encode(self.leaf.key_pem.as_bytes()),
            CA_KEY: base64_encode(self.ca_pem.as_bytes()),
        });
        let mut annotations = json!({ GENERATED_AT: format_rfc3339(now) });
        if let Some((prev, until)) = &self.previous_ca {
            data[PREVIOUS_CA_KEY] = json!(base64_encode(prev.as_bytes()));
            annotations[PREVIOUS_UNTIL] = json!(format_rfc3339(*until));
        }
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": TLS_SECRET, "namespace": ns, "labels": secret_labels(), "annotations": annotations},
            "type": "kubernetes.io/tls",
            "data": data,
        })
    }

    /// Reads the material of the Secret `secret`; the error says what is wrong (never its
    /// content).
    pub fn from_secret(secret: &Value) -> Result<Material, Malformed> {
        let text = |key: &'static str| -> Result<Option<String>, Malformed> {
            let Some(v) = secret.pointer(&format!("/data/{}", key.replace('/', "~1"))) else { return Ok(None) };
            let b64 = v.as_str().ok_or(Malformed { key, problem: "is not a string" })?;
            let bytes = base64_decode(b64).map_err(|_| Malformed { key, problem: "is not base64" })?;
            String::from_utf8(bytes).map(Some).map_err(|_| Malformed { key, problem: "is not PEM text" })
        };
        let need = |key: &'static str| text(key)?.ok_or(Malformed { key, problem: "is missing" });
        let (cert_pem, key_pem, ca_pem) = (need(CERT_KEY)?, need(KEY_KEY)?, need(CA_KEY)?);
        let until =
            secret.pointer(&format!("/metadata/annotations/{}", PREVIOUS_UNTIL.replace('/', "~1"))).and_then(Value::as_str).and_then(|t| parse_rfc3339(t).ok());
        let previous_ca = match (text(PREVIOUS_CA_KEY)?, until) {
            (Some(prev), Some(until)) => Some((prev, until)),
            _ => None,
        };
        Ok(Material { ca_pem, leaf: Leaf { cert_pem, key_pem }, previous_ca, managed: true })
    }
}

/// What is wrong with a stored Secret (its content is never quoted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("data.{key} {problem}")]
pub struct Malformed {
    /// The data key.
    pub key: &'static str,
    /// What is wrong with it.
    pub problem: &'static str,
}

/// The labels of the Secret: Orkestra's resource labels.
pub fn secret_labels() -> Value {
    json!({"app.kubernetes.io/name": "orkestra", "app.kubernetes.io/tag": "orkestra-internal", "app.kubernetes.io/component": "tls"})
}

/// Whether stored material can be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Usable and not due for rotation.
    Good,
    /// Usable, but expires within the rotation threshold.
    Expiring,
    /// Not usable: why.
    Unusable(String),
}

/// Checks `m` for the server names `names` at `now` (Unix seconds).
pub fn check(m: &Material, names: &[String], now: i64, lt: &Lifetime) -> Check {
    if let Err(e) = certified_key(&m.leaf) {
        return Check::Unusable(format!("the key does not match the certificate or does not parse ({})", kind_of(&e)));
    }
    for name in names {
        if let Err(e) = verify_leaf(m.ca_pem.as_bytes(), m.leaf.cert_pem.as_bytes(), name, now) {
            return Check::Unusable(e.to_string());
        }
    }
    let later = now.saturating_add(lt.rotation_threshold.as_secs() as i64);
    let first = names.first().map_or("localhost", String::as_str);
    if verify_leaf(m.ca_pem.as_bytes(), m.leaf.cert_pem.as_bytes(), first, later).is_err() {
        return Check::Expiring;
    }
    Check::Good
}

/// A short description of a TLS error that cannot quote key material.
fn kind_of(e: &TlsError) -> &'static str {
    match e {
        TlsError::Pem(_) => "PEM",
        TlsError::Rustls(_) => "rejected by rustls",
        TlsError::NoCertificate => "no certificate",
        _ => "unusable",
    }
}

/// New material for `names`: a CA valid for `validFor` + 1 day and a serving certificate valid
/// for `validFor`, both from 5 minutes ago.
pub fn generate(names: &[String], now: i64, lt: &Lifetime) -> Result<Material, TlsError> {
    let secs = lt.valid_for.as_secs().max(1) as i64;
    let ca = Ca::with_validity(CA_NAME, Validity { not_before: now - BACKDATE, not_after: now + secs + 86400 })?;
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let leaf = ca.leaf_with(&refs, Some(Validity { not_before: now - BACKDATE, not_after: now + secs }))?;
    Ok(Material { ca_pem: ca.pem(), leaf, previous_ca: None, managed: true })
}

/// Why the TLS material could not be made or kept.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// The Secret could not be read or written.
    #[error("TLS Secret {namespace}/{TLS_SECRET}: {source}")]
    Secret {
        /// Install namespace.
        namespace: String,
        /// The API error.
        #[source]
        source: ClusterError,
    },
    /// A certificate could not be generated or served.
    #[error("TLS certificate: {0}")]
    Tls(#[from] TlsError),
    /// A certificate or key file could not be read (missing, not a file, larger than 1 MiB).
    #[error("TLS file: {0}")]
    File(#[source] katalog::diag::Diagnostic),
    /// A certificate or key file is not text.
    #[error("TLS file {}: not PEM text", .0.display())]
    NotPem(PathBuf),
    /// No usable certificate yet (a follower waits for the leader to create the Secret).
    #[error("no usable TLS certificate yet: {0}")]
    NotYet(String),
}

/// What a pass decided about the TLS material, applied by [`Tls::commit`] once the CA bundles
/// trust it.
#[derive(Debug)]
pub struct Prepared {
    /// The material whose CA bundle the configurations carry, and (with `serve`) to serve.
    pub material: Material,
    /// Serve it now; `false` while a rotation is announced (bundles first).
    serve: bool,
    write: Write,
    /// Why it changed (for the log), if it did.
    pub change: Option<&'static str>,
}

#[derive(Debug, PartialEq, Eq)]
enum Write {
    None,
    Create,
    /// Update the Secret at this resourceVersion.
    Update(String),
}

impl Prepared {
    /// Whether this is a rotation step (announcing a new CA, or serving it): only done when
    /// every CA bundle was written in the same pass.
    pub fn rotates(&self) -> bool {
        matches!(self.change, Some("rotated" | "rotation announced"))
    }
}

/// The gateway's certificate state: the running server's certificate and the material behind it.
pub struct Tls {
    source: TlsSource,
    names: Vec<String>,
    namespace: String,
    lifetime: Lifetime,
    serving: Arc<ReloadableCert>,
    current: Mutex<Option<Material>>,
    /// A rotation's new material, once its CA is in the bundles.
    announced: Mutex<Option<Material>>,
    warned_expiry: std::sync::atomic::AtomicBool,
}

fn secret_resource() -> ApiResource {
    katalog::kinds::known("", "Secret").unwrap_or(ApiResource {
        group: String::new(),
        version: "v1".into(),
        kind: "Secret".into(),
        plural: "secrets".into(),
        namespaced: true,
    })
}

impl Tls {
    /// The state for `names` (what the API server connects to), serving nothing until the first
    /// [`Tls::commit`].
    pub fn new(source: TlsSource, names: Vec<String>, namespace: &str, lifetime: Lifetime) -> Tls {
        Tls {
            source,
            names,
            namespace: namespace.to_string(),
            lifetime,
            serving: ReloadableCert::empty(),
            current: Mutex::new(None),
            announced: Mutex::new(None),
            warned_expiry: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The certificate resolver of the HTTPS server.
    pub fn serving(&self) -> Arc<ReloadableCert> {
        self.serving.clone()
    }

    /// The material being served, if any.
    pub fn current(&self) -> Option<Material> {
        self.current.lock().ok().and_then(|c| c.clone())
    }

    /// The names the certificate must carry.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Decides what to serve: reads the Secret (or the files) and compares with memory.
    /// `writer`: this replica may create, replace and rotate the Secret (the housekeeper's
    /// leader); a follower only adopts what the leader wrote.
    pub async fn prepare<C: Cluster>(&self, cluster: &C, now: i64, writer: bool) -> Result<Prepared, CertError> {
        let memory = self.current();
        if let TlsSource::Files { cert, key } = &self.source {
            let read = |p: &PathBuf| {
                let bytes = katalog::files::read_bounded(p, MAX_PEM).map_err(CertError::File)?;
                String::from_utf8(bytes).map_err(|_| CertError::NotPem(p.clone()))
            };
            let leaf = Leaf { cert_pem: read(cert)?, key_pem: read(key)? };
            certified_key(&leaf)?;
            let material = Material { ca_pem: leaf.cert_pem.clone(), leaf, previous_ca: None, managed: false };
            let change = (memory.as_ref() != Some(&material)).then_some("read from files");
            return Ok(Prepared { material, serve: true, write: Write::None, change });
        }
        let secrets = secret_resource();
        let ns = self.namespace.as_str();
        let err = |source| CertError::Secret { namespace: self.namespace.clone(), source };
        let usable = |m: &Material| !matches!(check(m, &self.names, now, &self.lifetime), Check::Unusable(_));
        let stored = match cluster.get(&secrets, Some(ns), TLS_SECRET).await {
            Ok(s) => Some(s),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(err(e)),
        };
        let Some(secret) = stored else {
            if !writer {
                return match memory {
                    Some(m) => Ok(Prepared { material: m, serve: true, write: Write::None, change: None }),
                    None => Err(CertError::NotYet(format!("the Secret {ns}/{TLS_SECRET} does not exist yet"))),
                };
            }
            // Deleted while running: restore what the bundles trust; never regenerate.
            return Ok(match memory.filter(|m| usable(m)) {
                Some(m) => Prepared { material: m, serve: true, write: Write::Create, change: Some("restored from memory") },
                None => Prepared { material: generate(&self.names, now, &self.lifetime)?, serve: true, write: Write::Create, change: Some("generated") },
            });
        };
        let rv = secret.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or_default().to_string();
        let parsed = Material::from_secret(&secret);
        let verdict = match &parsed {
            Ok(m) => check(m, &self.names, now, &self.lifetime),
            Err(why) => Check::Unusable(why.to_string()),
        };
        match (verdict, parsed) {
            (Check::Good, Ok(m)) => {
                let change = (memory.as_ref() != Some(&m)).then_some("loaded from the Secret");
                Ok(Prepared { material: m, serve: true, write: Write::None, change })
            }
            (Check::Expiring, Ok(m)) if !writer || !self.lifetime.auto_rotate => {
                if !self.lifetime.auto_rotate && !self.warned_expiry.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    tracing::warn!(
                        secret = TLS_SECRET,
                        namespace = ns,
                        "the gateway's certificate expires within the rotation threshold and security.certManager.autoRotate is false: rotate it by deleting the Secret and restarting the gateway"
                    );
                }
                let change = (memory.as_ref() != Some(&m)).then_some("loaded from the Secret");
                Ok(Prepared { material: m, serve: true, write: Write::None, change })
            }
            (Check::Expiring, Ok(old)) => {
                let announced = self.announced.lock().ok().and_then(|a| a.clone()).filter(|a| a.previous_ca.as_ref().is_some_and(|(ca, _)| *ca == old.ca_pem));
                if let Some(next) = announced {
                    // Its CA has been in the bundles for a pass: serve it.
                    return Ok(Prepared { material: next, serve: true, write: Write::Update(rv), change: Some("rotated") });
                }
                let mut next = generate(&self.names, now, &self.lifetime)?;
                // The old certificate expires within the threshold: trust its CA until then.
                next.previous_ca = Some((old.ca_pem, now.saturating_add(self.lifetime.rotation_threshold.as_secs() as i64)));
                Ok(Prepared { material: next, serve: false, write: Write::None, change: Some("rotation announced") })
            }
            (Check::Unusable(why), _) => {
                if !writer {
                    return match memory {
                        Some(m) => Ok(Prepared { material: m, serve: true, write: Write::None, change: None }),
                        None => Err(CertError::NotYet(format!("the Secret {ns}/{TLS_SECRET} is not usable ({why}); waiting for the leader to replace it"))),
                    };
                }
                tracing::warn!(secret = TLS_SECRET, namespace = ns, "the TLS Secret is not usable ({why}): replacing it");
                Ok(match memory.filter(|m| usable(m)) {
                    Some(m) => Prepared { material: m, serve: true, write: Write::Update(rv), change: Some("replaced from memory") },
                    None => Prepared { material: generate(&self.names, now, &self.lifetime)?, serve: true, write: Write::Update(rv), change: Some("replaced") },
                })
            }
            // `check` gives Good/Expiring only for parsed material.
            (_, Err(why)) => Err(CertError::NotYet(why.to_string())),
        }
    }

    /// Writes the Secret when `p` says so, then serves its certificate. A conflicting writer
    /// (another replica) is not an error: the next pass adopts what it wrote.
    pub async fn commit<C: Cluster>(&self, cluster: &C, p: Prepared, now: i64) -> Result<(), CertError> {
        let ns = self.namespace.as_str();
        if !p.serve {
            tracing::info!(
                secret = TLS_SECRET,
                namespace = ns,
                "TLS certificate expires soon: the new CA is in the CA bundles, the new certificate is served next pass"
            );
            if let Ok(mut a) = self.announced.lock() {
                *a = Some(p.material);
            }
            return Ok(());
        }
        let secrets = secret_resource();
        let err = |source| CertError::Secret { namespace: self.namespace.clone(), source };
        let body = p.material.to_secret(ns, now);
        match &p.write {
            Write::None => {}
            Write::Create => match cluster.create(&secrets, Some(ns), &body).await {
                Ok(_) => {}
                Err(ClusterError::AlreadyExists { .. }) => return Ok(()),
                Err(e) => return Err(err(e)),
            },
            Write::Update(rv) => {
                let mut body = body;
                body["metadata"]["resourceVersion"] = json!(rv);
                match cluster.update(&secrets, Some(ns), &body).await {
                    Ok(_) => {}
                    Err(ClusterError::Conflict { .. }) | Err(ClusterError::NotFound { .. }) => return Ok(()),
                    Err(e) => return Err(err(e)),
                }
            }
        }
        if let Some(why) = p.change {
            tracing::info!(secret = TLS_SECRET, namespace = ns, "TLS certificate {why}");
        }
        let changed = self.current().as_ref().map(|m| &m.leaf) != Some(&p.material.leaf);
        if changed {
            self.serving.set(&p.material.leaf)?;
        }
        if let Ok(mut c) = self.current.lock() {
            *c = Some(p.material);
        }
        if let Ok(mut a) = self.announced.lock() {
            *a = None;
        }
        Ok(())
    }

    /// Deletes the Secret (cleanupOnShutdown), when ork manages it.
    pub async fn delete_secret<C: Cluster>(&self, cluster: &C) -> Result<(), CertError> {
        if !matches!(self.source, TlsSource::Managed) {
            return Ok(());
        }
        match cluster.delete(&secret_resource(), Some(&self.namespace), TLS_SECRET, crate::cluster::Propagation::Background).await {
            Ok(()) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(source) => Err(CertError::Secret { namespace: self.namespace.clone(), source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        vec!["orkestra-gateway.ns.svc".into(), "127.0.0.1".into()]
    }

    #[test]
    fn generated_material_is_good_then_expiring_then_unusable() {
        let lt = Lifetime { valid_for: Duration::from_secs(100), rotation_threshold: Duration::from_secs(30), auto_rotate: true };
        let now = 1_800_000_000;
        let m = generate(&names(), now, &lt).unwrap();
        assert_eq!(check(&m, &names(), now, &lt), Check::Good);
        assert_eq!(check(&m, &names(), now + 80, &lt), Check::Expiring);
        assert!(matches!(check(&m, &names(), now + 200, &lt), Check::Unusable(_)));
        assert!(matches!(check(&m, &["other.example".to_string()], now, &lt), Check::Unusable(_)));
    }

    #[test]
    fn a_secret_round_trips_and_a_malformed_one_says_why_without_its_content() {
        let lt = Lifetime::default();
        let mut m = generate(&names(), 1_800_000_000, &lt).unwrap();
        m.previous_ca = Some((m.ca_pem.clone(), 1_800_000_100));
        let s = m.to_secret("ns", 1_800_000_000);
        assert_eq!(s["type"], "kubernetes.io/tls");
        assert_eq!(Material::from_secret(&s).unwrap(), m);
        assert_eq!(m.ca_bundle(1_800_000_000).matches("BEGIN CERTIFICATE").count(), 2);
        assert_eq!(m.ca_bundle(1_800_000_100).matches("BEGIN CERTIFICATE").count(), 1);
        let mut bad = s.clone();
        bad["data"]["tls.key"] = json!("not base64!");
        assert_eq!(Material::from_secret(&bad).unwrap_err().to_string(), "data.tls.key is not base64");
        assert!(!format!("{m:?}").contains("PRIVATE KEY"));
    }

    #[test]
    fn a_swapped_key_is_unusable() {
        let lt = Lifetime::default();
        let a = generate(&names(), 1_800_000_000, &lt).unwrap();
        let b = generate(&names(), 1_800_000_000, &lt).unwrap();
        let mixed = Material { leaf: Leaf { cert_pem: a.leaf.cert_pem.clone(), key_pem: b.leaf.key_pem.clone() }, ..a };
        assert!(matches!(check(&mixed, &names(), 1_800_000_000, &lt), Check::Unusable(_)));
    }
}
