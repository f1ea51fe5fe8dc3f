//! One SCIM 2.0 (RFC 7643/7644) server shared by every simulated app that offers SCIM
//! (Freshservice, Freshdesk, Freshsales, Help Scout).
//!
//! The generic part (this module) does the protocol: ListResponse with `startIndex`/`count`,
//! filters, PATCH, error bodies, bearer-token check and plan/SSO gating. Each app supplies a
//! [`ScimBackend`] over its own records, so a SCIM change shows in the app's REST API and back.

use serde_json::Value;

/// A SCIM error: rendered as an RFC 7644 §3.12 error body with this status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScimError {
    pub status: u16,
    /// RFC 7644 `scimType` (`uniqueness`, `invalidFilter`, `invalidValue`, `mutability`, …).
    pub scim_type: Option<String>,
    pub detail: String,
}

impl ScimError {
    pub fn new(status: u16, scim_type: Option<&str>, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type: scim_type.map(str::to_string),
            detail: detail.into(),
        }
    }

    pub fn not_found(id: &str) -> Self {
        Self::new(404, None, format!("Resource {id} not found"))
    }
}

/// An app's user and group store as SCIM sees it. Resources are SCIM JSON objects
/// (`schemas`, `id`, `userName`, `name`, `emails`, `active`, `externalId`, `groups`, `meta`…).
/// PATCH is applied by the generic server as get → apply → replace.
pub trait ScimBackend: Send + Sync + 'static {
    /// `Ok` when SCIM is offered to this tenant (plan and SSO); otherwise the vendor's refusal.
    fn availability(&self) -> Result<(), ScimError>;
    /// Whether `token` is this tenant's SCIM bearer token (separate from the REST key).
    fn check_token(&self, token: &str) -> bool;

    fn list_users(&self) -> Vec<Value>;
    fn get_user(&self, id: &str) -> Option<Value>;
    fn create_user(&self, resource: Value) -> Result<Value, ScimError>;
    fn replace_user(&self, id: &str, resource: Value) -> Result<Value, ScimError>;
    /// DELETE /Users/{id}: the apps deactivate rather than delete.
    fn delete_user(&self, id: &str) -> Result<(), ScimError>;

    fn list_groups(&self) -> Vec<Value>;
    fn get_group(&self, id: &str) -> Option<Value>;
    fn create_group(&self, resource: Value) -> Result<Value, ScimError>;
    fn replace_group(&self, id: &str, resource: Value) -> Result<Value, ScimError>;
    fn delete_group(&self, id: &str) -> Result<(), ScimError>;
}
