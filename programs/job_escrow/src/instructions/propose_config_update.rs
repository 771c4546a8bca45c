//! Proposes new market parameters. Admin only. Nothing changes now: the proposal takes
//! effect through `apply_config_update` once `CONFIG_TIMELOCK` (longer than any job can
//! live) has passed, so every participant sees it coming and can leave first. It must
//! already satisfy every bound, and replaces any earlier proposal. Existing jobs keep the
//! terms they were created under (`JobTerms`) in any case. A new allow-list of mints comes
//! with each mint's account after the instruction's accounts, so its extensions are checked.

use crate::{
    constants::{CONFIG_TIMELOCK, MAX_ALLOWED_MINTS},
    error::EscrowError,
    events::MarketConfigUpdateProposed,
    state::{MarketConfig, PendingConfigUpdate, SlashAmounts},
};
use anchor_lang::prelude::*;
use staking::state::StakingConfig;

/// A change of market parameters: `None` keeps the current value.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateConfigArgs {
    pub new_admin: Option<Pubkey>,
    pub treasury: Option<Pubkey>,
    pub arbiter: Option<Pubkey>,
    pub protocol_fee_bps: Option<u16>,
    #[max_len(MAX_ALLOWED_MINTS)]
    pub allowed_mints: Option<Vec<Pubkey>>,
    pub bid_window: Option<i64>,
    pub start_timeout: Option<i64>,
    pub heartbeat_grace: Option<i64>,
    pub challenge_window: Option<i64>,
    pub max_attempts: Option<u8>,
    pub slash: Option<SlashAmounts>,
    pub crank_tip: Option<u64>,
    pub dispute_bond: Option<u64>,
    pub max_job_duration: Option<i64>,
    /// `Some(Pubkey::default())` removes the matcher (with a zero match window).
    pub matcher: Option<Pubkey>,
    pub match_window: Option<i64>,
}

#[event_cpi]
#[derive(Accounts)]
pub struct ProposeConfigUpdate<'info> {
    pub admin: Signer<'info>,
    #[account(
        mut,
        seeds = [MarketConfig::SEED],
        bump = config.bump,
        has_one = admin @ EscrowError::NotAdmin,
    )]
    pub config: Box<Account<'info, MarketConfig>>,
    /// Staking's config, whose unbonding cooldown must outlast any job.
    #[account(
        seeds = [StakingConfig::SEED],
        bump = staking_config.bump,
        seeds::program = staking::ID,
    )]
    pub staking_config: Box<Account<'info, StakingConfig>>,
}

impl ProposeConfigUpdate<'_> {
    pub fn handler(ctx: Context<Self>, args: UpdateConfigArgs) -> Result<()> {
        if let Some(mints) = &args.allowed_mints {
            require!(mints.len() <= MAX_ALLOWED_MINTS, EscrowError::TooManyMints);
            crate::instructions::check_allowed_mints(mints, ctx.remaining_accounts)?;
        }
        let now = Clock::get()?.unix_timestamp;
        let config = &mut ctx.accounts.config;
        // What the config would become must hold now; it is checked again when applied.
        let mut after = config.clone().into_inner();
        after.apply(&args);
        after.invariant()?;
        after.check_cooldown(&ctx.accounts.staking_config)?;
        let eta = now
            .checked_add(CONFIG_TIMELOCK)
            .ok_or(error!(EscrowError::MathOverflow))?;
        config.pending = Some(PendingConfigUpdate {
            args: args.clone(),
            eta,
        });

        staking::emit_event!(
            authority = &ctx.accounts.event_authority,
            MarketConfigUpdateProposed {
                admin: config.admin,
                args,
                eta,
            }
        );
        Ok(())
    }
}
