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

    /// `GET path` without a session.
    async fn unsigned(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .expect("answered")
    }

    /// `GET path` with `cookie`, the answer as it comes (a live stream stays open).
    async fn get(&self, path: &str, cookie: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.url))
            .header(COOKIE, cookie)
            .send()
            .await
            .expect("answered")
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
    let unsigned = dash.unsigned("/dashboard").await;
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
    let answer = dash.get("/dashboard?lang=pt-BR", &cookie).await;
    let remembered = answer.headers()[SET_COOKIE]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(remembered.starts_with("runroom_lang=pt-BR"), "{remembered}");
    let both = format!("{cookie}; runroom_lang=pt-BR");
    let (_, page) = dash.page("/dashboard", &both, "en").await;
    assert!(page.contains("Conectado como administrador"), "{page}");

    let elsewhere = dash.get("/dashboard/delivery?lang=es", &cookie).await;
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

    let unsigned = dash.unsigned("/dashboard/incidents/1").await;
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
    // Changes come from a linked room (an unlinked chat may only declare).
    let dash = start(
        "[[rooms]]\nid = \"runroom\"\nplatform = \"slack\"\nchat = \"C0123456\"\n",
        &[(VIEWER_TOKEN_ENV, VIEWER), (admin::TOKEN_ENV, ADMIN)],
    )
    .await;
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

    let unsigned = dash.unsigned("/dashboard/incidents/1/live").await;
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);

    let mut live = dash.get("/dashboard/incidents/1/live", &cookie).await;
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

/// A team's setup for the pages beyond the list: a console war room, people, a rotation, a
/// schedule and a playbook with a checklist.
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

[[people]]
id = "rita"
name = "Rita"

[[rotations]]
id = "field"
timezone = "America/Sao_Paulo"
handoff = "09:00"
weekdays = { commander = "joana" }
weekends = { commander = "rita" }
rooms = ["console"]

[[schedules]]
id = "morning"
cron = "0 10 * * 1-5"
timezone = "America/Sao_Paulo"
rooms = ["console"]
title = "Morning checklist"
items = ["Service health"]

[[playbooks]]
id = "checkout"
title = { en = "Checkout down", pt-BR = "Checkout fora do ar", es = "Checkout caído" }
severity = "sev1"
first_actions = [
  { en = "Page the payments team", pt-BR = "Acionar o time de pagamentos", es = "Avisar al equipo de pagos" },
  { en = "Switch to the backup acquirer", pt-BR = "Trocar para o adquirente reserva", es = "Cambiar al adquirente de respaldo" },
]
"#;

/// The dashboard on a hand-moved clock, its engine taking commands from the console room.
struct Team {
    dash: Dashboard,
    clock: Arc<runroom::engine::clock::ManualClock>,
    next: std::sync::atomic::AtomicU64,
}

impl Team {
    async fn start() -> Team {
        let store = common::sqlite().await;
        let config = Config::parse(TEAM, "dashboard test", &[]).expect("config");
        let secrets = Secrets::from_pairs([(VIEWER_TOKEN_ENV, VIEWER), (admin::TOKEN_ENV, ADMIN)]);
        let clock = Arc::new(runroom::engine::clock::ManualClock::new(
            common::start_time(),
        ));
        let (app, url) =
            common::loopback::serve_app(config, store.store.clone(), clock.clone(), secrets).await;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Team {
            dash: Dashboard {
                app,
                url,
                client,
                store,
            },
            clock,
            next: std::sync::atomic::AtomicU64::new(1),
        }
    }

    async fn say(&self, text: &str) {
        use runroom::engine::clock::Clock;
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let inbound = common::inbound("console", "joana", text, format!("t{n}"), self.clock.now());
        self.dash
            .app
            .engine
            .handle(&inbound)
            .await
            .expect("handled");
    }

    fn pass(&self, minutes: i64) {
        self.clock.advance(chrono::Duration::minutes(minutes));
    }
}

