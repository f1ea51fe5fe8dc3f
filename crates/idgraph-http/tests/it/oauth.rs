//! OAuth: single-use rotating refresh tokens (persisted before use, single-flight, sent once
//! each), a failing token store, the file store, and client credentials cached across runs
//! with exactly one re-authentication on 401.

use crate::support::*;
use async_trait::async_trait;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Json;
use idgraph_http::*;
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Default)]
pub struct TokenServerState {
    pub prefix: String,
    pub client_secret: String,
    /// Refresh tokens that may be used (once).
    pub live_refresh: HashSet<String>,
    /// Access tokens the API accepts.
    pub live_access: HashSet<String>,
    /// Every refresh token presented, in order.
    pub presented: Vec<String>,
    pub token_calls: usize,
    pub api_calls: usize,
    pub issued: usize,
    /// The API answers 401 to everything.
    pub api_always_401: bool,
    /// Content types of token requests.
    pub content_types: Vec<String>,
}

pub type Ts = Arc<Mutex<TokenServerState>>;

async fn token_endpoint(
    State(s): State<Ts>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<serde_json::Value>) {
    let mut s = s.lock();
    s.token_calls += 1;
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    s.content_types.push(ct);
    if form.get("client_secret") != Some(&s.client_secret) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"error": "invalid_client"})),
        );
    }
    let grant = form.get("grant_type").cloned().unwrap_or_default();
    match grant.as_str() {
        "refresh_token" => {
            let rt = form.get("refresh_token").cloned().unwrap_or_default();
            s.presented.push(rt.clone());
            if !s.live_refresh.remove(&rt) {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(
                        serde_json::json!({"error": "invalid_grant", "error_description": format!("token {rt} is spent")}),
                    ),
                );
            }
        }
        "client_credentials" | "authorization_code" => {}
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                Json(serde_json::json!({"error": "unsupported_grant_type"})),
            )
        }
    }
    s.issued += 1;
    let access = format!("{}ACCESS-{}", s.prefix, s.issued);
    let refresh = format!("{}REFRESH-{}", s.prefix, s.issued);
    s.live_access.insert(access.clone());
    let mut body = serde_json::json!({
        "access_token": access, "token_type": "Bearer", "expires_in": 3600
    });
    if grant != "client_credentials" {
        s.live_refresh.insert(refresh.clone());
        body["refresh_token"] = refresh.into();
    }
    (StatusCode::OK, Json(body))
}

async fn me(State(s): State<Ts>, headers: HeaderMap) -> (StatusCode, Json<serde_json::Value>) {
    let mut s = s.lock();
    s.api_calls += 1;
    let tok = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .to_string();
    if s.api_always_401 || !s.live_access.contains(&tok) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"error": "unauthorized"})),
        );
    }
    (StatusCode::OK, Json(serde_json::json!({"ok": true})))
}

/// A token endpoint at `/oauth/token` and an API at `/api/me`.
pub async fn token_server(prefix: &str, client_secret: &str) -> (String, Ts) {
    let st: Ts = Arc::new(Mutex::new(TokenServerState {
        prefix: prefix.to_string(),
        client_secret: client_secret.to_string(),
        ..TokenServerState::default()
    }));
    let router = axum::Router::new()
        .route("/oauth/token", post(token_endpoint))
        .route("/api/me", get(me))
        .with_state(st.clone());
    (serve(router).await, st)
}

pub fn api_with(http: &HttpClient, base: &str, auth: Arc<dyn Authenticator>) -> ApiClient {
    let budget = Arc::new(RateBudget::unlimited("oauth:acct", http.clock().clone()));
    http.api(ApiConfig::new(base, "oauth:acct", auth, budget).jitter(Jitter::seeded(3)))
        .unwrap()
}

