//! Mints a provider's unclaimed rewards to a token account of its authority, first settling
//! the finalized epochs passed in. The provider's authority or operator. Never mints past
//! the hard cap.

use crate::{
    error::EmissionError,
    events::RewardsClaimed,
    instructions::{load, settle_passed, store},
    state::{EmissionConfig, Epoch, ProviderRewards},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, MintTo, TokenAccount, TokenInterface};
use provider_registry::state::Provider;
use staking::utils::pda_bump;

#[event_cpi]
#[derive(Accounts)]
pub struct ClaimRewards<'info> {
    pub signer: Signer<'info>,
    #[account(
        mut,
        seeds = [EmissionConfig::SEED],
        bump = config.bump,
        has_one = reward_mint @ EmissionError::WrongRewardMint,
    )]
    pub config: Box<Account<'info, EmissionConfig>>,
    #[account(
        seeds = [Provider::SEED, provider.authority.as_ref()],
        bump = provider.bump,
        seeds::program = provider_registry::ID,
    )]
    pub provider: Box<Account<'info, Provider>>,
    /// CHECK: the provider's reward record (address checked by `pda_bump`, owner and type
    /// by `load`).
    #[account(mut)]
    pub rewards: UncheckedAccount<'info>,
    /// A finalized epoch the record holds weight in, to settle.
    #[account(
        seeds = [Epoch::SEED, &earlier_epoch.epoch.to_le_bytes()],
        bump = earlier_epoch.bump,
    )]
    pub earlier_epoch: Option<Box<Account<'info, Epoch>>>,
    /// Another finalized epoch the record holds weight in, to settle.
    #[account(
        seeds = [Epoch::SEED, &latest_epoch.epoch.to_le_bytes()],
        bump = latest_epoch.bump,
    )]
    pub latest_epoch: Option<Box<Account<'info, Epoch>>>,
    #[account(mut, mint::token_program = token_program)]
    pub reward_mint: Box<InterfaceAccount<'info, Mint>>,
    /// CHECK: the mint authority PDA; signs the mint.
    #[account(seeds = [EmissionConfig::MINT_AUTHORITY_SEED], bump = config.mint_authority_bump)]
    pub mint_authority: UncheckedAccount<'info>,
    #[account(mut, token::mint = reward_mint, token::token_program = token_program)]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl ClaimRewards<'_> {
    fn validate(&self) -> Result<()> {
        require!(
            self.provider.is_key(&self.signer.key()),
            EmissionError::NotProviderKey
        );
        require_keys_eq!(
            self.destination.owner,
            self.provider.authority,
            EmissionError::WrongDestination
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        ctx.accounts.validate()?;
        let now = Clock::get()?.unix_timestamp;
        let accounts = ctx.accounts;
        let rewards_info = accounts.rewards.to_account_info();
        pda_bump(
            "rewards",
            &rewards_info,
            &[ProviderRewards::SEED, accounts.provider.key().as_ref()],
            &crate::ID,
        )?;
        let mut rewards = load::<ProviderRewards>(&rewards_info)?;
        settle_passed(
            &mut rewards,
            [&accounts.earlier_epoch, &accounts.latest_epoch],
            accounts.config.epoch_at(now)?,
        )?;
        let amount = rewards.unclaimed;
        require!(amount > 0, EmissionError::NothingToClaim);
        let config = &mut accounts.config;
        config.total_minted = config
            .total_minted
            .checked_add(amount)
            .ok_or(error!(EmissionError::MathOverflow))?;
        require!(
            config.total_minted <= config.hard_cap,
            EmissionError::CapExceeded
        );
        config.invariant()?;
        rewards.unclaimed = 0;
        rewards.total_claimed = rewards
            .total_claimed
            .checked_add(amount)
            .ok_or(error!(EmissionError::MathOverflow))?;
        store(&rewards_info, &rewards)?;

        let seeds: &[&[u8]] = &[
            EmissionConfig::MINT_AUTHORITY_SEED,
            &[accounts.config.mint_authority_bump],
        ];
        token_interface::mint_to(
            CpiContext::new_with_signer(
                accounts.token_program.key(),
                MintTo {
                    mint: accounts.reward_mint.to_account_info(),
                    to: accounts.destination.to_account_info(),
                    authority: accounts.mint_authority.to_account_info(),
                },
                &[seeds],
            ),
            amount,
        )?;

        staking::emit_event!(
            authority = &accounts.event_authority,
            RewardsClaimed {
                provider: accounts.provider.key(),
                amount,
                total_claimed_after: rewards.total_claimed,
                total_minted_after: accounts.config.total_minted,
            }
        );
        Ok(())
    }
}
