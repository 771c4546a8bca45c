//! Starts leaving the market: no new jobs from now; retirement is possible once the notice
//! window has passed and no GPU is in use. The authority only.

use crate::{
    error::RegistryError,
    events::ProviderStatusChanged,
    state::{Provider, RegistryConfig},
};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct BeginExit<'info> {
    pub authority: Signer<'info>,
    #[account(seeds = [RegistryConfig::SEED], bump = config.bump)]
    pub config: Account<'info, RegistryConfig>,
    #[account(
        mut,
        seeds = [Provider::SEED, provider.authority.as_ref()],
        bump = provider.bump,
        has_one = authority @ RegistryError::NotProviderAuthority,
    )]
    pub provider: Box<Account<'info, Provider>>,
}

impl BeginExit<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let notice = ctx.accounts.config.exit_notice;
        let provider = &mut ctx.accounts.provider;
        let old_status = provider.status;
        provider.begin_exit(now, notice)?;

        staking::emit_event!(
            authority = &ctx.accounts.event_authority,
            ProviderStatusChanged {
                provider: provider.key(),
                old_status,
                new_status: provider.status,
                exit_notice_ends_at: provider.exit_notice_ends_at,
            }
        );
        Ok(())
    }
}
