//! Bounds and fixed parameters of the job escrow.

/// Most payment mints the config can allow.
pub const MAX_ALLOWED_MINTS: usize = 8;
/// Longest workload or result URI.
pub const MAX_URI_LEN: usize = 128;
/// Auction winners refused at close (paused, gone, out of stake) before an auction stops
/// re-opening: each may not bid on that job again.
pub const MAX_REFUSED_BIDDERS: usize = 4;
/// Basis points in one whole.
pub const BPS_DENOMINATOR: u64 = 10_000;
/// Seconds in an hour: prices are per GPU-hour, billing is per second.
pub const SECONDS_PER_HOUR: u64 = 3_600;
/// Highest protocol fee the config accepts: 20%.
pub const MAX_PROTOCOL_FEE_BPS: u16 = 2_000;
/// How long the arbiter has to rule on a dispute before anyone may settle the job as a
/// ruling for the provider (provider paid, bond to the provider): 14 days.
pub const DISPUTE_TIMEOUT: i64 = 14 * DAY;

const DAY: i64 = 24 * 3_600;
/// Hard bounds on the market parameters: the admin cannot set anything outside them.
pub const MAX_BID_WINDOW: i64 = DAY;
pub const MAX_START_TIMEOUT: i64 = DAY;
pub const MAX_HEARTBEAT_GRACE: i64 = DAY;
pub const MAX_CHALLENGE_WINDOW: i64 = 7 * DAY;
/// Longest run a job may ask for, extensions included: 30 days.
pub const MAX_JOB_DURATION: i64 = 30 * DAY;
pub const MAX_ATTEMPTS: u8 = 10;
/// Longest a market's matcher may have an instant job to itself before any eligible
/// provider may take it: 10 minutes.
pub const MAX_MATCH_WINDOW: i64 = 600;
/// How long after the matcher assigned a job its provider may still decline it: an agent
/// answers within a few ticks, and the client's deposit is not held up for longer.
pub const DECLINE_WINDOW: i64 = 60;
/// How long a proposed change of market parameters waits before it can be applied: 60
/// days, longer than the longest job the hard bounds allow (30 days of run, a day each of
/// start timeout and grace, a 7-day challenge window and the 14-day dispute timeout).
pub const CONFIG_TIMELOCK: i64 = 60 * DAY;

/// How long after its timelock a proposed config change may still be applied: 14 days.
pub const PROPOSAL_LIFETIME: i64 = 14 * 24 * 3_600;

/// Fewest and most providers a replicated job runs on (`create_replica_group`).
pub const MIN_REPLICAS: u8 = 2;
pub const MAX_REPLICAS: u8 = 5;
