//! Phone numbers are personal data: none reaches the logs.

use std::sync::Arc;

use crate::fakes::graph::{self, Reply};
use crate::{ANA_WA, BRUNO_WA, CARLA_WA, Harness, common};

/// A writer the test can read back: everything the logs said during a flow.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_phone_number_reaches_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("runroom=trace,info"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // The test runtime runs every task on this thread, the server's too.
    let _guard = tracing::subscriber::set_default(subscriber);

    let backend = common::sqlite().await;
    let h = Harness::start(&backend).await;
    h.text(ANA_WA, "Ana", "inc declare sev1 Couriers cannot log in")
        .await;
    // A stranger writes to the business number; a member's message fails permanently with
    // a reason that names the number; a status fails with the number in its details.
    h.text("5548999990000", "Stranger", "inc resolve").await;
    h.graph.script([Reply::Error {
        status: 400,
        code: 131026,
    }]);
    h.drain().await;
    let wamid = h.graph.accepted()[0].wamid.clone().unwrap();
    h.post(&graph::status(
        &wamid,
        "failed",
        h.now_secs(),
        ANA_WA,
        Some(131047),
    ))
    .await;
    h.post_signed(&graph::text_message(ANA_WA, "Ana", "x", 1, "x"), "wrong")
        .await;
    h.drain().await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("WhatsApp"), "the flow was logged: {logs}");
    for number in [ANA_WA, BRUNO_WA, CARLA_WA, "5548999990000", "48999990000"] {
        assert!(!logs.contains(number), "{number} in the logs:\n{logs}");
    }
}
