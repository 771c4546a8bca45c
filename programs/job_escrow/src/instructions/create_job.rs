//! Posts a job and escrows its maximum cost plus a crank tip per possible attempt. Any
//! client, paying in an allow-listed mint. The market's current terms are copied into the
//! job: later config changes never reach it. With a replica group (`create_replica_group`)
//! as its first remaining account, the job is the group's next replica.

use crate::{
    constants::MAX_URI_LEN,
    error::EscrowError,
    events::JobCreated,
    instructions::{deposit, remaining_group, save_group},
    math,
    state::{Job, JobKind, JobMode, JobStatus, JobTerms, MarketConfig, Workload},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use provider_registry::eligibility::Requirements;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct CreateJobArgs {
    /// Chosen by the client; unique per client.
    pub job_id: u64,
    pub requirements: Requirements,
    pub workload: Workload,
    pub kind: JobKind,
    pub mode: JobMode,
    pub max_price_per_gpu_hour: u64,
    pub max_duration: i64,
    /// The verification commitment: 32 random bytes for an ordinary job,
    /// [`crate::state::canary_commitment`] of the expected result hash and a secret salt
    /// for a known-answer (canary) job.
    pub verification: [u8; 32],
}

#[event_cpi]
#[derive(Accounts)]
#[instruction(args: CreateJobArgs)]
pub struct CreateJob<'info> {
    #[account(mut)]
    pub client: Signer<'info>,
    #[account(mut, seeds = [MarketConfig::SEED], bump = config.bump)]
    pub config: Account<'info, MarketConfig>,
    #[account(
        init,
        payer = client,
        space = Job::SPACE,
        seeds = [Job::SEED, client.key().as_ref(), &args.job_id.to_le_bytes()],
        bump,
    )]
    pub job: Box<Account<'info, Job>>,
    #[account(
        init,
        payer = client,
        seeds = [Job::VAULT_SEED, job.key().as_ref()],
        bump,
        token::mint = payment_mint,
        token::authority = job,
        token::token_program = token_program,
    )]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mint::token_program = token_program)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(
        mut,
        token::mint = payment_mint,
        token::authority = client,
        token::token_program = token_program,
    )]
    pub client_tokens: Box<InterfaceAccount<'info, TokenAccount>>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl CreateJob<'_> {
    fn validate(&self, args: &CreateJobArgs) -> Result<()> {
        require!(
            self.config.allows(&self.payment_mint.key()),
            EscrowError::MintNotAllowed
        );
        // Checked again now: an allowed mint's extensions are read at allow-listing, but a
        // job's vault must be safe for the mint as it is today.
        staking::utils::check_mint(&self.payment_mint.to_account_info())
            .map_err(|_| error!(EscrowError::MintNotSupported))?;
        require!(
            args.requirements.gpu_count > 0
                && args.max_price_per_gpu_hour > 0
                && args.max_duration > 0,
            EscrowError::InvalidJobTerms
        );
        require!(
            args.max_duration <= self.config.max_job_duration,
            EscrowError::DurationAboveMax
        );
        require!(
            args.workload.uri.len() <= MAX_URI_LEN,
            EscrowError::UriTooLong
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: CreateJobArgs) -> Result<()> {
        ctx.accounts.validate(&args)?;
        let now = Clock::get()?.unix_timestamp;
        // A replica: the client's group comes first among the remaining accounts, and its
        // terms (copied when the group was created) are the job's.
        let group = if ctx.remaining_accounts.is_empty() {
            None
        } else {
            let (info, group) = remaining_group(ctx.remaining_accounts, None)?;
            require_keys_eq!(
                group.client,
                ctx.accounts.client.key(),
                EscrowError::WrongReplicaGroup
            );
            Some((info, group))
        };
        let accounts = ctx.accounts;
        let seconds =
            u64::try_from(args.max_duration).map_err(|_| error!(EscrowError::InvalidJobTerms))?;
        let budget = math::max_cost(
            args.max_price_per_gpu_hour,
            args.requirements.gpu_count,
            seconds,
        )?;
        let terms = match &group {
            Some((_, group)) => group.terms,
            None => JobTerms::from_config(&accounts.config),
        };
        let tip_reserve = terms.tips()?;
        let deposit_amount =
            math::add(budget, tip_reserve).map_err(|_| error!(EscrowError::DepositTooLarge))?;

        accounts.job.set_inner(Job {
            client: accounts.client.key(),
            job_id: args.job_id,
            requirements: args.requirements,
            workload: args.workload,
            kind: args.kind,
            mode: args.mode,
            max_price_per_gpu_hour: args.max_price_per_gpu_hour,
            max_duration: args.max_duration,
            payment_mint: accounts.payment_mint.key(),
            terms,
            escrowed: deposit_amount,
            budget,
            tip_reserve,
            billed: 0,
            attempt_billed: 0,
            status: JobStatus::Open,
            bid_deadline: now
                .checked_add(terms.bid_window)
                .ok_or(error!(EscrowError::MathOverflow))?,
            match_deadline: now
                .checked_add(terms.match_window)
                .ok_or(error!(EscrowError::MathOverflow))?,
            best_bid: None,
            assignment: None,
            created_at: now,
            started_at: 0,
            last_heartbeat: 0,
            result: None,
            dispute: None,
            refused_bidders: Vec::new(),
            fees_held: 0,
            verification: args.verification,
            replica_group: Pubkey::default(),
            attempts: 0,
            bump: ctx.bumps.job,
            vault_bump: ctx.bumps.vault,
        });
        if let Some((info, mut group)) = group {
            // Registered in the group, and not reclaimable while a provider may still take
            // it.
            let job = &mut accounts.job;
            group.register(job.key(), job, now)?;
            job.bid_deadline = group.last_claim_at(job)?;
            job.replica_group = info.key();
            save_group(info, &group)?;
        }
        let config = &mut accounts.config;
        config.job_count = math::add(config.job_count, 1)?;

        deposit(
            &accounts.token_program.to_account_info(),
            &accounts.client_tokens,
            &accounts.payment_mint,
            &mut accounts.vault,
            &accounts.client.to_account_info(),
            deposit_amount,
        )?;

        let job = &accounts.job;
        staking::emit_event!(
            authority = &accounts.event_authority,
            JobCreated {
                job: job.key(),
                client: job.client,
                job_id: job.job_id,
                kind: job.kind,
                mode: job.mode,
                gpu_count: job.requirements.gpu_count,
                max_price_per_gpu_hour: job.max_price_per_gpu_hour,
                max_duration: job.max_duration,
                payment_mint: job.payment_mint,
                escrowed: job.escrowed,
                tip_reserve,
                terms,
            }
        );
        Ok(())
    }
}
