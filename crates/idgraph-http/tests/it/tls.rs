//! The custom CA bundle option: a server with a certificate no public root signs is trusted
//! exactly when its certificate is in `HttpConfig::ca_bundle`.

use crate::support::*;
use axum::routing::get;
use idgraph_http::*;
use std::sync::Arc;

/// Serves `router` over TLS with a fresh self-signed certificate for 127.0.0.1; returns the
/// base URL and the certificate PEM.
async fn serve_tls(router: axum::Router) -> (String, String) {
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap();
    let pem = cert.cert.pem();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        cert.key_pair.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let tls = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(config));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum_server::from_tcp_rustls(listener, tls)
            .serve(router.into_make_service())
            .await;
    });
    (format!("https://{addr}"), pem)
}

#[tokio::test]
async fn ca_bundle_adds_a_trusted_root() {
    let router = axum::Router::new().route(
        "/ping",
        get(|| async { axum::Json(serde_json::json!({"ok": true})) }),
    );
    let (base, pem) = serve_tls(router).await;
    let dir = std::env::temp_dir().join(format!("idgraph-http-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, pem).unwrap();
    let clock = ManualClock::new(START);

    let trusted = HttpClient::new(
        HttpConfig {
            ca_bundle: Some(ca.clone()),
            ..HttpConfig::default()
        },
        clock.shared(),
    )
    .unwrap();
    let api = plain_api(&trusted, &base, RetryPolicy::none());
    let v: serde_json::Value = api.get_json("/ping", &[("a", "b")]).await.unwrap();
    assert_eq!(v["ok"], true);

    // Pinned to the bundle alone works too.
    let pinned = HttpClient::new(
        HttpConfig {
            ca_bundle: Some(ca),
            builtin_roots: false,
            ..HttpConfig::default()
        },
        clock.shared(),
    )
    .unwrap();
    let api = plain_api(&pinned, &base, RetryPolicy::none());
    let _: serde_json::Value = api.get_json("/ping", &[("a", "b")]).await.unwrap();

    // Without the bundle the certificate is refused, once: a TLS failure is not retried.
    let default = HttpClient::new(HttpConfig::default(), clock.shared()).unwrap();
    let api = plain_api(&default, &base, RetryPolicy::default());
    let err = api.send(ApiRequest::get("/ping")).await.unwrap_err();
    assert!(matches!(err, HttpError::Tls { .. }), "{err:?}");
    assert!(!err.is_retriable());
    assert!(err.to_string().contains("ca_bundle"), "{err}");
    assert_eq!(api.metrics().requests, 1);
    let _ = std::fs::remove_dir_all(&dir);
}
