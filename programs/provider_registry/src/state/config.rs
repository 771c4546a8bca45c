use crate::{
    constants::MAX_AUDITORS, eligibility::EligibilityPolicy, error::RegistryError,
    instructions::UpdateConfigArgs,
};
use anchor_lang::prelude::*;

/// Registry-wide parameters.
#[account]
#[derive(InitSpace, Debug)]
pub struct RegistryConfig {
    pub admin: Pubkey,
    /// The staking program whose `StakeAccount`s back providers.
    pub staking_program: Pubkey,
    pub stake_mint: Pubkey,
    /// Active stake required per declared GPU.
    pub min_stake_per_gpu: u64,
    /// How often a provider is expected to heartbeat, in seconds.
    pub heartbeat_interval: i64,
    /// How long past the interval a provider still counts as live.
    pub liveness_grace: i64,
    /// How long a provider stays in `Exiting` before it may retire.
    pub exit_notice: i64,
    #[max_len(MAX_AUDITORS)]
    pub auditors: Vec<Pubkey>,
    /// Highest benchmark score a provider may declare; reward weight never counts more.
    pub max_benchmark_score: u32,
    /// The job escrow's authority PDA: the only signer of reserve/release/record_outcome.
    pub escrow_authority: Pubkey,
    pub provider_count: u64,
    pub bump: u8,
    /// A proposed change, waiting out its timelock.
    pub pending: Option<PendingConfigUpdate>,
}

/// A proposed change of registry parameters and when it may be applied.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Debug, PartialEq, Eq)]
pub struct PendingConfigUpdate {
    pub args: UpdateConfigArgs,
    pub eta: i64,
}

impl RegistryConfig {
    pub const SEED: &'static [u8] = b"config";
    pub const SPACE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;

    /// Sets every parameter `args` names.
    pub fn apply(&mut self, args: &UpdateConfigArgs) {
        let a = args.clone();
        self.admin = a.new_admin.unwrap_or(self.admin);
        self.min_stake_per_gpu = a.min_stake_per_gpu.unwrap_or(self.min_stake_per_gpu);
        self.heartbeat_interval = a.heartbeat_interval.unwrap_or(self.heartbeat_interval);
        self.liveness_grace = a.liveness_grace.unwrap_or(self.liveness_grace);
        self.exit_notice = a.exit_notice.unwrap_or(self.exit_notice);
        if let Some(auditors) = a.auditors {
            self.auditors = auditors;
        }
        self.escrow_authority = a.escrow_authority.unwrap_or(self.escrow_authority);
        self.max_benchmark_score = a.max_benchmark_score.unwrap_or(self.max_benchmark_score);
    }

    pub fn is_auditor(&self, key: &Pubkey) -> bool {
        self.auditors.contains(key)
    }

    /// The part of the config the eligibility predicate needs.
    pub fn policy(&self) -> EligibilityPolicy<'_> {
        EligibilityPolicy {
            min_stake_per_gpu: self.min_stake_per_gpu,
            liveness_window: self.heartbeat_interval.saturating_add(self.liveness_grace),
            auditors: &self.auditors,
        }
    }

    pub fn invariant(&self) -> Result<()> {
        require!(
            self.heartbeat_interval > 0 && self.liveness_grace >= 0 && self.exit_notice >= 0,
            RegistryError::InvalidTiming
        );
        require!(
            self.auditors.len() <= MAX_AUDITORS,
            RegistryError::TooManyAuditors
        );
        require!(self.max_benchmark_score > 0, RegistryError::InvalidTiming);
        Ok(())
    }
}
