use crate::{
    constants::{MAX_ENDPOINT_LEN, MAX_GPUS_PER_PROVIDER, MAX_GPU_MODEL_LEN, MAX_REGION},
    error::RegistryError,
};
use anchor_lang::prelude::*;

/// Broad GPU tier, matched exactly by job requirements.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq, Hash,
)]
pub enum GpuClass {
    /// Gaming cards: RTX 3090, 4090, 5090.
    Consumer,
    /// Workstation cards: RTX A6000, L40S.
    Workstation,
    /// Data-centre accelerators: A100, H100, H200, B200.
    Datacenter,
}

/// What a node offers. Figures are per node except `vram_mib`, which is per GPU. The model
/// name, the only field of variable length, comes last, so that every figure sits at a
/// fixed offset in the provider account (see [`layout`]).
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Debug, PartialEq, Eq)]
pub struct Hardware {
    pub gpu_class: GpuClass,
    pub gpu_count: u16,
    pub vram_mib: u32,
    pub cpu_cores: u16,
    pub ram_mib: u32,
    pub disk_gib: u32,
    pub bandwidth_mbps: u32,
    #[max_len(MAX_GPU_MODEL_LEN)]
    pub gpu_model: String,
}

impl Hardware {
    pub fn validate(&self) -> Result<()> {
        require!(
            !self.gpu_model.is_empty() && self.gpu_model.len() <= MAX_GPU_MODEL_LEN,
            RegistryError::InvalidGpuModel
        );
        require!(
            self.gpu_count > 0 && self.gpu_count <= MAX_GPUS_PER_PROVIDER,
            RegistryError::InvalidGpuCount
        );
        require!(
            self.vram_mib > 0 && self.cpu_cores > 0 && self.ram_mib > 0,
            RegistryError::InvalidHardware
        );
        Ok(())
    }
}

/// The hash an auditor signs off on: the Borsh encoding of the hardware followed by the
/// benchmark score, SHA-256. Off-chain tools compute it with this same function.
pub fn spec_hash(hardware: &Hardware, benchmark_score: u32) -> [u8; 32] {
    // Borsh encoding into a Vec cannot fail.
    let encoded = borsh::to_vec(hardware).unwrap_or_default();
    solana_sha256_hasher::hashv(&[&encoded, &benchmark_score.to_le_bytes()]).to_bytes()
}

/// An auditor's statement that it verified this spec.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attestation {
    pub auditor: Pubkey,
    pub attested_at: i64,
    pub spec_hash: [u8; 32],
}

#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderStatus {
    /// Takes new jobs.
    Active,
    /// Takes no new jobs until resumed; running jobs continue.
    Paused,
    /// Leaving: takes no new jobs; may retire once the notice ends
    /// (`Provider::exit_notice_ends_at`) and it holds no job.
    Exiting,
    /// Off the market. The account stays, so its reputation and unclaimed rewards survive;
    /// registering again with the same authority brings it back.
    Retired,
}

/// What the escrow reports when a job ends.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Completed {
        gpu_seconds: u64,
        /// Seconds from assignment to start.
        time_to_start: u64,
    },
    Failed,
    DisputeLost,
    /// The provider turned down a job the market's matcher assigned to it, before starting:
    /// no fault, and no change to its record.
    Declined,
    /// A known-answer (canary) job's client revealed an answer that differs from the
    /// provider's result.
    WrongResult,
    /// A replica whose group reached no majority: the provider revealed a result, but
    /// nothing tells right from wrong. No fault, and no change to its record.
    Inconclusive,
}

#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct Reputation {
    pub jobs_completed: u64,
    pub jobs_failed: u64,
    pub disputes_lost: u64,
    pub gpu_seconds_served: u64,
    pub time_to_start_sum: u64,
    /// Known-answer (canary) jobs whose result differed from the committed answer.
    pub verifications_failed: u64,
}

impl Reputation {
    /// Completed jobs over all finished jobs (failed, disputes lost and failed verifications
    /// included), in basis points; 10_000 for a newcomer.
    pub fn completion_rate_bps(&self) -> u64 {
        let finished = self
            .jobs_completed
            .saturating_add(self.jobs_failed)
            .saturating_add(self.disputes_lost)
            .saturating_add(self.verifications_failed);
        if finished == 0 {
            return 10_000;
        }
        u128::from(self.jobs_completed)
            .saturating_mul(10_000)
            .checked_div(u128::from(finished))
            .and_then(|rate| u64::try_from(rate).ok())
            .unwrap_or(10_000)
    }

