//! The five apps served together, as `idgraph sim` does.

use idgraph_sim::common::App;
use idgraph_sim::serve::{self, SimConfig};
use time::macros::datetime;

fn config(dir: &std::path::Path) -> SimConfig {
    SimConfig {
        seed: 42,
        people: 120,
        anchor: Some(datetime!(2026-06-01 00:00 UTC)),
        out_dir: Some(dir.to_path_buf()),
        ..SimConfig::default()
    }
}

#[tokio::test]
async fn serves_all_five_apps_and_writes_roster_and_truth() {
    let dir = tempfile::tempdir().unwrap();
    let sims = serve::start(config(dir.path())).await.unwrap();
    assert_eq!(sims.info.apps.len(), 5);
    let http = reqwest::Client::new();
    for app in App::ALL {
        let base = sims.base_url(app).unwrap();
        assert!(base.starts_with("http://127.0.0.1:"), "{base}");
        let health: serde_json::Value = http
            .get(format!("{base}/_sim/health"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(health["app"], app.as_str());
        assert!(
            sims.credentials(app)
                .unwrap()
                .as_object()
                .is_some_and(|o| !o.is_empty()),
            "{app} prints credentials"
        );
    }
    let roster = std::fs::read_to_string(sims.info.roster_csv.as_ref().unwrap()).unwrap();
    assert_eq!(roster.lines().count(), 121, "header + one row per person");
    let truth: idgraph_sim::company::GroundTruth =
        serde_json::from_slice(&std::fs::read(sims.info.ground_truth.as_ref().unwrap()).unwrap())
            .unwrap();
    assert_eq!(truth.drifts.len(), sims.info.drifts);
    assert!(!truth.drifts.is_empty());
    // The printed object is JSON with every app's URLs.
    let printed = serde_json::to_value(&sims.info).unwrap();
    assert!(printed["apps"]["freshbooks"]["urls"]["token"]
        .as_str()
        .unwrap()
        .ends_with("/auth/oauth/token"));
    sims.shutdown().await;
}

#[tokio::test]
async fn same_seed_same_credentials_and_data() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let one = serve::start(config(a.path())).await.unwrap();
    let two = serve::start(config(b.path())).await.unwrap();
    for app in App::ALL {
        assert_eq!(one.credentials(app), two.credentials(app), "{app}");
    }
    assert_eq!(
        std::fs::read(one.info.ground_truth.as_ref().unwrap()).unwrap(),
        std::fs::read(two.info.ground_truth.as_ref().unwrap()).unwrap()
    );
    one.shutdown().await;
    two.shutdown().await;
}

#[tokio::test]
async fn tls_certificate_covers_localhost_and_vendor_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let sims = serve::start(SimConfig {
        tls: true,
        ..config(dir.path())
    })
    .await
    .unwrap();
    let pem = std::fs::read(sims.info.tls_certificate.as_ref().unwrap()).unwrap();
    let cert = reqwest::Certificate::from_pem(&pem).unwrap();
    let base = sims.base_url(App::Helpscout).unwrap().to_string();
    assert!(base.starts_with("https://127.0.0.1:"));
    let port = base.rsplit(':').next().unwrap().parse::<u16>().unwrap();
    // Trusting only the generated certificate, by IP, by localhost and by the vendor's own
    // host name resolved to 127.0.0.1 (as a client pointed at the simulator through a proxy
    // or a hosts entry would).
    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(cert)
        .resolve(
            "api.helpscout.net",
            std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        )
        .build()
        .unwrap();
    for url in [
        format!("{base}/_sim/health"),
        format!("https://localhost:{port}/_sim/health"),
        format!("https://api.helpscout.net:{port}/_sim/health"),
    ] {
        let resp = client
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        assert!(resp.status().is_success(), "{url}");
    }
    // A client that does not trust the certificate is refused.
    let strict = reqwest::Client::builder().build().unwrap();
    assert!(strict
        .get(format!("{base}/_sim/health"))
        .send()
        .await
        .is_err());
    sims.shutdown().await;
}

#[tokio::test]
async fn freshbooks_offers_no_scim_endpoint() {
    // FreshBooks provisions only through Okta's SWA connector: no SCIM endpoint of its own,
    // unlike the four Freshworks/Help Scout apps.
    let dir = tempfile::tempdir().unwrap();
    let sims = serve::start(config(dir.path())).await.unwrap();
    let http = reqwest::Client::new();
    let fb = sims.base_url(App::Freshbooks).unwrap();
    for path in [
        "/scim/v2/Users",
        "/v2/scim/Users",
        "/auth/api/v1/scim/v2/Users",
    ] {
        let status = http
            .get(format!("{fb}{path}"))
            .bearer_auth("anything")
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 404, "{path}");
    }
    let fs = sims.base_url(App::Freshservice).unwrap();
    let status = http
        .get(format!("{fs}/scim/v2/Users"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(
        status, 401,
        "Freshservice has SCIM (it wants its bearer token)"
    );
    sims.shutdown().await;
}
