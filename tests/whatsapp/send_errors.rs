//! What the sender does with each error the Graph API answers.

use chrono::Duration;
use runroom::engine::clock::Clock;
use runroom::store::OutboxRow;
use runroom::store::OutboxState;

use crate::fakes::graph::Reply;
use crate::{ANA_WA, Harness, common, enqueue, to_ana};

/// Queues one message to Ana (window open) and sends it against a scripted answer.
async fn send_scripted(h: &Harness, key: &str, reply: Reply) -> OutboxRow {
    h.graph.script([reply]);
    enqueue(h, to_ana(h, key)).await;
    h.app.worker.run_once().await.unwrap();
    let rows = h
        .store
        .outbox_in_state(OutboxState::Dead, 100)
        .await
        .unwrap();
    let mut all = rows;
    all.extend(
        h.store
            .outbox_in_state(OutboxState::Failed, 100)
            .await
            .unwrap(),
    );
    all.extend(
        h.store
            .outbox_in_state(OutboxState::Sent, 100)
            .await
            .unwrap(),
    );
    all.into_iter()
        .find(|r| r.message.idempotency_key == key)
        .expect("the row")
}

#[tokio::test]
async fn each_error_code_takes_its_documented_path() {
    let backend = common::sqlite().await;
    let h = Harness::start(&backend).await;
    h.text(ANA_WA, "Ana", "oi").await;
    h.drain().await;
    let retried = [
        (
            "pair-rate",
            Reply::Error {
                status: 400,
                code: 131056,
            },
        ),
        // Meta's code decides, not the HTTP status (these come as 400s).
        (
            "temporary",
            Reply::Error {
                status: 400,
                code: 1,
            },
        ),
        (
            "unknown",
            Reply::Error {
                status: 400,
                code: 2,
            },
        ),
        (
            "throughput-code",
            Reply::Error {
                status: 400,
                code: 130429,
            },
        ),
        ("server", Reply::ServerError),
    ];
    for (key, reply) in retried {
        let row = send_scripted(&h, key, reply).await;
        assert_eq!(row.state, OutboxState::Failed, "{key}: retried later");
    }
    let never = [131026, 131048, 131049, 132000, 132001];
    for code in never {
        // Final even when it comes with a 5xx.
        for status in [400, 500] {
            let key = format!("code-{code}-{status}");
            let row = send_scripted(&h, &key, Reply::Error { status, code }).await;
            assert_eq!(
                row.state,
                OutboxState::Dead,
                "{code} (HTTP {status}): never retried blindly"
            );
            let reason = row.last_error.unwrap();
            assert!(reason.contains(&code.to_string()), "{reason}");
        }
    }
    // Last: a 429 pauses the whole number for its Retry-After.
    let row = send_scripted(&h, "throughput", Reply::RateLimited { retry_after: 30 }).await;
    assert_eq!(row.state, OutboxState::Failed);
    let retry_in = row.next_attempt_at - h.clock.now();
    assert!(
        retry_in >= Duration::seconds(30),
        "honours Retry-After: {retry_in}"
    );
}
