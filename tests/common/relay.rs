//! A TCP relay to a database, which a test can stall (the database hangs: bytes stop, nothing
//! is refused) or cut (the database is gone: every connection is dropped and new ones are closed
//! at once), then restore, without touching the database itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

pub struct Relay {
    pub port: u16,
    stalled: Arc<AtomicBool>,
    cut: Arc<AtomicBool>,
    /// Bumped by a cut: a pipe of an older generation ends, dropping its connection.
    generation: Arc<AtomicU64>,
}

impl Relay {
    pub async fn start(to: std::net::SocketAddr) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let relay = Relay {
            port: listener.local_addr().unwrap().port(),
            stalled: Arc::default(),
            cut: Arc::default(),
            generation: Arc::default(),
        };
        let (stalled, cut, generation) = (
            relay.stalled.clone(),
            relay.cut.clone(),
            relay.generation.clone(),
        );
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if cut.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = tokio::net::TcpStream::connect(to).await else {
                    continue;
                };
                let born = generation.load(Ordering::SeqCst);
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                for (from, into) in [
                    (
                        Box::new(client_read) as Box<dyn AsyncRead + Unpin + Send>,
                        Box::new(server_write) as Box<dyn AsyncWrite + Unpin + Send>,
                    ),
                    (Box::new(server_read) as _, Box::new(client_write) as _),
                ] {
                    let (stalled, generation) = (stalled.clone(), generation.clone());
                    tokio::spawn(pipe(from, into, stalled, generation, born));
                }
            }
        });
        relay
    }

    /// Bytes stop flowing both ways; connections stay open.
    pub fn stall(&self) {
        self.stalled.store(true, Ordering::SeqCst);
    }

    /// Every connection is dropped, and new ones are closed as they come.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Bytes flow and connections are taken again.
    pub fn restore(&self) {
        self.stalled.store(false, Ordering::SeqCst);
        self.cut.store(false, Ordering::SeqCst);
    }
}

async fn pipe(
    mut from: Box<dyn AsyncRead + Unpin + Send>,
    mut into: Box<dyn AsyncWrite + Unpin + Send>,
    stalled: Arc<AtomicBool>,
    generation: Arc<AtomicU64>,
    born: u64,
) {
    let alive = || generation.load(Ordering::SeqCst) == born;
    let mut buf = vec![0u8; 16 * 1024];
    while alive() {
        let read = tokio::time::timeout(Duration::from_millis(50), from.read(&mut buf)).await;
        let n = match read {
            Err(_) => continue,
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => n,
        };
        while stalled.load(Ordering::SeqCst) && alive() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if !alive() || into.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
}
