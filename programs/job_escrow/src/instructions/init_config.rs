//! Creates the market config. Called once per cluster; the signer becomes the admin. Each
//! allowed mint's account follows the instruction's accounts, so its extensions are checked.

use crate::{
    constants::MAX_ALLOWED_MINTS,
    error::EscrowError,
    events::MarketConfigInitialized,
    state::{MarketConfig, SlashAmounts},
};
use anchor_lang::prelude::*;
use staking::state::StakingConfig;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct InitConfigArgs {
    pub treasury: Pubkey,
    pub arbiter: Pubkey,
    pub protocol_fee_bps: u16,
    pub allowed_mints: Vec<Pubkey>,
    pub bid_window: i64,
    pub start_timeout: i64,
    pub heartbeat_grace: i64,
    pub challenge_window: i64,
    pub max_attempts: u8,
    pub slash: SlashAmounts,
    pub crank_tip: u64,
    pub dispute_bond: u64,
    pub max_job_duration: i64,
    /// The matcher service's key, `Pubkey::default()` for none.
    pub matcher: Pubkey,
    /// Seconds the matcher has an instant job to itself; zero without a matcher.
    pub match_window: i64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct InitConfig<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(
        init,
        payer = admin,
        space = MarketConfig::SPACE,
        seeds = [MarketConfig::SEED],
        bump,
    )]
    pub config: Account<'info, MarketConfig>,
    /// CHECK: the escrow authority PDA; only its bump is recorded.
    #[account(seeds = [MarketConfig::AUTHORITY_SEED], bump)]
    pub escrow_authority: UncheckedAccount<'info>,
    /// Staking's config, whose unbonding cooldown must outlast any job.
    #[account(
        seeds = [StakingConfig::SEED],
        bump = staking_config.bump,
        seeds::program = staking::ID,
    )]
    pub staking_config: Box<Account<'info, StakingConfig>>,
    pub system_program: Program<'info, System>,
}

impl InitConfig<'_> {
    pub fn handler(ctx: Context<Self>, args: InitConfigArgs) -> Result<()> {
        require!(
            args.allowed_mints.len() <= MAX_ALLOWED_MINTS,
            EscrowError::TooManyMints
        );
        crate::instructions::check_allowed_mints(&args.allowed_mints, ctx.remaining_accounts)?;
        let config = &mut ctx.accounts.config;
        config.set_inner(MarketConfig {
            admin: ctx.accounts.admin.key(),
            treasury: args.treasury,
            arbiter: args.arbiter,
            protocol_fee_bps: args.protocol_fee_bps,
            allowed_mints: args.allowed_mints,
            bid_window: args.bid_window,
            start_timeout: args.start_timeout,
            heartbeat_grace: args.heartbeat_grace,
            challenge_window: args.challenge_window,
            max_attempts: args.max_attempts,
            slash: args.slash,
            crank_tip: args.crank_tip,
            dispute_bond: args.dispute_bond,
            max_job_duration: args.max_job_duration,
            matcher: args.matcher,
            match_window: args.match_window,
            job_count: 0,
            bump: ctx.bumps.config,
            authority_bump: ctx.bumps.escrow_authority,
            pending: None,
        });
        config.invariant()?;
        config.check_cooldown(&ctx.accounts.staking_config)?;

        staking::emit_event!(
            authority = &ctx.accounts.event_authority,
            MarketConfigInitialized {
                admin: config.admin,
                treasury: config.treasury,
                arbiter: config.arbiter,
                protocol_fee_bps: config.protocol_fee_bps,
                allowed_mints: config.allowed_mints.clone(),
                escrow_authority: ctx.accounts.escrow_authority.key(),
            }
        );
        Ok(())
    }
}
