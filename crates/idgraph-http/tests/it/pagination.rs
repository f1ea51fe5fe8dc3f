//! Every pagination style against a server holding 7 items, page size 3 unless the style's
//! server decides otherwise; each paginator counts the requests it made.

use crate::support::*;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Json;
use idgraph_http::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

type Q = Query<HashMap<String, String>>;

#[derive(Clone)]
struct S {
    base: Arc<parking_lot::Mutex<String>>,
    n: usize,
    hits: Arc<AtomicUsize>,
}

fn q(q: &HashMap<String, String>, k: &str, d: usize) -> usize {
    q.get(k).and_then(|v| v.parse().ok()).unwrap_or(d)
}

fn slice(n: usize, page: usize, per: usize) -> Vec<Value> {
    (1..=n)
        .skip((page - 1) * per)
        .take(per)
        .map(|i| json!({"id": i}))
        .collect()
}

async fn plain(State(s): State<S>, Query(p): Q) -> Json<Value> {
    s.hits.fetch_add(1, Ordering::SeqCst);
    Json(Value::Array(slice(
        s.n,
        q(&p, "page", 1),
        q(&p, "per_page", 30),
    )))
}

async fn owners(State(s): State<S>, Query(p): Q) -> Json<Value> {
    s.hits.fetch_add(1, Ordering::SeqCst);
    // Ignores per_page: 3 per page; the end is an empty page.
    Json(json!({ "users": slice(s.n, q(&p, "page", 1), 3) }))
}

async fn helpscout(State(s): State<S>, Query(p): Q) -> Json<Value> {
    s.hits.fetch_add(1, Ordering::SeqCst);
    let page = q(&p, "page", 1);
    let total_pages = s.n.div_ceil(3);
    let mut body = json!({
        "_embedded": { "users": slice(s.n, page, 3) },
        "page": { "size": 3, "totalElements": s.n, "totalPages": total_pages, "number": page },
    });
    if page < total_pages {
        let base = s.base.lock().clone();
        body["_links"] =
            json!({ "next": { "href": format!("{base}/v2/users?page={}", page + 1) } });
    }
    Json(body)
}

async fn freshbooks(State(s): State<S>, Query(p): Q) -> Json<Value> {
    s.hits.fetch_add(1, Ordering::SeqCst);
    let page = q(&p, "page", 1);
    let per = q(&p, "per_page", 15);
    Json(json!({ "response": { "result": {
        "members": slice(s.n, page, per),
        "pages": { "page": page, "pages": s.n.div_ceil(per), "per_page": per, "total": s.n },
    }}}))
}

async fn linked(State(s): State<S>, Query(p): Q) -> impl IntoResponse {
    s.hits.fetch_add(1, Ordering::SeqCst);
    let page = q(&p, "page", 1);
    let mut h = HeaderMap::new();
    if page * 3 < s.n {
        // Relative link on odd pages, absolute on even ones.
        let link = if page % 2 == 1 {
            format!("</linked?page={}>; rel=\"next\"", page + 1)
        } else {
            let base = s.base.lock().clone();
            format!(
                "<{base}/linked?page={}>; rel=\"next\", <{base}/linked?page=1>; rel=\"first\"",
                page + 1
            )
        };
        h.insert("link", HeaderValue::from_str(&link).unwrap());
    }
    (h, Json(Value::Array(slice(s.n, page, 3))))
}

async fn scim(State(s): State<S>, Query(p): Q) -> Json<Value> {
    s.hits.fetch_add(1, Ordering::SeqCst);
    let start = q(&p, "startIndex", 1);
    let count = q(&p, "count", 100);
    let res: Vec<Value> = (1..=s.n)
        .skip(start - 1)
        .take(count)
        .map(|i| json!({"id": i}))
        .collect();
    Json(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": s.n, "startIndex": start, "itemsPerPage": res.len(), "Resources": res,
    }))
}

async fn flaky(State(s): State<S>, Query(p): Q) -> impl IntoResponse {
    let n = s.hits.fetch_add(1, Ordering::SeqCst);
    if n == 1 {
        // The second page arrives truncated once.
        return (StatusCode::OK, "[{\"id\": 4}, {\"id\"".to_string());
    }
    let v = Value::Array(slice(s.n, q(&p, "page", 1), q(&p, "per_page", 30)));
    (StatusCode::OK, v.to_string())
}

