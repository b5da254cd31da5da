//! The load driver the webhook benchmarks share: a bare axum handler answering 200 on loopback as
//! the baseline, and [`run`]: `n` requests, `concurrency` at a time, each timed from its send to
//! its answer. It serves with `crate::common`: a benchmark that uses it includes `common` too.

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::post;

/// A handler that reads the body and answers 200 with nothing, served on loopback: the cost of
/// HTTP alone. Returns the URL of `path` on it.
pub async fn baseline(path: &str) -> String {
    let router = Router::new().route(path, post(|_body: axum::body::Bytes| async { "" }));
    let base = crate::common::loopback::serve("the baseline", router).await;
    format!("{base}{path}")
}

/// `--quick` on the command line (`cargo bench --bench NAME -- --quick`): a few requests of
/// each kind, to check that the benchmark runs; its numbers are not results.
pub fn quick() -> bool {
    std::env::args().any(|a| a == "--quick")
}

pub struct Run {
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
    /// CPU time of this whole process (client, servers, every thread) per request: what a
    /// request cost in work, which a busy shared machine shifts less than it shifts the rate.
    // Each benchmark compiles this module on its own, and only some report it.
    #[allow(dead_code)]
    pub cpu: Duration,
}

/// CPU time (user and system) this process has used so far, all threads included, from
/// `/proc/self/stat` (clock ticks of 10 ms); zero where that file does not exist.
pub fn process_cpu() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            // Fields after the command name, which is in parentheses and may hold spaces.
            let rest = stat.get(stat.rfind(')')? + 2..)?.to_string();
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let user: u64 = fields.get(11)?.parse().ok()?;
            let system: u64 = fields.get(12)?.parse().ok()?;
            Some(user + system)
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// `n` requests, `concurrency` at a time; `request(client, i)` builds the i-th (signed just
/// before it goes). Every answer must be 200.
pub async fn run(
    n: usize,
    concurrency: usize,
    request: impl Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder,
) -> Run {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let cpu_before = process_cpu();
    let mut latencies = Vec::with_capacity(n);
    let mut tasks = tokio::task::JoinSet::new();
    let mut next = 0;
    while latencies.len() < n {
        while tasks.len() < concurrency && next < n {
            let request = request(&client, next);
            next += 1;
            tasks.spawn(async move {
                let sent = Instant::now();
                let response = request.send().await.expect("request");
                assert_eq!(response.status().as_u16(), 200);
                sent.elapsed()
            });
        }
        latencies.push(tasks.join_next().await.unwrap().unwrap());
    }
    let elapsed = started.elapsed();
    let cpu = process_cpu().saturating_sub(cpu_before) / n as u32;
    latencies.sort();
    Run {
        cpu,
        per_second: n as f64 / elapsed.as_secs_f64(),
        p50: latencies[n / 2],
        p99: latencies[(n * 99 / 100).min(n - 1)],
    }
}

/// The table cells comparing runroom with the baseline: rates, their ratio, p50 / p99 of each.
pub fn compared(ours: &Run, bare: &Run) -> String {
    format!(
        "{:.0} | {:.0} | {:.2}× slower | {} / {} | {} / {}",
        ours.per_second,
        bare.per_second,
        bare.per_second / ours.per_second,
        ms(ours.p50),
        ms(ours.p99),
        ms(bare.p50),
        ms(bare.p99),
    )
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
