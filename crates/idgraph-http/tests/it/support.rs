//! Shared test helpers: serving a router on an ephemeral port, a raw TCP server for
//! connection-level faults, and clients on a manual clock.

use idgraph_http::*;
use std::sync::Arc;
use std::time::Duration;
use time::macros::datetime;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// 2026-03-02 10:00:37 UTC: deliberately not on a window boundary.
pub const START: OffsetDateTime = datetime!(2026-03-02 10:00:37 UTC);

/// Serves `router` on 127.0.0.1:0; the listener is bound before this returns, so no waiting
/// is needed. Returns the base URL (`http://127.0.0.1:PORT`).
pub async fn serve(router: axum::Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    format!("http://{addr}")
}

/// What the raw server does with one connection.
#[derive(Clone, Debug)]
pub enum Raw {
    /// Read the request, then close without answering.
    Close,
    /// Read the request, write these bytes verbatim, close.
    Bytes(String),
    /// Read the request and never answer.
    Hang,
}

/// A full HTTP/1.1 response with a JSON body and a correct Content-Length.
pub fn http_json(status: u16, body: &str) -> Raw {
    Raw::Bytes(format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ))
}

/// A raw TCP server playing `script` for successive connections (the last entry repeats).
/// Returns the base URL and a counter of connections served.
pub async fn serve_raw(script: Vec<Raw>) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c2 = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let i = c2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let step = script[i.min(script.len() - 1)].clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                match step {
                    Raw::Close => {}
                    Raw::Bytes(b) => {
                        let _ = sock.write_all(b.as_bytes()).await;
                        let _ = sock.flush().await;
                    }
                    Raw::Hang => {
                        std::future::pending::<()>().await;
                    }
                }
            });
        }
    });
    (format!("http://{addr}"), count)
}

/// An HTTP client on `clock` with short timeouts.
pub fn http(clock: &ManualClock) -> HttpClient {
    let cfg = HttpConfig {
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(10),
        ..HttpConfig::default()
    };
    HttpClient::new(cfg, clock.shared()).unwrap()
}

/// An API client with no auth and an unlimited budget.
pub fn plain_api(http: &HttpClient, base: &str, policy: RetryPolicy) -> ApiClient {
    let budget = Arc::new(RateBudget::unlimited("test:acct", http.clock().clone()));
    http.api(
        ApiConfig::new(base, "test:acct", Arc::new(StaticAuth::none()), budget)
            .retry(policy)
            .jitter(Jitter::seeded(42)),
    )
    .unwrap()
}
