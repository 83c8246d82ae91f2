//! One registry connection: TLS by default (plus a custom CA), plain HTTP only to this machine
//! unless explicitly allowed, credentials per [`crate::creds`], and every byte fetched checked
//! against the digest it was fetched by.

use crate::creds::Credential;
use crate::error::OciError;
use crate::layout::{self, Descriptor, Manifest};
use crate::reference::Reference;
use futures_util::StreamExt;
use oci_client::RegistryOperation;
use std::path::PathBuf;
use std::time::Duration;

/// How to reach registries.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Plain HTTP (only to localhost / 127.0.0.1 / ::1 unless [`Options::allow_insecure_remote`]).
    pub insecure_http: bool,
    /// Let [`Options::insecure_http`] reach other hosts.
    pub allow_insecure_remote: bool,
    /// A PEM file of extra CA certificates to trust.
    pub ca_file: Option<PathBuf>,
}

/// Blobs uploaded at once.
const UPLOADS: usize = 4;

/// What is accepted as a manifest.
const ACCEPT: &[&str] = &[layout::MANIFEST_MEDIA_TYPE];

/// A client for the registry of one reference.
pub struct Registry {
    client: oci_client::Client,
    auth: oci_client::secrets::RegistryAuth,
    registry: String,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("registry", &self.registry).finish_non_exhaustive()
    }
}

/// Progress of a transfer, for a progress bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Files done.
    pub files_done: usize,
    /// Files in all.
    pub files: usize,
    /// Bytes done.
    pub bytes_done: u64,
    /// Bytes in all.
    pub bytes: u64,
}

impl Registry {
    /// A client for `reference`'s registry with `credential`.
    pub fn connect(reference: &Reference, credential: &Credential, options: &Options) -> Result<Registry, OciError> {
        ensure_crypto();
        let mut config = oci_client::client::ClientConfig {
            connect_timeout: Some(Duration::from_secs(10)),
            read_timeout: Some(Duration::from_secs(60)),
            user_agent: concat!("ork/", env!("CARGO_PKG_VERSION")),
            platform_resolver: None,
            // One POST and one PUT a blob: patterns are small files, so round trips dominate.
            use_monolithic_push: true,
            ..Default::default()
        };
        if options.insecure_http {
            if !reference.is_loopback() && !options.allow_insecure_remote {
                return Err(OciError::InsecureRemote { registry: reference.registry.clone() });
            }
            config.protocol = oci_client::client::ClientProtocol::HttpsExcept(vec![reference.registry.clone()]);
        }
        if let Some(ca) = &options.ca_file {
            let data = katalog::files::read_bounded(ca, 1024 * 1024).map_err(|d| OciError::Layout { path: ca.clone(), why: d.message })?;
            if !String::from_utf8_lossy(&data).contains("-----BEGIN CERTIFICATE-----") {
                return Err(OciError::Layout { path: ca.clone(), why: "--ca-file takes PEM certificates (-----BEGIN CERTIFICATE-----)".into() });
            }
            config.extra_root_certificates.push(oci_client::client::Certificate { encoding: oci_client::client::CertificateEncoding::Pem, data });
        }
        let client = oci_client::Client::try_from(config).map_err(|e| OciError::Registry {
            registry: reference.registry.clone(),
            op: "set up the client".into(),
            message: e.to_string(),
        })?;
        Ok(Registry { client, auth: credential.to_client(), registry: reference.registry.clone() })
    }

