//! Bounds and fixed parameters of the job escrow.

/// Most payment mints the config can allow.
pub const MAX_ALLOWED_MINTS: usize = 8;
/// Longest workload or result URI.
pub const MAX_URI_LEN: usize = 128;
/// Basis points in one whole.
pub const BPS_DENOMINATOR: u64 = 10_000;
/// Seconds in an hour: prices are per GPU-hour, billing is per second.
pub const SECONDS_PER_HOUR: u64 = 3_600;
/// Highest protocol fee the config accepts: 20%.
pub const MAX_PROTOCOL_FEE_BPS: u16 = 2_000;
/// How long the arbiter has to rule on a dispute before anyone may settle the job as if no
/// fault were found (provider paid, bond back to the client): 14 days.
pub const DISPUTE_TIMEOUT: i64 = 14 * 24 * 3_600;
