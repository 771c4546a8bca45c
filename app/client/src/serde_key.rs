//! Serializes a `Pubkey` as its base58 text in JSON output (`#[serde(with = "serde_key")]`),
//! the form users paste into commands, rather than as 32 numbers.

use anchor_lang::solana_program::pubkey::Pubkey;
use serde::{de::Error, Deserialize, Deserializer, Serializer};

pub fn serialize<S: Serializer>(key: &Pubkey, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(key)
}

/// Reads the base58 text back.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Pubkey, D::Error> {
    let text = String::deserialize(deserializer)?;
    text.parse()
        .map_err(|_| D::Error::custom(format!("{text:?} is not a base58 public key")))
}

#[cfg(test)]
mod tests {
    #[derive(serde::Serialize)]
    struct Row {
        #[serde(with = "super")]
        key: super::Pubkey,
    }

    #[test]
    fn a_key_is_written_as_base58() {
        let key = super::Pubkey::new_from_array([7; 32]);
        let json = serde_json::to_string(&Row { key }).unwrap();
        assert_eq!(json, format!("{{\"key\":\"{key}\"}}"));
    }
}
