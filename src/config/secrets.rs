//! The secrets a process runs with (tokens, signing secrets, API keys), read once from the
//! environment by `main` and handed to [`crate::app::build`]; tests hand their own. Nothing else
//! reads the environment for a secret, so a test never depends on what the machine has set.

use std::collections::BTreeMap;

/// Secret values by their environment variable's name (`RUNROOM_SLACK_BOT_TOKEN`, …).
#[derive(Clone, Default)]
pub struct Secrets(BTreeMap<String, String>);

impl Secrets {
    /// None: every platform that needs one stays off (the console room needs none).
    pub fn none() -> Secrets {
        Secrets::default()
    }

    /// Every `RUNROOM_*` variable of this process.
    pub fn from_env() -> Secrets {
        Secrets(
            std::env::vars()
                .filter(|(k, _)| k.starts_with("RUNROOM_"))
                .collect(),
        )
    }

    /// Exactly these, as a test or an embedding program sets them.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Secrets {
        Secrets(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// A secret's value; an empty or blank one counts as unset.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).filter(|v| !v.trim().is_empty()).cloned()
    }
}

/// Never prints a value: a `Secrets` may end up in a debug log.
impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::Secrets;

    #[test]
    fn blank_values_are_unset_and_debug_shows_names_only() {
        let secrets = Secrets::from_pairs([("A", "s3cret"), ("B", "  ")]);
        assert_eq!(secrets.get("A").as_deref(), Some("s3cret"));
        assert_eq!(secrets.get("B"), None);
        assert_eq!(secrets.get("C"), None);
        assert!(!format!("{secrets:?}").contains("s3cret"));
    }
}
