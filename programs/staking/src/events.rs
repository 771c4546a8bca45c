//! Events: every state change, with amounts and resulting balances.

use crate::{instructions::UpdateConfigArgs, state::SlashReason};
use anchor_lang::prelude::*;

/// Prefix of an event logged by a natively built program (see [`emit_event!`]).
pub const NATIVE_EVENT_PREFIX: &str = "event: ";

/// Emits an Anchor event.
///
/// `emit_event!(authority = <event authority account>, event)`: on chain this is Anchor's
/// `emit_cpi!`, a call of the program into itself (see [`emit_cpi`]) that carries the event
/// in the transaction's inner instructions, where log truncation cannot lose it; the
/// instruction's accounts come from `#[event_cpi]`. Every instruction of the four programs
/// emits this way.
///
/// Anchor's native build drops event data and a native program cannot call itself through
/// the test bank, so a natively built program (the in-process test chain) logs
/// `Program log: event: <base64>` through the runtime's log stub instead, which keeps
/// events observable in `cargo test`.
#[macro_export]
#[allow(
    clippy::crate_in_macro_def,
    reason = "the emitting program's own id and event authority: the caller's crate"
)]
macro_rules! emit_event {
    (authority = $authority:expr, $event:expr) => {{
        let authority: &anchor_lang::prelude::AccountInfo = $authority;
        #[cfg(target_os = "solana")]
        $crate::events::emit_cpi(
            &crate::ID,
            crate::EVENT_AUTHORITY_AND_BUMP.1,
            authority,
            anchor_lang::Event::data(&$event),
        )?;
        #[cfg(not(target_os = "solana"))]
        {
            let _ = authority;
            $crate::events::log_native(&anchor_lang::Event::data(&$event));
        }
    }};
}

/// The on-chain half of `emit_event!(authority = ..)`, as Anchor's `emit_cpi!`: invokes
/// `program_id` with Anchor's event tag and `event`, signed by its event-authority PDA
/// (`bump` is that PDA's). Anchor's dispatcher accepts the call only with that signature, so
/// no other program can put an event in this program's name.
pub fn emit_cpi(
    program_id: &Pubkey,
    bump: u8,
    authority: &AccountInfo,
    event: Vec<u8>,
) -> Result<()> {
    let mut data = Vec::with_capacity(
        event
            .len()
            .saturating_add(anchor_lang::event::EVENT_IX_TAG_LE.len()),
    );
    data.extend_from_slice(anchor_lang::event::EVENT_IX_TAG_LE);
    data.extend(event);
    let ix = anchor_lang::solana_program::instruction::Instruction {
        program_id: *program_id,
        accounts: vec![AccountMeta::new_readonly(*authority.key, true)],
        data,
    };
    anchor_lang::solana_program::program::invoke_signed(
        &ix,
        std::slice::from_ref(authority),
        &[&[EVENT_AUTHORITY_SEED, &[bump]]],
    )
    .map_err(Into::into)
}

/// The seed of a program's event-authority PDA (Anchor's `#[event_cpi]`).
pub const EVENT_AUTHORITY_SEED: &[u8] = b"__event_authority";

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
    /// The job's lock released before the slash.
    pub lock_released: u64,
    /// What stays locked: the other jobs' locks, less what the slash took from them.
    pub locked_after: u64,
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
