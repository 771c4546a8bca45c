//! Ends a running lease early: the provider is paid for the time served (up to its last
//! heartbeat plus the grace), the rest goes back. The client only.

use crate::{
    error::EscrowError,
    events::SettleReason,
    instructions::SettleJob,
    state::{JobKind, JobStatus},
};
use anchor_lang::prelude::*;

pub fn handler(ctx: Context<SettleJob>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let accounts = ctx.accounts;
    require_keys_eq!(
        accounts.caller.key(),
        accounts.job.client,
        EscrowError::NotClient
    );
    require!(
        accounts.job.kind == JobKind::Lease,
        EscrowError::NotLeaseJob
    );
    require!(
        accounts.job.status == JobStatus::Running,
        EscrowError::JobNotRunning
    );
    accounts.validate_payees()?;
    let until = accounts
        .job
        .served_until(now, accounts.job.terms.heartbeat_grace)?;
    accounts.settle(until, SettleReason::LeaseClosed, 0)?;
    Ok(())
}
