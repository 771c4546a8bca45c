//! Decoding Anchor events from transaction logs.

use anchor_lang::{AnchorDeserialize, Discriminator};
use base64::Engine;

const PROGRAM_DATA: &str = "Program data: ";
const NATIVE_PROGRAM_DATA: &str = "Program log: event: ";

/// Every event of type `E` in `logs`, in emission order. Reads the `Program data:` lines of
/// programs running as SBF and the `Program log: event:` lines natively built programs
/// write instead (see `staking::emit_event!`).
pub fn decode<E: Discriminator + AnchorDeserialize>(logs: &[String]) -> Vec<E> {
    logs.iter()
        .filter_map(|line| {
            line.strip_prefix(PROGRAM_DATA)
                .or_else(|| line.strip_prefix(NATIVE_PROGRAM_DATA))
        })
        .filter_map(|data| base64::engine::general_purpose::STANDARD.decode(data).ok())
        .filter_map(|bytes| {
            let body = bytes.strip_prefix(E::DISCRIMINATOR)?;
            E::deserialize(&mut &body[..]).ok()
        })
        .collect()
}
