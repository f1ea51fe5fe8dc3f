//! Tests of the Help Scout simulator: every endpoint, "Watch out for" and trap of the guide,
//! the README facts, rate limits and the control endpoints (see `docs/simulators/helpscout.md`).

use super::*;
use crate::clock::SimClock;
use crate::common::{PlanTier, TenantOptions};
use crate::company::{
    AccountKind, Catalog, CompanyConfig, EmailVariant, Namespaces, SeedAccount, SeedStatus,
};
use crate::scim_server::ScimBackend;
use axum::body::Body;
use http::{HeaderMap, Method, Request as HttpRequest};
use std::collections::{BTreeMap, BTreeSet};
use time::macros::datetime;
use time::OffsetDateTime;
use tower::ServiceExt;

const HOST: &str = "hs.test";

fn anchor() -> OffsetDateTime {
    datetime!(2026-03-01 12:00:30 UTC)
}

fn account(id: u64, first: &str, status: SeedStatus, role: &str, groups: &[&str]) -> SeedAccount {
    SeedAccount {
        app: App::Helpscout,
        kind: AccountKind::User,
        native_id: id,
        scim_id: None,
        scope: None,
        email: format!("{}.{id}@acme.example", first.to_ascii_lowercase()),
        first_name: first.to_string(),
        last_name: format!("Last{id}"),
        job_title: Some("Support Agent".to_string()),
        department: Some("Support".to_string()),
        status,
        roles: vec![role.to_string()],
        groups: groups.iter().map(|g| g.to_string()).collect(),
        occasional: false,
        namespaces: Namespaces {
            rest: true,
            scim: true,
        },
        created_at: datetime!(2024-01-10 09:00 UTC),
        updated_at: datetime!(2025-06-01 09:00 UTC),
        last_login_at: None,
        owner: Some(format!("E{id}")),
        email_variant: EmailVariant::Primary,
    }
}

// Ids of the fixture.
const OWNER: u64 = 1001;
const INACTIVE: u64 = 1121;
const DELETED: u64 = 1122;
const PENDING: u64 = 1123;

/// 120 active users (1001 owner, 1002 admin), one deactivated, one deleted, one pending; teams
/// Support (1001–1010 and the deactivated user), Billing (1011), Escalations (empty).
fn fixture_with(extra_active: u64) -> Company {
    let mut accounts = Vec::new();
    for id in 1001..=1120 + extra_active {
        let role = match id {
            OWNER => "owner",
            1002 => "admin",
            _ => "user",
        };
        let groups: &[&str] = match id {
            1001..=1010 => &["Support"],
            1011 => &["Billing"],
            _ => &[],
        };
        // Two people named alike: mention handles must stay unique.
        let first = if id % 2 == 0 { "Alex" } else { "Sam" };
        let id = if id > 1120 { id + 10 } else { id };
        accounts.push(account(id, first, SeedStatus::Active, role, groups));
    }
    accounts.push(account(
        INACTIVE,
        "Gone",
        SeedStatus::Inactive,
        "user",
        &["Support"],
    ));
    accounts.push(account(DELETED, "Erased", SeedStatus::Deleted, "user", &[]));
    accounts.push(account(
        PENDING,
        "Invited",
        SeedStatus::Pending,
        "user",
        &[],
    ));
    let mut catalogs = BTreeMap::new();
    catalogs.insert(
        App::Helpscout,
        Catalog {
            roles: vec!["owner".into(), "admin".into(), "user".into()],
            groups: vec!["Support".into(), "Billing".into(), "Escalations".into()],
            departments: vec![],
        },
    );
    Company {
        config: CompanyConfig::new(7, 130, anchor()),
        people: vec![],
        accounts,
        catalogs,
        businesses: vec![],
        freshbooks_owner: None,
        drifts: vec![],
    }
}

fn fixture() -> Company {
    fixture_with(0)
}

fn env_with(options: TenantOptions) -> SimEnv {
    SimEnv::new(App::Helpscout, SimClock::frozen(anchor()), options, 42)
}

fn sim() -> AppSim {
    build(&fixture(), env_with(TenantOptions::default()))
}

struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn send(
    s: &AppSim,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, String)>,
) -> Resp {
    let mut b = HttpRequest::builder()
        .method(method)
        .uri(uri)
        .header("host", HOST);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let req = match body {
        Some((ctype, text)) => b
            .header("content-type", ctype)
            .body(Body::from(text))
            .unwrap(),
        None => b.body(Body::empty()).unwrap(),
    };
    let resp = s.router.clone().oneshot(req).await.unwrap();
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

fn creds(s: &AppSim) -> (String, String) {
    (
        s.credentials["client_id"].as_str().unwrap().to_string(),
        s.credentials["client_secret"].as_str().unwrap().to_string(),
    )
}

async fn token(s: &AppSim) -> String {
    let (id, secret) = creds(s);
    let r = send(
        s,
        Method::POST,
        "/v2/oauth2/token",
        &[],
        Some((
            "application/x-www-form-urlencoded",
            format!("grant_type=client_credentials&client_id={id}&client_secret={secret}"),
        )),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["access_token"].as_str().unwrap().to_string()
}

async fn get(s: &AppSim, uri: &str, token: &str) -> Resp {
    let auth = format!("Bearer {token}");
    send(s, Method::GET, uri, &[("authorization", &auth)], None).await
}

fn ids(body: &Value, key: &str) -> Vec<u64> {
    body["_embedded"][key]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_u64().unwrap())
        .collect()
}

/// Follows `_links.next.href` exactly as given (absolute URL, path and query used as is).
async fn all_pages(s: &AppSim, first: &str, tok: &str, key: &str) -> (Vec<u64>, usize) {
    let mut uri = first.to_string();
    let mut out = Vec::new();
    let mut pages = 0;
    loop {
        let r = get(s, &uri, tok).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {:?}", r.body);
        pages += 1;
        out.extend(ids(&r.body, key));
        match r.body["_links"]["next"]["href"].as_str() {
            Some(next) => {
                let prefix = format!("http://{HOST}");
                assert!(next.starts_with(&prefix), "next must be absolute: {next}");
                uri = next[prefix.len()..].to_string();
            }
            None => break,
        }
    }
    (out, pages)
}

// ---- OAuth ----

#[tokio::test]
async fn token_client_credentials_on_real_path_form_encoded() {
    let s = sim();
    let (id, secret) = creds(&s);
    let r = send(
        &s,
        Method::POST,
        "/v2/oauth2/token",
        &[],
        Some((
            "application/x-www-form-urlencoded",
            format!("grant_type=client_credentials&client_id={id}&client_secret={secret}"),
        )),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["token_type"], "bearer");
    assert_eq!(r.body["expires_in"], 172_800);
    assert!(r.body["access_token"].as_str().unwrap().len() >= 32);
    assert!(
        r.body.get("refresh_token").is_none(),
        "client credentials come without a refresh token"
    );
}

#[tokio::test]
async fn token_on_guide_path_accepts_json_and_query_params() {
    let s = sim();
    let (id, secret) = creds(&s);
    let r = send(
        &s,
        Method::POST,
        "/v2/auth/token",
        &[],
        Some((
            "application/json",
            json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret})
                .to_string(),
        )),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let uri = format!(
        "/v2/oauth2/token?grant_type=client_credentials&client_id={id}&client_secret={secret}"
    );
    let r = send(&s, Method::POST, &uri, &[], None).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let t = r.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(get(&s, "/v2/users", &t).await.status, StatusCode::OK);
}

#[tokio::test]
async fn token_with_bad_client_is_401_invalid_client() {
    let s = sim();
    let (id, _) = creds(&s);
    let r = send(
        &s,
        Method::POST,
        "/v2/oauth2/token",
        &[],
        Some((
            "application/x-www-form-urlencoded",
            format!("grant_type=client_credentials&client_id={id}&client_secret=wrong"),
        )),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["error"], "invalid_client");
    assert!(r.body["error_description"]
        .as_str()
        .unwrap()
        .contains("client"));
}

