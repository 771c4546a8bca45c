//! Lengthens a job that has not ended, topping up the deposit by the max cost of the extra
//! time. The client only.

use crate::{
    error::EscrowError,
    events::JobExtended,
    instructions::deposit,
    math,
    state::{Job, JobStatus},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ExtendJobArgs {
    pub extra_seconds: i64,
}

#[derive(Accounts)]
pub struct ExtendJob<'info> {
    pub client: Signer<'info>,
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

impl ExtendJob<'_> {
    fn validate(&self, args: &ExtendJobArgs) -> Result<()> {
        require!(args.extra_seconds > 0, EscrowError::InvalidJobTerms);
        require!(
            matches!(
                self.job.status,
                JobStatus::Open | JobStatus::Assigned | JobStatus::Running
            ),
            EscrowError::JobNotRunning
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: ExtendJobArgs) -> Result<()> {
        ctx.accounts.validate(&args)?;
        let accounts = ctx.accounts;
        let job = &mut accounts.job;
        let seconds =
            u64::try_from(args.extra_seconds).map_err(|_| error!(EscrowError::InvalidJobTerms))?;
        let amount = math::max_cost(
            job.max_price_per_gpu_hour,
            job.requirements.gpu_count,
            seconds,
        )?;
        job.max_duration = job
            .max_duration
            .checked_add(args.extra_seconds)
            .ok_or(error!(EscrowError::MathOverflow))?;
        require!(
            job.max_duration <= job.terms.max_job_duration,
            EscrowError::DurationAboveMax
        );
        job.escrowed = math::add(job.escrowed, amount)?;
        job.budget = math::add(job.budget, amount)?;

        deposit(
            &accounts.token_program.to_account_info(),
            &accounts.client_tokens,
            &accounts.payment_mint,
            &mut accounts.vault,
            &accounts.client.to_account_info(),
            amount,
        )?;

        staking::emit_event!(JobExtended {
            job: accounts.job.key(),
            extra_seconds: args.extra_seconds,
            deposit: amount,
            max_duration_after: accounts.job.max_duration,
            escrowed_after: accounts.job.escrowed,
        });
        Ok(())
    }
}
