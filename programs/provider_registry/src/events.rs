//! Events: every state change of the registry.

use crate::{
    instructions::UpdateConfigArgs,
    state::{Hardware, Outcome, ProviderStatus, Reputation},
};
use anchor_lang::prelude::*;

#[event]
pub struct RegistryConfigInitialized {
    pub admin: Pubkey,
    pub stake_mint: Pubkey,
    pub min_stake_per_gpu: u64,
    pub heartbeat_interval: i64,
    pub liveness_grace: i64,
    pub exit_notice: i64,
    pub auditors: Vec<Pubkey>,
    pub escrow_authority: Pubkey,
    pub max_benchmark_score: u32,
}

/// A change of registry parameters was proposed; it can be applied from `eta` on.
#[event]
pub struct RegistryConfigUpdateProposed {
    pub admin: Pubkey,
    pub args: UpdateConfigArgs,
    pub eta: i64,
}

#[event]
pub struct RegistryConfigUpdateCancelled {
    pub admin: Pubkey,
    pub args: UpdateConfigArgs,
    pub eta: i64,
}

#[event]
pub struct RegistryConfigUpdated {
    pub admin: Pubkey,
    pub min_stake_per_gpu: u64,
    pub heartbeat_interval: i64,
    pub liveness_grace: i64,
    pub exit_notice: i64,
    pub auditors: Vec<Pubkey>,
    pub escrow_authority: Pubkey,
    pub max_benchmark_score: u32,
}

#[event]
pub struct ProviderRegistered {
    pub provider: Pubkey,
    pub authority: Pubkey,
    pub operator: Pubkey,
    pub region: u16,
    pub hardware: Hardware,
    pub benchmark_score: u32,
    pub price_per_gpu_hour: u64,
    pub payment_mint: Pubkey,
    pub active_stake: u64,
    pub provider_count: u64,
}

#[event]
pub struct ProviderUpdated {
    pub provider: Pubkey,
    pub endpoint: String,
    pub region: u16,
    pub hardware: Hardware,
    pub benchmark_score: u32,
    pub price_per_gpu_hour: u64,
    pub payment_mint: Pubkey,
    pub attested: bool,
}

#[event]
pub struct OperatorChanged {
    pub provider: Pubkey,
    pub old_operator: Pubkey,
    pub new_operator: Pubkey,
}

#[event]
pub struct ProviderStatusChanged {
    pub provider: Pubkey,
    pub old_status: ProviderStatus,
    pub new_status: ProviderStatus,
    /// When the notice ends, for a provider that begins its exit; 0 otherwise.
    pub exit_notice_ends_at: i64,
}

#[event]
pub struct HeartbeatRecorded {
    pub provider: Pubkey,
    pub at: i64,
    pub previous: i64,
}

#[event]
pub struct ProviderAttested {
    pub provider: Pubkey,
    pub auditor: Pubkey,
    pub spec_hash: [u8; 32],
    pub at: i64,
}

#[event]
pub struct ProviderRetired {
    pub provider: Pubkey,
    pub authority: Pubkey,
    pub reputation: Reputation,
    pub provider_count: u64,
}

#[event]
pub struct CapacityReserved {
    pub provider: Pubkey,
    pub gpus: u16,
    pub gpus_in_use_after: u16,
    pub gpu_count: u16,
    pub jobs_held_after: u16,
}

#[event]
pub struct CapacityReleased {
    pub provider: Pubkey,
    pub gpus: u16,
    pub gpus_in_use_after: u16,
    pub gpu_count: u16,
}

#[event]
pub struct OutcomeRecorded {
    pub provider: Pubkey,
    pub outcome: Outcome,
    pub reputation_after: Reputation,
    pub jobs_held_after: u16,
    /// GPUs freed with the outcome (0 when the job held none).
    pub gpus_released: u16,
    pub gpus_in_use_after: u16,
}
