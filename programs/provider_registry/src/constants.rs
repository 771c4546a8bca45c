//! Bounds of the provider registry.

/// Most auditors the config can name.
pub const MAX_AUDITORS: usize = 8;
/// Longest endpoint (URL or host:port) a provider can publish.
pub const MAX_ENDPOINT_LEN: usize = 128;
/// Longest GPU model name, e.g. "NVIDIA H100 80GB HBM3".
pub const MAX_GPU_MODEL_LEN: usize = 32;
/// Highest ISO-3166 numeric country code. Region 0 means "unspecified / any".
pub const MAX_REGION: u16 = 999;
/// Most GPUs one provider node may declare.
pub const MAX_GPUS_PER_PROVIDER: u16 = 1_024;
/// How long a proposed change of registry parameters waits before it can be applied: 60
/// days, longer than the longest job the job escrow's hard bounds allow.
pub const CONFIG_TIMELOCK: i64 = 60 * 24 * 3_600;

/// How long after its timelock a proposed config change may still be applied: 14 days.
pub const PROPOSAL_LIFETIME: i64 = 14 * 24 * 3_600;
