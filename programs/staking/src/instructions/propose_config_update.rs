//! Proposes new staking parameters, including the slashers allowed to take stake. Admin
//! only. Nothing changes now: the proposal takes effect through `apply_config_update` once
//! `CONFIG_TIMELOCK` plus the current unbonding period has passed, so a staker who objects
//! can finish its jobs and unbond before a new slasher could touch its stake. It must
//! already satisfy every bound, and replaces any earlier proposal. The stake mint and vault
//! never change.

use crate::{
    constants::{CONFIG_TIMELOCK, MAX_SLASHERS},
    error::StakingError,
    events::StakingConfigUpdateProposed,
    state::{PendingConfigUpdate, StakingConfig},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

/// A change of staking parameters: `None` keeps the current value.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateConfigArgs {
    pub new_admin: Option<Pubkey>,
    pub unbonding_period: Option<i64>,
    pub treasury_share_bps: Option<u16>,
    #[max_len(MAX_SLASHERS)]
    pub slashers: Option<Vec<Pubkey>>,
}

#[event_cpi]
#[derive(Accounts)]
pub struct ProposeConfigUpdate<'info> {
    pub admin: Signer<'info>,
    #[account(
        mut,
        seeds = [StakingConfig::SEED],
        bump = config.bump,
        has_one = admin @ StakingError::NotAdmin,
    )]
    pub config: Account<'info, StakingConfig>,
    /// A new treasury token account, when it changes.
    #[account(token::mint = config.stake_mint)]
    pub new_treasury: Option<InterfaceAccount<'info, TokenAccount>>,
}

impl ProposeConfigUpdate<'_> {
    pub fn handler(ctx: Context<Self>, args: UpdateConfigArgs) -> Result<()> {
        if let Some(slashers) = &args.slashers {
            require!(
                slashers.len() <= MAX_SLASHERS,
                StakingError::TooManySlashers
            );
        }
        let now = Clock::get()?.unix_timestamp;
        let treasury = ctx.accounts.new_treasury.as_ref().map(|t| t.key());
        let config = &mut ctx.accounts.config;
        let mut after = config.clone().into_inner();
        after.apply(&args, treasury);
        after.invariant()?;
        let eta = now
            .checked_add(CONFIG_TIMELOCK)
            .and_then(|t| t.checked_add(config.unbonding_period))
            .ok_or(error!(StakingError::MathOverflow))?;
        config.pending = Some(PendingConfigUpdate {
            args: args.clone(),
            treasury,
            eta,
        });

        crate::emit_event!(
            authority = &ctx.accounts.event_authority,
            StakingConfigUpdateProposed {
                admin: config.admin,
                args,
                treasury,
                eta,
            }
        );
        Ok(())
    }
}
