//! Takes an open instant-mode job at the provider's listed price. Signed by the provider's
//! operator, once the market matcher's window on the job has closed; the registry's
//! eligibility predicate decides, on the provider's current account and stake. The
//! provider's GPUs are reserved and the job's collateral locked on its stake from now until
//! the job ends.

use crate::{
    constants::DECLINE_WINDOW,
    error::EscrowError,
    events::JobAssigned,
    instructions::{check_candidate, remaining_group, save_group, ProviderCpi},
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
    /// The provider, once checked: its operator signed, the matcher's window is over, and it
    /// may take the job.
    fn validate(&self, now: i64) -> Result<Provider> {
        require!(
            self.job.mode == JobMode::Instant,
            EscrowError::NotInstantMode
        );
        self.job.check_match_window(&self.config.matcher, now)?;
        let provider = self.node.listed_provider()?;
        require_keys_eq!(
            self.operator.key(),
            provider.operator,
            EscrowError::NotAssignedProvider
        );
        Ok(provider)
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let provider = ctx.accounts.validate(now)?;
        let accounts = ctx.accounts;
        let event = take_job(
            &mut accounts.job,
            &accounts.node,
            &provider,
            accounts.config.authority_bump,
            now,
            false,
            ctx.remaining_accounts,
        )?;
        staking::emit_event!(authority = &accounts.event_authority, event);
        Ok(())
    }
}

/// Assigns an open instant job to `provider` at its listed price, once the registry's
/// eligibility predicate allows it: reserves the GPUs and locks the collateral. A replica
/// job's group comes first in `remaining` and must accept the provider's authority
/// ([`crate::state::ReplicaGroup::claim`]). Returns the event to emit.
pub(crate) fn take_job<'info>(
    job: &mut Account<'info, Job>,
    node: &ProviderCpi<'info>,
    provider: &Provider,
    bump: u8,
    now: i64,
    by_matcher: bool,
    remaining: &[AccountInfo<'_>],
) -> Result<JobAssigned> {
    check_candidate(
        provider,
        &node.stake_account,
        &node.registry_config,
        job,
        provider.price_per_gpu_hour,
        now,
    )?;
    let seen_lately = now.saturating_sub(provider.last_heartbeat) <= DECLINE_WINDOW;
    job.assign(Assignment {
        provider: node.provider.key(),
        authority: provider.authority,
        price_per_gpu_hour: provider.price_per_gpu_hour,
        assigned_at: now,
        by_matcher,
        slashable_start: !by_matcher || seen_lately,
    })?;
    if job.is_replica() {
        let (info, mut group) = remaining_group(remaining, Some(&job.replica_group))?;
        let key = job.key();
        group.claim(&key, job, provider.authority, now)?;
        save_group(info, &group)?;
    }
    node.hold(job, bump)?;
    Ok(JobAssigned {
        job: job.key(),
        provider: node.provider.key(),
        price_per_gpu_hour: provider.price_per_gpu_hour,
        attempt: job.attempts,
        collateral_locked: job.collateral_locked(),
        by_matcher,
    })
}
