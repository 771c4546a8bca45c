//! Starts an assigned job within the start timeout and reserves its GPUs in the registry.
//! The assigned provider's operator only.

use crate::{
    error::EscrowError,
    events::JobStarted,
    state::{Job, MarketConfig},
};
use anchor_lang::prelude::*;
use provider_registry::{
    program::ProviderRegistry,
    state::{Provider, RegistryConfig},
};

#[derive(Accounts)]
pub struct StartJob<'info> {
    pub operator: Signer<'info>,
    #[account(seeds = [MarketConfig::SEED], bump = config.bump)]
    pub config: Box<Account<'info, MarketConfig>>,
    #[account(
        mut,
        seeds = [Job::SEED, job.client.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,
    /// CHECK: this program's authority PDA; signs the registry CPI.
    #[account(seeds = [MarketConfig::AUTHORITY_SEED], bump = config.authority_bump)]
    pub escrow_authority: UncheckedAccount<'info>,
    #[account(
        seeds = [RegistryConfig::SEED],
        bump = registry_config.bump,
        seeds::program = provider_registry::ID,
    )]
    pub registry_config: Box<Account<'info, RegistryConfig>>,
    #[account(mut)]
    pub provider: Box<Account<'info, Provider>>,
    pub registry_program: Program<'info, ProviderRegistry>,
}

impl StartJob<'_> {
    fn validate(&self) -> Result<()> {
        let assignment = self.job.assignment()?;
        require_keys_eq!(
            self.provider.key(),
            assignment.provider,
            EscrowError::WrongProvider
        );
        require_keys_eq!(
            self.operator.key(),
            self.provider.operator,
            EscrowError::NotAssignedProvider
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        ctx.accounts.validate()?;
        let now = Clock::get()?.unix_timestamp;
        let accounts = ctx.accounts;
        let assigned_at = accounts.job.assignment()?.assigned_at;
        accounts.job.start(now, accounts.config.start_timeout)?;

        let seeds: &[&[u8]] = &[
            MarketConfig::AUTHORITY_SEED,
            &[accounts.config.authority_bump],
        ];
        provider_registry::cpi::reserve_capacity(
            CpiContext::new_with_signer(
                provider_registry::ID,
                provider_registry::cpi::accounts::ReserveCapacity {
                    escrow_authority: accounts.escrow_authority.to_account_info(),
                    config: accounts.registry_config.to_account_info(),
                    provider: accounts.provider.to_account_info(),
                },
                &[seeds],
            ),
            provider_registry::CapacityArgs {
                gpus: accounts.job.requirements.gpu_count,
            },
        )?;

        staking::emit_event!(JobStarted {
            job: accounts.job.key(),
            provider: accounts.provider.key(),
            started_at: now,
            time_to_start: now.saturating_sub(assigned_at),
        });
        Ok(())
    }
}
