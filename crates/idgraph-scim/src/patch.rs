//! The SCIM PATCH applier (RFC 7644 §3.5.2) over a resource held as `serde_json::Value`.
//!
//! Supports `add`, `replace` and `remove` (names matched case-insensitively), with and without
//! `path`, value-filter paths (`members[value eq "u1"]`, `emails[type eq "work"].value`) and the
//! identity-provider quirks seen in the wild:
//! - Entra ID and Okta send booleans as strings (`"active": "False"`); `active` and `primary`
//!   are turned into JSON booleans, anything else there is `invalidValue`;
//! - Entra ID sends path-less `replace` with dotted keys (`{"name.givenName": "X"}`) and
//!   URN-prefixed keys (`{"urn:…:enterprise:2.0:User:department": "X"}`);
//! - Entra ID removes group members with `{"op":"remove","path":"members","value":[{"value":"u1"}]}`,
//!   which removes only the listed members.
//!
//! Operations apply all or nothing: on error the resource is left unchanged. Errors carry the
//! RFC 7644 `scimType` (`noTarget`, `invalidPath`, `invalidValue`, `mutability`) and a detail
//! naming the operation (1-based) and what was wrong.
//!
//! Choices where the RFC is silent: `remove` of something absent is a no-op (so an IdP retry
//! succeeds); `add` with a value filter that matches nothing creates the value from the
//! filter's `eq` conditions (Entra ID adds `emails[type eq "work"].value` this way), while
//! `replace` with a value filter that matches nothing is `noTarget` as the RFC says.

use crate::filter::{get_ci, is_core_urn, AttrPath, CompareOp, Filter, PatchPath};
use crate::types::{lenient_bool, PatchOp, PatchOpKind, PatchOperation};
use serde_json::{Map, Value};

/// The RFC 7644 §3.12 `scimType` of a PATCH failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchErrorKind {
    /// The path selects nothing where something is required.
    NoTarget,
    /// The path cannot be parsed.
    InvalidPath,
    /// The value is missing or has the wrong shape.
    InvalidValue,
    /// The attribute is read-only (`id`, `meta`).
    Mutability,
    /// The request body is not a PATCH request.
    InvalidSyntax,
}

impl PatchErrorKind {
    /// The `scimType` string.
    pub fn scim_type(self) -> &'static str {
        match self {
            PatchErrorKind::NoTarget => "noTarget",
            PatchErrorKind::InvalidPath => "invalidPath",
            PatchErrorKind::InvalidValue => "invalidValue",
            PatchErrorKind::Mutability => "mutability",
            PatchErrorKind::InvalidSyntax => "invalidSyntax",
        }
    }
}

/// Why a PATCH could not be applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct PatchError {
    pub kind: PatchErrorKind,
    /// Names the operation and what was wrong, e.g. `operation 2 (replace
    /// emails[type eq "work"].value): no value of `emails` matches `type eq "work"``.
    pub detail: String,
}

impl PatchError {
    pub fn scim_type(&self) -> &'static str {
        self.kind.scim_type()
    }

    /// Every PATCH failure is a 400 (RFC 7644 §3.12).
    pub fn status(&self) -> u16 {
        400
    }
}

type OpResult<T> = Result<T, (PatchErrorKind, String)>;

/// Applies a PATCH request to `resource` (a JSON object). All or nothing.
pub fn apply_patch(resource: &mut Value, patch: &PatchOp) -> Result<(), PatchError> {
    apply_operations(resource, &patch.operations)
}

