//! The accounts and the bookkeeping of every path that ends a job with the provider paid:
//! `approve_result`, `finalize_job`, `close_lease` and an arbiter's ruling for the
//! provider. Pays the provider for the service delivered less the protocol fee, the fee to
//! the treasury and the rest to the client; frees the GPUs, records the outcome, unlocks the
//! provider's collateral and closes the vault and the job, rent back to the client.
//! `expire_job` and `resolve_dispute` reuse these accounts for their own endings. None of
//! them needs the provider account to exist, nor the client's wallet to be a system
//! account: whatever sits at the job's addresses is accepted.

use crate::{
    error::EscrowError,
    events::{JobSettled, SettleReason},
    instructions::{check_payees, JobSigner, ProviderCpi, SlashCpi, Vault},
    math,
    state::{Job, MarketConfig},
};
use anchor_lang::prelude::*;
// Composite account groups need their generated companions in scope.
#[allow(unused_imports)]
use crate::instructions::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use provider_registry::state::Outcome;
use staking::state::SlashReason;

#[event_cpi]
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
    )]
    pub job: Box<Account<'info, Job>>,
    /// CHECK: the job's client (`has_one` above), whatever account it is now: receives the
    /// rent of the job and the vault.
    #[account(mut)]
    pub client: UncheckedAccount<'info>,
    #[account(mut, seeds = [Job::VAULT_SEED, job.key().as_ref()], bump = job.vault_bump)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The assigned provider authority's token account.
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
    pub node: ProviderCpi<'info>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl<'info> SettleJob<'info> {
    /// The assigned provider's account and payees must be the ones passed.
    pub fn validate_payees(&self) -> Result<()> {
        let assignment = self.job.assignment()?;
        self.node
            .check_keys(&assignment.provider, &assignment.authority)?;
        check_payees(
            &assignment,
            &self.config,
            &self.provider_tokens,
            &self.treasury_tokens,
        )
    }

    pub(crate) fn vault(&self) -> Vault<'_, 'info> {
        Vault {
            token_program: self.token_program.to_account_info(),
            vault: &self.vault,
            mint: &self.payment_mint,
            job: self.job.to_account_info(),
            signer: JobSigner::new(&self.job),
        }
    }

    /// Pays the treasury any withdrawal fees still held (none where the attempt's ending
    /// paid them already), refunds whatever the vault still holds to the client and closes
    /// the vault and the job, their rent back to the client.
    pub fn close_out(&mut self) -> Result<u64> {
        let fees_held = self.job.take_fees_held();
        self.vault().pay(&self.treasury_tokens, fees_held)?;
        self.vault.reload()?;
        let refund = self.vault.amount;
        let vault = self.vault();
        vault.pay(&self.client_tokens, refund)?;
        vault.close(self.client.to_account_info())?;
        self.job.close(self.client.to_account_info())?;
        Ok(refund)
    }

    /// Ends the attempt against its provider, for the client: records `outcome`, slashes up
    /// to `amount` of the provider's stake for `reason` through `slashing` (releasing the
    /// job's collateral) and refunds the whole vault to the client. Returns the refund.
    pub fn refund_for_fault(
        &mut self,
        slashing: &SlashCpi<'info>,
        outcome: Outcome,
        amount: u64,
        reason: SlashReason,
    ) -> Result<u64> {
        let bump = self.config.authority_bump;
        let collateral = self.job.collateral_locked();
        // A batch job freed its GPUs with its result.
        let release_gpus = if self.job.holds_gpus() {
            self.job.requirements.gpu_count
        } else {
            0
        };
        self.node.record(outcome, release_gpus, bump)?;
        slashing.slash(&self.node, amount, reason, collateral, bump)?;
        self.close_out()
    }

    /// Pays the provider for service until `until` (plus `bond` from a rejected dispute),
    /// frees its GPUs if a lease still holds them (a batch job freed them with its result),
    /// records a completion and closes the job. Returns what the client got back.
    pub fn settle(&mut self, until: i64, reason: SettleReason, bond: u64) -> Result<u64> {
        let payout = self.job.payout(until)?;
        self.job.bill(&payout)?;
        let assignment = self.job.assignment()?;
        let time_to_start = self
            .job
            .started_at
            .saturating_sub(assignment.assigned_at)
            .max(0)
            .unsigned_abs();
        let bump = self.config.authority_bump;
        let fees_released = self.job.take_fees_held();

        let vault = self.vault();
        vault.pay(&self.provider_tokens, math::add(payout.to_provider, bond)?)?;
        vault.pay(&self.treasury_tokens, math::add(payout.fee, fees_released)?)?;
        let release_gpus = if self.job.holds_gpus() {
            self.job.requirements.gpu_count
        } else {
            0
        };
        self.node.end(
            Outcome::Completed {
                gpu_seconds: payout.gpu_seconds,
                time_to_start,
            },
            release_gpus,
            self.job.collateral_locked(),
            bump,
        )?;
        let billed_total = self.job.billed;
        let (job_key, client) = (self.job.key(), self.job.client);
        let refund = self.close_out()?;

        staking::emit_event!(
            authority = &self.event_authority,
            JobSettled {
                job: job_key,
                client,
                provider: assignment.provider,
                reason,
                gpu_seconds: payout.gpu_seconds,
                to_provider: payout.to_provider,
                fee: payout.fee,
                fees_released,
                bond_to_provider: bond,
                refund,
                billed_total,
            }
        );
        Ok(refund)
    }
}
