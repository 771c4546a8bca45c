//! Takes an open instant-mode job at the provider's listed price. Signed by the provider's
//! operator; the registry's eligibility predicate decides, on the provider's current
//! account and stake.

use crate::{
    error::EscrowError,
    events::JobAssigned,
    state::{Assignment, Job, JobMode},
};
use anchor_lang::prelude::*;
// Composite account groups need their generated companions in scope.
#[allow(unused_imports)]
use crate::instructions::*;
use provider_registry::{
    eligibility::satisfies,
    state::{Provider, RegistryConfig},
};
use staking::state::StakeAccount;

/// A provider offering to take a job, signed by its operator, with what the eligibility
/// predicate reads.
#[derive(Accounts)]
pub struct Candidate<'info> {
    pub operator: Signer<'info>,
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
        has_one = operator @ EscrowError::NotAssignedProvider,
    )]
    pub provider: Box<Account<'info, Provider>>,
    #[account(
        seeds = [StakeAccount::SEED, provider.authority.as_ref()],
        bump = stake_account.bump,
        seeds::program = staking::ID,
    )]
    pub stake_account: Box<Account<'info, StakeAccount>>,
}

impl Candidate<'_> {
    /// May this provider take `job` at `price`?
    pub fn check(&self, job: &Job, price: u64, now: i64) -> Result<()> {
        require!(
            self.provider.payment_mint == job.payment_mint,
            EscrowError::PaymentMintMismatch
        );
        require!(
            price <= job.max_price_per_gpu_hour,
            EscrowError::PriceAboveMax
        );
        satisfies(
            &self.provider,
            self.stake_account.active,
            &job.requirements,
            &self.registry_config.policy(),
            now,
        )
        .map_err(EscrowError::from)?;
        Ok(())
    }
}

#[derive(Accounts)]
pub struct AcceptJob<'info> {
    #[account(
        mut,
        seeds = [Job::SEED, job.client.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,
    pub candidate: Candidate<'info>,
}

impl AcceptJob<'_> {
    fn validate(&self, now: i64) -> Result<()> {
        require!(
            self.job.mode == JobMode::Instant,
            EscrowError::NotInstantMode
        );
        self.candidate
            .check(&self.job, self.candidate.provider.price_per_gpu_hour, now)
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        ctx.accounts.validate(now)?;
        let provider = &ctx.accounts.candidate.provider;
        let job = &mut ctx.accounts.job;
        job.assign(Assignment {
            provider: provider.key(),
            authority: provider.authority,
            operator: provider.operator,
            price_per_gpu_hour: provider.price_per_gpu_hour,
            assigned_at: now,
        })?;

        staking::emit_event!(JobAssigned {
            job: job.key(),
            provider: provider.key(),
            price_per_gpu_hour: provider.price_per_gpu_hour,
            attempt: job.attempts,
        });
        Ok(())
    }
}
