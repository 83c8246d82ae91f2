//! Certificates and TLS for the servers of ork (the dev cluster and the gateway's webhook
//! server): a generated CA, leaf certificates it signs (with a validity period when the caller
//! manages their lifetime), rustls server and client configurations (always with the `ring`
//! provider, never the process default), a serving certificate that can be swapped while the
//! server runs ([`ReloadableCert`]), a check that a stored certificate is usable ([`verify_leaf`]),
//! and a TLS listener for axum.
//!
//! Keys are ECDSA P-256 (rcgen's default with `ring`), not RSA-2048 as upstream's gateway uses:
//! every client that matters (the API server, kubectl, rustls) accepts them, and they are
//! generated in microseconds rather than the hundreds of milliseconds an RSA key takes.

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose};
use rustls::client::danger::ServerCertVerifier;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// A certificate authority.
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its key, PEM. (No `Debug`: the key must not reach a log.)
#[derive(Clone, PartialEq, Eq)]
pub struct Leaf {
    /// The certificate.
    pub cert_pem: String,
    /// The private key (PKCS#8).
    pub key_pem: String,
}

/// Why a certificate or a TLS configuration could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rcgen refused to generate or sign a certificate.
    #[error("{0}")]
    Certificate(#[from] rcgen::Error),
    /// A PEM certificate or key does not parse.
    #[error("{0}")]
    Pem(#[from] rustls_pki_types::pem::Error),
    /// rustls refused the configuration (a certificate or key it cannot use).
    #[error("{0}")]
    Rustls(#[from] rustls::Error),
    /// The CA bundle holds no certificate.
    #[error("the CA bundle holds no certificate")]
    EmptyBundle,
    /// A PEM text holds no certificate.
    #[error("the certificate PEM holds no certificate")]
    NoCertificate,
    /// A certificate does not verify against the CA for a name at a time.
    #[error("the certificate is not valid for {name:?} at {at}: {source}")]
    Invalid {
        /// The server name checked.
        name: String,
        /// The time checked (RFC 3339).
        at: String,
        /// What rustls found wrong (expired, unknown issuer, name not covered, …).
        #[source]
        source: rustls::Error,
    },
}

/// When a generated certificate is valid, in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// Not valid before.
    pub not_before: i64,
    /// Not valid after.
    pub not_after: i64,
}

/// Sets the validity of `params` (the `time` types stay rcgen's: the epoch plus seconds).
fn set_validity(params: &mut CertificateParams, v: Validity) {
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    params.not_before = epoch + Duration::from_secs(v.not_before.max(0) as u64);
    params.not_after = epoch + Duration::from_secs(v.not_after.max(0) as u64);
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl Ca {
    /// A new CA with common name `name` (valid from 1975 to 4096: for servers whose certificates
    /// live as long as the process).
    pub fn new(name: &str) -> Result<Ca, TlsError> {
        Ca::build(name, None)
    }

    /// A new CA with common name `name`, valid for `validity`.
    pub fn with_validity(name: &str, validity: Validity) -> Result<Ca, TlsError> {
        Ca::build(name, Some(validity))
    }

    fn build(name: &str, validity: Option<Validity>) -> Result<Ca, TlsError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        if let Some(v) = validity {
            set_validity(&mut params, v);
        }
        let key = KeyPair::generate()?;
        Ok(Ca { issuer: CertifiedIssuer::self_signed(params, key)? })
    }

    /// The CA certificate, PEM (what a kubeconfig or a caBundle carries).
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `names` (DNS names or IP addresses), signed by this CA.
    pub fn leaf(&self, names: &[&str]) -> Result<Leaf, TlsError> {
        self.leaf_with(names, None)
    }

    /// A server certificate for `names` (DNS names or IP addresses; the first is also the common
    /// name), for server authentication, valid for `validity` when given.
    pub fn leaf_with(&self, names: &[&str], validity: Option<Validity>) -> Result<Leaf, TlsError> {
        let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())?;
        params.distinguished_name.push(DnType::CommonName, names.first().copied().unwrap_or("localhost"));
        if let Some(v) = validity {
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            set_validity(&mut params, v);
        }
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Leaf { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }
}

/// A rustls server configuration for a leaf certificate.
pub fn server_config(leaf: &Leaf) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(leaf.cert_pem.as_bytes()).collect::<Result<_, _>>()?;
    let key = PrivateKeyDer::from_pem_slice(leaf.key_pem.as_bytes())?;
    let config =
        rustls::ServerConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?.with_no_client_auth().with_single_cert(chain, key)?;
    Ok(Arc::new(config))
}

/// The certificate and key of `leaf` as rustls serves them; refuses a key that is not the
/// certificate's.
pub fn certified_key(leaf: &Leaf) -> Result<Arc<CertifiedKey>, TlsError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(leaf.cert_pem.as_bytes()).collect::<Result<_, _>>()?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate);
    }
    let key = PrivateKeyDer::from_pem_slice(leaf.key_pem.as_bytes())?;
    let ck = CertifiedKey::from_der(chain, key, &provider())?;
    // `from_der` lets an undeterminable match pass; a stored pair must match for sure.
    ck.keys_match()?;
    Ok(Arc::new(ck))
}

