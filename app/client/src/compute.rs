//! Compute units per program invocation, read from a transaction's logs.
//!
//! The runtime logs `Program <id> invoke [<depth>]` when a program starts, Anchor logs
//! `Program log: Instruction: <Name>` first thing, and the runtime closes the invocation with
//! `Program <id> consumed <n> of <m> compute units`. The units of an invocation include those
//! of the programs it calls.

use anchor_lang::solana_program::pubkey::Pubkey;
use std::io::Write;
use std::path::PathBuf;
use std::str::FromStr;

/// One finished invocation of a program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub program: Pubkey,
    /// Call depth: 1 for an instruction of the transaction, 2 and more for CPIs.
    pub depth: u32,
    /// The instruction name Anchor logged (`StartJob`), if it logged one.
    pub instruction: Option<String>,
    pub units: u64,
}

/// Every invocation in `logs` that reports its compute units, in the order they finished.
/// Lines after a log truncation are ignored.
pub fn invocations(logs: &[String]) -> Vec<Invocation> {
    let mut stack: Vec<Invocation> = Vec::new();
    let mut done = Vec::new();
    for line in logs {
        if line == "Log truncated" {
            break;
        }
        let Some(rest) = line.strip_prefix("Program ") else {
            continue;
        };
        if let Some(name) = rest.strip_prefix("log: Instruction: ") {
            if let Some(top) = stack.last_mut() {
                if top.instruction.is_none() {
                    top.instruction = Some(name.trim().to_owned());
                }
            }
            continue;
        }
        let mut words = rest.split_whitespace();
        let (Some(id), Some(verb)) = (words.next(), words.next()) else {
            continue;
        };
        let Ok(program) = Pubkey::from_str(id) else {
            continue;
        };
        match verb {
            "invoke" => {
                let depth = words
                    .next()
                    .and_then(|d| d.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
                    .unwrap_or(0);
                stack.push(Invocation {
                    program,
                    depth,
                    instruction: None,
                    units: 0,
                });
            }
            "consumed" => {
                if let (Some(top), Some(units)) =
                    (stack.last_mut(), words.next().and_then(|n| n.parse().ok()))
                {
                    if top.program == program {
                        top.units = units;
                    }
                }
            }
            "success" | "failed:" => {
                if let Some(top) = stack.pop() {
                    if top.program == program && top.units > 0 {
                        done.push(top);
                    }
                }
            }
            _ => {}
        }
    }
    done
}

/// `StartJob` as `start_job`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len().saturating_add(4));
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The line [`record`] writes for a transaction whose logs were truncated.
pub const TRUNCATED: &str = "TRUNCATED";

/// The environment variable naming the file [`record`] appends to.
pub const LOG_VAR: &str = "GPU_MARKET_CU_LOG";

/// Appends `<program> <instruction> <units>` for each gpu-market invocation in `logs` to
/// the file `GPU_MARKET_CU_LOG` names, if it names one, and a [`TRUNCATED`] line first when
/// the runtime truncated the logs. Each line is one `write` to a file
/// opened for appending, so parallel tests do not interleave within a line.
pub fn record(logs: &[String]) {
    let Some(path) = std::env::var_os(LOG_VAR).map(PathBuf::from) else {
        return;
    };
    let mut lines = String::new();
    if logs.iter().any(|line| line == "Log truncated") {
        // The invocations cut off have unknown units: flag the run instead of under-counting.
        lines.push_str(TRUNCATED);
        lines.push('\n');
    }
    for invocation in invocations(logs) {
        let Some(program) = program_name(&invocation.program) else {
            continue;
        };
        let Some(instruction) = &invocation.instruction else {
            continue;
        };
        lines.push_str(&format!(
            "{program} {} {}\n",
            snake_case(instruction),
            invocation.units
        ));
    }
    if lines.is_empty() {
        return;
    }
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(lines.as_bytes()));
    if let Err(err) = written {
        eprintln!("{LOG_VAR}: cannot append to {}: {err}", path.display());
    }
}

/// The crate name of a gpu-market program id.
pub fn program_name(id: &Pubkey) -> Option<&'static str> {
    crate::program_ids::get()
        .all()
        .into_iter()
        .find(|(_, program)| program == id)
        .map(|(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(|l| l.trim().to_owned()).collect()
    }

    #[test]
    fn reads_nested_invocations_with_their_own_units() {
        let escrow = crate::program_ids::job_escrow();
        let staking = crate::program_ids::staking();
        let token = Pubkey::new_unique();
        let logs = lines(&format!(
            "Program {escrow} invoke [1]
             Program log: Instruction: StartJob
             Program {staking} invoke [2]
             Program log: Instruction: LockStake
             Program {token} invoke [3]
             Program log: Instruction: Transfer
             Program {token} consumed 120 of 180000 compute units
             Program {token} success
             Program {staking} consumed 9000 of 190000 compute units
             Program {staking} success
             Program {escrow} consumed 25000 of 200000 compute units
             Program {escrow} success"
        ));
        let found = invocations(&logs);
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].program, token);
        assert_eq!(found[1].instruction.as_deref(), Some("LockStake"));
        assert_eq!((found[1].depth, found[1].units), (2, 9_000));
        assert_eq!(found[2].instruction.as_deref(), Some("StartJob"));
        assert_eq!((found[2].depth, found[2].units), (1, 25_000));
    }

    #[test]
    fn a_failed_invocation_counts_and_a_truncated_log_stops_the_reading() {
        let escrow = crate::program_ids::job_escrow();
        let logs = lines(&format!(
            "Program {escrow} invoke [1]
             Program log: Instruction: CreateJob
             Program {escrow} consumed 5000 of 200000 compute units
             Program {escrow} failed: custom program error: 0x1770
             Program {escrow} invoke [1]
             Log truncated"
        ));
        let found = invocations(&logs);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].units, 5_000);
    }

    #[test]
    fn names_are_snake_cased() {
        assert_eq!(snake_case("StartJob"), "start_job");
        assert_eq!(snake_case("InitConfig"), "init_config");
        assert_eq!(
            program_name(&crate::program_ids::staking()),
            Some("staking")
        );
        assert_eq!(program_name(&Pubkey::new_unique()), None);
    }
}
