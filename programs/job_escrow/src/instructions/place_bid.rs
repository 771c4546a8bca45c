//! Bids on an auction-mode job inside its bid window. Signed by the provider's operator;
//! the provider must be eligible and the bid strictly lower than the best so far (so the
//! earliest of equal bids stands).

use crate::{
    error::EscrowError,
    events::BidPlaced,
    instructions::Candidate,
    state::{Bid, Job},
};
use anchor_lang::prelude::*;
// Composite account groups need their generated companions in scope.
#[allow(unused_imports)]
use crate::instructions::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct PlaceBidArgs {
    pub price_per_gpu_hour: u64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct PlaceBid<'info> {
    #[account(
        mut,
        seeds = [Job::SEED, job.client.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,
    pub candidate: Candidate<'info>,
}

impl PlaceBid<'_> {
    pub fn handler(ctx: Context<Self>, args: PlaceBidArgs) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let accounts = ctx.accounts;
        // An auction that stopped re-opening takes no bids at all; otherwise timing first: a
        // late bid is late whoever places it.
        require!(
            accounts.job.refused_bidders.len() < crate::constants::MAX_REFUSED_BIDDERS,
            EscrowError::AuctionExhausted
        );
        require!(
            now < accounts.job.bid_deadline,
            EscrowError::BidWindowClosed
        );
        accounts
            .candidate
            .check(&accounts.job, args.price_per_gpu_hour, now)?;
        let provider = &accounts.candidate.provider;
        accounts.job.bid(Bid {
            provider: provider.key(),
            authority: provider.authority,
            price_per_gpu_hour: args.price_per_gpu_hour,
            placed_at: now,
        })?;

        staking::emit_event!(
            authority = &accounts.event_authority,
            BidPlaced {
                job: accounts.job.key(),
                provider: provider.key(),
                price_per_gpu_hour: args.price_per_gpu_hour,
                placed_at: now,
            }
        );
        Ok(())
    }
}
