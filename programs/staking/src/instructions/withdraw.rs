//! Pays out unbonded stake after the cooldown. The stake owner only, to a token account of
//! the stake mint it chooses.

use crate::{
    error::StakingError,
    events::StakeWithdrawn,
    instructions::transfer_from_vault,
    math,
    state::{StakeAccount, StakingConfig},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[event_cpi]
#[derive(Accounts)]
pub struct Withdraw<'info> {
    pub owner: Signer<'info>,
    #[account(
        mut,
        seeds = [StakingConfig::SEED],
        bump = config.bump,
        has_one = stake_mint @ StakingError::WrongStakeMint,
        has_one = vault @ StakingError::WrongVault,
    )]
    pub config: Account<'info, StakingConfig>,
    #[account(
        mut,
        seeds = [StakeAccount::SEED, owner.key().as_ref()],
        bump = stake_account.bump,
        has_one = owner @ StakingError::NotStakeOwner,
    )]
    pub stake_account: Account<'info, StakeAccount>,
    #[account(mint::token_program = token_program)]
    pub stake_mint: InterfaceAccount<'info, Mint>,
    #[account(mut)]
    pub vault: InterfaceAccount<'info, TokenAccount>,
    #[account(
        mut,
        token::mint = stake_mint,
        token::token_program = token_program,
    )]
    pub destination: InterfaceAccount<'info, TokenAccount>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl Withdraw<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let accounts = ctx.accounts;
        let amount = accounts.stake_account.take_unbonded(now)?;
        accounts.stake_account.invariant()?;
        accounts.config.total_unbonding = math::sub(accounts.config.total_unbonding, amount)?;

        transfer_from_vault(
            &accounts.token_program.to_account_info(),
            &accounts.vault,
            &accounts.stake_mint,
            &accounts.destination,
            &accounts.config.to_account_info(),
            accounts.config.bump,
            amount,
        )?;
        accounts.vault.reload()?;

        crate::emit_event!(
            authority = &accounts.event_authority,
            StakeWithdrawn {
                owner: accounts.stake_account.owner,
                amount,
                active_after: accounts.stake_account.active,
                vault_balance_after: accounts.vault.amount,
            }
        );
        Ok(())
    }
}
