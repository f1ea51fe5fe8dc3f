//! SCIM wire types (RFC 7643 resources, RFC 7644 messages) as serde structs.
//!
//! Input is lenient, because real identity providers and SaaS apps bend the RFC: `schemas` may
//! be missing, `active` and `primary` may arrive as the strings `"True"`/`"False"`, list
//! counters and `status` may be strings or numbers, `Operations` may be spelled `operations`
//! and PATCH `op` names may be capitalised (`Replace`). Output follows the RFC. Attributes these
//! structs do not name are kept in `extra` and written back, so nothing is lost in a round trip.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};
use std::fmt;

/// A User resource (RFC 7643 §4.1).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(default, deserialize_with = "vec_or_null")]
    pub schemas: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Required by the RFC; an absent `userName` reads as empty so a lenient client can still
    /// see the rest of the resource.
    #[serde(default)]
    pub user_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Name>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub emails: Vec<Email>,
    /// `true`, `false`, `"True"`, `"False"` (any case) are accepted on input.
    #[serde(
        default,
        deserialize_with = "lenient_opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub active: Option<bool>,
    #[serde(
        default,
        deserialize_with = "vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub groups: Vec<GroupRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Every other attribute (extensions, `phoneNumbers`, `roles`, …), kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl User {
    /// A new user with the core schema and `userName` set.
    pub fn new(user_name: impl Into<String>) -> Self {
        Self {
            schemas: vec![crate::USER_SCHEMA.to_string()],
            user_name: user_name.into(),
            ..Self::default()
        }
    }

    /// The `primary` email, else the first one.
    pub fn primary_email(&self) -> Option<&str> {
        self.emails
            .iter()
            .find(|e| e.primary == Some(true))
            .or_else(|| self.emails.first())
            .map(|e| e.value.as_str())
    }
}

/// The `name` complex attribute of a User.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Name {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One value of the multi-valued `emails` attribute.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Email {
    #[serde(default)]
    pub value: String,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `true` or `"True"` on input.
    #[serde(
        default,
        deserialize_with = "lenient_opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub primary: Option<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Email {
    /// A `work` email.
    pub fn work(value: impl Into<String>, primary: bool) -> Self {
        Self {
            value: value.into(),
            kind: Some("work".to_string()),
            primary: Some(primary),
            extra: Map::new(),
        }
    }
}

/// A reference to another resource: a Group's `members` value or a User's `groups` value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// The `id` of the referenced resource.
    #[serde(default)]
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    #[serde(default, rename = "$ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Member {
    pub fn new(value: impl Into<String>, display: Option<&str>) -> Self {
        Self {
            value: value.into(),
            display: display.map(str::to_string),
            ..Self::default()
        }
    }
}

/// One value of a User's `groups` attribute: the same shape as a group member.
pub type GroupRef = Member;

/// The `meta` attribute (RFC 7643 §3.1). Timestamps stay strings (RFC 3339, as sent).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A Group resource (RFC 7643 §4.2).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    #[serde(default, deserialize_with = "vec_or_null")]
    pub schemas: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default)]
    pub display_name: String,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub members: Vec<Member>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Group {
    /// A new group with the core schema and `displayName` set.
    pub fn new(display_name: impl Into<String>) -> Self {
        Self {
            schemas: vec![crate::GROUP_SCHEMA.to_string()],
            display_name: display_name.into(),
            ..Self::default()
        }
    }
}

/// A query response (RFC 7644 §3.4.2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "T: Deserialize<'de>"))]
pub struct ListResponse<T> {
    #[serde(default, deserialize_with = "vec_or_null")]
    pub schemas: Vec<String>,
    #[serde(deserialize_with = "lenient_u64")]
    pub total_results: u64,
    #[serde(
        default,
        deserialize_with = "lenient_opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_index: Option<u64>,
    #[serde(
        default,
        deserialize_with = "lenient_opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub items_per_page: Option<u64>,
    /// `Resources` on the wire; `resources` is accepted too; absent means none.
    #[serde(
        rename = "Resources",
        alias = "resources",
        default = "Vec::new",
        deserialize_with = "vec_or_null"
    )]
    pub resources: Vec<T>,
}

impl<T> ListResponse<T> {
    /// One page: `resources` starting at the 1-based `start_index` of `total_results`.
    pub fn new(resources: Vec<T>, total_results: u64, start_index: u64) -> Self {
        Self {
            schemas: vec![crate::LIST_RESPONSE_SCHEMA.to_string()],
            total_results,
            start_index: Some(start_index),
            items_per_page: Some(resources.len() as u64),
            resources,
        }
    }
}

