//! Compliance of the freshbooks connector against its simulator: complete listing calm and
//! under faults, the minimal number of requests, pacing under the plan limit with another
//! integration sharing the window, single-use refresh tokens rotated and persisted during a
//! read, a grant without `admin:all:legacy`, and malformed pages.
//!
//! Also home of [`fake_api`], a tiny fixed-answer HTTP server for wrong-shaped pages (the
//! simulators never send those), shared with the Help Scout module.

use crate::compliance::{self, check, context, context_on_sim_time, sim_config, Subject};
use idgraph_connectors::freshbooks::{FreshbooksConfig, FreshbooksConnector};
use idgraph_connectors::{read_all, Connector, ConnectorContext, ConnectorError};
use idgraph_core::AccountKey;
use idgraph_http::{
    ApiConfig, ApiRequest, AuthorizationCode, FileTokenStore, MemoryTokenStore, OAuthClient,
    OAuthOptions, Secret, StaticAuth, TokenStore,
};
use idgraph_sim::common::App;
use idgraph_sim::company::{AccountKind, Company, Coverage, SeedAccount, SeedStatus};
use idgraph_sim::faults::FaultConfig;
use idgraph_sim::serve::{self, RunningSims};
use serde_json::json;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn creds(sims: &RunningSims) -> &serde_json::Value {
    sims.credentials(App::Freshbooks).unwrap()
}

fn cred(sims: &RunningSims, k: &str) -> String {
    creds(sims)[k].as_str().unwrap().to_string()
}

/// The connector configuration for the running simulator: its OAuth application and the
/// pre-issued (single-use) refresh token.
fn config(sims: &RunningSims) -> FreshbooksConfig {
    let mut c = FreshbooksConfig::new(
        cred(sims, "client_id"),
        Secret::new(cred(sims, "client_secret")),
        cred(sims, "redirect_uri"),
    );
    c.base_url = sims.base_url(App::Freshbooks).unwrap().to_string();
    c.refresh_token = Some(Secret::new(cred(sims, "refresh_token")));
    c
}

fn build(sims: &RunningSims, ctx: &ConnectorContext) -> Box<dyn Connector> {
    Box::new(
        FreshbooksConnector::with_token_store(config(sims), ctx, Arc::new(MemoryTokenStore::new()))
            .unwrap(),
    )
}

fn key(seed: &SeedAccount, namespace: &str) -> AccountKey {
    AccountKey {
        app: "freshbooks".into(),
        tenant: seed.scope.unwrap().to_string(),
        namespace: namespace.into(),
        native_id: seed.native_id.to_string(),
    }
}

/// Members are listed unless removed from the business (then the API no longer shows them);
/// invitations only while pending (accepted ones are members, revoked ones are gone).
fn expected_keys(_: &Company, seed: &SeedAccount) -> Vec<AccountKey> {
    match (seed.kind, seed.status) {
        (AccountKind::Member, SeedStatus::Deleted) => vec![],
        (AccountKind::Member, _) => vec![key(seed, "member")],
        (AccountKind::Invitation, SeedStatus::Pending) => vec![key(seed, "invitation")],
        _ => vec![],
    }
}

fn subject() -> Subject {
    Subject {
        app: App::Freshbooks,
        build,
        expected_keys,
        check_grants: |_| true,
    }
}

/// Pages of `per_page` needed for `n` items: a list always takes one request, even empty.
fn pages(n: usize, per_page: usize) -> u64 {
    n.div_ceil(per_page).max(1) as u64
}

/// The fewest API requests that read the company: `users/me`, then per business its member
/// pages and invitation pages (100 a page).
fn minimal_requests(company: &Company) -> u64 {
    let mut total = 1;
    for b in &company.businesses {
        let of = |kind: AccountKind, keep: fn(SeedStatus) -> bool| {
            company
                .accounts_of(App::Freshbooks)
                .filter(|a| a.kind == kind && a.scope == Some(b.id) && keep(a.status))
                .count()
        };
        total += pages(of(AccountKind::Member, |s| s != SeedStatus::Deleted), 100);
        total += pages(
            of(AccountKind::Invitation, |s| s == SeedStatus::Pending),
            100,
        );
    }
    total
}

fn token_requests(sims: &RunningSims) -> u64 {
    sims.envs[&App::Freshbooks]
        .counters
        .snapshot()
        .by_route
        .get("POST /auth/oauth/token")
        .copied()
        .unwrap_or(0)
}

/// A plain client for the simulator's control endpoints and token endpoint.
fn plain(sims: &RunningSims, ctx: &ConnectorContext) -> idgraph_http::ApiClient {
    ctx.http
        .api(ApiConfig::new(
            sims.base_url(App::Freshbooks).unwrap(),
            "freshbooks-test",
            Arc::new(StaticAuth::none()),
            ctx.budgets.unlimited("freshbooks-test"),
        ))
        .unwrap()
}

