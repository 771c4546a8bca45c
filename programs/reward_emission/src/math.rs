//! The emission schedule in closed form.

use crate::{constants::BPS_DENOMINATOR, error::EmissionError};
use anchor_lang::prelude::*;

/// One in 64.64 fixed point.
const ONE: u128 = 1 << 64;

/// `a * b` in 64.64 fixed point, rounded down. Both are at most `ONE`, so the product fits.
fn mul(a: u128, b: u128) -> Result<u128> {
    a.checked_mul(b)
        .map(|p| p >> 64)
        .ok_or(error!(EmissionError::MathOverflow))
}

/// The per-epoch emission of decay period `period`: `first x keep^period` with
/// `keep = (10000 - decay_bps) / 10000`. `keep` and its powers are 64.64 fixed point, raised
/// by repeated squaring with every product rounded down, and the emission is rounded down:
/// the cost is O(log period), so an epoch opened after any idle gap costs the same few
/// dozen multiplications. The schedule is defined by this function; it never increases
/// from one period to the next.
pub fn period_emission(first: u64, decay_bps: u16, period: u64) -> Result<u64> {
    let decay = u64::from(decay_bps);
    if decay == 0 || period == 0 {
        return Ok(first);
    }
    if decay >= BPS_DENOMINATOR {
        return Ok(0);
    }
    let keep_bps = u128::from(BPS_DENOMINATOR.saturating_sub(decay));
    let mut base = keep_bps
        .checked_mul(ONE)
        .and_then(|v| v.checked_div(u128::from(BPS_DENOMINATOR)))
        .ok_or(error!(EmissionError::MathOverflow))?;
    let (mut power, mut k) = (ONE, period);
    while k > 0 && power > 0 {
        if k & 1 == 1 {
            power = mul(power, base)?;
        }
        base = mul(base, base)?;
        k >>= 1;
    }
    let emission = u128::from(first)
        .checked_mul(power)
        .map(|p| p >> 64)
        .ok_or(error!(EmissionError::MathOverflow))?;
    u64::try_from(emission).map_err(|_| error!(EmissionError::MathOverflow))
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests;
