//! Connectors: one folder per app, each turning a vendor's API into core records
//! ([`idgraph_core::Record`]: accounts, entitlements, grants) with the vendor's raw record kept.
//!
//! A connector exposes named resources (agents, requesters, roles…) that the sync engine fetches
//! page by page through [`Connector::fetch`], carrying an opaque, serialisable cursor between
//! pages so that a sync killed mid-way resumes where it stopped. [`read_all`] walks every
//! resource to the end (tests, benchmarks, one-shot reads).

pub mod common;
pub mod connector;
pub mod context;

pub mod freshbooks;
pub mod freshdesk;
pub mod freshsales;
pub mod freshservice;
pub mod helpscout;
pub mod registry;
pub mod scim;

pub use connector::{
    read_all, Capabilities, Connector, ConnectorError, Cursor, GrantScope, Page, ResourceSpec,
    Snapshot,
};
pub use context::ConnectorContext;
