//! Bounds and fixed parameters of the reward emission.

/// Basis points in one whole.
pub const BPS_DENOMINATOR: u64 = 10_000;
