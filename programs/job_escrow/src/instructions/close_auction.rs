//! Assigns an auction-mode job to its best bid once the bid window has closed. Anyone may
//! call it. The winner is checked again now: if it can no longer take the job (paused,
//! exiting, retired, stale, under-staked, out of free GPUs or unlocked stake), the job
//! re-opens for a new bid window instead, so it never sticks with a winner that cannot
//! serve it. The refused winner may not bid on the job again, and after
//! `MAX_REFUSED_BIDDERS` refusals the job becomes reclaimable at once. A job without bids is
//! reclaimed instead (`reclaim_job`).

use crate::{
    error::EscrowError,
    events::{AuctionReopened, JobAssigned},
    instructions::{check_candidate, ProviderCpi},
    state::{Assignment, Bid, Job, JobMode, JobStatus, MarketConfig},
};
use anchor_lang::prelude::*;
// Composite account groups need their generated companions in scope.
#[allow(unused_imports)]
use crate::instructions::*;

#[event_cpi]
#[derive(Accounts)]
pub struct CloseAuction<'info> {
    pub caller: Signer<'info>,
    #[account(seeds = [MarketConfig::SEED], bump = config.bump)]
    pub config: Box<Account<'info, MarketConfig>>,
    #[account(
        mut,
        seeds = [Job::SEED, job.client.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,
    /// The best bidder's accounts.
    pub winner: ProviderCpi<'info>,
}

impl CloseAuction<'_> {
    fn validate(&self, now: i64) -> Result<Bid> {
        require!(self.job.status == JobStatus::Open, EscrowError::JobNotOpen);
        require!(
            self.job.mode == JobMode::Auction,
            EscrowError::NotAuctionMode
        );
        require!(now >= self.job.bid_deadline, EscrowError::BidWindowOpen);
        let bid = self.job.best_bid.ok_or(error!(EscrowError::NoBids))?;
        self.winner.check_keys(&bid.provider, &bid.authority)?;
        Ok(bid)
    }

    /// Why the winner cannot take the job now, if it cannot.
    fn recheck(&self, bid: &Bid, now: i64) -> Result<Option<u32>> {
        let Some(provider) = self.winner.provider()? else {
            return Ok(Some(EscrowError::ProviderNotFound.into()));
        };
        match check_candidate(
            &provider,
            &self.winner.stake_account,
            &self.winner.registry_config,
            &self.job,
            bid.price_per_gpu_hour,
            now,
        ) {
            Ok(()) => Ok(None),
            Err(anchor_lang::error::Error::AnchorError(e)) => Ok(Some(e.error_code_number)),
            Err(e) => Err(e),
        }
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let bid = ctx.accounts.validate(now)?;
        let refused = ctx.accounts.recheck(&bid, now)?;
        let accounts = ctx.accounts;
        let job = &mut accounts.job;
        if let Some(error_code) = refused {
            job.reopen_auction(bid.provider, now)?;
            staking::emit_event!(
                authority = &accounts.event_authority,
                AuctionReopened {
                    job: job.key(),
                    refused_provider: bid.provider,
                    error_code,
                    bid_deadline: job.bid_deadline,
                }
            );
            return Ok(());
        }
        job.assign(Assignment {
            provider: bid.provider,
            authority: bid.authority,
            price_per_gpu_hour: bid.price_per_gpu_hour,
            assigned_at: now,
            by_matcher: false,
            slashable_start: true,
        })?;
        accounts.winner.hold(job, accounts.config.authority_bump)?;

        staking::emit_event!(
            authority = &accounts.event_authority,
            JobAssigned {
                job: job.key(),
                provider: bid.provider,
                price_per_gpu_hour: bid.price_per_gpu_hour,
                attempt: job.attempts,
                collateral_locked: job.collateral_locked(),
                by_matcher: false,
            }
        );
        Ok(())
    }
}
