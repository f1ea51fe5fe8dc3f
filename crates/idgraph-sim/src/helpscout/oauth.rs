//! Help Scout's OAuth 2.0: the token endpoint (`POST /v2/oauth2/token`, and the guide's
//! `/v2/auth/token`) for the client-credentials, authorization-code and refresh-token grants,
//! and the authorization step of the code flow (auto-approved).
//!
//! Parameters are read from a form body, a JSON body or the query string, as Help Scout accepts
//! all three. Client-credentials tokens live 48 hours of simulated time and come without a
//! refresh token; authorization-code tokens come with one. Errors use the OAuth 2.0 body
//! (`error`, `error_description`).

use super::rest::Reject;
use super::state::{AuthCode, Shared, Subject, CODE_TTL_SECS, TOKEN_TTL_SECS};
use crate::common::query_map;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use time::Duration;

/// An OAuth 2.0 error response (RFC 6749 §5.2).
pub fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut r = (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Reads the token request's parameters from the body (form or JSON) and the query string.
fn params(
    headers: &HeaderMap,
    raw_query: Option<&str>,
    body: &Bytes,
) -> Result<BTreeMap<String, String>, Reject> {
    let mut p = query_map(raw_query);
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let trimmed = body.iter().position(|b| !b.is_ascii_whitespace());
    let looks_json = trimmed.is_some_and(|i| body[i] == b'{');
    if body.is_empty() || trimmed.is_none() {
        return Ok(p);
    }
    if ctype.contains("json") || (looks_json && !ctype.contains("form")) {
        let v: Value = serde_json::from_slice(body).map_err(|e| {
            Box::new(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &format!("The token request body is not valid JSON: {e}"),
            ))
        })?;
        let Value::Object(map) = v else {
            return Err(Box::new(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The token request body must be a JSON object or a form",
            )));
        };
        for (k, v) in map {
            let s = match v {
                Value::String(s) => s,
                Value::Null => continue,
                other => other.to_string(),
            };
            p.insert(k, s);
        }
    } else {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|e| {
            Box::new(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &format!("The token request body is not a valid form: {e}"),
            ))
        })?;
        p.extend(pairs);
    }
    Ok(p)
}

fn token_body(access: &str, refresh: Option<&str>) -> Response {
    let mut body = json!({
        "token_type": "bearer",
        "access_token": access,
        "expires_in": TOKEN_TTL_SECS,
    });
    if let Some(r) = refresh {
        body["refresh_token"] = json!(r);
    }
    let mut resp = Json(body).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `POST /v2/oauth2/token` and `POST /v2/auth/token`.
pub async fn token(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    let p = match params(&headers, raw.as_deref(), &body) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    // Client authentication: form/JSON fields, or HTTP Basic (RFC 6749 §2.3.1).
    let basic = crate::common::basic_auth(&headers);
    let client_id = p
        .get("client_id")
        .cloned()
        .or_else(|| basic.as_ref().map(|b| b.0.clone()));
    let client_secret = p
        .get("client_secret")
        .cloned()
        .or_else(|| basic.as_ref().map(|b| b.1.clone()));
    let Some(grant) = p.get("grant_type").map(String::as_str) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing grant_type (expected client_credentials, authorization_code or refresh_token)",
        );
    };
    if !matches!(
        grant,
        "client_credentials" | "authorization_code" | "refresh_token"
    ) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!("Unsupported grant_type `{grant}` (expected client_credentials, authorization_code or refresh_token)"),
        );
    }
    let (Some(client_id), Some(client_secret)) = (client_id, client_secret) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Missing client_id or client_secret (the App ID and App Secret from My Apps)",
        );
    };
    if client_id != sh.creds.client_id || client_secret != sh.creds.client_secret {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Bad client credentials: unknown client_id or wrong client_secret",
        );
    }
    match grant {
        "client_credentials" => {
            let (access, _) = sh.issue_token(Subject::App, false);
            token_body(&access, None)
        }
        "authorization_code" => {
            let Some(code) = p.get("code") else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Missing code for grant_type authorization_code",
                );
            };
            let found = sh.tenant.lock().codes.remove(code);
            match found {
                Some(c) if c.expires_at > sh.now() => {
                    let (access, refresh) = sh.issue_token(c.subject, true);
                    token_body(&access, refresh.as_deref())
                }
                Some(_) => oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Authorization code expired",
                ),
                None => oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Invalid authorization code (unknown or already used)",
                ),
            }
        }
        _ => {
            let Some(rt) = p.get("refresh_token") else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Missing refresh_token for grant_type refresh_token",
                );
            };
            let subject = sh.tenant.lock().refresh_tokens.get(rt).copied();
            match subject {
                Some(s) => {
                    let (access, refresh) = sh.issue_token(s, true);
                    token_body(&access, refresh.as_deref())
                }
                None => oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Invalid refresh token",
                ),
            }
        }
    }
}

/// `GET /v2/oauth2/authorize` and `GET /authentication/authorizeClientApplication`: the user
/// approves at once; 302 to `redirect_uri` (or the app's Redirection URL) with `code` and
/// `state`.
pub async fn authorize(State(sh): State<Arc<Shared>>, RawQuery(raw): RawQuery) -> Response {
    let q = query_map(raw.as_deref());
    if q.get("client_id") != Some(&sh.creds.client_id) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "Unknown or missing client_id in the authorization request",
        );
    }
    let redirect = q
        .get("redirect_uri")
        .cloned()
        .unwrap_or_else(|| sh.creds.redirect_uri.clone());
    let Ok(mut url) = url::Url::parse(&redirect) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("redirect_uri `{redirect}` is not an absolute URL"),
        );
    };
    let subject = match sh.tenant.lock().authorizing_user() {
        Some(id) => Subject::User(id),
        None => Subject::App,
    };
    let code = sh.fresh("auth-code", 24);
    sh.tenant.lock().codes.insert(
        code.clone(),
        AuthCode {
            subject,
            expires_at: sh.now() + Duration::seconds(CODE_TTL_SECS),
        },
    );
    {
        let mut qp = url.query_pairs_mut();
        qp.append_pair("code", &code);
        if let Some(s) = q.get("state") {
            qp.append_pair("state", s);
        }
    }
    let mut r = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(url.as_str()) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}