/// The incident numbers of a page's rows, in order (`data-incident`), before `until` if given.
fn rows_of(page: &str, until: Option<&str>) -> Vec<i64> {
    let part = until.and_then(|u| page.split(u).next()).unwrap_or(page);
    part.split("data-incident=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect()
}

/// A row of the list, from its `<tr` to its `</tr>`.
fn row_of(page: &str, number: i64) -> &str {
    let at = page
        .find(&format!("data-incident=\"{number}\""))
        .unwrap_or_else(|| panic!("INC-{number} is listed: {page}"));
    let end = page[at..].find("</tr>").expect("row ends") + at;
    &page[at..end]
}

#[tokio::test]
async fn the_list_filters_by_status_severity_and_text_and_marks_late_updates() {
    let team = Team::start().await;
    let dash = &team.dash;
    team.say("inc declare sev1 Checkout down").await;
    team.say("inc declare sev3 Search slow").await;
    team.say("inc declare sev2 Login errors").await;
    team.say("inc resolve INC-3 fixed").await;
    team.say("inc playbook run checkout INC-1").await;
    team.say("inc check 1 INC-1").await;
    // SEV1 wants an update every 15 minutes, SEV3 every 60: twenty minutes on, only the SEV1
    // is late.
    team.pass(20);
    let (cookie, _) = dash.session(VIEWER).await;

    let (status, page) = dash.page("/dashboard", &cookie, "en").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        rows_of(&page, Some("id=\"recent-heading\"")),
        [1, 2],
        "open ones, most severe first: {page}"
    );
    assert_eq!(rows_of(&page, None), [1, 2, 3], "then the resolved one");
    let late = row_of(&page, 1);
    assert!(
        late.contains("class=\"overdue\"") && late.contains("Overdue"),
        "{late}"
    );
    assert!(
        late.contains("1/2"),
        "one of two checklist items done: {late}"
    );
    assert!(late.contains("checkout"), "its playbook: {late}");
    let on_time = row_of(&page, 2);
    assert!(!on_time.contains("overdue"), "{on_time}");
    assert!(
        on_time.contains("14:0"),
        "its next update, 14:00 UTC: {on_time}"
    );

    let only = |query: &'static str| {
        let cookie = cookie.clone();
        async move {
            let (status, page) = dash
                .page(&format!("/dashboard?{query}"), &cookie, "en")
                .await;
            assert_eq!(status, StatusCode::OK, "{query}");
            rows_of(&page, None)
        }
    };
    assert_eq!(only("severity=1").await, [1]);
    assert_eq!(only("severity=sev3").await, [2]);
    assert_eq!(only("q=SEARCH").await, [2], "any case");
    assert_eq!(only("status=resolved").await, [3]);
    assert_eq!(only("status=all&q=INC-3").await, [3], "by number");
    assert_eq!(only("status=all&q=3").await, [3]);
    assert_eq!(only("status=all").await, [1, 2, 3]);
    assert_eq!(
        only("status=investigating&severity=2").await,
        Vec::<i64>::new()
    );
    assert_eq!(
        only("q=100%25_").await,
        Vec::<i64>::new(),
        "LIKE's characters are literal"
    );
    // Whatever is typed in the address bar, the list answers.
    let (status, odd) = dash
        .page("/dashboard?page=x&severity=zzz&status=nope", &cookie, "en")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows_of(&odd, Some("id=\"recent-heading\"")), [1, 2]);

    let (_, none) = dash.page("/dashboard?q=nothing", &cookie, "pt-BR").await;
    assert!(none.contains("Nenhum incidente encontrado"), "{none}");
    assert!(
        none.contains("value=\"nothing\""),
        "the form keeps what was typed"
    );
}

#[tokio::test]
async fn the_list_pages_through_many_incidents() {
    let team = Team::start().await;
    let dash = &team.dash;
    common::insert_open_incidents(&dash.store.store, 60, common::start_time()).await;
    let (cookie, _) = dash.session(VIEWER).await;
    let (_, first) = dash.page("/dashboard?severity=2", &cookie, "en").await;
    assert_eq!(rows_of(&first, None).len(), 15, "60 open, a quarter SEV2");
    let (_, first) = dash.page("/dashboard", &cookie, "en").await;
    let shown = rows_of(&first, Some("id=\"recent-heading\""));
    assert_eq!(shown.len(), 25, "a page of 25");
    assert!(first.contains("Page 1 of 3"), "{first}");
    assert!(
        first.contains("href=\"?status=open&#38;page=2\""),
        "{first}"
    );
    let (_, third) = dash
        .page("/dashboard?status=open&page=3", &cookie, "en")
        .await;
    let last = rows_of(&third, Some("id=\"recent-heading\""));
    assert_eq!(last.len(), 10);
    assert!(last.iter().all(|n| !shown.contains(n)));
}