fn expired_tokens(clock: &ManualClock, refresh: &str) -> TokenSet {
    TokenSet {
        access_token: Secret::new("stale-access"),
        refresh_token: Some(Secret::new(refresh)),
        expires_at: Some(clock.now() - Duration::from_secs(60)),
    }
}

fn auth_code(http: &HttpClient, base: &str, store: Arc<dyn TokenStore>) -> Arc<AuthorizationCode> {
    let oauth = OAuthClient::new(
        &format!("{base}/oauth/token"),
        "cid",
        Secret::new("csecret"),
    )
    .unwrap();
    Arc::new(AuthorizationCode::new(
        http,
        oauth,
        store,
        OAuthOptions::new("freshbooks:biz1").expiry_margin(Duration::from_secs(120)),
    ))
}

#[tokio::test]
async fn rotating_refresh_tokens_are_saved_and_sent_once_each() {
    let clock = ManualClock::new(START);
    let (base, st) = token_server("T-", "csecret").await;
    st.lock().live_refresh.insert("rt-0".into());
    let store = MemoryTokenStore::with("freshbooks:biz1", expired_tokens(&clock, "rt-0"));
    let http = http(&clock);
    let auth = auth_code(&http, &base, Arc::new(store.clone()));
    let api = api_with(&http, &base, auth.clone());
    for _ in 0..3 {
        api.send(ApiRequest::get("/api/me")).await.unwrap();
    }
    assert_eq!(
        store.get("freshbooks:biz1").unwrap().refresh_token,
        Some(Secret::new("T-REFRESH-1"))
    );
    // Two hours later the access token is stale: one more refresh with the rotated token.
    clock.advance(Duration::from_secs(7200));
    api.send(ApiRequest::get("/api/me")).await.unwrap();
    let s = st.lock();
    assert_eq!(
        s.presented,
        vec!["rt-0".to_string(), "T-REFRESH-1".to_string()]
    );
    assert!(s
        .content_types
        .iter()
        .all(|c| c == "application/x-www-form-urlencoded"));
    assert_eq!(auth.token_requests(), 2);
    assert_eq!(
        store.get("freshbooks:biz1").unwrap().refresh_token,
        Some(Secret::new("T-REFRESH-2"))
    );
}

#[tokio::test]
async fn concurrent_requests_refresh_once() {
    let clock = ManualClock::new(START);
    let (base, st) = token_server("T-", "csecret").await;
    st.lock().live_refresh.insert("rt-0".into());
    let store = MemoryTokenStore::with("freshbooks:biz1", expired_tokens(&clock, "rt-0"));
    let http = http(&clock);
    let api = api_with(
        &http,
        &base,
        auth_code(&http, &base, Arc::new(store.clone())),
    );
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            api.send(ApiRequest::get("/api/me")).await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let s = st.lock();
    assert_eq!(s.presented, vec!["rt-0".to_string()], "single flight");
    assert_eq!(s.token_calls, 1);
    assert_eq!(s.api_calls, 16);
}

#[tokio::test]
async fn a_401_refreshes_once_then_succeeds() {
    let clock = ManualClock::new(START);
    let (base, st) = token_server("T-", "csecret").await;
    st.lock().live_refresh.insert("rt-0".into());
    // Not expired by the client's clock, but revoked on the server.
    let mut t = expired_tokens(&clock, "rt-0");
    t.expires_at = Some(clock.now() + Duration::from_secs(3000));
    let store = MemoryTokenStore::with("freshbooks:biz1", t);
    let http = http(&clock);
    let api = api_with(&http, &base, auth_code(&http, &base, Arc::new(store)));
    api.send(ApiRequest::get("/api/me")).await.unwrap();
    assert_eq!(api.metrics().reauths, 1);
    assert_eq!(st.lock().api_calls, 2);
}

/// A store whose saves fail while `fail` is set.
#[derive(Debug, Default)]
struct FlakyStore {
    inner: MemoryTokenStore,
    fail: AtomicBool,
    saves: AtomicUsize,
}