/// The serving certificate of a running TLS server, replaceable at any time: handshakes after
/// [`ReloadableCert::set`] present the new certificate, connections already open keep theirs.
/// This is how a certificate is rotated without restarting the server or refusing a request.
/// Until a certificate is set, handshakes are refused.
pub struct ReloadableCert {
    current: RwLock<Option<Arc<CertifiedKey>>>,
}

impl std::fmt::Debug for ReloadableCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.write_str("ReloadableCert")
    }
}

impl ReloadableCert {
    /// Starts with `leaf`.
    pub fn new(leaf: &Leaf) -> Result<Arc<ReloadableCert>, TlsError> {
        Ok(Arc::new(ReloadableCert { current: RwLock::new(Some(certified_key(leaf)?)) }))
    }

    /// Starts without a certificate (handshakes fail until [`ReloadableCert::set`]).
    pub fn empty() -> Arc<ReloadableCert> {
        Arc::new(ReloadableCert { current: RwLock::new(None) })
    }

    /// Serves `leaf` from the next handshake on. On error the current certificate stays.
    pub fn set(&self, leaf: &Leaf) -> Result<(), TlsError> {
        let next = Some(certified_key(leaf)?);
        match self.current.write() {
            Ok(mut w) => *w = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
        Ok(())
    }

    /// Whether a certificate is being served.
    pub fn is_set(&self) -> bool {
        self.resolve_current().is_some()
    }

    fn resolve_current(&self) -> Option<Arc<CertifiedKey>> {
        match self.current.read() {
            Ok(r) => r.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// A rustls server configuration that serves whatever certificate is current.
    pub fn server_config(self: &Arc<Self>) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(self.clone() as Arc<dyn ResolvesServerCert>);
        Ok(Arc::new(config))
    }
}

impl ResolvesServerCert for ReloadableCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.resolve_current()
    }
}

/// Checks that the certificate `cert_pem` (its first certificate; the others are taken as
/// intermediates) chains to a CA of `ca_pem`, is valid at `at` (Unix seconds), and names `name`
/// (a DNS name or an IP address) — what a client connecting to `name` at that time would check.
pub fn verify_leaf(ca_pem: &[u8], cert_pem: &[u8], name: &str, at: i64) -> Result<(), TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(cert?)?;
    }
    if roots.is_empty() {
        return Err(TlsError::EmptyBundle);
    }
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem).collect::<Result<_, _>>()?;
    let Some((leaf, intermediates)) = chain.split_first() else { return Err(TlsError::NoCertificate) };
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|e| TlsError::Rustls(rustls::Error::General(e.to_string())))?;
    let invalid = |source| TlsError::Invalid { name: name.to_string(), at: katalog::time::format_rfc3339(at), source };
    let server_name = ServerName::try_from(name.to_string()).map_err(|e| invalid(rustls::Error::General(e.to_string())))?;
    let when = UnixTime::since_unix_epoch(Duration::from_secs(at.max(0) as u64));
    verifier.verify_server_cert(leaf, intermediates, &server_name, &[], when).map(|_| ()).map_err(invalid)
}

/// A rustls client configuration trusting exactly the CA certificates in `pem`.
pub fn client_config(pem: &[u8]) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        roots.add(cert?)?;
    }
    if roots.is_empty() {
        return Err(TlsError::EmptyBundle);
    }
    let config =
        rustls::ClientConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?.with_root_certificates(roots).with_no_client_auth();
    Ok(Arc::new(config))
}

/// TCP + TLS for `axum::serve`. Handshakes run concurrently (a slow or silent client never holds
/// up the others); one that fails or takes over 5 s is dropped.
pub struct TlsListener {
    addr: SocketAddr,
    ready: tokio::sync::mpsc::Receiver<(tokio_rustls::server::TlsStream<TcpStream>, SocketAddr)>,
    accepting: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    /// Wraps a bound listener (spawns the accept loop on the current runtime).
    pub fn new(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> std::io::Result<TlsListener> {
        let addr = tcp.local_addr()?;
        let acceptor = TlsAcceptor::from(config);
        let (tx, ready) = tokio::sync::mpsc::channel(64);
        let accepting = tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = tcp.accept().await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                // Answers go out as written: with Nagle's algorithm a small write waits for the
                // ACK of the previous one, which the peer may delay by up to 40 ms.
                let _ = stream.set_nodelay(true);
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    if let Ok(Ok(tls)) = tokio::time::timeout(Duration::from_secs(5), acceptor.accept(stream)).await {
                        let _ = tx.send((tls, peer)).await;
                    }
                });
            }
        });
        Ok(TlsListener { addr, ready, accepting })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept loop is gone (only when the listener is dropped): wait forever.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.addr)
    }
}
