//! Pays a running lease's provider for time already served, up to its last heartbeat (not
//! into the grace: an expiry would then bill that time to the next provider's run again),
//! less the protocol fee, which stays in the vault (`Job::fees_held`) until the attempt
//! ends: a withdrawal writes the job, its vault and the provider's token account, none of
//! which another node's withdrawal writes. The assigned provider's authority or its current
//! operator.

use crate::{
    error::EscrowError,
    events::EarningsWithdrawn,
    instructions::{JobSigner, Vault},
    math,
    state::{Job, JobKind, JobStatus, Payout},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use provider_registry::state::Provider;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct WithdrawEarningsArgs {
    /// Gross amount to bill the lease; the provider receives it less the protocol fee.
    pub amount: u64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct WithdrawEarnings<'info> {
    pub signer: Signer<'info>,
    #[account(
        mut,
        seeds = [Job::SEED, job.client.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
        has_one = payment_mint,
    )]
    pub job: Box<Account<'info, Job>>,
    #[account(
        seeds = [Provider::SEED, provider.authority.as_ref()],
        bump = provider.bump,
        seeds::program = provider_registry::ID,
    )]
    pub provider: Box<Account<'info, Provider>>,
    #[account(mut, seeds = [Job::VAULT_SEED, job.key().as_ref()], bump = job.vault_bump)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, token::mint = payment_mint, token::token_program = token_program)]
    pub provider_tokens: Box<InterfaceAccount<'info, TokenAccount>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl WithdrawEarnings<'_> {
    fn validate(&self) -> Result<()> {
        require!(self.job.kind == JobKind::Lease, EscrowError::NotLeaseJob);
        require!(
            self.job.status == JobStatus::Running,
            EscrowError::JobNotRunning
        );
        let assignment = self.job.assignment()?;
        require_keys_eq!(
            self.provider.key(),
            assignment.provider,
            EscrowError::WrongProvider
        );
        let signer = self.signer.key();
        require!(
            signer == assignment.authority || signer == self.provider.operator,
            EscrowError::NotProviderKey
        );
        require_keys_eq!(
            self.provider_tokens.owner,
            assignment.authority,
            EscrowError::WrongTokenAccountOwner
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: WithdrawEarningsArgs) -> Result<()> {
        ctx.accounts.validate()?;
        let now = Clock::get()?.unix_timestamp;
        let accounts = ctx.accounts;
        let fee_bps = accounts.job.terms.protocol_fee_bps;
        let until = accounts.job.served_until(now, 0)?;
        let earned = accounts.job.payout(until)?;
        require!(args.amount > 0, EscrowError::WithdrawExceedsEarned);
        require!(
            args.amount <= earned.gross,
            EscrowError::WithdrawExceedsEarned
        );
        let fee = math::bps_of(args.amount, fee_bps)?;
        let payout = Payout {
            gpu_seconds: earned.gpu_seconds,
            gross: args.amount,
            to_provider: math::sub(args.amount, fee)?,
            fee,
        };
        accounts.job.bill(&payout)?;
        accounts.job.fees_held = math::add(accounts.job.fees_held, payout.fee)?;

        let vault = Vault {
            token_program: accounts.token_program.to_account_info(),
            vault: &accounts.vault,
            mint: &accounts.payment_mint,
            job: accounts.job.to_account_info(),
            signer: JobSigner::new(&accounts.job),
        };
        vault.pay(&accounts.provider_tokens, payout.to_provider)?;
        accounts.vault.reload()?;

        staking::emit_event!(
            authority = &accounts.event_authority,
            EarningsWithdrawn {
                job: accounts.job.key(),
                provider: accounts.job.assignment()?.provider,
                gross: payout.gross,
                to_provider: payout.to_provider,
                fee: payout.fee,
                billed_total: accounts.job.billed,
                vault_balance_after: accounts.vault.amount,
            }
        );
        Ok(())
    }
}
