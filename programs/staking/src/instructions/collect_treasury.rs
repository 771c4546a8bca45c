//! Pays the treasury's accumulated share of slashes out of the vault to the configured
//! treasury token account. Anyone may call it.

use crate::{
    error::StakingError, events::TreasuryCollected, instructions::transfer_from_vault,
    state::StakingConfig,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[event_cpi]
#[derive(Accounts)]
pub struct CollectTreasury<'info> {
    pub caller: Signer<'info>,
    #[account(
        mut,
        seeds = [StakingConfig::SEED],
        bump = config.bump,
        has_one = stake_mint @ StakingError::WrongStakeMint,
        has_one = vault @ StakingError::WrongVault,
        has_one = treasury @ StakingError::WrongTreasury,
    )]
    pub config: Account<'info, StakingConfig>,
    #[account(mint::token_program = token_program)]
    pub stake_mint: InterfaceAccount<'info, Mint>,
    #[account(mut)]
    pub vault: InterfaceAccount<'info, TokenAccount>,
    #[account(mut)]
    pub treasury: InterfaceAccount<'info, TokenAccount>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl CollectTreasury<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let accounts = ctx.accounts;
        let amount = core::mem::take(&mut accounts.config.treasury_owed);
        require!(amount > 0, StakingError::ZeroAmount);
        transfer_from_vault(
            &accounts.token_program.to_account_info(),
            &accounts.vault,
            &accounts.stake_mint,
            &accounts.treasury,
            &accounts.config.to_account_info(),
            accounts.config.bump,
            amount,
        )?;

        crate::emit_event!(
            authority = &accounts.event_authority,
            TreasuryCollected {
                treasury: accounts.treasury.key(),
                amount,
            }
        );
        Ok(())
    }
}