#[async_trait]
impl TokenStore for FlakyStore {
    async fn load(&self, key: &str) -> Result<Option<TokenSet>, TokenStoreError> {
        self.inner.load(key).await
    }

    async fn save(&self, key: &str, tokens: &TokenSet) -> Result<(), TokenStoreError> {
        self.saves.fetch_add(1, Ordering::SeqCst);
        if self.fail.load(Ordering::SeqCst) {
            return Err(TokenStoreError::Other {
                what: "disk full".into(),
                source: None,
            });
        }
        self.inner.save(key, tokens).await
    }
}

#[tokio::test]
async fn a_failing_store_fails_the_request_and_never_reuses_the_spent_token() {
    let clock = ManualClock::new(START);
    let (base, st) = token_server("T-", "csecret").await;
    st.lock().live_refresh.insert("rt-0".into());
    let store = Arc::new(FlakyStore::default());
    store
        .inner
        .save("freshbooks:biz1", &expired_tokens(&clock, "rt-0"))
        .await
        .unwrap();
    store.fail.store(true, Ordering::SeqCst);
    let http = http(&clock);
    let api = api_with(&http, &base, auth_code(&http, &base, store.clone()));

    let err = api.send(ApiRequest::get("/api/me")).await.unwrap_err();
    assert!(matches!(err, HttpError::TokenStore { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("freshbooks:biz1") && msg.contains("could not be saved"),
        "{msg}"
    );
    assert_eq!(
        std::error::Error::source(&err).unwrap().to_string(),
        "disk full"
    );
    // The new access token was not used before it was saved.
    assert_eq!(st.lock().api_calls, 0);

    // Still failing: the request fails again, without a second refresh.
    assert!(api.send(ApiRequest::get("/api/me")).await.is_err());
    assert_eq!(st.lock().token_calls, 1);

    // The store recovers: the pending tokens are saved first, then used; no refresh.
    store.fail.store(false, Ordering::SeqCst);
    api.send(ApiRequest::get("/api/me")).await.unwrap();
    let s = st.lock();
    assert_eq!(s.presented, vec!["rt-0".to_string()]);
    assert_eq!(s.api_calls, 1);
    assert_eq!(
        store.inner.get("freshbooks:biz1").unwrap().refresh_token,
        Some(Secret::new("T-REFRESH-1"))
    );
}

#[tokio::test]
async fn a_spent_refresh_token_gives_a_clear_error() {
    let clock = ManualClock::new(START);
    let (base, _st) = token_server("T-", "csecret").await;
    let store = MemoryTokenStore::with("freshbooks:biz1", expired_tokens(&clock, "rt-spent"));
    let http = http(&clock);
    let api = api_with(&http, &base, auth_code(&http, &base, Arc::new(store)));
    let err = api.send(ApiRequest::get("/api/me")).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, HttpError::Auth { .. }));
    assert!(
        msg.contains("invalid_grant") && msg.contains("authorize the integration again"),
        "{msg}"
    );
    assert!(
        !msg.contains("rt-spent") && !msg.contains("is spent"),
        "no body quoted: {msg}"
    );
}

