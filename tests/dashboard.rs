//! The web dashboard over HTTP, as a browser meets it: signing in with the viewer's or the
//! admin's token to a session cookie, the incident list in the browser's language (and the
//! switch), sign-out guarded by the session's CSRF token, failed sign-ins limited per client.
//! runroom is assembled as `serve` assembles it, on port 0 with a fresh database.

mod common;

use std::sync::Arc;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT_LANGUAGE, COOKIE, LOCATION, RETRY_AFTER, SET_COOKIE};
use runroom::app::Secrets;
use runroom::config::Config;
use runroom::dashboard::VIEWER_TOKEN_ENV;
use runroom::engine::clock::SystemClock;
use runroom::http::admin;
use runroom::store::OutboxState;

const VIEWER: &str = "viewer-token-for-tests";
const ADMIN: &str = "admin-token-for-tests";

struct Dashboard {
    app: runroom::app::App,
    url: String,
    client: reqwest::Client,
    store: common::TestStore,
}

async fn start(config: &str, tokens: &[(&'static str, &'static str)]) -> Dashboard {
    let store = common::sqlite().await;
    let config = Config::parse(config, "dashboard test", &[]).expect("config");
    let secrets = Secrets::from_pairs(tokens.iter().copied());
    let (app, url) =
        common::loopback::serve_app(config, store.store.clone(), Arc::new(SystemClock), secrets)
            .await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    Dashboard {
        app,
        url,
        client,
        store,
    }
}

async fn with_both_tokens() -> Dashboard {
    start("", &[(VIEWER_TOKEN_ENV, VIEWER), (admin::TOKEN_ENV, ADMIN)]).await
}

impl Dashboard {
    async fn sign_in(&self, token: &str, language: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/dashboard/sign-in", self.url))
            .header(ACCEPT_LANGUAGE, language)
            .form(&[("token", token)])
            .send()
            .await
            .expect("sign-in answered")
    }

    /// Signs in with `token`; the session cookie (`name=value`) and its `Set-Cookie` line.
    async fn session(&self, token: &str) -> (String, String) {
        let answer = self.sign_in(token, "en").await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        assert_eq!(answer.headers()[LOCATION], "/dashboard");
        let line = answer.headers()[SET_COOKIE]
            .to_str()
            .expect("ascii")
            .to_string();
        let pair = line.split(';').next().expect("name=value").to_string();
        (pair, line)
    }

    async fn page(&self, path: &str, cookie: &str, language: &str) -> (StatusCode, String) {
        let answer = self
            .client
            .get(format!("{}{path}", self.url))
            .header(COOKIE, cookie)
            .header(ACCEPT_LANGUAGE, language)
            .send()
            .await
            .expect("page answered");
        let status = answer.status();
        (status, answer.text().await.expect("body"))
    }
}

/// The hidden CSRF field's value on a page.
fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    page[at..].split('"').next().expect("its value").to_string()
}

#[tokio::test]
async fn a_viewer_signs_in_and_sees_the_incidents_in_the_browsers_language() {
    let dash = with_both_tokens().await;
    let unsigned = dash
        .client
        .get(format!("{}/dashboard", dash.url))
        .send()
        .await
        .expect("answered");
    assert_eq!(
        unsigned.status(),
        StatusCode::SEE_OTHER,
        "nothing shown without signing in"
    );
    assert_eq!(unsigned.headers()[LOCATION], "/dashboard/sign-in");

    let wrong = dash.sign_in("not-a-token", "pt-BR,pt;q=0.9").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get(SET_COOKIE).is_none());
    let body = wrong.text().await.expect("body");
    assert!(body.contains("Esse token não dá acesso"), "{body}");

    let (cookie, line) = dash.session(VIEWER).await;
    assert!(
        line.contains("HttpOnly") && line.contains("SameSite=Strict"),
        "{line}"
    );
    assert!(
        !line.contains("Secure"),
        "served over plain HTTP here: {line}"
    );

    let t = common::engine_on(&dash.store);
    t.say(
        "console",
        "joana",
        "inc declare sev3 Slow search, call +5511912345678",
    )
    .await;
    t.say("console", "joana", "inc declare sev1 Checkout <b>down</b>")
        .await;
    t.say("console", "joana", "inc declare sev2 Old batch job")
        .await;
    t.say("console", "joana", "inc resolve INC-3").await;

    let (status, page) = dash.page("/dashboard", &cookie, "es-MX,es;q=0.9").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("<html lang=\"es\">") && page.contains("Abiertos"),
        "{page}"
    );
    assert!(
        page.contains("Sesión de lectura"),
        "the viewer's role is shown"
    );
    let sev1 = page.find("INC-2").expect("the SEV1 is listed");
    let sev3 = page.find("INC-1").expect("the SEV3 is listed");
    assert!(sev1 < sev3, "the most severe first");
    assert!(
        page.contains("Checkout &#60;b&#62;down&#60;/b&#62;")
            || page.contains("Checkout &lt;b&gt;down&lt;/b&gt;"),
        "titles are escaped: {page}"
    );
    assert!(!page.contains("<b>down</b>"));
    assert!(page.contains("Slow search"));
    assert!(
        !page.contains("5511912345678"),
        "phone numbers are masked: {page}"
    );
    let recent = page
        .find("Resueltos recientemente")
        .expect("the resolved section");
    assert!(
        page[recent..].contains("Old batch job"),
        "the resolved one is under recent"
    );

    let (_, switched) = dash.page("/dashboard?lang=pt-BR", &cookie, "es").await;
    assert!(
        switched.contains("Abertos") && switched.contains("Incidentes"),
        "{switched}"
    );
}

