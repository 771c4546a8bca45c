//! Events: every job transition, with amounts and resulting balances.

use crate::state::{JobKind, JobMode};
use anchor_lang::prelude::*;

#[event]
pub struct MarketConfigInitialized {
    pub admin: Pubkey,
    pub treasury: Pubkey,
    pub arbiter: Pubkey,
    pub protocol_fee_bps: u16,
    pub allowed_mints: Vec<Pubkey>,
    pub escrow_authority: Pubkey,
}

#[event]
pub struct JobCreated {
    pub job: Pubkey,
    pub client: Pubkey,
    pub job_id: u64,
    pub kind: JobKind,
    pub mode: JobMode,
    pub gpu_count: u16,
    pub max_price_per_gpu_hour: u64,
    pub max_duration: i64,
    pub payment_mint: Pubkey,
    pub escrowed: u64,
    pub crank_tip: u64,
}

#[event]
pub struct JobCancelled {
    pub job: Pubkey,
    pub client: Pubkey,
    pub refunded: u64,
}

#[event]
pub struct JobAssigned {
    pub job: Pubkey,
    pub provider: Pubkey,
    pub price_per_gpu_hour: u64,
    pub attempt: u8,
}

#[event]
pub struct JobStarted {
    pub job: Pubkey,
    pub provider: Pubkey,
    pub started_at: i64,
    pub time_to_start: i64,
}

#[event]
pub struct JobHeartbeat {
    pub job: Pubkey,
    pub at: i64,
}

#[event]
pub struct ResultSubmitted {
    pub job: Pubkey,
    pub provider: Pubkey,
    pub hash: [u8; 32],
    pub uri: String,
    pub billable_seconds: u64,
}

#[event]
pub struct JobSettled {
    pub job: Pubkey,
    pub client: Pubkey,
    pub provider: Pubkey,
    pub gpu_seconds: u64,
    pub to_provider: u64,
    pub fee: u64,
    pub refund: u64,
    /// The client approved; otherwise the challenge window ran out.
    pub approved: bool,
}
