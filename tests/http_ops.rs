//! The operations endpoints in process: `spawn_app()` on port 0 with a fresh database.

mod common;

use std::sync::Arc;

use runroom::http::{AppState, metrics_handle, router};

struct App {
    url: String,
    engine: Arc<runroom::engine::Engine>,
    _store: common::TestStore,
}

async fn spawn_app(store: common::TestStore) -> App {
    let engine = Arc::new(common::engine_on(&store).engine);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = router(AppState {
        engine: engine.clone(),
        metrics: metrics_handle(),
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    App {
        url,
        engine,
        _store: store,
    }
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    for store in common::backends().await {
        let backend = store.name;
        let app = spawn_app(store).await;
        let health = reqwest::get(format!("{}/healthz", app.url)).await.unwrap();
        assert_eq!(health.status(), 200);
        assert_eq!(health.text().await.unwrap(), "ok");
        let ready = reqwest::get(format!("{}/readyz", app.url)).await.unwrap();
        assert_eq!(ready.status(), 200, "[{backend}]");

        let t = common::engine_on(&app._store);
        t.say("console", "joana", "inc declare sev2 Metrics check")
            .await;
        t.say("console", "joana", "/inc frobnicate").await;
        let metrics = reqwest::get(format!("{}/metrics", app.url)).await.unwrap();
        assert_eq!(metrics.status(), 200);
        let body = metrics.text().await.unwrap();
        assert!(
            body.contains(r#"runroom_commands_total{verb="declare",ok="true"}"#),
            "{body}"
        );
        assert!(
            body.contains(r#"runroom_commands_total{verb="invalid",ok="false"}"#),
            "{body}"
        );
        drop(app.engine);
    }
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("r.db").display());
    let sqlite = runroom::store::sqlite::SqliteStore::connect(&url)
        .await
        .unwrap();
    let pool = sqlite.pool().clone();
    let store = common::TestStore::from_store("sqlite", Arc::new(sqlite));
    let app = spawn_app(store).await;
    assert_eq!(
        reqwest::get(format!("{}/readyz", app.url))
            .await
            .unwrap()
            .status(),
        200
    );
    pool.close().await;
    let ready = reqwest::get(format!("{}/readyz", app.url)).await.unwrap();
    assert_eq!(ready.status(), 503);
    assert_eq!(ready.text().await.unwrap(), "database unreachable");
}
