//! Proposes new registry parameters (including the escrow authority that may reserve
//! capacity and write outcomes). Admin only. Nothing changes now: the proposal takes effect
//! through `apply_config_update` once `CONFIG_TIMELOCK` has passed, longer than any job can
//! live. It must already satisfy every bound, and replaces any earlier proposal.

use crate::{
    constants::{CONFIG_TIMELOCK, MAX_AUDITORS},
    error::RegistryError,
    events::RegistryConfigUpdateProposed,
    state::{PendingConfigUpdate, RegistryConfig},
};
use anchor_lang::prelude::*;

/// A change of registry parameters: `None` keeps the current value.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateConfigArgs {
    pub new_admin: Option<Pubkey>,
    pub min_stake_per_gpu: Option<u64>,
    pub heartbeat_interval: Option<i64>,
    pub liveness_grace: Option<i64>,
    pub exit_notice: Option<i64>,
    #[max_len(MAX_AUDITORS)]
    pub auditors: Option<Vec<Pubkey>>,
    pub escrow_authority: Option<Pubkey>,
    pub max_benchmark_score: Option<u32>,
}

#[event_cpi]
#[derive(Accounts)]
pub struct ProposeConfigUpdate<'info> {
    pub admin: Signer<'info>,
    #[account(
        mut,
        seeds = [RegistryConfig::SEED],
        bump = config.bump,
        has_one = admin @ RegistryError::NotAdmin,
    )]
    pub config: Account<'info, RegistryConfig>,
}

impl ProposeConfigUpdate<'_> {
    pub fn handler(ctx: Context<Self>, args: UpdateConfigArgs) -> Result<()> {
        if let Some(auditors) = &args.auditors {
            require!(
                auditors.len() <= MAX_AUDITORS,
                RegistryError::TooManyAuditors
            );
        }
        let now = Clock::get()?.unix_timestamp;
        let config = &mut ctx.accounts.config;
        let mut after = config.clone().into_inner();
        after.apply(&args);
        after.invariant()?;
        let eta = now
            .checked_add(CONFIG_TIMELOCK)
            .ok_or(error!(RegistryError::MathOverflow))?;
        config.pending = Some(PendingConfigUpdate {
            args: args.clone(),
            eta,
        });

        staking::emit_event!(
            authority = &ctx.accounts.event_authority,
            RegistryConfigUpdateProposed {
                admin: config.admin,
                args,
                eta,
            }
        );
        Ok(())
    }
}
