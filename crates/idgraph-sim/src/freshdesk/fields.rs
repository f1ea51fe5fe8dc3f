//! Parsing and validating Freshdesk request bodies the way the API does: the body must be a
//! JSON object, unknown fields are refused (`invalid_field`), wrong types are
//! `datatype_mismatch`, bad values `invalid_value`; every error names its field.

use super::store::{AgentFields, AgentType, ApiError, ContactFields, FieldError};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Parses a request body into a JSON object (`invalid_json` otherwise). An empty body is an
/// empty object.
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::InvalidJson(
            "Request body has invalid json format: a JSON object is expected".to_string(),
        )),
        Err(e) => Err(ApiError::InvalidJson(format!(
            "Request body has invalid json format ({e})"
        ))),
    }
}

struct Reader<'a> {
    obj: &'a Map<String, Value>,
    errors: Vec<FieldError>,
}

impl<'a> Reader<'a> {
    fn new(obj: &'a Map<String, Value>, allowed: &[&str]) -> Self {
        let mut errors = Vec::new();
        for k in obj.keys() {
            if !allowed.contains(&k.as_str()) {
                errors.push(FieldError::new(
                    k,
                    "Unexpected/invalid field in request",
                    "invalid_field",
                ));
            }
        }
        Self { obj, errors }
    }

    fn mismatch(&mut self, key: &str, ty: &str) {
        self.errors.push(FieldError::new(
            key,
            format!("It should be a/an {ty}"),
            "datatype_mismatch",
        ));
    }

    /// A required-if-present, non-null string.
    fn string(&mut self, key: &str) -> Option<String> {
        match self.obj.get(key)? {
            Value::String(s) => Some(s.trim().to_string()),
            _ => {
                self.mismatch(key, "String");
                None
            }
        }
    }

    /// A nullable string: `Some(None)` for null (or an empty string).
    fn nullable_string(&mut self, key: &str) -> Option<Option<String>> {
        match self.obj.get(key)? {
            Value::Null => Some(None),
            Value::String(s) if s.trim().is_empty() => Some(None),
            Value::String(s) => Some(Some(s.trim().to_string())),
            _ => {
                self.mismatch(key, "String");
                None
            }
        }
    }

    fn email(&mut self, key: &str) -> Option<Option<String>> {
        let v = self.nullable_string(key)?;
        if let Some(e) = &v {
            let ok = e
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !e.contains(' '));
            if !ok {
                self.errors.push(FieldError::new(
                    key,
                    "It should be in the 'valid email address' format",
                    "invalid_value",
                ));
                return None;
            }
        }
        Some(v)
    }

    fn boolean(&mut self, key: &str) -> Option<bool> {
        match self.obj.get(key)? {
            Value::Bool(b) => Some(*b),
            _ => {
                self.mismatch(key, "Boolean");
                None
            }
        }
    }

    fn int(&mut self, key: &str) -> Option<i64> {
        match self.obj.get(key)? {
            Value::Number(n) if n.is_i64() => n.as_i64(),
            _ => {
                self.mismatch(key, "Integer");
                None
            }
        }
    }

    fn id_list(&mut self, key: &str) -> Option<Vec<u64>> {
        match self.obj.get(key)? {
            Value::Array(items) => {
                let ids: Option<Vec<u64>> = items.iter().map(Value::as_u64).collect();
                match ids {
                    Some(ids) if ids.iter().all(|i| *i > 0) => Some(ids),
                    _ => {
                        self.mismatch(key, "Array of Positive Integer");
                        None
                    }
                }
            }
            _ => {
                self.mismatch(key, "Array");
                None
            }
        }
    }

    fn string_list(&mut self, key: &str) -> Option<Vec<String>> {
        match self.obj.get(key)? {
            Value::Array(items) => {
                let v: Option<Vec<String>> = items
                    .iter()
                    .map(|i| i.as_str().map(str::to_string))
                    .collect();
                if v.is_none() {
                    self.mismatch(key, "Array of String");
                }
                v
            }
            _ => {
                self.mismatch(key, "Array");
                None
            }
        }
    }

    fn custom_fields(&mut self) -> BTreeMap<String, Value> {
        match self.obj.get("custom_fields") {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Some(_) => {
                self.mismatch("custom_fields", "key/value pair");
                BTreeMap::new()
            }
        }
    }

    fn finish<T>(self, v: T) -> Result<T, ApiError> {
        if self.errors.is_empty() {
            Ok(v)
        } else {
            Err(ApiError::Validation(self.errors))
        }
    }
}

