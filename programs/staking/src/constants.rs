//! Bounds and fixed parameters of the staking program.

/// Most slashers a config can authorise (the escrow authority, plus room for a successor).
pub const MAX_SLASHERS: usize = 4;

/// Basis points in one whole.
pub const BPS_DENOMINATOR: u64 = 10_000;

/// Longest unbonding cooldown the config accepts: one year.
pub const MAX_UNBONDING_PERIOD: i64 = 365 * 24 * 60 * 60;

/// How long a proposed change of staking parameters waits, on top of the unbonding period,
/// before it can be applied: 60 days, longer than the longest job the job escrow's hard
/// bounds allow. Stakers who object can finish their jobs and unbond first.
pub const CONFIG_TIMELOCK: i64 = 60 * 24 * 60 * 60;

/// How long after its timelock a proposed config change may still be applied: 14 days.
pub const PROPOSAL_LIFETIME: i64 = 14 * 24 * 3_600;
