//! Billing arithmetic, all checked, in u128 where products can exceed u64.

use crate::{
    constants::{BPS_DENOMINATOR, SECONDS_PER_HOUR},
    error::EscrowError,
};
use anchor_lang::prelude::*;

fn to_u64(v: u128) -> Result<u64> {
    u64::try_from(v).map_err(|_| error!(EscrowError::MathOverflow))
}

/// `price_per_gpu_hour * gpus * seconds / 3600`, rounded down: what the provider earned.
pub fn cost(price_per_gpu_hour: u64, gpus: u16, seconds: u64) -> Result<u64> {
    let product = u128::from(price_per_gpu_hour)
        .checked_mul(u128::from(gpus))
        .and_then(|v| v.checked_mul(u128::from(seconds)))
        .ok_or(error!(EscrowError::MathOverflow))?;
    to_u64(
        product
            .checked_div(u128::from(SECONDS_PER_HOUR))
            .ok_or(error!(EscrowError::MathOverflow))?,
    )
}

/// The most a job can cost, rounded up so the deposit always covers the bill.
pub fn max_cost(price_per_gpu_hour: u64, gpus: u16, seconds: u64) -> Result<u64> {
    let product = u128::from(price_per_gpu_hour)
        .checked_mul(u128::from(gpus))
        .and_then(|v| v.checked_mul(u128::from(seconds)))
        .ok_or(error!(EscrowError::DepositTooLarge))?;
    to_u64(product.div_ceil(u128::from(SECONDS_PER_HOUR)))
        .map_err(|_| error!(EscrowError::DepositTooLarge))
}

/// `amount * bps / 10_000`, rounded down.
pub fn bps_of(amount: u64, bps: u16) -> Result<u64> {
    let product = u128::from(amount)
        .checked_mul(u128::from(bps))
        .ok_or(error!(EscrowError::MathOverflow))?;
    to_u64(
        product
            .checked_div(u128::from(BPS_DENOMINATOR))
            .ok_or(error!(EscrowError::MathOverflow))?,
    )
}

pub fn add(a: u64, b: u64) -> Result<u64> {
    a.checked_add(b).ok_or(error!(EscrowError::MathOverflow))
}

pub fn sub(a: u64, b: u64) -> Result<u64> {
    a.checked_sub(b).ok_or(error!(EscrowError::MathOverflow))
}

/// A moment `seconds` after `at`.
pub fn add_secs(at: i64, seconds: i64) -> Result<i64> {
    at.checked_add(seconds)
        .ok_or(error!(EscrowError::MathOverflow))
}

#[cfg(test)]
mod tests;
