//! Events: every state change, with amounts and resulting balances.

use crate::{instructions::UpdateConfigArgs, state::SlashReason};
use anchor_lang::prelude::*;

/// Prefix of an event logged by a natively built program (see [`emit_event!`]).
pub const NATIVE_EVENT_PREFIX: &str = "event: ";

/// Emits an Anchor event. On chain this is exactly Anchor's `emit!` (`sol_log_data`, seen
/// as `Program data: <base64>`). Anchor's native build drops event data, so a natively
/// built program (the in-process test chain) logs `Program log: event: <base64>` through
/// the runtime's log stub instead, which keeps events observable in `cargo test`.
#[macro_export]
macro_rules! emit_event {
    ($event:expr) => {{
        #[cfg(target_os = "solana")]
        anchor_lang::prelude::emit!($event);
        #[cfg(not(target_os = "solana"))]
        $crate::events::log_native(&anchor_lang::Event::data(&$event));
    }};
}

/// The native half of [`emit_event!`].
#[cfg(not(target_os = "solana"))]
pub fn log_native(data: &[u8]) {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    anchor_lang::compat::solana_sysvar::program_stubs::sol_log(&format!(
        "{NATIVE_EVENT_PREFIX}{encoded}"
    ));
}

#[event]
pub struct StakingConfigInitialized {
    pub admin: Pubkey,
    pub stake_mint: Pubkey,
    pub vault: Pubkey,
    pub treasury: Pubkey,
    pub unbonding_period: i64,
    pub treasury_share_bps: u16,
    pub slashers: Vec<Pubkey>,
}

#[event]
pub struct StakingConfigUpdated {
    pub admin: Pubkey,
    pub treasury: Pubkey,
    pub unbonding_period: i64,
    pub treasury_share_bps: u16,
    pub slashers: Vec<Pubkey>,
}

/// A change of staking parameters was proposed; it can be applied from `eta` on.
#[event]
pub struct StakingConfigUpdateProposed {
    pub admin: Pubkey,
    pub args: UpdateConfigArgs,
    pub treasury: Option<Pubkey>,
    pub eta: i64,
}

#[event]
pub struct StakingConfigUpdateCancelled {
    pub admin: Pubkey,
    pub args: UpdateConfigArgs,
    pub eta: i64,
}

#[event]
pub struct Staked {
    pub owner: Pubkey,
    pub amount: u64,
    pub active_after: u64,
    pub unbonding_after: u64,
    pub total_active_after: u64,
}

#[event]
pub struct UnstakeRequested {
    pub owner: Pubkey,
    pub amount: u64,
    pub active_after: u64,
    pub unbonding_after: u64,
    pub unbonding_ends_at: i64,
}

#[event]
pub struct UnstakeCancelled {
    pub owner: Pubkey,
    pub amount: u64,
    pub active_after: u64,
}

#[event]
pub struct StakeWithdrawn {
    pub owner: Pubkey,
    pub amount: u64,
    pub active_after: u64,
    pub vault_balance_after: u64,
}

#[event]
pub struct StakeSlashed {
    pub owner: Pubkey,
    pub slasher: Pubkey,
    pub reason: SlashReason,
    pub requested: u64,
    pub slashed: u64,
    pub from_active: u64,
    pub from_unbonding: u64,
    pub to_recipient: u64,
    pub recipient: Pubkey,
    pub to_treasury: u64,
    pub active_after: u64,
    pub unbonding_after: u64,
    pub total_slashed_after: u64,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StakeLockChange {
    Locked,
    Unlocked,
}

/// Stake was locked behind a job, or a job's lock was released.
#[event]
pub struct StakeLockChanged {
    pub owner: Pubkey,
    pub change: StakeLockChange,
    pub amount: u64,
    pub locked_after: u64,
    pub active_after: u64,
}

/// The treasury's share of slashes left the vault for the treasury's token account.
#[event]
pub struct TreasuryCollected {
    pub treasury: Pubkey,
    pub amount: u64,
}
