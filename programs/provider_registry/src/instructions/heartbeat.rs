//! Proves the node is alive. The operator key only.

use crate::{error::RegistryError, events::HeartbeatRecorded, state::Provider};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct Heartbeat<'info> {
    pub operator: Signer<'info>,
    #[account(
        mut,
        seeds = [Provider::SEED, provider.authority.as_ref()],
        bump = provider.bump,
        has_one = operator @ RegistryError::NotProviderOperator,
    )]
    pub provider: Box<Account<'info, Provider>>,
}

impl Heartbeat<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let provider = &mut ctx.accounts.provider;
        let previous = provider.last_heartbeat;
        // The clock can stand still between slots; never move the heartbeat backwards.
        provider.last_heartbeat = previous.max(now);

        staking::emit_event!(
            authority = &ctx.accounts.event_authority,
            HeartbeatRecorded {
                provider: provider.key(),
                at: provider.last_heartbeat,
                previous,
            }
        );
        Ok(())
    }
}
