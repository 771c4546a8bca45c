//! Stops taking new jobs; running jobs continue. The authority or the operator.

use crate::{error::RegistryError, events::ProviderStatusChanged, state::Provider};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct PauseProvider<'info> {
    pub signer: Signer<'info>,
    #[account(
        mut,
        seeds = [Provider::SEED, provider.authority.as_ref()],
        bump = provider.bump,
        constraint = provider.is_key(&signer.key()) @ RegistryError::NotProviderKey,
    )]
    pub provider: Box<Account<'info, Provider>>,
}

impl PauseProvider<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let provider = &mut ctx.accounts.provider;
        let old_status = provider.status;
        provider.pause()?;

        staking::emit_event!(
            authority = &ctx.accounts.event_authority,
            ProviderStatusChanged {
                provider: provider.key(),
                old_status,
                new_status: provider.status,
                exit_notice_ends_at: 0,
            }
        );
        Ok(())
    }
}