#[tokio::test]
async fn the_list_follows_new_incidents_live() {
    let team = Team::start().await;
    let dash = &team.dash;
    let (cookie, _) = dash.session(VIEWER).await;
    let (_, page) = dash.page("/dashboard", &cookie, "en").await;
    assert!(
        page.contains("new EventSource(\"/dashboard/live\""),
        "{page}"
    );
    let mut live = dash.get("/dashboard/live", &cookie).await;
    assert_eq!(live.status(), StatusCode::OK);
    let mut seen = String::new();
    read_until(&mut live, &mut seen, "No open incidents").await;
    team.say("inc declare sev2 Queue backlog").await;
    read_until(&mut live, &mut seen, "Queue backlog").await;
    assert!(seen.contains("event: list"), "{seen}");
}

#[tokio::test]
async fn an_incidents_page_shows_its_checklist_follow_ups_alerts_delivery_and_postmortem() {
    let team = Team::start().await;
    let dash = &team.dash;
    team.say("inc declare sev1 Checkout down").await;
    team.say("inc playbook run checkout INC-1").await;
    team.say("inc check 2 INC-1").await;
    team.say("inc follow-up add a checkout canary, call +55 11 91234-5678")
        .await;
    let alert = runroom::store::StoredAlert {
        source: "alertmanager".into(),
        key: "checkout-5xx".into(),
        status: runroom::alerts::model::AlertStatus::Firing,
        group_key: "g1".into(),
        incident: Some(1),
        title: "Checkout 5xx above 5%".into(),
        severity: runroom::engine::incident::Severity::Sev1,
        labels: Default::default(),
        links: Vec::new(),
        starts_at: None,
        ends_at: None,
        first_seen: common::start_time(),
        changed_at: common::start_time(),
        flap: Default::default(),
    };
    let mut tx = dash.store.store.begin().await.expect("begin");
    tx.save_alerts(&[alert]).await.expect("alert saved");
    tx.commit().await.expect("commit");
    let (cookie, _) = dash.session(VIEWER).await;

    let (status, page) = dash.page("/dashboard/incidents/1", &cookie, "es").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("1 de 2 hechos"), "{page}");
    assert!(
        page.contains("Avisar al equipo de pagos")
            && page.contains("Cambiar al adquirente de respaldo"),
        "the checklist in the viewer's language: {page}"
    );
    assert!(page.contains("hecho por joana"), "{page}");
    assert!(page.contains("add a checkout canary"), "{page}");
    assert!(!page.contains("91234-5678"), "phone numbers masked: {page}");
    assert!(
        page.contains("Checkout 5xx above 5%") && page.contains("Disparando"),
        "{page}"
    );
    assert!(
        page.contains("data-room=\"console\""),
        "its messages to the console room: {page}"
    );
    assert!(
        page.contains("El borrador aparece aquí"),
        "no draft while open: {page}"
    );

    team.say("inc resolve INC-1 rolled back").await;
    let (_, page) = dash.page("/dashboard/incidents/1", &cookie, "en").await;
    let draft = page
        .split("class=\"postmortem\"")
        .nth(1)
        .expect("the draft is shown");
    assert!(
        draft.contains("<h1>") || draft.contains("<h2>"),
        "rendered, not raw: {draft}"
    );
    assert!(draft.contains("Checkout down"), "{draft}");
    let markdown = dash
        .get("/dashboard/incidents/1/postmortem.md", &cookie)
        .await;
    assert_eq!(markdown.status(), StatusCode::OK);
    assert!(
        markdown.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/markdown")
    );
    assert!(
        markdown.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("INC-1-postmortem.md")
    );
    let text = markdown.text().await.expect("body");
    assert!(
        text.starts_with('#') && text.contains("Checkout down"),
        "{text}"
    );
    let unsigned = dash.unsigned("/dashboard/incidents/1/postmortem.md").await;
    assert_eq!(
        unsigned.status(),
        StatusCode::SEE_OTHER,
        "nothing without signing in"
    );
}

