//! The market's matcher assigns an open instant job to a provider it chose, at the
//! provider's listed price. Signed by the matcher named in the job's terms, which must still
//! be the market's matcher (removing or replacing it revokes it on existing jobs), within
//! the job's match window only: afterwards any eligible provider may take the job itself, so
//! the matcher can neither hold a job back nor act on it later. The same eligibility
//! predicate as `accept_job` decides (a heartbeat within the registry's interval and grace
//! included), and a provider that declined the job cannot be assigned it again. The
//! provider may decline the assignment within a minute (`decline_job`). The admin can remove the
//! matcher at once (`remove_matcher`).

use crate::{
    events::JobAssigned,
    instructions::{take_job, ProviderCpi},
    state::{Job, MarketConfig},
};
use anchor_lang::prelude::*;
// Composite account groups need their generated companions in scope.
#[allow(unused_imports)]
use crate::instructions::*;

#[event_cpi]
#[derive(Accounts)]
pub struct AssignJob<'info> {
    pub matcher: Signer<'info>,
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

impl AssignJob<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let accounts = ctx.accounts;
        accounts.job.check_matcher(
            &accounts.matcher.key(),
            &accounts.config.matcher,
            &accounts.node.provider.key(),
            now,
        )?;
        // The matcher can put a provider on a job without asking: one live for the registry
        // (a heartbeat within its interval and grace, checked with the rest of its
        // eligibility), whose endpoint the matcher has just found answering off chain, so
        // that a node that has just gone down is not slashed for a missed start.
        let provider = accounts.node.listed_provider()?;
        let event: JobAssigned = take_job(
            &mut accounts.job,
            &accounts.node,
            &provider,
            accounts.config.authority_bump,
            now,
            true,
            ctx.remaining_accounts,
        )?;
        staking::emit_event!(authority = &accounts.event_authority, event);
        Ok(())
    }
}
