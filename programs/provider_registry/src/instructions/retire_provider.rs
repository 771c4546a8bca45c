//! Takes the provider off the market for good after the exit notice, once it holds no job
//! (every job it was assigned has settled or expired). The authority only. The account
//! stays, marked `Retired`, so the provider's reputation and unclaimed rewards survive and
//! registering again with the same authority brings it back. Its stake is withdrawn
//! through staking.

use crate::{
    error::RegistryError,
    events::ProviderRetired,
    state::{Provider, ProviderStatus, RegistryConfig},
};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct RetireProvider<'info> {
    pub authority: Signer<'info>,
    #[account(mut, seeds = [RegistryConfig::SEED], bump = config.bump)]
    pub config: Account<'info, RegistryConfig>,
    #[account(
        mut,
        seeds = [Provider::SEED, provider.authority.as_ref()],
        bump = provider.bump,
        has_one = authority @ RegistryError::NotProviderAuthority,
    )]
    pub provider: Box<Account<'info, Provider>>,
}

impl RetireProvider<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let provider = &mut ctx.accounts.provider;
        provider.check_retirable(now)?;
        provider.status = ProviderStatus::Retired;
        let config = &mut ctx.accounts.config;
        config.provider_count = config
            .provider_count
            .checked_sub(1)
            .ok_or(error!(RegistryError::MathOverflow))?;

        staking::emit_event!(
            authority = &ctx.accounts.event_authority,
            ProviderRetired {
                provider: provider.key(),
                authority: provider.authority,
                reputation: provider.reputation,
                provider_count: config.provider_count,
            }
        );
        Ok(())
    }
}
