//! Per-room fairness: at most [`PER_ROOM`] commands from one room are in the engine at once (in
//! the writer's queue, or being decided); the room's others wait their turn here. A flood from
//! one room (a script, a storm relayed from a chat) queues behind itself, and a command from
//! any other room waits behind at most [`PER_ROOM`] of the flood's: one batch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Commands from one room in the engine at once: as many as a busy war room sends together
/// (the Slack benchmark's 32 concurrent declares), half a commit batch.
pub const PER_ROOM: usize = 32;

/// Rooms kept before those with nothing in flight are forgotten.
const KEEP: usize = 1024;

#[derive(Default)]
pub struct Turns {
    rooms: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Turns {
    /// Waits for `room`'s turn; the turn lasts as long as the permit.
    pub async fn take(&self, room: &str) -> Option<OwnedSemaphorePermit> {
        let semaphore = {
            let mut rooms = self.rooms.lock().ok()?;
            if rooms.len() > KEEP {
                // A room whose semaphore nobody holds or waits on has nothing in flight.
                rooms.retain(|_, s| Arc::strong_count(s) > 1);
            }
            rooms
                .entry(room.to_string())
                .or_insert_with(|| Arc::new(Semaphore::new(PER_ROOM)))
                .clone()
        };
        semaphore.acquire_owned().await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_room_past_its_share_waits_and_another_room_does_not() {
        let turns = Turns::default();
        let mut flood = Vec::new();
        for _ in 0..PER_ROOM {
            flood.push(turns.take("slack:C0FLOOD").await.expect("a turn"));
        }
        let next = tokio::time::timeout(
            std::time::Duration::from_millis(20),
            turns.take("slack:C0FLOOD"),
        )
        .await;
        assert!(next.is_err(), "the flood's next command waits");
        let other = tokio::time::timeout(
            std::time::Duration::from_millis(20),
            turns.take("whatsapp:roster"),
        )
        .await;
        assert!(matches!(other, Ok(Some(_))), "another room goes at once");
        flood.pop();
        assert!(
            turns.take("slack:C0FLOOD").await.is_some(),
            "a freed turn is taken"
        );
    }
}
