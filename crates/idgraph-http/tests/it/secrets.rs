//! Seeded secrets (API key, Freshsales token, bearer token, client secret, refresh token and
//! the tokens a server issues) never appear in logs, in errors (`{}`, `{:?}`, the whole
//! `source()` chain) or in `Debug` of clients, also not base64-encoded as in a Basic header.

use crate::oauth::{api_with, token_server};
use crate::support::*;
use axum::http::StatusCode;
use axum::routing::any;
use base64::Engine;
use idgraph_http::*;
use std::sync::Arc;
use std::time::Duration;

const API_KEY: &str = "SeedApiKey-7f3a9c";
const FS_TOKEN: &str = "SeedFsToken-42aa17";
const BEARER: &str = "SeedBearer-51b2e0";
const CLIENT_SECRET: &str = "SeedClientSecret-c0ffee";
const REFRESH: &str = "SeedRefresh-d15ea5e";
/// Prefix of every token the test token server issues.
const ISSUED: &str = "SeedIssued-";

#[derive(Clone, Default)]
struct Buf(Arc<parking_lot::Mutex<Vec<u8>>>);

impl std::io::Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn render(e: &HttpError) -> String {
    let mut s = format!("{e}\n{e:?}\n");
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(c) = cur {
        s.push_str(&format!("{c}\n{c:?}\n"));
        cur = c.source();
    }
    s
}

fn forbidden() -> Vec<String> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let mut v = Vec::new();
    for s in [API_KEY, FS_TOKEN, BEARER, CLIENT_SECRET, REFRESH, ISSUED] {
        v.push(s.to_string());
        v.push(b64(s));
        // Without padding / alignment: the core of the encoding of any prefix.
        v.push(b64(s).trim_end_matches('=').chars().take(12).collect());
    }
    v.push(b64(&format!("{API_KEY}:X")));
    v
}

