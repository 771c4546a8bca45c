//! Starts an assigned job within the start timeout and reserves its GPUs in the registry.
//! The assigned provider's operator only.

use crate::{
    error::EscrowError,
    events::JobStarted,
    instructions::RegistryCpi,
    state::{Job, MarketConfig},
};
use anchor_lang::prelude::*;
// Composite account groups need their generated companions in scope.
#[allow(unused_imports)]
use crate::instructions::*;

#[derive(Accounts)]
pub struct StartJob<'info> {
    pub operator: Signer<'info>,
    #[account(seeds = [MarketConfig::SEED], bump = config.bump)]
    pub config: Box<Account<'info, MarketConfig>>,
    #[account(
        mut,
        seeds = [Job::SEED, job.client.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,
    pub registry: RegistryCpi<'info>,
}

impl StartJob<'_> {
    fn validate(&self) -> Result<()> {
        let assignment = self.job.assignment()?;
        require_keys_eq!(
            self.registry.provider.key(),
            assignment.provider,
            EscrowError::WrongProvider
        );
        require_keys_eq!(
            self.operator.key(),
            self.registry.provider.operator,
            EscrowError::NotAssignedProvider
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        ctx.accounts.validate()?;
        let now = Clock::get()?.unix_timestamp;
        let accounts = ctx.accounts;
        let assigned_at = accounts.job.assignment()?.assigned_at;
        accounts.job.start(now, accounts.config.start_timeout)?;
        accounts.registry.reserve(
            accounts.job.requirements.gpu_count,
            accounts.config.authority_bump,
        )?;

        staking::emit_event!(JobStarted {
            job: accounts.job.key(),
            provider: accounts.registry.provider.key(),
            started_at: now,
            time_to_start: now.saturating_sub(assigned_at),
        });
        Ok(())
    }
}