#[tokio::test]
async fn token_errors_are_oauth_bodies_never_plain_text() {
    let s = sim();
    let (id, secret) = creds(&s);
    let r = send(
        &s,
        Method::POST,
        "/v2/oauth2/token",
        &[],
        Some(("application/json", "{not json".to_string())),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"], "invalid_request");
    let r = send(
        &s,
        Method::POST,
        "/v2/oauth2/token",
        &[],
        Some((
            "application/x-www-form-urlencoded",
            format!("grant_type=password&client_id={id}&client_secret={secret}"),
        )),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn api_without_or_with_unknown_token_is_401_with_help_scout_body() {
    let s = sim();
    let r = send(&s, Method::GET, "/v2/users", &[], None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body["logRef"].is_string());
    assert!(r.body["message"].is_string());
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
    let r = get(&s, "/v2/users", "not-a-token").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["error"], "invalid_token");
}

#[tokio::test]
async fn token_expires_after_48_simulated_hours_and_reauth_works() {
    let s = sim();
    let t = token(&s).await;
    s.env
        .clock
        .advance(time::Duration::seconds(TOKEN_TTL_SECS - 1));
    assert_eq!(get(&s, "/v2/users/me", &t).await.status, StatusCode::OK);
    s.env.clock.advance(time::Duration::seconds(2));
    let r = get(&s, "/v2/users/me", &t).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body["message"].as_str().unwrap().contains("expired"));
    // No refresh for client credentials: repeat the token call.
    let t2 = token(&s).await;
    assert_eq!(get(&s, "/v2/users/me", &t2).await.status, StatusCode::OK);
}

#[tokio::test]
async fn sim_tokens_expire_invalidates_issued_tokens() {
    let s = sim();
    let t = token(&s).await;
    let r = send(&s, Method::POST, "/_sim/tokens/expire", &[], None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        get(&s, "/v2/users", &t).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn authorization_code_grant_has_refresh_token_and_acts_for_a_person() {
    let s = sim();
    let (id, secret) = creds(&s);
    let uri = format!(
        "/v2/oauth2/authorize?client_id={id}&redirect_uri=http%3A%2F%2Fapp.test%2Fcb&state=xyz"
    );
    let r = send(&s, Method::GET, &uri, &[], None).await;
    assert_eq!(r.status, StatusCode::FOUND);
    let loc = url::Url::parse(r.header("location").unwrap()).unwrap();
    assert_eq!(loc.host_str(), Some("app.test"));
    let q: BTreeMap<String, String> = loc.query_pairs().into_owned().collect();
    assert_eq!(q["state"], "xyz");
    let form = format!(
        "grant_type=authorization_code&code={}&client_id={id}&client_secret={secret}",
        q["code"]
    );
    let r = send(
        &s,
        Method::POST,
        "/v2/oauth2/token",
        &[],
        Some(("application/x-www-form-urlencoded", form.clone())),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["expires_in"], 172_800);
    let refresh = r.body["refresh_token"].as_str().unwrap().to_string();
    let access = r.body["access_token"].as_str().unwrap().to_string();
    let me = get(&s, "/v2/users/me", &access).await;
    assert_eq!(me.body["id"], OWNER, "the authorizing person, not the bot");
    // The code is single-use.
    let again = send(
        &s,
        Method::POST,
        "/v2/oauth2/token",
        &[],
        Some(("application/x-www-form-urlencoded", form)),
    )
    .await;
    assert_eq!(again.body["error"], "invalid_grant");
    // Refresh after expiry.
    s.env
        .clock
        .advance(time::Duration::seconds(TOKEN_TTL_SECS + 1));
    assert_eq!(
        get(&s, "/v2/users/me", &access).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = send(
        &s,
        Method::POST,
        "/v2/oauth2/token",
        &[],
        Some((
            "application/x-www-form-urlencoded",
            format!(
                "grant_type=refresh_token&refresh_token={refresh}&client_id={id}&client_secret={secret}"
            ),
        )),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let access2 = r.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(get(&s, "/v2/users/me", &access2).await.body["id"], OWNER);
    // Tokens of a person stop working once that person is deactivated.
    send(
        &s,
        Method::POST,
        &format!("/_sim/records/users/{OWNER}/deactivate"),
        &[],
        None,
    )
    .await;
    assert_eq!(
        get(&s, "/v2/teams", &access2).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Help Scout's own authorize URL works too.
    let r = send(
        &s,
        Method::GET,
        &format!("/authentication/authorizeClientApplication?client_id={id}&state=s1"),
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert!(r
        .header("location")
        .unwrap()
        .starts_with("http://127.0.0.1/oauth/callback?code="));
    assert!(r.header("location").unwrap().ends_with("&state=s1"));
}

// ---- Users ----

#[tokio::test]
async fn list_users_serves_50_a_page_with_absolute_next_links() {
    let s = sim();
    let t = token(&s).await;
    let r = get(&s, "/v2/users", &t).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").unwrap().contains("hal+json"));
    assert_eq!(ids(&r.body, "users").len(), 50);
    assert_eq!(
        r.body["page"],
        json!({"size": 50, "totalElements": 121, "totalPages": 3, "number": 1})
    );
    assert_eq!(
        r.body["_links"]["next"]["href"],
        format!("http://{HOST}/v2/users?page=2")
    );
    assert_eq!(
        r.body["_links"]["last"]["href"],
        format!("http://{HOST}/v2/users?page=3")
    );
    assert!(r.body["_links"]["self"]["href"].is_string());
    assert!(r.body["_links"]["first"]["href"].is_string());
    let (all, pages) = all_pages(&s, "/v2/users?page=1", &t, "users").await;
    assert_eq!(pages, 3);
    assert_eq!(all.len(), 121);
    let unique: BTreeSet<u64> = all.iter().copied().collect();
    assert_eq!(unique.len(), 121, "no user twice across pages");
    let mid = get(&s, "/v2/users?page=2", &t).await;
    assert_eq!(
        mid.body["_links"]["previous"]["href"],
        format!("http://{HOST}/v2/users?page=1")
    );
    assert_eq!(
        mid.body["_links"]["self"]["href"],
        format!("http://{HOST}/v2/users?page=2")
    );
    assert_eq!(mid.body["_links"]["page"]["templated"], true);
    let last = get(&s, "/v2/users?page=3", &t).await;
    assert!(
        last.body["_links"].get("next").is_none(),
        "no next on the last page"
    );
    assert_eq!(ids(&last.body, "users").len(), 21);
}

#[tokio::test]
async fn list_users_ignores_page_size_params_and_rejects_bad_page() {
    let s = sim();
    let t = token(&s).await;
    let r = get(&s, "/v2/users?size=500&per_page=500&pageSize=500", &t).await;
    assert_eq!(ids(&r.body, "users").len(), 50);
    let r = get(&s, "/v2/users?page=0", &t).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["_embedded"]["errors"][0]["path"], "page");
    let r = get(&s, "/v2/users?page=9", &t).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(ids(&r.body, "users").is_empty());
}

#[tokio::test]
async fn list_users_returns_active_and_pending_never_deactivated_or_deleted() {
    let s = sim();
    let t = token(&s).await;
    let (all, _) = all_pages(&s, "/v2/users", &t, "users").await;
    assert!(all.contains(&OWNER));
    assert!(all.contains(&PENDING), "invited users are listed");
    assert!(!all.contains(&INACTIVE));
    assert!(!all.contains(&DELETED));
}

#[tokio::test]
async fn user_objects_carry_every_guide_field() {
    let s = sim();
    let t = token(&s).await;
    let r = get(&s, &format!("/v2/users/{OWNER}"), &t).await;
    assert_eq!(r.status, StatusCode::OK);
    for f in [
        "id",
        "firstName",
        "lastName",
        "email",
        "role",
        "timezone",
        "type",
        "createdAt",
        "updatedAt",
        "photoUrl",
        "jobTitle",
        "phone",
        "alternateEmails",
        "mention",
    ] {
        assert!(r.body.get(f).is_some(), "missing {f}");
    }
    assert_eq!(r.body["role"], "owner");
    assert_eq!(r.body["type"], "user");
    assert_eq!(r.body["createdAt"], "2024-01-10T09:00:00Z");
    assert_eq!(
        r.body["_links"]["self"]["href"],
        format!("http://{HOST}/v2/users/{OWNER}")
    );
    let (all, _) = all_pages(&s, "/v2/users", &t, "users").await;
    let mut mentions = BTreeSet::new();
    for id in all.iter().take(10) {
        let u = get(&s, &format!("/v2/users/{id}"), &t).await;
        assert!(mentions.insert(u.body["mention"].as_str().unwrap().to_string()));
    }
}

#[tokio::test]
async fn get_user_is_404_for_deactivated_deleted_and_unknown() {
    let s = sim();
    let t = token(&s).await;
    for id in [INACTIVE, DELETED, 999_999] {
        let r = get(&s, &format!("/v2/users/{id}"), &t).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "user {id}");
        assert!(r.body["logRef"].is_string());
    }
    let r = get(&s, "/v2/users/abc", &t).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        get(&s, &format!("/v2/users/{PENDING}"), &t).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn users_me_is_the_app_bot_and_not_in_the_list() {
    let s = sim();
    let t = token(&s).await;
    let me = get(&s, "/v2/users/me", &t).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["firstName"], "App");
    assert_eq!(me.body["lastName"], "Bot");
    let bot = me.body["id"].as_u64().unwrap();
    let (all, _) = all_pages(&s, "/v2/users", &t, "users").await;
    assert!(!all.contains(&bot));
    assert_eq!(
        get(&s, &format!("/v2/users/{bot}"), &t).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn no_user_creation_over_rest() {
    let s = sim();
    let t = token(&s).await;
    let auth = format!("Bearer {t}");
    let r = send(
        &s,
        Method::POST,
        "/v2/users",
        &[("authorization", &auth)],
        Some((
            "application/json",
            json!({"firstName": "New", "lastName": "Hire", "email": "new@acme.example"})
                .to_string(),
        )),
    )
    .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.header("allow"), Some("GET"));
    assert!(r.body["message"].as_str().unwrap().contains("SCIM"));
    let r = send(
        &s,
        Method::DELETE,
        &format!("/v2/users/{OWNER}"),
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    let r = get(&s, "/v2/nope", &t).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body["logRef"].is_string());
}

#[tokio::test]
async fn email_query_param_is_an_exact_match_filter_as_in_the_real_api() {
    let s = sim();
    let t = token(&s).await;
    let r = get(&s, "/v2/users?email=SAM.1001%40acme.example", &t).await;
    assert_eq!(ids(&r.body, "users"), vec![OWNER]);
    let r = get(&s, "/v2/users?email=sam.1001", &t).await;
    assert!(ids(&r.body, "users").is_empty(), "exact match only");
    let r = get(
        &s,
        &format!("/v2/users?email=gone.{INACTIVE}%40acme.example"),
        &t,
    )
    .await;
    assert!(ids(&r.body, "users").is_empty(), "deactivated stay hidden");
}

// ---- Teams ----

#[tokio::test]
async fn teams_are_listed_and_paged() {
    let s = sim();
    let t = token(&s).await;
    let r = get(&s, "/v2/teams", &t).await;
    assert_eq!(r.status, StatusCode::OK);
    let teams = r.body["_embedded"]["teams"].as_array().unwrap();
    let names: Vec<&str> = teams.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Support", "Billing", "Escalations"]);
    assert_eq!(r.body["page"]["totalElements"], 3);
    assert!(r.body["_links"].get("next").is_none());
    assert!(teams[0]["id"].as_u64().is_some());
}

#[tokio::test]
async fn team_members_come_under_embedded_users_without_deactivated() {
    let s = sim();
    let t = token(&s).await;
    let teams = get(&s, "/v2/teams", &t).await;
    let support = teams.body["_embedded"]["teams"][0]["id"].as_u64().unwrap();
    let r = get(&s, &format!("/v2/teams/{support}/members"), &t).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["_embedded"].get("members").is_none());
    let members = ids(&r.body, "users");
    assert_eq!(members, (1001..=1010).collect::<Vec<_>>());
    assert!(!members.contains(&INACTIVE));
    assert_eq!(r.body["page"]["totalElements"], 10);
    let r = get(&s, "/v2/teams/424242/members", &t).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn team_members_page_like_users() {
    let company = fixture();
    let mut company = company;
    for a in company.accounts.iter_mut() {
        if a.status == SeedStatus::Active {
            a.groups = vec!["Escalations".to_string()];
        }
    }
    let s = build(&company, env_with(TenantOptions::default()));
    let t = token(&s).await;
    let teams = get(&s, "/v2/teams", &t).await;
    let esc = teams.body["_embedded"]["teams"][2]["id"].as_u64().unwrap();
    let (all, pages) = all_pages(&s, &format!("/v2/teams/{esc}/members"), &t, "users").await;
    assert_eq!(pages, 3);
    assert_eq!(all.len(), 120);
}

// ---- Rate limits ----

#[tokio::test]
async fn rate_limit_is_400_a_minute_with_help_scout_and_guide_headers() {
    let s = sim();
    let t = token(&s).await;
    let r = get(&s, "/v2/users", &t).await;
    assert_eq!(r.header("x-ratelimit-limit-minute"), Some("400"));
    assert_eq!(r.header("x-ratelimit-remaining-minute"), Some("399"));
    assert_eq!(r.header("x-ratelimit-limit"), Some("400"));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("399"));
    // Clock at hh:mm:30: the window resets in 30 s.
    assert_eq!(r.header("x-ratelimit-reset"), Some("30"));
    for _ in 0..399 {
        assert_eq!(get(&s, "/v2/teams", &t).await.status, StatusCode::OK);
    }
    let r = get(&s, "/v2/users", &t).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.header("retry-after"), Some("30"));
    assert_eq!(r.header("x-ratelimit-retry-after"), Some("30"));
    assert_eq!(r.header("x-ratelimit-remaining-minute"), Some("0"));
    assert!(r.body["logRef"].is_string());
    let c = send(&s, Method::GET, "/_sim/counters", &[], None).await;
    assert_eq!(c.body["rate_limited"], 1);
    s.env.clock.advance(time::Duration::seconds(30));
    assert_eq!(get(&s, "/v2/users", &t).await.status, StatusCode::OK);
}

#[tokio::test]
async fn rate_limit_is_shared_by_every_token_and_integration_of_the_account() {
    let s = sim();
    let a = token(&s).await;
    let b = token(&s).await;
    // Another integration on the same account eats 398 requests.
    let r = send(
        &s,
        Method::POST,
        "/_sim/ratelimit/consume",
        &[],
        Some(("application/json", json!({"n": 398}).to_string())),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(get(&s, "/v2/users", &a).await.status, StatusCode::OK);
    assert_eq!(get(&s, "/v2/users", &b).await.status, StatusCode::OK);
    assert_eq!(
        get(&s, "/v2/users", &b).await.status,
        StatusCode::TOO_MANY_REQUESTS,
        "a second token does not get its own 400"
    );
}

#[tokio::test]
async fn writes_count_twice_against_the_limit() {
    let s = sim();
    let t = token(&s).await;
    let auth = format!("Bearer {t}");
    let r = send(
        &s,
        Method::POST,
        "/v2/users",
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(r.header("x-ratelimit-remaining-minute"), Some("398"));
}

#[tokio::test]
async fn rate_limits_off_still_sends_headers_but_never_refuses() {
    let s = build(
        &fixture(),
        env_with(TenantOptions {
            rate_limits: false,
            ..TenantOptions::default()
        }),
    );
    let t = token(&s).await;
    for _ in 0..405 {
        let r = get(&s, "/v2/teams", &t).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.header("x-ratelimit-limit-minute").is_some());
    }
}

#[tokio::test]
async fn injected_429_has_help_scout_shape() {
    let s = sim();
    let t = token(&s).await;
    let r = send(
        &s,
        Method::PUT,
        "/_sim/faults",
        &[],
        Some(("application/json", json!({"rate_429": 1.0}).to_string())),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = get(&s, "/v2/users", &t).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.header("retry-after"), Some("30"));
    assert_eq!(r.header("x-ratelimit-retry-after"), Some("30"));
    assert!(r.body["logRef"].is_string());
}

// ---- Control endpoints ----

#[tokio::test]
async fn sim_state_shows_every_user_with_status_and_teams_with_members() {
    let s = sim();
    let r = send(&s, Method::GET, "/_sim/state", &[], None).await;
    assert_eq!(r.status, StatusCode::OK);
    let users = r.body["users"].as_array().unwrap();
    assert_eq!(users.len(), 123);
    let status_of = |id: u64| {
        users
            .iter()
            .find(|u| u["id"] == id)
            .map(|u| u["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(status_of(INACTIVE), "inactive");
    assert_eq!(status_of(DELETED), "deleted");
    assert_eq!(status_of(PENDING), "pending");
    assert_eq!(r.body["teams"][0]["name"], "Support");
    assert!(r.body["teams"][0]["memberIds"]
        .as_array()
        .unwrap()
        .contains(&json!(INACTIVE)));
    assert!(r.body["bot"]["id"].is_u64());
}

#[tokio::test]
async fn sim_patch_overwrites_fields_and_bumps_updated_at() {
    let s = sim();
    let t = token(&s).await;
    s.env.clock.advance(time::Duration::hours(1));
    let r = send(
        &s,
        Method::PATCH,
        &format!("/_sim/records/users/{OWNER}"),
        &[],
        Some((
            "application/json",
            json!({"lastName": "Renamed", "alternateEmails": ["old@acme.example"]}).to_string(),
        )),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let u = get(&s, &format!("/v2/users/{OWNER}"), &t).await;
    assert_eq!(u.body["lastName"], "Renamed");
    assert_eq!(u.body["alternateEmails"], json!(["old@acme.example"]));
    assert_eq!(u.body["updatedAt"], "2026-03-01T13:00:30Z");
    let bad = send(
        &s,
        Method::PATCH,
        &format!("/_sim/records/users/{OWNER}"),
        &[],
        Some(("application/json", "{oops".to_string())),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body["error"].as_str().unwrap().contains("JSON"));
    let bad = send(
        &s,
        Method::PATCH,
        &format!("/_sim/records/users/{OWNER}"),
        &[],
        Some(("application/json", json!({"shoeSize": 9}).to_string())),
    )
    .await;
    assert!(bad.body["error"].as_str().unwrap().contains("shoeSize"));
}

#[tokio::test]
async fn sim_deactivate_hides_the_user_from_rest_without_tombstone() {
    let s = sim();
    let t = token(&s).await;
    let r = send(
        &s,
        Method::POST,
        "/_sim/records/users/1005/deactivate",
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "inactive");
    assert_eq!(
        get(&s, "/v2/users/1005", &t).await.status,
        StatusCode::NOT_FOUND
    );
    let (all, _) = all_pages(&s, "/v2/users", &t, "users").await;
    assert!(!all.contains(&1005));
    assert_eq!(all.len(), 120);
}

// ---- SCIM ----

fn backend(options: TenantOptions) -> (Arc<Shared>, HelpscoutScim) {
    let env = env_with(options);
    let creds = Creds {
        client_id: "cid".into(),
        client_secret: "secret".into(),
        scim_token: "scim-token".into(),
        redirect_uri: "http://127.0.0.1/cb".into(),
    };
    let sh = Arc::new(state::seed(&fixture(), env, creds));
    (sh.clone(), HelpscoutScim(sh))
}

#[test]
fn scim_is_gated_on_pro_plan_and_sso() {
    let (_, b) = backend(TenantOptions {
        plan: PlanTier::Growth,
        ..TenantOptions::default()
    });
    let e = b.availability().unwrap_err();
    assert_eq!(e.status, 403);
    assert!(e.detail.contains("Pro"));
    let (_, b) = backend(TenantOptions {
        plan: PlanTier::Pro,
        sso: false,
        ..TenantOptions::default()
    });
    assert!(b.availability().unwrap_err().detail.contains("SSO"));
    let (_, b) = backend(TenantOptions {
        plan: PlanTier::Pro,
        sso: true,
        ..TenantOptions::default()
    });
    assert!(b.availability().is_ok());
}

#[test]
fn scim_token_is_separate_from_oauth_tokens() {
    let (sh, b) = backend(TenantOptions::default());
    assert!(b.check_token("scim-token"));
    let (access, _) = sh.issue_token(state::Subject::App, false);
    assert!(!b.check_token(&access));
    let s = sim();
    let scim = s.credentials["scim_token"].as_str().unwrap();
    assert_ne!(scim, s.credentials["client_secret"].as_str().unwrap());
}

#[test]
fn scim_lists_deactivated_users_as_inactive_and_hides_deleted() {
    let (_, b) = backend(TenantOptions::default());
    let users = b.list_users();
    assert_eq!(users.len(), 122);
    let gone = users
        .iter()
        .find(|u| u["id"] == json!(INACTIVE.to_string()))
        .unwrap();
    assert_eq!(gone["active"], false);
    assert!(users.iter().all(|u| u["id"] != json!(DELETED.to_string())));
    let owner = b.get_user(&OWNER.to_string()).unwrap();
    assert_eq!(owner["userName"], "sam.1001@acme.example");
    assert_eq!(owner["active"], true);
    assert_eq!(owner["groups"][0]["display"], "Support");
    assert!(b.get_user(&DELETED.to_string()).is_none());
}

#[tokio::test]
async fn scim_delete_deactivates_and_rest_then_hides_the_user() {
    let (sh, b) = backend(TenantOptions::default());
    b.delete_user("1003").unwrap();
    let u = b.get_user("1003").unwrap();
    assert_eq!(
        u["active"], false,
        "conversation history kept: deactivated, not deleted"
    );
    let t = sh.tenant.lock();
    assert!(t.rest_user(1003).is_none());
    assert!(t.users.contains_key(&1003));
    drop(t);
    assert_eq!(b.delete_user("999999").unwrap_err().status, 404);
}

#[test]
fn scim_create_user_shows_in_rest_and_rejects_duplicates() {
    let (sh, b) = backend(TenantOptions::default());
    let created = b
        .create_user(json!({
            "schemas": [idgraph_scim::USER_SCHEMA],
            "userName": "new.hire@acme.example",
            "name": {"givenName": "New", "familyName": "Hire"},
            "active": "True",
            "externalId": "okta-1",
        }))
        .unwrap();
    let id: u64 = created["id"].as_str().unwrap().parse().unwrap();
    {
        let t = sh.tenant.lock();
        let u = t.rest_user(id).unwrap();
        assert_eq!(u.first_name, "New");
        assert_eq!(u.role, "user");
    }
    let dup = b
        .create_user(json!({"userName": "NEW.HIRE@acme.example"}))
        .unwrap_err();
    assert_eq!(dup.status, 409);
    assert_eq!(dup.scim_type.as_deref(), Some("uniqueness"));
    let bad = b
        .create_user(json!({"userName": "not-an-email"}))
        .unwrap_err();
    assert_eq!(bad.status, 400);
}

#[test]
fn scim_replace_user_reactivates_and_renames() {
    let (sh, b) = backend(TenantOptions::default());
    let mut u = b.get_user(&INACTIVE.to_string()).unwrap();
    u["active"] = json!(true);
    u["name"]["familyName"] = json!("Back");
    let out = b.replace_user(&INACTIVE.to_string(), u).unwrap();
    assert_eq!(out["active"], true);
    let t = sh.tenant.lock();
    assert_eq!(t.rest_user(INACTIVE).unwrap().last_name, "Back");
}

#[test]
fn scim_groups_are_teams_with_membership_changes_visible_in_rest() {
    let (sh, b) = backend(TenantOptions::default());
    let groups = b.list_groups();
    assert_eq!(groups.len(), 3);
    let billing = groups
        .iter()
        .find(|g| g["displayName"] == "Billing")
        .unwrap();
    let gid = billing["id"].as_str().unwrap().to_string();
    let mut g = billing.clone();
    g["members"] = json!([{"value": "1011"}, {"value": "1020"}]);
    let out = b.replace_group(&gid, g).unwrap();
    assert_eq!(out["members"].as_array().unwrap().len(), 2);
    {
        let t = sh.tenant.lock();
        let team = &t.teams[&gid.parse::<u64>().unwrap()];
        assert!(team.members.contains(&1020));
    }
    let bad = b
        .replace_group(
            &gid,
            json!({"displayName": "Billing", "members": [{"value": "77"}]}),
        )
        .unwrap_err();
    assert_eq!(bad.status, 400);
    let created = b
        .create_group(json!({"displayName": "Night Shift", "members": [{"value": "1001"}]}))
        .unwrap();
    assert_eq!(created["displayName"], "Night Shift");
    assert_eq!(
        b.create_group(json!({"displayName": "night shift"}))
            .unwrap_err()
            .status,
        409
    );
    let nid = created["id"].as_str().unwrap().to_string();
    b.delete_group(&nid).unwrap();
    assert!(b.get_group(&nid).is_none());
}

#[tokio::test]
async fn scim_is_served_under_v2_scim_with_its_own_token() {
    let s = sim();
    let scim = s.credentials["scim_token"].as_str().unwrap().to_string();
    let auth = format!("Bearer {scim}");
    // The SCIM token is no OAuth token, and an OAuth token is no SCIM token.
    let r = send(
        &s,
        Method::GET,
        "/v2/users",
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let oauth = format!("Bearer {}", token(&s).await);
    let r = send(
        &s,
        Method::GET,
        "/v2/scim/Users",
        &[("authorization", &oauth)],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = send(
        &s,
        Method::GET,
        "/v2/scim/Users?count=200",
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["totalResults"], 122);
    assert_eq!(r.header("x-ratelimit-limit-minute"), Some("400"));
    // Long-lived: still good after the OAuth tokens' 48 hours.
    s.env
        .clock
        .advance(time::Duration::seconds(TOKEN_TTL_SECS * 10));
    let r = send(
        &s,
        Method::GET,
        "/v2/scim/Groups",
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn scim_over_http_is_refused_below_pro_or_without_sso() {
    for options in [
        TenantOptions {
            plan: PlanTier::Growth,
            ..TenantOptions::default()
        },
        TenantOptions {
            plan: PlanTier::Pro,
            sso: false,
            ..TenantOptions::default()
        },
    ] {
        let s = build(&fixture(), env_with(options));
        let auth = format!("Bearer {}", s.credentials["scim_token"].as_str().unwrap());
        let r = send(
            &s,
            Method::GET,
            "/v2/scim/Users",
            &[("authorization", &auth)],
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    }
}

#[tokio::test]
async fn scim_delete_over_http_then_rest_returns_404() {
    let s = sim();
    let auth = format!("Bearer {}", s.credentials["scim_token"].as_str().unwrap());
    let r = send(
        &s,
        Method::DELETE,
        "/v2/scim/Users/1004",
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    // A write counts twice.
    assert_eq!(r.header("x-ratelimit-remaining-minute"), Some("398"));
    let t = token(&s).await;
    assert_eq!(
        get(&s, "/v2/users/1004", &t).await.status,
        StatusCode::NOT_FOUND
    );
    let r = send(
        &s,
        Method::GET,
        "/v2/scim/Users/1004",
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(r.body["active"], false);
}

#[tokio::test]
async fn scim_group_patch_changes_rest_team_members() {
    let s = sim();
    let auth = format!("Bearer {}", s.credentials["scim_token"].as_str().unwrap());
    let t = token(&s).await;
    let teams = get(&s, "/v2/teams", &t).await;
    let esc = teams.body["_embedded"]["teams"][2]["id"].as_u64().unwrap();
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": "1050"}, {"value": "1051"}]}],
    });
    let r = send(
        &s,
        Method::PATCH,
        &format!("/v2/scim/Groups/{esc}"),
        &[("authorization", &auth)],
        Some(("application/scim+json", patch.to_string())),
    )
    .await;
    assert!(r.status.is_success(), "{:?} {:?}", r.status, r.body);
    let m = get(&s, &format!("/v2/teams/{esc}/members"), &t).await;
    assert_eq!(ids(&m.body, "users"), vec![1050, 1051]);
}

#[tokio::test]
async fn scim_rate_limit_429_has_scim_body_and_help_scout_headers() {
    let s = sim();
    let auth = format!("Bearer {}", s.credentials["scim_token"].as_str().unwrap());
    send(
        &s,
        Method::POST,
        "/_sim/ratelimit/consume",
        &[],
        Some(("application/json", json!({"n": 400}).to_string())),
    )
    .await;
    let r = send(
        &s,
        Method::GET,
        "/v2/scim/Users",
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.body["status"], "429");
    assert_eq!(r.header("retry-after"), Some("30"));
}

#[tokio::test]
async fn generated_company_lists_every_active_and_pending_account() {
    let company = crate::company::generate(&CompanyConfig::new(3, 400, anchor()));
    let expected: BTreeSet<u64> = company
        .accounts_of(App::Helpscout)
        .filter(|a| matches!(a.status, SeedStatus::Active | SeedStatus::Pending))
        .map(|a| a.native_id)
        .collect();
    assert!(!expected.is_empty());
    let s = build(&company, env_with(TenantOptions::default()));
    let t = token(&s).await;
    let (all, _) = all_pages(&s, "/v2/users", &t, "users").await;
    assert_eq!(all.iter().copied().collect::<BTreeSet<_>>(), expected);
    let teams = get(&s, "/v2/teams", &t).await;
    let names: BTreeSet<String> = teams.body["_embedded"]["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    for g in company.catalog(App::Helpscout).groups {
        assert!(names.contains(&g), "team {g}");
    }
}

// ---- Scale ----

#[tokio::test]
async fn ten_thousand_users_seed_and_page() {
    let s = build(&fixture_with(10_000), env_with(TenantOptions::default()));
    let t = token(&s).await;
    let r = get(&s, "/v2/users?page=200", &t).await;
    assert_eq!(r.body["page"]["totalElements"], 10_121);
    assert_eq!(r.body["page"]["totalPages"], 203);
    assert_eq!(ids(&r.body, "users").len(), 50);
}
