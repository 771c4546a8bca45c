//! Events: epochs, uptime records and claims, with amounts.

use anchor_lang::prelude::*;

#[event]
pub struct EmissionConfigInitialized {
    pub admin: Pubkey,
    pub reward_mint: Pubkey,
    pub genesis_time: i64,
    pub epoch_length: i64,
    pub record_interval: i64,
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
pub struct UptimeFolded {
    pub epoch: u64,
    pub shard: u8,
    /// Reward records folded by this transaction (records with nothing to fold are skipped).
    pub records: u64,
    pub weight: u64,
    pub shard_weight_after: u128,
}

#[event]
pub struct EpochFinalized {
    pub epoch: u64,
    pub emission: u64,
    pub total_weight: u128,
    /// Reward records folded into the epoch.
    pub providers: u64,
    pub total_allocated_after: u64,
}

#[event]
pub struct UptimeRecorded {
    pub provider: Pubkey,
    pub epoch: u64,
    pub weight: u64,
    pub provider_epoch_weight: u64,
    /// Rewards of finished epochs settled by this record.
    pub settled: u64,
    /// Weight of finished epochs that was never folded into their totals, and earns nothing.
    pub forfeited: u64,
    pub unclaimed_after: u64,
}

#[event]
pub struct RewardsClaimed {
    pub provider: Pubkey,
    pub amount: u64,
    pub total_claimed_after: u64,
    pub total_minted_after: u64,
}
