//! Accepts a batch job's result and settles it at once. The client only.

use crate::{error::EscrowError, events::SettleReason, instructions::SettleJob, state::JobStatus};
use anchor_lang::prelude::*;

pub fn handler(ctx: Context<SettleJob>) -> Result<()> {
    let accounts = ctx.accounts;
    // A replica is settled by its group's majority (`settle_replica`).
    accounts.job.require_not_replica()?;
    require_keys_eq!(
        accounts.caller.key(),
        accounts.job.client,
        EscrowError::NotClient
    );
    require!(
        accounts.job.status == JobStatus::ResultSubmitted,
        EscrowError::NoResultSubmitted
    );
    accounts.validate_payees()?;
    let now = Clock::get()?.unix_timestamp;
    let until = accounts.job.served_until(now, 0)?;
    accounts.settle(until, SettleReason::Approved, 0)?;
    Ok(())
}
