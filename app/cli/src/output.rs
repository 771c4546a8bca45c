//! Output: text or JSON, tables for lists, and the dry-run view of a transaction.

use anchor_lang::solana_program::{instruction::Instruction, pubkey::Pubkey};
use base64::Engine;
use clap::ValueEnum;
use serde::Serialize;
use solana_transaction::Transaction;
use std::{fmt, io::Write as _};

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text and tables.
    Text,
    /// JSON, for scripts.
    Json,
}

/// A transaction that was not sent: the unsigned transaction, base64 (bincode, as
/// `solana confirm`/explorers decode it), and its instructions decoded.
#[derive(Debug, Clone, Serialize)]
pub struct DryRun {
    pub fee_payer: String,
    /// The unsigned transaction, bincode-serialised, base64.
    pub transaction: String,
    pub instructions: Vec<InstructionView>,
}

/// One instruction of a dry run.
#[derive(Debug, Clone, Serialize)]
pub struct InstructionView {
    pub program: String,
    pub name: String,
    pub accounts: Vec<AccountView>,
    /// The instruction data, base64.
    pub data: String,
}

/// One account of an instruction.
#[derive(Debug, Clone, Serialize)]
pub struct AccountView {
    pub pubkey: String,
    pub signer: bool,
    pub writable: bool,
}

impl DryRun {
    /// The dry-run view of `ixs` paid by `payer`.
    pub fn new(ixs: &[Instruction], payer: &Pubkey) -> Self {
        let tx = Transaction::new_with_payer(ixs, Some(payer));
        let b64 = base64::engine::general_purpose::STANDARD;
        let transaction = bincode::serialize(&tx)
            .map(|bytes| b64.encode(bytes))
            .unwrap_or_default();
        Self {
            fee_payer: payer.to_string(),
            transaction,
            instructions: ixs
                .iter()
                .map(|ix| InstructionView {
                    program: program_name(&ix.program_id),
                    name: instruction_name(ix),
                    accounts: ix
                        .accounts
                        .iter()
                        .map(|a| AccountView {
                            pubkey: a.pubkey.to_string(),
                            signer: a.is_signer,
                            writable: a.is_writable,
                        })
                        .collect(),
                    data: b64.encode(&ix.data),
                })
                .collect(),
        }
    }
}

impl fmt::Display for DryRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "dry run: nothing was sent")?;
        writeln!(f, "fee payer: {}", self.fee_payer)?;
        for (i, ix) in self.instructions.iter().enumerate() {
            writeln!(f, "instruction {i}: {} {}", ix.program, ix.name)?;
            for a in &ix.accounts {
                let flags = match (a.signer, a.writable) {
                    (true, true) => "signer, writable",
                    (true, false) => "signer",
                    (false, true) => "writable",
                    (false, false) => "",
                };
                writeln!(f, "  {} {flags}", a.pubkey)?;
            }
            writeln!(f, "  data: {}", ix.data)?;
        }
        write!(f, "transaction (base64): {}", self.transaction)
    }
}

fn program_name(id: &Pubkey) -> String {
    let token = [
        ("spl_token", gpu_market_client::token::TOKEN_PROGRAM),
        (
            "spl_token_2022",
            gpu_market_client::token::TOKEN_2022_PROGRAM,
        ),
    ];
    gpu_market_client::program_ids::get()
        .all()
        .into_iter()
        .chain(token)
        .find(|(_, k)| k == id)
        .map_or_else(|| id.to_string(), |(name, _)| name.to_string())
}

