//! Freshsales SCIM 2.0 (`/scim/v2`): a [`ScimBackend`] over the tenant's users and roles,
//! with its own bearer token and its own string ids, offered only on the Enterprise plan with
//! SAML SSO configured. Groups are Freshsales roles.

use super::Tenant;
use crate::common::PlanTier;
use crate::scim_server::{ScimBackend, ScimError};
use serde_json::Value;
use std::sync::Arc;

/// The SCIM view of a Freshsales tenant.
pub struct FreshsalesScim(pub Arc<Tenant>);

impl ScimBackend for FreshsalesScim {
    fn availability(&self) -> Result<(), ScimError> {
        let o = &self.0.env.options;
        if o.plan != PlanTier::Enterprise {
            return Err(ScimError::new(
                403,
                None,
                format!(
                    "SCIM provisioning requires the Freshsales Enterprise plan (this account is on {})",
                    o.plan
                ),
            ));
        }
        if !o.sso {
            return Err(ScimError::new(
                403,
                None,
                "SCIM provisioning requires SAML SSO to be configured for this account (Admin > Security)",
            ));
        }
        Ok(())
    }

    fn check_token(&self, token: &str) -> bool {
        token == self.0.scim_token
    }

    fn list_users(&self) -> Vec<Value> {
        self.0.store.read().scim_users()
    }

    fn users_page(&self, skip: usize, take: usize) -> (Vec<Value>, usize) {
        self.0.store.read().scim_users_page(skip, take)
    }

    fn get_user(&self, id: &str) -> Option<Value> {
        self.0.store.read().scim_get_user(id)
    }

    fn create_user(&self, resource: Value) -> Result<Value, ScimError> {
        let now = self.0.env.clock.now();
        self.0.store.write().scim_create_user(&resource, now)
    }

    fn replace_user(&self, id: &str, resource: Value) -> Result<Value, ScimError> {
        let now = self.0.env.clock.now();
        self.0.store.write().scim_replace_user(id, &resource, now)
    }

    fn delete_user(&self, id: &str) -> Result<(), ScimError> {
        let now = self.0.env.clock.now();
        self.0.store.write().scim_delete_user(id, now)
    }

    fn list_groups(&self) -> Vec<Value> {
        self.0.store.read().scim_groups()
    }

    fn get_group(&self, id: &str) -> Option<Value> {
        self.0.store.read().scim_get_group(id)
    }

    fn create_group(&self, resource: Value) -> Result<Value, ScimError> {
        let now = self.0.env.clock.now();
        self.0.store.write().scim_create_group(&resource, now)
    }

    fn replace_group(&self, id: &str, resource: Value) -> Result<Value, ScimError> {
        let now = self.0.env.clock.now();
        self.0.store.write().scim_replace_group(id, &resource, now)
    }

    fn delete_group(&self, id: &str) -> Result<(), ScimError> {
        let now = self.0.env.clock.now();
        self.0.store.write().scim_delete_group(id, now)
    }
}

/// The router served at `/scim/v2`: the generic SCIM server over this tenant.
pub fn router(backend: Arc<dyn ScimBackend>, tls: bool) -> axum::Router {
    crate::scim_server::router_with_tls(backend, tls)
}
