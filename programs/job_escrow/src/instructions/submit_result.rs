//! Submits a batch job's result (output hash and URI) before its max duration ends, which
//! opens the challenge window and frees the provider's GPUs for other work (its collateral
//! stays locked until the job ends). The provider's current operator only.

use crate::{
    events::ResultSubmitted,
    state::{Job, JobResult, MarketConfig},
};
use anchor_lang::prelude::*;
// Composite account groups need their generated companions in scope.
#[allow(unused_imports)]
use crate::instructions::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct SubmitResultArgs {
    /// SHA-256 of the output.
    pub hash: [u8; 32],
    pub uri: String,
}

#[event_cpi]
#[derive(Accounts)]
pub struct SubmitResult<'info> {
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

impl SubmitResult<'_> {
    fn validate(&self) -> Result<()> {
        // A replica commits to its result instead (`commit_result`).
        self.job.require_not_replica()?;
        self.node
            .check_assigned_operator(&self.job, &self.operator.key())
    }

    pub fn handler(ctx: Context<Self>, args: SubmitResultArgs) -> Result<()> {
        ctx.accounts.validate()?;
        let now = Clock::get()?.unix_timestamp;
        let accounts = ctx.accounts;
        let job = &mut accounts.job;
        job.submit(JobResult {
            hash: args.hash,
            uri: args.uri,
            submitted_at: now,
        })?;
        let billable_seconds = job.served_seconds(now)?;
        let uri = job
            .result
            .as_ref()
            .map(|r| r.uri.clone())
            .unwrap_or_default();
        accounts
            .node
            .release(job.requirements.gpu_count, accounts.config.authority_bump)?;

        staking::emit_event!(
            authority = &accounts.event_authority,
            ResultSubmitted {
                job: accounts.job.key(),
                provider: accounts.node.provider.key(),
                hash: args.hash,
                uri,
                billable_seconds,
            }
        );
        Ok(())
    }
}
