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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_rounds_down_and_max_cost_up() {
        // 1 base unit per GPU-hour for 1 second on 1 GPU: 1/3600.
        assert_eq!(cost(1, 1, 1).unwrap(), 0);
        assert_eq!(max_cost(1, 1, 1).unwrap(), 1);
        assert_eq!(cost(2_000_000, 4, 5_400).unwrap(), 12_000_000);
        assert_eq!(max_cost(2_000_000, 4, 5_400).unwrap(), 12_000_000);
        assert_eq!(cost(1_000_001, 3, 7).unwrap(), 5_833);
        assert_eq!(max_cost(1_000_001, 3, 7).unwrap(), 5_834);
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        assert!(cost(u64::MAX, u16::MAX, u64::MAX).is_err());
        assert_eq!(
            max_cost(u64::MAX, 2, 3_600).unwrap_err(),
            error!(EscrowError::DepositTooLarge)
        );
    }
}
