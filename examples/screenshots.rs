//! Renders the dashboard's main pages to PNG (`scripts/screenshots` runs it): runroom is
//! assembled as `serve` assembles it on a fresh database, a team's last days are played through
//! the console room (incidents, a playbook's checklist, an alert, a rotation, a dead message),
//! and a headless chromium photographs each page at desktop width, and the list at phone width.
//!
//! `cargo run --example screenshots -- DIR` (default `docs/screenshots`).

#[path = "../tests/common/browser.rs"]
mod browser;
// Shared with the tests, of which this uses `serve_app` alone.
#[allow(dead_code)]
#[path = "../tests/common/loopback.rs"]
mod loopback;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use fantoccini::{Client, Locator};
use runroom::app::Secrets;
use runroom::config::Config;
use runroom::dashboard::VIEWER_TOKEN_ENV;
use runroom::engine::clock::{Clock, ManualClock};
use runroom::engine::room::{Author, Inbound, Input, Origin, Platform, RoomRef};
use runroom::http::admin;
use runroom::store::Store;

const ADMIN: &str = "admin-token-for-the-screenshots";

const TEAM: &str = r#"
[[rooms]]
id = "console"
platform = "console"
chat = "console"

[[people]]
id = "joana"
name = "Joana"

[[people]]
id = "marcos"
name = "Marcos"

[[rotations]]
id = "field"
timezone = "America/Sao_Paulo"
handoff = "09:00"
weekdays = { commander = "joana", comms = "marcos" }
weekends = { commander = "marcos", comms = "joana" }
rooms = ["console"]

[[schedules]]
id = "morning"
cron = "0 10 * * 1-5"
timezone = "America/Sao_Paulo"
rooms = ["console"]
title = "Morning checklist"
items = ["Service health", "Overnight metrics"]

[[playbooks]]
id = "checkout"
title = { en = "Checkout down", pt-BR = "Checkout fora do ar", es = "Checkout caído" }
severity = "sev1"
first_actions = [
  { en = "Page the payments team", pt-BR = "Acionar o time de pagamentos", es = "Avisar al equipo de pagos" },
  { en = "Switch to the backup acquirer", pt-BR = "Trocar para o adquirente reserva", es = "Cambiar al adquirente de respaldo" },
  { en = "Post a status page update", pt-BR = "Atualizar a página de status", es = "Actualizar la página de estado" },
]
"#;

/// The days the pictures show, typed in the console room: minutes after the line before, who,
/// and what. The clock ends at the present.
const DAYS: &[(i64, &str, &str)] = &[
    (0, "joana", "inc declare sev1 Payments API timeouts"),
    (6, "marcos", "inc ack"),
    (42, "joana", "inc resolve failover to the second region"),
    (300, "marcos", "inc declare sev2 Login errors on iOS"),
    (14, "joana", "inc ack"),
    (81, "marcos", "inc resolve rolled back 4.11.0"),
    (900, "joana", "inc declare sev3 Slow admin exports"),
    (35, "marcos", "inc ack"),
    (210, "joana", "inc resolve index added"),
    (
        1200,
        "marcos",
        "inc declare sev2 Search results slow for Android users",
    ),
    (2, "marcos", "inc assign commander @marcos"),
    (9, "joana", "inc note p95 at 2.4 s, rising since 08:40"),
    (
        20,
        "joana",
        "inc declare sev1 Checkout failing for card payments",
    ),
    (1, "joana", "inc assign INC-5 commander @joana"),
    (1, "joana", "inc playbook run checkout INC-5"),
    (3, "marcos", "inc ack INC-5"),
    (4, "joana", "inc check 1 INC-5"),
    (
        6,
        "joana",
        "inc update INC-5 impact=\"card payments fail for about 30% of users\" actions=\"switching to the backup acquirer\" next=15m",
    ),
    (
        2,
        "marcos",
        "inc follow-up INC-5 alert on acquirer error rate, not only on 5xx",
    ),
    (5, "marcos", "inc declare sev3 Delayed push notifications"),
    (3, "joana", "inc declare sev4 Typo on the pricing page"),
    (7, "joana", "inc resolve INC-7 fixed in 4.12.1"),
    (
        2,
        "marcos",
        "inc declare sev2 Courier locations stale in Recife",
    ),
    (10, "marcos", "inc status INC-8 monitoring"),
    (12, "marcos", "inc resolve INC-8 GPS ingestion caught up"),
    (
        8,
        "joana",
        "inc note INC-5 backup acquirer taking 60% of traffic",
    ),
];

