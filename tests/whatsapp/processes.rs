//! `runroom serve` as a child process: a roster run as deployed, and a stop that finishes the
//! deliveries it already answered.

use runroom::store::OutboxState;
use serde_json::Value;

use crate::fakes::graph::{self, FakeGraph, PHONE_NUMBER_ID};
use crate::{ANA_WA, APP_SECRET, BRUNO_WA, VERIFY_TOKEN, common, kinds_of};

/// `runroom serve` with a roster (Ana, Bruno) against `fake`, secrets in the environment and its
/// logs at `RUNROOM_LOG` level in `serve.log`; `extra` goes into `[whatsapp]`.
fn serve_roster(
    dir: &std::path::Path,
    fake: &FakeGraph,
    extra: &str,
    level: &str,
) -> (std::process::Child, String, std::path::PathBuf) {
    let rest = format!(
        r#"
[[rooms]]
id = "campo"
platform = "whatsapp"
kind = "roster"
members = ["+55 11 98765-4321", "+55 (11) 91234-5678"]
language = "pt-BR"
timezone = "America/Sao_Paulo"

[whatsapp]
api_url = "{api}"
phone_number_id = "{PHONE_NUMBER_ID}"
{extra}
"#,
        api = fake.url,
    );
    let config = common::process::serve_config(dir, &common::sqlite_url(dir), &rest);
    let log_path = dir.join("serve.log");
    let logs = std::fs::File::create(&log_path).unwrap();
    let mut command = common::process::serve_command(&config);
    command
        .env("RUNROOM_WHATSAPP_TOKEN", &fake.token)
        .env("RUNROOM_WHATSAPP_APP_SECRET", APP_SECRET)
        .env("RUNROOM_WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN)
        .env("RUNROOM_LOG", level);
    let (child, url) = common::process::spawn_serve_logging(&mut command, logs);
    (child, url, log_path)
}

/// A delivery signed as Meta signs it, posted to a running `serve`.
async fn deliver(url: &str, body: String) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{url}/webhooks/whatsapp"))
        .header(
            "x-hub-signature-256",
            graph::sign(APP_SECRET, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

/// `runroom serve` as deployed: a config file with a roster, secrets from the environment, debug
/// logs to a file, Meta's deliveries over HTTP and the fake Graph API receiving what it sends.
#[tokio::test]
async fn runroom_serve_runs_a_roster_and_logs_no_number() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeGraph::start().await;
    let (mut child, url, log_path) = serve_roster(dir.path(), &fake, "", "debug");
    let http = reqwest::Client::new();

    let challenge = http
        .get(format!("{url}/webhooks/whatsapp"))
        .query(&[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", VERIFY_TOKEN),
            ("hub.challenge", "42"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(challenge.text().await.unwrap(), "42");

    let post = |body: Value| {
        let body = body.to_string();
        http.post(format!("{url}/webhooks/whatsapp"))
            .header(
                "x-hub-signature-256",
                graph::sign(APP_SECRET, body.as_bytes()),
            )
            .body(body)
            .send()
    };
    let now = chrono::Utc::now().timestamp();
    let declare = graph::text_message(
        ANA_WA,
        "Ana",
        "wamid.serve1",
        now,
        "incidente declarar sev1 Roteirização parada",
    );
    assert_eq!(post(declare).await.unwrap().status().as_u16(), 200);
    // To Bruno: Ana's words relayed, and the declaration (both templates: he never wrote); to
    // Ana: the declaration with buttons.
    let accepted = fake
        .wait_for_accepted(3, std::time::Duration::from_secs(20))
        .await;
    assert_eq!(kinds_of(&fake.accepted_to(ANA_WA)), ["interactive"]);
    assert_eq!(
        kinds_of(&fake.accepted_to(BRUNO_WA)),
        ["template", "template"]
    );
    let wamid = accepted[0].wamid.clone().unwrap();
    let failed = graph::status(&wamid, "failed", now, BRUNO_WA, Some(131026));
    assert_eq!(post(failed).await.unwrap().status().as_u16(), 200);
    // A stranger is not answered.
    let stranger = graph::text_message("5548999990000", "?", "wamid.serve2", now, "inc list");
    assert_eq!(post(stranger).await.unwrap().status().as_u16(), 200);
    assert!(common::process::terminate(&mut child).await.success());

    assert_eq!(fake.accepted().len(), 3, "nothing more was sent");
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        logs.contains("ignored a WhatsApp message from a number on no roster")
            && logs.contains("WhatsApp could not deliver a message"),
        "the stranger and the failure were logged: {logs}"
    );
    for number in [ANA_WA, BRUNO_WA, "987654321", "912345678", "5548999990000"] {
        assert!(!logs.contains(number), "{number} in the logs:\n{logs}");
    }
}

/// A delivery answered before the engine could commit (another writer held SQLite's lock past
/// the ack budget) is still carried out when `runroom serve` is stopped meanwhile: Meta would
/// not send it again.
#[tokio::test]
async fn a_stopping_serve_finishes_deliveries_it_already_answered() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeGraph::start().await;
    let (mut child, url, log_path) = serve_roster(dir.path(), &fake, "ack_budget_ms = 50", "info");
    let db = common::sqlite_url(dir.path());
    let lock = common::SqliteLock::take(&db).await;

    let body = graph::text_message(
        ANA_WA,
        "Ana",
        "wamid.stopping",
        chrono::Utc::now().timestamp(),
        "incidente declarar sev2 Antes de parar",
    )
    .to_string();
    let answered = deliver(&url, body).await;
    assert_eq!(
        answered.status().as_u16(),
        200,
        "answered within the budget"
    );

    let term = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    common::poll(
        "serve waiting for the answered delivery",
        std::time::Duration::from_secs(10),
        || {
            std::fs::read_to_string(&log_path)
                .ok()
                .filter(|logs| logs.contains("waiting for inbound work in flight"))
        },
    )
    .await;
    lock.release().await;

    let status = common::poll("serve to exit", std::time::Duration::from_secs(20), || {
        child.try_wait().ok().flatten()
    })
    .await;
    assert!(status.success());
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        !logs.contains("stopped with inbound work unfinished"),
        "it waited for the work: {logs}"
    );
    let store = runroom::store::connect(&db).await.unwrap();
    let incident = store
        .incident(1)
        .await
        .unwrap()
        .expect("declared before stopping");
    assert_eq!(incident.declared_by, "Ana");
}

/// A delivery answered while another process held SQLite's write lock is journaled before the
/// answer: `serve` killed (SIGKILL) before it could commit, the restart carries it out once —
/// the incident, Ana's words relayed to Bruno, the declaration to both — and nothing twice.
#[tokio::test]
async fn a_delivery_answered_before_a_sigkill_is_carried_out_once_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeGraph::start().await;
    let (mut child, url, _) = serve_roster(dir.path(), &fake, "ack_budget_ms = 50", "info");
    let db = common::sqlite_url(dir.path());
    let lock = common::SqliteLock::take(&db).await;
    let body = graph::text_message(
        ANA_WA,
        "Ana",
        "wamid.killed",
        chrono::Utc::now().timestamp(),
        "incidente declarar sev2 Antes do SIGKILL",
    )
    .to_string();
    let answered = deliver(&url, body).await;
    assert_eq!(answered.status().as_u16(), 200);
    child.kill().unwrap();
    child.wait().unwrap();
    lock.release().await;
    let store = runroom::store::connect(&db).await.unwrap();
    assert!(
        store.incident(1).await.unwrap().is_none(),
        "not before the kill"
    );

    let (mut child, _, _) = serve_roster(dir.path(), &fake, "", "info");
    fake.wait_for_accepted(3, std::time::Duration::from_secs(20))
        .await;
    let journal = dir.path().join("runroom.db.inbound");
    common::poll(
        "the journal emptied",
        std::time::Duration::from_secs(20),
        || (std::fs::metadata(&journal).ok()?.len() == 0).then_some(()),
    )
    .await;
    assert!(common::process::terminate(&mut child).await.success());
    let incident = store.incident(1).await.unwrap().expect("declared");
    assert_eq!(incident.title, "Antes do SIGKILL");
    assert!(store.incident(2).await.unwrap().is_none(), "declared once");
    assert_eq!(kinds_of(&fake.accepted_to(ANA_WA)), ["interactive"]);
    assert_eq!(
        kinds_of(&fake.accepted_to(BRUNO_WA)),
        ["template", "template"]
    );
}

/// Meta accepted a roster fan-out whose answers never reached runroom (`serve` was killed while
/// waiting), and its status webhooks, which carry each send's outbox id in
/// `biz_opaque_callback_data`, arrived first. After the restart those rows are recorded as sent,
/// not sent again.
#[tokio::test]
async fn a_send_whose_status_arrived_is_not_sent_again_after_a_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeGraph::start().await;
    fake.withhold_answers_after(0);
    // A dead worker's claim passes to the next process after a second.
    let quick = "\n[outbox]\nlease_seconds = 1\n";
    let (mut child, url, _) = serve_roster(dir.path(), &fake, quick, "info");
    let now = chrono::Utc::now().timestamp();
    let declare = graph::text_message(
        ANA_WA,
        "Ana",
        "wamid.accepted",
        now,
        "incidente declarar sev2 Aceito sem resposta",
    );
    assert_eq!(
        deliver(&url, declare.to_string()).await.status().as_u16(),
        200
    );
    let accepted = fake
        .wait_for_accepted(3, std::time::Duration::from_secs(20))
        .await;
    for sent in &accepted {
        let data = sent.json["biz_opaque_callback_data"]
            .as_str()
            .expect("each send carries its outbox id");
        let mut report = graph::status(sent.wamid.as_deref().unwrap(), "sent", now, &sent.to, None);
        report["entry"][0]["changes"][0]["value"]["statuses"][0]["biz_opaque_callback_data"] =
            serde_json::json!(data);
        assert_eq!(
            deliver(&url, report.to_string()).await.status().as_u16(),
            200
        );
    }
    let store = runroom::store::connect(&common::sqlite_url(dir.path()))
        .await
        .unwrap();
    common::poll_async(
        "the statuses recorded",
        std::time::Duration::from_secs(20),
        async || {
            let sending = store.outbox_in_state(OutboxState::Sending, 10).await.ok()?;
            (sending.len() == 3 && sending.iter().all(|r| r.platform_message_id.is_some()))
                .then_some(())
        },
    )
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    fake.stop_withholding();

    let (mut child, _, _) = serve_roster(dir.path(), &fake, quick, "info");
    common::poll_async(
        "every row sent",
        std::time::Duration::from_secs(20),
        async || {
            let sent = store.outbox_in_state(OutboxState::Sent, 10).await.ok()?;
            (sent.len() == 3).then_some(())
        },
    )
    .await;
    assert!(common::process::terminate(&mut child).await.success());
    assert_eq!(fake.accepted().len(), 3, "nothing sent twice");
}
