//! An alert storm against runroom's Alertmanager webhook: 10,000 distinct alerts in
//! Alertmanager-sized batches (100 alerts a request, one group each) at concurrency 8, then the
//! same batches again (Alertmanager's repeat_interval, or a retry). Reported: alerts stored per
//! second, p50 / p99 time to the answer (which comes only once the batch is stored), incidents
//! opened (the groups, capped by storm protection) and duplicate rows (must be 0), against a
//! bare axum handler answering 200 on the same path in the same run. runroom is assembled as
//! `runroom serve` assembles it, on SQLite, with one war room whose messages queue. Run:
//! `cargo bench --bench alerts` (`-- --quick` for a short run that only checks it works).

#[path = "../tests/common/mod.rs"]
mod common;
mod load;

use std::path::Path;
use std::sync::Arc;

use runroom::app::Secrets;
use runroom::config::Config;
use runroom::engine::clock::SystemClock;
use runroom::store::Store;
use serde_json::json;

const PATH: &str = "/webhooks/alerts/prometheus";
const TOKEN: &str = "bench-token";

/// runroom with one alert source (storm protection at `storm` a minute) on a fresh SQLite file.
async fn runroom(dir: &Path, storm: u32) -> (String, Arc<dyn Store>) {
    let text = format!(
        r#"
[[rooms]]
id = "console"
platform = "console"
chat = "console"

[[alert_sources]]
id = "prometheus"
format = "alertmanager"
max_new_incidents_per_minute = {storm}
"#
    );
    let config = Config::parse(&text, "alerts bench", &[]).expect("config");
    let secrets = Secrets::from_pairs([("RUNROOM_ALERT_TOKEN_PROMETHEUS", TOKEN)]);
    let store = runroom::store::connect(&common::sqlite_url(dir))
        .await
        .expect("store");
    let (_app, base) =
        common::loopback::serve_app(config, store.clone(), Arc::new(SystemClock), secrets).await;
    (format!("{base}{PATH}"), store)
}

/// Batch `b` of the storm: `per` alerts of one group, each a distinct fingerprint.
fn batch(tag: &str, b: usize, per: usize) -> String {
    let severity = ["critical", "warning", "info"][b % 3];
    let alerts: Vec<_> = (0..per)
        .map(|i| {
            json!({
                "status": "firing",
                "labels": {"alertname": format!("Storm{b}"), "instance": format!("node-{i}:9100"),
                           "severity": severity, "job": "node"},
                "annotations": {"summary": format!("Node {i} of group {b} is unreachable"),
                                "description": "The scrape failed three times in a row"},
                "startsAt": "2026-11-29T12:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": format!("http://prometheus:9090/graph?g0.expr=up%7Bjob%3D%22node%22%7D&b={b}"),
                "fingerprint": format!("{tag}-{b:04}-{i:04}"),
            })
        })
        .collect();
    json!({
        "version": "4",
        "groupKey": format!("{{}}:{{alertname=\"Storm{b}\"}}"),
        "status": "firing",
        "receiver": "runroom",
        "groupLabels": {"alertname": format!("Storm{b}")},
        "commonLabels": {"job": "node"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": alerts,
    })
    .to_string()
}

async fn send(url: &str, bodies: &[String], concurrency: usize) -> load::Run {
    load::run(bodies.len(), concurrency, |client, i| {
        client
            .post(url)
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(bodies[i].clone())
    })
    .await
}

#[tokio::main]
async fn main() {
    let (batches, per) = if load::quick() { (10, 100) } else { (100, 100) };
    let concurrency = 8;
    let alerts = batches * per;
    let base = load::baseline(PATH).await;

    // Warm both up.
    let warm = tempfile::tempdir().expect("dir");
    let (warm_url, _) = runroom(warm.path(), 10).await;
    let warm_bodies: Vec<String> = (0..8).map(|b| batch("warm", b, per)).collect();
    send(&warm_url, &warm_bodies, concurrency).await;
    send(&base, &warm_bodies, concurrency).await;

    println!(
        "| storm limit / min | delivery | alerts/s | runroom req/s | baseline req/s | throughput ratio | runroom p50 / p99 | baseline p50 / p99 | incidents open | alert rows |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for storm in [10, 1_000] {
        let dir = tempfile::tempdir().expect("dir");
        let (url, store) = runroom(dir.path(), storm).await;
        let bodies: Vec<String> = (0..batches).map(|b| batch("storm", b, per)).collect();
        for (label, _) in [("first", 0), ("again", 1)] {
            let ours = send(&url, &bodies, concurrency).await;
            let bare = send(&base, &bodies, concurrency).await;
            let open = store.open_incidents().await.expect("incidents").len();
            let rows = store.recent_alerts(false, 1).await.expect("alerts").total;
            println!(
                "| {storm} | {label} | {:.0} | {} | {open} | {rows} |",
                ours.per_second * per as f64,
                load::compared(&ours, &bare)
            );
            assert_eq!(rows, alerts as i64, "every alert stored once, none twice");
            let expected = if (storm as usize) < batches {
                storm as usize + 1
            } else {
                batches
            };
            assert_eq!(
                open, expected,
                "one incident per group, capped by storm protection"
            );
        }
    }
}
