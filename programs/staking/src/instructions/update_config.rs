//! Changes staking parameters. Admin only. The stake mint and vault never change.

use crate::{
    constants::MAX_SLASHERS, error::StakingError, events::StakingConfigUpdated,
    state::StakingConfig,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default)]
pub struct UpdateConfigArgs {
    pub new_admin: Option<Pubkey>,
    pub unbonding_period: Option<i64>,
    pub treasury_share_bps: Option<u16>,
    pub slashers: Option<Vec<Pubkey>>,
}

#[derive(Accounts)]
pub struct UpdateConfig<'info> {
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

impl UpdateConfig<'_> {
    fn validate(args: &UpdateConfigArgs) -> Result<()> {
        if let Some(slashers) = &args.slashers {
            require!(
                slashers.len() <= MAX_SLASHERS,
                StakingError::TooManySlashers
            );
        }
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: UpdateConfigArgs) -> Result<()> {
        Self::validate(&args)?;
        let config = &mut ctx.accounts.config;
        if let Some(admin) = args.new_admin {
            config.admin = admin;
        }
        if let Some(period) = args.unbonding_period {
            config.unbonding_period = period;
        }
        if let Some(bps) = args.treasury_share_bps {
            config.treasury_share_bps = bps;
        }
        if let Some(slashers) = args.slashers {
            config.slashers = slashers;
        }
        if let Some(treasury) = &ctx.accounts.new_treasury {
            config.treasury = treasury.key();
        }
        config.invariant()?;

        crate::emit_event!(StakingConfigUpdated {
            admin: config.admin,
            treasury: config.treasury,
            unbonding_period: config.unbonding_period,
            treasury_share_bps: config.treasury_share_bps,
            slashers: config.slashers.clone(),
        });
        Ok(())
    }
}
