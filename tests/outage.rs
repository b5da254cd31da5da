//! A database outage under steady load, with a real `runroom serve` on Postgres reached through
//! a relay the test breaks for 45 s (first hanging, then gone): every slash command Slack was
//! told was received is carried out once the database is back, none twice; every one told to
//! try again was not; and `serve` recovers without a restart.

mod common;
mod fakes;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::relay::Relay;
use fakes::slack::FakeSlack;

const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const WAR_ROOM: &str = "C0RUNROOM";

/// What Slack got for one slash command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Answer {
    /// 200 with an empty body: received, its answer comes as a message.
    Acknowledged,
    /// 200 with the ephemeral "not recorded, try again".
    TryAgain,
    /// Another status, or no answer.
    Other,
}

async fn slash(client: &reqwest::Client, url: &str, text: &str, trigger: &str) -> Answer {
    let sent = fakes::slack::signed_slash(client, url, SECRET, ("U0ANA", text, trigger))
        .send()
        .await;
    let Ok(response) = sent else {
        return Answer::Other;
    };
    match (response.status().as_u16(), response.text().await) {
        (200, Ok(text)) if text.is_empty() => Answer::Acknowledged,
        (200, Ok(text)) if text.contains("ephemeral") => Answer::TryAgain,
        _ => Answer::Other,
    }
}

// Multi-threaded: the relay must pass bytes while this thread waits on `serve`'s first line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_45_second_outage_under_steady_load_loses_nothing_acknowledged() {
    let Some(pg) = common::postgres().await else {
        return;
    };
    let mut via_relay = reqwest::Url::parse(pg.url()).unwrap();
    let target = tokio::net::lookup_host((
        via_relay.host_str().unwrap().to_string(),
        via_relay.port().unwrap_or(5432),
    ))
    .await
    .unwrap()
    .next()
    .unwrap();
    let relay = Relay::start(target).await;
    via_relay.set_host(Some("127.0.0.1")).unwrap();
    via_relay.set_port(Some(relay.port)).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let fake = FakeSlack::start().await;
    fake.add_user("U0ANA", "Ana");
    let rest = format!(
        "\n[[rooms]]\nid = \"runroom\"\nplatform = \"slack\"\nchat = \"{WAR_ROOM}\"\n\n[slack]\napi_url = \"{}\"\n",
        fake.api_url
    );
    let config = common::process::serve_config(dir.path(), via_relay.as_str(), &rest);
    let logs = dir.path().join("serve.log");
    let mut command = common::process::serve_command(&config);
    command
        .env("RUNROOM_SLACK_BOT_TOKEN", &fake.bot_token)
        .env("RUNROOM_SLACK_SIGNING_SECRET", SECRET);
    let (mut child, url) =
        common::process::spawn_serve_logging(&mut command, std::fs::File::create(&logs).unwrap());

    // 20 declares a second: 3 s with the database, 15 s with it hanging (bytes stop), 30 s with
    // it gone (connections dropped and refused), 5 s with it back.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let started = Instant::now();
    let mut breaks = vec![
        (Duration::from_secs(3), "stall"),
        (Duration::from_secs(18), "cut"),
        (Duration::from_secs(48), "restore"),
    ]
    .into_iter()
    .peekable();
    let end_at = Duration::from_secs(53);
    let mut sent = tokio::task::JoinSet::new();
    let mut pace = tokio::time::interval(Duration::from_millis(50));
    let mut n = 0;
    while started.elapsed() < end_at {
        pace.tick().await;
        if let Some(&(at, what)) = breaks.peek()
            && started.elapsed() >= at
        {
            match what {
                "stall" => relay.stall(),
                "cut" => relay.cut(),
                _ => relay.restore(),
            }
            breaks.next();
        }
        n += 1;
        let (client, url) = (client.clone(), url.clone());
        sent.spawn(async move {
            let title = format!("Load {n:04}");
            let answer = slash(
                &client,
                &url,
                &format!("declare sev3 {title}"),
                &format!("L{n}"),
            )
            .await;
            (title, answer)
        });
    }
    let mut answers: HashMap<String, Answer> = HashMap::new();
    while let Some(done) = sent.join_next().await {
        let (title, answer) = done.unwrap();
        answers.insert(title, answer);
    }
    let told = |answer: Answer| -> Vec<&String> {
        answers
            .iter()
            .filter(|(_, a)| **a == answer)
            .map(|(t, _)| t)
            .collect()
    };
    let (acknowledged, try_again) = (told(Answer::Acknowledged), told(Answer::TryAgain));
    eprintln!(
        "outage: {} sent, {} acknowledged, {} told to try again, {} other",
        answers.len(),
        acknowledged.len(),
        try_again.len(),
        answers.len() - acknowledged.len() - try_again.len(),
    );
    // Before and after the outage (8 s, 160 commands) and while it hung (journaled).
    assert!(
        acknowledged.len() > 200,
        "{} acknowledged",
        acknowledged.len()
    );
    assert!(
        !try_again.is_empty(),
        "a database that refuses is said at once"
    );

    // Once the database is back, everything acknowledged is carried out, without a restart.
    let journal = dir.path().join("inbound.journal");
    let titles = common::poll_async(
        "every acknowledged command carried out",
        Duration::from_secs(180),
        async || {
            let incidents = pg.store.recent_incidents(10_000).await.ok()?;
            let titles: Vec<String> = incidents.into_iter().map(|i| i.title).collect();
            let done = acknowledged.iter().all(|t| titles.contains(t))
                && std::fs::metadata(&journal).ok()?.len() == 0;
            done.then_some(titles)
        },
    )
    .await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "serve is still running"
    );
    assert!(common::process::terminate(&mut child).await.success());
    let mut distinct = titles.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), titles.len(), "no command carried out twice");
    assert!(
        titles.iter().all(|t| answers.contains_key(t)),
        "nothing carried out that was not sent"
    );
    let retried: Vec<_> = try_again.iter().filter(|t| titles.contains(t)).collect();
    assert!(
        retried.is_empty(),
        "told to try again, yet carried out (a retry would declare twice): {retried:?}"
    );
    let log = std::fs::read_to_string(&logs).unwrap();
    assert!(!log.contains("panicked"), "nothing panicked:\n{log}");

    // The workers and the scheduler backed off while the database was gone: retrying at their
    // 500 ms poll, each failed about 60 rounds here; doubling up to 30 s, about 7.
    let mut failed_rounds: HashMap<String, usize> = HashMap::new();
    for line in log.lines() {
        let who = if line.contains("outbox round failed") {
            line.split_whitespace()
                .find(|field| field.starts_with("worker="))
                .unwrap_or("worker=?")
        } else if line.contains("scheduler round failed") {
            "scheduler"
        } else {
            continue;
        };
        *failed_rounds.entry(who.to_string()).or_default() += 1;
    }
    eprintln!("failed rounds during the outage: {failed_rounds:?}");
    assert!(
        failed_rounds.contains_key("scheduler") && failed_rounds.len() > 1,
        "the workers and the scheduler noticed the outage: {failed_rounds:?}"
    );
    assert!(
        failed_rounds.values().all(|&rounds| rounds < 15),
        "each backed off: {failed_rounds:?}"
    );
}
