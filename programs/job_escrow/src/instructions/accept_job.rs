//! Takes an open instant-mode job at the provider's listed price. Signed by the provider's
//! operator; the registry's eligibility predicate decides, on the provider's current
//! account and stake. The provider's GPUs are reserved and the job's collateral locked on
//! its stake from now until the job ends.

use crate::{
    error::EscrowError,
    events::JobAssigned,
    instructions::{check_candidate, ProviderCpi},
    state::{Assignment, Job, JobMode, MarketConfig},
};
use anchor_lang::prelude::*;
// Composite account groups need their generated companions in scope.
#[allow(unused_imports)]
use crate::instructions::*;
use provider_registry::state::{Provider, RegistryConfig};
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
        check_candidate(
            &self.provider,
            &self.stake_account,
            &self.registry_config,
            job,
            price,
            now,
        )
    }
}

#[event_cpi]
#[derive(Accounts)]
pub struct AcceptJob<'info> {
    pub operator: Signer<'info>,
    #[account(seeds = [MarketConfig::SEED], bump = config.bump)]
    pub config: Box<Account<'info, MarketConfig>>,
    #[account(
        mut,
        seeds = [Job::SEED, job.client.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,
    pub node: ProviderCpi<'info>,
}

impl AcceptJob<'_> {
    /// The provider, once checked: its operator signed, and it may take the job.
    fn validate(&self, now: i64) -> Result<Provider> {
        require!(
            self.job.mode == JobMode::Instant,
            EscrowError::NotInstantMode
        );
        let provider = self.node.existing_provider()?;
        let address = Pubkey::create_program_address(
            &[
                Provider::SEED,
                provider.authority.as_ref(),
                &[provider.bump],
            ],
            &provider_registry::ID,
        )
        .map_err(|_| error!(EscrowError::WrongProvider))?;
        self.node.check_keys(&address, &provider.authority)?;
        require_keys_eq!(
            self.operator.key(),
            provider.operator,
            EscrowError::NotAssignedProvider
        );
        check_candidate(
            &provider,
            &self.node.stake_account,
            &self.node.registry_config,
            &self.job,
            provider.price_per_gpu_hour,
            now,
        )?;
        Ok(provider)
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let provider = ctx.accounts.validate(now)?;
        let accounts = ctx.accounts;
        let job = &mut accounts.job;
        job.assign(Assignment {
            provider: accounts.node.provider.key(),
            authority: provider.authority,
            price_per_gpu_hour: provider.price_per_gpu_hour,
            assigned_at: now,
        })?;
        accounts.node.hold(job, accounts.config.authority_bump)?;

        staking::emit_event!(
            authority = &accounts.event_authority,
            JobAssigned {
                job: job.key(),
                provider: accounts.node.provider.key(),
                price_per_gpu_hour: provider.price_per_gpu_hour,
                attempt: job.attempts,
                collateral_locked: job.collateral_locked(),
            }
        );
        Ok(())
    }
}
