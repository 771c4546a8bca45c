//! Instruction builders for the job escrow program. Payments move between associated token
//! accounts: the client's, the provider authority's and the treasury's, for the job's mint.

use crate::{pda, token::associated_address};
use anchor_lang::{
    solana_program::{instruction::Instruction, pubkey::Pubkey, system_program},
    InstructionData, ToAccountMetas,
};
use job_escrow::{accounts, instruction, CreateJobArgs, InitConfigArgs, SubmitResultArgs};

pub use job_escrow::state::{
    Assignment, Job, JobKind, JobMode, JobResult, JobStatus, MarketConfig, SlashAmounts, Workload,
};

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: job_escrow::ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

/// Creates the market config; `admin` pays and becomes the admin.
pub fn init_config(admin: &Pubkey, args: InitConfigArgs) -> Instruction {
    build(
        accounts::InitConfig {
            admin: *admin,
            config: pda::market_config(),
            escrow_authority: pda::escrow_authority(),
            system_program: system_program::ID,
        },
        instruction::InitConfig { args },
    )
}

/// Posts job `args.job_id` for `client`, escrowing from its associated token account.
pub fn create_job(
    client: &Pubkey,
    payment_mint: &Pubkey,
    token_program: &Pubkey,
    args: CreateJobArgs,
) -> Instruction {
    let job = pda::job(client, args.job_id);
    build(
        accounts::CreateJob {
            client: *client,
            config: pda::market_config(),
            job,
            vault: pda::job_vault(&job),
            payment_mint: *payment_mint,
            client_tokens: associated_address(client, payment_mint, token_program),
            token_program: *token_program,
            system_program: system_program::ID,
        },
        instruction::CreateJob { args },
    )
}

/// Cancels an open job; the deposit goes back to the client's associated token account.
pub fn cancel_job(
    client: &Pubkey,
    job_id: u64,
    payment_mint: &Pubkey,
    token_program: &Pubkey,
) -> Instruction {
    let job = pda::job(client, job_id);
    build(
        accounts::CancelJob {
            client: *client,
            job,
            vault: pda::job_vault(&job),
            payment_mint: *payment_mint,
            client_tokens: associated_address(client, payment_mint, token_program),
            token_program: *token_program,
        },
        instruction::CancelJob {},
    )
}

/// The provider node of `provider_authority` takes `job` (instant mode), signed by its
/// operator.
pub fn accept_job(operator: &Pubkey, provider_authority: &Pubkey, job: &Pubkey) -> Instruction {
    build(
        accounts::AcceptJob {
            operator: *operator,
            job: *job,
            registry_config: pda::registry_config(),
            provider: pda::provider(provider_authority),
            stake_account: pda::stake_account(provider_authority),
        },
        instruction::AcceptJob {},
    )
}

/// Starts `job` on the node of `provider_authority`, signed by its operator.
pub fn start_job(operator: &Pubkey, provider_authority: &Pubkey, job: &Pubkey) -> Instruction {
    build(
        accounts::StartJob {
            operator: *operator,
            config: pda::market_config(),
            job: *job,
            escrow_authority: pda::escrow_authority(),
            registry_config: pda::registry_config(),
            provider: pda::provider(provider_authority),
            registry_program: provider_registry::ID,
        },
        instruction::StartJob {},
    )
}

/// A liveness heartbeat for a running job, signed by the assigned operator.
pub fn heartbeat_job(operator: &Pubkey, job: &Pubkey) -> Instruction {
    build(
        accounts::HeartbeatJob {
            operator: *operator,
            job: *job,
        },
        instruction::HeartbeatJob {},
    )
}

/// Submits a batch job's result, signed by the assigned operator.
pub fn submit_result(operator: &Pubkey, job: &Pubkey, hash: [u8; 32], uri: String) -> Instruction {
    build(
        accounts::SubmitResult {
            operator: *operator,
            job: *job,
        },
        instruction::SubmitResult {
            args: SubmitResultArgs { hash, uri },
        },
    )
}

/// Who and what a settlement pays.
#[derive(Debug, Clone, Copy)]
pub struct SettleAccounts {
    /// Signer: the client for `approve_result`, anyone for `finalize_job`.
    pub caller: Pubkey,
    pub client: Pubkey,
    pub job_id: u64,
    pub payment_mint: Pubkey,
    pub token_program: Pubkey,
    /// The assigned provider's authority (its associated token account is paid).
    pub provider_authority: Pubkey,
    /// The market treasury wallet (its associated token account receives the fee).
    pub treasury: Pubkey,
}

fn settle_accounts(keys: &SettleAccounts) -> accounts::SettleJob {
    let job = pda::job(&keys.client, keys.job_id);
    let ata = |owner: &Pubkey| associated_address(owner, &keys.payment_mint, &keys.token_program);
    accounts::SettleJob {
        caller: keys.caller,
        config: pda::market_config(),
        job,
        client: keys.client,
        vault: pda::job_vault(&job),
        payment_mint: keys.payment_mint,
        provider_tokens: ata(&keys.provider_authority),
        treasury_tokens: ata(&keys.treasury),
        client_tokens: ata(&keys.client),
        escrow_authority: pda::escrow_authority(),
        registry_config: pda::registry_config(),
        provider: pda::provider(&keys.provider_authority),
        registry_program: provider_registry::ID,
        token_program: keys.token_program,
    }
}

/// The client accepts the result and settles the job.
pub fn approve_result(keys: &SettleAccounts) -> Instruction {
    build(settle_accounts(keys), instruction::ApproveResult {})
}

/// Anyone settles a batch job after its challenge window.
pub fn finalize_job(keys: &SettleAccounts) -> Instruction {
    build(settle_accounts(keys), instruction::FinalizeJob {})
}
