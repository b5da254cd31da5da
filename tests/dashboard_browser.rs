//! The dashboard in a real browser: Debian's `chromium`, headless, driven over WebDriver by
//! `chromium-driver` (fantoccini as the client). A viewer signs in, watches an incident declared
//! by a signed Slack slash command appear in the list and its timeline grow without reloading,
//! switches to Portuguese, and is refused a retry; an admin retries a dead message and switches
//! the sending mode off and back, confirming each time; a POST without the session's CSRF token
//! is refused. Runs when the programs are installed (`.ci/run` installs them) and says SKIPPED
//! otherwise; with `RUNROOM_TEST_REQUIRE_PROGRAMS` set (CI), a missing program fails instead.

mod common;
mod fakes;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use fantoccini::{Client, Locator};
use runroom::app::Secrets;
use runroom::config::Config;
use runroom::dashboard::VIEWER_TOKEN_ENV;
use runroom::engine::clock::SystemClock;
use runroom::http::admin;
use runroom::platforms::slack;
use serde_json::{Value, json};

use common::browser;
use fakes::slack::FakeSlack;

const VIEWER: &str = "viewer-token-for-the-browser";
const ADMIN: &str = "admin-token-for-the-browser";
const SECRET: &str = "slack-signing-secret-for-the-browser";
/// How long the browser is given to show something.
const PATIENCE: Duration = Duration::from_secs(20);

const ROOMS: &str = r#"
[[rooms]]
id = "runroom"
platform = "slack"
chat = "C0RUNROOM"
timezone = "America/Sao_Paulo"
"#;

/// runroom as `serve` builds it, against a fake Slack, with both dashboard tokens.
struct Site {
    /// Kept for the test's length: runroom, and the fake Slack it calls.
    _app: runroom::app::App,
    _fake: FakeSlack,
    url: String,
    store: common::TestStore,
    http: reqwest::Client,
    triggers: AtomicU64,
}

impl Site {
    async fn start() -> Site {
        let store = common::sqlite().await;
        let fake = FakeSlack::start().await;
        fake.add_user("U0ANA", "Ana");
        let text = format!("{ROOMS}\n[slack]\napi_url = \"{}\"\n", fake.api_url);
        let config = Config::parse(&text, "browser test", &[]).expect("config");
        let secrets = Secrets::from_pairs([
            (slack::BOT_TOKEN_ENV, fake.bot_token.clone()),
            (slack::SIGNING_SECRET_ENV, SECRET.to_string()),
            (VIEWER_TOKEN_ENV, VIEWER.to_string()),
            (admin::TOKEN_ENV, ADMIN.to_string()),
        ]);
        let (app, url) = common::loopback::serve_app(
            config,
            store.store.clone(),
            Arc::new(SystemClock),
            secrets,
        )
        .await;
        Site {
            _app: app,
            _fake: fake,
            url,
            store,
            http: reqwest::Client::new(),
            triggers: AtomicU64::new(1),
        }
    }

    /// `/inc {text}` from Ana in the war room, signed as Slack signs it (each with a trigger of
    /// its own: Slack's retries of one command share theirs).
    async fn slash(&self, text: &str) {
        let trigger = format!("trigger-{}", self.triggers.fetch_add(1, Ordering::SeqCst));
        let answer =
            fakes::slack::signed_slash(&self.http, &self.url, SECRET, ("U0ANA", text, &trigger))
                .send()
                .await
                .expect("runroom answers");
        assert_eq!(answer.status(), 200, "/inc {text}");
    }
}

/// The text of the first element `css` finds, once there is one. A live page may replace the
/// element between finding it and reading it (a stale reference): then it is found again.
async fn text_of(client: &Client, css: &str) -> String {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let element = shown(client, css, &format!("{css} never appeared")).await;
        match element.text().await {
            Ok(text) => return text,
            Err(error) => assert!(
                tokio::time::Instant::now() < deadline,
                "the text of {css}: {error}"
            ),
        }
    }
}

