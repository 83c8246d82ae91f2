//! Kubernetes clients for server processes: from a kubeconfig context, the in-cluster
//! configuration or the current context, or from kubeconfig text (the dev cluster's).

/// Why no client could be made.
#[derive(Debug, thiserror::Error)]
// Variant fields are the message's parts and its `#[source]` cause.
#[allow(missing_docs)]
pub enum ClientError {
    /// The named kubeconfig context cannot be used.
    #[error("kubeconfig context {context:?}: {source}")]
    Context {
        /// The context asked for.
        context: String,
        /// Why it cannot be used.
        #[source]
        source: kube::config::KubeconfigError,
    },
    /// Neither the in-cluster configuration nor a kubeconfig is there.
    #[error("no cluster configuration (in-cluster, $KUBECONFIG or ~/.kube/config): {0}")]
    Infer(#[source] kube::config::InferConfigError),
    /// Kubeconfig text does not parse or names nothing usable.
    #[error("{what} kubeconfig: {source}")]
    Kubeconfig {
        /// Whose kubeconfig (`dev cluster`).
        what: &'static str,
        #[source]
        source: kube::config::KubeconfigError,
    },
    /// The configuration was read but the client cannot be built (TLS, proxy, auth plugin).
    #[error("cannot build a Kubernetes client: {0}")]
    Build(#[source] kube::Error),
    /// The same, for a client from kubeconfig text.
    #[error("{what} client: {source}")]
    BuildFrom {
        /// Whose kubeconfig (`dev cluster`).
        what: &'static str,
        #[source]
        source: kube::Error,
    },
}

/// A client for `context` when given, else the in-cluster configuration, else the current
/// context of `$KUBECONFIG` or `~/.kube/config`.
pub async fn infer(context: Option<&str>) -> Result<kube::Client, ClientError> {
    let config = match context {
        Some(ctx) => {
            let opts = kube::config::KubeConfigOptions { context: Some(ctx.to_string()), ..Default::default() };
            kube::Config::from_kubeconfig(&opts).await.map_err(|source| ClientError::Context { context: ctx.to_string(), source })?
        }
        None => kube::Config::infer().await.map_err(ClientError::Infer)?,
    };
    client_of(config).map_err(ClientError::Build)
}

/// A client for the current context of kubeconfig text; `what` names it in errors (`dev
/// cluster`). The text may hold a credential: it is never part of an error.
pub async fn from_kubeconfig_yaml(yaml: &str, what: &'static str) -> Result<kube::Client, ClientError> {
    let kc = kube::config::Kubeconfig::from_yaml(yaml).map_err(|source| ClientError::Kubeconfig { what, source })?;
    let config = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
        .await
        .map_err(|source| ClientError::Kubeconfig { what, source })?;
    client_of(config).map_err(|source| ClientError::BuildFrom { what, source })
}

/// kube's client stack (TLS, timeouts, retries of 429/503/504, base URI, authentication, extra
/// headers) over connections with `TCP_NODELAY`. kube's own builder leaves Nagle's algorithm on:
/// a request or watch line written while an earlier segment is still unacknowledged then waits
/// for an ACK the API server may delay by up to 40 ms. Through a proxy, kube's builder as is.
fn client_of(config: kube::Config) -> Result<kube::Client, kube::Error> {
    use kube::client::ConfigExt as _;
    use tower::ServiceBuilder;
    if config.proxy_url.is_some() {
        return kube::Client::try_from(config);
    }
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    let mut connector = hyper_timeout::TimeoutConnector::new(config.rustls_https_connector_with_connector(http)?);
    connector.set_connect_timeout(config.connect_timeout);
    connector.set_read_timeout(config.read_timeout);
    connector.set_write_timeout(config.write_timeout);
    connector.set_reset_reader_on_write(config.reset_reader_on_write);
    let http_client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
    let retry = config.default_retry.then(|| tower::retry::RetryLayer::new(kube::client::retry::RetryPolicy::server_retry()));
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(retry)
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .map_err(tower::BoxError::from)
        .service(http_client);
    Ok(kube::Client::new(service, config.default_namespace))
}
