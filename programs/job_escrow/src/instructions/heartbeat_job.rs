//! Proves a running job is still being served. The assigned provider's operator only.

use crate::{error::EscrowError, events::JobHeartbeat, state::Job};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct HeartbeatJob<'info> {
    pub operator: Signer<'info>,
    #[account(
        mut,
        seeds = [Job::SEED, job.client.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,
}

impl HeartbeatJob<'_> {
    fn validate(&self) -> Result<()> {
        require_keys_eq!(
            self.operator.key(),
            self.job.assignment()?.operator,
            EscrowError::NotAssignedProvider
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        ctx.accounts.validate()?;
        let now = Clock::get()?.unix_timestamp;
        let job = &mut ctx.accounts.job;
        job.heartbeat(now)?;

        staking::emit_event!(JobHeartbeat {
            job: job.key(),
            at: job.last_heartbeat,
        });
        Ok(())
    }
}
