//! Paginators for every list style of the vendors, as a pull API:
//! [`Paginator::next_page`] returns `Ok(Some(items))` per page and `Ok(None)` at the end.
//!
//! | style | used by | next page | end |
//! |---|---|---|---|
//! | [`PageStyle::PageNumber`] + [`Stop::ShortPage`] | Freshservice, Freshdesk | `page+1` | fewer than `per_page` items |
//! | [`PageStyle::PageNumber`] + [`Stop::EmptyPage`] | Freshsales owners | `page+1` | an empty page |
//! | [`PageStyle::PageNumber`] + [`Stop::TotalPages`] | Help Scout `page.totalPages` | `page+1` | `page ≥ totalPages` |
//! | [`PageStyle::PageNumber`] + [`Stop::PagesObject`] | FreshBooks `pages` object | `page+1` | `pages.page ≥ pages.pages` |
//! | [`PageStyle::LinkHeader`] | `Link: <…>; rel="next"` | the link | no next link |
//! | [`PageStyle::BodyNext`] | Help Scout `_links.next.href` | the href, as given | no href |
//! | [`PageStyle::Scim`] | SCIM `startIndex`/`count` | `startIndex + items` | past `totalResults` |
//!
//! Items are taken out of each page body by an [`Extractor`], so each connector maps its own
//! envelope ([`items_at`] covers the usual "array at a JSON pointer"). Each page goes through
//! [`ApiClient::execute`]: budget, retries, and a re-fetch when a body is truncated. A
//! paginator counts its pages and HTTP attempts, and stops with an error after `max_pages`
//! (a server that ignores the page parameter would otherwise loop forever).

use crate::client::{ApiClient, ApiRequest};
use crate::error::{redact_url, HttpError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use url::Url;

/// Takes the items out of a page body; an `Err` names what is missing.
pub type Extractor<T> = Arc<dyn Fn(&Value) -> Result<Vec<T>, String> + Send + Sync>;

/// The array at JSON `pointer` (`""` for a top-level array, `/agents`, `/_embedded/users`,
/// `/response/result/members`, `/Resources`), each element decoded as `T`. A missing
/// `_embedded`-style envelope (Help Scout sends none on an empty list) counts as no items
/// only when `missing_is_empty`.
pub fn items_at<T: DeserializeOwned + 'static>(
    pointer: &str,
    missing_is_empty: bool,
) -> Extractor<T> {
    let pointer = pointer.to_string();
    Arc::new(move |v: &Value| {
        let arr = match v.pointer(&pointer) {
            Some(Value::Array(a)) => a,
            Some(Value::Null) | None if missing_is_empty => return Ok(Vec::new()),
            Some(_) => return Err(format!("{pointer:?} is not an array")),
            None => return Err(format!("no {pointer:?} in the page body")),
        };
        arr.iter()
            .enumerate()
            .map(|(i, x)| T::deserialize(x).map_err(|e| format!("item {i} at {pointer:?}: {e}")))
            .collect()
    })
}

/// When a page-number list ends.
#[derive(Debug, Clone)]
pub enum Stop {
    /// A page with fewer items than `per_page` is the last.
    ShortPage,
    /// An empty page marks the end (it is requested).
    EmptyPage,
    /// The total page count is at this JSON pointer (`/page/totalPages`).
    TotalPages(String),
    /// An object with `page` and `pages` is at this pointer (`/response/result/pages`).
    PagesObject(String),
}

/// How to get from one page to the next.
#[derive(Debug, Clone)]
pub enum PageStyle {
    PageNumber {
        page_param: String,
        per_page_param: Option<String>,
        per_page: u32,
        first_page: u64,
        stop: Stop,
    },
    LinkHeader,
    BodyNext {
        /// JSON pointer of the next URL (`/_links/next/href`).
        next_pointer: String,
    },
    Scim {
        count: u32,
    },
}

impl PageStyle {
    /// `page`/`per_page` numbering from 1.
    pub fn page_number(per_page: u32, stop: Stop) -> Self {
        PageStyle::PageNumber {
            page_param: "page".into(),
            per_page_param: Some("per_page".into()),
            per_page,
            first_page: 1,
            stop,
        }
    }
}

