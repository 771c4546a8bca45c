//! Deposits stake-mint tokens into the pooled vault as active stake. Any owner, for itself.

use crate::{
    error::StakingError,
    events::Staked,
    math,
    state::{StakeAccount, StakingConfig},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct StakeArgs {
    pub amount: u64,
}

#[derive(Accounts)]
pub struct Stake<'info> {
    #[account(mut)]
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
        init_if_needed,
        payer = owner,
        space = StakeAccount::SPACE,
        seeds = [StakeAccount::SEED, owner.key().as_ref()],
        bump,
    )]
    pub stake_account: Account<'info, StakeAccount>,
    #[account(mint::token_program = token_program)]
    pub stake_mint: InterfaceAccount<'info, Mint>,
    #[account(mut)]
    pub vault: InterfaceAccount<'info, TokenAccount>,
    /// The owner's token account the stake comes from.
    #[account(
        mut,
        token::mint = stake_mint,
        token::token_program = token_program,
    )]
    pub source: InterfaceAccount<'info, TokenAccount>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl Stake<'_> {
    fn validate(&self, args: &StakeArgs) -> Result<()> {
        require!(args.amount > 0, StakingError::ZeroAmount);
        // A fresh account has a zero owner; an existing one must belong to the signer (the
        // seeds already bind it, this keeps the stored field honest).
        require!(
            self.stake_account.owner == Pubkey::default()
                || self.stake_account.owner == self.owner.key(),
            StakingError::NotStakeOwner
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: StakeArgs) -> Result<()> {
        ctx.accounts.validate(&args)?;
        let accounts = ctx.accounts;

        let before = accounts.vault.amount;
        token_interface::transfer_checked(
            CpiContext::new(
                accounts.token_program.key(),
                TransferChecked {
                    from: accounts.source.to_account_info(),
                    mint: accounts.stake_mint.to_account_info(),
                    to: accounts.vault.to_account_info(),
                    authority: accounts.owner.to_account_info(),
                },
            ),
            args.amount,
            accounts.stake_mint.decimals,
        )?;
        // Credit what the vault received: a Token-2022 transfer fee would make it less.
        accounts.vault.reload()?;
        let received = math::sub(accounts.vault.amount, before)?;

        let stake = &mut accounts.stake_account;
        if stake.owner == Pubkey::default() {
            stake.owner = accounts.owner.key();
            stake.bump = ctx.bumps.stake_account;
        }
        stake.deposit(received)?;
        stake.invariant()?;
        let config = &mut accounts.config;
        config.total_active = math::add(config.total_active, received)?;

        crate::emit_event!(Staked {
            owner: stake.owner,
            amount: received,
            active_after: stake.active,
            unbonding_after: stake.unbonding,
            total_active_after: config.total_active,
        });
        Ok(())
    }
}
