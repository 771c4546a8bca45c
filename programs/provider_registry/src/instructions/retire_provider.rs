//! Closes the provider account after the exit notice, with no GPU in use; the rent goes
//! back to the authority. The authority only. Its stake is withdrawn through staking.

use crate::{
    error::RegistryError,
    events::ProviderRetired,
    state::{Provider, RegistryConfig},
};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct RetireProvider<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(mut, seeds = [RegistryConfig::SEED], bump = config.bump)]
    pub config: Account<'info, RegistryConfig>,
    #[account(
        mut,
        seeds = [Provider::SEED, provider.authority.as_ref()],
        bump = provider.bump,
        has_one = authority @ RegistryError::NotProviderAuthority,
        close = authority,
    )]
    pub provider: Box<Account<'info, Provider>>,
}

impl RetireProvider<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let provider = &ctx.accounts.provider;
        provider.check_retirable(now)?;
        let config = &mut ctx.accounts.config;
        config.provider_count = config
            .provider_count
            .checked_sub(1)
            .ok_or(error!(RegistryError::MathOverflow))?;

        staking::emit_event!(ProviderRetired {
            provider: provider.key(),
            authority: provider.authority,
            reputation: provider.reputation,
            rent_returned: provider.to_account_info().lamports(),
            provider_count: config.provider_count,
        });
        Ok(())
    }
}
