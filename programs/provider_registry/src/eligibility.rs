//! Whether a provider may take a job: one pure predicate, used on-chain by the job escrow
//! when a provider bids or accepts, and off-chain by the matcher.

use crate::state::{GpuClass, Provider, ProviderStatus};
use anchor_lang::prelude::*;

/// Which GPU classes a job accepts: one byte, so that the job's requirements keep a fixed
/// size and every field after them a fixed offset. A class encodes as the same byte as its
/// [`GpuClass`]; `Any` comes after them.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq, Hash,
)]
pub enum ClassFilter {
    Consumer,
    Workstation,
    Datacenter,
    #[default]
    Any,
}

impl ClassFilter {
    pub fn accepts(self, class: GpuClass) -> bool {
        self == Self::Any || self == Self::from(Some(class))
    }

    /// The one class it accepts, or `None` for any.
    pub fn class(self) -> Option<GpuClass> {
        match self {
            Self::Any => None,
            Self::Consumer => Some(GpuClass::Consumer),
            Self::Workstation => Some(GpuClass::Workstation),
            Self::Datacenter => Some(GpuClass::Datacenter),
        }
    }
}

impl From<Option<GpuClass>> for ClassFilter {
    fn from(class: Option<GpuClass>) -> Self {
        match class {
            None => Self::Any,
            Some(GpuClass::Consumer) => Self::Consumer,
            Some(GpuClass::Workstation) => Self::Workstation,
            Some(GpuClass::Datacenter) => Self::Datacenter,
        }
    }
}

impl From<GpuClass> for ClassFilter {
    fn from(class: GpuClass) -> Self {
        Self::from(Some(class))
    }
}

/// What a job asks of a provider. Fixed size: it sits in the job account's header.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requirements {
    pub gpu_class: ClassFilter,
    /// GPUs the job needs at once, all on one node.
    pub gpu_count: u16,
    /// Minimum VRAM per GPU.
    pub min_vram_mib: u32,
    pub min_cpu_cores: u16,
    pub min_ram_mib: u32,
    /// ISO-3166 numeric code; 0 accepts any region.
    pub region: u16,
    pub min_benchmark: u32,
    /// Only providers whose current spec an auditor attested.
    pub attested_only: bool,
}

/// Registry parameters the predicate depends on (see `RegistryConfig::policy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EligibilityPolicy<'a> {
    pub min_stake_per_gpu: u64,
    /// Longest time since the last heartbeat for a provider to count as live.
    pub liveness_window: i64,
    /// The configured auditors: an attestation counts only while its auditor is one.
    pub auditors: &'a [Pubkey],
}

/// The first rule a provider breaks, in the order they are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ineligible {
    Paused,
    Exiting,
    Retired,
    /// No heartbeat within the liveness window.
    Stale,
    /// Active stake below its GPUs x the per-GPU minimum.
    InsufficientStake,
    GpuClassMismatch,
    /// The node has fewer GPUs in total than the job needs.
    TooFewGpus,
    /// The node has the GPUs, but not enough of them are free.
    NoFreeCapacity,
    InsufficientVram,
    InsufficientCpu,
    InsufficientRam,
    RegionMismatch,
    BenchmarkTooLow,
    NotAttested,
}

/// `Ok(())` when `provider`, backed by `active_stake`, may take a job with `requirements`
/// at time `now`; otherwise the first rule it breaks.
pub fn satisfies(
    provider: &Provider,
    active_stake: u64,
    requirements: &Requirements,
    policy: &EligibilityPolicy<'_>,
    now: i64,
) -> core::result::Result<(), Ineligible> {
    match provider.status {
        ProviderStatus::Active => {}
        ProviderStatus::Paused => return Err(Ineligible::Paused),
        ProviderStatus::Exiting => return Err(Ineligible::Exiting),
        ProviderStatus::Retired => return Err(Ineligible::Retired),
    }
    if now.saturating_sub(provider.last_heartbeat) > policy.liveness_window {
        return Err(Ineligible::Stale);
    }
    let required_stake = u128::from(provider.hardware.gpu_count)
        .saturating_mul(u128::from(policy.min_stake_per_gpu));
    if u128::from(active_stake) < required_stake {
        return Err(Ineligible::InsufficientStake);
    }
    let hw = &provider.hardware;
    if !requirements.gpu_class.accepts(hw.gpu_class) {
        return Err(Ineligible::GpuClassMismatch);
    }
    if hw.gpu_count < requirements.gpu_count {
        return Err(Ineligible::TooFewGpus);
    }
    if provider.free_gpus() < requirements.gpu_count {
        return Err(Ineligible::NoFreeCapacity);
    }
    if hw.vram_mib < requirements.min_vram_mib {
        return Err(Ineligible::InsufficientVram);
    }
    if hw.cpu_cores < requirements.min_cpu_cores {
        return Err(Ineligible::InsufficientCpu);
    }
    if hw.ram_mib < requirements.min_ram_mib {
        return Err(Ineligible::InsufficientRam);
    }
    // Full u16 comparison: 999 and 231 share their low byte and must still differ.
    if requirements.region != 0 && requirements.region != provider.region {
        return Err(Ineligible::RegionMismatch);
    }
    if provider.benchmark_score < requirements.min_benchmark {
        return Err(Ineligible::BenchmarkTooLow);
    }
    if requirements.attested_only && !provider.is_attested(policy.auditors) {
        return Err(Ineligible::NotAttested);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
