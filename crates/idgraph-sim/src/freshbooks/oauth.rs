//! The FreshBooks OAuth 2.0 authorization-code flow: the authorize page (auto-approved as the
//! token owner), the token endpoint (authorization code and single-use refresh tokens, JSON or
//! form bodies) and bearer-token checks for the API.

use super::state::{AccessToken, AuthCode, RefreshToken, Tenant};
use super::{fb_error, Reject, Sim, ACCESS_TOKEN_TTL_SECS, AUTH_CODE_TTL_SECS, SCOPES};
use crate::common::{basic_auth, bearer_token, query_map};
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

const INVALID_GRANT: &str = "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client";
const INVALID_CLIENT: &str = "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method";

fn redirect(base: &str, params: &[(&str, &str)]) -> Response {
    let location = match url::Url::parse(base) {
        Ok(mut u) => {
            {
                let mut q = u.query_pairs_mut();
                for (k, v) in params {
                    q.append_pair(k, v);
                }
            }
            u.to_string()
        }
        Err(e) => {
            return fb_error(
                StatusCode::BAD_REQUEST,
                "invalid_redirect_uri",
                format!("redirect_uri `{base}` is not a URL: {e}"),
            )
        }
    };
    let mut resp = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// Splits a `scope` parameter (space- or comma-separated) into scopes.
fn parse_scopes(raw: Option<&String>) -> Vec<String> {
    raw.map(|s| {
        s.split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}

/// `GET /oauth/authorize?response_type=code&client_id&redirect_uri[&scope][&state]`: the user
/// (always the token owner) approves at once; the answer is a 302 to the redirect URI.
pub(crate) async fn authorize(State(sim): State<Arc<Sim>>, RawQuery(q): RawQuery) -> Response {
    let q = query_map(q.as_deref());
    let client_id = q.get("client_id").map(String::as_str).unwrap_or("");
    if client_id != sim.client_id {
        return fb_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            format!("{INVALID_CLIENT}: client_id `{client_id}` is not a registered application"),
        );
    }
    let Some(redirect_uri) = q.get("redirect_uri") else {
        return fb_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: redirect_uri.",
        );
    };
    if *redirect_uri != sim.redirect_uri {
        return fb_error(
            StatusCode::BAD_REQUEST,
            "invalid_redirect_uri",
            format!(
                "The requested redirect uri is malformed or doesn't match client redirect URI: `{redirect_uri}` is not the registered `{}`",
                sim.redirect_uri
            ),
        );
    }
    let state = q.get("state").cloned();
    let with_state = |mut params: Vec<(&'static str, String)>| {
        if let Some(s) = &state {
            params.push(("state", s.clone()));
        }
        params
    };
    let send = |params: Vec<(&'static str, String)>| {
        let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        redirect(redirect_uri, &borrowed)
    };
    if q.get("response_type").map(String::as_str) != Some("code") {
        return send(with_state(vec![
            ("error", "unsupported_response_type".to_string()),
            (
                "error_description",
                "The authorization server does not support this response type: use response_type=code".to_string(),
            ),
        ]));
    }
    let mut scopes = parse_scopes(q.get("scope"));
    if let Some(bad) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
        return send(with_state(vec![
            ("error", "invalid_scope".to_string()),
            (
                "error_description",
                format!("The requested scope `{bad}` is invalid, unknown, or malformed"),
            ),
        ]));
    }
    if scopes.is_empty() {
        scopes = SCOPES.iter().map(|s| s.to_string()).collect();
    }
    let code = {
        let mut t = sim.tenant.lock();
        t.oauth.issued += 1;
        let code = sim.env.secret(&format!("code:{}", t.oauth.issued), 64);
        t.oauth.codes.insert(
            code.clone(),
            AuthCode {
                client_id: client_id.to_string(),
                redirect_uri: redirect_uri.clone(),
                scopes,
                expires_at: sim.env.clock.now() + time::Duration::seconds(AUTH_CODE_TTL_SECS),
                used: false,
            },
        );
        code
    };
    send(with_state(vec![("code", code)]))
}

/// Reads the token request parameters: query string, then the JSON or form body on top.
fn token_params(
    headers: &HeaderMap,
    query: Option<&str>,
    body: &Bytes,
) -> Result<BTreeMap<String, String>, Reject> {
    let mut params = query_map(query);
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(params);
    }
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let looks_json = ctype.contains("json")
        || (ctype.is_empty() && body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{'));
    if looks_json {
        let v: Value = serde_json::from_slice(body).map_err(|e| {
            fb_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("POST /auth/oauth/token: the request body is not valid JSON: {e}"),
            )
        })?;
        let Value::Object(map) = v else {
            return Err(fb_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "POST /auth/oauth/token: the JSON body must be an object",
            )
            .into());
        };
        for (k, v) in map {
            let s = match v {
                Value::String(s) => s,
                Value::Null => continue,
                other => other.to_string(),
            };
            params.insert(k, s);
        }
    } else {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|e| {
            fb_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("POST /auth/oauth/token: the form body cannot be parsed: {e}"),
            )
        })?;
        params.extend(pairs);
    }
    Ok(params)
}

