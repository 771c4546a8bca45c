//! Records one heartbeat interval of uptime for a provider in the current epoch, opening
//! the epoch (and fixing its emission) if this is its first record. Signed by the
//! provider's operator key, at most once per heartbeat interval, only for an Active
//! provider whose stake meets the registry minimum. Only what an auditor verified carries
//! weight: an attested node (by an auditor still configured) weighs its GPU count times its
//! benchmark score, capped at the registry's ceiling; an unattested node weighs 1, as one
//! GPU, whatever GPU count or score it declares. The provider's previous, finished epoch is
//! settled into its unclaimed rewards on the way (O(1): that epoch's account is passed in).

use crate::{
    error::EmissionError,
    events::{EpochOpened, UptimeRecorded},
    instructions::{is_unallocated, load, store},
    state::{EmissionConfig, Epoch, ProviderRewards},
};
use anchor_lang::prelude::*;
use provider_registry::state::{Provider, ProviderStatus, RegistryConfig};
use staking::{
    state::StakeAccount,
    utils::{create_pda_account, pda_bump},
};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RecordUptimeArgs {
    /// The current epoch (what `EmissionConfig::epoch_at(now)` gives); it names the epoch
    /// account.
    pub epoch: u64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct RecordUptime<'info> {
    #[account(mut)]
    pub operator: Signer<'info>,
    #[account(mut, seeds = [EmissionConfig::SEED], bump = config.bump)]
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
    /// CHECK: the current epoch, opened by its first record (address checked by `pda_bump`,
    /// owner and type by `load`).
    #[account(mut)]
    pub epoch: UncheckedAccount<'info>,
    /// The finished epoch the provider last recorded in, when there is one to settle.
    #[account(
        seeds = [Epoch::SEED, &previous_epoch.epoch.to_le_bytes()],
        bump = previous_epoch.bump,
    )]
    pub previous_epoch: Option<Box<Account<'info, Epoch>>>,
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
                current_epoch: args.epoch,
                current_weight: 0,
                unclaimed: 0,
                total_claimed: 0,
                last_recorded_at: 0,
                bump: rewards_bump,
            }
        } else {
            load::<ProviderRewards>(&rewards_info)?
        };
        let interval = accounts.registry_config.heartbeat_interval;
        let next_allowed = rewards
            .last_recorded_at
            .checked_add(interval)
            .ok_or(error!(EmissionError::MathOverflow))?;
        require!(
            rewards.last_recorded_at == 0 || now >= next_allowed,
            EmissionError::RecordedTooSoon
        );

        // Settle the finished epoch the provider last recorded in.
        let mut settled = 0;
        if rewards.needs_settling(args.epoch) {
            let previous = accounts
                .previous_epoch
                .as_ref()
                .ok_or(error!(EmissionError::MissingEpoch))?;
            settled = rewards.settle(previous)?;
        }
        if rewards.current_epoch != args.epoch {
            rewards.current_epoch = args.epoch;
            rewards.current_weight = 0;
        }

        // The current epoch, opened by its first record.
        let epoch_info = accounts.epoch.to_account_info();
        let epoch_seed = args.epoch.to_le_bytes();
        let epoch_bump = pda_bump(
            "epoch",
            &epoch_info,
            &[Epoch::SEED, &epoch_seed],
            &crate::ID,
        )?;
        let mut epoch = if is_unallocated(&epoch_info) {
            let emission = accounts.config.open_epoch(args.epoch)?;
            create_pda_account(
                &payer,
                &epoch_info,
                &system,
                Epoch::SPACE,
                &crate::ID,
                &[Epoch::SEED, &epoch_seed, &[epoch_bump]],
            )?;
            staking::emit_event!(
                authority = &accounts.event_authority,
                EpochOpened {
                    epoch: args.epoch,
                    emission,
                    total_allocated_after: accounts.config.total_allocated,
                }
            );
            Epoch {
                epoch: args.epoch,
                emission,
                total_weight: 0,
                bump: epoch_bump,
            }
        } else {
            load::<Epoch>(&epoch_info)?
        };

        epoch.total_weight = epoch
            .total_weight
            .checked_add(u128::from(weight))
            .ok_or(error!(EmissionError::MathOverflow))?;
        rewards.current_weight = rewards
            .current_weight
            .checked_add(weight)
            .ok_or(error!(EmissionError::MathOverflow))?;
        rewards.last_recorded_at = now;
        store(&epoch_info, &epoch)?;
        store(&rewards_info, &rewards)?;
        accounts.config.invariant()?;

        staking::emit_event!(
            authority = &accounts.event_authority,
            UptimeRecorded {
                provider: provider_key,
                epoch: args.epoch,
                weight,
                provider_epoch_weight: rewards.current_weight,
                epoch_total_weight: epoch.total_weight,
                settled,
                unclaimed_after: rewards.unclaimed,
            }
        );
        Ok(())
    }
}
