//! Creates the staking config and the pooled vault. Called once per cluster, by the admin.

use crate::{
    constants::MAX_SLASHERS, error::StakingError, events::StakingConfigInitialized,
    state::StakingConfig,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct InitConfigArgs {
    pub unbonding_period: i64,
    pub treasury_share_bps: u16,
    pub slashers: Vec<Pubkey>,
}

#[event_cpi]
#[derive(Accounts)]
pub struct InitConfig<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(
        init,
        payer = admin,
        space = StakingConfig::SPACE,
        seeds = [StakingConfig::SEED],
        bump,
    )]
    pub config: Account<'info, StakingConfig>,
    #[account(mint::token_program = token_program)]
    pub stake_mint: InterfaceAccount<'info, Mint>,
    #[account(
        init,
        payer = admin,
        seeds = [StakingConfig::VAULT_SEED],
        bump,
        token::mint = stake_mint,
        token::authority = config,
        token::token_program = token_program,
    )]
    pub vault: InterfaceAccount<'info, TokenAccount>,
    #[account(token::mint = stake_mint)]
    pub treasury: InterfaceAccount<'info, TokenAccount>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl InitConfig<'_> {
    fn validate(&self, args: &InitConfigArgs) -> Result<()> {
        require!(
            args.slashers.len() <= MAX_SLASHERS,
            StakingError::TooManySlashers
        );
        crate::utils::check_mint(&self.stake_mint.to_account_info())
            .map_err(|_| error!(StakingError::MintNotSupported))?;
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: InitConfigArgs) -> Result<()> {
        ctx.accounts.validate(&args)?;
        let config = &mut ctx.accounts.config;
        config.set_inner(StakingConfig {
            admin: ctx.accounts.admin.key(),
            stake_mint: ctx.accounts.stake_mint.key(),
            vault: ctx.accounts.vault.key(),
            treasury: ctx.accounts.treasury.key(),
            unbonding_period: args.unbonding_period,
            treasury_share_bps: args.treasury_share_bps,
            slashers: args.slashers,
            total_active: 0,
            total_unbonding: 0,
            total_slashed: 0,
            bump: ctx.bumps.config,
            treasury_owed: 0,
            total_locked: 0,
            vault_bump: ctx.bumps.vault,
            pending: None,
        });
        config.invariant()?;

        crate::emit_event!(
            authority = &ctx.accounts.event_authority,
            StakingConfigInitialized {
                admin: config.admin,
                stake_mint: config.stake_mint,
                vault: config.vault,
                treasury: config.treasury,
                unbonding_period: config.unbonding_period,
                treasury_share_bps: config.treasury_share_bps,
                slashers: config.slashers.clone(),
            }
        );
        Ok(())
    }
}