#[tokio::test]
async fn file_store_is_atomic_private_and_survives_runs() {
    let dir = std::env::temp_dir().join(format!(
        "idgraph-http-store-{}-{}",
        std::process::id(),
        line!()
    ));
    // The store's directory does not exist yet: the first save makes it, private.
    let path = dir.join("tokens").join("tokens.json");
    let clock = ManualClock::new(START);
    let (base, st) = token_server("T-", "csecret").await;
    st.lock().live_refresh.insert("rt-0".into());
    let store = FileTokenStore::new(&path);
    store
        .save("freshbooks:biz1", &expired_tokens(&clock, "rt-0"))
        .await
        .unwrap();
    store
        .save("other:key", &expired_tokens(&clock, "other"))
        .await
        .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
    }
    let http = http(&clock);
    // Run 1 refreshes.
    let api = api_with(
        &http,
        &base,
        auth_code(&http, &base, Arc::new(FileTokenStore::new(&path))),
    );
    api.send(ApiRequest::get("/api/me")).await.unwrap();
    // Run 2 (a new process) starts from the file: the rotated token, no refresh needed.
    let auth2 = auth_code(&http, &base, Arc::new(FileTokenStore::new(&path)));
    let api2 = api_with(&http, &base, auth2.clone());
    api2.send(ApiRequest::get("/api/me")).await.unwrap();
    assert_eq!(auth2.token_requests(), 0);
    let loaded = FileTokenStore::new(&path)
        .load("freshbooks:biz1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(loaded.refresh_token, Some(Secret::new("T-REFRESH-1")));
    assert!(FileTokenStore::new(&path)
        .load("other:key")
        .await
        .unwrap()
        .is_some());
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["tokens.json".to_string()], "no temp file left");
    std::fs::write(&path, "{ broken").unwrap();
    let err = FileTokenStore::new(&path).load("x").await.unwrap_err();
    assert!(err.to_string().contains("tokens.json"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn client_creds(
    http: &HttpClient,
    base: &str,
    store: Arc<dyn TokenStore>,
    secret: &str,
) -> Arc<ClientCredentials> {
    let oauth =
        OAuthClient::new(&format!("{base}/oauth/token"), "cid", Secret::new(secret)).unwrap();
    Arc::new(ClientCredentials::new(
        http,
        oauth,
        store,
        OAuthOptions::new("helpscout:acct").expiry_margin(Duration::from_secs(300)),
    ))
}

#[tokio::test]
async fn client_credentials_token_is_reused_across_runs_until_the_margin() {
    let clock = ManualClock::new(START);
    let (base, st) = token_server("H-", "csecret").await;
    let store = MemoryTokenStore::new();
    let http = http(&clock);
    let run1 = client_creds(&http, &base, Arc::new(store.clone()), "csecret");
    let api1 = api_with(&http, &base, run1.clone());
    api1.send(ApiRequest::get("/api/me")).await.unwrap();
    api1.send(ApiRequest::get("/api/me")).await.unwrap();
    assert_eq!(run1.token_requests(), 1);
    // A second run reuses the cached token.
    let run2 = client_creds(&http, &base, Arc::new(store.clone()), "csecret");
    let api2 = api_with(&http, &base, run2.clone());
    api2.send(ApiRequest::get("/api/me")).await.unwrap();
    assert_eq!(run2.token_requests(), 0);
    // Inside the margin (expires_in 3600, margin 300): re-authenticate before using it.
    clock.advance(Duration::from_secs(3600 - 299));
    api2.send(ApiRequest::get("/api/me")).await.unwrap();
    assert_eq!(run2.token_requests(), 1);
    assert_eq!(st.lock().token_calls, 2);
    assert_eq!(api2.metrics().reauths, 0);
}

#[tokio::test]
async fn client_credentials_reauthenticate_exactly_once_on_401() {
    let clock = ManualClock::new(START);
    let (base, st) = token_server("H-", "csecret").await;
    let http = http(&clock);
    let cc = client_creds(&http, &base, Arc::new(MemoryTokenStore::new()), "csecret");
    let api = api_with(&http, &base, cc.clone());
    api.send(ApiRequest::get("/api/me")).await.unwrap();
    // The server revokes every token: one re-authentication, then the 401 surfaces.
    st.lock().api_always_401 = true;
    let err = api.send(ApiRequest::get("/api/me")).await.unwrap_err();
    assert!(matches!(err, HttpError::Auth { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("401 again after re-authenticating"),
        "{err}"
    );
    assert_eq!(cc.token_requests(), 2);
    assert_eq!(st.lock().api_calls, 3);
    assert_eq!(api.metrics().reauths, 1);
}
