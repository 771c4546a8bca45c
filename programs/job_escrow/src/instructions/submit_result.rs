//! Submits a batch job's result (output hash and URI) before its max duration ends, which
//! opens the challenge window. The assigned provider's operator only.

use crate::{
    error::EscrowError,
    events::ResultSubmitted,
    state::{Job, JobResult},
};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct SubmitResultArgs {
    /// SHA-256 of the output.
    pub hash: [u8; 32],
    pub uri: String,
}

#[derive(Accounts)]
pub struct SubmitResult<'info> {
    pub operator: Signer<'info>,
    #[account(
        mut,
        seeds = [Job::SEED, job.client.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,
}

impl SubmitResult<'_> {
    fn validate(&self) -> Result<()> {
        require_keys_eq!(
            self.operator.key(),
            self.job.assignment()?.operator,
            EscrowError::NotAssignedProvider
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: SubmitResultArgs) -> Result<()> {
        ctx.accounts.validate()?;
        let now = Clock::get()?.unix_timestamp;
        let job = &mut ctx.accounts.job;
        job.submit(JobResult {
            hash: args.hash,
            uri: args.uri,
            submitted_at: now,
        })?;

        staking::emit_event!(ResultSubmitted {
            job: job.key(),
            provider: job.assignment()?.provider,
            hash: args.hash,
            uri: job
                .result
                .as_ref()
                .map(|r| r.uri.clone())
                .unwrap_or_default(),
            billable_seconds: job.served_seconds(now)?,
        });
        Ok(())
    }
}