/// A PATCH request body (RFC 7644 §3.5.2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatchOp {
    #[serde(default, deserialize_with = "vec_or_null")]
    pub schemas: Vec<String>,
    #[serde(rename = "Operations", alias = "operations")]
    pub operations: Vec<PatchOperation>,
}

impl PatchOp {
    pub fn new(operations: Vec<PatchOperation>) -> Self {
        Self {
            schemas: vec![crate::PATCH_OP_SCHEMA.to_string()],
            operations,
        }
    }
}

/// One operation of a PATCH request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatchOperation {
    pub op: PatchOpKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

impl PatchOperation {
    pub fn add(path: Option<&str>, value: Value) -> Self {
        Self {
            op: PatchOpKind::Add,
            path: path.map(str::to_string),
            value: Some(value),
        }
    }

    pub fn replace(path: Option<&str>, value: Value) -> Self {
        Self {
            op: PatchOpKind::Replace,
            path: path.map(str::to_string),
            value: Some(value),
        }
    }

    pub fn remove(path: &str) -> Self {
        Self {
            op: PatchOpKind::Remove,
            path: Some(path.to_string()),
            value: None,
        }
    }
}

/// A PATCH operation name, read case-insensitively (Entra ID sends `Replace`, `Add`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PatchOpKind {
    Add,
    Remove,
    Replace,
}

impl PatchOpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PatchOpKind::Add => "add",
            PatchOpKind::Remove => "remove",
            PatchOpKind::Replace => "replace",
        }
    }

    /// `add`, `remove` or `replace` in any case.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "add" => Some(PatchOpKind::Add),
            "remove" => Some(PatchOpKind::Remove),
            "replace" => Some(PatchOpKind::Replace),
            _ => None,
        }
    }
}

impl fmt::Display for PatchOpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for PatchOpKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for PatchOpKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        PatchOpKind::parse(&s).ok_or_else(|| {
            de::Error::custom(format!(
                "unknown PATCH op `{s}` (expected add, remove or replace)"
            ))
        })
    }
}

/// An error body (RFC 7644 §3.12). `status` is a string on the wire; a number is accepted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorResponse {
    #[serde(default, deserialize_with = "vec_or_null")]
    pub schemas: Vec<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scim_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl ErrorResponse {
    pub fn new(status: u16, scim_type: Option<&str>, detail: impl Into<String>) -> Self {
        Self {
            schemas: vec![crate::ERROR_SCHEMA.to_string()],
            status: status.to_string(),
            scim_type: scim_type.map(str::to_string),
            detail: Some(detail.into()),
        }
    }

    /// The HTTP status as a number, when `status` holds one.
    pub fn status_code(&self) -> Option<u16> {
        self.status.trim().parse().ok()
    }
}

/// Reads a boolean the way identity providers send it: `true`, `"True"`, `"false"`, `"FALSE"`.
/// Returns `None` for anything else.
pub fn lenient_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn lenient_opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => lenient_bool(&v).map(Some).ok_or_else(|| {
            de::Error::custom(format!(
                "expected a boolean (true, false, \"True\" or \"False\"), found {v}"
            ))
        }),
    }
}

fn vec_or_null<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

fn u64_of(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = Value::deserialize(d)?;
    u64_of(&v)
        .ok_or_else(|| de::Error::custom(format!("expected a non-negative integer, found {v}")))
}