#[tokio::test]
async fn freshbooks_compliance_calm_and_under_faults() {
    compliance::run_suite(subject()).await;
}

#[tokio::test]
async fn freshbooks_reads_with_the_minimal_number_of_requests() {
    // A realistic company (finance staff only) and one where everyone is a member.
    for (people, coverage) in [(300, Coverage::Realistic), (2_000, Coverage::Full)] {
        let mut cfg = sim_config(App::Freshbooks, people);
        cfg.coverage = coverage;
        let sims = serve::start(cfg).await.unwrap();
        let ctx = context();
        let snap = check(&subject(), &sims, &ctx).await;
        let want = minimal_requests(&sims.company);
        assert_eq!(
            snap.requests, want,
            "API requests: users/me + member and invitation pages"
        );
        // Calm: every attempt is a request, plus the one refresh of the pre-issued token.
        let served = sims.envs[&App::Freshbooks].counters.snapshot();
        assert_eq!(served.total, want + 1, "{:?}", served.by_route);
        assert_eq!(token_requests(&sims), 1);
        println!(
            "freshbooks ({people} people, {coverage:?}): {} accounts in {} businesses, {} API requests (+1 token refresh): {:.4} requests per account",
            snap.accounts.len(),
            sims.company.businesses.len(),
            snap.requests,
            snap.requests as f64 / snap.accounts.len() as f64
        );
        sims.shutdown().await;
    }
}

#[tokio::test]
async fn freshbooks_paces_under_the_plan_limit_without_a_429() {
    let mut cfg = sim_config(App::Freshbooks, 300);
    cfg.default_options.rate_limits = true;
    cfg.time_scale = 60.0;
    let sims = serve::start(cfg).await.unwrap();
    let ctx = context_on_sim_time(&sims);
    let limit = u64::from(idgraph_sim::freshbooks::RATE_LIMIT_PER_MINUTE);
    let need = minimal_requests(&sims.company);
    assert!(need > 2, "the read needs {need} requests");
    // Another integration on the account leaves 2 requests in this window: the read must
    // span two windows (and learns it from X-RateLimit-Remaining, not from a 429).
    plain(&sims, &ctx)
        .send(
            ApiRequest::post("/_sim/ratelimit/consume")
                .json(&json!({"n": limit - 2}))
                .unwrap(),
        )
        .await
        .unwrap();
    let snap = check(&subject(), &sims, &ctx).await;
    let served = sims.envs[&App::Freshbooks].counters.snapshot();
    assert_eq!(served.rate_limited, 0, "{served:?}");
    assert_eq!(served.status_429, 0, "{served:?}");
    assert_eq!(snap.requests, need);
    let waits: u64 = ctx.budgets.metrics().iter().map(|(_, m)| m.waits).sum();
    assert!(waits > 0, "the budget waited for the next window");
    sims.shutdown().await;
}

#[tokio::test]
async fn freshbooks_429_without_retry_after_is_waited_out() {
    let mut cfg = sim_config(App::Freshbooks, 300);
    cfg.time_scale = 600.0;
    let sims = serve::start(cfg).await.unwrap();
    let ctx = context_on_sim_time(&sims);
    let conn = FreshbooksConnector::with_token_store(
        config(&sims),
        &ctx,
        Arc::new(MemoryTokenStore::new()),
    )
    .unwrap();
    conn.fetch("roles", None, None).await.unwrap();
    // FreshBooks' 429 has no Retry-After: the client must wait on its own (here until the
    // X-RateLimit-Reset of the answer), never give up.
    sims.envs[&App::Freshbooks].faults.set(FaultConfig {
        seed: 3,
        rate_429: 0.3,
        ..FaultConfig::default()
    });
    let snap = read_all(&conn, None).await.unwrap();
    let injected = sims.envs[&App::Freshbooks].faults.injected();
    assert!(injected.too_many > 0, "{injected:?}");
    assert_eq!(conn.api().metrics().responses_429, injected.too_many);
    let want: usize = sims
        .company
        .accounts_of(App::Freshbooks)
        .map(|a| expected_keys(&sims.company, a).len())
        .sum();
    assert_eq!(snap.accounts.len(), want);
    sims.shutdown().await;
}

fn temp_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("idgraph-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("tokens.json")
}