    pub fn record(&mut self, outcome: Outcome) -> Result<()> {
        let overflow = || error!(RegistryError::MathOverflow);
        match outcome {
            Outcome::Completed {
                gpu_seconds,
                time_to_start,
            } => {
                self.jobs_completed = self.jobs_completed.checked_add(1).ok_or_else(overflow)?;
                self.gpu_seconds_served = self
                    .gpu_seconds_served
                    .checked_add(gpu_seconds)
                    .ok_or_else(overflow)?;
                self.time_to_start_sum = self
                    .time_to_start_sum
                    .checked_add(time_to_start)
                    .ok_or_else(overflow)?;
            }
            Outcome::Failed => {
                self.jobs_failed = self.jobs_failed.checked_add(1).ok_or_else(overflow)?;
            }
            Outcome::DisputeLost => {
                self.disputes_lost = self.disputes_lost.checked_add(1).ok_or_else(overflow)?;
            }
            Outcome::WrongResult => {
                self.verifications_failed = self
                    .verifications_failed
                    .checked_add(1)
                    .ok_or_else(overflow)?;
            }
            Outcome::Declined | Outcome::Inconclusive => {}
        }
        Ok(())
    }
}

/// A registered GPU node.
///
/// Every field a client filters or ranks on sits at a fixed offset (see [`layout`]): the
/// fixed-size fields come first, `status` right before the hardware so that one `memcmp`
/// selects "active, of this GPU class", and the fields of variable length last.
#[account]
#[derive(InitSpace, Debug)]
pub struct Provider {
    /// Cold wallet: owns the stake, sets the operator, exits and retires.
    pub authority: Pubkey,
    /// Hot key on the node: heartbeats, bids and runs jobs.
    pub operator: Pubkey,
    pub payment_mint: Pubkey,
    /// Asking price per GPU-hour, in base units of `payment_mint`.
    pub price_per_gpu_hour: u64,
    /// ISO-3166 numeric country code, compared at full width.
    pub region: u16,
    pub gpus_in_use: u16,
    /// Jobs assigned to this provider that have not ended (including batch jobs whose
    /// result awaits the challenge window): it cannot retire while any remain.
    pub jobs_held: u16,
    pub benchmark_score: u32,
    pub reputation: Reputation,
    pub last_heartbeat: i64,
    pub registered_at: i64,
    /// While `Exiting`: when the notice ends and it may retire. 0 before any exit.
    pub exit_notice_ends_at: i64,
    pub bump: u8,
    pub status: ProviderStatus,
    /// GPU class first: right after `status`.
    pub hardware: Hardware,
    #[max_len(MAX_ENDPOINT_LEN)]
    pub endpoint: String,
    pub attestation: Option<Attestation>,
}

/// Byte offsets in a provider account's data, for `memcmp` filters and `dataSlice` reads.
/// `GPU_MODEL` is the first field of variable length: everything before it has a fixed
/// offset.
#[allow(
    clippy::arithmetic_side_effects,
    reason = "constants, checked at compile time"
)]
pub mod layout {
    use super::{GpuClass, ProviderStatus, Reputation};
    use anchor_lang::prelude::Pubkey;

    staking::account_layout! { 8;
        AUTHORITY: Pubkey,
        OPERATOR: Pubkey,
        PAYMENT_MINT: Pubkey,
        PRICE_PER_GPU_HOUR: u64,
        REGION: u16,
        GPUS_IN_USE: u16,
        JOBS_HELD: u16,
        BENCHMARK_SCORE: u32,
        REPUTATION: Reputation,
        LAST_HEARTBEAT: i64,
        REGISTERED_AT: i64,
        EXIT_NOTICE_ENDS_AT: i64,
        BUMP: u8,
        STATUS: ProviderStatus,
        GPU_CLASS: GpuClass,
        GPU_COUNT: u16,
        VRAM_MIB: u32,
        CPU_CORES: u16,
        RAM_MIB: u32,
        DISK_GIB: u32,
        BANDWIDTH_MBPS: u32,
        GPU_MODEL: String,
    }
}

impl Provider {
    pub const SEED: &'static [u8] = b"provider";
    pub const SPACE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;

