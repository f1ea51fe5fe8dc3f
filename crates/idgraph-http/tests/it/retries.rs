//! Retries: 5xx, dropped connections, truncated bodies and timeouts are retried for
//! idempotent requests with seeded full-jitter back-off; POST never is; limits hold.

use crate::support::*;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::any;
use idgraph_http::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Answers `fail_first` times with `status`, then 200 `{"ok":true}`.
async fn flaky(status: StatusCode, fail_first: usize) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let router = axum::Router::new()
        .route(
            "/{*p}",
            any(move |State(h): State<Arc<AtomicUsize>>| async move {
                let n = h.fetch_add(1, Ordering::SeqCst);
                if n < fail_first {
                    (status, "upstream trouble".to_string())
                } else {
                    (StatusCode::OK, "{\"ok\":true}".to_string())
                }
            }),
        )
        .with_state(h);
    (serve(router).await, hits)
}

#[derive(serde::Deserialize, Debug)]
struct Ok1 {
    ok: bool,
}

#[tokio::test]
async fn get_is_retried_on_5xx_with_seeded_full_jitter() {
    let clock = ManualClock::new(START);
    let (base, hits) = flaky(StatusCode::SERVICE_UNAVAILABLE, 2).await;
    let policy = RetryPolicy::default();
    let api = plain_api(&http(&clock), &base, policy.clone());
    let r: Ok1 = api.get_json("/v2/users", &[("page", 1)]).await.unwrap();
    assert!(r.ok);
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    let expected = {
        let j = Jitter::seeded(42);
        vec![j.full(policy.cap(1)), j.full(policy.cap(2))]
    };
    assert_eq!(clock.sleeps(), expected);
    let m = api.metrics();
    assert_eq!((m.requests, m.retries, m.failures), (3, 2, 0));
    assert_eq!(m.backoff, expected.iter().sum::<Duration>());
}

