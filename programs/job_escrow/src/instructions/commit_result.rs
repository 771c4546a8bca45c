//! A replica's provider commits to its result before the group's commit deadline:
//! `replica_commitment(result_hash, provider, salt)`. Like a submitted result it ends the
//! billable run and frees the GPUs (the collateral stays locked until the replica
//! settles); the hash and the output's URI are revealed later (`reveal_result`), once no
//! replica can commit any more, so nobody can copy another's answer or fetch its output
//! first. The provider's current operator only.

use crate::{
    error::EscrowError,
    events::ResultCommitted,
    state::{Job, JobResult, MarketConfig, ReplicaGroup},
};
use anchor_lang::prelude::*;
// Composite account groups need their generated companions in scope.
#[allow(unused_imports)]
use crate::instructions::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct CommitResultArgs {
    /// `replica_commitment(sha256 of the output, provider account, secret salt)`.
    pub commitment: [u8; 32],
}

#[event_cpi]
#[derive(Accounts)]
pub struct CommitResult<'info> {
    pub operator: Signer<'info>,
    #[account(seeds = [MarketConfig::SEED], bump = config.bump)]
    pub config: Box<Account<'info, MarketConfig>>,
    #[account(
        mut,
        seeds = [Job::SEED, job.client.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,
    #[account(
        mut,
        seeds = [ReplicaGroup::SEED, group.client.as_ref(), &group.group_id.to_le_bytes()],
        bump = group.bump,
    )]
    pub group: Box<Account<'info, ReplicaGroup>>,
    pub node: ProviderCpi<'info>,
}

impl CommitResult<'_> {
    fn validate(&self, now: i64) -> Result<()> {
        self.job.require_replica_of(&self.group.key())?;
        self.node
            .check_assigned_operator(&self.job, &self.operator.key())?;
        require!(
            now <= self.group.commit_deadline,
            EscrowError::CommitDeadlinePassed
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: CommitResultArgs) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        ctx.accounts.validate(now)?;
        let accounts = ctx.accounts;
        let job_key = accounts.job.key();
        let job = &mut accounts.job;
        // Running -> ResultSubmitted, within the max duration, the commitment standing in
        // for the hash (and no URI) until the reveal.
        job.submit(JobResult {
            hash: args.commitment,
            uri: String::new(),
            submitted_at: now,
        })?;
        let billable_seconds = job.served_seconds(now)?;
        let slot = accounts.group.slot_mut(&job_key)?;
        slot.commitment = Some(args.commitment);
        accounts.node.release(
            accounts.job.requirements.gpu_count,
            accounts.config.authority_bump,
        )?;

        staking::emit_event!(
            authority = &accounts.event_authority,
            ResultCommitted {
                job: job_key,
                group: accounts.group.key(),
                provider: accounts.node.provider.key(),
                commitment: args.commitment,
                billable_seconds,
            }
        );
        Ok(())
    }
}
