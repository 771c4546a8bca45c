//! Records one interval of uptime for a provider in the current epoch, in the provider's
//! own reward record only: no account another node writes is locked. Signed by the
//! provider's operator key, at most once per `record_interval`, only for an Active provider
//! whose stake meets the registry minimum. Only what an auditor verified carries weight: an
//! attested node (by an auditor still configured) weighs its GPU count times its benchmark
//! score, capped at the registry's ceiling; an unattested node weighs 1, as one GPU,
//! whatever GPU count or score it declares. Finished epochs whose finalized accounts are
//! passed in are settled on the way (O(1)); the record must have room for the new epoch, so
//! an older finished epoch still held must be settled first.

use crate::{
    error::EmissionError,
    events::UptimeRecorded,
    instructions::{is_unallocated, load, settle_passed, store},
    state::{EmissionConfig, Epoch, EpochWeight, ProviderRewards},
};
use anchor_lang::prelude::*;
use provider_registry::state::{Provider, ProviderStatus, RegistryConfig};
use staking::{
    state::StakeAccount,
    utils::{create_pda_account, pda_bump},
};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RecordUptimeArgs {
    /// The current epoch (what `EmissionConfig::epoch_at(now)` gives).
    pub epoch: u64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct RecordUptime<'info> {
    #[account(mut)]
    pub operator: Signer<'info>,
    #[account(seeds = [EmissionConfig::SEED], bump = config.bump)]
    pub config: Box<Account<'info, EmissionConfig>>,
    #[account(
        seeds = [RegistryConfig::SEED],
        bump = registry_config.bump,
        seeds::program = provider_registry::ID,
    )]
    pub registry_config: Box<Account<'info, RegistryConfig>>,
    #[account(
        seeds = [Provider::SEED, provider.authority.as_ref()],
        bump = provider.bump,
        seeds::program = provider_registry::ID,
        has_one = operator @ EmissionError::NotOperator,
    )]
    pub provider: Box<Account<'info, Provider>>,
    #[account(
        seeds = [StakeAccount::SEED, provider.authority.as_ref()],
        bump = stake_account.bump,
        seeds::program = staking::ID,
    )]
    pub stake_account: Box<Account<'info, StakeAccount>>,
    /// CHECK: the provider's reward record, created on its first record (address checked
    /// by `pda_bump`, owner and type by `load`).
    #[account(mut)]
    pub rewards: UncheckedAccount<'info>,
    /// A finalized epoch the record holds weight in, to settle.
    #[account(
        seeds = [Epoch::SEED, &earlier_epoch.epoch.to_le_bytes()],
        bump = earlier_epoch.bump,
    )]
    pub earlier_epoch: Option<Box<Account<'info, Epoch>>>,
    /// Another finalized epoch the record holds weight in, to settle.
    #[account(
        seeds = [Epoch::SEED, &latest_epoch.epoch.to_le_bytes()],
        bump = latest_epoch.bump,
    )]
    pub latest_epoch: Option<Box<Account<'info, Epoch>>>,
    pub system_program: Program<'info, System>,
}

impl RecordUptime<'_> {
    fn validate(&self, args: &RecordUptimeArgs, now: i64) -> Result<()> {
        require!(
            args.epoch == self.config.epoch_at(now)?,
            EmissionError::WrongEpoch
        );
        require!(
            self.provider.status == ProviderStatus::Active,
            EmissionError::ProviderNotActive
        );
        let required = self
            .provider
            .required_stake(self.registry_config.min_stake_per_gpu)?;
        require!(
            self.stake_account.active >= required,
            EmissionError::UnderStaked
        );
        Ok(())
    }

    fn weight(&self) -> Result<u64> {
        let registry = &self.registry_config;
        if !self.provider.is_attested(&registry.auditors) {
            return Ok(1);
        }
        let score = self
            .provider
            .benchmark_score
            .min(registry.max_benchmark_score)
            .max(1);
        u64::from(self.provider.hardware.gpu_count)
            .checked_mul(u64::from(score))
            .ok_or(error!(EmissionError::MathOverflow))
    }

    pub fn handler(ctx: Context<Self>, args: RecordUptimeArgs) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        ctx.accounts.validate(&args, now)?;
        let accounts = ctx.accounts;
        let weight = accounts.weight()?;
        let provider_key = accounts.provider.key();
        let payer = accounts.operator.to_account_info();
        let system = accounts.system_program.to_account_info();

        // The provider's record.
        let rewards_info = accounts.rewards.to_account_info();
        let rewards_bump = pda_bump(
            "rewards",
            &rewards_info,
            &[ProviderRewards::SEED, provider_key.as_ref()],
            &crate::ID,
        )?;
        let mut rewards = if is_unallocated(&rewards_info) {
            create_pda_account(
                &payer,
                &rewards_info,
                &system,
                ProviderRewards::SPACE,
                &crate::ID,
                &[
                    ProviderRewards::SEED,
                    provider_key.as_ref(),
                    &[rewards_bump],
                ],
            )?;
            ProviderRewards {
                provider: provider_key,
                earlier: EpochWeight::default(),
                latest: EpochWeight {
                    epoch: args.epoch,
                    weight: 0,
                    folded: false,
                },
                unclaimed: 0,
                total_claimed: 0,
                last_recorded_at: 0,
                bump: rewards_bump,
            }
        } else {
            load::<ProviderRewards>(&rewards_info)?
        };
        let interval = accounts.config.record_interval;
        let next_allowed = rewards
            .last_recorded_at
            .checked_add(interval)
            .ok_or(error!(EmissionError::MathOverflow))?;
        require!(
            rewards.last_recorded_at == 0 || now >= next_allowed,
            EmissionError::RecordedTooSoon
        );

        // Settle the finished epochs passed in, then make room for this one.
        let settled = settle_passed(
            &mut rewards,
            [&accounts.earlier_epoch, &accounts.latest_epoch],
            args.epoch,
        )?;
        rewards.roll(args.epoch)?;
        // A folded slot never takes more weight: folds happen only after its epoch ended.
        require!(!rewards.latest.folded, EmissionError::WrongEpoch);
        rewards.latest.weight = rewards
            .latest
            .weight
            .checked_add(weight)
            .ok_or(error!(EmissionError::MathOverflow))?;
        rewards.last_recorded_at = now;
        store(&rewards_info, &rewards)?;

        staking::emit_event!(
            authority = &accounts.event_authority,
            UptimeRecorded {
                provider: provider_key,
                epoch: args.epoch,
                weight,
                provider_epoch_weight: rewards.latest.weight,
                settled: settled.paid,
                forfeited: settled.forfeited,
                unclaimed_after: rewards.unclaimed,
            }
        );
        Ok(())
    }
}
