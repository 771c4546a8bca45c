//! Settles a job nobody else will: a batch job whose challenge window passed without a
//! dispute, a dispute the arbiter left unresolved past the dispute timeout (settled as a
//! ruling for the provider: it is paid and receives the bond, so an unfounded dispute is
//! never free), or a lease that reached its max duration. Anyone may call it.

use crate::{
    constants::DISPUTE_TIMEOUT,
    error::EscrowError,
    events::SettleReason,
    instructions::SettleJob,
    state::{JobKind, JobStatus},
};
use anchor_lang::prelude::*;

pub fn handler(ctx: Context<SettleJob>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let accounts = ctx.accounts;
    // A replica is settled by its group's majority (`settle_replica`).
    accounts.job.require_not_replica()?;
    accounts.validate_payees()?;
    let job = &accounts.job;
    let (until, reason, bond) = match (job.kind, job.status) {
        (JobKind::Batch, JobStatus::ResultSubmitted) => {
            let submitted_at = job
                .result
                .as_ref()
                .map(|r| r.submitted_at)
                .ok_or(error!(EscrowError::NoResultSubmitted))?;
            let window_ends = submitted_at
                .checked_add(job.terms.challenge_window)
                .ok_or(error!(EscrowError::MathOverflow))?;
            require!(now >= window_ends, EscrowError::ChallengeWindowOpen);
            (submitted_at, SettleReason::ChallengeWindowPassed, 0)
        }
        (JobKind::Batch, JobStatus::Disputed) => {
            let dispute = job.dispute.ok_or(error!(EscrowError::NotDisputed))?;
            let opened_at = dispute.opened_at;
            let timeout = opened_at
                .checked_add(DISPUTE_TIMEOUT)
                .ok_or(error!(EscrowError::MathOverflow))?;
            require!(now >= timeout, EscrowError::DisputePending);
            (
                job.served_until(now, 0)?,
                SettleReason::DisputeTimedOut,
                dispute.bond,
            )
        }
        (JobKind::Lease, JobStatus::Running) => {
            require!(now >= job.run_deadline()?, EscrowError::LeaseNotEnded);
            // A lease whose heartbeats lapsed before its end is a fault: it is expired (and
            // slashed), not settled as served.
            require!(!job.heartbeat_lapsed(now)?, EscrowError::HeartbeatLapsed);
            (
                job.served_until(now, job.terms.heartbeat_grace)?,
                SettleReason::LeaseEnded,
                0,
            )
        }
        (JobKind::Batch, _) => return err!(EscrowError::NoResultSubmitted),
        (JobKind::Lease, _) => return err!(EscrowError::JobNotRunning),
    };
    accounts.settle(until, reason, bond)?;
    Ok(())
}