/// Waits until the page holds an element `css` whose text contains `wanted`.
async fn until_text(client: &Client, css: &str, wanted: &str) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let found = client.find_all(Locator::Css(css)).await.expect("a query");
        for element in found {
            if element.text().await.unwrap_or_default().contains(wanted) {
                return;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {css} with {wanted:?}: {}",
            client.source().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Clicks the first element `css` finds (`what` it is, for the failure).
async fn click(client: &Client, css: &str, what: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {what}: {e}"));
}

/// The first element `css` finds, once the page holds one (`what` it shows, for the failure).
async fn shown(client: &Client, css: &str, what: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// Whether the page fits the window's width (nothing to scroll sideways; wide tables scroll
/// inside their own box).
async fn fits(client: &Client) -> bool {
    client
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await
        .expect("script runs")
        .as_bool()
        .unwrap_or(false)
}

/// Marks the document: a reload would lose the mark.
async fn mark(client: &Client) {
    client
        .execute("window.runroomMark = 'kept';", vec![])
        .await
        .expect("script runs");
}

async fn still_marked(client: &Client) -> bool {
    client
        .execute("return window.runroomMark === 'kept';", vec![])
        .await
        .expect("script runs")
        == Value::Bool(true)
}

/// POSTs a form from the page with `fetch` (the session cookie goes along) and answers the
/// status.
async fn post_from_page(client: &Client, path: &str, fields: Value) -> u64 {
    let status = client
        .execute_async(
            "const [path, fields, done] = arguments;
             fetch(path, { method: 'POST', body: new URLSearchParams(fields), redirect: 'manual' })
               .then(r => done(r.status), () => done(0));",
            vec![json!(path), fields],
        )
        .await
        .expect("fetch runs");
    status.as_u64().expect("a status")
}

async fn csrf_of(client: &Client) -> String {
    client
        .find(Locator::Css("input[name=csrf]"))
        .await
        .expect("a CSRF field")
        .attr("value")
        .await
        .expect("readable")
        .expect("a value")
}

async fn sign_in(client: &Client, site: &Site, token: &str) {
    client
        .goto(&format!("{}/dashboard", site.url))
        .await
        .expect("loads");
    let field = shown(client, "input[name=token]", "sent to the sign-in form").await;
    field.send_keys(token).await.expect("typed");
    click(client, "form button[type=submit]", "a button").await;
    text_of(client, "#list").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_real_browser_the_dashboard_follows_incidents_live_and_guards_its_controls() {
    let Some((binary, driver_program)) = browser::programs() else {
        assert!(
            std::env::var_os("RUNROOM_TEST_REQUIRE_PROGRAMS").is_none(),
            "chromium and chromium-driver are not installed (apt-get install -y chromium chromium-driver)"
        );
        eprintln!(
            "SKIPPED: chromium and chromium-driver are not installed (apt-get install -y chromium chromium-driver)"
        );
        return;
    };
    let site = Site::start().await;
    let driver = browser::Driver::start(driver_program);
    // Phone width: the pages must work at 360 px.
    let client = browser::browser(&driver, binary, 360, 800).await;

    // A viewer signs in and sees the (empty) list.
    sign_in(&client, &site, VIEWER).await;
    until_text(&client, "#list", "No open incidents").await;
    assert!(fits(&client).await, "the list fits a 360 px wide screen");

    // Declared from Slack, the incident appears without a reload.
    mark(&client).await;
    site.slash("declare sev2 Checkout latency in São Paulo")
        .await;
    until_text(&client, "tr[data-incident='1']", "Checkout latency").await;
    assert!(still_marked(&client).await, "the list was not reloaded");

    // Its page: the timeline grows as notes arrive from Slack.
    click(&client, "tr[data-incident='1'] a", "a link").await;
    text_of(&client, ".timeline li").await;
    assert!(fits(&client).await, "an incident's page fits 360 px");
    mark(&client).await;
    site.slash("note INC-1 restarted the payment workers").await;
    until_text(&client, ".timeline li", "restarted the payment workers").await;
    site.slash("sev INC-1 sev1").await;
    shown(&client, "article.card.sev1", "the card turns SEV1 live").await;
    assert!(still_marked(&client).await, "the page was not reloaded");

    // Portuguese, from the switch; it stays on the next page.
    click(&client, "a[lang='pt-BR']", "the switch").await;
    until_text(&client, "h2", "Linha do tempo").await;
    click(
        &client,
        "header a[href='/dashboard']:not(.brand)",
        "the incidents link",
    )
    .await;
    until_text(&client, "h1", "Incidentes").await;

    // One message died, as a platform refusing it leaves it.
    common::raw_sql(
        &site.store,
        "UPDATE outbox SET state = 'dead', last_error = 'channel_not_found' WHERE id = (SELECT MIN(id) FROM outbox)",
        "",
    )
    .await;
    let dead = site
        .store
        .store
        .outbox_in_state(runroom::store::OutboxState::Dead, 10)
        .await
        .expect("outbox");
    let id = dead.first().expect("one dead message").id.to_string();

    // A viewer sees it, without the controls, and a forged retry is refused.
    client
        .goto(&format!("{}/dashboard/delivery", site.url))
        .await
        .expect("loads");
    until_text(&client, "td", "channel_not_found").await;
    assert!(fits(&client).await, "the delivery page fits 360 px");
    for page in ["/dashboard/oncall", "/dashboard/report"] {
        client
            .goto(&format!("{}{page}", site.url))
            .await
            .expect("loads");
        text_of(&client, "main h1").await;
        assert!(fits(&client).await, "{page} fits 360 px");
    }
    client
        .goto(&format!("{}/dashboard/delivery", site.url))
        .await
        .expect("loads");
    until_text(&client, "td", "channel_not_found").await;
    assert!(
        client
            .find_all(Locator::Css("form[action='/dashboard/delivery/retry']"))
            .await
            .expect("a query")
            .is_empty(),
        "no retry button for a viewer"
    );
    let csrf = csrf_of(&client).await;
    let refused = post_from_page(
        &client,
        "/dashboard/delivery/retry",
        json!({ "csrf": csrf, "id": id }),
    )
    .await;
    assert_eq!(refused, 403, "a viewer cannot retry");

    // An admin retries it and switches the mode off and back, confirming.
    click(&client, "form.account button", "sign out").await;
    shown(&client, "input[name=token]", "signed out").await;
    sign_in(&client, &site, ADMIN).await;
    client
        .goto(&format!("{}/dashboard/delivery?lang=en", site.url))
        .await
        .expect("loads");
    let forged = post_from_page(&client, "/dashboard/delivery/retry", json!({ "id": id })).await;
    assert_eq!(forged, 403, "no CSRF token, refused");
    let retry = format!("tr[data-outbox='{id}'] button[type=submit]");
    click(&client, &retry, "a retry button").await;
    until_text(&client, ".notice", "queued again").await;

    let switch = |mode: &'static str, confirm: bool| {
        let client = client.clone();
        async move {
            let option = format!("select#mode option[value='{mode}']");
            click(&client, &option, "the mode").await;
            if confirm {
                click(&client, "input[name=confirm]", "the confirmation").await;
            }
            click(
                &client,
                "form[action='/dashboard/delivery/mode'] button",
                "the button",
            )
            .await;
        }
    };
    switch("off", false).await;
    until_text(&client, ".notice", "Tick the confirmation").await;
    assert_eq!(
        text_of(&client, ".mode").await,
        "Live: messages are sent",
        "unchanged without the confirmation"
    );
    switch("off", true).await;
    shown(&client, ".mode[data-mode='off']", "switched off").await;
    switch("live", true).await;
    shown(&client, ".mode[data-mode='live']", "switched back").await;

    let shot = client.screenshot().await.expect("a screenshot");
    assert!(
        shot.starts_with(b"\x89PNG"),
        "the browser rendered the page"
    );
    client.close().await.expect("closed");
}
