//! SCIM 2.0 (RFC 7643/7644) without I/O: the wire types of users, groups, list responses,
//! PATCH requests and error bodies ([`types`]), the filter language with a parser, an evaluator
//! over `serde_json::Value` and a renderer ([`filter`]), and a PATCH applier ([`patch`]).
//!
//! The same types serve the simulators' SCIM server and idgraph's SCIM client, so they are
//! lenient on input (the spellings Okta and Entra ID send) and exact on output.

pub mod filter;
pub mod patch;
pub mod types;

pub use filter::{AttrPath, CompareOp, Filter, FilterError, PatchPath};
pub use patch::{apply_operations, apply_patch, PatchError, PatchErrorKind};
pub use types::{
    Email, ErrorResponse, Group, GroupRef, ListResponse, Member, Meta, Name, PatchOp, PatchOpKind,
    PatchOperation, User,
};

/// Schema URN of the core User resource (RFC 7643 §4.1).
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Schema URN of the core Group resource (RFC 7643 §4.2).
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// Schema URN of the enterprise User extension (RFC 7643 §4.3).
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Message URN of a list response (RFC 7644 §3.4.2).
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// Message URN of a PATCH request (RFC 7644 §3.5.2).
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Message URN of an error body (RFC 7644 §3.12).
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// Schema URN of the service provider configuration (RFC 7643 §5).
pub const SERVICE_PROVIDER_CONFIG_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// Schema URN of a resource type description (RFC 7643 §6).
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// Schema URN of a schema description (RFC 7643 §7).
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// The media type of SCIM requests and responses (RFC 7644 §8.1).
pub const MEDIA_TYPE: &str = "application/scim+json";