/// Where a paginator stands: the page it will fetch next. Serialisable, so a sync engine can
/// store it in a checkpoint and a later process can [`Paginator::resume`] from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageCursor {
    /// The first page (of any style).
    First,
    /// A page number (page-number styles).
    Page(u64),
    /// A next link as the server gave it, made absolute (`Link` header, `_links.next.href`).
    Url(String),
    /// A SCIM `startIndex`.
    StartIndex(u64),
}

use PageCursor as Next;

/// A list being paged through.
pub struct Paginator<T> {
    api: ApiClient,
    template: ApiRequest,
    style: PageStyle,
    extract: Extractor<T>,
    next: Option<Next>,
    pages: u64,
    attempts: u64,
    max_pages: u64,
}

impl<T> std::fmt::Debug for Paginator<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paginator")
            .field("account", &self.api.account())
            .field("style", &self.style)
            .field("pages", &self.pages)
            .finish()
    }
}

fn json_u64(v: Option<&Value>) -> Option<u64> {
    v.and_then(|x| {
        x.as_u64()
            .or_else(|| x.as_str().and_then(|s| s.trim().parse().ok()))
    })
}

/// The `rel="next"` target of a `Link` header.
pub fn link_next(header: &str) -> Option<String> {
    for part in header.split(',') {
        let mut segs = part.split(';');
        let target = segs.next()?.trim();
        let target = target.strip_prefix('<')?.strip_suffix('>')?;
        let is_next = segs.any(|s| {
            let s = s.trim();
            s.strip_prefix("rel=")
                .map(|r| r.trim_matches('"').split_whitespace().any(|x| x == "next"))
                .unwrap_or(false)
        });
        if is_next {
            return Some(target.to_string());
        }
    }
    None
}

impl<T> Paginator<T> {
    /// Pages through `request` (a GET with its filters) in `style`, items by `extract`.
    pub fn new(
        api: &ApiClient,
        request: ApiRequest,
        style: PageStyle,
        extract: Extractor<T>,
    ) -> Self {
        Self {
            api: api.clone(),
            template: request,
            style,
            extract,
            next: Some(Next::First),
            pages: 0,
            attempts: 0,
            max_pages: 100_000,
        }
    }

    /// Continues a listing from `cursor` (as returned by [`Paginator::cursor`] in an earlier
    /// process): the next page fetched is the one the cursor names.
    pub fn resume(
        api: &ApiClient,
        request: ApiRequest,
        style: PageStyle,
        extract: Extractor<T>,
        cursor: PageCursor,
    ) -> Self {
        let mut p = Self::new(api, request, style, extract);
        p.next = Some(cursor);
        p
    }

    /// The page the next [`Paginator::next_page`] call fetches; `None` once the list is done.
    pub fn cursor(&self) -> Option<PageCursor> {
        self.next.clone()
    }

    /// Stops with an error after this many pages (default 100 000).
    pub fn max_pages(mut self, n: u64) -> Self {
        self.max_pages = n;
        self
    }

    /// Pages fetched so far (logical requests).
    pub fn requests(&self) -> u64 {
        self.pages
    }

    /// HTTP attempts made so far, retries included.
    pub fn attempts(&self) -> u64 {
        self.attempts
    }

    fn request_for(&self, next: &Next) -> ApiRequest {
        let t = self.template.clone();
        match (&self.style, next) {
            (
                PageStyle::PageNumber {
                    page_param,
                    per_page_param,
                    per_page,
                    first_page,
                    ..
                },
                n,
            ) => {
                let page = match n {
                    Next::Page(p) => *p,
                    _ => *first_page,
                };
                let mut t = t.set_query(page_param, page);
                if let Some(pp) = per_page_param {
                    t = t.set_query(pp, per_page);
                }
                t
            }
            (PageStyle::Scim { count }, n) => {
                let start = match n {
                    Next::StartIndex(s) => *s,
                    _ => 1,
                };
                t.set_query("startIndex", start).set_query("count", count)
            }
            (_, Next::Url(u)) => ApiRequest::new(t.method().clone(), u.clone()),
            (_, _) => t,
        }
    }