#[tokio::test]
async fn the_oncall_page_shows_who_holds_each_rotation_overrides_and_schedules() {
    let team = Team::start().await;
    let dash = &team.dash;
    // Monday 2 March 2026, 13:00 UTC: Joana's weekday shift, Rita's from Saturday 09:00 in
    // São Paulo; Marcos takes over from Joana for two hours.
    team.say("inc oncall override field @marcos 2h").await;
    let (cookie, _) = dash.session(VIEWER).await;
    let tokyo = format!("{cookie}; runroom_tz=Asia%2FTokyo");
    let (status, page) = dash.page("/dashboard/oncall", &tokyo, "pt-BR").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Plantão") && page.contains("field"), "{page}");
    assert!(page.contains("Marcos"), "the override holds it now: {page}");
    assert!(page.contains("substituição até"), "{page}");
    assert!(page.contains("Rita"), "after the handoff: {page}");
    assert!(
        page.contains("07/03/2026 21:00 JST"),
        "the next handoff, 09:00 in São Paulo, in the viewer's zone: {page}"
    );
    assert!(
        page.contains("Morning checklist") && page.contains("03/03/2026 22:00 JST"),
        "{page}"
    );
}

#[tokio::test]
async fn the_report_draws_times_to_acknowledge_and_resolve_on_the_server() {
    let team = Team::start().await;
    let dash = &team.dash;
    let (cookie, _) = dash.session(VIEWER).await;
    let (_, empty) = dash.page("/dashboard/report", &cookie, "en").await;
    assert!(empty.contains("No incidents were declared"), "{empty}");
    assert!(!empty.contains("<svg"));

    team.say("inc declare sev1 Checkout down").await;
    team.pass(4);
    team.say("inc ack").await;
    team.pass(56);
    team.say("inc resolve fixed").await;
    team.say("inc declare sev3 Search slow").await;
    team.pass(30);
    team.say("inc resolve fixed").await;
    let (status, page) = dash.page("/dashboard/report", &cookie, "en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("<svg") && page.contains("role=\"img\""),
        "{page}"
    );
    assert_eq!(page.matches("<rect class=\"ack\"").count(), 2, "{page}");
    assert_eq!(page.matches("<rect class=\"resolve\"").count(), 2);
    assert!(page.contains("acknowledged in 4 min"), "{page}");
    assert!(page.contains("resolved in 1 h"), "{page}");
    assert!(!page.contains("<script src"), "no script draws it");
    let (_, ninety) = dash.page("/dashboard/report?days=90", &cookie, "es").await;
    assert!(ninety.contains("los últimos 90 días"), "{ninety}");
    let (_, odd) = dash.page("/dashboard/report?days=7", &cookie, "en").await;
    assert!(
        odd.contains("the last 30 days"),
        "only the offered periods: {odd}"
    );
}

#[tokio::test]
async fn every_page_with_its_stylesheet_stays_under_100_kb() {
    const BUDGET: usize = 100 * 1024;
    let team = Team::start().await;
    let dash = &team.dash;
    common::insert_open_incidents(&dash.store.store, 200, common::start_time()).await;
    team.say("inc declare sev1 Checkout down with a long story")
        .await;
    for n in 0..310 {
        team.say(&format!(
            "inc note INC-201 step {n}: restarted the payment workers in region sa-east-1 and watched the queue drain"
        ))
        .await;
    }
    team.say("inc resolve INC-201 rolled back").await;
    let (cookie, _) = dash.session(ADMIN).await;
    let (_, css) = dash.page("/dashboard/style.css", &cookie, "en").await;
    for path in [
        "/dashboard",
        "/dashboard?status=all",
        "/dashboard/incidents/201",
        "/dashboard/oncall",
        "/dashboard/report",
        "/dashboard/delivery",
    ] {
        let (status, page) = dash.page(path, &cookie, "pt-BR").await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let weight = page.len() + css.len();
        assert!(
            weight < BUDGET,
            "{path} weighs {weight} bytes with its stylesheet"
        );
    }
    let (_, incident) = dash.page("/dashboard/incidents/201", &cookie, "en").await;
    assert!(
        incident.contains("The latest 200 of 312 entries"),
        "{incident}"
    );
    assert!(
        incident.contains("too long to show here") && !incident.contains("class=\"postmortem\""),
        "a long incident's draft is offered to download, not written into the page"
    );
}