    fn err(&self, reference: &Reference, op: &str) -> impl Fn(oci_client::errors::OciDistributionError) -> OciError + use<'_> {
        let r = reference.to_string();
        let op = op.to_string();
        move |e| OciError::client(&self.registry, &r, &op, e)
    }

    /// Authenticates for `op` (fetching a token when the registry uses a token service).
    async fn login(&self, reference: &Reference, push: bool) -> Result<(), OciError> {
        let r = reference.client_ref();
        let op = if push { RegistryOperation::Push } else { RegistryOperation::Pull };
        self.client.auth(&r, &self.auth, op).await.map_err(self.err(reference, if push { "push" } else { "pull" }))?;
        if push {
            self.client.auth(&r, &self.auth, RegistryOperation::Pull).await.map_err(self.err(reference, "pull"))?;
        }
        Ok(())
    }

    /// Pushes `files` (blob bytes with their descriptors), the empty config and `manifest`
    /// under `reference`'s tag; returns the manifest digest. `progress` is called after each blob.
    pub async fn push(
        &self,
        reference: &Reference,
        manifest: &Manifest,
        blobs: &[(&Descriptor, &[u8])],
        progress: &mut dyn FnMut(Progress),
    ) -> Result<String, OciError> {
        self.login(reference, true).await?;
        let r = reference.client_ref();
        let mut p = Progress { files: blobs.len(), bytes: blobs.iter().map(|(d, _)| d.size).sum(), ..Progress::default() };
        progress(p);
        // Blobs go up a few at a time (each is HEAD, then POST + PUT when missing): round trips,
        // not bytes, are what a pattern's push costs.
        let uploads = futures_util::stream::iter(blobs.iter().map(|(d, bytes)| {
            let r = &r;
            async move {
                if !self.client.blob_exists(r, &d.digest).await.unwrap_or(false) {
                    self.client.push_blob(r, bytes.to_vec(), &d.digest).await.map_err(self.err(reference, "push"))?;
                }
                Ok::<u64, OciError>(d.size)
            }
        }))
        .buffer_unordered(UPLOADS);
        futures_util::pin_mut!(uploads);
        while let Some(done) = uploads.next().await {
            p.files_done += 1;
            p.bytes_done += done?;
            progress(p);
        }
        if !self.client.blob_exists(&r, &manifest.config.digest).await.unwrap_or(false) {
            self.client.push_blob(&r, layout::EMPTY_CONFIG.to_vec(), &manifest.config.digest).await.map_err(self.err(reference, "push"))?;
        }
        self.put_manifest(reference, &manifest.to_bytes()).await
    }

    /// Puts raw manifest bytes under `reference`'s tag; returns their digest.
    pub async fn put_manifest(&self, reference: &Reference, bytes: &[u8]) -> Result<String, OciError> {
        let r = reference.client_ref();
        let content_type = http::HeaderValue::from_static(layout::MANIFEST_MEDIA_TYPE);
        self.client.push_manifest_raw(&r, bytes.to_vec(), content_type).await.map_err(self.err(reference, "push"))?;
        Ok(layout::sha256(bytes))
    }

    /// Pushes one blob (after [`Registry::push`] logged in, or on its own).
    pub async fn push_blob(&self, reference: &Reference, bytes: &[u8]) -> Result<String, OciError> {
        self.login(reference, true).await?;
        let digest = layout::sha256(bytes);
        let r = reference.client_ref();
        if !self.client.blob_exists(&r, &digest).await.unwrap_or(false) {
            self.client.push_blob(&r, bytes.to_vec(), &digest).await.map_err(self.err(reference, "push"))?;
        }
        Ok(digest)
    }

    /// Fetches the manifest `reference` names, checked: its bytes must hash to the digest
    /// asked for (a digest reference) and to the one the registry reports.
    pub async fn manifest(&self, reference: &Reference) -> Result<(Manifest, Vec<u8>, String), OciError> {
        self.login(reference, false).await?;
        let r = reference.client_ref();
        let (body, reported) = self.client.pull_manifest_raw(&r, &self.auth, ACCEPT).await.map_err(self.err(reference, "pull"))?;
        if body.len() > 4 * 1024 * 1024 {
            return Err(OciError::Manifest { reference: reference.to_string(), why: "the manifest is larger than 4 MiB".into() });
        }
        let digest = layout::sha256(&body);
        if let Some(want) = &reference.digest {
            layout::verify_digest(&format!("the manifest of {reference}"), want, &body)?;
        } else if reported.starts_with("sha256:") && reported != digest {
            return Err(OciError::DigestMismatch { what: format!("the manifest of {reference}"), expected: reported, actual: digest });
        }
        let manifest: Manifest = serde_json::from_slice(&body)
            .map_err(|e| OciError::Manifest { reference: reference.to_string(), why: format!("not an OCI image manifest ({e})") })?;
        if manifest.schema_version != 2 {
            return Err(OciError::Manifest {
                reference: reference.to_string(),
                why: format!("schemaVersion {} is not supported (2)", manifest.schema_version),
            });
        }
        Ok((manifest, body.to_vec(), digest))
    }

    /// Fetches one blob, checked against its descriptor's digest and size.
    pub async fn blob(&self, reference: &Reference, d: &Descriptor, what: &str) -> Result<Vec<u8>, OciError> {
        if d.size > layout::MAX_FILE_BYTES {
            return Err(OciError::Manifest {
                reference: reference.to_string(),
                why: format!("{what} is {} bytes; the limit is {}", d.size, layout::MAX_FILE_BYTES),
            });
        }
        crate::reference::check_digest(&d.digest).map_err(|why| OciError::Manifest { reference: reference.to_string(), why: why.0 })?;
        let r = reference.client_ref();
        let desc =
            oci_client::manifest::OciDescriptor { media_type: d.media_type.clone(), digest: d.digest.clone(), size: d.size as i64, ..Default::default() };
        let mut out: Vec<u8> = Vec::with_capacity(d.size as usize);
        match self.client.pull_blob(&r, &desc, &mut out).await {
            Ok(()) => {}
            Err(oci_client::errors::OciDistributionError::DigestError(_)) => {
                return Err(OciError::DigestMismatch { what: what.to_string(), expected: d.digest.clone(), actual: layout::sha256(&out) });
            }
            Err(e) => return Err(self.err(reference, "pull")(e)),
        }
        layout::verify_digest(what, &d.digest, &out)?;
        if out.len() as u64 != d.size {
            return Err(OciError::Manifest { reference: reference.to_string(), why: format!("{what} is {} bytes, the manifest says {}", out.len(), d.size) });
        }
        Ok(out)
    }

    /// The repository's tags, sorted.
    pub async fn tags(&self, reference: &Reference) -> Result<Vec<String>, OciError> {
        self.login(reference, false).await?;
        let r = reference.client_ref();
        let mut tags = self.client.list_tags(&r, &self.auth, None, None).await.map_err(self.err(reference, "list tags"))?.tags;
        tags.sort();
        Ok(tags)
    }
}

/// Installs ring as the process's TLS crypto provider unless one is installed: the HTTP client
/// is built without a bundled provider so that one stack (rustls + ring) serves every binary.
pub(crate) fn ensure_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