async fn server(n: usize) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let base = Arc::new(parking_lot::Mutex::new(String::new()));
    let s = S {
        base: base.clone(),
        n,
        hits: hits.clone(),
    };
    let router = axum::Router::new()
        .route("/api/v2/agents", get(plain))
        .route("/owners", get(owners))
        .route("/v2/users", get(helpscout))
        .route("/members", get(freshbooks))
        .route("/linked", get(linked))
        .route("/scim/v2/Users", get(scim))
        .route("/flaky", get(flaky))
        .with_state(s);
    let url = serve(router).await;
    *base.lock() = url.clone();
    (url, hits)
}

#[derive(serde::Deserialize, Debug, PartialEq)]
struct Item {
    id: usize,
}

fn ids(v: &[Item]) -> Vec<usize> {
    v.iter().map(|i| i.id).collect()
}

async fn run(n: usize, path: &str, style: PageStyle, pointer: &str) -> (Vec<usize>, u64, usize) {
    let clock = ManualClock::new(START);
    let (base, hits) = server(n).await;
    let api = plain_api(&http(&clock), &base, RetryPolicy::default());
    let mut p = Paginator::new(
        &api,
        ApiRequest::get(path),
        style,
        items_at::<Item>(pointer, false),
    );
    let all = p.collect_all().await.unwrap();
    assert_eq!(p.next_page().await.unwrap(), None);
    (ids(&all), p.requests(), hits.load(Ordering::SeqCst))
}

#[tokio::test]
async fn page_number_stops_on_a_short_page() {
    let (ids, reqs, hits) = run(
        7,
        "/api/v2/agents",
        PageStyle::page_number(3, Stop::ShortPage),
        "",
    )
    .await;
    assert_eq!(ids, (1..=7).collect::<Vec<_>>());
    assert_eq!((reqs, hits), (3, 3));
    // An exact multiple needs one more (empty) page.
    let (ids, reqs, _) = run(
        6,
        "/api/v2/agents",
        PageStyle::page_number(3, Stop::ShortPage),
        "",
    )
    .await;
    assert_eq!(ids.len(), 6);
    assert_eq!(reqs, 3);
}

#[tokio::test]
async fn page_number_stops_on_an_empty_page() {
    let (ids, reqs, _) = run(
        7,
        "/owners",
        PageStyle::page_number(100, Stop::EmptyPage),
        "/users",
    )
    .await;
    assert_eq!(ids, (1..=7).collect::<Vec<_>>());
    assert_eq!(reqs, 4);
}

#[tokio::test]
async fn total_pages_from_the_body() {
    let style = PageStyle::page_number(50, Stop::TotalPages("/page/totalPages".into()));
    let (ids, reqs, _) = run(7, "/v2/users", style, "/_embedded/users").await;
    assert_eq!(ids, (1..=7).collect::<Vec<_>>());
    assert_eq!(reqs, 3);
}

#[tokio::test]
async fn next_href_in_the_body_is_followed_as_given() {
    let style = PageStyle::BodyNext {
        next_pointer: "/_links/next/href".into(),
    };
    let (ids, reqs, _) = run(7, "/v2/users", style, "/_embedded/users").await;
    assert_eq!(ids, (1..=7).collect::<Vec<_>>());
    assert_eq!(reqs, 3);
}

#[tokio::test]
async fn freshbooks_pages_object() {
    let style = PageStyle::page_number(3, Stop::PagesObject("/response/result/pages".into()));
    let (ids, reqs, _) = run(7, "/members", style, "/response/result/members").await;
    assert_eq!(ids, (1..=7).collect::<Vec<_>>());
    assert_eq!(reqs, 3);
}

#[tokio::test]
async fn link_header_next_is_followed() {
    let (ids, reqs, _) = run(7, "/linked", PageStyle::LinkHeader, "").await;
    assert_eq!(ids, (1..=7).collect::<Vec<_>>());
    assert_eq!(reqs, 3);
}

#[tokio::test]
async fn scim_start_index() {
    let (ids, reqs, _) = run(
        7,
        "/scim/v2/Users",
        PageStyle::Scim { count: 3 },
        "/Resources",
    )
    .await;
    assert_eq!(ids, (1..=7).collect::<Vec<_>>());
    assert_eq!(reqs, 3);
}