    pub fn free_gpus(&self) -> u16 {
        self.hardware.gpu_count.saturating_sub(self.gpus_in_use)
    }

    /// Whether an auditor that is still configured (`auditors`) attested exactly the spec
    /// the provider declares now.
    pub fn is_attested(&self, auditors: &[Pubkey]) -> bool {
        self.attestation.is_some_and(|a| {
            auditors.contains(&a.auditor)
                && a.spec_hash == spec_hash(&self.hardware, self.benchmark_score)
        })
    }

    /// Stake this provider needs for its declared GPUs.
    pub fn required_stake(&self, min_stake_per_gpu: u64) -> Result<u64> {
        u64::from(self.hardware.gpu_count)
            .checked_mul(min_stake_per_gpu)
            .ok_or(error!(RegistryError::MathOverflow))
    }

    pub fn is_key(&self, key: &Pubkey) -> bool {
        *key == self.authority || *key == self.operator
    }

    pub fn pause(&mut self) -> Result<()> {
        require!(
            self.status == ProviderStatus::Active,
            RegistryError::ProviderNotActive
        );
        self.status = ProviderStatus::Paused;
        Ok(())
    }

    pub fn resume(&mut self) -> Result<()> {
        require!(
            self.status == ProviderStatus::Paused,
            RegistryError::ProviderNotPaused
        );
        self.status = ProviderStatus::Active;
        Ok(())
    }

    pub fn begin_exit(&mut self, now: i64, notice: i64) -> Result<i64> {
        require!(
            self.status != ProviderStatus::Exiting,
            RegistryError::ProviderExiting
        );
        require!(
            self.status != ProviderStatus::Retired,
            RegistryError::ProviderRetired
        );
        let notice_ends_at = now
            .checked_add(notice)
            .ok_or(error!(RegistryError::MathOverflow))?;
        self.status = ProviderStatus::Exiting;
        self.exit_notice_ends_at = notice_ends_at;
        Ok(notice_ends_at)
    }

    pub fn check_retirable(&self, now: i64) -> Result<()> {
        require!(
            self.status == ProviderStatus::Exiting,
            RegistryError::ProviderNotExiting
        );
        require!(
            now >= self.exit_notice_ends_at,
            RegistryError::ExitNoticeNotElapsed
        );
        require!(self.jobs_held == 0, RegistryError::JobsHeld);
        require!(self.gpus_in_use == 0, RegistryError::GpusInUse);
        Ok(())
    }

    /// Takes on a job needing `gpus`: they are busy from now until released.
    pub fn reserve(&mut self, gpus: u16) -> Result<()> {
        require!(gpus > 0, RegistryError::ZeroGpus);
        require!(
            gpus <= self.free_gpus(),
            RegistryError::InsufficientCapacity
        );
        self.gpus_in_use = self
            .gpus_in_use
            .checked_add(gpus)
            .ok_or(error!(RegistryError::MathOverflow))?;
        self.jobs_held = self
            .jobs_held
            .checked_add(1)
            .ok_or(error!(RegistryError::MathOverflow))?;
        Ok(())
    }

    /// A held job ended (its outcome is recorded). Saturates: an ending is never blocked.
    pub fn end_job(&mut self) {
        self.jobs_held = self.jobs_held.saturating_sub(1);
    }

    pub fn release(&mut self, gpus: u16) -> Result<()> {
        require!(gpus > 0, RegistryError::ZeroGpus);
        self.gpus_in_use = self
            .gpus_in_use
            .checked_sub(gpus)
            .ok_or(error!(RegistryError::ReleaseExceedsReserved))?;
        Ok(())
    }

    pub fn validate_listing(&self) -> Result<()> {
        self.hardware.validate()?;
        require!(
            self.endpoint.len() <= MAX_ENDPOINT_LEN,
            RegistryError::EndpointTooLong
        );
        require!(
            self.region > 0 && self.region <= MAX_REGION,
            RegistryError::InvalidRegion
        );
        require!(self.price_per_gpu_hour > 0, RegistryError::InvalidPrice);
        Ok(())
    }

    pub fn invariant(&self) -> Result<()> {
        self.validate_listing()?;
        require!(
            self.gpus_in_use <= self.hardware.gpu_count,
            RegistryError::InvariantViolated
        );
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests;
