//! Creates the registry config. Called once per cluster; the signer becomes the admin.

use crate::{error::RegistryError, events::RegistryConfigInitialized, state::RegistryConfig};
use anchor_lang::prelude::*;
use staking::state::StakingConfig;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct InitConfigArgs {
    pub min_stake_per_gpu: u64,
    pub heartbeat_interval: i64,
    pub liveness_grace: i64,
    pub exit_notice: i64,
    pub auditors: Vec<Pubkey>,
    pub escrow_authority: Pubkey,
    pub max_benchmark_score: u32,
}

#[event_cpi]
#[derive(Accounts)]
pub struct InitConfig<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(
        init,
        payer = admin,
        space = RegistryConfig::SPACE,
        seeds = [RegistryConfig::SEED],
        bump,
    )]
    pub config: Account<'info, RegistryConfig>,
    /// The staking program's config, for its stake mint.
    #[account(
        seeds = [StakingConfig::SEED],
        bump = staking_config.bump,
        seeds::program = staking::ID,
    )]
    pub staking_config: Account<'info, StakingConfig>,
    pub system_program: Program<'info, System>,
}

impl InitConfig<'_> {
    pub fn handler(ctx: Context<Self>, args: InitConfigArgs) -> Result<()> {
        require!(
            args.auditors.len() <= crate::constants::MAX_AUDITORS,
            RegistryError::TooManyAuditors
        );
        let config = &mut ctx.accounts.config;
        config.set_inner(RegistryConfig {
            admin: ctx.accounts.admin.key(),
            staking_program: staking::ID,
            stake_mint: ctx.accounts.staking_config.stake_mint,
            min_stake_per_gpu: args.min_stake_per_gpu,
            heartbeat_interval: args.heartbeat_interval,
            liveness_grace: args.liveness_grace,
            exit_notice: args.exit_notice,
            auditors: args.auditors,
            max_benchmark_score: args.max_benchmark_score,
            escrow_authority: args.escrow_authority,
            provider_count: 0,
            bump: ctx.bumps.config,
            pending: None,
        });
        config.invariant()?;

        staking::emit_event!(
            authority = &ctx.accounts.event_authority,
            RegistryConfigInitialized {
                admin: config.admin,
                stake_mint: config.stake_mint,
                min_stake_per_gpu: config.min_stake_per_gpu,
                heartbeat_interval: config.heartbeat_interval,
                liveness_grace: config.liveness_grace,
                exit_notice: config.exit_notice,
                auditors: config.auditors.clone(),
                escrow_authority: config.escrow_authority,
                max_benchmark_score: config.max_benchmark_score,
            }
        );
        Ok(())
    }
}
