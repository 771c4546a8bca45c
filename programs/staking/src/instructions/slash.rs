//! Slashes a stake: active first, then unbonding, clamped at what is there, after releasing
//! the lock of the job the slash is for (`unlock`, saturating), so that a slashing job
//! ending needs one call rather than `unlock_stake` and `slash`. CPI-only: the
//! signer must be an authorised slasher, which is a program's authority PDA. The slashed
//! amount is split between the harmed party's token account and the treasury, whose share
//! stays in the vault as `treasury_owed` until `collect_treasury` pays it out: so no
//! account outside this program's control (the treasury's token account could be closed
//! or frozen) can ever block a slash, and with it the expiry of a job.

use crate::{
    error::StakingError,
    events::StakeSlashed,
    instructions::transfer_from_vault,
    math,
    state::{SlashReason, StakeAccount, StakingConfig},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct SlashArgs {
    pub amount: u64,
    pub reason: SlashReason,
    /// The lock of the job being slashed for, released first (up to what is locked).
    pub unlock: u64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct Slash<'info> {
    pub slasher: Signer<'info>,
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
        seeds = [StakeAccount::SEED, stake_account.owner.as_ref()],
        bump = stake_account.bump,
    )]
    pub stake_account: Account<'info, StakeAccount>,
    #[account(mint::token_program = token_program)]
    pub stake_mint: InterfaceAccount<'info, Mint>,
    #[account(mut)]
    pub vault: InterfaceAccount<'info, TokenAccount>,
    /// The harmed party's token account (stake mint).
    #[account(
        mut,
        token::mint = stake_mint,
        token::token_program = token_program,
    )]
    pub recipient: InterfaceAccount<'info, TokenAccount>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl Slash<'_> {
    fn validate(&self) -> Result<()> {
        require!(
            self.config.is_slasher(&self.slasher.key()),
            StakingError::UnauthorizedSlasher
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: SlashArgs) -> Result<()> {
        ctx.accounts.validate()?;
        let accounts = ctx.accounts;

        let locked_before = accounts.stake_account.locked;
        let lock_released = accounts.stake_account.unlock(args.unlock);
        let taken = accounts.stake_account.slash(args.amount)?;
        let unlocked = locked_before.saturating_sub(accounts.stake_account.locked);
        accounts.stake_account.invariant()?;
        let slashed = taken.total()?;
        let config = &mut accounts.config;
        config.total_active = math::sub(config.total_active, taken.from_active)?;
        config.total_unbonding = math::sub(config.total_unbonding, taken.from_unbonding)?;
        config.total_slashed = math::add(config.total_slashed, slashed)?;
        config.total_locked = config.total_locked.saturating_sub(unlocked);
        // The treasury's share rounds down; the harmed party gets the remainder.
        let to_treasury = math::bps_of(slashed, config.treasury_share_bps)?;
        let to_recipient = math::sub(slashed, to_treasury)?;
        config.treasury_owed = math::add(config.treasury_owed, to_treasury)?;

        let token_program = accounts.token_program.to_account_info();
        let config_info = accounts.config.to_account_info();
        let bump = accounts.config.bump;
        transfer_from_vault(
            &token_program,
            &accounts.vault,
            &accounts.stake_mint,
            &accounts.recipient,
            &config_info,
            bump,
            to_recipient,
        )?;

        let stake = &accounts.stake_account;
        crate::emit_event!(
            authority = &accounts.event_authority,
            StakeSlashed {
                owner: stake.owner,
                slasher: accounts.slasher.key(),
                reason: args.reason,
                requested: args.amount,
                slashed,
                from_active: taken.from_active,
                from_unbonding: taken.from_unbonding,
                to_recipient,
                recipient: accounts.recipient.key(),
                to_treasury,
                active_after: stake.active,
                unbonding_after: stake.unbonding,
                total_slashed_after: stake.total_slashed,
                lock_released,
                locked_after: stake.locked,
            }
        );
        Ok(())
    }
}
