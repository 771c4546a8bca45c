//! Challenges a batch result inside the challenge window by posting the dispute bond. The
//! client only. The arbiter then resolves it.

use crate::{
    error::EscrowError,
    events::ResultDisputed,
    instructions::deposit,
    state::{Dispute, Job, JobStatus, MarketConfig},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[event_cpi]
#[derive(Accounts)]
pub struct DisputeResult<'info> {
    pub client: Signer<'info>,
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
    #[account(mut, seeds = [Job::VAULT_SEED, job.key().as_ref()], bump = job.vault_bump)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(
        mut,
        token::mint = payment_mint,
        token::authority = client,
        token::token_program = token_program,
    )]
    pub client_tokens: Box<InterfaceAccount<'info, TokenAccount>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl DisputeResult<'_> {
    fn validate(&self, now: i64) -> Result<()> {
        // A replica is judged by its group's majority, not an arbiter.
        self.job.require_not_replica()?;
        require!(
            self.job.status == JobStatus::ResultSubmitted,
            EscrowError::NoResultSubmitted
        );
        require!(
            now < self.job.challenge_ends_at()?,
            EscrowError::ChallengeWindowClosed
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        ctx.accounts.validate(now)?;
        let accounts = ctx.accounts;
        let bond = accounts.job.terms.dispute_bond;
        accounts.job.dispute = Some(Dispute {
            bond,
            opened_at: now,
        });
        accounts.job.status = JobStatus::Disputed;

        deposit(
            &accounts.token_program.to_account_info(),
            &accounts.client_tokens,
            &accounts.payment_mint,
            &mut accounts.vault,
            &accounts.client.to_account_info(),
            bond,
        )?;

        staking::emit_event!(
            authority = &accounts.event_authority,
            ResultDisputed {
                job: accounts.job.key(),
                client: accounts.client.key(),
                bond,
                vault_balance_after: accounts.vault.amount,
            }
        );
        Ok(())
    }
}
