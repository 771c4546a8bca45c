//! Settles a batch job whose challenge window passed without a dispute. Anyone may call it.

use crate::{error::EscrowError, instructions::SettleJob};
use anchor_lang::prelude::*;

pub fn handler(ctx: Context<SettleJob>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let accounts = ctx.accounts;
    accounts.validate_settlement()?;
    let submitted_at = accounts
        .job
        .result
        .as_ref()
        .map(|r| r.submitted_at)
        .ok_or(error!(EscrowError::NoResultSubmitted))?;
    let window_ends = submitted_at
        .checked_add(accounts.config.challenge_window)
        .ok_or(error!(EscrowError::MathOverflow))?;
    require!(now >= window_ends, EscrowError::ChallengeWindowOpen);
    accounts.settle(false)
}
