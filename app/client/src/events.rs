//! The Anchor events of a transaction, read from where the gpu-market programs leave them.
//! A [`TxOutcome`](crate::TxOutcome) holds them as raw event bytes (the event's
//! discriminator, then its body), in the order they were emitted:
//!
//! - Built for SBF, every program emits like Anchor's `emit_cpi!`: a call of the program
//!   into itself whose instruction data is Anchor's event tag and the event, signed by the
//!   program's event-authority PDA, which only the program can sign for (Anchor's
//!   dispatcher refuses the call otherwise). It travels in the transaction's inner
//!   instructions, which the runtime never truncates. Only these count: a log line
//!   (Anchor's `emit!`, `Program data: <base64>`) is not an event of these programs, and
//!   logs are cut at 10,000 bytes.
//! - Natively built programs (the in-process bank, or a `gpu-market localnet` running them
//!   as builtins, where a program cannot call itself through the runtime the way SBF does)
//!   log `Program log: event: <base64>` instead (see `staking::emit_event!`). Such lines
//!   are read only where the programs run natively (the in-process bank; over RPC, a
//!   cluster whose gpu-market program accounts are builtins of the native loader), and only
//!   while a gpu-market program is the innermost one running, so another program in the
//!   same transaction cannot forge them.

use anchor_lang::{event::EVENT_IX_TAG_LE, solana_program::pubkey::Pubkey};
use anchor_lang::{AnchorDeserialize, Discriminator};
use base64::Engine;
use std::str::FromStr;

const NATIVE_PROGRAM_DATA: &str = "Program log: event: ";

fn is_market_program(program: &Pubkey) -> bool {
    crate::program_ids::get()
        .all()
        .iter()
        .any(|(_, id)| id == program)
}

/// The event bytes of every event of the transaction, in the order they were emitted.
///
/// `native`: the transaction ran where the programs are built natively (they log their
/// events); they are read from `logs`. Otherwise they are the inner instructions in
/// `inner` (every inner instruction of the transaction as `(program, data)`, in execution
/// order) that are a gpu-market program's `emit_cpi!` (see [`from_inner_instruction`]).
pub fn collect(logs: &[String], inner: &[(Pubkey, Vec<u8>)], native: bool) -> Vec<Vec<u8>> {
    if native {
        native_log_events(logs)
    } else {
        inner
            .iter()
            .filter_map(|(program, data)| from_inner_instruction(program, data))
            .collect()
    }
}

/// The `Program log: event: <base64>` lines a gpu-market program logged while it was the
/// innermost program running.
fn native_log_events(logs: &[String]) -> Vec<Vec<u8>> {
    let mut running: Vec<Pubkey> = Vec::new();
    let mut events = Vec::new();
    for line in logs {
        if let Some(data) = line.strip_prefix(NATIVE_PROGRAM_DATA) {
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
            "invoke" => running.push(program),
            "success" | "failed:" => {
                running.pop();
            }
            _ => {}
        }
    }
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
