//! Changes market parameters, within their hard bounds. Admin only. Existing jobs keep the
//! terms they were created under (`JobTerms`); only new jobs see the change.

use crate::{
    constants::MAX_ALLOWED_MINTS,
    error::EscrowError,
    events::MarketConfigUpdated,
    state::{MarketConfig, SlashAmounts},
};
use anchor_lang::prelude::*;
use staking::state::StakingConfig;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default)]
pub struct UpdateConfigArgs {
    pub new_admin: Option<Pubkey>,
    pub treasury: Option<Pubkey>,
    pub arbiter: Option<Pubkey>,
    pub protocol_fee_bps: Option<u16>,
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
}

#[derive(Accounts)]
pub struct UpdateConfig<'info> {
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

impl UpdateConfig<'_> {
    pub fn handler(ctx: Context<Self>, args: UpdateConfigArgs) -> Result<()> {
        if let Some(mints) = &args.allowed_mints {
            require!(mints.len() <= MAX_ALLOWED_MINTS, EscrowError::TooManyMints);
        }
        let c = &mut ctx.accounts.config;
        if let Some(v) = args.new_admin {
            c.admin = v;
        }
        if let Some(v) = args.treasury {
            c.treasury = v;
        }
        if let Some(v) = args.arbiter {
            c.arbiter = v;
        }
        if let Some(v) = args.protocol_fee_bps {
            c.protocol_fee_bps = v;
        }
        if let Some(v) = args.allowed_mints {
            c.allowed_mints = v;
        }
        if let Some(v) = args.bid_window {
            c.bid_window = v;
        }
        if let Some(v) = args.start_timeout {
            c.start_timeout = v;
        }
        if let Some(v) = args.heartbeat_grace {
            c.heartbeat_grace = v;
        }
        if let Some(v) = args.challenge_window {
            c.challenge_window = v;
        }
        if let Some(v) = args.max_attempts {
            c.max_attempts = v;
        }
        if let Some(v) = args.slash {
            c.slash = v;
        }
        if let Some(v) = args.crank_tip {
            c.crank_tip = v;
        }
        if let Some(v) = args.dispute_bond {
            c.dispute_bond = v;
        }
        if let Some(v) = args.max_job_duration {
            c.max_job_duration = v;
        }
        c.invariant()?;
        c.check_cooldown(&ctx.accounts.staking_config)?;

        staking::emit_event!(MarketConfigUpdated {
            admin: c.admin,
            treasury: c.treasury,
            arbiter: c.arbiter,
            protocol_fee_bps: c.protocol_fee_bps,
            allowed_mints: c.allowed_mints.clone(),
        });
        Ok(())
    }
}
