//! The engine against the Freshservice simulator through the real connector: a full sync
//! stores what the connector reads, an unchanged re-sync writes no event, changes made in the
//! app come back as events from an incremental sync (with the watermark the simulator's clock
//! agrees with), and a purged agent goes missing on the next full sync.

use idgraph_connectors::freshservice::{FreshserviceConfig, FreshserviceConnector};
use idgraph_connectors::{read_all, ConnectorContext};
use idgraph_core::diff::EventKind;
use idgraph_core::AccountStatus;
use idgraph_engine::SyncEngine;
use idgraph_http::{ApiClient, ApiConfig, ApiRequest, Secret, StaticAuth};
use idgraph_sim::clock::SimClock;
use idgraph_sim::common::{App, TenantOptions};
use idgraph_sim::company::{AccountKind, SeedStatus};
use idgraph_sim::serve::{self, RunningSims, SimConfig};
use idgraph_store::testing::TestStore;
use idgraph_store::*;
use serde_json::json;
use std::sync::Arc;
use time::macros::datetime;

/// The engine's clock is the simulator's, as a real deployment's is the vendor's (give or
/// take the overlap).
#[derive(Debug)]
struct SimNow(SimClock);

impl idgraph_core::Clock for SimNow {
    fn now(&self) -> time::OffsetDateTime {
        self.0.now()
    }
}

fn control(sims: &RunningSims, ctx: &ConnectorContext) -> ApiClient {
    let account = "sim-control".to_string();
    ctx.http
        .api(ApiConfig::new(
            sims.base_url(App::Freshservice).unwrap(),
            account.clone(),
            Arc::new(StaticAuth::none()),
            ctx.budgets.unlimited(&account),
        ))
        .unwrap()
}

#[tokio::test]
async fn the_freshservice_simulator_syncs_through_its_connector() {
    let cfg = SimConfig {
        seed: 11,
        people: 150,
        anchor: Some(datetime!(2026-06-01 00:00 UTC)),
        time_scale: 0.0,
        apps: vec![App::Freshservice],
        default_options: TenantOptions {
            rate_limits: false,
            ..TenantOptions::default()
        },
        ..SimConfig::default()
    };
    let sims = serve::start(cfg).await.unwrap();
    let mut ctx = ConnectorContext::system().unwrap();
    ctx.pace = false;
    let creds = sims.credentials(App::Freshservice).unwrap();
    let connector = FreshserviceConnector::new(
        FreshserviceConfig {
            base_url: Some(sims.base_url(App::Freshservice).unwrap().to_string()),
            ..FreshserviceConfig::new(
                creds["domain"].as_str().unwrap(),
                Secret::new(creds["api_key"].as_str().unwrap()),
            )
        },
        &ctx,
    )
    .unwrap();
    let db = TestStore::sqlite().await.unwrap();
    let store = db.store.clone();
    let engine = SyncEngine::new(store.clone(), Arc::new(SimNow(sims.clock.clone())));
    let advance = |s| sims.clock.advance(time::Duration::seconds(s));

    let first = engine.sync(&connector, SyncMode::Full).await.unwrap();
    assert!(first.succeeded(), "{:?}", first.errors);
    let snap = read_all(&connector, None).await.unwrap();
    let counts = store.counts().await.unwrap();
    assert_eq!(counts.accounts, snap.accounts.len() as u64);
    assert_eq!(counts.entitlements, snap.entitlements.len() as u64);
    assert_eq!(counts.grants, snap.grants.len() as u64);
    assert!(counts.accounts > 100, "{counts:?}");
    let stored = store.accounts(&AccountFilter::default()).await.unwrap();
    for a in &snap.accounts {
        let s = stored.iter().find(|s| s.account.key == a.key).unwrap();
        assert_eq!(s.account.status, a.status, "{:?}", a.key);
        assert_eq!(s.account.raw, a.raw, "{:?}", a.key);
    }

    advance(60);
    let again = engine.sync(&connector, SyncMode::Full).await.unwrap();
    assert!(again.succeeded());
    assert_eq!(again.run.events, 0, "nothing changed, nothing to say");

    // Changes in the app.
    let agents: Vec<u64> = sims
        .company
        .accounts_of(App::Freshservice)
        .filter(|a| a.kind == AccountKind::Agent && a.status == SeedStatus::Active)
        .map(|a| a.native_id)
        .take(2)
        .collect();
    let (renamed, leaver) = (agents[0], agents[1]);
    let ctl = control(&sims, &ctx);
    advance(60);
    ctl.send(
        ApiRequest::patch(format!("/_sim/records/agents/{renamed}"))
            .json(&json!({"job_title": "Chief Changer"}))
            .unwrap(),
    )
    .await
    .unwrap();
    ctl.send(ApiRequest::post(format!(
        "/_sim/records/agents/{leaver}/deactivate"
    )))
    .await
    .unwrap();
    advance(60);

    let incr = engine
        .sync(&connector, SyncMode::Incremental)
        .await
        .unwrap();
    assert!(incr.succeeded(), "{:?}", incr.errors);
    let agents_res = incr.resources.iter().find(|r| r.name == "agents").unwrap();
    assert!(!agents_res.full && agents_res.since.is_some());
    assert!(
        agents_res.records
            < first
                .resources
                .iter()
                .find(|r| r.name == "agents")
                .unwrap()
                .records,
        "an incremental listing reads only what changed"
    );
    let events = store
        .events(&EventFilter {
            run_id: Some(incr.run.id),
            ..Default::default()
        })
        .await
        .unwrap();
    let about = |id: u64, kind: EventKind| {
        events.iter().any(|e| {
            e.kind == kind
                && e.account.as_ref().map(|k| k.native_id.as_str()) == Some(&*id.to_string())
        })
    };
    assert!(about(leaver, EventKind::AccountDeactivated), "{events:#?}");
    assert!(about(renamed, EventKind::AccountChanged), "{events:#?}");
    let changed = events
        .iter()
        .find(|e| e.kind == EventKind::AccountChanged)
        .unwrap();
    assert_eq!(
        changed.details["fields"]["attributes.job_title"]["new"],
        "Chief Changer"
    );

    // Purged: gone from every listing, so missing after the next full sync.
    ctl.send(ApiRequest::post(format!(
        "/_sim/records/agents/{leaver}/purge"
    )))
    .await
    .unwrap();
    advance(60);
    let full = engine.sync(&connector, SyncMode::Full).await.unwrap();
    assert!(full.succeeded());
    assert_eq!(full.accounts_missing, 1);
    let gone = store
        .accounts(&AccountFilter {
            status: Some(AccountStatus::Missing),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].account.key.native_id, leaver.to_string());
    assert_eq!(gone[0].listed_status, AccountStatus::Inactive);

    sims.shutdown().await;
    db.cleanup().await.unwrap();
}
