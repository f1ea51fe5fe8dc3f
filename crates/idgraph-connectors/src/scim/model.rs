//! SCIM resources as received: the RFC 7643 wire types of `idgraph-scim` (lenient on input)
//! next to the JSON exactly as the service sent it, and the reading of a list response's
//! `Resources`.

use idgraph_scim::{Group, User};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// One resource: decoded, and as received (kept as the account's `raw`).
#[derive(Clone, Debug, PartialEq)]
pub struct ScimItem<T> {
    pub raw: Value,
    pub item: T,
}

/// A SCIM User as received.
pub type ScimUser = ScimItem<User>;
/// A SCIM Group as received.
pub type ScimGroup = ScimItem<Group>;

impl<T: DeserializeOwned> ScimItem<T> {
    /// Decodes `raw`; the error names what is wrong.
    pub fn decode(raw: Value) -> Result<Self, String> {
        let item = T::deserialize(&raw).map_err(|e| e.to_string())?;
        Ok(Self { raw, item })
    }
}

/// The resources of one list response (RFC 7644 §3.4.2): `Resources` (or `resources`), each
/// decoded. A response without them is accepted only when `totalResults` says the list is
/// empty (some services leave the attribute out then).
pub fn list_items<T: DeserializeOwned>(body: &Value) -> Result<Vec<ScimItem<T>>, String> {
    let obj = body.as_object().ok_or_else(|| {
        format!(
            "a SCIM list response must be a JSON object, found {}",
            kind_of(body)
        )
    })?;
    let resources = obj
        .get("Resources")
        .or_else(|| obj.get("resources"))
        .filter(|v| !v.is_null());
    let arr = match resources {
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(format!(
                "`Resources` must be an array, found {}",
                kind_of(other)
            ))
        }
        None => {
            let total = obj.get("totalResults").and_then(|t| {
                t.as_u64()
                    .or_else(|| t.as_str().and_then(|s| s.trim().parse().ok()))
            });
            return match total {
                Some(0) => Ok(Vec::new()),
                Some(n) => Err(format!(
                    "no `Resources` in a list response whose totalResults is {n}"
                )),
                None => Err("neither `Resources` nor `totalResults` in the list response".into()),
            };
        }
    };
    arr.iter()
        .enumerate()
        .map(|(i, v)| {
            ScimItem::decode(v.clone()).map_err(|e| {
                let id = v
                    .get("id")
                    .map(|id| format!(" (id {id})"))
                    .unwrap_or_default();
                format!("Resources[{i}]{id}: {e}")
            })
        })
        .collect()
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
