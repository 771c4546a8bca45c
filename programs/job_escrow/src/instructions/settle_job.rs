//! The accounts and the bookkeeping shared by the two ways a batch job settles:
//! `approve_result` (the client accepts) and `finalize_job` (anyone, once the challenge
//! window has passed). Pays the provider for the GPU time delivered less the protocol fee,
//! the fee to the treasury and the rest to the client; frees the GPUs, records the outcome
//! and closes the vault and the job, rent back to the client.

use crate::{
    error::EscrowError,
    events::JobSettled,
    instructions::{JobSigner, Vault},
    state::{Job, JobStatus, MarketConfig},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use provider_registry::{
    program::ProviderRegistry,
    state::{Outcome, Provider, RegistryConfig},
};

#[derive(Accounts)]
pub struct SettleJob<'info> {
    pub caller: Signer<'info>,
    #[account(seeds = [MarketConfig::SEED], bump = config.bump)]
    pub config: Box<Account<'info, MarketConfig>>,
    #[account(
        mut,
        seeds = [Job::SEED, job.client.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
        has_one = client @ EscrowError::NotClient,
        has_one = payment_mint,
        close = client,
    )]
    pub job: Box<Account<'info, Job>>,
    /// The job's client: receives the rent of the job and the vault.
    #[account(mut)]
    pub client: SystemAccount<'info>,
    #[account(mut, seeds = [Job::VAULT_SEED, job.key().as_ref()], bump = job.vault_bump)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The provider authority's token account.
    #[account(mut, token::mint = payment_mint, token::token_program = token_program)]
    pub provider_tokens: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The treasury's token account.
    #[account(mut, token::mint = payment_mint, token::token_program = token_program)]
    pub treasury_tokens: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(
        mut,
        token::mint = payment_mint,
        token::authority = client,
        token::token_program = token_program,
    )]
    pub client_tokens: Box<InterfaceAccount<'info, TokenAccount>>,
    /// CHECK: this program's authority PDA; signs the registry CPIs.
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
    pub token_program: Interface<'info, TokenInterface>,
}

impl SettleJob<'_> {
    /// Checks shared by both settling instructions.
    pub fn validate_settlement(&self) -> Result<()> {
        require!(
            self.job.status == JobStatus::ResultSubmitted,
            EscrowError::NoResultSubmitted
        );
        let assignment = self.job.assignment()?;
        require_keys_eq!(
            self.provider.key(),
            assignment.provider,
            EscrowError::WrongProvider
        );
        require_keys_eq!(
            self.provider_tokens.owner,
            assignment.authority,
            EscrowError::WrongTokenAccountOwner
        );
        require_keys_eq!(
            self.treasury_tokens.owner,
            self.config.treasury,
            EscrowError::WrongTokenAccountOwner
        );
        Ok(())
    }

    /// Pays everyone out and records the outcome; the job account closes on return.
    pub fn settle(&mut self, approved: bool) -> Result<()> {
        let settlement = self.job.settlement(self.config.protocol_fee_bps)?;
        let assignment = self.job.assignment()?;
        let time_to_start = self
            .job
            .started_at
            .saturating_sub(assignment.assigned_at)
            .max(0)
            .unsigned_abs();
        self.job.paid_out = settlement.to_provider;

        let vault = Vault {
            token_program: self.token_program.to_account_info(),
            vault: &self.vault,
            mint: &self.payment_mint,
            job: self.job.to_account_info(),
            signer: JobSigner::new(&self.job),
        };
        vault.pay(&self.provider_tokens, settlement.to_provider)?;
        vault.pay(&self.treasury_tokens, settlement.fee)?;
        vault.pay(&self.client_tokens, settlement.refund)?;
        vault.close(self.client.to_account_info())?;

        let seeds: &[&[u8]] = &[MarketConfig::AUTHORITY_SEED, &[self.config.authority_bump]];
        provider_registry::cpi::release_capacity(
            CpiContext::new_with_signer(
                provider_registry::ID,
                provider_registry::cpi::accounts::ReleaseCapacity {
                    escrow_authority: self.escrow_authority.to_account_info(),
                    config: self.registry_config.to_account_info(),
                    provider: self.provider.to_account_info(),
                },
                &[seeds],
            ),
            provider_registry::CapacityArgs {
                gpus: self.job.requirements.gpu_count,
            },
        )?;
        provider_registry::cpi::record_outcome(
            CpiContext::new_with_signer(
                provider_registry::ID,
                provider_registry::cpi::accounts::RecordOutcome {
                    escrow_authority: self.escrow_authority.to_account_info(),
                    config: self.registry_config.to_account_info(),
                    provider: self.provider.to_account_info(),
                },
                &[seeds],
            ),
            provider_registry::RecordOutcomeArgs {
                outcome: Outcome::Completed {
                    gpu_seconds: settlement.gpu_seconds,
                    time_to_start,
                },
            },
        )?;

        staking::emit_event!(JobSettled {
            job: self.job.key(),
            client: self.job.client,
            provider: assignment.provider,
            gpu_seconds: settlement.gpu_seconds,
            to_provider: settlement.to_provider,
            fee: settlement.fee,
            refund: settlement.refund,
            approved,
        });
        Ok(())
    }
}
