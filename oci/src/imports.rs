//! The loader's [`Remote`]: registry imports resolved through the verified cache, https file
//! imports fetched once and kept. Online, a tag is looked up in the registry every time (a tag
//! moves); when the registry cannot be reached the cached resolution is used with a warning.
//! `offline` never touches the network.

use crate::cache::Cache;
use crate::client::{Options, Registry};
use crate::creds::{self, Credential, EnvNames};
use crate::error::OciError;
use crate::pattern;
use crate::reference::{Base, Reference};
use crate::sign::PublicKey;
use katalog::remote::{Remote, RemoteAuth, RemoteError, RemoteKind, RemoteRequest, Resolved};
use std::path::PathBuf;

/// Resolves remote references for the loader.
#[derive(Debug, Clone)]
pub struct Resolver {
    /// How to reach registries.
    pub options: Options,
    /// Never use the network.
    pub offline: bool,
    /// Where fetched artifacts are kept.
    pub cache: Cache,
}

impl Resolver {
    /// A resolver with the default cache.
    pub fn new(options: Options, offline: bool) -> Resolver {
        Resolver { options, offline, cache: Cache::at(Cache::default_dir()) }
    }

    fn credential(registry: &str, auth: Option<&RemoteAuth>) -> Result<Credential, OciError> {
        match auth {
            Some(RemoteAuth::Basic { username_env, password_env }) => {
                EnvNames::Basic { username: username_env.clone(), password: password_env.clone() }.resolve()
            }
            Some(RemoteAuth::Bearer { token_env }) => EnvNames::Bearer { token: token_env.clone() }.resolve(),
            None => creds::for_cli(registry),
        }
    }

    /// Resolves `request` to the directory of its verified files.
    pub async fn resolve(&self, request: &RemoteRequest) -> Result<Resolved, OciError> {
        let base = if request.kind == RemoteKind::Motif { Base::Motif } else { Base::Katalog };
        let reference = Reference::parse(&request.reference, base)?;
        let key = match &request.verify_key {
            Some(path) => {
                let pem = katalog::files::read_text_bounded(path, 64 * 1024).map_err(|d| OciError::Layout { path: path.clone(), why: d.message })?;
                Some(PublicKey::from_pem(&pem).map_err(|e| OciError::Signature(format!("{}: {e}", katalog::diag::display_path(path))))?)
            }
            None => None,
        };
        let mut warning = None;
        let digest = if self.offline {
            self.cache.lookup(&reference).ok_or_else(|| OciError::NotCached { reference: reference.to_string(), cache: self.cache.root().to_path_buf() })?
        } else {
            match self.fetch(&reference, request.auth.as_ref(), key.as_ref()).await {
                Ok(d) => d,
                Err(e @ OciError::Registry { .. }) => match self.cache.lookup(&reference) {
                    Some(d) if key.is_none() || self.verified_marker(&d, key.as_ref()).is_file() => {
                        warning = Some(format!("{e}; using the cached copy ({d})"));
                        d
                    }
                    _ => return Err(e),
                },
                Err(e) => return Err(e),
            }
        };
        if let Some(k) = &key
            && !self.verified_marker(&digest, Some(k)).is_file()
        {
            return Err(OciError::Signature(format!("{reference} ({digest}) has not been verified with the key {}; verify it online first", k.fingerprint())));
        }
        let dir =
            self.cache.pattern_dir(&digest)?.ok_or_else(|| OciError::NotCached { reference: reference.to_string(), cache: self.cache.root().to_path_buf() })?;
        Ok(Resolved { path: dir, warning })
    }

    fn verified_marker(&self, digest: &str, key: Option<&PublicKey>) -> PathBuf {
        let fp = key.map(PublicKey::fingerprint).unwrap_or_default();
        self.cache.root().join("verified").join(format!("{}-{fp}", digest.replace(':', "-")))
    }

    /// Fetches `reference` into the cache (blobs already there are not fetched again) and
    /// checks its signature; returns the manifest digest.
    async fn fetch(&self, reference: &Reference, auth: Option<&RemoteAuth>, key: Option<&PublicKey>) -> Result<String, OciError> {
        let credential = Self::credential(&reference.registry, auth)?;
        let registry = Registry::connect(reference, &credential, &self.options)?;
        let (manifest, bytes, digest) = registry.manifest(reference).await?;
        if manifest.kind().is_none() {
            return Err(OciError::Manifest { reference: reference.to_string(), why: "not an Orkestra pattern artifact".into() });
        }
        self.cache.put_blob(&digest, &bytes)?;
        for (title, d) in manifest.files()? {
            if self.cache.blob(&d.digest)?.is_none() {
                let blob = registry.blob(reference, d, title).await?;
                self.cache.put_blob(&d.digest, &blob)?;
            }
        }
        self.cache.put_ref(reference, &digest)?;
        if let Some(k) = key {
            pattern::verify(&registry, reference, &digest, k).await?;
            crate::cache::write_atomic(&self.verified_marker(&digest, Some(k)), b"")?;
        }
        Ok(digest)
    }