/// The Anchor instruction name behind the data's 8-byte discriminator, where known.
fn instruction_name(ix: &Instruction) -> String {
    use anchor_lang::Discriminator;
    macro_rules! names {
        ($($module:ident :: $ty:ident => $name:literal),* $(,)?) => {
            [$(($module::instruction::$ty::DISCRIMINATOR, $name)),*]
        };
    }
    let known: &[(&[u8], &str)] = &names![
        staking::Stake => "stake",
        staking::RequestUnstake => "request_unstake",
        staking::CancelUnstake => "cancel_unstake",
        staking::Withdraw => "withdraw",
        provider_registry::RegisterProvider => "register_provider",
        provider_registry::UpdateProvider => "update_provider",
        provider_registry::SetOperator => "set_operator",
        provider_registry::PauseProvider => "pause_provider",
        provider_registry::ResumeProvider => "resume_provider",
        provider_registry::Heartbeat => "heartbeat",
        provider_registry::BeginExit => "begin_exit",
        provider_registry::RetireProvider => "retire_provider",
        job_escrow::CreateJob => "create_job",
        job_escrow::CancelJob => "cancel_job",
        job_escrow::PlaceBid => "place_bid",
        job_escrow::AcceptJob => "accept_job",
        job_escrow::AssignJob => "assign_job",
        job_escrow::DeclineJob => "decline_job",
        job_escrow::RemoveMatcher => "remove_matcher",
        job_escrow::CloseAuction => "close_auction",
        job_escrow::ReclaimJob => "reclaim_job",
        job_escrow::ApproveResult => "approve_result",
        job_escrow::FinalizeJob => "finalize_job",
        job_escrow::DisputeResult => "dispute_result",
        job_escrow::ExtendJob => "extend_job",
        job_escrow::CloseLease => "close_lease",
        job_escrow::ExpireJob => "expire_job",
        reward_emission::ClaimRewards => "claim_rewards",
        reward_emission::RecordUptime => "record_uptime",
    ];
    known
        .iter()
        .find(|(d, _)| ix.data.starts_with(d))
        .map_or_else(|| "instruction".to_string(), |(_, n)| (*n).to_string())
}

/// Writes `value` to `out` in `format`: pretty JSON, or its `Display` text.
pub fn print<T: Serialize + fmt::Display>(
    format: OutputFormat,
    out: &mut dyn std::io::Write,
    value: &T,
) -> Result<(), crate::CliError> {
    match format {
        OutputFormat::Json => {
            let json = serde_json::to_string_pretty(value)
                .map_err(|e| crate::CliError::input(format!("cannot encode output: {e}")))?;
            writeln!(out, "{json}")?;
        }
        OutputFormat::Text => writeln!(out, "{value}")?,
    }
    Ok(())
}

/// A plain text table: a header row, then the rows, columns padded to their widest cell.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = vec![line(headers.to_vec())];
    for row in rows {
        out.push(line(row.iter().map(String::as_str).collect()));
    }
    out.join("\n")
}

/// A chain time (unix seconds) as a UTC date, e.g. `2026-12-02T06:15:32Z`.
pub use crate::units::format_date as date;

/// The time now as a UTC date.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// A short form of an address for tables: first and last four characters.
pub fn short(key: &Pubkey) -> String {
    let s = key.to_string();
    format!("{}..{}", &s[..4], &s[s.len() - 4..])
}

/// Natively run programs print their `msg!` lines straight to stdout; while a chain runs
/// in this process, stdout points at /dev/null so that it carries only what the command
/// prints, through [`QuietStdout::original`].
pub struct QuietStdout {
    saved: std::os::fd::OwnedFd,
}

impl QuietStdout {
    pub fn new() -> Result<Self, crate::CliError> {
        use std::os::fd::AsFd;
        std::io::stdout().flush()?;
        let saved = rustix::io::dup(std::io::stdout().as_fd()).map_err(std::io::Error::from)?;
        let null = std::fs::OpenOptions::new().write(true).open("/dev/null")?;
        rustix::stdio::dup2_stdout(&null).map_err(std::io::Error::from)?;
        Ok(Self { saved })
    }

    /// A handle on the real stdout.
    pub fn original(&self) -> Result<std::fs::File, crate::CliError> {
        Ok(std::fs::File::from(self.saved.try_clone()?))
    }
}

impl Drop for QuietStdout {
    fn drop(&mut self) {
        let _ = std::io::stdout().flush();
        let _ = rustix::stdio::dup2_stdout(&self.saved);
    }
}
