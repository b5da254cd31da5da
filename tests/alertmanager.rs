//! A real Prometheus Alertmanager (Debian's `prometheus-alertmanager`, 0.25) as the client of a
//! running `runroom serve`: alerts posted to Alertmanager's API are grouped, sent to runroom's
//! webhook with basic auth, repeated on every `repeat_interval`, and resolved with a past
//! `endsAt`. Runs when the program is installed (`.ci/run` installs it) and says SKIPPED
//! otherwise; with `RUNROOM_TEST_REQUIRE_PROGRAMS` set (CI), a missing program fails instead.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use runroom::engine::incident::{Severity, Status};
use serde_json::{Value, json};

/// The Alertmanager binary, if installed.
fn alertmanager() -> Option<PathBuf> {
    ["/usr/bin/prometheus-alertmanager", "/usr/bin/alertmanager"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// A free loopback port (taken from the OS, then released for Alertmanager to bind).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Stops the child when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_alertmanager(binary: &Path, dir: &Path, runroom: &str) -> (Running, String) {
    let config = format!(
        r#"route:
  receiver: runroom
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 2s
receivers:
  - name: runroom
    webhook_configs:
      - url: {runroom}/webhooks/alerts/alertmanager
        send_resolved: true
        http_config:
          basic_auth:
            username: alertmanager
            password: am-password
"#
    );
    let path = dir.join("alertmanager.yml");
    std::fs::write(&path, config).expect("write alertmanager.yml");
    let port = free_port();
    let child = Command::new(binary)
        .arg(format!("--config.file={}", path.display()))
        .arg(format!("--storage.path={}", dir.join("am-data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .arg("--log.level=warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start Alertmanager");
    (Running(child), format!("http://127.0.0.1:{port}"))
}

/// Alertmanager's count of webhook notifications it sent.
async fn notifications(client: &reqwest::Client, am: &str) -> f64 {
    let Ok(response) = client.get(format!("{am}/metrics")).send().await else {
        return 0.0;
    };
    let text = response.text().await.unwrap_or_default();
    text.lines()
        .filter(|l| {
            l.starts_with("alertmanager_notifications_total")
                && l.contains("integration=\"webhook\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn alert(name: &str, instance: &str, severity: &str, ends_at: Option<String>) -> Value {
    let mut alert = json!({
        "labels": {"alertname": name, "instance": instance, "severity": severity, "service": "pix"},
        "annotations": {"summary": format!("{name} on {instance}")},
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=pix_latency_p99",
    });
    if let Some(ends_at) = ends_at {
        alert["endsAt"] = json!(ends_at);
    }
    alert
}

#[tokio::test]
async fn a_real_alertmanager_opens_one_incident_per_group_repeats_nothing_and_resolves() {
    let Some(binary) = alertmanager() else {
        assert!(
            std::env::var_os("RUNROOM_TEST_REQUIRE_PROGRAMS").is_none(),
            "prometheus-alertmanager is not installed (apt-get install -y prometheus-alertmanager)"
        );
        eprintln!(
            "SKIPPED: prometheus-alertmanager is not installed (apt-get install -y prometheus-alertmanager)"
        );
        return;
    };
    let backend = common::sqlite().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = common::process::serve_config(
        dir.path(),
        backend.url(),
        r#"
[[rooms]]
id = "console"
platform = "console"
chat = "console"

[[alert_sources]]
id = "alertmanager"
format = "alertmanager"
username = "alertmanager"
auto_resolve = true
"#,
    );
    let mut command = common::process::serve_command(&config);
    command.env("RUNROOM_ALERT_PASSWORD_ALERTMANAGER", "am-password");
    let (runroom, url) = common::process::spawn_serve(&mut command);
    let _runroom = Running(runroom);
    let (_am, am) = start_alertmanager(&binary, dir.path(), &url);
    let client = reqwest::Client::new();
    common::poll_async("Alertmanager ready", Duration::from_secs(30), async || {
        let ready = client.get(format!("{am}/-/ready")).send().await.ok()?;
        ready.status().is_success().then_some(())
    })
    .await;

    // Two groups (by alertname): PIX latency with two instances, and a queue backlog.
    let firing = json!([
        alert("PixLatencyHigh", "pix-1", "critical", None),
        alert("PixLatencyHigh", "pix-2", "critical", None),
        alert("QueueBacklog", "queue-1", "warning", None),
    ]);
    let posted = client
        .post(format!("{am}/api/v2/alerts"))
        .json(&firing)
        .send()
        .await
        .expect("Alertmanager takes alerts");
    assert!(posted.status().is_success(), "{}", posted.status());

    let store = backend.store.clone();
    let open = common::poll_async(
        "one incident per group",
        Duration::from_secs(30),
        async || {
            let open = store.open_incidents().await.ok()?;
            let alerts = store.recent_alerts(true, 10).await.ok()?;
            (open.len() >= 2 && alerts.total >= 3).then_some(open)
        },
    )
    .await;
    assert_eq!(open.len(), 2, "{open:?}");
    let pix = open
        .iter()
        .find(|i| i.title.starts_with("PixLatencyHigh"))
        .expect("the PIX incident");
    let queue = open
        .iter()
        .find(|i| i.title.starts_with("QueueBacklog"))
        .expect("the queue incident");
    assert_eq!(pix.severity, Severity::Sev1);
    assert_eq!(queue.severity, Severity::Sev3);
    assert_eq!(pix.declared_by, "alertmanager");

    // Alertmanager repeats the groups every 2 s: let it send several, and nothing changes.
    let sent = notifications(&client, &am).await;
    common::poll_async(
        "repeated notifications",
        Duration::from_secs(30),
        async || (notifications(&client, &am).await >= sent + 3.0).then_some(()),
    )
    .await;
    assert_eq!(
        store.open_incidents().await.expect("incidents").len(),
        2,
        "repeats open nothing"
    );
    assert_eq!(
        store.recent_alerts(false, 10).await.expect("alerts").total,
        3
    );
    let timeline = store.timeline(pix.number, 50).await.expect("timeline");
    let fired = timeline
        .iter()
        .filter(|e| e.event.kind() == "alert_fired")
        .count();
    assert_eq!(fired, 2, "each alert joined once");

    // Resolved: the same alerts with an end in the past.
    let ended = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    let resolved = json!([
        alert("PixLatencyHigh", "pix-1", "critical", Some(ended.clone())),
        alert("PixLatencyHigh", "pix-2", "critical", Some(ended)),
    ]);
    client
        .post(format!("{am}/api/v2/alerts"))
        .json(&resolved)
        .send()
        .await
        .expect("Alertmanager takes the resolve");
    let closed = common::poll_async(
        "the PIX incident resolved",
        Duration::from_secs(30),
        async || {
            let incident = store.incident(pix.number).await.ok()??;
            (incident.status == Status::Resolved).then_some(incident)
        },
    )
    .await;
    assert!(closed.resolved_at.is_some());
    let kinds: Vec<&str> = store
        .timeline(pix.number, 50)
        .await
        .expect("timeline")
        .iter()
        .map(|e| e.event.kind())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "alert_resolved").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "alerts_cleared").count(),
        1,
        "{kinds:?}"
    );
    let queue_now = store
        .incident(queue.number)
        .await
        .expect("read")
        .expect("queue");
    assert_eq!(
        queue_now.status,
        Status::Investigating,
        "the other group still fires"
    );
}
