//! Ends an open job nobody took by the end of its window: the caller earns the crank tip,
//! the client gets the rest back, and the vault and job close. Anyone may call it.

use crate::{
    constants::MAX_REFUSED_BIDDERS,
    error::EscrowError,
    events::JobReclaimed,
    instructions::{JobSigner, Vault},
    state::{Job, JobStatus},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[event_cpi]
#[derive(Accounts)]
pub struct ReclaimJob<'info> {
    pub caller: Signer<'info>,
    #[account(
        mut,
        seeds = [Job::SEED, job.client.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
        has_one = client @ EscrowError::NotClient,
        has_one = payment_mint,
        close = client,
    )]
    pub job: Box<Account<'info, Job>>,
    /// CHECK: the job's client (`has_one` above), whatever account it is now.
    #[account(mut)]
    pub client: UncheckedAccount<'info>,
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
    /// Receives the crank tip; may be the client's own account.
    #[account(mut, dup, token::mint = payment_mint, token::token_program = token_program)]
    pub caller_tokens: Box<InterfaceAccount<'info, TokenAccount>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl ReclaimJob<'_> {
    fn validate(&self, now: i64) -> Result<()> {
        require!(
            self.job.status == JobStatus::Open
                && self.job.best_bid.is_none()
                && now >= self.job.bid_deadline,
            EscrowError::NotReclaimable
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        ctx.accounts.validate(now)?;
        let accounts = ctx.accounts;
        // A job whose auction winners kept being refused, or whose matcher assignments kept
        // being declined, pays no tip: nobody may profit from having run it into the ground.
        let tip = if accounts.job.refused_bidders.len() >= MAX_REFUSED_BIDDERS {
            0
        } else {
            accounts.job.take_tip().min(accounts.vault.amount)
        };
        let refund = accounts.vault.amount.saturating_sub(tip);
        let vault = Vault {
            token_program: accounts.token_program.to_account_info(),
            vault: &accounts.vault,
            mint: &accounts.payment_mint,
            job: accounts.job.to_account_info(),
            signer: JobSigner::new(&accounts.job),
        };
        vault.pay(&accounts.caller_tokens, tip)?;
        vault.pay(&accounts.client_tokens, refund)?;
        vault.close(accounts.client.to_account_info())?;

        staking::emit_event!(
            authority = &accounts.event_authority,
            JobReclaimed {
                job: accounts.job.key(),
                client: accounts.client.key(),
                refund,
                tip,
                cranker: accounts.caller.key(),
            }
        );
        Ok(())
    }
}
