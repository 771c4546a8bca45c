//! A provider turns down a job the matcher assigned to it, before starting it, within a
//! minute of the assignment (`DECLINE_WINDOW`) and the start timeout. Signed by the provider's operator. Its GPUs and the job's collateral
//! are freed, nothing is slashed and its reputation is unchanged; the job is open again
//! (the attempt is not counted), for at least another bid window, and the matcher may not
//! assign it to this provider again. A job the provider took itself cannot be declined:
//! not starting it is a fault, slashed by `expire_job`.

use crate::{
    error::EscrowError,
    events::JobDeclined,
    instructions::ProviderCpi,
    state::{Job, MarketConfig},
};
use anchor_lang::prelude::*;
// Composite account groups need their generated companions in scope.
#[allow(unused_imports)]
use crate::instructions::*;
use provider_registry::state::Outcome;

#[event_cpi]
#[derive(Accounts)]
pub struct DeclineJob<'info> {
    pub operator: Signer<'info>,
    #[account(seeds = [MarketConfig::SEED], bump = config.bump)]
    pub config: Box<Account<'info, MarketConfig>>,
    #[account(
        mut,
        seeds = [Job::SEED, job.client.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,
    pub node: ProviderCpi<'info>,
}

impl DeclineJob<'_> {
    /// The assigned provider's operator signed, with the assigned provider's accounts.
    fn validate(&self) -> Result<()> {
        self.node
            .check_assigned_operator(&self.job, &self.operator.key())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        ctx.accounts.validate()?;
        let accounts = ctx.accounts;
        let bump = accounts.config.authority_bump;
        let job = &mut accounts.job;
        let collateral = job.collateral_locked();
        let gpus = job.requirements.gpu_count;
        let assignment = job.decline(now)?;
        accounts
            .node
            .end(Outcome::Declined, gpus, collateral, bump)?;

        staking::emit_event!(
            authority = &accounts.event_authority,
            JobDeclined {
                job: job.key(),
                provider: assignment.provider,
                refused: u8::try_from(job.refused_bidders.len())
                    .map_err(|_| error!(EscrowError::MathOverflow))?,
                bid_deadline: job.bid_deadline,
            }
        );
        Ok(())
    }
}
