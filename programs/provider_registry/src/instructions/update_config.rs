//! Changes registry parameters. Admin only.

use crate::{
    constants::MAX_AUDITORS, error::RegistryError, events::RegistryConfigUpdated,
    state::RegistryConfig,
};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default)]
pub struct UpdateConfigArgs {
    pub new_admin: Option<Pubkey>,
    pub min_stake_per_gpu: Option<u64>,
    pub heartbeat_interval: Option<i64>,
    pub liveness_grace: Option<i64>,
    pub exit_notice: Option<i64>,
    pub auditors: Option<Vec<Pubkey>>,
    pub escrow_authority: Option<Pubkey>,
    pub max_benchmark_score: Option<u32>,
}

#[derive(Accounts)]
pub struct UpdateConfig<'info> {
    pub admin: Signer<'info>,
    #[account(
        mut,
        seeds = [RegistryConfig::SEED],
        bump = config.bump,
        has_one = admin @ RegistryError::NotAdmin,
    )]
    pub config: Account<'info, RegistryConfig>,
}

impl UpdateConfig<'_> {
    pub fn handler(ctx: Context<Self>, args: UpdateConfigArgs) -> Result<()> {
        if let Some(auditors) = &args.auditors {
            require!(
                auditors.len() <= MAX_AUDITORS,
                RegistryError::TooManyAuditors
            );
        }
        let config = &mut ctx.accounts.config;
        if let Some(admin) = args.new_admin {
            config.admin = admin;
        }
        if let Some(v) = args.min_stake_per_gpu {
            config.min_stake_per_gpu = v;
        }
        if let Some(v) = args.heartbeat_interval {
            config.heartbeat_interval = v;
        }
        if let Some(v) = args.liveness_grace {
            config.liveness_grace = v;
        }
        if let Some(v) = args.exit_notice {
            config.exit_notice = v;
        }
        if let Some(v) = args.auditors {
            config.auditors = v;
        }
        if let Some(v) = args.escrow_authority {
            config.escrow_authority = v;
        }
        if let Some(v) = args.max_benchmark_score {
            config.max_benchmark_score = v;
        }
        config.invariant()?;

        staking::emit_event!(RegistryConfigUpdated {
            admin: config.admin,
            min_stake_per_gpu: config.min_stake_per_gpu,
            heartbeat_interval: config.heartbeat_interval,
            liveness_grace: config.liveness_grace,
            exit_notice: config.exit_notice,
            auditors: config.auditors.clone(),
            escrow_authority: config.escrow_authority,
        });
        Ok(())
    }
}
