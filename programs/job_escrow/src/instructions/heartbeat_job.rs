//! Proves a running job is still being served. The provider's current operator only.

use crate::{events::JobHeartbeat, instructions::check_operator, state::Job};
use anchor_lang::prelude::*;
use provider_registry::state::Provider;

#[event_cpi]
#[derive(Accounts)]
pub struct HeartbeatJob<'info> {
    pub operator: Signer<'info>,
    #[account(
        mut,
        seeds = [Job::SEED, job.client.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,
    #[account(
        seeds = [Provider::SEED, provider.authority.as_ref()],
        bump = provider.bump,
        seeds::program = provider_registry::ID,
    )]
    pub provider: Box<Account<'info, Provider>>,
}

impl HeartbeatJob<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let accounts = ctx.accounts;
        check_operator(&accounts.job, &accounts.provider, &accounts.operator.key())?;
        let now = Clock::get()?.unix_timestamp;
        let job = &mut accounts.job;
        job.heartbeat(now)?;

        staking::emit_event!(
            authority = &accounts.event_authority,
            JobHeartbeat {
                job: job.key(),
                at: job.last_heartbeat,
            }
        );
        Ok(())
    }
}
