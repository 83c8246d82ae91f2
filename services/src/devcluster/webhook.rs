//! The one HTTPS client the dev cluster uses to call out: admission webhooks and CRD
//! conversion webhooks are both reached by `clientConfig.url`, trusting `clientConfig.caBundle`
//! (there are no system roots and no cluster DNS), with a JSON body posted and a JSON answer read,
//! within a deadline.

use crate::serve::tls;
use axum::body::Bytes;
use axum::http::{Request, Uri, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use serde_json::Value;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// The largest answer read from a webhook: a conversion of a long list can be large, but not
/// without bound.
pub(super) const MAX_ANSWER: usize = 64 * 1024 * 1024;

/// Why a webhook could not be called; the text follows the API server's, after `failed to
/// call webhook: ` (admission) or `conversion webhook for <gvk> failed: ` (conversion).
#[derive(Debug, thiserror::Error)]
// Variant fields are the message's parts and its `#[source]` cause.
#[allow(missing_docs)]
pub enum WebhookError {
    /// The webhook is addressed by `clientConfig.service`.
    #[error("clientConfig.service is not supported by the ork dev cluster (no cluster DNS); use clientConfig.url")]
    ServiceRef,
    /// `clientConfig.url` does not parse.
    #[error("bad webhook URL {url:?}: {source}")]
    Url {
        url: String,
        #[source]
        source: axum::http::uri::InvalidUri,
    },
    /// The URL is not https.
    #[error("webhook URL {0:?} must use https")]
    NotHttps(String),
    /// `clientConfig.caBundle` is not base64.
    #[error("caBundle is not base64: {0}")]
    CaBundleEncoding(String),
    /// `clientConfig.caBundle` is missing.
    #[error("clientConfig.caBundle is required by the ork dev cluster (it has no system roots)")]
    NoCaBundle,
    /// The CA bundle cannot be used.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The host is not a valid TLS server name.
    #[error("bad webhook host {host:?}: {source}")]
    Host {
        host: String,
        #[source]
        source: rustls_pki_types::InvalidDnsNameError,
    },
    /// The TCP connection failed.
    #[error("Post {url:?}: dial tcp {host}:{port}: {source}")]
    Dial {
        url: String,
        host: String,
        port: u16,
        #[source]
        source: std::io::Error,
    },
    /// The TLS handshake failed.
    #[error("Post {url:?}: tls: {source}")]
    Handshake {
        url: String,
        #[source]
        source: std::io::Error,
    },
    /// HTTP failed (handshake, request, body).
    #[error("Post {url:?}: {source}")]
    Http {
        url: String,
        #[source]
        source: hyper::Error,
    },
    /// The request could not be built.
    #[error("{0}")]
    Request(#[from] axum::http::Error),
    /// The webhook answered with an error status.
    #[error("Post {url:?}: the webhook answered HTTP {status}")]
    Status { url: String, status: axum::http::StatusCode },
    /// The answer is not JSON.
    #[error("the webhook's answer does not parse: {0}")]
    Review(#[source] serde_json::Error),
    /// The answer is larger than [`MAX_ANSWER`].
    #[error("Post {url:?}: the webhook's answer exceeds {MAX_ANSWER} bytes")]
    TooLarge { url: String },
    /// No answer within `timeoutSeconds`.
    #[error("context deadline exceeded after {0}s")]
    Timeout(u64),
}

/// Posts `body` as JSON to the webhook `client_config` (a `clientConfig` stanza) and returns its
/// JSON answer, all within `timeout`.
pub(super) async fn post(client_config: Option<&Value>, body: &Value, timeout: Duration) -> Result<Value, WebhookError> {
    match tokio::time::timeout(timeout, post_unbounded(client_config, body)).await {
        Ok(answer) => answer,
        Err(_) => Err(WebhookError::Timeout(timeout.as_secs())),
    }
}

async fn post_unbounded(client_config: Option<&Value>, body: &Value) -> Result<Value, WebhookError> {
    let Some(url) = client_config.and_then(|c| c.get("url")).and_then(Value::as_str) else {
        return Err(WebhookError::ServiceRef);
    };
    let uri: Uri = url.parse().map_err(|source| WebhookError::Url { url: url.to_string(), source })?;
    if uri.scheme_str() != Some("https") {
        return Err(WebhookError::NotHttps(url.to_string()));
    }
    let host = uri.host().unwrap_or_default().trim_matches(|c| c == '[' || c == ']').to_string();
    let port = uri.port_u16().unwrap_or(443);
    let ca = client_config
        .and_then(|c| c.get("caBundle"))
        .and_then(Value::as_str)
        .map(|b| katalog::template::base64_decode(b).map_err(|e| WebhookError::CaBundleEncoding(e.to_string())))
        .transpose()?;
    let Some(ca) = ca else { return Err(WebhookError::NoCaBundle) };
    let config = tls::client_config(&ca)?;
    let name = ServerName::try_from(host.clone()).map_err(|source| WebhookError::Host { host: host.clone(), source })?;
    let tcp =
        TcpStream::connect((host.as_str(), port)).await.map_err(|source| WebhookError::Dial { url: url.to_string(), host: host.clone(), port, source })?;
    let stream = TlsConnector::from(config).connect(name, tcp).await.map_err(|source| WebhookError::Handshake { url: url.to_string(), source })?;
    let http = |source| WebhookError::Http { url: url.to_string(), source };
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(http)?;
    tokio::spawn(conn);
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
    let req = Request::post(path)
        .header(header::HOST, format!("{host}:{port}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))?;
    let resp = sender.send_request(req).await.map_err(http)?;
    let status = resp.status();
    let body = match Limited::new(resp.into_body(), MAX_ANSWER).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return Err(match e.downcast::<hyper::Error>() {
                Ok(source) => WebhookError::Http { url: url.to_string(), source: *source },
                Err(_) => WebhookError::TooLarge { url: url.to_string() },
            });
        }
    };
    if !status.is_success() {
        return Err(WebhookError::Status { url: url.to_string(), status });
    }
    serde_json::from_slice(&body).map_err(WebhookError::Review)
}