#[tokio::test]
async fn freshbooks_refresh_during_a_read_rotates_and_persists_the_token() {
    let sims = serve::start(sim_config(App::Freshbooks, 120))
        .await
        .unwrap();
    let ctx = context();
    let path = temp_path("freshbooks-rotation");
    let mut cfg = config(&sims);
    cfg.token_store = Some(path.clone());
    let store_key = format!("freshbooks:{}", cfg.grant());
    let initial = cred(&sims, "refresh_token");
    let stored_refresh = || async {
        FileTokenStore::new(&path)
            .load(&store_key)
            .await
            .unwrap()
            .unwrap()
            .refresh_token
            .unwrap()
            .expose()
            .to_string()
    };

    let first = FreshbooksConnector::new(cfg.clone(), &ctx).unwrap();
    let full = read_all(&first, None).await.unwrap();
    // No `updated_since` on members: a read with `since` is the same full listing.
    let since = read_all(&first, Some(sims.clock.now())).await.unwrap();
    assert_eq!(since.accounts.len(), full.accounts.len());
    assert_eq!(since.requests, full.requests);
    let rt1 = stored_refresh().await;
    assert_ne!(
        rt1, initial,
        "the pre-issued token was spent and its successor saved"
    );
    assert_eq!(token_requests(&sims), 1);

    // Every access token expires in the middle of the next read: the 401 triggers one
    // refresh, whose new refresh token is saved before the new access token is used.
    let roles = first.fetch("roles", None, None).await.unwrap();
    assert!(roles.next.is_none());
    plain(&sims, &ctx)
        .send(ApiRequest::post("/_sim/tokens/expire"))
        .await
        .unwrap();
    let again = read_all(&first, None).await.unwrap();
    assert_eq!(again.accounts.len(), full.accounts.len());
    assert_eq!(token_requests(&sims), 2);
    assert_eq!(first.api().metrics().reauths, 1);
    let rt2 = stored_refresh().await;
    assert_ne!(rt2, rt1, "rotated again and persisted");

    // The simulator refuses the spent refresh token.
    let spent = plain(&sims, &ctx)
        .send(
            ApiRequest::post("/auth/oauth/token")
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", rt1.as_str()),
                    ("client_id", cred(&sims, "client_id").as_str()),
                    ("client_secret", cred(&sims, "client_secret").as_str()),
                ])
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(spent.status().map(|s| s.as_u16()), Some(400));
    assert!(format!("{spent}").contains("invalid_grant"), "{spent}");

    // A second connector (a later run) from the same token file keeps working, although its
    // configuration still names the pre-issued, long spent, refresh token.
    let before = token_requests(&sims);
    let second = FreshbooksConnector::new(cfg.clone(), &ctx).unwrap();
    let later = read_all(&second, None).await.unwrap();
    assert_eq!(later.accounts.len(), full.accounts.len());
    assert_eq!(
        token_requests(&sims),
        before,
        "the stored access token is still valid"
    );

    // A connector with an empty store and the spent token is refused, and says so without
    // printing a secret.
    let lost =
        FreshbooksConnector::with_token_store(cfg.clone(), &ctx, Arc::new(MemoryTokenStore::new()))
            .unwrap();
    let err = lost.fetch("roles", None, None).await.unwrap_err();
    let shown = format!("{err} {err:?} {:?}", std::error::Error::source(&err));
    assert!(shown.contains("invalid_grant"), "{shown}");
    for secret in [
        initial.as_str(),
        rt1.as_str(),
        rt2.as_str(),
        &cred(&sims, "client_secret"),
    ] {
        assert!(!shown.contains(secret), "a secret leaked: {shown}");
    }
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
    sims.shutdown().await;
}

/// The `code` of the authorize redirect, read with a bare HTTP request (the HTTP client does
/// not follow redirects, and the simulator answers 302 with the code in `Location`).
async fn authorize_code(sims: &RunningSims, scope: &str) -> String {
    let base = sims.base_url(App::Freshbooks).unwrap();
    let host = base.trim_start_matches("http://").trim_end_matches('/');
    let path = format!(
        "/oauth/authorize?response_type=code&client_id={}&redirect_uri={}&scope={}",
        cred(sims, "client_id"),
        cred(sims, "redirect_uri")
            .replace(':', "%3A")
            .replace('/', "%2F"),
        scope.replace(':', "%3A"),
    );
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).await.unwrap();
    let location = resp
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("location:"))
        .unwrap_or_else(|| panic!("no Location in {resp}"));
    let code = location.split("code=").nth(1).unwrap();
    code.split('&').next().unwrap().trim().to_string()
}