const AGENT_FIELDS: &[&str] = &[
    "name",
    "email",
    "phone",
    "mobile",
    "job_title",
    "language",
    "time_zone",
    "ticket_scope",
    "role_ids",
    "group_ids",
    "skill_ids",
    "type",
    "agent_type",
    "occasional",
    "available",
    "signature",
    "focus_mode",
    "agent_level_id",
    "custom_fields",
];

/// Fields `make_agent` accepts: the agent part only.
const MAKE_AGENT_FIELDS: &[&str] = &[
    "ticket_scope",
    "role_ids",
    "group_ids",
    "skill_ids",
    "type",
    "agent_type",
    "occasional",
    "signature",
    "agent_level_id",
];

/// An agent body (`POST`/`PUT /api/v2/agents`, or `make_agent` when `make_agent` is set).
pub fn agent_fields(obj: &Map<String, Value>, make_agent: bool) -> Result<AgentFields, ApiError> {
    let mut r = Reader::new(
        obj,
        if make_agent {
            MAKE_AGENT_FIELDS
        } else {
            AGENT_FIELDS
        },
    );
    let mut f = AgentFields {
        name: r.string("name"),
        email: r.email("email"),
        phone: r.nullable_string("phone"),
        mobile: r.nullable_string("mobile"),
        job_title: r.nullable_string("job_title"),
        language: r.string("language"),
        time_zone: r.string("time_zone"),
        role_ids: r.id_list("role_ids"),
        group_ids: r.id_list("group_ids"),
        skill_ids: r.id_list("skill_ids"),
        occasional: r.boolean("occasional"),
        available: r.boolean("available"),
        signature: r.nullable_string("signature"),
        focus_mode: r.boolean("focus_mode"),
        custom_fields: r.custom_fields(),
        ..AgentFields::default()
    };
    if let Some(n) = r.int("ticket_scope") {
        if (1..=3).contains(&n) {
            f.ticket_scope = Some(n as u8);
        } else {
            r.errors.push(FieldError::new(
                "ticket_scope",
                "It should be one of these values: '1,2,3'",
                "invalid_value",
            ));
        }
    }
    if let Some(t) = r.string("type") {
        match AgentType::parse(&t) {
            Some(k) => f.kind = Some(k),
            None => r.errors.push(FieldError::new(
                "type",
                "It should be one of these values: 'support_agent,field_agent,collaborator'",
                "invalid_value",
            )),
        }
    }
    if let Some(n) = r.int("agent_type") {
        match AgentType::from_code(n) {
            Some(k) => f.kind = Some(k),
            None => r.errors.push(FieldError::new(
                "agent_type",
                "It should be one of these values: '1,2,3'",
                "invalid_value",
            )),
        }
    }
    if f.name.as_deref() == Some("") {
        r.errors.push(FieldError::new(
            "name",
            "It should not be blank as this is a mandatory field",
            "invalid_value",
        ));
    }
    r.finish(f)
}

const CONTACT_FIELDS: &[&str] = &[
    "name",
    "email",
    "phone",
    "mobile",
    "twitter_id",
    "unique_external_id",
    "other_emails",
    "company_id",
    "view_all_tickets",
    "other_companies",
    "address",
    "avatar",
    "custom_fields",
    "description",
    "job_title",
    "language",
    "tags",
    "time_zone",
];

/// A contact body (`POST`/`PUT /api/v2/contacts`).
pub fn contact_fields(obj: &Map<String, Value>) -> Result<ContactFields, ApiError> {
    let mut r = Reader::new(obj, CONTACT_FIELDS);
    let mut f = ContactFields {
        name: r.string("name"),
        email: r.email("email"),
        phone: r.nullable_string("phone"),
        mobile: r.nullable_string("mobile"),
        twitter_id: r.nullable_string("twitter_id"),
        unique_external_id: r.nullable_string("unique_external_id"),
        job_title: r.nullable_string("job_title"),
        address: r.nullable_string("address"),
        description: r.nullable_string("description"),
        language: r.string("language"),
        time_zone: r.string("time_zone"),
        view_all_tickets: r.boolean("view_all_tickets"),
        tags: r.string_list("tags"),
        other_emails: r.string_list("other_emails"),
        custom_fields: r.custom_fields(),
        ..ContactFields::default()
    };
    match obj.get("company_id") {
        None => {}
        Some(Value::Null) => f.company_id = Some(None),
        Some(v) => match v.as_u64() {
            Some(n) => f.company_id = Some(Some(n)),
            None => r.mismatch("company_id", "Positive Integer"),
        },
    }
    if f.name.as_deref() == Some("") {
        r.errors.push(FieldError::new(
            "name",
            "It should not be blank as this is a mandatory field",
            "invalid_value",
        ));
    }
    r.finish(f)
}
