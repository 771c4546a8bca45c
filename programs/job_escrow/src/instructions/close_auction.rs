//! Assigns an auction-mode job to its best bid once the bid window has closed. Anyone may
//! call it. A job without bids is reclaimed instead (`reclaim_job`).

use crate::{
    error::EscrowError,
    events::JobAssigned,
    state::{Assignment, Job, JobMode, JobStatus},
};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct CloseAuction<'info> {
    pub caller: Signer<'info>,
    #[account(
        mut,
        seeds = [Job::SEED, job.client.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,
}

impl CloseAuction<'_> {
    fn validate(&self, now: i64) -> Result<()> {
        require!(self.job.status == JobStatus::Open, EscrowError::JobNotOpen);
        require!(
            self.job.mode == JobMode::Auction,
            EscrowError::NotAuctionMode
        );
        require!(now >= self.job.bid_deadline, EscrowError::BidWindowOpen);
        require!(self.job.best_bid.is_some(), EscrowError::NoBids);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        ctx.accounts.validate(now)?;
        let job = &mut ctx.accounts.job;
        let bid = job.best_bid.ok_or(error!(EscrowError::NoBids))?;
        job.assign(Assignment {
            provider: bid.provider,
            authority: bid.authority,
            operator: bid.operator,
            price_per_gpu_hour: bid.price_per_gpu_hour,
            assigned_at: now,
        })?;

        staking::emit_event!(JobAssigned {
            job: job.key(),
            provider: bid.provider,
            price_per_gpu_hour: bid.price_per_gpu_hour,
            attempt: job.attempts,
        });
        Ok(())
    }
}
