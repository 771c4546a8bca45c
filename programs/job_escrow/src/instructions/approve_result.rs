//! Accepts a batch job's result and settles it at once. The client only.

use crate::{error::EscrowError, instructions::SettleJob};
use anchor_lang::prelude::*;

pub fn handler(ctx: Context<SettleJob>) -> Result<()> {
    let accounts = ctx.accounts;
    require_keys_eq!(
        accounts.caller.key(),
        accounts.job.client,
        EscrowError::NotClient
    );
    accounts.validate_settlement()?;
    accounts.settle(true)
}
