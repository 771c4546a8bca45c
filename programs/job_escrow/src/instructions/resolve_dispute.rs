//! The arbiter's ruling on a disputed result. For the client: the whole deposit and the
//! bond go back, the provider is slashed and marked as having lost a dispute. For the
//! provider: the job settles as if approved and the bond goes to the provider. The arbiter
//! the job was created under only.

use crate::{
    error::EscrowError,
    events::{DisputeResolved, SettleReason},
    instructions::{SettleJob, SlashCpi},
    state::JobStatus,
};
use anchor_lang::prelude::*;
// Composite account groups need their generated companions in scope.
#[allow(unused_imports)]
use crate::instructions::*;
use provider_registry::state::Outcome;
use staking::state::SlashReason;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ResolveDisputeArgs {
    pub for_client: bool,
}

#[derive(Accounts)]
pub struct ResolveDispute<'info> {
    /// `settle.caller` is the arbiter.
    pub settle: SettleJob<'info>,
    pub slashing: SlashCpi<'info>,
}

impl ResolveDispute<'_> {
    fn validate(&self) -> Result<()> {
        require_keys_eq!(
            self.settle.caller.key(),
            self.settle.job.terms.arbiter,
            EscrowError::NotArbiter
        );
        require!(
            self.settle.job.status == JobStatus::Disputed,
            EscrowError::NotDisputed
        );
        self.settle.validate_payees()?;
        require_keys_eq!(
            self.slashing.slash_recipient.owner,
            self.settle.job.client,
            EscrowError::WrongTokenAccountOwner
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: ResolveDisputeArgs) -> Result<()> {
        ctx.accounts.validate()?;
        let now = Clock::get()?.unix_timestamp;
        let accounts = ctx.accounts;
        let job_key = accounts.settle.job.key();
        let bond = accounts.settle.job.dispute.map_or(0, |d| d.bond);
        let (refund, slash_requested) = if args.for_client {
            let slash = accounts.settle.job.terms.slash.dispute_lost;
            let refund = accounts.settle.refund_for_fault(
                &accounts.slashing,
                Outcome::DisputeLost,
                slash,
                SlashReason::DisputeLost,
            )?;
            (refund, slash)
        } else {
            let until = accounts.settle.job.served_until(now, 0)?;
            accounts
                .settle
                .settle(until, SettleReason::DisputeRejected, bond)?;
            (0, 0)
        };

        staking::emit_event!(
            authority = &accounts.settle.event_authority,
            DisputeResolved {
                job: job_key,
                arbiter: accounts.settle.caller.key(),
                for_client: args.for_client,
                refund,
                slash_requested,
            }
        );
        Ok(())
    }
}