fn token_error(status: StatusCode, error: &str, description: impl Into<String>) -> Response {
    let mut resp = fb_error(status, error, description);
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Issues an access token and a new refresh token with `scopes`.
fn issue(sim: &Sim, t: &mut Tenant, scopes: Vec<String>) -> Value {
    t.oauth.issued += 1;
    let n = t.oauth.issued;
    let access = sim.env.secret(&format!("access:{n}"), 64);
    let refresh = sim.env.secret(&format!("refresh:{n}"), 64);
    let now = sim.env.clock.now();
    t.oauth.access.insert(
        access.clone(),
        AccessToken {
            scopes: scopes.clone(),
            expires_at: now + time::Duration::seconds(ACCESS_TOKEN_TTL_SECS),
        },
    );
    t.oauth.refresh.insert(
        refresh.clone(),
        RefreshToken {
            scopes: scopes.clone(),
            spent: false,
        },
    );
    json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_TTL_SECS,
        "refresh_token": refresh,
        "scope": scopes.join(" "),
        "created_at": now.unix_timestamp(),
    })
}

/// `POST /auth/oauth/token`: `grant_type=authorization_code` or `grant_type=refresh_token`.
pub(crate) async fn token(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let params = match token_params(&headers, q.as_deref(), &body) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let Some(grant_type) = get("grant_type") else {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: grant_type.",
        );
    };
    if grant_type != "authorization_code" && grant_type != "refresh_token" {
        return token_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("The authorization grant type `{grant_type}` is not supported by the authorization server (use authorization_code or refresh_token)"),
        );
    }
    let basic = basic_auth(&headers);
    let client_id = get("client_id")
        .map(str::to_string)
        .or_else(|| basic.as_ref().map(|b| b.0.clone()))
        .unwrap_or_default();
    let client_secret = get("client_secret")
        .map(str::to_string)
        .or_else(|| basic.as_ref().map(|b| b.1.clone()))
        .unwrap_or_default();
    if client_id != sim.client_id || client_secret != sim.client_secret {
        let which = if client_id != sim.client_id {
            format!("client_id `{client_id}` is not a registered application")
        } else {
            "client_secret does not match the application".to_string()
        };
        return token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            format!("{INVALID_CLIENT}: {which}"),
        );
    }
    let now = sim.env.clock.now();
    let mut t = sim.tenant.lock();
    let scopes = if grant_type == "authorization_code" {
        let Some(code) = get("code") else {
            return token_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Missing required parameter: code.",
            );
        };
        let Some(redirect_uri) = get("redirect_uri") else {
            return token_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Missing required parameter: redirect_uri.",
            );
        };
        let Some(grant) = t.oauth.codes.get_mut(code) else {
            return token_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                format!("{INVALID_GRANT}: unknown authorization code"),
            );
        };
        let reason = if grant.used {
            Some("the authorization code was already used (codes are single-use)")
        } else if now >= grant.expires_at {
            Some("the authorization code expired (codes live 5 minutes)")
        } else if grant.redirect_uri != redirect_uri {
            Some("redirect_uri differs from the one of the authorization request")
        } else if grant.client_id != client_id {
            Some("the code was issued to another client")
        } else {
            None
        };
        if let Some(reason) = reason {
            return token_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                format!("{INVALID_GRANT}: {reason}"),
            );
        }
        grant.used = true;
        grant.scopes.clone()
    } else {
        let Some(refresh) = get("refresh_token") else {
            return token_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Missing required parameter: refresh_token.",
            );
        };
        let Some(grant) = t.oauth.refresh.get_mut(refresh) else {
            return token_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                format!("{INVALID_GRANT}: unknown refresh token"),
            );
        };
        if grant.spent {
            return token_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                format!("{INVALID_GRANT}: this refresh token was already used; FreshBooks refresh tokens work once, use the refresh_token returned by the last refresh"),
            );
        }
        grant.spent = true;
        grant.scopes.clone()
    };
    let body = issue(&sim, &mut t, scopes);
    let mut resp = Json(body).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

fn unauthorized(error: &str, description: &str) -> Response {
    let mut resp = (
        StatusCode::UNAUTHORIZED,
        Json(json!({
            "error": error,
            "error_description": description,
            "state": "unauthorized",
        })),
    )
        .into_response();
    let www = format!(
        "Bearer realm=\"FreshBooks\", error=\"{error}\", error_description=\"{description}\""
    );
    if let Ok(v) = HeaderValue::from_str(&www) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// Checks the bearer token of a request: present (401 `unauthenticated`), known and unexpired
/// (401 `invalid_token`), and carrying one of `any_of` (403 `insufficient_scope`).
pub(crate) fn authenticate(
    sim: &Sim,
    t: &Tenant,
    headers: &HeaderMap,
    any_of: &[&str],
) -> Result<(), Reject> {
    let Some(token) = bearer_token(headers) else {
        return Err(unauthorized(
            "unauthenticated",
            "This action requires authentication to continue.",
        )
        .into());
    };
    let Some(grant) = t.oauth.access.get(&token) else {
        return Err(unauthorized("invalid_token", "The access token is invalid").into());
    };
    if sim.env.clock.now() >= grant.expires_at {
        return Err(unauthorized("invalid_token", "The access token expired").into());
    }
    if !grant.scopes.iter().any(|s| any_of.contains(&s.as_str())) {
        let scope = any_of.join(" or ");
        return Err((
            StatusCode::FORBIDDEN,
            Json(json!({
                "error": "insufficient_scope",
                "error_description": format!("The request requires higher privileges than provided by the access token: scope `{scope}` is needed (token has `{}`)", grant.scopes.join(" ")),
                "scope": scope,
            })),
        )
            .into_response()
            .into());
    }
    Ok(())
}
