//! Withdraws an open job: the whole deposit goes back, the vault and job close, rent back.
//! The client only, while no provider holds the job.

use crate::{
    error::EscrowError,
    events::JobCancelled,
    instructions::{remaining_group, save_group, JobSigner, Vault},
    state::{Job, JobStatus},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[event_cpi]
#[derive(Accounts)]
pub struct CancelJob<'info> {
    #[account(mut)]
    pub client: Signer<'info>,
    #[account(
        mut,
        seeds = [Job::SEED, job.client.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
        has_one = client @ EscrowError::NotClient,
        has_one = payment_mint,
        close = client,
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

impl CancelJob<'_> {
    fn validate(&self) -> Result<()> {
        require!(self.job.status == JobStatus::Open, EscrowError::JobNotOpen);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        ctx.accounts.validate()?;
        let accounts = ctx.accounts;
        if accounts.job.is_replica() {
            // Only while its group is incomplete (no provider can have taken a replica yet),
            // its group passed first among the remaining accounts; the replica leaves the
            // group. Afterwards it stays open for the group's providers while one may still
            // take it, and is reclaimable once none can.
            let (info, mut group) =
                remaining_group(ctx.remaining_accounts, Some(&accounts.job.replica_group))?;
            group.remove(&accounts.job.key())?;
            save_group(info, &group)?;
        }
        let refunded = accounts.vault.amount;
        let vault = Vault {
            token_program: accounts.token_program.to_account_info(),
            vault: &accounts.vault,
            mint: &accounts.payment_mint,
            job: accounts.job.to_account_info(),
            signer: JobSigner::new(&accounts.job),
        };
        vault.pay(&accounts.client_tokens, refunded)?;
        vault.close(accounts.client.to_account_info())?;

        staking::emit_event!(
            authority = &accounts.event_authority,
            JobCancelled {
                job: accounts.job.key(),
                client: accounts.client.key(),
                refunded,
            }
        );
        Ok(())
    }
}
