use anchor_lang::prelude::*;

/// Provider registry errors: codes 6000-6999.
#[error_code(offset = 6000)]
pub enum RegistryError {
    #[msg("Only the config admin may do this")]
    NotAdmin,
    #[msg("Heartbeat interval must be positive; grace and exit notice must not be negative")]
    InvalidTiming,
    #[msg("Too many auditors: at most 8")]
    TooManyAuditors,
    #[msg("The stake account is not the staking program's account for this provider")]
    WrongStakeAccount,
    #[msg("Active stake is below gpu_count x min_stake_per_gpu: stake more first")]
    StakeBelowMinimum,
    #[msg("Endpoint is longer than 128 bytes")]
    EndpointTooLong,
    #[msg("GPU model name is empty or longer than 32 bytes")]
    InvalidGpuModel,
    #[msg("GPU count must be between 1 and 1024")]
    InvalidGpuCount,
    #[msg("Hardware figures (VRAM, CPU cores, RAM) must be positive")]
    InvalidHardware,
    #[msg("Region must be an ISO-3166 numeric code from 1 to 999")]
    InvalidRegion,
    #[msg("Price per GPU-hour must be positive")]
    InvalidPrice,
    #[msg("The signer is neither the provider's authority nor its operator")]
    NotProviderKey,
    #[msg("Only the provider's authority (cold wallet) may do this")]
    NotProviderAuthority,
    #[msg("Only the provider's operator key may do this")]
    NotProviderOperator,
    #[msg("The provider is not active")]
    ProviderNotActive,
    #[msg("The provider is not paused")]
    ProviderNotPaused,
    #[msg("The provider is already exiting")]
    ProviderExiting,
    #[msg("The provider has not begun its exit")]
    ProviderNotExiting,
    #[msg("The exit notice window has not ended yet")]
    ExitNoticeNotElapsed,
    #[msg("The provider still has GPUs in use by jobs")]
    GpusInUse,
    #[msg("The GPU count cannot drop below the GPUs in use")]
    GpuCountBelowInUse,
    #[msg("The signer is not a configured auditor")]
    NotAuditor,
    #[msg("The attested spec hash does not match the provider's declared spec")]
    SpecHashMismatch,
    #[msg("Only the configured escrow authority may do this")]
    NotEscrowAuthority,
    #[msg("The provider does not have that many free GPUs")]
    InsufficientCapacity,
    #[msg("Cannot release more GPUs than are in use")]
    ReleaseExceedsReserved,
    #[msg("GPU count of a reservation must be positive")]
    ZeroGpus,
    #[msg("This authority already has a registered provider: update it instead")]
    ProviderAlreadyRegistered,
    #[msg("Arithmetic overflow")]
    MathOverflow,
    #[msg("Provider bookkeeping is inconsistent")]
    InvariantViolated,
    #[msg("The provider still holds jobs: they must end (settle or expire) before it retires")]
    JobsHeld,
    #[msg("The provider is retired: register again to return")]
    ProviderRetired,
    #[msg("Benchmark score is above the registry's ceiling")]
    BenchmarkAboveCeiling,
    #[msg("No config update is pending")]
    NoPendingUpdate,
    #[msg("The config update's timelock has not passed yet")]
    TimelockNotElapsed,
    #[msg("Providers are registered: the escrow authority their jobs answer to cannot change")]
    EscrowAuthorityInUse,
    #[msg("The proposal was not applied within 14 days of its timelock and lapsed: propose again")]
    ProposalLapsed,
}
