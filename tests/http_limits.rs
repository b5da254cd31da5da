//! The entrances are bounded, against a real `runroom serve`: a client that sends its request
//! head a byte at a time is cut off; a 20 MB body is refused from its `Content-Length`, before
//! it is sent; a normal signed Slack request is served while 1,000 slow connections hang; past
//! the connection bound a new connection is answered 503 with `Retry-After`, and served again
//! once the others let go.

mod common;
mod fakes;

use std::process::Child;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SECRET: &str = "slack-signing-secret-for-the-limits";

/// `runroom serve` with a Slack war room (its API nowhere: nothing is sent here) and `server`
/// settings; the child and the server's `host:port`.
fn serve(dir: &std::path::Path, server: &str) -> (Child, String) {
    let rooms = format!(
        "\n[[rooms]]\nid = \"runroom\"\nplatform = \"slack\"\nchat = \"{}\"\n\n[slack]\napi_url = \"http://127.0.0.1:9/api\"\n",
        common::SLACK_WAR_ROOM
    );
    let path = common::process::serve_config(dir, &common::sqlite_url(dir), &rooms);
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "[server]\n",
        &format!("[server]\n{server}\n"),
        1,
    );
    std::fs::write(&path, text).unwrap();
    let mut command = common::process::serve_command(&path);
    command
        .env("RUNROOM_SLACK_BOT_TOKEN", "xoxb-limits")
        .env("RUNROOM_SLACK_SIGNING_SECRET", SECRET);
    let (child, url) = common::process::spawn_serve(&mut command);
    (child, url.trim_start_matches("http://").to_string())
}

/// Reads what the server says until it closes the connection or `within` passes; `None` when
/// it is still open then.
async fn answer(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&seen).into_owned()),
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// A signed `/inc help` to the slash-command endpoint: its status.
async fn signed_help(host: &str) -> u16 {
    let client = reqwest::Client::new();
    fakes::slack::signed_slash(
        &client,
        &format!("http://{host}"),
        SECRET,
        ("U0ANA", "help", "limits.1"),
    )
    .timeout(Duration::from_secs(10))
    .send()
    .await
    .expect("answered")
    .status()
    .as_u16()
}

/// `n` connections that each sent the start of `head` and nothing more.
async fn hanging(host: &str, n: usize, head: &[u8]) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        let mut stream = TcpStream::connect(host).await.unwrap();
        stream.write_all(head).await.unwrap();
        held.push(stream);
    }
    held
}

#[tokio::test]
async fn slow_heads_are_cut_off_and_large_bodies_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, host) = serve(dir.path(), "header_timeout_seconds = 1");

    // A head trickled a byte at a time: cut off once its second is up.
    let mut slow = TcpStream::connect(&host).await.unwrap();
    let started = Instant::now();
    let head =
        b"GET /healthz HTTP/1.1\r\nHost: runroom\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let mut cut = false;
    for byte in head {
        if slow.write_all(&[*byte]).await.is_err() {
            cut = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        if started.elapsed() > Duration::from_secs(6) {
            break;
        }
    }
    let closed = cut || answer(&mut slow, Duration::from_secs(3)).await.is_some();
    assert!(closed, "a trickled head is cut off");
    assert!(started.elapsed() < Duration::from_secs(8));

    // An idle keep-alive connection is closed too.
    let mut idle = TcpStream::connect(&host).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: runroom\r\n\r\n")
        .await
        .unwrap();
    let said = answer(&mut idle, Duration::from_secs(5))
        .await
        .expect("closed after the idle second");
    assert!(said.starts_with("HTTP/1.1 200"), "{said}");

    // 20 MB announced, 5 bytes sent: refused at once, the rest never asked for.
    let mut large = TcpStream::connect(&host).await.unwrap();
    large
        .write_all(
            b"POST /webhooks/slack/events HTTP/1.1\r\nHost: runroom\r\nContent-Type: application/json\r\nContent-Length: 20971520\r\n\r\n{\"a\":",
        )
        .await
        .unwrap();
    let said = answer(&mut large, Duration::from_secs(5))
        .await
        .unwrap_or_default();
    assert!(said.starts_with("HTTP/1.1 413"), "{said:?}");

    // A chunked body with no length is stopped once it passes the limit.
    let mut chunked = TcpStream::connect(&host).await.unwrap();
    chunked
        .write_all(b"POST /webhooks/slack/events HTTP/1.1\r\nHost: runroom\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        .await
        .unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    let mut refused = None;
    for _ in 0..16 {
        let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(&chunk);
        frame.extend_from_slice(b"\r\n");
        if chunked.write_all(&frame).await.is_err() {
            break;
        }
        if let Ok(Some(said)) = tokio::time::timeout(
            Duration::from_millis(200),
            answer(&mut chunked, Duration::from_millis(150)),
        )
        .await
        {
            refused = Some(said);
            break;
        }
    }
    let said = match refused {
        Some(said) => said,
        None => answer(&mut chunked, Duration::from_secs(5))
            .await
            .unwrap_or_default(),
    };
    assert!(said.starts_with("HTTP/1.1 413"), "{said:?}");

    common::process::terminate(&mut child).await;
}

#[tokio::test]
async fn a_signed_request_is_served_while_a_thousand_connections_hang() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, host) = serve(dir.path(), "header_timeout_seconds = 30");
    let hanging = hanging(
        &host,
        1000,
        b"POST /webhooks/slack/commands HTTP/1.1\r\nHost: r",
    )
    .await;
    let started = Instant::now();
    assert_eq!(signed_help(&host).await, 200);
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(hanging);
    common::process::terminate(&mut child).await;
}

#[tokio::test]
async fn past_the_connection_bound_a_client_is_told_to_retry() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, host) = serve(
        dir.path(),
        "header_timeout_seconds = 30\nmax_connections = 20",
    );
    let held = hanging(&host, 20, b"GET /healthz HTTP/1.1\r\nHost: r").await;
    // The server may take a moment to accept all twenty: poll until one is shed.
    let deadline = Instant::now() + Duration::from_secs(10);
    let said = loop {
        let mut extra = TcpStream::connect(&host).await.unwrap();
        let _ = extra
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: r\r\n\r\n")
            .await;
        let said = answer(&mut extra, Duration::from_secs(3))
            .await
            .unwrap_or_default();
        if said.starts_with("HTTP/1.1 503") || Instant::now() > deadline {
            break said;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(said.starts_with("HTTP/1.1 503"), "{said:?}");
    assert!(
        said.to_ascii_lowercase().contains("retry-after: 1"),
        "{said}"
    );

    drop(held);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = reqwest::get(format!("http://{host}/healthz"))
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "served again once the others let go"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    common::process::terminate(&mut child).await;
}
