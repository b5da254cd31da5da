//! A button press and where it was made. Its answers travel as the engine's replies do, in the
//! thread of the message they answer: for a press, `press` or `press:<topic>`, so the private
//! answer to the person who pressed (an error, "already acknowledged") is recognised as the
//! press's own and shown as its toast (`answerCallbackQuery`) instead of posted to the group,
//! while everything else still goes to the topic it was pressed in.

use teloxide_core::types::{MessageId, ThreadId};

const PRESS: &str = "press";

/// The longest toast Telegram shows (`answerCallbackQuery`'s `text`).
pub const TOAST_MAX: usize = 200;

/// The thread of a press made in `topic` (a forum topic's id), or in no topic.
pub fn thread(topic: Option<&str>) -> String {
    match topic {
        Some(topic) => format!("{PRESS}:{topic}"),
        None => PRESS.to_string(),
    }
}

/// Whether a thread is a press's.
pub fn is_press(thread: Option<&str>) -> bool {
    thread.is_some_and(|t| t == PRESS || t.starts_with("press:"))
}

/// The forum topic a thread names: a topic's own id, or the topic a press was made in.
pub fn topic(thread: &str) -> Option<ThreadId> {
    let id = thread.strip_prefix("press:").unwrap_or(thread);
    id.parse().ok().map(|id| ThreadId(MessageId(id)))
}

/// Whether an answer fits a toast; a longer one (how to post an update) goes to the group.
pub fn fits(text: &str) -> bool {
    text.chars().count() <= TOAST_MAX
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_press_thread_keeps_its_topic() {
        assert_eq!(thread(Some("77")), "press:77");
        assert!(is_press(Some("press:77")) && is_press(Some("press")));
        assert!(!is_press(Some("77")) && !is_press(None));
        assert_eq!(topic("press:77"), Some(ThreadId(MessageId(77))));
        assert_eq!(topic("77"), Some(ThreadId(MessageId(77))));
        assert_eq!(topic("press"), None);
    }
}
