//! Account groups for this program's CPIs, shared by the instructions that make them:
//! capacity and reputation in the registry, slashing in staking. Both are signed by the
//! escrow authority PDA.

use crate::state::MarketConfig;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use provider_registry::{
    program::ProviderRegistry,
    state::{Outcome, Provider, RegistryConfig},
};
use staking::{
    program::Staking,
    state::{SlashReason, StakeAccount, StakingConfig},
};

/// The escrow authority's signer seeds.
fn authority_seeds(bump: &[u8; 1]) -> [&[u8]; 2] {
    [MarketConfig::AUTHORITY_SEED, bump]
}

#[derive(Accounts)]
pub struct RegistryCpi<'info> {
    /// CHECK: this program's authority PDA; signs the registry CPIs.
    #[account(seeds = [MarketConfig::AUTHORITY_SEED], bump)]
    pub escrow_authority: UncheckedAccount<'info>,
    #[account(
        seeds = [RegistryConfig::SEED],
        bump = registry_config.bump,
        seeds::program = provider_registry::ID,
    )]
    pub registry_config: Box<Account<'info, RegistryConfig>>,
    #[account(
        mut,
        seeds = [Provider::SEED, provider.authority.as_ref()],
        bump = provider.bump,
        seeds::program = provider_registry::ID,
    )]
    pub provider: Box<Account<'info, Provider>>,
    pub registry_program: Program<'info, ProviderRegistry>,
}

impl<'info> RegistryCpi<'info> {
    pub fn reserve(&self, gpus: u16, bump: u8) -> Result<()> {
        let bump = [bump];
        let seeds = authority_seeds(&bump);
        provider_registry::cpi::reserve_capacity(
            CpiContext::new_with_signer(
                provider_registry::ID,
                provider_registry::cpi::accounts::ReserveCapacity {
                    escrow_authority: self.escrow_authority.to_account_info(),
                    config: self.registry_config.to_account_info(),
                    provider: self.provider.to_account_info(),
                },
                &[&seeds],
            ),
            provider_registry::CapacityArgs { gpus },
        )
    }

    pub fn release(&self, gpus: u16, bump: u8) -> Result<()> {
        let bump = [bump];
        let seeds = authority_seeds(&bump);
        provider_registry::cpi::release_capacity(
            CpiContext::new_with_signer(
                provider_registry::ID,
                provider_registry::cpi::accounts::ReleaseCapacity {
                    escrow_authority: self.escrow_authority.to_account_info(),
                    config: self.registry_config.to_account_info(),
                    provider: self.provider.to_account_info(),
                },
                &[&seeds],
            ),
            provider_registry::CapacityArgs { gpus },
        )
    }

    pub fn record(&self, outcome: Outcome, bump: u8) -> Result<()> {
        let bump = [bump];
        let seeds = authority_seeds(&bump);
        provider_registry::cpi::record_outcome(
            CpiContext::new_with_signer(
                provider_registry::ID,
                provider_registry::cpi::accounts::RecordOutcome {
                    escrow_authority: self.escrow_authority.to_account_info(),
                    config: self.registry_config.to_account_info(),
                    provider: self.provider.to_account_info(),
                },
                &[&seeds],
            ),
            provider_registry::RecordOutcomeArgs { outcome },
        )
    }
}

/// What slashing a provider's stake takes. Staking itself checks the vault, mint and
/// treasury against its config; the caller checks whose stake it is and who is paid.
#[derive(Accounts)]
pub struct SlashCpi<'info> {
    /// CHECK: this program's authority PDA; the configured slasher.
    #[account(seeds = [MarketConfig::AUTHORITY_SEED], bump)]
    pub slasher: UncheckedAccount<'info>,
    #[account(
        mut,
        seeds = [StakingConfig::SEED],
        bump = staking_config.bump,
        seeds::program = staking::ID,
    )]
    pub staking_config: Box<Account<'info, StakingConfig>>,
    #[account(
        mut,
        seeds = [StakeAccount::SEED, stake_account.owner.as_ref()],
        bump = stake_account.bump,
        seeds::program = staking::ID,
    )]
    pub stake_account: Box<Account<'info, StakeAccount>>,
    pub stake_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut)]
    pub staking_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The harmed client's token account of the stake mint.
    #[account(mut)]
    pub slash_recipient: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut)]
    pub staking_treasury: Box<InterfaceAccount<'info, TokenAccount>>,
    pub staking_program: Program<'info, Staking>,
    pub stake_token_program: Interface<'info, TokenInterface>,
}

impl<'info> SlashCpi<'info> {
    /// Slashes up to `amount`. A provider with nothing left at stake is skipped rather than
    /// failing, so that a permissionless expiry can never be blocked.
    pub fn slash(&self, amount: u64, reason: SlashReason, bump: u8) -> Result<()> {
        let at_stake = self
            .stake_account
            .active
            .saturating_add(self.stake_account.unbonding);
        if amount == 0 || at_stake == 0 {
            return Ok(());
        }
        let bump = [bump];
        let seeds = authority_seeds(&bump);
        staking::cpi::slash(
            CpiContext::new_with_signer(
                staking::ID,
                staking::cpi::accounts::Slash {
                    slasher: self.slasher.to_account_info(),
                    config: self.staking_config.to_account_info(),
                    stake_account: self.stake_account.to_account_info(),
                    stake_mint: self.stake_mint.to_account_info(),
                    vault: self.staking_vault.to_account_info(),
                    recipient: self.slash_recipient.to_account_info(),
                    treasury: self.staking_treasury.to_account_info(),
                    token_program: self.stake_token_program.to_account_info(),
                },
                &[&seeds],
            ),
            staking::SlashArgs { amount, reason },
        )
    }
}
