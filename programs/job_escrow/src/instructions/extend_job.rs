//! Lengthens a job that has not ended, topping up the deposit by the max cost of the extra
//! time. The client; once a provider holds the job, its current operator must co-sign, so
//! nobody is held to a longer run than it agreed to, and never after the run has ended or
//! its heartbeats have lapsed (an extension must not turn a lease served to its end into a
//! missed heartbeat).

use crate::{
    error::EscrowError,
    events::JobExtended,
    instructions::deposit,
    math,
    state::{Job, JobStatus},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use provider_registry::state::Provider;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ExtendJobArgs {
    pub extra_seconds: i64,
}

#[event_cpi]
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
    /// The provider holding the job, when one does.
    #[account(
        seeds = [Provider::SEED, provider.authority.as_ref()],
        bump = provider.bump,
        seeds::program = provider_registry::ID,
    )]
    pub provider: Option<Box<Account<'info, Provider>>>,
    /// Its current operator, agreeing to the longer run.
    pub operator: Option<Signer<'info>>,
}

impl ExtendJob<'_> {
    fn validate(&self, args: &ExtendJobArgs, now: i64) -> Result<()> {
        // Every replica of a group runs on the same terms.
        self.job.require_not_replica()?;
        require!(args.extra_seconds > 0, EscrowError::InvalidJobTerms);
        let job = &self.job;
        match job.status {
            JobStatus::Open => return Ok(()),
            JobStatus::Assigned | JobStatus::Running => {}
            _ => return err!(EscrowError::JobNotRunning),
        }
        let (Some(provider), Some(operator)) = (&self.provider, &self.operator) else {
            return err!(EscrowError::ProviderConsentRequired);
        };
        require_keys_eq!(
            provider.key(),
            job.assignment()?.provider,
            EscrowError::WrongProvider
        );
        require_keys_eq!(
            operator.key(),
            provider.operator,
            EscrowError::NotAssignedProvider
        );
        if job.status == JobStatus::Running {
            require!(now < job.run_deadline()?, EscrowError::DurationExceeded);
            require!(!job.heartbeat_lapsed(now)?, EscrowError::HeartbeatLapsed);
        }
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: ExtendJobArgs) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        ctx.accounts.validate(&args, now)?;
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

        staking::emit_event!(
            authority = &accounts.event_authority,
            JobExtended {
                job: accounts.job.key(),
                extra_seconds: args.extra_seconds,
                deposit: amount,
                max_duration_after: accounts.job.max_duration,
                escrowed_after: accounts.job.escrowed,
            }
        );
        Ok(())
    }
}
