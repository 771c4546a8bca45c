//! Takes a job away from a provider that failed it: it never started within the start
//! timeout, its heartbeats stopped for longer than the grace, or (batch) no result came by
//! the max duration plus the grace. A lease provider is paid up to its last heartbeat;
//! the provider is slashed (the harmed client receives its share; not for a missed start
//! of a matcher's assignment to a node silent for more than a minute before it, which the
//! matcher may then not assign this job again), its failure recorded,
//! its GPUs freed and its collateral unlocked. The job goes back to Open while attempts
//! remain, else the client is refunded. Anyone may call it and earns one attempt's crank
//! tip.

use crate::{
    error::EscrowError,
    events::{ExpiryReason, JobExpired},
    instructions::{SettleJob, SlashCpi},
    math,
    state::{JobKind, JobStatus, Payout},
};
use anchor_lang::prelude::*;
// Composite account groups need their generated companions in scope.
#[allow(unused_imports)]
use crate::instructions::*;
use anchor_spl::token_interface::TokenAccount;
use provider_registry::state::Outcome;
use staking::state::SlashReason;

#[derive(Accounts)]
pub struct ExpireJob<'info> {
    pub settle: SettleJob<'info>,
    /// Receives the crank tip; may be the client's own account.
    #[account(mut, dup, token::mint = settle.payment_mint)]
    pub caller_tokens: Box<InterfaceAccount<'info, TokenAccount>>,
    pub slashing: SlashCpi<'info>,
}

impl ExpireJob<'_> {
    /// Which deadline passed, if any. Going quiet only counts before the end of the run: a
    /// lease that was served to its end is finalized, not expired.
    fn reason(&self, now: i64) -> Result<ExpiryReason> {
        let job = &self.settle.job;
        match job.status {
            JobStatus::Assigned if now > job.start_deadline()? => Ok(ExpiryReason::NoStart),
            JobStatus::Running => {
                if job.heartbeat_lapsed(now)? {
                    return Ok(ExpiryReason::HeartbeatLost);
                }
                let result_due = job
                    .run_deadline()?
                    .checked_add(job.terms.heartbeat_grace)
                    .ok_or(error!(EscrowError::MathOverflow))?;
                if job.kind == JobKind::Batch && now > result_due {
                    return Ok(ExpiryReason::NoResult);
                }
                err!(EscrowError::NothingToExpire)
            }
            _ => err!(EscrowError::NothingToExpire),
        }
    }

    fn validate(&self) -> Result<()> {
        self.settle.validate_payees()?;
        require_keys_eq!(
            self.slashing.slash_recipient.owner,
            self.settle.job.client,
            EscrowError::WrongTokenAccountOwner
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let accounts = ctx.accounts;
        let reason = accounts.reason(now)?;
        accounts.validate()?;
        let bump = accounts.settle.config.authority_bump;
        let terms = accounts.settle.job.terms;
        let (slash_amount, slash_reason) = match reason {
            ExpiryReason::NoStart => (terms.slash.no_start, SlashReason::NoStart),
            ExpiryReason::HeartbeatLost => (terms.slash.heartbeat_lost, SlashReason::HeartbeatLost),
            ExpiryReason::NoResult => (terms.slash.no_result, SlashReason::NoResult),
        };
        // A missed start of a matcher's assignment to a node silent for more than a minute
        // before it is not slashed (`Assignment::slashable_start`).
        let unslashed_miss =
            reason == ExpiryReason::NoStart && !accounts.settle.job.assignment()?.slashable_start;
        let slash_amount = if unslashed_miss { 0 } else { slash_amount };
        let was_running = accounts.settle.job.status == JobStatus::Running;
        let holds_gpus = accounts.settle.job.holds_gpus();
        let collateral = accounts.settle.job.collateral_locked();
        let assignment = accounts.settle.job.assignment()?;

        // A lease is paid for what it served up to its last heartbeat; a batch job that
        // produced no result earns nothing.
        let job = &mut accounts.settle.job;
        let payout = if was_running && job.kind == JobKind::Lease {
            job.payout(job.last_heartbeat)?
        } else {
            Payout {
                gpu_seconds: 0,
                gross: 0,
                to_provider: 0,
                fee: 0,
            }
        };
        job.bill(&payout)?;
        let served = if was_running {
            job.served_seconds(job.last_heartbeat)?
        } else {
            0
        };
        let tip = job.take_tip();
        let fees_released = job.take_fees_held();
        let requeue = job.attempts < terms.max_attempts;
        let gpus = job.requirements.gpu_count;
        if requeue {
            job.requeue(now, served, unslashed_miss.then_some(assignment.provider))?;
        }
        let attempts = job.attempts;

        let vault = accounts.settle.vault();
        vault.pay(&accounts.settle.provider_tokens, payout.to_provider)?;
        vault.pay(
            &accounts.settle.treasury_tokens,
            math::add(payout.fee, fees_released)?,
        )?;
        vault.pay(&accounts.caller_tokens, tip)?;
        let release_gpus = if holds_gpus { gpus } else { 0 };
        accounts
            .settle
            .node
            .record(Outcome::Failed, release_gpus, bump)?;
        accounts.slashing.slash(
            &accounts.settle.node,
            slash_amount,
            slash_reason,
            collateral,
            bump,
        )?;
        let job_key = accounts.settle.job.key();
        let refund = if requeue {
            0
        } else {
            accounts.settle.close_out()?
        };

        staking::emit_event!(
            authority = &accounts.settle.event_authority,
            JobExpired {
                job: job_key,
                provider: assignment.provider,
                reason,
                to_provider: payout.to_provider,
                fee: payout.fee,
                fees_released,
                slash_requested: slash_amount,
                tip,
                cranker: accounts.settle.caller.key(),
                requeued: requeue,
                refund,
                attempts,
            }
        );
        Ok(())
    }
}
