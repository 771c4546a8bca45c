//! The Anchor events of a transaction, read from where each program left them.
//!
//! A program emits an event in one of three ways, and a [`TxOutcome`](crate::TxOutcome)
//! collects all of them as raw event bytes (the event's discriminator, then its body):
//!
//! - `emit_cpi!`: a call of the program into itself whose instruction data is Anchor's
//!   event tag and the event. It travels in the transaction's inner instructions, which the
//!   runtime never truncates, and only the program can make it (its event-authority PDA
//!   signs it).
//! - `emit!`: a `Program data: <base64>` log line. Logs are cut at 10,000 bytes.
//! - natively built programs (the in-process bank, where a program cannot call itself
//!   through the runtime the way SBF does) log `Program log: event: <base64>` instead (see
//!   `staking::emit_event!`).
//!
//! Log lines are taken only while a gpu-market program is the innermost one running, so
//! another program in the same transaction cannot forge them.

use anchor_lang::{event::EVENT_IX_TAG_LE, solana_program::pubkey::Pubkey};
use anchor_lang::{AnchorDeserialize, Discriminator};
use base64::Engine;
use std::str::FromStr;

const PROGRAM_DATA: &str = "Program data: ";
const NATIVE_PROGRAM_DATA: &str = "Program log: event: ";

fn is_market_program(program: &Pubkey) -> bool {
    crate::PROGRAMS.iter().any(|(_, id)| id == program)
}

/// The event bytes of every event of the transaction, in the order they were emitted: each
/// event line a gpu-market program logged, and each inner instruction in `inner` that is a
/// gpu-market program's `emit_cpi!` (see [`from_inner_instruction`]).
///
/// `inner` is every inner instruction of the transaction as `(program, data)`, in execution
/// order (one whose program cannot be resolved as `Pubkey::default()`, so that the rest keep
/// their places). Each one's `Program <id> invoke [n]` line (n of 2 or more) places it among
/// the log lines; if a line names another program than the next inner instruction, the
/// pairing stops there. Those not placed (lost to truncation, or after a mismatch) come
/// last.
///
/// `native`: the transaction ran in the in-process bank, whose natively built programs log
/// `Program log: event: <base64>`. On any other backend such lines are ignored: no SBF
/// gpu-market program writes them.
pub fn collect(logs: &[String], inner: &[(Pubkey, Vec<u8>)], native: bool) -> Vec<Vec<u8>> {
    let mut inner = inner.iter().peekable();
    let mut paired = true;
    let mut running: Vec<Pubkey> = Vec::new();
    let mut events = Vec::new();
    for line in logs {
        if let Some(data) = line.strip_prefix(PROGRAM_DATA).or_else(|| {
            native
                .then(|| line.strip_prefix(NATIVE_PROGRAM_DATA))
                .flatten()
        }) {
            if running.last().is_some_and(is_market_program) {
                if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(data) {
                    events.push(bytes);
                }
            }
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some("Program"), Some(id), Some(verb)) = (words.next(), words.next(), words.next())
        else {
            continue;
        };
        let Ok(program) = Pubkey::from_str(id) else {
            continue;
        };
        match verb {
            "invoke" => {
                let depth: u32 = words
                    .next()
                    .and_then(|d| d.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
                    .unwrap_or(1);
                if depth >= 2 && paired {
                    match inner.peek() {
                        Some((callee, data)) if *callee == program => {
                            events.extend(from_inner_instruction(callee, data));
                            inner.next();
                        }
                        Some(_) => paired = false,
                        None => {}
                    }
                }
                running.push(program);
            }
            "success" | "failed:" => {
                running.pop();
            }
            _ => {}
        }
    }
    events.extend(inner.filter_map(|(callee, data)| from_inner_instruction(callee, data)));
    events
}

/// The event bytes of an inner instruction, when it is a gpu-market program's `emit_cpi!`.
pub fn from_inner_instruction(program: &Pubkey, data: &[u8]) -> Option<Vec<u8>> {
    if !is_market_program(program) {
        return None;
    }
    data.strip_prefix(EVENT_IX_TAG_LE).map(<[u8]>::to_vec)
}

/// Every event of type `E` among `events` (as [`collect`] gives them), in order.
pub fn decode<E: Discriminator + AnchorDeserialize>(events: &[Vec<u8>]) -> Vec<E> {
    events
        .iter()
        .filter_map(|bytes| {
            let body = bytes.strip_prefix(E::DISCRIMINATOR)?;
            E::deserialize(&mut &body[..]).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests;
