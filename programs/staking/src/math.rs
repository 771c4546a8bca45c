//! Checked arithmetic helpers for balances.

use crate::{constants::BPS_DENOMINATOR, error::StakingError};
use anchor_lang::prelude::*;

/// `amount * bps / 10_000`, rounded down, computed in u128.
pub fn bps_of(amount: u64, bps: u16) -> Result<u64> {
    let product = u128::from(amount)
        .checked_mul(u128::from(bps))
        .ok_or(error!(StakingError::MathOverflow))?;
    let share = product
        .checked_div(u128::from(BPS_DENOMINATOR))
        .ok_or(error!(StakingError::MathOverflow))?;
    u64::try_from(share).map_err(|_| error!(StakingError::MathOverflow))
}

pub fn add(a: u64, b: u64) -> Result<u64> {
    a.checked_add(b).ok_or(error!(StakingError::MathOverflow))
}

pub fn sub(a: u64, b: u64) -> Result<u64> {
    a.checked_sub(b).ok_or(error!(StakingError::MathOverflow))
}

#[cfg(test)]
mod tests;
