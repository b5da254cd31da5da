//! The HTTP server `runroom serve` answers on: hyper's HTTP/1 with a deadline for each request's
//! head (which, since hyper 1.6, is also how long an idle keep-alive connection may wait for its
//! next request), a body limit per entrance checked before any of the body is read, a deadline
//! for reading a body, and a bound on open connections beyond which a new one is answered
//! `503` with `Retry-After` at once and closed (never a 429: an alert source must retry, not
//! drop). Shutdown stops accepting, lets open requests finish, and closes what is left (live
//! dashboard streams) after a grace period.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// How the server bounds what clients may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Open connections at once; one more is shed.
    pub max_connections: usize,
    /// From a connection's (or an idle keep-alive's) first wait to a request's complete head.
    pub header_timeout: Duration,
    /// From a request's head to the end of its body.
    pub body_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(15),
        }
    }
}

/// What a shed connection is told: busy, come back in a second.
const SHED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
/// How long the shed answer may take to write before the connection is simply dropped.
const SHED_WRITE: Duration = Duration::from_secs(1);
/// How long shutdown waits for open connections before closing them.
const DRAIN: Duration = Duration::from_secs(10);

/// The largest body each entrance takes. Meta's webhook payloads may reach 3 MB; Alertmanager's
/// PagerDuty sender caps its payloads at 512 KB and its webhook sends whole alert groups; Slack's
/// and Telegram's are a few KB; the admin API and the dashboard take small forms.
pub fn body_limit(path: &str) -> usize {
    const KIB: usize = 1024;
    if path.starts_with("/webhooks/whatsapp") || path.starts_with("/webhooks/evolution") {
        4 * KIB * KIB
    } else if path.starts_with("/webhooks/alerts/") {
        KIB * KIB
    } else if path.starts_with("/webhooks/") {
        256 * KIB
    } else {
        64 * KIB
    }
}

/// The router with each entrance's body limit (refused with 413 from `Content-Length` alone,
/// or as soon as a chunked body passes it) and the body-read deadline.
pub fn bounded(router: Router, limits: Limits) -> Router {
    router
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            limit_body(request, next, limits.body_timeout)
        }))
        // The extractors' own 2 MB default would cut WhatsApp's 3 MB short: the limit above is
        // the one that applies.
        .layer(DefaultBodyLimit::disable())
}

async fn limit_body(request: Request, next: Next, deadline: Duration) -> Response {
    let limit = body_limit(request.uri().path());
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        metrics::counter!("runroom_http_refused_total", "reason" => "body_too_large").increment(1);
        return (StatusCode::PAYLOAD_TOO_LARGE, "body too large").into_response();
    }
    let (parts, body) = request.into_parts();
    let limited = http_body_util::Limited::new(body, limit);
    let timed = deadline::Deadline::new(limited, deadline);
    next.run(Request::from_parts(parts, Body::new(timed))).await
}

/// A body that fails once its deadline passes, so a client trickling a body cannot hold a
/// handler (and its connection) for ever.
mod deadline {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use std::time::Duration;

    use axum::body::Bytes;
    use hyper::body::{Body, Frame, SizeHint};

    pub struct Deadline<B> {
        body: Pin<Box<B>>,
        sleep: Pin<Box<tokio::time::Sleep>>,
    }

    impl<B> Deadline<B> {
        pub fn new(body: B, after: Duration) -> Deadline<B> {
            Deadline {
                body: Box::pin(body),
                sleep: Box::pin(tokio::time::sleep(after)),
            }
        }
    }

    /// The body was not read within its deadline.
    #[derive(Debug, thiserror::Error)]
    #[error("the request body took too long")]
    pub struct Late;

    impl<B> Body for Deadline<B>
    where
        B: Body<Data = Bytes>,
        B::Error: Into<axum::BoxError>,
    {
        type Data = Bytes;
        type Error = axum::BoxError;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, axum::BoxError>>> {
            if self.sleep.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Some(Err(Box::new(Late))));
            }
            // A body over its limit keeps its `LengthLimitError`, so extractors answer 413.
            self.body.as_mut().poll_frame(cx).map_err(Into::into)
        }

        fn is_end_stream(&self) -> bool {
            self.body.is_end_stream()
        }

        fn size_hint(&self) -> SizeHint {
            self.body.size_hint()
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, within `limits`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, most likely: wait a little rather than spin.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            metrics::counter!("runroom_http_refused_total", "reason" => "connections").increment(1);
            tokio::spawn(shed(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            // The client's address: the dashboard limits failed sign-ins per client.
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(remote));
            router.clone().oneshot(request.map(Body::new))
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection closed");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::info!("closed connections still open after the drain (live dashboard pages)");
    }
    Ok(())
}

/// Tells a connection over the bound that the server is busy, and closes it.
async fn shed(mut stream: TcpStream) {
    let _ = tokio::time::timeout(SHED_WRITE, async {
        stream.write_all(SHED).await?;
        stream.shutdown().await
    })
    .await;
}