#[tokio::test]
async fn the_language_switch_is_remembered() {
    let dash = with_both_tokens().await;
    let (cookie, _) = dash.session(ADMIN).await;
    let answer = dash
        .client
        .get(format!("{}/dashboard?lang=pt-BR", dash.url))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("answered");
    let remembered = answer.headers()[SET_COOKIE]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(remembered.starts_with("runroom_lang=pt-BR"), "{remembered}");
    let both = format!("{cookie}; runroom_lang=pt-BR");
    let (_, page) = dash.page("/dashboard", &both, "en").await;
    assert!(page.contains("Conectado como administrador"), "{page}");

    let elsewhere = dash
        .client
        .get(format!("{}/dashboard/delivery?lang=es", dash.url))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("answered");
    let remembered = elsewhere.headers()[SET_COOKIE].to_str().expect("ascii");
    assert!(
        remembered.starts_with("runroom_lang=es"),
        "any page's switch: {remembered}"
    );
}

#[tokio::test]
async fn signing_out_needs_the_sessions_csrf_token() {
    let dash = with_both_tokens().await;
    let (cookie, _) = dash.session(VIEWER).await;
    let (_, page) = dash.page("/dashboard", &cookie, "en").await;
    let csrf = csrf_of(&page);

    let sign_out = |csrf: &str| {
        dash.client
            .post(format!("{}/dashboard/sign-out", dash.url))
            .header(COOKIE, &cookie)
            .form(&[("csrf", csrf.to_string())])
            .send()
    };
    let forged = sign_out("").await.expect("answered");
    assert_eq!(
        forged.status(),
        StatusCode::FORBIDDEN,
        "no token, no sign-out"
    );
    let (other, _) = dash.session(VIEWER).await;
    let (_, other_page) = dash.page("/dashboard", &other, "en").await;
    let someone_elses = sign_out(&csrf_of(&other_page)).await.expect("answered");
    assert_eq!(
        someone_elses.status(),
        StatusCode::FORBIDDEN,
        "another session's token does not do"
    );

    let out = sign_out(&csrf).await.expect("answered");
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let cleared = out.headers()[SET_COOKIE].to_str().expect("ascii");
    assert!(
        cleared.starts_with("runroom_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
}

#[tokio::test]
async fn failed_sign_ins_are_limited_per_client() {
    let dash = with_both_tokens().await;
    for _ in 0..5 {
        assert_eq!(
            dash.sign_in("guess", "en").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let held = dash.sign_in(VIEWER, "en").await;
    assert_eq!(
        held.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right token waits out the window"
    );
    let wait: u64 = held.headers()[RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(
        held.text()
            .await
            .expect("body")
            .contains("Too many failed sign-ins")
    );
}

#[tokio::test]
async fn cookies_are_secure_behind_https_and_there_is_no_dashboard_without_tokens() {
    let dash = start("[server]\nhttps = true\n", &[(VIEWER_TOKEN_ENV, VIEWER)]).await;
    let (_, line) = dash.session(VIEWER).await;
    assert!(line.contains("; Secure"), "{line}");
    assert_eq!(
        dash.sign_in(ADMIN, "en").await.status(),
        StatusCode::UNAUTHORIZED,
        "no admin token configured: it signs in to nothing"
    );

    let none = start("", &[]).await;
    let answer = none
        .client
        .get(format!("{}/dashboard/sign-in", none.url))
        .send()
        .await
        .expect("answered");
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_incidents_page_shows_its_card_and_timeline() {
    let dash = with_both_tokens().await;
    let (cookie, _) = dash.session(VIEWER).await;
    let t = common::engine_on(&dash.store);
    t.say("console", "joana", "inc declare sev2 Payments <slow>")
        .await;
    t.say("console", "joana", "inc assign commander @joana")
        .await;
    t.say("console", "joana", "inc note retries are piling up")
        .await;

    let (_, list) = dash.page("/dashboard", &cookie, "en").await;
    assert!(
        list.contains("href=\"/dashboard/incidents/1\""),
        "the list links to it"
    );

    let (status, page) = dash.page("/dashboard/incidents/1", &cookie, "pt-BR").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("INC-1"), "{page}");
    assert!(
        page.contains("Linha do tempo"),
        "in the browser's language: {page}"
    );
    assert!(
        page.contains("Comandante") && page.contains("joana"),
        "{page}"
    );
    assert!(
        page.contains("retries are piling up"),
        "the timeline holds the note"
    );
    assert!(!page.contains("<slow>"), "escaped");
    let entries = page.matches("<time datetime=").count();
    assert_eq!(entries, 3, "declared, assigned, noted: {page}");

    assert!(
        page.contains(" UTC</time>"),
        "UTC until the browser says its zone: {page}"
    );
    let in_tokyo = format!("{cookie}; runroom_tz=Asia%2FTokyo");
    let (_, page) = dash.page("/dashboard/incidents/1", &in_tokyo, "en").await;
    assert!(
        page.contains(" JST</time>") && !page.contains(" UTC</time>"),
        "{page}"
    );

    let (missing, body) = dash.page("/dashboard/incidents/99", &cookie, "es").await;
    assert_eq!(missing, StatusCode::NOT_FOUND);
    assert!(body.contains("No existe ese incidente"), "{body}");

    let unsigned = dash
        .client
        .get(format!("{}/dashboard/incidents/1", dash.url))
        .send()
        .await
        .expect("answered");
    assert_eq!(unsigned.status(), StatusCode::SEE_OTHER);
}

/// Reads an event stream until `wanted` is in what arrived; what arrived.
async fn read_until(response: &mut reqwest::Response, seen: &mut String, wanted: &str) {
    let deadline = std::time::Duration::from_secs(15);
    tokio::time::timeout(deadline, async {
        while !seen.contains(wanted) {
            let chunk = response.chunk().await.expect("stream").expect("still open");
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{wanted:?} never arrived: {seen}"));
}

#[tokio::test]
async fn an_incidents_page_follows_its_changes_live() {
    let dash = with_both_tokens().await;
    let (cookie, _) = dash.session(VIEWER).await;
    let say = |event: &str, text: &str| {
        let inbound = common::inbound(
            "runroom",
            "joana",
            text,
            event.to_string(),
            chrono::Utc::now(),
        );
        let engine = dash.app.engine.clone();
        async move { engine.handle(&inbound).await.expect("handled") }
    };
    say("E1", "inc declare sev2 Queue backlog").await;

    let (_, page) = dash.page("/dashboard/incidents/1", &cookie, "en").await;
    assert!(
        page.contains("new EventSource(\"/dashboard/incidents/1/live\""),
        "{page}"
    );

    let unsigned = dash
        .client
        .get(format!("{}/dashboard/incidents/1/live", dash.url))
        .send()
        .await
        .expect("answered");
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);

    let mut live = dash
        .client
        .get(format!("{}/dashboard/incidents/1/live", dash.url))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("answered");
    assert_eq!(live.status(), StatusCode::OK);
    assert!(
        live.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut seen = String::new();
    read_until(&mut live, &mut seen, "Queue backlog").await;
    assert!(seen.contains("event: incident"), "{seen}");
    assert!(
        !seen.contains("***"),
        "times are not taken for phone numbers: {seen}"
    );

    say("E2", "inc note consumers restarted").await;
    read_until(&mut live, &mut seen, "consumers restarted").await;
    say("E3", "inc sev sev1").await;
    read_until(&mut live, &mut seen, "class=\"card sev1\"").await;
}

impl Dashboard {
    async fn post(&self, path: &str, cookie: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let answer = self
            .client
            .post(format!("{}{path}", self.url))
            .header(COOKIE, cookie)
            .form(form)
            .send()
            .await
            .expect("answered");
        let status = answer.status();
        (status, answer.text().await.expect("body"))
    }

    async fn dead(&self) -> Vec<i64> {
        self.store
            .store
            .outbox_in_state(OutboxState::Dead, 10)
            .await
            .expect("outbox")
            .into_iter()
            .map(|row| row.id)
            .collect()
    }
}

#[tokio::test]
async fn only_an_admin_retries_a_dead_message_or_switches_the_mode_and_only_when_confirmed() {
    let dash = with_both_tokens().await;
    let t = common::engine_on(&dash.store);
    t.say("console", "joana", "inc declare sev2 Dead letters")
        .await;
    // One of its messages died, as a platform refusing it leaves it.
    common::raw_sql(
        &dash.store,
        "UPDATE outbox SET state = 'dead', last_error = 'channel_not_found for +5511912345678' \
         WHERE id = (SELECT MIN(id) FROM outbox)",
        "",
    )
    .await;
    let [dead] = dash.dead().await[..] else {
        panic!("one dead message");
    };
    let id = dead.to_string();

    let (viewer, _) = dash.session(VIEWER).await;
    let (status, page) = dash.page("/dashboard/delivery", &viewer, "en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("channel_not_found"),
        "the reason is shown: {page}"
    );
    assert!(!page.contains("5511912345678"), "phone numbers are masked");
    assert!(page.contains("data-mode=\"live\""));
    assert!(
        !page.contains("/dashboard/delivery/retry") && !page.contains("/dashboard/delivery/mode")
    );
    let csrf = csrf_of(&page);
    let (refused, _) = dash
        .post(
            "/dashboard/delivery/retry",
            &viewer,
            &[("csrf", &csrf), ("id", &id)],
        )
        .await;
    assert_eq!(refused, StatusCode::FORBIDDEN, "a viewer cannot retry");
    let (refused, _) = dash
        .post(
            "/dashboard/delivery/mode",
            &viewer,
            &[("csrf", &csrf), ("mode", "off"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(refused, StatusCode::FORBIDDEN, "nor switch the mode");
    assert_eq!(dash.dead().await, [dead]);

    let (admin, _) = dash.session(ADMIN).await;
    let (_, page) = dash.page("/dashboard/delivery", &admin, "en").await;
    assert!(page.contains("/dashboard/delivery/retry"), "{page}");
    let csrf = csrf_of(&page);
    let (forged, _) = dash
        .post("/dashboard/delivery/retry", &admin, &[("id", &id)])
        .await;
    assert_eq!(forged, StatusCode::FORBIDDEN, "no CSRF token, no retry");
    let (retried, page) = dash
        .post(
            "/dashboard/delivery/retry",
            &admin,
            &[("csrf", &csrf), ("id", &id)],
        )
        .await;
    assert_eq!(retried, StatusCode::OK);
    assert!(
        page.contains(&format!("Message {id} is queued again")),
        "{page}"
    );
    assert!(dash.dead().await.is_empty(), "queued again");

    let mode = || async {
        dash.store
            .store
            .setting(runroom::outbox::worker::MODE_KEY)
            .await
            .expect("setting")
    };
    let (unconfirmed, page) = dash
        .post(
            "/dashboard/delivery/mode",
            &admin,
            &[("csrf", &csrf), ("mode", "off")],
        )
        .await;
    assert_eq!(unconfirmed, StatusCode::BAD_REQUEST);
    assert!(page.contains("Tick the confirmation"), "{page}");
    assert_eq!(mode().await, None, "nothing changed");
    let (switched, page) = dash
        .post(
            "/dashboard/delivery/mode",
            &admin,
            &[("csrf", &csrf), ("mode", "off"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(switched, StatusCode::OK);
    assert!(page.contains("data-mode=\"off\""), "{page}");
    assert_eq!(mode().await.as_deref(), Some("off"));
    dash.post(
        "/dashboard/delivery/mode",
        &admin,
        &[("csrf", &csrf), ("mode", "live"), ("confirm", "yes")],
    )
    .await;
    assert_eq!(mode().await.as_deref(), Some("live"));
}
