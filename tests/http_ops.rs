//! The operations endpoints in process: `spawn_app()` on port 0 with a fresh database.

mod common;

use std::sync::Arc;

use runroom::app::Secrets;
use runroom::config::Config;
use runroom::engine::clock::SystemClock;
use runroom::engine::room::Platform;
use runroom::http::admin;
use runroom::store::Completion;
use serde_json::{Value, json};

struct App {
    url: String,
    engine: Arc<runroom::engine::Engine>,
    _store: common::TestStore,
}

async fn spawn_app(store: common::TestStore) -> App {
    spawn_app_with_token(store, None).await
}

/// runroom as `serve` builds it, with no rooms and the admin token when given.
async fn spawn_app_with_token(store: common::TestStore, token: Option<&str>) -> App {
    let config = Config::defaults(&[]).expect("default config");
    let secrets = Secrets::from_pairs(token.map(|t| (admin::TOKEN_ENV, t)));
    let (app, url) =
        common::loopback::serve_app(config, store.store.clone(), Arc::new(SystemClock), secrets)
            .await;
    App {
        url,
        engine: app.engine,
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

const TOKEN: &str = "s3cret-admin-token";

#[tokio::test]
async fn the_admin_api_is_off_without_a_token() {
    let app = spawn_app(common::sqlite().await).await;
    let res = reqwest::get(format!("{}/api/outbox/stats", app.url))
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn the_admin_api_wants_the_right_bearer_token() {
    let app = spawn_app_with_token(common::sqlite().await, Some(TOKEN)).await;
    let client = reqwest::Client::new();
    let url = format!("{}/api/sending-mode", app.url);
    assert_eq!(client.get(&url).send().await.unwrap().status(), 401);
    assert_eq!(
        client
            .get(&url)
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        client
            .get(&url)
            .bearer_auth(&TOKEN[..5])
            .send()
            .await
            .unwrap()
            .status(),
        401,
        "a prefix of the token is not the token"
    );
    let ok = client.get(&url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.json::<Value>().await.unwrap(), json!({ "mode": "live" }));
}

/// A GET on the admin API with the right token.
fn admin_get(
    client: &reqwest::Client,
    app: &App,
    path: &str,
) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> + use<> {
    client
        .get(format!("{}{path}", app.url))
        .bearer_auth(TOKEN)
        .send()
}

/// Open incidents come a page at a time, most severe first, with the total and the next page's
/// link.
#[tokio::test]
async fn the_admin_api_lists_open_incidents_a_page_at_a_time() {
    for store in common::backends().await {
        let name = store.name;
        let app = spawn_app_with_token(store, Some(TOKEN)).await;
        let t = common::engine_on(&app._store);
        for declare in [
            "sev1 Checkout down",
            "sev3 Search stale",
            "sev2 Email delayed",
        ] {
            t.say("console", "joana", &format!("inc declare {declare}"))
                .await;
        }
        let client = reqwest::Client::new();
        let get = |path: &str| admin_get(&client, &app, path);
        let first = get("/api/incidents?per_page=2").await.unwrap();
        assert_eq!(first.headers()["x-total-count"], "3", "[{name}]");
        assert_eq!(
            first.headers()["link"],
            "</api/incidents?page=2&per_page=2>; rel=\"next\"",
            "[{name}]"
        );
        let numbers = |page: &Value| -> Vec<i64> {
            page.as_array()
                .unwrap()
                .iter()
                .map(|i| i["number"].as_i64().unwrap())
                .collect()
        };
        assert_eq!(numbers(&first.json().await.unwrap()), [1, 3], "[{name}]");
        let last = get("/api/incidents?page=2&per_page=2").await.unwrap();
        assert!(last.headers().get("link").is_none(), "[{name}] no page 3");
        assert_eq!(numbers(&last.json().await.unwrap()), [2], "[{name}]");
        for bad in ["page=0", "per_page=0", "per_page=501"] {
            let answer = get(&format!("/api/incidents?{bad}")).await.unwrap();
            assert_eq!(answer.status(), 400, "[{name}] {bad}");
        }
    }
}

#[tokio::test]
async fn the_admin_api_gives_the_postmortem_draft_in_the_asked_language_and_format() {
    let store = common::sqlite().await;
    let app = spawn_app_with_token(store, Some(TOKEN)).await;
    let t = common::engine_on(&app._store);
    t.say("console", "joana", "inc declare sev2 Checkout down")
        .await;
    t.say("console", "joana", "inc resolve Gateway restarted")
        .await;
    let client = reqwest::Client::new();
    let get = |path: &str| admin_get(&client, &app, path);

    let md = get("/api/incidents/1/postmortem?format=md&locale=pt-BR&timezone=America/Sao_Paulo")
        .await
        .unwrap();
    assert_eq!(md.status(), 200);
    assert_eq!(md.headers()["content-type"], "text/markdown; charset=utf-8");
    let md = md.text().await.unwrap();
    assert!(
        md.starts_with("# Rascunho de pós-incidente: INC-1 · Checkout down"),
        "{md}"
    );
    assert!(
        md.contains("## Números da resposta") && md.contains("Gateway restarted"),
        "{md}"
    );
    assert!(md.contains("-03"), "times in the asked zone: {md}");

    let json: Value = get("/api/incidents/1/postmortem?format=json")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["id"], "INC-1");
    assert_eq!(json["figures"]["updates"], 0);
    assert!(
        json["figures"]["time_to_resolve_seconds"].is_i64(),
        "{json}"
    );

    assert_eq!(
        get("/api/incidents/9/postmortem").await.unwrap().status(),
        404
    );

    // Figures across incidents, and the response times on /metrics.
    // The test engine's clock is at 2026-03-02, the app's is now.
    let report: Value = get("/api/report?since=1000d")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["severities"][0]["severity"], "Sev2", "{report}");
    assert_eq!(report["severities"][0]["incidents"], 1, "{report}");
    assert_eq!(report["severities"][0]["resolved"], 1, "{report}");
    assert_eq!(
        get("/api/report?since=forever").await.unwrap().status(),
        400
    );
    let metrics = client
        .get(format!("{}/metrics", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("runroom_incident_time_to_resolve_seconds"),
        "{metrics}"
    );
    for bad in ["locale=fr", "timezone=Mars/Base", "format=pdf"] {
        let answer = get(&format!("/api/incidents/1/postmortem?{bad}"))
            .await
            .unwrap();
        assert_eq!(answer.status(), 400, "{bad}");
    }
    assert_eq!(
        client
            .get(format!("{}/api/incidents/1/postmortem", app.url))
            .send()
            .await
            .unwrap()
            .status(),
        401,
        "behind the admin token"
    );
}

#[tokio::test]
async fn the_admin_api_shows_incidents_and_steers_the_outbox() {
    for store in common::backends().await {
        let name = store.name;
        let app = spawn_app_with_token(store, Some(TOKEN)).await;
        let t = common::engine_on(&app._store);
        t.say("console", "joana", "inc declare sev1 Checkout down")
            .await;
        let client = reqwest::Client::new();
        let get = |path: &str| admin_get(&client, &app, path);

        let list: Value = get("/api/incidents").await.unwrap().json().await.unwrap();
        assert_eq!(list[0]["number"], 1, "[{name}] {list}");
        assert_eq!(list[0]["severity"], "Sev1");
        let one: Value = get("/api/incidents/1").await.unwrap().json().await.unwrap();
        assert_eq!(one["timeline"][0]["event"]["kind"], "declared");
        assert_eq!(get("/api/incidents/9").await.unwrap().status(), 404);

        let stats: Value = get("/api/outbox/stats")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let pending_slack = stats["stats"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["platform"] == "slack" && s["state"] == "pending")
            .map(|s| s["count"].clone());
        assert_eq!(pending_slack, Some(json!(1)), "[{name}] {stats}");

        // Kill a message by hand, then retry it through the API.
        let rows = app
            .engine
            .store()
            .claim_outbox(
                Platform::Slack,
                "w",
                chrono::Utc::now(),
                std::time::Duration::from_secs(30),
                1,
            )
            .await
            .unwrap();
        let dead = Completion::Dead {
            reason: "slack error: channel_not_found".into(),
        };
        assert!(
            app.engine
                .store()
                .finish_outbox(rows[0].id, "w", &dead, chrono::Utc::now())
                .await
                .unwrap()
        );
        let letters: Value = get("/api/outbox/dead").await.unwrap().json().await.unwrap();
        assert_eq!(letters[0]["last_error"], "slack error: channel_not_found");
        let retry = |id: i64| {
            client
                .post(format!("{}/api/outbox/{id}/retry", app.url))
                .bearer_auth(TOKEN)
                .send()
        };
        assert_eq!(retry(rows[0].id).await.unwrap().status(), 200);
        assert_eq!(
            retry(rows[0].id).await.unwrap().status(),
            409,
            "no longer dead"
        );
        assert_eq!(retry(999_999).await.unwrap().status(), 404);

        let put = |mode: &str| {
            client
                .put(format!("{}/api/sending-mode", app.url))
                .bearer_auth(TOKEN)
                .json(&json!({ "mode": mode }))
                .send()
        };
        assert_eq!(put("dry-run").await.unwrap().status(), 200);
        assert_eq!(put("sideways").await.unwrap().status(), 400);
        let mode: Value = get("/api/sending-mode")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(mode["mode"], "dry-run", "[{name}]");

        let metrics = reqwest::get(format!("{}/metrics", app.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            metrics.contains(r#"runroom_outbox_messages{platform="slack",state="pending"} 1"#),
            "[{name}] {metrics}"
        );
        assert!(metrics.contains("runroom_outbox_oldest_pending_seconds"));
    }
}

/// A bad value is quoted back as a short excerpt, never whole.
#[tokio::test]
async fn a_bad_value_is_answered_with_a_short_excerpt_of_it() {
    let app = spawn_app_with_token(common::sqlite().await, Some(TOKEN)).await;
    let client = reqwest::Client::new();
    let set_mode = |mode: String| {
        client
            .put(format!("{}/api/sending-mode", app.url))
            .bearer_auth(TOKEN)
            .json(&serde_json::json!({ "mode": mode }))
            .send()
    };
    let too_large = set_mode("x".repeat(1_500_000)).await.unwrap();
    assert_eq!(too_large.status(), 413, "past the admin API's 64 KiB");
    let answer = set_mode("x".repeat(60_000)).await.unwrap();
    assert_eq!(answer.status(), 400);
    let body = answer.text().await.unwrap();
    assert!(body.len() < 300, "{} bytes", body.len());
    assert!(
        body.contains("xxxx…") && body.contains("not a mode"),
        "{body}"
    );

    let zone = format!("Mars/{}\u{7}", "y".repeat(5_000));
    let answer = admin_get(
        &client,
        &app,
        &format!(
            "/api/incidents/1/postmortem?timezone={}",
            serde_urlencoded::to_string([("z", zone)])
                .unwrap()
                .trim_start_matches("z=")
        ),
    )
    .await
    .unwrap();
    assert_eq!(answer.status(), 400);
    let body = answer.text().await.unwrap();
    assert!(body.len() < 300 && body.contains("Mars/yyy"), "{body}");
}

/// The admin API shows dead messages with their phone numbers masked, as the logs do.
#[tokio::test]
async fn dead_messages_come_with_phone_numbers_masked() {
    let store = common::sqlite().await;
    let mut message = common::whatsapp_message("dead-1", "+5511987654321", common::start_time());
    message.text = "Joana (+55 11 98765-4321) declared INC-1".into();
    common::enqueue(&store.store, &[message]).await;
    common::raw_sql(
        &store,
        "UPDATE outbox SET state = 'dead', last_error = '131026 undeliverable to 5511987654321'",
        "",
    )
    .await;
    let app = spawn_app_with_token(store, Some(TOKEN)).await;
    let client = reqwest::Client::new();
    let answer = admin_get(&client, &app, "/api/outbox/dead").await.unwrap();
    assert_eq!(answer.status(), 200);
    let body = answer.text().await.unwrap();
    assert!(body.contains("dead-1"), "{body}");
    assert!(
        !body.contains("98765") && !body.contains("987654321"),
        "no number in clear: {body}"
    );
    assert!(
        body.contains("+55…4321"),
        "the chat masked as in the logs: {body}"
    );
    assert!(body.contains("131026 undeliverable to ***"), "{body}");
}

/// With Postgres hanging (not refusing), `/readyz` answers 503 within a second instead of
/// waiting on the database, and 200 again once it answers, without a restart.
#[tokio::test]
async fn readiness_answers_within_a_second_while_the_database_hangs() {
    use std::str::FromStr;
    let Ok(url) = std::env::var("RUNROOM_TEST_POSTGRES_URL") else {
        eprintln!("SKIPPED the Postgres run: set RUNROOM_TEST_POSTGRES_URL");
        return;
    };
    let options = sqlx::postgres::PgConnectOptions::from_str(&url).unwrap();
    let target = tokio::net::lookup_host((options.get_host(), options.get_port()))
        .await
        .unwrap()
        .next()
        .unwrap();
    let relay = common::relay::Relay::start(target).await;
    let store =
        runroom::store::postgres::PgStore::connect_with(options.host("127.0.0.1").port(relay.port))
            .await
            .unwrap();
    let app = spawn_app(common::TestStore::from_store("postgres", Arc::new(store))).await;
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(1500))
        .build()
        .unwrap();
    let ready = || client.get(format!("{}/readyz", app.url)).send();
    assert_eq!(ready().await.unwrap().status(), 200);
    relay.stall();
    for _ in 0..3 {
        let answer = ready().await.expect("an answer within the client's 1.5 s");
        assert_eq!(answer.status(), 503);
    }
    relay.restore();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if ready().await.map(|r| r.status()).ok() == Some(reqwest::StatusCode::OK) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "ready again once the database answers"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
