//! The gateway's webhook routes served over loopback TLS the way `ork-gateway` serves them
//! (`services::serve::tls` + `services::gateway::webhooks::router`), and a minimal keep-alive
//! HTTP/1.1 client over rustls — shared by the fuzz test and the admission benchmark, which must
//! see the real TLS and HTTP stack and nothing in between.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use katalog::admission::{Gate, Webhook};
use katalog::load::LoadOptions;
use katalog::valid::load_valid;
use rustls_pki_types::ServerName;
use services::gateway::metrics::Metrics;
use services::gateway::webhooks::{Webhooks, router};
use services::serve::tls::{Ca, TlsListener, client_config, server_config};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// A running webhook server.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The CA that signed its certificate.
    pub ca_pem: String,
    /// Its counters.
    pub metrics: Arc<Metrics>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Stops the server and waits for it.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), &mut self.task).await;
    }
}

/// Serves every webhook of the Katalog at `katalog` on 127.0.0.1:0 over TLS.
pub async fn serve_webhooks(katalog: &Path) -> Server {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let valid = load_valid(katalog, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let ca = Ca::new("wire-test-ca").unwrap();
    let leaf = ca.leaf(&["127.0.0.1", "localhost"]).unwrap();
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let listener = TlsListener::new(tcp, server_config(&leaf).unwrap()).unwrap();
    let addr = axum::serve::Listener::local_addr(&listener).unwrap();
    let metrics = Arc::new(Metrics::default());
    let state =
        Arc::new(Webhooks { gate: Arc::new(Gate::new(Arc::new(valid))), install_namespace: "orkestra-system".into(), metrics: metrics.clone(), others: None });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = services::serve::http::spawn(listener, router(state, &Webhook::ALL), async move {
        let _ = stopped.await;
    });
    Server { addr, ca_pem: ca.pem(), metrics, stop: Some(stop), task }
}

/// One keep-alive HTTPS connection.
pub struct Conn {
    stream: TlsStream<TcpStream>,
    buf: Vec<u8>,
}

impl Conn {
    /// Connects to `addr`, trusting `ca_pem`.
    pub async fn connect(addr: SocketAddr, ca_pem: &str) -> std::io::Result<Conn> {
        let config = client_config(ca_pem.as_bytes()).map_err(std::io::Error::other)?;
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let name = ServerName::try_from("127.0.0.1").map_err(std::io::Error::other)?;
        let stream = TlsConnector::from(config).connect(name, tcp).await?;
        Ok(Conn { stream, buf: Vec::new() })
    }

    /// POSTs `body` to `path`; returns the status and the response body.
    pub async fn post(&mut self, path: &str, body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        self.send("POST", path, body).await
    }

    /// Sends a request with `method`; returns the status and the response body.
    pub async fn send(&mut self, method: &str, path: &str, body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        let head = format!("{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", body.len());
        self.stream.write_all(head.as_bytes()).await?;
        self.stream.write_all(body).await?;
        self.stream.flush().await?;
        self.response().await
    }

    async fn fill(&mut self) -> std::io::Result<()> {
        let mut chunk = [0_u8; 16384];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the server closed the connection"));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    async fn response(&mut self) -> std::io::Result<(u16, Vec<u8>)> {
        let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
        let end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            self.fill().await?;
        };
        let head = String::from_utf8_lossy(&self.buf[..end]).to_string();
        let status: u16 = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| bad("no status line"))?;
        let length: usize = head
            .lines()
            .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")).map(|(_, v)| v.trim().to_string()))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| bad("no content-length"))?;
        while self.buf.len() < end + length {
            self.fill().await?;
        }
        let body = self.buf[end..end + length].to_vec();
        self.buf.drain(..end + length);
        Ok((status, body))
    }
}
