//! Tests of the FreshBooks simulator: one per endpoint, per "Watch out for" and per trap of
//! the guide (see `docs/simulators/freshbooks.md`), driven in-process with `oneshot`.

use super::*;
use crate::clock::SimClock;
use crate::common::{App, SimEnv, TenantOptions};
use crate::company::{
    AccountKind, Business, Company, CompanyConfig, EmailVariant, Namespaces, SeedAccount,
    SeedStatus,
};
use axum::body::Body;
use http::{HeaderMap, Method, Request, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use time::macros::datetime;
use tower::ServiceExt;

const B1: u64 = 77_001;
const B2: u64 = 77_002;
/// A business where the token owner is a mere employee.
const B3: u64 = 77_003;

fn account(
    kind: AccountKind,
    id: u64,
    scope: u64,
    email: &str,
    role: &str,
    status: SeedStatus,
    owner: Option<&str>,
) -> SeedAccount {
    SeedAccount {
        app: App::Freshbooks,
        kind,
        native_id: id,
        scim_id: None,
        scope: Some(scope),
        email: email.to_string(),
        first_name: format!("First{id}"),
        last_name: format!("Last{id}"),
        job_title: None,
        department: None,
        status,
        roles: vec![role.to_string()],
        groups: vec![],
        occasional: false,
        namespaces: Namespaces {
            rest: true,
            scim: false,
        },
        created_at: datetime!(2025-01-01 00:00 UTC),
        updated_at: datetime!(2025-01-01 00:00 UTC),
        last_login_at: None,
        owner: owner.map(str::to_string),
        email_variant: EmailVariant::Primary,
    }
}

/// Three businesses; the owner (E1) owns B1, administers B2, is an employee of B3. B1 has
/// `extra` employees besides the owner, one inactive (4001) and one removed (4002) among them.
fn fixture(extra: u64) -> Company {
    use AccountKind::{Invitation, Member};
    let mut accounts = vec![
        account(
            Member,
            4000,
            B1,
            "ceo@acme.example",
            "owner",
            SeedStatus::Active,
            Some("E1"),
        ),
        account(
            Member,
            5000,
            B2,
            "ceo@acme.example",
            "admin",
            SeedStatus::Active,
            Some("E1"),
        ),
        account(
            Member,
            5001,
            B3,
            "ceo@acme.example",
            "employee",
            SeedStatus::Active,
            Some("E1"),
        ),
        account(
            Member,
            5002,
            B2,
            "amy@acme.example",
            "employee",
            SeedStatus::Active,
            Some("E2"),
        ),
    ];
    for i in 1..=extra {
        let status = match i {
            1 => SeedStatus::Inactive,
            2 => SeedStatus::Deleted,
            _ => SeedStatus::Active,
        };
        accounts.push(account(
            Member,
            4000 + i,
            B1,
            &format!("staff{i}@acme.example"),
            "employee",
            status,
            Some(&format!("E{}", 100 + i)),
        ));
    }
    accounts.push(account(
        Invitation,
        9000,
        B1,
        "new1@acme.example",
        "employee",
        SeedStatus::Pending,
        None,
    ));
    accounts.push(account(
        Invitation,
        9001,
        B1,
        "new2@acme.example",
        "accountant",
        SeedStatus::Pending,
        None,
    ));
    accounts.push(account(
        Invitation,
        9002,
        B2,
        "new3@acme.example",
        "employee",
        SeedStatus::Pending,
        None,
    ));
    let mut catalogs = BTreeMap::new();
    catalogs.insert(App::Freshbooks, crate::company::Catalog::default());
    Company {
        config: CompanyConfig::new(1, 10, datetime!(2026-03-01 00:00 UTC)),
        people: vec![],
        accounts,
        catalogs,
        businesses: vec![
            Business {
                id: B1,
                name: "Acme Holdings".into(),
                account_id: "ABC123".into(),
            },
            Business {
                id: B2,
                name: "Acme Services".into(),
                account_id: "DEF456".into(),
            },
            Business {
                id: B3,
                name: "Other Co".into(),
                account_id: "GHI789".into(),
            },
        ],
        freshbooks_owner: Some("E1".into()),
        drifts: vec![],
    }
}

fn env_with(rate_limits: bool) -> SimEnv {
    let options = TenantOptions {
        rate_limits,
        ..TenantOptions::default()
    };
    SimEnv::new(
        App::Freshbooks,
        SimClock::frozen(datetime!(2026-03-01 12:00 UTC)),
        options,
        7,
    )
}

fn sim_n(extra: u64) -> AppSim {
    build(&fixture(extra), env_with(true))
}

fn sim() -> AppSim {
    sim_n(20)
}

struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

async fn send(
    sim: &AppSim,
    method: Method,
    uri: &str,
    token: Option<&str>,
    ctype: Option<&str>,
    body: &str,
) -> Resp {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if let Some(c) = ctype {
        req = req.header("content-type", c);
    }
    let req = req.body(Body::from(body.to_string())).unwrap();
    let resp = sim.router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Resp {
        status,
        headers,
        body,
    }
}

async fn get(sim: &AppSim, uri: &str, token: &str) -> Resp {
    send(sim, Method::GET, uri, Some(token), None, "").await
}

async fn json_req(sim: &AppSim, method: Method, uri: &str, token: &str, body: Value) -> Resp {
    send(
        sim,
        method,
        uri,
        Some(token),
        Some("application/json"),
        &body.to_string(),
    )
    .await
}

fn cred(sim: &AppSim, k: &str) -> String {
    sim.credentials[k].as_str().unwrap().to_string()
}

/// Refreshes with `refresh` and returns (access, new refresh).
async fn refresh(sim: &AppSim, refresh: &str) -> Resp {
    let body = json!({
        "grant_type": "refresh_token",
        "refresh_token": refresh,
        "client_id": cred(sim, "client_id"),
        "client_secret": cred(sim, "client_secret"),
        "redirect_uri": cred(sim, "redirect_uri"),
    });
    send(
        sim,
        Method::POST,
        "/auth/oauth/token",
        None,
        Some("application/json"),
        &body.to_string(),
    )
    .await
}

/// An access token with all scopes, from the pre-issued refresh token.
async fn token(sim: &AppSim) -> String {
    let r = refresh(sim, &cred(sim, "refresh_token")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["access_token"].as_str().unwrap().to_string()
}

/// Runs the authorize step and returns the code from the redirect.
async fn code_for(sim: &AppSim, scope: Option<&str>) -> String {
    let mut uri = format!(
        "/oauth/authorize?response_type=code&client_id={}&redirect_uri={}&state=xyz",
        cred(sim, "client_id"),
        url::form_urlencoded::byte_serialize(cred(sim, "redirect_uri").as_bytes())
            .collect::<String>()
    );
    if let Some(s) = scope {
        uri.push_str(&format!("&scope={}", s.replace(' ', "+")));
    }
    let r = send(sim, Method::GET, &uri, None, None, "").await;
    assert_eq!(r.status, StatusCode::FOUND, "{:?}", r.body);
    let loc = url::Url::parse(r.headers["location"].to_str().unwrap()).unwrap();
    loc.query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

async fn exchange(sim: &AppSim, code: &str) -> Resp {
    let form = serde_urlencoded::to_string([
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", &cred(sim, "client_id")),
        ("client_secret", &cred(sim, "client_secret")),
        ("redirect_uri", &cred(sim, "redirect_uri")),
    ])
    .unwrap();
    send(
        sim,
        Method::POST,
        "/auth/oauth/token",
        None,
        Some("application/x-www-form-urlencoded"),
        &form,
    )
    .await
}

/// A token limited to `scope`, through the authorization-code flow.
async fn scoped_token(sim: &AppSim, scope: &str) -> String {
    let code = code_for(sim, Some(scope)).await;
    let r = exchange(sim, &code).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["access_token"].as_str().unwrap().to_string()
}

async fn state(sim: &AppSim) -> Value {
    send(sim, Method::GET, "/_sim/state", None, None, "")
        .await
        .body
}

fn ids(list: &Value) -> Vec<u64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_u64().unwrap())
        .collect()
}

// ---- OAuth ----

#[tokio::test]
async fn authorize_redirects_with_code_and_state() {
    let sim = sim();
    let uri = format!(
        "/oauth/authorize?response_type=code&client_id={}&redirect_uri={}&state=abc",
        cred(&sim, "client_id"),
        cred(&sim, "redirect_uri")
    );
    let r = send(&sim, Method::GET, &uri, None, None, "").await;
    assert_eq!(r.status, StatusCode::FOUND);
    let loc = r.headers["location"].to_str().unwrap();
    assert!(loc.starts_with(REDIRECT_URI), "{loc}");
    assert!(loc.contains("code=") && loc.contains("state=abc"), "{loc}");
    // The real SDK's authorize path works too.
    let uri2 = uri.replace("/oauth/authorize", "/service/auth/oauth/authorize");
    assert_eq!(
        send(&sim, Method::GET, &uri2, None, None, "").await.status,
        StatusCode::FOUND
    );
}

#[tokio::test]
async fn authorize_rejects_unknown_client_and_redirect_mismatch() {
    let sim = sim();
    let r = send(
        &sim,
        Method::GET,
        &format!("/oauth/authorize?response_type=code&client_id=nope&redirect_uri={REDIRECT_URI}"),
        None,
        None,
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"], "invalid_client");
    let r = send(
        &sim,
        Method::GET,
        &format!(
            "/oauth/authorize?response_type=code&client_id={}&redirect_uri=https://evil.example/cb",
            cred(&sim, "client_id")
        ),
        None,
        None,
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"], "invalid_redirect_uri");
}

#[tokio::test]
async fn authorize_redirects_errors_for_bad_scope_and_response_type() {
    let sim = sim();
    let base = format!(
        "/oauth/authorize?client_id={}&redirect_uri={}",
        cred(&sim, "client_id"),
        REDIRECT_URI
    );
    let r = send(
        &sim,
        Method::GET,
        &format!("{base}&response_type=token"),
        None,
        None,
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert!(r.headers["location"]
        .to_str()
        .unwrap()
        .contains("error=unsupported_response_type"));
    let r = send(
        &sim,
        Method::GET,
        &format!("{base}&response_type=code&scope=admin:everything"),
        None,
        None,
        "",
    )
    .await;
    assert!(r.headers["location"]
        .to_str()
        .unwrap()
        .contains("error=invalid_scope"));
}

#[tokio::test]
async fn code_exchange_accepts_form_and_json_and_returns_token_shape() {
    let sim = sim();
    let code = code_for(&sim, None).await;
    let r = exchange(&sim, &code).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    for k in ["access_token", "refresh_token", "scope"] {
        assert!(r.body[k].is_string(), "{k}: {:?}", r.body);
    }
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], ACCESS_TOKEN_TTL_SECS);
    assert_eq!(
        r.body["created_at"],
        datetime!(2026-03-01 12:00 UTC).unix_timestamp()
    );
    assert_eq!(r.body["scope"], SCOPES.join(" "));
    // JSON body.
    let code = code_for(&sim, None).await;
    let body = json!({"grant_type": "authorization_code", "code": code, "client_id": cred(&sim, "client_id"),
        "client_secret": cred(&sim, "client_secret"), "redirect_uri": REDIRECT_URI});
    let r = send(
        &sim,
        Method::POST,
        "/auth/oauth/token",
        None,
        Some("application/json"),
        &body.to_string(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}

#[tokio::test]
async fn auth_codes_are_single_use_and_expire() {
    let sim = sim();
    let code = code_for(&sim, None).await;
    assert_eq!(exchange(&sim, &code).await.status, StatusCode::OK);
    let again = exchange(&sim, &code).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.body["error"], "invalid_grant");
    let code = code_for(&sim, None).await;
    sim.env
        .clock
        .advance(time::Duration::seconds(AUTH_CODE_TTL_SECS + 1));
    let late = exchange(&sim, &code).await;
    assert_eq!(late.body["error"], "invalid_grant");
    assert!(late.body["error_description"]
        .as_str()
        .unwrap()
        .contains("expired"));
}

#[tokio::test]
async fn code_exchange_checks_redirect_uri_and_client() {
    let sim = sim();
    let code = code_for(&sim, None).await;
    let form = format!("grant_type=authorization_code&code={code}&client_id={}&client_secret=wrong&redirect_uri={REDIRECT_URI}", cred(&sim, "client_id"));
    let r = send(
        &sim,
        Method::POST,
        "/auth/oauth/token",
        None,
        Some("application/x-www-form-urlencoded"),
        &form,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["error"], "invalid_client");
    let form = format!("grant_type=authorization_code&code={code}&client_id={}&client_secret={}&redirect_uri=https://other.example/cb", cred(&sim, "client_id"), cred(&sim, "client_secret"));
    let r = send(
        &sim,
        Method::POST,
        "/auth/oauth/token",
        None,
        Some("application/x-www-form-urlencoded"),
        &form,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"], "invalid_grant");
}

#[tokio::test]
async fn refresh_tokens_work_once_and_each_refresh_returns_a_new_one() {
    let sim = sim();
    let first = cred(&sim, "refresh_token");
    let r1 = refresh(&sim, &first).await;
    assert_eq!(r1.status, StatusCode::OK);
    let second = r1.body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(second, first);
    // The spent token is refused: a client that did not save the new one is locked out.
    let reuse = refresh(&sim, &first).await;
    assert_eq!(reuse.status, StatusCode::BAD_REQUEST);
    assert_eq!(reuse.body["error"], "invalid_grant");
    assert!(reuse.body["error_description"]
        .as_str()
        .unwrap()
        .contains("already used"));
    // The new one works, once.
    let r2 = refresh(&sim, &second).await;
    assert_eq!(r2.status, StatusCode::OK);
    assert_ne!(r2.body["refresh_token"], r1.body["refresh_token"]);
    assert_eq!(refresh(&sim, &second).await.body["error"], "invalid_grant");
}

#[tokio::test]
async fn token_endpoint_errors_are_oauth_json() {
    let sim = sim();
    let r = send(
        &sim,
        Method::POST,
        "/auth/oauth/token",
        None,
        Some("application/json"),
        "{not json",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"], "invalid_request");
    let r = send(
        &sim,
        Method::POST,
        "/auth/oauth/token",
        None,
        Some("application/x-www-form-urlencoded"),
        "grant_type=password",
    )
    .await;
    assert_eq!(r.body["error"], "unsupported_grant_type");
    let r = send(
        &sim,
        Method::POST,
        "/auth/oauth/token",
        None,
        Some("application/x-www-form-urlencoded"),
        "",
    )
    .await;
    assert_eq!(r.body["error"], "invalid_request");
}

#[tokio::test]
async fn access_tokens_expire_after_12_hours() {
    let sim = sim();
    let t = token(&sim).await;
    sim.env
        .clock
        .advance(time::Duration::seconds(ACCESS_TOKEN_TTL_SECS - 1));
    assert_eq!(
        get(&sim, "/auth/api/v1/users/me", &t).await.status,
        StatusCode::OK
    );
    sim.env.clock.advance(time::Duration::seconds(1));
    let r = get(&sim, "/auth/api/v1/users/me", &t).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["error"], "invalid_token");
    assert_eq!(r.body["error_description"], "The access token expired");
    assert!(r.headers.contains_key("www-authenticate"));
}

#[tokio::test]
async fn sim_tokens_expire_expires_every_access_token() {
    let sim = sim();
    let t = token(&sim).await;
    let r = send(&sim, Method::POST, "/_sim/tokens/expire", None, None, "").await;
    assert_eq!(r.body["expired"], 1);
    assert_eq!(
        get(&sim, "/auth/api/v1/users/me", &t).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn missing_or_unknown_token_is_401() {
    let sim = sim();
    let r = send(&sim, Method::GET, "/auth/api/v1/users/me", None, None, "").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["error"], "unauthenticated");
    assert_eq!(
        r.body["error_description"],
        "This action requires authentication to continue."
    );
    let r = get(&sim, "/auth/api/v1/users/me", "bogus").await;
    assert_eq!(r.body["error"], "invalid_token");
}

#[tokio::test]
async fn member_endpoints_need_admin_all_legacy_scope() {
    let sim = sim();
    let t = scoped_token(&sim, "user:profile:read").await;
    let r = get(&sim, &format!("/auth/api/v1/business/{B1}/members"), &t).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"], "insufficient_scope");
    assert_eq!(
        get(&sim, &format!("/auth/api/v1/business/{B1}/invitations"), &t)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let r = json_req(
        &sim,
        Method::POST,
        &format!("/auth/api/v1/business/{B1}/invitations"),
        &t,
        json!({"email": "x@y.z", "role": "employee"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        get(&sim, "/auth/api/v1/users/me", &t).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn users_me_needs_profile_read_and_put_needs_profile_write() {
    let sim = sim();
    let t = scoped_token(&sim, "admin:all:legacy").await;
    assert_eq!(
        get(&sim, "/auth/api/v1/users/me", &t).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&sim, &format!("/auth/api/v1/business/{B1}/members"), &t)
            .await
            .status,
        StatusCode::OK
    );
    let t = scoped_token(&sim, "user:profile:read").await;
    let r = json_req(
        &sim,
        Method::PUT,
        "/auth/api/v1/users/me",
        &t,
        json!({"first_name": "X"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["scope"], "user:profile:write");
}

// ---- users/me ----

#[tokio::test]
async fn users_me_returns_the_token_owner_with_business_memberships() {
    let sim = sim();
    let t = token(&sim).await;
    let r = get(&sim, "/auth/api/v1/users/me", &t).await;
    assert_eq!(r.status, StatusCode::OK);
    let me = &r.body["response"];
    assert_eq!(me["email"], "ceo@acme.example");
    assert_eq!(me["confirmed"], true);
    assert!(
        me["id"].as_u64().unwrap() > 1_000_000,
        "identity ids are their own namespace"
    );
    let ms = me["business_memberships"].as_array().unwrap();
    assert_eq!(ms.len(), 3);
    // The guide's flat form and the real API's nested business object, both.
    assert_eq!(ms[0]["business_id"], B1);
    assert_eq!(ms[0]["role"], "owner");
    assert_eq!(ms[0]["business"]["id"], B1);
    assert_eq!(ms[0]["business"]["account_id"], "ABC123");
    assert_eq!(ms[0]["business"]["name"], "Acme Holdings");
    assert_eq!(
        ms[0]["id"], 4000,
        "the membership id is not the business id"
    );
    assert_eq!(ms[1]["role"], "admin");
    // The guide's user object fields.
    for k in [
        "phone_numbers",
        "profession",
        "setup_complete",
        "language",
        "timezone",
    ] {
        assert!(!me[k].is_null(), "users/me field {k}: {me}");
    }
    assert!(me.as_object().unwrap().contains_key("avatar"));
}

#[tokio::test]
async fn users_me_is_the_only_user_endpoint_no_lookup_by_id_or_global_listing() {
    let sim = sim();
    let t = token(&sim).await;
    let other = state(&sim).await["users"][1]["id"].as_u64().unwrap();
    let r = get(&sim, &format!("/auth/api/v1/users/{other}"), &t).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["error"], "not_found");
    assert_eq!(
        get(&sim, "/auth/api/v1/users", &t).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn put_users_me_updates_only_the_owners_own_profile() {
    let sim = sim();
    let t = token(&sim).await;
    let before = state(&sim).await;
    let other = before["users"][1].clone();
    let r = json_req(&sim, Method::PUT, "/auth/api/v1/users/me", &t,
        json!({"first_name": "Janet", "language": "fr", "id": other["id"], "email": "janet@acme.example"})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["response"]["first_name"], "Janet");
    assert_eq!(r.body["response"]["language"], "fr");
    assert_eq!(r.body["response"]["email"], "janet@acme.example");
    let after = state(&sim).await;
    assert_eq!(
        after["users"][1], other,
        "another user's profile never changes"
    );
    // Membership records follow the identity.
    let m = after["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == 4000)
        .unwrap()
        .clone();
    assert_eq!(m["first_name"], "Janet");
    // Malformed JSON gets the vendor's 400, wrong types a 422.
    let r = send(
        &sim,
        Method::PUT,
        "/auth/api/v1/users/me",
        Some(&t),
        Some("application/json"),
        "{oops",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"], "invalid_request");
    let r = json_req(
        &sim,
        Method::PUT,
        "/auth/api/v1/users/me",
        &t,
        json!({"first_name": 5}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = json_req(
        &sim,
        Method::PUT,
        "/auth/api/v1/users/me",
        &t,
        json!({"email": "amy@acme.example"}),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "email must be unique across FreshBooks"
    );
}

// ---- members ----

#[tokio::test]
async fn members_default_page_is_15_and_pages_tell_the_rest() {
    let sim = sim();
    let t = token(&sim).await;
    // B1: owner + 20 staff, one of them removed → 20 listed.
    let r = get(&sim, &format!("/auth/api/v1/business/{B1}/members"), &t).await;
    assert_eq!(r.status, StatusCode::OK);
    let resp = &r.body["response"];
    assert_eq!(
        resp["members"].as_array().unwrap().len(),
        15,
        "no pagination = incomplete list"
    );
    assert_eq!(
        resp["pages"],
        json!({"page": 1, "pages": 2, "per_page": 15, "total": 20})
    );
    let r2 = get(
        &sim,
        &format!("/auth/api/v1/business/{B1}/members?page=2"),
        &t,
    )
    .await;
    assert_eq!(r2.body["response"]["members"].as_array().unwrap().len(), 5);
    let m = &resp["members"][0];
    for k in [
        "id",
        "email",
        "role",
        "confirmed",
        "first_name",
        "last_name",
        "identity_id",
        "active",
    ] {
        assert!(!m[k].is_null(), "member field {k}: {m}");
    }
    let r = get(
        &sim,
        &format!("/auth/api/v1/business/{B1}/members?page=0"),
        &t,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errno"], 1014);
}

#[tokio::test]
async fn members_per_page_is_capped_at_100_and_paging_reaches_everyone_at_scale() {
    let sim = sim_n(10_050);
    let t = token(&sim).await;
    let mut seen = Vec::new();
    let mut page = 1;
    loop {
        let r = get(
            &sim,
            &format!("/auth/api/v1/business/{B1}/members?per_page=500&page={page}"),
            &t,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        let pages = &r.body["response"]["pages"];
        assert_eq!(pages["per_page"], 100);
        seen.extend(ids(&r.body["response"]["members"]));
        if page >= pages["pages"].as_u64().unwrap() {
            break;
        }
        page += 1;
    }
    assert_eq!(seen.len(), 10_050, "owner + 10,050 staff - 1 removed");
    let mut dedup = seen.clone();
    dedup.sort_unstable();
    dedup.dedup();
    assert_eq!(dedup.len(), seen.len());
}

#[tokio::test]
async fn members_active_filter() {
    let sim = sim();
    let t = token(&sim).await;
    let all = get(
        &sim,
        &format!("/auth/api/v1/business/{B1}/members?per_page=100"),
        &t,
    )
    .await;
    assert!(
        ids(&all.body["response"]["members"]).contains(&4001),
        "inactive members are listed by default"
    );
    let active = get(
        &sim,
        &format!("/auth/api/v1/business/{B1}/members?per_page=100&active=true"),
        &t,
    )
    .await;
    let a = ids(&active.body["response"]["members"]);
    assert!(!a.contains(&4001));
    assert_eq!(a.len(), 19);
    let inactive = get(
        &sim,
        &format!("/auth/api/v1/business/{B1}/members?active=false"),
        &t,
    )
    .await;
    assert_eq!(ids(&inactive.body["response"]["members"]), vec![4001]);
    let bad = get(
        &sim,
        &format!("/auth/api/v1/business/{B1}/members?active=maybe"),
        &t,
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn members_need_admin_or_owner_role_in_that_business() {
    let sim = sim();
    let t = token(&sim).await;
    assert_eq!(
        get(&sim, &format!("/auth/api/v1/business/{B2}/members"), &t)
            .await
            .status,
        StatusCode::OK
    );
    let r = get(&sim, &format!("/auth/api/v1/business/{B3}/members"), &t).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body["error_description"]
        .as_str()
        .unwrap()
        .contains("77003"));
    let r = get(&sim, "/auth/api/v1/business/12345/members", &t).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&sim, "/auth/api/v1/business/abc/members", &t)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn member_role_change_takes_effect_immediately() {
    let sim = sim();
    let t = token(&sim).await;
    let r = json_req(
        &sim,
        Method::PUT,
        &format!("/auth/api/v1/business/{B1}/members/4005"),
        &t,
        json!({"role": "admin"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["response"]["member"]["role"], "admin");
    assert_eq!(r.body["response"]["member"]["id"], 4005);
    let list = get(
        &sim,
        &format!("/auth/api/v1/business/{B1}/members?per_page=100"),
        &t,
    )
    .await;
    let m = list.body["response"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == 4005)
        .unwrap()
        .clone();
    assert_eq!(m["role"], "admin");
    assert_eq!(m["updated_at"], "2026-03-01T12:00:00Z");
    // Wrapped body form is accepted as well.
    let r = json_req(
        &sim,
        Method::PUT,
        &format!("/auth/api/v1/business/{B1}/members/4005"),
        &t,
        json!({"member": {"role": "manager"}}),
    )
    .await;
    assert_eq!(r.body["response"]["member"]["role"], "manager");
    // Permission flags are set at the membership level too.
    let r = json_req(
        &sim,
        Method::PUT,
        &format!("/auth/api/v1/business/{B1}/members/4005"),
        &t,
        json!({"permissions": {"can_invoice": true}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body["response"]["member"]["permissions"]["can_invoice"],
        true
    );
    assert_eq!(r.body["response"]["member"]["role"], "manager");
}

#[tokio::test]
async fn member_update_validates() {
    let sim = sim();
    let t = token(&sim).await;
    let u = format!("/auth/api/v1/business/{B1}/members/4005");
    let r = json_req(&sim, Method::PUT, &u, &t, json!({"role": "wizard"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"], "invalid_resource");
    assert_eq!(
        json_req(&sim, Method::PUT, &u, &t, json!({"role": "owner"}))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let owner = json_req(
        &sim,
        Method::PUT,
        &format!("/auth/api/v1/business/{B1}/members/4000"),
        &t,
        json!({"role": "admin"}),
    )
    .await;
    assert_eq!(owner.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = send(
        &sim,
        Method::PUT,
        &u,
        Some(&t),
        Some("application/json"),
        "{\"role\":",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"], "invalid_request");
    let r = json_req(
        &sim,
        Method::PUT,
        &format!("/auth/api/v1/business/{B1}/members/5002"),
        &t,
        json!({"role": "admin"}),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "member of another business"
    );
}

#[tokio::test]
async fn removing_a_member_keeps_the_freshbooks_user_account() {
    let sim = sim();
    let t = token(&sim).await;
    let inv = json_req(
        &sim,
        Method::POST,
        &format!("/auth/api/v1/business/{B2}/invitations"),
        &t,
        json!({"email": "staff5@acme.example", "role": "employee"}),
    )
    .await;
    let inv_id = inv.body["response"]["invitation"]["id"].as_u64().unwrap();
    let r = send(
        &sim,
        Method::DELETE,
        &format!("/auth/api/v1/business/{B1}/members/4005"),
        Some(&t),
        None,
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let list = get(
        &sim,
        &format!("/auth/api/v1/business/{B1}/members?per_page=100"),
        &t,
    )
    .await;
    assert!(!ids(&list.body["response"]["members"]).contains(&4005));
    let st = state(&sim).await;
    let m = st["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == 4005)
        .unwrap()
        .clone();
    assert_eq!(m["removed"], true);
    let identity = m["identity_id"].clone();
    let user = st["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == identity)
        .unwrap()
        .clone();
    assert_eq!(
        user["email"], "staff5@acme.example",
        "the user account lives on"
    );
    assert_eq!(user["business_memberships"], json!([]));
    // Their pending invitation elsewhere is untouched: it must be revoked separately.
    let pending = get(&sim, &format!("/auth/api/v1/business/{B2}/invitations"), &t).await;
    assert!(ids(&pending.body["response"]["invitations"]).contains(&inv_id));
    // Gone from this business: a second delete is a 404; the owner cannot be removed.
    let again = send(
        &sim,
        Method::DELETE,
        &format!("/auth/api/v1/business/{B1}/members/4005"),
        Some(&t),
        None,
        "",
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let owner = send(
        &sim,
        Method::DELETE,
        &format!("/auth/api/v1/business/{B1}/members/4000"),
        Some(&t),
        None,
        "",
    )
    .await;
    assert_eq!(owner.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn team_members_real_api_path_lists_members_and_pending_invitees() {
    let sim = sim();
    let t = token(&sim).await;
    let r = get(
        &sim,
        &format!("/auth/api/v1/businesses/{B1}/team_members?per_page=100"),
        &t,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let rows = r.body["response"].as_array().unwrap();
    assert_eq!(rows.len(), 22, "20 members + 2 pending invitees");
    assert_eq!(r.body["meta"]["total"], 22);
    assert!(rows.iter().any(|m| m["email"] == "new1@acme.example"
        && m["identity_id"].is_null()
        && m["active"] == false));
    let r = get(
        &sim,
        &format!("/auth/api/v1/businesses/{B1}/team_members?per_page=100&active=true"),
        &t,
    )
    .await;
    assert_eq!(r.body["response"].as_array().unwrap().len(), 19);
}

// ---- invitations ----

#[tokio::test]
async fn invitation_is_pending_and_not_a_member_until_accepted() {
    let sim = sim();
    let t = token(&sim).await;
    let r = json_req(
        &sim,
        Method::POST,
        &format!("/auth/api/v1/business/{B1}/invitations"),
        &t,
        json!({"email": "newstaff@acme.example", "role": "employee"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let inv = &r.body["response"]["invitation"];
    assert_eq!(inv["status"], "pending");
    assert_eq!(inv["email"], "newstaff@acme.example");
    let id = inv["id"].as_u64().unwrap();
    let members = get(
        &sim,
        &format!("/auth/api/v1/business/{B1}/members?per_page=100"),
        &t,
    )
    .await;
    let emails: Vec<Value> = members.body["response"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["email"].clone())
        .collect();
    assert!(
        !emails.contains(&json!("newstaff@acme.example")),
        "no force-activation"
    );
    let pending = get(&sim, &format!("/auth/api/v1/business/{B1}/invitations"), &t).await;
    assert!(ids(&pending.body["response"]["invitations"]).contains(&id));
    // The invitee accepts: a member now, and the invitation leaves the pending list.
    let acc = send(
        &sim,
        Method::POST,
        &format!("/_sim/invitations/{id}/accept"),
        None,
        None,
        "",
    )
    .await;
    assert_eq!(acc.status, StatusCode::OK);
    let mid = acc.body["member"]["id"].as_u64().unwrap();
    let members = get(
        &sim,
        &format!("/auth/api/v1/business/{B1}/members?per_page=100"),
        &t,
    )
    .await;
    assert!(ids(&members.body["response"]["members"]).contains(&mid));
    let pending = get(&sim, &format!("/auth/api/v1/business/{B1}/invitations"), &t).await;
    assert!(!ids(&pending.body["response"]["invitations"]).contains(&id));
    let twice = send(
        &sim,
        Method::POST,
        &format!("/_sim/invitations/{id}/accept"),
        None,
        None,
        "",
    )
    .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn invitation_list_shows_pending_only_per_business() {
    let sim = sim();
    let t = token(&sim).await;
    let r = get(&sim, &format!("/auth/api/v1/business/{B1}/invitations"), &t).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(ids(&r.body["response"]["invitations"]), vec![9000, 9001]);
    assert_eq!(r.body["response"]["invitations"][0]["status"], "pending");
    assert_eq!(r.body["response"]["pages"]["total"], 2);
    send(
        &sim,
        Method::POST,
        "/_sim/invitations/9000/accept",
        None,
        None,
        "",
    )
    .await;
    send(
        &sim,
        Method::DELETE,
        &format!("/auth/api/v1/business/{B1}/invitations/9001"),
        Some(&t),
        None,
        "",
    )
    .await;
    let r = get(&sim, &format!("/auth/api/v1/business/{B1}/invitations"), &t).await;
    assert_eq!(ids(&r.body["response"]["invitations"]), Vec::<u64>::new());
    let r = get(&sim, &format!("/auth/api/v1/business/{B2}/invitations"), &t).await;
    assert_eq!(ids(&r.body["response"]["invitations"]), vec![9002]);
}

#[tokio::test]
async fn revoking_works_for_pending_but_not_accepted_invitations() {
    let sim = sim();
    let t = token(&sim).await;
    let r = send(
        &sim,
        Method::DELETE,
        &format!("/auth/api/v1/business/{B1}/invitations/9001"),
        Some(&t),
        None,
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let again = send(
        &sim,
        Method::DELETE,
        &format!("/auth/api/v1/business/{B1}/invitations/9001"),
        Some(&t),
        None,
        "",
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    send(
        &sim,
        Method::POST,
        "/_sim/invitations/9000/accept",
        None,
        None,
        "",
    )
    .await;
    let accepted = send(
        &sim,
        Method::DELETE,
        &format!("/auth/api/v1/business/{B1}/invitations/9000"),
        Some(&t),
        None,
        "",
    )
    .await;
    assert_eq!(accepted.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(accepted.body["error_description"]
        .as_str()
        .unwrap()
        .contains("already accepted"));
    let wrong_biz = send(
        &sim,
        Method::DELETE,
        &format!("/auth/api/v1/business/{B1}/invitations/9002"),
        Some(&t),
        None,
        "",
    )
    .await;
    assert_eq!(wrong_biz.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn invitation_create_validates() {
    let sim = sim();
    let t = token(&sim).await;
    let u = format!("/auth/api/v1/business/{B1}/invitations");
    let cases = [
        json!({"role": "employee"}),
        json!({"email": "not-an-email", "role": "employee"}),
        json!({"email": "x@acme.example"}),
        json!({"email": "x@acme.example", "role": "owner"}),
        json!({"email": "STAFF3@acme.example", "role": "employee"}),
        json!({"email": "new1@acme.example", "role": "employee"}),
    ];
    for c in cases {
        let r = json_req(&sim, Method::POST, &u, &t, c.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{c}: {:?}",
            r.body
        );
        assert_eq!(r.body["error"], "invalid_resource");
    }
    let r = send(
        &sim,
        Method::POST,
        &u,
        Some(&t),
        Some("application/json"),
        "[1,",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = json_req(
        &sim,
        Method::POST,
        &u,
        &t,
        json!({"invitation": {"email": "y@acme.example", "role": "accountant"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
}

// ---- rate limit ----

#[tokio::test]
async fn rate_limit_is_120_per_minute_with_429_and_no_retry_after() {
    let sim = sim();
    let t = token(&sim).await;
    for i in 0..RATE_LIMIT_PER_MINUTE {
        let r = get(&sim, "/auth/api/v1/users/me", &t).await;
        assert_eq!(r.status, StatusCode::OK, "request {i}");
        assert_eq!(r.headers["x-ratelimit-limit"], "120");
        assert_eq!(
            r.headers["x-ratelimit-remaining"],
            (RATE_LIMIT_PER_MINUTE - 1 - i).to_string().as_str()
        );
    }
    let r = get(&sim, "/auth/api/v1/users/me", &t).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        !r.headers.contains_key("retry-after"),
        "FreshBooks sends no Retry-After"
    );
    assert_eq!(r.headers["x-ratelimit-remaining"], "0");
    assert_eq!(r.body["error"], "rate_limit_exceeded");
    let c = send(&sim, Method::GET, "/_sim/counters", None, None, "").await;
    assert_eq!(c.body["rate_limited"], 1);
    sim.env.clock.advance(time::Duration::seconds(60));
    assert_eq!(
        get(&sim, "/auth/api/v1/users/me", &t).await.status,
        StatusCode::OK,
        "next window"
    );
}

#[tokio::test]
async fn rate_limit_off_never_refuses() {
    let sim = build(&fixture(3), env_with(false));
    let t = token(&sim).await;
    for _ in 0..RATE_LIMIT_PER_MINUTE + 5 {
        assert_eq!(
            get(&sim, "/auth/api/v1/users/me", &t).await.status,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn injected_429_has_the_vendor_shape() {
    let sim = sim();
    let t = token(&sim).await;
    let r = send(
        &sim,
        Method::PUT,
        "/_sim/faults",
        None,
        Some("application/json"),
        &json!({"rate_429": 1.0}).to_string(),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = get(&sim, "/auth/api/v1/users/me", &t).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(!r.headers.contains_key("retry-after"));
    assert_eq!(r.body["error"], "rate_limit_exceeded");
}

// ---- traps: what does not exist ----

#[tokio::test]
async fn no_webhooks_or_scim_for_team_members_polling_is_the_way() {
    let sim = sim();
    let t = token(&sim).await;
    for path in [
        "/events/account/ABC123/events/callbacks",
        "/scim/v2/Users",
        "/auth/api/v1/business/77001/webhooks",
    ] {
        let r = get(&sim, path, &t).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(r.body["error"], "not_found");
    }
}

// ---- control endpoints ----

#[tokio::test]
async fn sim_state_holds_every_collection_removed_and_revoked_included() {
    let sim = sim();
    let t = token(&sim).await;
    send(
        &sim,
        Method::DELETE,
        &format!("/auth/api/v1/business/{B1}/invitations/9001"),
        Some(&t),
        None,
        "",
    )
    .await;
    let st = state(&sim).await;
    assert_eq!(st["businesses"].as_array().unwrap().len(), 3);
    let removed = st["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == 4002)
        .unwrap()
        .clone();
    assert_eq!(
        removed["removed"], true,
        "seeded Deleted member is a removed member"
    );
    let inv = st["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == 9001)
        .unwrap()
        .clone();
    assert_eq!(inv["status"], "revoked");
    assert!(st["token_owner"].as_u64().is_some());
    // The two memberships of amy and the owner's share identities by email.
    let owner = st["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == st["token_owner"])
        .unwrap()
        .clone();
    assert_eq!(owner["business_memberships"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn sim_patch_member_overwrites_and_bumps_updated_at() {
    let sim = sim();
    sim.env.clock.advance(time::Duration::hours(1));
    let r = send(
        &sim,
        Method::PATCH,
        "/_sim/records/members/4005",
        None,
        Some("application/json"),
        &json!({"email": "renamed@acme.example", "role": "manager", "active": false}).to_string(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["email"], "renamed@acme.example");
    assert_eq!(r.body["updated_at"], "2026-03-01T13:00:00Z");
    let t = token(&sim).await;
    let list = get(
        &sim,
        &format!("/auth/api/v1/business/{B1}/members?per_page=100"),
        &t,
    )
    .await;
    let m = list.body["response"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == 4005)
        .unwrap()
        .clone();
    assert_eq!(m["role"], "manager");
    assert_eq!(m["active"], false);
    let bad = send(
        &sim,
        Method::PATCH,
        "/_sim/records/members/4005",
        None,
        Some("application/json"),
        &json!({"shoe_size": 9}).to_string(),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body["error"].as_str().unwrap().contains("shoe_size"));
    let missing = send(
        &sim,
        Method::PATCH,
        "/_sim/records/members/1",
        None,
        Some("application/json"),
        "{}",
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn sim_deactivate_member_keeps_it_listed_as_inactive() {
    let sim = sim();
    let r = send(
        &sim,
        Method::POST,
        "/_sim/records/members/4006/deactivate",
        None,
        None,
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["active"], false);
    let t = token(&sim).await;
    let all = get(
        &sim,
        &format!("/auth/api/v1/business/{B1}/members?per_page=100"),
        &t,
    )
    .await;
    assert!(ids(&all.body["response"]["members"]).contains(&4006));
    let active = get(
        &sim,
        &format!("/auth/api/v1/business/{B1}/members?per_page=100&active=true"),
        &t,
    )
    .await;
    assert!(!ids(&active.body["response"]["members"]).contains(&4006));
}

#[tokio::test]
async fn credentials_name_everything_a_client_needs() {
    let sim = sim();
    for k in [
        "client_id",
        "client_secret",
        "redirect_uri",
        "refresh_token",
    ] {
        assert!(
            sim.credentials[k].as_str().is_some_and(|s| !s.is_empty()),
            "{k}"
        );
    }
    assert_eq!(sim.credentials["business_ids"], json!([B1, B2, B3]));
    // Deterministic under the seed.
    assert_eq!(
        sim_n(1).credentials["client_secret"],
        sim.credentials["client_secret"]
    );
}

#[tokio::test]
async fn generated_company_seeds_a_working_tenant() {
    let company = crate::company::generate(&CompanyConfig::new(
        11,
        300,
        datetime!(2026-03-01 00:00 UTC),
    ));
    let sim = build(&company, env_with(true));
    let t = token(&sim).await;
    let me = get(&sim, "/auth/api/v1/users/me", &t).await;
    let ms = me.body["response"]["business_memberships"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(ms.len(), company.businesses.len());
    let expected_members = company
        .accounts_of(App::Freshbooks)
        .filter(|a| a.kind == AccountKind::Member && a.status != SeedStatus::Deleted)
        .count() as u64;
    let mut total = 0;
    for m in &ms {
        assert!(m["role"] == "owner" || m["role"] == "admin");
        let bid = m["business"]["id"].as_u64().unwrap();
        let r = get(&sim, &format!("/auth/api/v1/business/{bid}/members"), &t).await;
        assert_eq!(r.status, StatusCode::OK);
        total += r.body["response"]["pages"]["total"].as_u64().unwrap();
    }
    assert_eq!(total, expected_members);
}