#[tokio::test]
async fn post_is_never_retried_blindly() {
    let clock = ManualClock::new(START);
    let (base, hits) = flaky(StatusCode::BAD_GATEWAY, 1).await;
    let api = plain_api(&http(&clock), &base, RetryPolicy::default());
    let err = api
        .send(
            ApiRequest::post("/api/v2/agents")
                .json(&serde_json::json!({"email": "a@b"}))
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert!(!err.is_retriable());
    assert!(
        err.to_string()
            .contains("not retried because POST is not idempotent"),
        "{err}"
    );
    let src = std::error::Error::source(&err).unwrap().to_string();
    assert!(src.contains("HTTP 502"), "{src}");
    // Explicitly idempotent POSTs (a search) are retried.
    let ok: Ok1 = api
        .send_json(ApiRequest::post("/search").idempotent(true))
        .await
        .unwrap();
    assert!(ok.ok);
}

#[tokio::test]
async fn attempts_are_capped() {
    let clock = ManualClock::new(START);
    let (base, hits) = flaky(StatusCode::INTERNAL_SERVER_ERROR, usize::MAX).await;
    let policy = RetryPolicy {
        max_attempts: 4,
        ..RetryPolicy::default()
    };
    let api = plain_api(&http(&clock), &base, policy);
    let err = api.send(ApiRequest::get("/x")).await.unwrap_err();
    assert_eq!(hits.load(Ordering::SeqCst), 4);
    match &err {
        HttpError::RetriesExhausted {
            attempts, source, ..
        } => {
            assert_eq!(*attempts, 4);
            assert_eq!(source.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
            assert!(
                source.to_string().contains("upstream trouble"),
                "body excerpt: {source}"
            );
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(api.metrics().failures, 1);
}

#[tokio::test]
async fn elapsed_time_is_capped() {
    let clock = ManualClock::new(START);
    let (base, hits) = flaky(StatusCode::INTERNAL_SERVER_ERROR, usize::MAX).await;
    let policy = RetryPolicy {
        max_attempts: 100,
        base_delay: Duration::from_secs(10),
        max_delay: Duration::from_secs(10),
        max_elapsed: Duration::from_secs(30),
        ..RetryPolicy::default()
    };
    let api = plain_api(&http(&clock), &base, policy);
    let err = api.send(ApiRequest::get("/x")).await.unwrap_err();
    assert!(matches!(err, HttpError::RetriesExhausted { .. }));
    assert!(clock.total_slept() <= Duration::from_secs(30));
    assert!(hits.load(Ordering::SeqCst) >= 3);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let clock = ManualClock::new(START);
    let (base, hits) = flaky(StatusCode::NOT_FOUND, usize::MAX).await;
    let api = plain_api(&http(&clock), &base, RetryPolicy::default());
    let err = api
        .send(ApiRequest::get("/api/v2/agents/42"))
        .await
        .unwrap_err();
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    assert!(err.to_string().contains("/api/v2/agents/42"), "{err}");
}

#[tokio::test]
async fn dropped_connection_is_retried() {
    let clock = ManualClock::new(START);
    let (base, conns) = serve_raw(vec![Raw::Close, http_json(200, "{\"ok\":true}")]).await;
    let api = plain_api(&http(&clock), &base, RetryPolicy::default());
    let r: Ok1 = api.get_json("/x", &[("a", "b")]).await.unwrap();
    assert!(r.ok);
    assert_eq!(conns.load(Ordering::SeqCst), 2);
    assert_eq!(api.metrics().retries, 1);
}

#[tokio::test]
async fn body_cut_mid_way_is_retried() {
    let clock = ManualClock::new(START);
    let cut = Raw::Bytes(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\nconnection: close\r\n\r\n{\"ok\":tr"
            .to_string(),
    );
    let (base, conns) = serve_raw(vec![cut, http_json(200, "{\"ok\":true}")]).await;
    let api = plain_api(&http(&clock), &base, RetryPolicy::default());
    let r: Ok1 = api.get_json("/x", &[("a", "b")]).await.unwrap();
    assert!(r.ok);
    assert_eq!(conns.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn truncated_json_is_fetched_again_for_get_only() {
    let clock = ManualClock::new(START);
    let (base, conns) = serve_raw(vec![
        http_json(200, "{\"ok\":tr"),
        http_json(200, "{\"ok\":true}"),
    ])
    .await;
    let api = plain_api(&http(&clock), &base, RetryPolicy::default());
    let r: Ok1 = api.get_json("/x", &[("a", "b")]).await.unwrap();
    assert!(r.ok);
    assert_eq!(conns.load(Ordering::SeqCst), 2);

    let (base, conns) = serve_raw(vec![http_json(200, "{\"ok\":tr")]).await;
    let api = plain_api(&http(&clock), &base, RetryPolicy::default());
    let err = api
        .send_json::<Ok1>(ApiRequest::post("/x"))
        .await
        .unwrap_err();
    assert_eq!(conns.load(Ordering::SeqCst), 1);
    match err {
        HttpError::NotRetried { source, .. } => match *source {
            HttpError::Decode { body, .. } => assert_eq!(body, "{\"ok\":tr"),
            e => panic!("{e:?}"),
        },
        e => panic!("{e:?}"),
    }
}

#[tokio::test]
async fn timeouts_are_typed_and_retried() {
    let clock = ManualClock::new(START);
    let (base, conns) = serve_raw(vec![Raw::Hang, http_json(200, "{\"ok\":true}")]).await;
    let cfg = HttpConfig {
        request_timeout: Duration::from_millis(200),
        ..HttpConfig::default()
    };
    let http = HttpClient::new(cfg, clock.shared()).unwrap();
    let api = plain_api(&http, &base, RetryPolicy::default());
    let r: Ok1 = api.get_json("/x", &[("a", "b")]).await.unwrap();
    assert!(r.ok);
    assert_eq!(conns.load(Ordering::SeqCst), 2);

    let (base, _) = serve_raw(vec![Raw::Hang]).await;
    let api = plain_api(&http, &base, RetryPolicy::none());
    let err = api.send(ApiRequest::get("/x")).await.unwrap_err();
    let HttpError::RetriesExhausted { source, .. } = err else {
        panic!("{err:?}")
    };
    assert!(matches!(*source, HttpError::Timeout { .. }), "{source:?}");
    assert!(source.is_retriable());
}

#[tokio::test]
async fn ca_bundle_errors_name_the_file() {
    let dir = std::env::temp_dir().join(format!("idgraph-http-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.pem");
    std::fs::write(&bad, "not a certificate").unwrap();
    let clock = ManualClock::new(START);
    let err = HttpClient::new(
        HttpConfig {
            ca_bundle: Some(bad.clone()),
            ..HttpConfig::default()
        },
        clock.shared(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("bad.pem"), "{err}");
    let missing = dir.join("missing.pem");
    let err = HttpClient::new(
        HttpConfig {
            ca_bundle: Some(missing),
            ..HttpConfig::default()
        },
        clock.shared(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("missing.pem"), "{err}");
    assert!(std::error::Error::source(&err).is_some());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn user_agent_is_sent() {
    let router = axum::Router::new().route(
        "/ua",
        any(|h: axum::http::HeaderMap| async move {
            let ua = h
                .get("user-agent")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            axum::Json(serde_json::json!({ "ua": ua }))
        }),
    );
    let base = serve(router).await;
    let clock = ManualClock::new(START);
    let api = plain_api(&http(&clock), &base, RetryPolicy::default());
    let v: serde_json::Value = api.get_json("/ua", &[("x", "y")]).await.unwrap();
    assert!(v["ua"].as_str().unwrap().starts_with("idgraph/"), "{v}");
}
