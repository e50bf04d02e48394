//! Conversation ids: UUID v4 from the host's randomness.

use crate::ports::Entropy;

/// A fresh UUID v4, lower-case hyphenated.
pub fn new_uuid_v4(entropy: &impl Entropy) -> String {
    let mut bytes = [0u8; 16];
    entropy.fill(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid().hyphenated().to_string()
}

/// Checks the shape of a conversation id given by a caller. Ids become store keys, so this
/// is also what keeps a hostile id from naming any other file. Ids written by other tools
/// are accepted as long as they are plain `[A-Za-z0-9_-]` words.
pub fn check_conversation_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("the conversation id is empty".into());
    }
    if id.len() > 128 {
        return Err(format!("conversation id is {} bytes long; ids are at most 128", id.len()));
    }
    if let Some(c) = id.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))) {
        return Err(format!(
            "conversation id {id:?} contains {c:?}; ids are made of letters, digits, '-' and '_' (like 2f1c...-...)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(u8);
    impl Entropy for Fixed {
        fn fill(&self, buf: &mut [u8]) {
            buf.fill(self.0);
        }
    }

    #[test]
    fn uuid_is_version_4_and_deterministic() {
        let a = new_uuid_v4(&Fixed(0xab));
        assert_eq!(a, new_uuid_v4(&Fixed(0xab)));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4", "version nibble");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "variant nibble in {a}");
    }

    #[test]
    fn hostile_ids_are_refused() {
        for bad in ["", "../index", "a/b", "a.json", &"x".repeat(129)] {
            assert!(check_conversation_id(bad).is_err(), "{bad:?}");
        }
        assert!(check_conversation_id("2f1c0e9a-0b7d-4c3e-9a51-0c7c2a3c9d10").is_ok());
        // The message names the character, not a byte of it.
        let err = check_conversation_id("ab-caf\u{e9}-1").expect_err("non-ASCII");
        assert!(err.contains("contains '\u{e9}'"), "{err}");
        let err = check_conversation_id("a b").expect_err("space");
        assert!(err.contains("contains ' '"), "{err}");
    }
}