#[tokio::test]
async fn freshbooks_without_admin_scope_names_the_missing_scope() {
    let sims = serve::start(sim_config(App::Freshbooks, 60)).await.unwrap();
    let ctx = context();
    let cfg = {
        let mut c = config(&sims);
        c.refresh_token = None;
        c
    };
    // Authorize with user:profile:read only, as a careless set-up would.
    let code = authorize_code(&sims, "user:profile:read").await;
    let store = Arc::new(MemoryTokenStore::new());
    let grant = AuthorizationCode::new(
        &ctx.http,
        OAuthClient::new(
            &cfg.token_url(),
            cfg.client_id.clone(),
            cfg.client_secret.clone(),
        )
        .unwrap(),
        store.clone(),
        OAuthOptions::new(format!("freshbooks:{}", cfg.grant()))
            .redirect_uri(cfg.redirect_uri.clone()),
    );
    grant.exchange_code(&Secret::new(code)).await.unwrap();

    let conn = FreshbooksConnector::with_token_store(cfg, &ctx, store).unwrap();
    let roles = conn.fetch("roles", None, None).await.unwrap();
    assert!(
        !roles.records.is_empty(),
        "users/me needs only the profile scope"
    );
    let err = conn.fetch("members", None, None).await.unwrap_err();
    assert!(matches!(err, ConnectorError::Config { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("freshbooks") && msg.contains("members") && msg.contains("admin:all:legacy"),
        "{msg}"
    );
    sims.shutdown().await;
}

#[tokio::test]
async fn freshbooks_truncated_pages_are_fetched_again() {
    let sims = serve::start(sim_config(App::Freshbooks, 300))
        .await
        .unwrap();
    let ctx = context();
    let conn = build(&sims, &ctx);
    // The token is obtained in calm conditions (a cut-off token answer would burn the
    // single-use refresh token: no client can recover from that).
    conn.fetch("roles", None, None).await.unwrap();
    sims.envs[&App::Freshbooks].faults.set(FaultConfig {
        seed: 11,
        malformed_rate: 0.4,
        ..FaultConfig::default()
    });
    let snap = read_all(conn.as_ref(), None).await.unwrap();
    let injected = sims.envs[&App::Freshbooks].faults.injected();
    assert!(injected.malformed > 0, "{injected:?}");
    let calm = minimal_requests(&sims.company);
    assert_eq!(
        snap.requests,
        calm + injected.malformed,
        "each bad page fetched once more"
    );
    let listed = snap.accounts.len();
    let want: usize = sims
        .company
        .accounts_of(App::Freshbooks)
        .map(|a| expected_keys(&sims.company, a).len())
        .sum();
    assert_eq!(listed, want);
    sims.shutdown().await;
}

/// A fixed-answer HTTP/1.1 server on 127.0.0.1: each route is `(method, path prefix, JSON)`,
/// answered 200; anything else is 404. Returns the base URL.
pub async fn fake_api(routes: Vec<(&'static str, &'static str, String)>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let routes = Arc::new(routes);
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let routes = routes.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break p + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                while buf.len() < head_end + len {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let mut first = head.lines().next().unwrap_or("").split_whitespace();
                let (method, target) = (first.next().unwrap_or(""), first.next().unwrap_or(""));
                let path = target.split('?').next().unwrap_or("");
                let found = routes
                    .iter()
                    .find(|(m, p, _)| *m == method && path.starts_with(p));
                let (status, body) = match found {
                    Some((_, _, body)) => ("200 OK", body.clone()),
                    None => ("404 Not Found", r#"{"error":"not_found"}"#.to_string()),
                };
                let resp = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    base
}

#[tokio::test]
async fn freshbooks_wrong_shaped_pages_name_the_app_and_resource() {
    let token =
        json!({"access_token": "at", "refresh_token": "rt2", "expires_in": 43200}).to_string();
    let me = json!({"response": {"id": 1000001, "business_memberships": [{"role": "owner", "business_id": 5}]}})
        .to_string();
    let cases = [
        // A member whose id is an object.
        json!({"response": {"members": [{"id": 1, "email": "a@x.example"}, {"id": {"n": 2}}], "pages": {"page": 1, "pages": 1}}}),
        // No member list at all.
        json!({"response": {"members": "none", "pages": {"page": 1, "pages": 1}}}),
    ];
    for members in cases {
        let base = fake_api(vec![
            ("POST", "/auth/oauth/token", token.clone()),
            ("GET", "/auth/api/v1/users/me", me.clone()),
            (
                "GET",
                "/auth/api/v1/business/5/members",
                members.to_string(),
            ),
        ])
        .await;
        let mut cfg = FreshbooksConfig::new("cid", Secret::new("secret"), "https://x/cb");
        cfg.base_url = base;
        cfg.refresh_token = Some(Secret::new("rt1"));
        let conn = FreshbooksConnector::with_token_store(
            cfg,
            &context(),
            Arc::new(MemoryTokenStore::new()),
        )
        .unwrap();
        let err = conn.fetch("members", None, None).await.unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("freshbooks: members:"),
            "names app and resource: {msg}"
        );
        assert!(!err.is_retriable(), "{err:?}");
    }
}
