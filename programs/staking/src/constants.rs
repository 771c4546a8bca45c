//! Bounds and fixed parameters of the staking program.

/// Most slashers a config can authorise (the escrow authority, plus room for a successor).
pub const MAX_SLASHERS: usize = 4;

/// Basis points in one whole.
pub const BPS_DENOMINATOR: u64 = 10_000;

/// Longest unbonding cooldown the config accepts: one year.
pub const MAX_UNBONDING_PERIOD: i64 = 365 * 24 * 60 * 60;