/// Applies PATCH operations in order to `resource` (a JSON object). All or nothing.
pub fn apply_operations(resource: &mut Value, ops: &[PatchOperation]) -> Result<(), PatchError> {
    let Some(obj) = resource.as_object() else {
        return Err(PatchError {
            kind: PatchErrorKind::InvalidSyntax,
            detail: "the resource to patch is not a JSON object".to_string(),
        });
    };
    let mut work = obj.clone();
    for (i, op) in ops.iter().enumerate() {
        apply_one(&mut work, op).map_err(|(kind, msg)| PatchError {
            kind,
            detail: format!(
                "operation {} ({} {}): {msg}",
                i + 1,
                op.op,
                op.path.as_deref().unwrap_or("without path")
            ),
        })?;
    }
    *resource = Value::Object(work);
    Ok(())
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

/// A whole extension object addressed by its schema URN, e.g.
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`.
fn is_extension_key(root: &Map<String, Value>, key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    if !lower.starts_with("urn:") || is_core_urn(key) {
        return false;
    }
    let listed = root
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .filter_map(Value::as_str)
                .any(|s| s.eq_ignore_ascii_case(key))
        });
    listed || lower.ends_with(":user") || lower.ends_with(":group")
}

fn apply_one(root: &mut Map<String, Value>, op: &PatchOperation) -> OpResult<()> {
    let Some(path) = op.path.as_deref().map(str::trim).filter(|p| !p.is_empty()) else {
        return match op.op {
            PatchOpKind::Remove => Err((
                PatchErrorKind::NoTarget,
                "`remove` needs a `path` (RFC 7644 §3.5.2.2)".to_string(),
            )),
            PatchOpKind::Add | PatchOpKind::Replace => {
                let value = required_value(op)?;
                let Some(obj) = value.as_object() else {
                    return Err((
                        PatchErrorKind::InvalidValue,
                        format!(
                            "without `path` the `value` must be an object of attributes, found {}",
                            kind_of(value)
                        ),
                    ));
                };
                apply_attributes(root, op.op, None, obj)
            }
        };
    };
    if is_extension_key(root, path) {
        return match op.op {
            PatchOpKind::Remove => {
                if let Some(k) = key_ci(root, path) {
                    root.remove(&k);
                }
                Ok(())
            }
            _ => {
                let value = required_value(op)?;
                let Some(obj) = value.as_object() else {
                    return Err((
                        PatchErrorKind::InvalidValue,
                        format!(
                            "the extension `{path}` takes an object of attributes, found {}",
                            kind_of(value)
                        ),
                    ));
                };
                apply_attributes(root, op.op, Some(path), obj)
            }
        };
    }
    let parsed = PatchPath::parse(path).map_err(|e| {
        (
            PatchErrorKind::InvalidPath,
            format!("path `{path}` is not a valid SCIM path: {e}"),
        )
    })?;
    let value = match op.op {
        PatchOpKind::Remove => op.value.as_ref(),
        _ => Some(required_value(op)?),
    };
    apply_path(root, op.op, &parsed, value)
}

fn required_value(op: &PatchOperation) -> OpResult<&Value> {
    match &op.value {
        Some(v) if !v.is_null() => Ok(v),
        _ => Err((
            PatchErrorKind::InvalidValue,
            format!("`{}` needs a `value`", op.op),
        )),
    }
}

/// Path-less add/replace: each key of `obj` is a path (dotted and URN-prefixed keys included).
fn apply_attributes(
    root: &mut Map<String, Value>,
    kind: PatchOpKind,
    urn: Option<&str>,
    obj: &Map<String, Value>,
) -> OpResult<()> {
    for (k, v) in obj {
        if urn.is_none() {
            if k.eq_ignore_ascii_case("schemas") || k.eq_ignore_ascii_case("meta") {
                continue;
            }
            if k.eq_ignore_ascii_case("id") {
                if root.get("id") == Some(v) {
                    continue;
                }
                return Err((
                    PatchErrorKind::Mutability,
                    format!("`id` is read-only and cannot be changed to {v}"),
                ));
            }
            if is_extension_key(root, k) && v.is_object() {
                if let Some(inner) = v.as_object() {
                    apply_attributes(root, kind, Some(k), inner)?;
                }
                continue;
            }
        }
        let mut path = PatchPath::parse(k).map_err(|e| {
            (
                PatchErrorKind::InvalidPath,
                format!("attribute `{k}` in `value` is not a valid SCIM path: {e}"),
            )
        })?;
        if let Some(urn) = urn {
            path.attr.urn = Some(urn.to_string());
        }
        apply_path(root, kind, &path, Some(v))?;
    }
    Ok(())
}

/// Well-known attribute names in their RFC 7643 spelling, used when a PATCH creates a key.
const CANONICAL: &[&str] = &[
    "userName",
    "externalId",
    "displayName",
    "nickName",
    "profileUrl",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
    "active",
    "password",
    "emails",
    "phoneNumbers",
    "ims",
    "photos",
    "addresses",
    "groups",
    "entitlements",
    "roles",
    "x509Certificates",
    "name",
    "formatted",
    "familyName",
    "givenName",
    "middleName",
    "honorificPrefix",
    "honorificSuffix",
    "members",
    "value",
    "display",
    "type",
    "primary",
    "employeeNumber",
    "costCenter",
    "organization",
    "division",
    "department",
    "manager",
];

fn canonical(name: &str) -> String {
    CANONICAL
        .iter()
        .find(|c| c.eq_ignore_ascii_case(name))
        .map_or_else(|| name.to_string(), |c| (*c).to_string())
}

fn key_ci(map: &Map<String, Value>, name: &str) -> Option<String> {
    if map.contains_key(name) {
        return Some(name.to_string());
    }
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

fn set_ci(map: &mut Map<String, Value>, name: &str, v: Value) {
    let key = key_ci(map, name).unwrap_or_else(|| canonical(name));
    map.insert(key, v);
}

fn remove_ci(map: &mut Map<String, Value>, name: &str) {
    if let Some(k) = key_ci(map, name) {
        map.remove(&k);
    }
}

/// Shallow merge of sub-attributes: those in `v` replace or add, the rest stay.
fn merge(target: &mut Map<String, Value>, v: &Map<String, Value>) {
    for (k, val) in v {
        set_ci(target, k, val.clone());
    }
}

/// Two values of a multi-valued attribute are the same value: equal `value` sub-attributes
/// for complex values, equality otherwise.
fn same_value(a: &Value, b: &Value) -> bool {
    match (get_ci(a, "value"), get_ci(b, "value")) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// `active` and `primary` as JSON booleans, wherever they occur in `v`.
fn coerce(leaf: &str, v: Value) -> OpResult<Value> {
    if leaf.eq_ignore_ascii_case("active") || leaf.eq_ignore_ascii_case("primary") {
        return match lenient_bool(&v) {
            Some(b) => Ok(Value::Bool(b)),
            None => Err((
                PatchErrorKind::InvalidValue,
                format!("`{leaf}` must be true or false (or \"True\"/\"False\"), found {v}"),
            )),
        };
    }
    Ok(match v {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|i| coerce("", i))
                .collect::<OpResult<Vec<_>>>()?,
        ),
        Value::Object(obj) => {
            let mut out = Map::new();
            for (k, val) in obj {
                let val = if val.is_object() || val.is_array() {
                    coerce("", val)?
                } else if k.eq_ignore_ascii_case("active") || k.eq_ignore_ascii_case("primary") {
                    coerce(&k, val)?
                } else {
                    val
                };
                out.insert(k, val);
            }
            Value::Object(out)
        }
        other => other,
    })
}

fn check_members(name: &str, v: &Value) -> OpResult<()> {
    if !(name.eq_ignore_ascii_case("members") || name.eq_ignore_ascii_case("groups")) {
        return Ok(());
    }
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    for item in items {
        if !get_ci(item, "value").is_some_and(Value::is_string) {
            return Err((
                PatchErrorKind::InvalidValue,
                format!(
                    "each `{name}` value needs a string `value` (the member's id), found {item}"
                ),
            ));
        }
    }
    Ok(())
}

/// When one value of `arr` was just made primary, the others stop being primary
/// (RFC 7643 §2.4: at most one `primary` true).
fn single_primary(arr: &mut [Value], primary_idx: Option<usize>) {
    let Some(keep) = primary_idx else { return };
    for (i, e) in arr.iter_mut().enumerate() {
        if i != keep {
            if let Value::Object(o) = e {
                if let Some(k) = key_ci(o, "primary") {
                    if o.get(&k) == Some(&Value::Bool(true)) {
                        o.insert(k, Value::Bool(false));
                    }
                }
            }
        }
    }
}

fn is_primary(v: &Value) -> bool {
    get_ci(v, "primary") == Some(&Value::Bool(true))
}

fn apply_path(
    root: &mut Map<String, Value>,
    kind: PatchOpKind,
    path: &PatchPath,
    value: Option<&Value>,
) -> OpResult<()> {
    let attr = &path.attr;
    if attr.is_core()
        && (attr.name.eq_ignore_ascii_case("id") || attr.name.eq_ignore_ascii_case("meta"))
    {
        return Err((
            PatchErrorKind::Mutability,
            format!("`{}` is read-only (RFC 7643 §3.1)", attr.name),
        ));
    }
    let leaf = path
        .sub_attr
        .as_deref()
        .or(attr.sub_attr.as_deref())
        .unwrap_or(&attr.name);
    let value = match value {
        Some(v) => Some(coerce(leaf, v.clone())?),
        None => None,
    };
    if kind != PatchOpKind::Remove && path.sub_attr.is_none() && attr.sub_attr.is_none() {
        if let Some(v) = &value {
            check_members(&attr.name, v)?;
        }
    }

    // The object holding the attribute: the resource, or an extension object.
    let container: &mut Map<String, Value> = match &attr.urn {
        Some(urn) if !is_core_urn(urn) => {
            let key = match key_ci(root, urn) {
                Some(k) => k,
                None if kind == PatchOpKind::Remove => return Ok(()),
                None => {
                    let schemas = root
                        .entry("schemas")
                        .or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(s) = schemas {
                        if !s
                            .iter()
                            .any(|x| x.as_str().is_some_and(|x| x.eq_ignore_ascii_case(urn)))
                        {
                            s.push(Value::String(urn.clone()));
                        }
                    }
                    root.insert(urn.clone(), Value::Object(Map::new()));
                    urn.clone()
                }
            };
            let slot = root.entry(key).or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            match slot {
                Value::Object(o) => o,
                _ => return Ok(()),
            }
        }
        _ => root,
    };

    match (&path.filter, &attr.sub_attr) {
        (Some(filter), _) => apply_filtered(
            container,
            kind,
            attr,
            filter,
            path.sub_attr.as_deref(),
            value,
        ),
        (None, Some(sub)) => apply_sub(container, kind, &attr.name, sub, value),
        (None, None) => apply_plain(container, kind, &attr.name, value),
    }
}

/// `name` (no filter, no sub-attribute).
fn apply_plain(
    container: &mut Map<String, Value>,
    kind: PatchOpKind,
    name: &str,
    value: Option<Value>,
) -> OpResult<()> {
    let key = key_ci(container, name);
    match kind {
        PatchOpKind::Remove => {
            let Some(key) = key else { return Ok(()) };
            match (container.get_mut(&key), value) {
                // Entra ID: remove only the listed members.
                (Some(Value::Array(arr)), Some(Value::Array(vals))) => {
                    arr.retain(|e| !vals.iter().any(|v| same_value(e, v)));
                    if arr.is_empty() {
                        container.remove(&key);
                    }
                }
                (Some(Value::Array(arr)), Some(v @ Value::Object(_))) => {
                    arr.retain(|e| !same_value(e, &v));
                    if arr.is_empty() {
                        container.remove(&key);
                    }
                }
                _ => {
                    container.remove(&key);
                }
            }
            Ok(())
        }
        PatchOpKind::Add | PatchOpKind::Replace => {
            let Some(v) = value else {
                return Err((
                    PatchErrorKind::InvalidValue,
                    format!("`{kind}` needs a `value`"),
                ));
            };
            let existing = key.as_ref().and_then(|k| container.get_mut(k));
            match existing {
                Some(Value::Array(arr)) if kind == PatchOpKind::Add => {
                    let items = match v {
                        Value::Array(a) => a,
                        other => vec![other],
                    };
                    for item in items {
                        let primary = is_primary(&item);
                        if let Some(pos) = arr.iter().position(|e| same_value(e, &item)) {
                            if item.is_object() {
                                arr[pos] = item;
                            }
                            if primary {
                                single_primary(arr, Some(pos));
                            }
                        } else {
                            arr.push(item);
                            if primary {
                                let last = arr.len() - 1;
                                single_primary(arr, Some(last));
                            }
                        }
                    }
                }
                Some(Value::Object(obj)) if v.is_object() => {
                    if let Value::Object(vo) = &v {
                        merge(obj, vo);
                    }
                }
                Some(slot) => *slot = v,
                None => {
                    container.insert(canonical(name), v);
                }
            }
            Ok(())
        }
    }
}

/// `name.sub` (no filter).
fn apply_sub(
    container: &mut Map<String, Value>,
    kind: PatchOpKind,
    name: &str,
    sub: &str,
    value: Option<Value>,
) -> OpResult<()> {
    let key = key_ci(container, name);
    match kind {
        PatchOpKind::Remove => {
            let Some(key) = key else { return Ok(()) };
            let now_empty = match container.get_mut(&key) {
                Some(Value::Object(o)) => {
                    remove_ci(o, sub);
                    o.is_empty()
                }
                Some(Value::Array(arr)) => {
                    for e in arr.iter_mut() {
                        if let Value::Object(o) = e {
                            remove_ci(o, sub);
                        }
                    }
                    arr.retain(|e| e.as_object().is_none_or(|o| !o.is_empty()));
                    arr.is_empty()
                }
                _ => false,
            };
            if now_empty {
                container.remove(&key);
            }
            Ok(())
        }
        PatchOpKind::Add | PatchOpKind::Replace => {
            let Some(v) = value else {
                return Err((
                    PatchErrorKind::InvalidValue,
                    format!("`{kind}` needs a `value`"),
                ));
            };
            let key = key.unwrap_or_else(|| canonical(name));
            let slot = container.entry(key).or_insert(Value::Null);
            match slot {
                Value::Array(arr) if !arr.is_empty() => {
                    for e in arr.iter_mut() {
                        if let Value::Object(o) = e {
                            set_ci(o, sub, v.clone());
                        }
                    }
                }
                Value::Array(arr) => {
                    let mut o = Map::new();
                    o.insert(canonical(sub), v);
                    arr.push(Value::Object(o));
                }
                Value::Object(o) => set_ci(o, sub, v),
                other => {
                    let mut o = Map::new();
                    o.insert(canonical(sub), v);
                    *other = Value::Object(o);
                }
            }
            Ok(())
        }
    }
}

/// A new value of a multi-valued attribute built from `a eq x and b eq y` conditions.
fn element_from_filter(f: &Filter, out: &mut Map<String, Value>) -> bool {
    match f {
        Filter::Compare(p, CompareOp::Eq, v) if p.is_core() && p.sub_attr.is_none() => {
            out.insert(canonical(&p.name), v.clone());
            true
        }
        Filter::And(a, b) => element_from_filter(a, out) && element_from_filter(b, out),
        _ => false,
    }
}

/// `name[filter]` or `name[filter].sub`.
fn apply_filtered(
    container: &mut Map<String, Value>,
    kind: PatchOpKind,
    attr: &AttrPath,
    filter: &Filter,
    sub: Option<&str>,
    value: Option<Value>,
) -> OpResult<()> {
    let name = attr.name.as_str();
    let key = key_ci(container, name);
    let matched: Vec<usize> = match key.as_ref().and_then(|k| container.get(k)) {
        Some(Value::Array(arr)) => arr
            .iter()
            .enumerate()
            .filter(|(_, e)| filter.matches_value(e, name))
            .map(|(i, _)| i)
            .collect(),
        Some(other) if !other.is_null() => {
            return Err((
                PatchErrorKind::InvalidPath,
                format!(
                    "a value filter needs a multi-valued attribute, but `{name}` is {}",
                    kind_of(other)
                ),
            ))
        }
        _ => Vec::new(),
    };
    match kind {
        PatchOpKind::Remove => {
            let Some(key) = key else { return Ok(()) };
            if let Some(Value::Array(arr)) = container.get_mut(&key) {
                for &i in matched.iter().rev() {
                    match sub {
                        Some(s) => {
                            if let Some(Value::Object(o)) = arr.get_mut(i) {
                                remove_ci(o, s);
                            }
                        }
                        None => {
                            arr.remove(i);
                        }
                    }
                }
                if arr.is_empty() {
                    container.remove(&key);
                }
            }
            Ok(())
        }
        PatchOpKind::Add | PatchOpKind::Replace => {
            let Some(v) = value else {
                return Err((
                    PatchErrorKind::InvalidValue,
                    format!("`{kind}` needs a `value`"),
                ));
            };
            if sub.is_none() && !v.is_object() {
                return Err((
                    PatchErrorKind::InvalidValue,
                    format!(
                        "a value of `{name}` must be an object of sub-attributes, found {}",
                        kind_of(&v)
                    ),
                ));
            }
            if matched.is_empty() {
                if kind == PatchOpKind::Replace {
                    return Err((
                        PatchErrorKind::NoTarget,
                        format!("no value of `{name}` matches `{filter}`"),
                    ));
                }
                let mut new = Map::new();
                if !element_from_filter(filter, &mut new) {
                    return Err((
                        PatchErrorKind::NoTarget,
                        format!(
                            "no value of `{name}` matches `{filter}`, and a new one can only be built from `eq` conditions joined by `and`"
                        ),
                    ));
                }
                match (sub, &v) {
                    (Some(s), _) => set_ci(&mut new, s, v.clone()),
                    (None, Value::Object(vo)) => merge(&mut new, vo),
                    _ => {}
                }
                let primary = new.get("primary") == Some(&Value::Bool(true));
                let key = key.unwrap_or_else(|| canonical(name));
                let slot = container
                    .entry(key)
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(arr) = slot {
                    arr.push(Value::Object(new));
                    if primary {
                        let last = arr.len() - 1;
                        single_primary(arr, Some(last));
                    }
                } else {
                    *slot = Value::Array(vec![Value::Object(new)]);
                }
                return Ok(());
            }
            let Some(key) = key else { return Ok(()) };
            if let Some(Value::Array(arr)) = container.get_mut(&key) {
                let mut made_primary = None;
                for &i in &matched {
                    let Some(elem) = arr.get_mut(i) else { continue };
                    match (sub, &v) {
                        (Some(s), _) => {
                            if let Value::Object(o) = elem {
                                set_ci(o, s, v.clone());
                            }
                        }
                        (None, Value::Object(vo)) => {
                            if kind == PatchOpKind::Replace {
                                *elem = Value::Object(vo.clone());
                            } else if let Value::Object(o) = elem {
                                merge(o, vo);
                            }
                        }
                        _ => {}
                    }
                    if is_primary(elem) {
                        made_primary = Some(i);
                    }
                }
                let touched_primary = sub.is_some_and(|s| s.eq_ignore_ascii_case("primary"))
                    || v.as_object()
                        .is_some_and(|o| key_ci(o, "primary").is_some());
                if touched_primary {
                    single_primary(arr, made_primary);
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "u1",
            "userName": "jane@example.com",
            "name": {"givenName": "Jane", "familyName": "Doe"},
            "active": true,
            "emails": [
                {"value": "jane@work.example", "type": "work", "primary": true},
                {"value": "jane@home.example", "type": "home"}
            ]
        })
    }

    fn group() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "id": "g1",
            "displayName": "Admins",
            "members": [{"value": "u1", "display": "Jane"}, {"value": "u2"}]
        })
    }

    fn patch(resource: &mut Value, ops: Value) -> Result<(), PatchError> {
        let p: PatchOp = serde_json::from_value(json!({"Operations": ops})).unwrap();
        apply_patch(resource, &p)
    }

    fn ok(mut resource: Value, ops: Value) -> Value {
        patch(&mut resource, ops).unwrap();
        resource
    }

    fn fail(mut resource: Value, ops: Value) -> PatchError {
        let before = resource.clone();
        let e = patch(&mut resource, ops).unwrap_err();
        assert_eq!(
            resource, before,
            "a failed PATCH leaves the resource unchanged"
        );
        e
    }

    #[test]
    fn replace_with_path() {
        let u = ok(
            user(),
            json!([{"op": "replace", "path": "userName", "value": "j@x"}]),
        );
        assert_eq!(u["userName"], "j@x");
        let u = ok(
            user(),
            json!([{"op": "replace", "path": "name.givenName", "value": "Janet"}]),
        );
        assert_eq!(
            u["name"],
            json!({"givenName": "Janet", "familyName": "Doe"})
        );
        // Complex attribute: sub-attributes merge.
        let u = ok(
            user(),
            json!([{"op": "replace", "path": "name", "value": {"familyName": "Roe"}}]),
        );
        assert_eq!(u["name"], json!({"givenName": "Jane", "familyName": "Roe"}));
        // Multi-valued without filter: replaced wholesale.
        let u = ok(
            user(),
            json!([{"op": "replace", "path": "emails", "value": [{"value": "n@x"}]}]),
        );
        assert_eq!(u["emails"], json!([{"value": "n@x"}]));
        // Missing attribute: replace acts as add.
        let u = ok(
            user(),
            json!([{"op": "replace", "path": "title", "value": "CTO"}]),
        );
        assert_eq!(u["title"], "CTO");
        // Attribute names are case-insensitive; the existing key keeps its spelling.
        let u = ok(
            user(),
            json!([{"op": "replace", "path": "USERNAME", "value": "k"}]),
        );
        assert_eq!(u["userName"], "k");
        assert!(u.get("USERNAME").is_none());
        let u = ok(
            user(),
            json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:displayName", "value": "JD"}]),
        );
        assert_eq!(u["displayName"], "JD");
    }

    #[test]
    fn op_names_are_case_insensitive() {
        let u = ok(
            user(),
            json!([{"op": "Replace", "path": "userName", "value": "a"},
                                  {"op": "Add", "path": "title", "value": "b"},
                                  {"op": "REMOVE", "path": "name"}]),
        );
        assert_eq!(
            (u["userName"].as_str(), u["title"].as_str()),
            (Some("a"), Some("b"))
        );
        assert!(u.get("name").is_none());
    }

    #[test]
    fn replace_without_path_and_entra_dotted_keys() {
        let u = ok(
            user(),
            json!([{"op": "replace", "value": {
                "name.givenName": "Janet", "displayName": "JD", "active": "False",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Ops"
            }}]),
        );
        assert_eq!(u["name"]["givenName"], "Janet");
        assert_eq!(u["name"]["familyName"], "Doe");
        assert_eq!(u["displayName"], "JD");
        assert_eq!(u["active"], json!(false));
        assert_eq!(
            u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"],
            "Ops"
        );
        assert!(u["schemas"].as_array().unwrap().contains(&json!(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        )));
        // Okta: the whole extension object without path.
        let u = ok(
            user(),
            json!([{"op": "replace", "value": {
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "7"}
            }}]),
        );
        assert_eq!(
            u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["employeeNumber"],
            "7"
        );
        // id/schemas/meta in a path-less value: the same id is ignored.
        let u = ok(
            user(),
            json!([{"op": "replace", "value": {"id": "u1", "meta": {}, "userName": "z"}}]),
        );
        assert_eq!(u["userName"], "z");
    }

    #[test]
    fn active_as_string_quirk() {
        let u = ok(
            user(),
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        );
        assert_eq!(u["active"], json!(false));
        let u = ok(
            u,
            json!([{"op": "replace", "path": "active", "value": "True"}]),
        );
        assert_eq!(u["active"], json!(true));
        let u = ok(
            user(),
            json!([{"op": "replace", "value": {"active": "false"}}]),
        );
        assert_eq!(u["active"], json!(false));
        let u = ok(
            user(),
            json!([{"op": "add", "path": "emails", "value": [{"value": "p@x", "primary": "True"}]}]),
        );
        assert_eq!(u["emails"][2]["primary"], json!(true));
        let e = fail(
            user(),
            json!([{"op": "replace", "path": "active", "value": "nope"}]),
        );
        assert_eq!(e.scim_type(), "invalidValue");
        assert!(e.detail.contains("`active` must be true or false"), "{e}");
        assert!(e.detail.starts_with("operation 1 (replace active)"), "{e}");
    }

    #[test]
    fn add_with_and_without_path() {
        let u = ok(
            user(),
            json!([{"op": "add", "path": "nickName", "value": "JJ"}]),
        );
        assert_eq!(u["nickName"], "JJ");
        // Multi-valued: appended, duplicates skipped.
        let u = ok(
            user(),
            json!([{"op": "add", "path": "emails", "value": [
            {"value": "jane@home.example", "type": "home"}, {"value": "new@x", "type": "other"}]}]),
        );
        assert_eq!(u["emails"].as_array().unwrap().len(), 3);
        // A new primary value demotes the old one.
        let u = ok(
            user(),
            json!([{"op": "add", "path": "emails", "value": [{"value": "p@x", "primary": true}]}]),
        );
        assert_eq!(u["emails"][0]["primary"], json!(false));
        assert_eq!(u["emails"][2]["primary"], json!(true));
        // Without path: attributes merged in; multi-valued ones appended.
        let u = ok(
            user(),
            json!([{"op": "add", "value": {"title": "Eng", "emails": [{"value": "x@y"}], "name": {"middleName": "Q"}}}]),
        );
        assert_eq!(u["title"], "Eng");
        assert_eq!(u["emails"].as_array().unwrap().len(), 3);
        assert_eq!(
            u["name"],
            json!({"givenName": "Jane", "familyName": "Doe", "middleName": "Q"})
        );
        // Extension object by URN path.
        let u = ok(
            user(),
            json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                                   "value": {"manager": {"value": "u9"}}}]),
        );
        assert_eq!(
            u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["manager"]["value"],
            "u9"
        );
    }

    #[test]
    fn value_filter_paths() {
        let u = ok(
            user(),
            json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@work"}]),
        );
        assert_eq!(u["emails"][0]["value"], "new@work");
        assert_eq!(u["emails"][1]["value"], "jane@home.example");
        // Filters on values compare case-insensitively.
        let u = ok(
            user(),
            json!([{"op": "replace", "path": "emails[type eq \"WORK\"]", "value": {"value": "w@x", "type": "work"}}]),
        );
        assert_eq!(u["emails"][0], json!({"value": "w@x", "type": "work"}));
        let u = ok(
            user(),
            json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]),
        );
        assert_eq!(u["emails"].as_array().unwrap().len(), 1);
        let u = ok(
            user(),
            json!([{"op": "remove", "path": "emails[type eq \"work\"].primary"}]),
        );
        assert!(u["emails"][0].get("primary").is_none());
        // add with a filter that matches nothing creates the value (Entra ID).
        let u = ok(
            user(),
            json!([{"op": "add", "path": "emails[type eq \"other\"].value", "value": "o@x"}]),
        );
        assert_eq!(u["emails"][2], json!({"type": "other", "value": "o@x"}));
        let u = ok(
            json!({"id": "u1", "userName": "a"}),
            json!([{"op": "add", "path": "emails[type eq \"work\"].value", "value": "w@x"}]),
        );
        assert_eq!(u["emails"], json!([{"type": "work", "value": "w@x"}]));
        // Setting primary through a filter demotes the others.
        let u = ok(
            user(),
            json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}]),
        );
        assert_eq!(u["emails"][0]["primary"], json!(false));
        assert_eq!(u["emails"][1]["primary"], json!(true));
    }

    #[test]
    fn group_members() {
        let g = ok(
            group(),
            json!([{"op": "add", "path": "members", "value": [{"value": "u3"}, {"value": "u1"}]}]),
        );
        assert_eq!(
            g["members"].as_array().unwrap().len(),
            3,
            "u1 not duplicated"
        );
        let g = ok(
            group(),
            json!([{"op": "remove", "path": "members[value eq \"u1\"]"}]),
        );
        assert_eq!(g["members"], json!([{"value": "u2"}]));
        // Entra ID: remove with a value list removes only those.
        let g = ok(
            group(),
            json!([{"op": "Remove", "path": "members", "value": [{"value": "u2"}]}]),
        );
        assert_eq!(g["members"], json!([{"value": "u1", "display": "Jane"}]));
        // Removing all members leaves the attribute unassigned.
        let g = ok(group(), json!([{"op": "remove", "path": "members"}]));
        assert!(g.get("members").is_none());
        let g = ok(
            group(),
            json!([{"op": "remove", "path": "members[value eq \"u1\"]"},
                                   {"op": "remove", "path": "members[value eq \"u2\"]"}]),
        );
        assert!(g.get("members").is_none());
        // Okta: path-less add of members to an empty group.
        let g = ok(
            json!({"id": "g2", "displayName": "E"}),
            json!([{"op": "add", "value": {"members": [{"value": "u5"}]}}]),
        );
        assert_eq!(g["members"], json!([{"value": "u5"}]));
        // Replace members wholesale, rename.
        let g = ok(
            group(),
            json!([{"op": "replace", "path": "members", "value": [{"value": "u7"}]},
                                   {"op": "replace", "value": {"displayName": "Ops"}}]),
        );
        assert_eq!(
            (g["members"].clone(), g["displayName"].clone()),
            (json!([{"value": "u7"}]), json!("Ops"))
        );
        // Removing an absent member is a no-op.
        let g = ok(
            group(),
            json!([{"op": "remove", "path": "members[value eq \"nobody\"]"}]),
        );
        assert_eq!(g, group());
        let e = fail(
            group(),
            json!([{"op": "add", "path": "members", "value": [{"display": "no id"}]}]),
        );
        assert_eq!(e.scim_type(), "invalidValue");
        assert!(e.detail.contains("string `value`"), "{e}");
        let e = fail(
            group(),
            json!([{"op": "add", "path": "members", "value": ["u1"]}]),
        );
        assert_eq!(e.scim_type(), "invalidValue");
    }

    #[test]
    fn remove_paths() {
        let u = ok(user(), json!([{"op": "remove", "path": "name.givenName"}]));
        assert_eq!(u["name"], json!({"familyName": "Doe"}));
        let u = ok(u, json!([{"op": "remove", "path": "name.familyName"}]));
        assert!(
            u.get("name").is_none(),
            "an emptied complex attribute is unassigned"
        );
        let u = ok(user(), json!([{"op": "remove", "path": "title"}]));
        assert_eq!(u, user(), "removing an absent attribute is a no-op");
        let u = ok(user(), json!([{"op": "remove", "path": "emails"}]));
        assert!(u.get("emails").is_none());
    }

    #[test]
    fn errors() {
        let e = fail(user(), json!([{"op": "remove"}]));
        assert_eq!(e.kind, PatchErrorKind::NoTarget);
        assert!(e.detail.contains("needs a `path`"), "{e}");
        let e = fail(
            user(),
            json!([{"op": "replace", "path": "emails[type eq \"other\"].value", "value": "x"}]),
        );
        assert_eq!(e.scim_type(), "noTarget");
        assert!(
            e.detail
                .contains(r#"no value of `emails` matches `type eq "other"`"#),
            "{e}"
        );
        let e = fail(
            user(),
            json!([{"op": "add", "path": "emails[type co \"zz\"].value", "value": "x"}]),
        );
        assert_eq!(e.scim_type(), "noTarget");
        let e = fail(
            user(),
            json!([{"op": "replace", "path": "emails[type eq ", "value": "x"}]),
        );
        assert_eq!(e.scim_type(), "invalidPath");
        assert!(e.detail.contains("at position 14"), "{e}");
        let e = fail(user(), json!([{"op": "replace", "value": {"bad key": 1}}]));
        assert_eq!(e.scim_type(), "invalidPath");
        assert!(e.detail.contains("`bad key`"), "{e}");
        let e = fail(
            user(),
            json!([{"op": "replace", "path": "id", "value": "u2"}]),
        );
        assert_eq!(e.scim_type(), "mutability");
        assert!(e.detail.contains("`id` is read-only"), "{e}");
        let e = fail(user(), json!([{"op": "replace", "value": {"id": "u2"}}]));
        assert_eq!(e.scim_type(), "mutability");
        let e = fail(user(), json!([{"op": "remove", "path": "meta"}]));
        assert_eq!(e.scim_type(), "mutability");
        let e = fail(user(), json!([{"op": "replace", "path": "userName"}]));
        assert_eq!(e.scim_type(), "invalidValue");
        assert!(e.detail.contains("needs a `value`"), "{e}");
        let e = fail(user(), json!([{"op": "add", "value": "x"}]));
        assert_eq!(e.scim_type(), "invalidValue");
        assert!(e.detail.contains("found a string"), "{e}");
        let e = fail(
            user(),
            json!([{"op": "replace", "path": "name[givenName eq \"Jane\"]", "value": {}}]),
        );
        assert_eq!(e.scim_type(), "invalidPath");
        // The failing operation is named, and earlier ones are rolled back.
        let e = fail(
            user(),
            json!([{"op": "replace", "path": "userName", "value": "ok"},
                                    {"op": "replace", "path": "id", "value": "x"}]),
        );
        assert!(e.detail.starts_with("operation 2 (replace id)"), "{e}");
        assert_eq!(e.status(), 400);
    }
}