    /// Fetches an https file into the cache (`files/<sha256 of the URL>/<name>`).
    pub async fn fetch_file(&self, url: &str, auth: Option<&RemoteAuth>) -> Result<Resolved, OciError> {
        let bad = |why: &str| OciError::Reference { reference: url.to_string(), why: why.to_string() };
        let rest = url.strip_prefix("https://").ok_or_else(|| bad("remote files are fetched over https only"))?;
        let name = rest.rsplit('/').next().filter(|n| !n.is_empty() && crate::layout::check_title(n).is_ok()).unwrap_or("katalog.yaml");
        let dir = self.cache.root().join("files").join(crate::layout::sha256(url.as_bytes()).replace(':', "-"));
        let path = dir.join(name);
        let cached = path.is_file();
        if self.offline {
            return if cached {
                Ok(Resolved { path, warning: None })
            } else {
                Err(OciError::NotCached { reference: url.to_string(), cache: self.cache.root().to_path_buf() })
            };
        }
        let host = rest.split('/').next().unwrap_or("").to_string();
        match self.download(url, &host, auth).await {
            Ok(bytes) => {
                crate::cache::write_atomic(&path, &bytes)?;
                Ok(Resolved { path, warning: None })
            }
            Err(e @ OciError::Registry { .. }) if cached => Ok(Resolved { path, warning: Some(format!("{e}; using the cached copy")) }),
            Err(e) => Err(e),
        }
    }

    async fn download(&self, url: &str, host: &str, auth: Option<&RemoteAuth>) -> Result<Vec<u8>, OciError> {
        let net = |message: String| OciError::Registry { registry: host.to_string(), op: "download".into(), message };
        crate::client::ensure_crypto();
        let mut builder = reqwest::Client::builder().connect_timeout(std::time::Duration::from_secs(10)).timeout(std::time::Duration::from_secs(60));
        if let Some(ca) = &self.options.ca_file {
            let pem = katalog::files::read_bounded(ca, 1024 * 1024).map_err(|d| OciError::Layout { path: ca.clone(), why: d.message })?;
            let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| OciError::Layout { path: ca.clone(), why: e.to_string() })?;
            builder = builder.tls_certs_merge([cert]);
        }
        let client = builder.build().map_err(|e| net(e.to_string()))?;
        let mut req = client.get(url);
        // An https file takes only the credentials its entry names (never the registry's).
        if auth.is_some() {
            match Self::credential(host, auth)? {
                Credential::Basic { username, password, .. } => req = req.basic_auth(username, Some(password.expose())),
                Credential::Bearer { token, .. } => req = req.bearer_auth(token.expose()),
                Credential::Anonymous => {}
            }
        }
        let resp = req.send().await.map_err(|e| net(crate::error::describe(&e)))?;
        let status = resp.status();
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(OciError::Unauthorized { registry: host.to_string(), op: "download".into() });
        }
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(OciError::NotFound { reference: url.to_string() });
        }
        if !status.is_success() {
            return Err(net(format!("HTTP {status}")));
        }
        let bytes = resp.bytes().await.map_err(|e| net(crate::error::describe(&e)))?;
        if bytes.len() > 4 * 1024 * 1024 {
            return Err(net("the file is larger than 4 MiB".into()));
        }
        Ok(bytes.to_vec())
    }

    /// Runs `f` on a fresh single-threaded runtime on its own thread: the loader is
    /// synchronous and may itself run inside another runtime.
    fn block<T: Send>(&self, f: impl std::future::Future<Output = Result<T, OciError>> + Send) -> Result<T, RemoteError> {
        std::thread::scope(|s| {
            s.spawn(|| {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| RemoteError { message: format!("cannot start the async runtime: {e}") })?;
                rt.block_on(f).map_err(|e| RemoteError { message: e.to_string() })
            })
            .join()
            .unwrap_or_else(|_| Err(RemoteError { message: "the registry fetch panicked".to_string() }))
        })
    }
}

impl Remote for Resolver {
    fn pattern(&self, request: &RemoteRequest) -> Result<Resolved, RemoteError> {
        self.block(self.resolve(request))
    }

    fn file(&self, url: &str, auth: Option<&RemoteAuth>) -> Result<Resolved, RemoteError> {
        self.block(self.fetch_file(url, auth))
    }
}
