//! The client of a batch job reveals the known answer it committed to at creation
//! (`sha256(expected || salt)` = the job's `verification`), while the challenge window is
//! open. A result that matches changes nothing; one that differs ends the job without an
//! arbiter: the provider is slashed the `wrong_result` amount of the job's terms and marked
//! as having failed a verification, and the client gets the whole deposit back. A reveal
//! that does not open the commitment is refused, so an ordinary job (a random commitment)
//! can never be turned into a canary after its result is known.
//!
//! The slash goes to the staking treasury whole, never to the client: the client, refunded
//! in full, lost nothing, and a client that committed to a false answer to frame an honest
//! provider gains no stake by it.

use crate::{
    error::EscrowError,
    events::CanaryRevealed,
    instructions::{SettleJob, SlashCpi},
    state::{canary_commitment, JobStatus},
};
use anchor_lang::prelude::*;
// Composite account groups need their generated companions in scope.
#[allow(unused_imports)]
use crate::instructions::*;
use provider_registry::state::Outcome;
use staking::state::SlashReason;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RevealCanaryArgs {
    /// The correct result hash, as committed.
    pub expected: [u8; 32],
    pub salt: [u8; 32],
}

#[derive(Accounts)]
pub struct RevealCanary<'info> {
    /// `settle.caller` is the job's client.
    pub settle: SettleJob<'info>,
    pub slashing: SlashCpi<'info>,
}

impl RevealCanary<'_> {
    /// The submitted result hash, once the reveal is allowed now.
    fn validate(&self, args: &RevealCanaryArgs, now: i64) -> Result<[u8; 32]> {
        let job = &self.settle.job;
        require_keys_eq!(self.settle.caller.key(), job.client, EscrowError::NotClient);
        job.require_not_replica()?;
        require!(
            job.status == JobStatus::ResultSubmitted,
            EscrowError::NoResultSubmitted
        );
        let result = job
            .result
            .as_ref()
            .ok_or(error!(EscrowError::NoResultSubmitted))?;
        require!(
            now < job.challenge_ends_at()?,
            EscrowError::ChallengeWindowClosed
        );
        require!(
            canary_commitment(&args.expected, &args.salt) == job.verification,
            EscrowError::VerificationMismatch
        );
        self.settle.validate_payees()?;
        self.slashing.require_staking_treasury(&self.settle.node)?;
        Ok(result.hash)
    }

    pub fn handler(ctx: Context<Self>, args: RevealCanaryArgs) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let submitted = ctx.accounts.validate(&args, now)?;
        let accounts = ctx.accounts;
        let job_key = accounts.settle.job.key();
        let (client, provider) = (
            accounts.settle.job.client,
            accounts.settle.job.assignment()?.provider,
        );
        let passed = submitted == args.expected;
        let (refund, slash_requested) = if passed {
            (0, 0)
        } else {
            let slash = accounts.settle.job.terms.slash.wrong_result;
            let refund = accounts.settle.refund_for_fault(
                &accounts.slashing,
                Outcome::WrongResult,
                slash,
                SlashReason::WrongResult,
            )?;
            (refund, slash)
        };

        staking::emit_event!(
            authority = &accounts.settle.event_authority,
            CanaryRevealed {
                job: job_key,
                client,
                provider,
                expected: args.expected,
                submitted,
                passed,
                refund,
                slash_requested,
            }
        );
        Ok(())
    }
}