    /// The next page's items, or `None` after the last page.
    pub async fn next_page(&mut self) -> Result<Option<Vec<T>>, HttpError> {
        // The cursor moves only when a page succeeds: after an error, `cursor()` still names
        // the failed page, so a retry (or a resumed process) asks for it again.
        let Some(next) = self.next.clone() else {
            return Ok(None);
        };
        let req = self.request_for(&next);
        if self.pages >= self.max_pages {
            return Err(HttpError::Pagination {
                url: self.api.base_url().to_string(),
                reason: format!(
                    "more than {} pages; does the server ignore the page parameter?",
                    self.max_pages
                ),
            });
        }
        let (value, resp) = self.api.execute(req, |r| r.json::<Value>()).await?;
        self.pages += 1;
        self.attempts += u64::from(resp.attempts);
        let shown = redact_url(&resp.url);
        let perr = |reason: String| HttpError::Pagination {
            url: shown.clone(),
            reason,
        };
        let items = (self.extract)(&value).map_err(perr)?;
        let n = items.len() as u64;
        self.next = match &self.style {
            PageStyle::PageNumber {
                per_page,
                first_page,
                stop,
                ..
            } => {
                let page = match next {
                    Next::Page(p) => p,
                    _ => *first_page,
                };
                let more = match stop {
                    Stop::ShortPage => n >= u64::from(*per_page) && n > 0,
                    Stop::EmptyPage => n > 0,
                    Stop::TotalPages(ptr) => {
                        let total = json_u64(value.pointer(ptr))
                            .ok_or_else(|| perr(format!("no page count at {ptr:?}")))?;
                        n > 0 && page < total
                    }
                    Stop::PagesObject(ptr) => {
                        let o = value
                            .pointer(ptr)
                            .ok_or_else(|| perr(format!("no pages object at {ptr:?}")))?;
                        let cur = json_u64(o.get("page")).unwrap_or(page);
                        let total = json_u64(o.get("pages"))
                            .ok_or_else(|| perr(format!("no \"pages\" in {ptr:?}")))?;
                        n > 0 && cur < total
                    }
                };
                more.then_some(Next::Page(page + 1))
            }
            PageStyle::LinkHeader => resp
                .headers
                .get_all(http::header::LINK)
                .iter()
                .filter_map(|h| h.to_str().ok())
                .find_map(link_next)
                .map(|l| resolve(&resp.url, &l))
                .map(Next::Url),
            PageStyle::BodyNext { next_pointer } => value
                .pointer(next_pointer)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
                .map(|l| Next::Url(resolve(&resp.url, l))),
            PageStyle::Scim { .. } => {
                let start = json_u64(value.get("startIndex")).unwrap_or(match next {
                    Next::StartIndex(s) => s,
                    _ => 1,
                });
                let total = json_u64(value.get("totalResults"))
                    .ok_or_else(|| perr("no totalResults in the SCIM list response".into()))?;
                let following = start + n;
                (n > 0 && following <= total).then_some(Next::StartIndex(following))
            }
        };
        if n == 0 && self.next.is_none() {
            return Ok(None);
        }
        Ok(Some(items))
    }

    /// Every remaining item.
    pub async fn collect_all(&mut self) -> Result<Vec<T>, HttpError> {
        let mut all = Vec::new();
        while let Some(mut page) = self.next_page().await? {
            all.append(&mut page);
        }
        Ok(all)
    }
}

/// A next link as given, made absolute against the page it came from.
fn resolve(current: &Url, link: &str) -> String {
    match current.join(link) {
        Ok(u) => u.to_string(),
        Err(_) => link.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_link_headers() {
        let h = r#"<https://x.test/a?page=1>; rel="prev", <https://x.test/a?page=3>; rel="next""#;
        assert_eq!(link_next(h).as_deref(), Some("https://x.test/a?page=3"));
        assert_eq!(link_next(r#"<https://x.test/a?page=1>; rel="prev""#), None);
        assert_eq!(
            link_next("</a?page=2>; rel=next").as_deref(),
            Some("/a?page=2")
        );
    }

    #[test]
    fn extracts_items_at_pointer() {
        let e = items_at::<u32>("/a/b", false);
        let v: Value = serde_json::json!({"a": {"b": [1, 2]}});
        assert_eq!(e(&v).unwrap(), vec![1, 2]);
        assert!(e(&serde_json::json!({})).is_err());
        let e = items_at::<u32>("/a/b", true);
        assert_eq!(e(&serde_json::json!({})).unwrap(), Vec::<u32>::new());
    }
}