#[tokio::test]
async fn seeded_secrets_never_leak() {
    let buf = Buf::default();
    let w = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || w.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let clock = ManualClock::new(START);
    let http = http(&clock);
    let mut errors: Vec<HttpError> = Vec::new();
    let mut debugs: Vec<String> = Vec::new();

    // An API that fails in every way, echoing nothing.
    let router = axum::Router::new()
        .route(
            "/500",
            any(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        )
        .route(
            "/401",
            any(|| async { (StatusCode::UNAUTHORIZED, "who are you") }),
        )
        .route("/404", any(|| async { (StatusCode::NOT_FOUND, "nope") }))
        .route(
            "/429",
            any(|| async { (StatusCode::TOO_MANY_REQUESTS, "slow") }),
        )
        .route("/bad-json", any(|| async { (StatusCode::OK, "{\"a\":") }));
    let base = serve(router).await;
    let budget = |name: &str| {
        Arc::new(RateBudget::new(
            name,
            RatePlan::per_minute(100),
            clock.shared(),
        ))
    };
    let policy = RetryPolicy {
        max_attempts: 3,
        ..RetryPolicy::default()
    };
    let mk = |auth: Arc<dyn Authenticator>, base: &str| {
        http.api(
            ApiConfig::new(base, "acct:seed", auth, budget("acct:seed"))
                .retry(policy.clone())
                .jitter(Jitter::seeded(9)),
        )
        .unwrap()
    };
    let basic = mk(
        Arc::new(StaticAuth::basic_api_key(&Secret::new(API_KEY), "acct:seed").unwrap()),
        &base,
    );
    let token = mk(
        Arc::new(StaticAuth::token(&Secret::new(FS_TOKEN), "acct:seed").unwrap()),
        &base,
    );
    let bearer = mk(
        Arc::new(StaticAuth::bearer(&Secret::new(BEARER), "acct:seed").unwrap()),
        &base,
    );
    for api in [&basic, &token, &bearer] {
        for path in ["/500", "/401", "/404", "/429", "/bad-json"] {
            let req = ApiRequest::get(path).query(&[
                ("api_key", API_KEY),
                ("access_token", BEARER),
                ("page", "1"),
            ]);
            errors.push(api.send_json::<serde_json::Value>(req).await.unwrap_err());
        }
        errors.push(api.send(ApiRequest::post("/500")).await.unwrap_err());
        debugs.push(format!("{api:?}"));
    }

    // A dropped port: transport errors.
    let closed = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let gone = mk(
        Arc::new(StaticAuth::basic_api_key(&Secret::new(API_KEY), "acct:seed").unwrap()),
        &closed,
    );
    errors.push(
        gone.send(ApiRequest::get("/x").query(&[("token", FS_TOKEN)]))
            .await
            .unwrap_err(),
    );

    // OAuth: a refresh that works, then a revoked grant; a client secret refused; an
    // unreachable token endpoint.
    let (tbase, st) = token_server(ISSUED, CLIENT_SECRET).await;
    st.lock().live_refresh.insert(REFRESH.into());
    let store = MemoryTokenStore::with(
        "freshbooks:seed",
        TokenSet {
            access_token: Secret::new(format!("{ISSUED}stale")),
            refresh_token: Some(Secret::new(REFRESH)),
            expires_at: Some(clock.now() - Duration::from_secs(1)),
        },
    );
    let ac = Arc::new(AuthorizationCode::new(
        &http,
        OAuthClient::new(
            &format!("{tbase}/oauth/token"),
            "cid",
            Secret::new(CLIENT_SECRET),
        )
        .unwrap(),
        Arc::new(store.clone()),
        OAuthOptions::new("freshbooks:seed"),
    ));
    let api = api_with(&http, &tbase, ac.clone());
    api.send(ApiRequest::get("/api/me")).await.unwrap();
    {
        let mut s = st.lock();
        s.live_access.clear();
        s.live_refresh.clear();
    }
    errors.push(api.send(ApiRequest::get("/api/me")).await.unwrap_err());
    debugs.push(format!("{api:?} {ac:?} {:?}", store.get("freshbooks:seed")));

    for secret in ["wrong-secret", CLIENT_SECRET] {
        let cc = Arc::new(ClientCredentials::new(
            &http,
            OAuthClient::new(&format!("{tbase}/oauth/token"), "cid", Secret::new(secret)).unwrap(),
            Arc::new(MemoryTokenStore::new()),
            OAuthOptions::new("helpscout:seed"),
        ));
        let api = api_with(&http, &tbase, cc.clone());
        match api.send(ApiRequest::get("/api/me")).await {
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
        debugs.push(format!("{cc:?}"));
    }
    let unreachable = Arc::new(ClientCredentials::new(
        &http,
        OAuthClient::new(
            &format!("{closed}/oauth/token?client_secret={CLIENT_SECRET}"),
            "cid",
            Secret::new(CLIENT_SECRET),
        )
        .unwrap(),
        Arc::new(MemoryTokenStore::new()),
        OAuthOptions::new("helpscout:seed"),
    ));
    let api = api_with(&http, &tbase, unreachable);
    errors.push(api.send(ApiRequest::get("/api/me")).await.unwrap_err());

    assert!(errors.len() >= 20, "{}", errors.len());
    let mut all = String::new();
    for e in &errors {
        all.push_str(&render(e));
    }
    for d in &debugs {
        all.push_str(d);
    }
    let logs = String::from_utf8_lossy(&buf.0.lock()).into_owned();
    assert!(
        logs.contains("retrying") && logs.contains("429"),
        "logs were captured: {logs}"
    );
    assert!(all.contains("REDACTED"), "{all}");
    for f in forbidden() {
        assert!(
            !all.contains(&f),
            "{f:?} leaked into an error or Debug:\n{all}"
        );
        assert!(!logs.contains(&f), "{f:?} leaked into the logs");
    }
}
