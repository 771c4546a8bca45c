//! Settles one committed replica once its group's reveals are final (every replica
//! revealed, or the reveal deadline passed). The group's result is the one more than half
//! of its N replicas revealed; a replica that never revealed, or never ran, counts against
//! every result.
//!
//! - Its revealed result is the majority's: the provider is paid for its run as for a
//!   finalized job, the fee goes to the treasury and the rest back to the client.
//! - A majority exists and it revealed another result, or it never revealed: the provider
//!   is slashed the `wrong_result` amount of the job's terms, whole to the staking
//!   treasury (the client, refunded in full, lost nothing), and the client gets the whole
//!   vault back.
//! - No majority, and it revealed: the client gets the whole vault back, the provider is
//!   neither paid nor slashed and its collateral is unlocked.
//!
//! Anyone may call it. Replicas that never committed end by the ordinary paths: an expiry
//! (slashed for the missed start or result) and a reclaim of the re-opened job.

use crate::{
    error::EscrowError,
    events::{ReplicaSettled, ReplicaVerdict, SettleReason},
    instructions::{SettleJob, SlashCpi},
    state::{JobStatus, ReplicaGroup},
};
use anchor_lang::prelude::*;
// Composite account groups need their generated companions in scope.
#[allow(unused_imports)]
use crate::instructions::*;
use provider_registry::state::Outcome;
use staking::state::SlashReason;

#[derive(Accounts)]
pub struct SettleReplica<'info> {
    pub settle: SettleJob<'info>,
    pub slashing: SlashCpi<'info>,
    #[account(
        seeds = [ReplicaGroup::SEED, group.client.as_ref(), &group.group_id.to_le_bytes()],
        bump = group.bump,
    )]
    pub group: Box<Account<'info, ReplicaGroup>>,
}

impl SettleReplica<'_> {
    /// The replica's verdict, once it may be settled at `now`.
    fn verdict(&self, now: i64) -> Result<ReplicaVerdict> {
        let job = &self.settle.job;
        job.require_replica_of(&self.group.key())?;
        require!(
            job.status == JobStatus::ResultSubmitted,
            EscrowError::NoResultSubmitted
        );
        self.settle.validate_payees()?;
        self.slashing.require_staking_treasury(&self.settle.node)?;
        require!(self.group.is_decided(now), EscrowError::ReplicasUndecided);
        let revealed = self.group.slot(&job.key())?.revealed;
        Ok(match (self.group.majority(), revealed) {
            (Some(majority), Some(hash)) if hash == majority => ReplicaVerdict::Agreed,
            (_, None) => ReplicaVerdict::Unrevealed,
            (Some(_), Some(_)) => ReplicaVerdict::Dissented,
            (None, Some(_)) => ReplicaVerdict::Inconclusive,
        })
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let verdict = ctx.accounts.verdict(now)?;
        let accounts = ctx.accounts;
        let majority = accounts.group.majority();
        let job_key = accounts.settle.job.key();
        let provider = accounts.settle.job.assignment()?.provider;
        let slash = accounts.settle.job.terms.slash.wrong_result;
        let (refund, slash_requested) = match verdict {
            ReplicaVerdict::Agreed => {
                let until = accounts.settle.job.served_until(now, 0)?;
                let refund = accounts
                    .settle
                    .settle(until, SettleReason::ReplicasAgreed, 0)?;
                (refund, 0)
            }
            ReplicaVerdict::Dissented | ReplicaVerdict::Unrevealed => {
                let refund = accounts.settle.refund_for_fault(
                    &accounts.slashing,
                    Outcome::WrongResult,
                    slash,
                    SlashReason::WrongResult,
                )?;
                (refund, slash)
            }
            ReplicaVerdict::Inconclusive => {
                // No slash: the collateral is unlocked and the whole vault refunded.
                let refund = accounts.settle.refund_for_fault(
                    &accounts.slashing,
                    Outcome::Inconclusive,
                    0,
                    SlashReason::WrongResult,
                )?;
                (refund, 0)
            }
        };

        staking::emit_event!(
            authority = &accounts.settle.event_authority,
            ReplicaSettled {
                job: job_key,
                group: accounts.group.key(),
                provider,
                verdict,
                majority,
                refund,
                slash_requested,
            }
        );
        Ok(())
    }
}
