//! How keys appear in logs. A dedupe or idempotency key can carry personal data (a WhatsApp
//! message id encodes the sender's number), so spans show a short hash of it instead: the same
//! key always gives the same hash, which is all it takes to follow one event.

use sha2::{Digest, Sha256};

/// The first 6 bytes of the key's SHA-256, in hex.
pub fn key(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The key of what caused a message (a command's or a job's): its idempotency key up to the
/// first `#`.
pub fn cause(idempotency_key: &str) -> String {
    key(idempotency_key.split('#').next().unwrap_or(idempotency_key))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_message_traces_back_to_its_cause_without_showing_it() {
        let command = super::key("whatsapp:wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFjNFQjA");
        assert_eq!(command.len(), 12);
        assert!(!command.contains("5511"), "{command}");
        assert_eq!(
            super::cause("whatsapp:wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFjNFQjA#3#template"),
            command
        );
        assert_ne!(super::key("slack:cmd:T1"), command);
    }
}
