//! The load driver the webhook benchmarks share: a router served on loopback, a bare axum
//! handler answering 200 on the same path as the baseline, and [`run`]: `n` requests,
//! `concurrency` at a time, each timed from its send to its answer.

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::post;

/// Serves `router` on a loopback port; returns the URL of `path` on it.
pub async fn serve(router: Router, path: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}{path}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

/// A handler that reads the body and answers 200 with nothing: the cost of HTTP alone.
pub async fn baseline(path: &str) -> String {
    serve(
        Router::new().route(path, post(|_body: axum::body::Bytes| async { "" })),
        path,
    )
    .await
}

pub struct Run {
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
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
    latencies.sort();
    Run {
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
