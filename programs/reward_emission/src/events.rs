//! Events: epochs, uptime records and claims, with amounts.

use anchor_lang::prelude::*;

#[event]
pub struct EmissionConfigInitialized {
    pub admin: Pubkey,
    pub reward_mint: Pubkey,
    pub genesis_time: i64,
    pub epoch_length: i64,
    pub first_epoch_emission: u64,
    pub decay_bps: u16,
    pub decay_period_epochs: u64,
    pub hard_cap: u64,
}

#[event]
pub struct EmissionConfigUpdated {
    pub admin: Pubkey,
    pub hard_cap: u64,
}

#[event]
pub struct EpochOpened {
    pub epoch: u64,
    pub emission: u64,
    pub total_allocated_after: u64,
}

#[event]
pub struct UptimeRecorded {
    pub provider: Pubkey,
    pub epoch: u64,
    pub weight: u64,
    pub provider_epoch_weight: u64,
    pub epoch_total_weight: u128,
    /// Rewards of a finished epoch settled by this record.
    pub settled: u64,
    pub unclaimed_after: u64,
}

#[event]
pub struct RewardsClaimed {
    pub provider: Pubkey,
    pub amount: u64,
    pub total_claimed_after: u64,
    pub total_minted_after: u64,
}
