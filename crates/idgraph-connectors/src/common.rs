//! Pieces every connector uses: one page of a paged list fetched from a serialisable cursor,
//! cursor encoding, vendor timestamps, and error constructors that name the app and resource.
//!
//! A connector's [`crate::Connector::fetch`] serves exactly one page per call, so the sync
//! engine can commit each page with its checkpoint. Simple resources use a bare
//! [`PageCursor`] as their cursor; multi-phase resources (the members of each team, each
//! business) wrap one in their own cursor struct (e.g. `{"team": 3, "page": {"page": 2}}`).

use crate::connector::{ConnectorError, Cursor};
use idgraph_http::{ApiClient, ApiRequest, Extractor, HttpError, PageCursor, PageStyle, Paginator};
use serde::de::DeserializeOwned;
use serde::Serialize;
use time::OffsetDateTime;

/// The items of one page and where the list goes next.
#[derive(Debug)]
pub struct PageOf<T> {
    pub items: Vec<T>,
    /// `None`: the list is done.
    pub next: Option<PageCursor>,
    /// HTTP attempts this page took (retries included).
    pub attempts: u64,
}

/// Fetches the page `at` of the list `request` (a GET with its filters) in `style`.
pub async fn page_of<T>(
    api: &ApiClient,
    request: ApiRequest,
    style: PageStyle,
    extract: Extractor<T>,
    at: PageCursor,
) -> Result<PageOf<T>, HttpError> {
    let mut p = Paginator::resume(api, request, style, extract, at);
    let items = p.next_page().await?.unwrap_or_default();
    Ok(PageOf {
        items,
        next: p.cursor(),
        attempts: p.attempts(),
    })
}

/// Reads a connector cursor (`None`: start from the beginning).
pub fn decode_cursor<C: DeserializeOwned>(
    app: &'static str,
    resource: &str,
    cursor: Option<&Cursor>,
) -> Result<Option<C>, ConnectorError> {
    cursor
        .map(|c| {
            serde_json::from_value(c.clone()).map_err(|e| ConnectorError::Cursor {
                app,
                resource: resource.to_string(),
                detail: format!("{e} in {c}"),
            })
        })
        .transpose()
}

/// Writes a connector cursor.
pub fn encode_cursor<C: Serialize>(c: &C) -> Cursor {
    // Cursor types are plain structs and enums of numbers and strings: serialising cannot fail.
    serde_json::to_value(c).unwrap_or(serde_json::Value::Null)
}

/// An error constructor for `app`'s `resource`: `.map_err(http_err("freshservice", "agents"))`.
pub fn http_err(app: &'static str, resource: &str) -> impl FnOnce(HttpError) -> ConnectorError {
    let resource = resource.to_string();
    move |source| ConnectorError::Http {
        app,
        resource,
        source,
    }
}

/// A vendor answer that does not fit the documented shape.
pub fn decode_err(app: &'static str, resource: &str, detail: impl Into<String>) -> ConnectorError {
    ConnectorError::Decode {
        app,
        resource: resource.to_string(),
        detail: detail.into(),
    }
}

/// A vendor timestamp: RFC 3339 (`2024-01-10T10:00:00Z`, with or without fractional seconds
/// or an offset). `None` for null, absent or unparsable values (vendors leave them out).
pub fn parse_time(v: Option<&serde_json::Value>) -> Option<OffsetDateTime> {
    let s = v?.as_str()?;
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

/// `since` as the vendors' `updated_since` filters take it: RFC 3339 in UTC, whole seconds.
pub fn format_since(t: OffsetDateTime) -> String {
    let t = t
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    #[test]
    fn cursors_round_trip_and_bad_ones_are_named() {
        let c = encode_cursor(&PageCursor::Page(3));
        assert_eq!(
            decode_cursor::<PageCursor>("freshservice", "agents", Some(&c)).unwrap(),
            Some(PageCursor::Page(3))
        );
        assert_eq!(
            decode_cursor::<PageCursor>("freshservice", "agents", None).unwrap(),
            None
        );
        let err = decode_cursor::<PageCursor>("freshservice", "agents", Some(&json!({"x": 1})))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("freshservice") && err.contains("agents"),
            "{err}"
        );
    }

    #[test]
    fn vendor_times_parse_and_since_is_whole_seconds_utc() {
        assert_eq!(
            parse_time(Some(&json!("2024-01-10T10:00:00Z"))),
            Some(datetime!(2024-01-10 10:00 UTC))
        );
        assert_eq!(
            parse_time(Some(&json!("2024-01-10T12:00:00.5+02:00"))),
            Some(datetime!(2024-01-10 10:00:00.5 UTC))
        );
        assert_eq!(parse_time(Some(&json!(null))), None);
        assert_eq!(parse_time(None), None);
        assert_eq!(
            format_since(datetime!(2024-01-10 12:00:00.7 +02:00)),
            "2024-01-10T10:00:00Z"
        );
    }
}