#[tokio::test]
async fn a_truncated_page_is_fetched_again() {
    let clock = ManualClock::new(START);
    let (base, hits) = server(7).await;
    let api = plain_api(&http(&clock), &base, RetryPolicy::default());
    let mut p = Paginator::new(
        &api,
        ApiRequest::get("/flaky"),
        PageStyle::page_number(3, Stop::ShortPage),
        items_at::<Item>("", false),
    );
    let all = p.collect_all().await.unwrap();
    assert_eq!(ids(&all), (1..=7).collect::<Vec<_>>());
    assert_eq!((p.requests(), p.attempts()), (3, 4));
    assert_eq!(hits.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn next_links_to_another_origin_are_refused() {
    let router = axum::Router::new().route(
        "/v2/users",
        get(|| async {
            Json(json!({"_embedded": {"users": [{"id": 1}]},
                        "_links": {"next": {"href": "http://127.0.0.2:9/v2/users?page=2"}}}))
        }),
    );
    let base = serve(router).await;
    let clock = ManualClock::new(START);
    let api = plain_api(&http(&clock), &base, RetryPolicy::default());
    let mut p = Paginator::new(
        &api,
        ApiRequest::get("/v2/users"),
        PageStyle::BodyNext {
            next_pointer: "/_links/next/href".into(),
        },
        items_at::<Item>("/_embedded/users", false),
    );
    assert_eq!(p.next_page().await.unwrap().unwrap().len(), 1);
    let err = p.next_page().await.unwrap_err();
    assert!(
        err.to_string().contains("refusing to send credentials"),
        "{err}"
    );
}

#[tokio::test]
async fn a_server_ignoring_the_page_parameter_is_caught() {
    let router = axum::Router::new().route("/same", get(|| async { Json(json!([{"id": 1}])) }));
    let base = serve(router).await;
    let clock = ManualClock::new(START);
    let api = plain_api(&http(&clock), &base, RetryPolicy::default());
    let mut p = Paginator::new(
        &api,
        ApiRequest::get("/same"),
        PageStyle::page_number(1, Stop::ShortPage),
        items_at::<Item>("", false),
    )
    .max_pages(5);
    let err = p.collect_all().await.unwrap_err();
    assert!(matches!(err, HttpError::Pagination { .. }), "{err}");
    assert_eq!(p.requests(), 5);
}

/// A listing stopped after any page and resumed from its serialised cursor by a new paginator
/// (a new process) yields every item exactly once, in every style.
#[tokio::test]
async fn a_listing_resumes_from_its_serialised_cursor() {
    let styles: Vec<(&str, PageStyle, &str)> = vec![
        (
            "/api/v2/agents",
            PageStyle::page_number(3, Stop::ShortPage),
            "",
        ),
        ("/linked", PageStyle::LinkHeader, ""),
        (
            "/v2/users",
            PageStyle::BodyNext {
                next_pointer: "/_links/next/href".into(),
            },
            "/_embedded/users",
        ),
        ("/scim/v2/Users", PageStyle::Scim { count: 3 }, "/Resources"),
    ];
    for (path, style, pointer) in styles {
        let clock = ManualClock::new(START);
        let (base, _) = server(7).await;
        let api = plain_api(&http(&clock), &base, RetryPolicy::default());
        let mut seen = Vec::new();
        let mut cursor = PageCursor::First;
        loop {
            // A fresh paginator per page, as a resumed process would build it.
            let mut p = Paginator::resume(
                &api,
                ApiRequest::get(path),
                style.clone(),
                items_at::<Item>(pointer, false),
                serde_json::from_value(serde_json::to_value(&cursor).unwrap()).unwrap(),
            );
            match p.next_page().await.unwrap() {
                Some(items) => seen.extend(ids(&items)),
                None => break,
            }
            match p.cursor() {
                Some(c) => cursor = c,
                None => break,
            }
        }
        assert_eq!(seen, (1..=7).collect::<Vec<_>>(), "{path}");
    }
}

/// A failed page leaves the cursor on that page, so asking again fetches it, not the next one.
#[tokio::test]
async fn a_failed_page_keeps_its_cursor() {
    let router = axum::Router::new().route(
        "/broken",
        get(|Query(p): Q| async move {
            if q(&p, "page", 1) == 2 {
                Json(json!({"not": "a list"}))
            } else {
                Json(Value::Array(slice(9, q(&p, "page", 1), 3)))
            }
        }),
    );
    let base = serve(router).await;
    let clock = ManualClock::new(START);
    let api = plain_api(&http(&clock), &base, RetryPolicy::default());
    let mut p = Paginator::new(
        &api,
        ApiRequest::get("/broken"),
        PageStyle::page_number(3, Stop::ShortPage),
        items_at::<Item>("", false),
    );
    assert_eq!(p.next_page().await.unwrap().unwrap().len(), 3);
    assert_eq!(p.cursor(), Some(PageCursor::Page(2)));
    assert!(p.next_page().await.is_err());
    assert_eq!(p.cursor(), Some(PageCursor::Page(2)));
}
