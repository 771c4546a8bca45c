//! Bounds and fixed parameters of the reward emission.

/// Basis points in one whole.
pub const BPS_DENOMINATOR: u64 = 10_000;

/// How many uptime shards an epoch's weight is folded into. Finalizing an epoch reads all of
/// them in one transaction.
pub const SHARDS: u8 = 16;

/// The most reward records one fold transaction may name.
pub const MAX_FOLD_BATCH: usize = 24;
