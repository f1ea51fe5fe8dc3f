//! The connector registry builds every app from the `idgraph.toml` section the simulators print
//! (`idgraph_config`), and each reads its simulator completely: what `idgraph demo` and a user
//! following `idgraph sim --config-out` rely on.

use crate::compliance;
use idgraph_connectors::read_all;
use idgraph_connectors::registry::{self, BuildOptions};
use idgraph_sim::common::App;
use idgraph_sim::serve;

#[tokio::test]
async fn every_simulator_section_builds_a_connector_that_reads_everything() {
    let mut cfg = compliance::sim_config(App::Freshservice, 120);
    cfg.apps = App::ALL.to_vec();
    cfg.time_scale = 0.0;
    let sims = serve::start(cfg).await.unwrap();
    let ctx = compliance::context_on_frozen_sim_time(&sims);
    let tokens = tempfile::tempdir().unwrap();
    let opts = BuildOptions {
        token_dir: tokens.path().to_path_buf(),
    };
    for app in App::ALL {
        let section = sims.info.apps[&app].idgraph_config.clone();
        let connector = registry::build(app.as_str(), app.as_str(), section, &ctx, &opts)
            .unwrap_or_else(|e| panic!("{app}: {e}"));
        assert_eq!(connector.app(), app.as_str());
        let snap = read_all(connector.as_ref(), None)
            .await
            .unwrap_or_else(|e| panic!("{app}: {e}"));
        let visible = sims
            .company
            .accounts_of(app)
            .filter(|a| {
                a.status != idgraph_sim::company::SeedStatus::Inactive || app != App::Helpscout
            })
            .count();
        assert!(
            snap.accounts.len() >= visible,
            "{app}: {} accounts listed, the company has {visible} visible",
            snap.accounts.len()
        );
    }
    // OAuth apps kept their tokens in the token directory (FreshBooks rotated its refresh token).
    assert!(tokens.path().join("freshbooks.tokens.json").exists());
    assert!(tokens.path().join("helpscout.tokens.json").exists());
}