#[tokio::main]
async fn main() -> Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "docs/screenshots".into()),
    );
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let (binary, driver_program) = browser::programs().context(
        "chromium and chromium-driver are needed (apt-get install -y chromium chromium-driver)",
    )?;

    let scratch = tempfile::tempdir()?;
    let db = format!("sqlite://{}", scratch.path().join("runroom.db").display());
    let store = runroom::store::connect(&db).await?;
    let config = Config::parse(TEAM, "screenshots", &[]).context("the team's config")?;
    let secrets = Secrets::from_pairs([
        (VIEWER_TOKEN_ENV, "viewer-token-for-the-screenshots"),
        (admin::TOKEN_ENV, ADMIN),
    ]);
    let spent: i64 = DAYS.iter().map(|(minutes, _, _)| minutes).sum();
    let clock = Arc::new(ManualClock::new(
        chrono::Utc::now() - chrono::Duration::minutes(spent),
    ));
    let (app, url) = loopback::serve_app(config, store.clone(), clock.clone(), secrets).await;
    for (n, (minutes, who, text)) in DAYS.iter().enumerate() {
        clock.advance(chrono::Duration::minutes(*minutes));
        let inbound = Inbound {
            event_id: format!("shot-{n}"),
            origin: Origin {
                room: RoomRef {
                    platform: Platform::Console,
                    chat: "console".into(),
                    thread: None,
                },
                author: Author {
                    handle: None,
                    id: (*who).into(),
                    name: (*who).into(),
                },
                private_replies: false,
            },
            input: Input::Text((*text).into()),
            received_at: clock.now(),
        };
        app.engine.handle(&inbound).await.context(*text)?;
    }
    save_alert(store.as_ref()).await?;
    let pool = sqlx::SqlitePool::connect(&db).await?;
    sqlx::query(
        "UPDATE outbox SET state = 'dead', last_error = 'Meta: (#131047) Re-engagement message: more than 24 hours since the customer last replied' \
         WHERE id = (SELECT MIN(id) FROM outbox)",
    )
    .execute(&pool)
    .await?;
    pool.close().await;

    let driver = browser::Driver::start(driver_program);
    let client = browser::browser(&driver, binary, 1280, 900).await;
    sign_in(&client, &url).await?;
    for (name, path) in [
        ("incidents", "/dashboard"),
        ("incident", "/dashboard/incidents/5"),
        ("incident-pt-BR", "/dashboard/incidents/5?lang=pt-BR"),
        ("oncall", "/dashboard/oncall?lang=en"),
        ("report", "/dashboard/report"),
        ("delivery", "/dashboard/delivery"),
    ] {
        shoot(&client, &url, path, &dir.join(format!("{name}.png"))).await?;
    }
    client.set_window_size(360, 800).await?;
    shoot(
        &client,
        &url,
        "/dashboard",
        &dir.join("incidents-phone.png"),
    )
    .await?;
    client.close().await?;
    println!("screenshots written to {}", dir.display());
    Ok(())
}

async fn sign_in(client: &Client, url: &str) -> Result<()> {
    client.goto(&format!("{url}/dashboard")).await?;
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("input[name=token]"))
        .await?
        .send_keys(ADMIN)
        .await?;
    client
        .find(Locator::Css("form button[type=submit]"))
        .await?
        .click()
        .await?;
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#list"))
        .await?;
    Ok(())
}

/// Loads `path` and saves the browser's window as a PNG at `to`.
async fn shoot(client: &Client, url: &str, path: &str, to: &std::path::Path) -> Result<()> {
    client.goto(&format!("{url}{path}")).await?;
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("main"))
        .await?;
    let png = client.screenshot().await?;
    std::fs::write(to, png).with_context(|| format!("writing {}", to.display()))?;
    println!("{}", to.display());
    Ok(())
}

/// An Alertmanager alert that joined the SEV1.
async fn save_alert(store: &dyn Store) -> Result<()> {
    let now = chrono::Utc::now();
    let alert = runroom::store::StoredAlert {
        source: "alertmanager".into(),
        key: "checkout-5xx".into(),
        status: runroom::alerts::model::AlertStatus::Firing,
        group_key: "checkout".into(),
        incident: Some(5),
        title: "CheckoutErrorRate: 5xx above 5% on payments-api".into(),
        severity: runroom::engine::incident::Severity::Sev1,
        labels: Default::default(),
        links: Vec::new(),
        starts_at: Some(now),
        ends_at: None,
        first_seen: now,
        changed_at: now,
        flap: Default::default(),
    };
    let mut tx = store.begin().await?;
    tx.save_alerts(&[alert]).await?;
    tx.commit().await?;
    Ok(())
}
