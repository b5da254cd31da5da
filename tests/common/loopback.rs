//! Servers on loopback: runroom's router as `serve` builds it, and the fakes' routers, each on a
//! free port.

use std::sync::Arc;

use runroom::app::{App, Secrets, assemble};
use runroom::config::Config;
use runroom::engine::clock::Clock;
use runroom::store::Store;

/// Serves the router `build` makes on a free loopback port, in the background. `build` gets the
/// server's base URL (`http://127.0.0.1:PORT`) and returns the router with what the caller keeps
/// (a fake that knows its own URL, say).
pub async fn serve_with<T>(what: &str, build: impl FnOnce(String) -> (T, axum::Router)) -> T {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind {what}: {e}"));
    let url = format!("http://{}", listener.local_addr().expect("a bound address"));
    let (kept, router) = build(url);
    tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
        axum::serve(listener, service).await
    });
    kept
}

/// Serves `router` on a free loopback port, in the background; returns its base URL.
pub async fn serve(what: &str, router: axum::Router) -> String {
    serve_with(what, |url| (url, router)).await
}

/// runroom assembled from `config` and `secrets` as `runroom serve` assembles it, on `store` and
/// `clock`, with its HTTP routes served on a free loopback port by the production server: the
/// app (workers, scheduler and listeners not started) and the routes' base URL.
pub async fn serve_app(
    config: Config,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    secrets: Secrets,
) -> (App, String) {
    let app = assemble(config, store, clock, secrets).expect("runroom builds");
    // The production server (`runroom::http::server`), with its limits, as `serve` runs it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind runroom");
    let url = format!("http://{}", listener.local_addr().expect("a bound address"));
    let router = app.router.clone();
    tokio::spawn(async move {
        runroom::http::server::serve(
            listener,
            router,
            runroom::http::server::Limits::default(),
            std::future::pending(),
        )
        .await
    });
    (app, url)
}