fn lenient_opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(v) => u64_of(&v).map(Some).ok_or_else(|| {
            de::Error::custom(format!("expected a non-negative integer, found {v}"))
        }),
    }
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        v => Err(de::Error::custom(format!(
            "expected a string or number, found {v}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_round_trip_keeps_unknown_attributes() {
        let input = json!({
            "schemas": [crate::USER_SCHEMA, crate::ENTERPRISE_USER_SCHEMA],
            "id": "u1",
            "externalId": "ext-1",
            "userName": "jane@example.com",
            "name": {"givenName": "Jane", "familyName": "Doe", "formatted": "Jane Doe", "middleName": "Q"},
            "displayName": "Jane Doe",
            "emails": [{"value": "jane@example.com", "type": "work", "primary": true, "display": "J"}],
            "active": true,
            "groups": [{"value": "g1", "display": "Admins", "$ref": "https://x/Groups/g1"}],
            "meta": {"resourceType": "User", "created": "2024-01-01T00:00:00Z",
                     "lastModified": "2024-01-02T00:00:00Z", "location": "https://x/Users/u1", "version": "W/\"1\""},
            "phoneNumbers": [{"value": "+1 555", "type": "work"}],
            crate::ENTERPRISE_USER_SCHEMA: {"employeeNumber": "42"}
        });
        let user: User = serde_json::from_value(input.clone()).unwrap();
        assert_eq!(user.user_name, "jane@example.com");
        assert_eq!(
            user.name.as_ref().unwrap().given_name.as_deref(),
            Some("Jane")
        );
        assert_eq!(user.emails[0].kind.as_deref(), Some("work"));
        assert_eq!(
            user.groups[0].reference.as_deref(),
            Some("https://x/Groups/g1")
        );
        assert_eq!(
            user.meta.as_ref().unwrap().last_modified.as_deref(),
            Some("2024-01-02T00:00:00Z")
        );
        assert!(user.extra.contains_key("phoneNumbers"));
        assert_eq!(serde_json::to_value(&user).unwrap(), input);
    }

    #[test]
    fn user_is_lenient_on_input() {
        let user: User = serde_json::from_value(json!({
            "userName": "a", "active": "False", "emails": [{"value": "a@x", "primary": "True"}],
            "groups": null
        }))
        .unwrap();
        assert!(user.schemas.is_empty());
        assert_eq!(user.active, Some(false));
        assert_eq!(user.emails[0].primary, Some(true));
        assert_eq!(user.primary_email(), Some("a@x"));
        let user: User =
            serde_json::from_value(json!({"userName": "a", "active": "TRUE"})).unwrap();
        assert_eq!(user.active, Some(true));
        let err = serde_json::from_value::<User>(json!({"userName": "a", "active": "maybe"}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected a boolean"), "{err}");
        assert!(err.contains("maybe"), "{err}");
    }

    #[test]
    fn group_and_list_response() {
        let body = json!({
            "schemas": [crate::LIST_RESPONSE_SCHEMA],
            "totalResults": "2",
            "startIndex": 1,
            "itemsPerPage": 2,
            "Resources": [
                {"id": "g1", "displayName": "Admins", "members": [{"value": "u1", "display": "Jane"}]},
                {"id": "g2", "displayName": "Empty", "members": null}
            ]
        });
        let list: ListResponse<Group> = serde_json::from_value(body).unwrap();
        assert_eq!(list.total_results, 2);
        assert_eq!(list.resources[0].members[0].value, "u1");
        assert!(list.resources[1].members.is_empty());
        let out = serde_json::to_value(ListResponse::new(vec![Group::new("A")], 5, 3)).unwrap();
        assert_eq!(out["Resources"][0]["displayName"], "A");
        assert_eq!(out["totalResults"], 5);
        assert_eq!(out["startIndex"], 3);
        assert_eq!(out["itemsPerPage"], 1);
        assert_eq!(out["schemas"][0], crate::LIST_RESPONSE_SCHEMA);
        // Freshsales leaves startIndex/itemsPerPage out; lowercase `resources` is accepted.
        let list: ListResponse<User> = serde_json::from_value(
            json!({"totalResults": 1, "resources": [{"id": "abc", "userName": "j"}]}),
        )
        .unwrap();
        assert_eq!(list.start_index, None);
        assert_eq!(list.resources[0].user_name, "j");
    }

    #[test]
    fn patch_op_reads_entra_spelling() {
        let p: PatchOp = serde_json::from_value(json!({
            "schemas": [crate::PATCH_OP_SCHEMA],
            "Operations": [{"op": "Replace", "path": "active", "value": "False"},
                           {"op": "ADD", "value": {"displayName": "x"}},
                           {"op": "remove", "path": "members[value eq \"u1\"]"}]
        }))
        .unwrap();
        assert_eq!(p.operations[0].op, PatchOpKind::Replace);
        assert_eq!(p.operations[1].op, PatchOpKind::Add);
        assert_eq!(p.operations[2].op, PatchOpKind::Remove);
        let p: PatchOp =
            serde_json::from_value(json!({"operations": [{"op": "add", "value": {}}]})).unwrap();
        assert_eq!(p.operations.len(), 1);
        let out = serde_json::to_value(PatchOp::new(vec![PatchOperation::remove("x")])).unwrap();
        assert_eq!(
            out,
            json!({"schemas": [crate::PATCH_OP_SCHEMA], "Operations": [{"op": "remove", "path": "x"}]})
        );
        let err = serde_json::from_value::<PatchOp>(json!({"Operations": [{"op": "move"}]}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown PATCH op `move`"), "{err}");
    }

    #[test]
    fn error_body_status_is_a_string() {
        let e = ErrorResponse::new(400, Some("invalidFilter"), "bad");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"schemas": [crate::ERROR_SCHEMA], "status": "400", "scimType": "invalidFilter", "detail": "bad"})
        );
        let e: ErrorResponse =
            serde_json::from_value(json!({"status": 404, "detail": "x"})).unwrap();
        assert_eq!(e.status_code(), Some(404));
    }
}
