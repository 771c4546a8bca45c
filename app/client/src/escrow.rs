//! Instruction builders for the job escrow program. Payments move between associated token
//! accounts: the client's, the provider authority's and the treasury's, for the job's mint.

use crate::{pda, token::associated_address};
use anchor_lang::{
    solana_program::{instruction::Instruction, pubkey::Pubkey, system_program},
    InstructionData, ToAccountMetas,
};
use job_escrow::{
    accounts, instruction, CommitResultArgs, CreateJobArgs, CreateReplicaGroupArgs, ExtendJobArgs,
    InitConfigArgs, PlaceBidArgs, ResolveDisputeArgs, RevealCanaryArgs, RevealResultArgs,
    SubmitResultArgs, UpdateConfigArgs, WithdrawEarningsArgs,
};

pub use job_escrow::{
    events::ReplicaVerdict,
    events::{ExpiryReason, SettleReason},
    state::{
        canary_commitment, replica_commitment, Assignment, Bid, Job, JobKind, JobMode, JobResult,
        JobStatus, JobTerms, MarketConfig, ReplicaGroup, ReplicaSlot, SlashAmounts, Workload,
    },
};

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: crate::program_ids::job_escrow(),
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

/// Creates the market config; `admin` pays and becomes the admin. The allowed mints'
/// accounts go along, so the program can check their extensions.
pub fn init_config(admin: &Pubkey, args: InitConfigArgs) -> Instruction {
    let mints = args.allowed_mints.clone();
    with_mints(
        build(
            accounts::InitConfig {
                admin: *admin,
                config: pda::market_config(),
                escrow_authority: pda::escrow_authority(),
                staking_config: pda::staking_config(),
                system_program: system_program::ID,
                event_authority: pda::event_authority(&crate::program_ids::job_escrow()),
                program: crate::program_ids::job_escrow(),
            },
            instruction::InitConfig { args },
        ),
        &mints,
    )
}

/// `ix` with the accounts of `mints` appended, read-only.
fn with_mints(mut ix: Instruction, mints: &[Pubkey]) -> Instruction {
    ix.accounts.extend(mints.iter().map(|mint| {
        anchor_lang::solana_program::instruction::AccountMeta::new_readonly(*mint, false)
    }));
    ix
}

/// A fresh random verification commitment, for an ordinary job: it opens to no answer, so
/// a provider cannot tell the job from a known-answer (canary) job.
pub fn random_commitment() -> [u8; 32] {
    use crypto_box::aead::rand_core::RngCore as _;
    let mut commitment = [0; 32];
    crypto_box::aead::OsRng.fill_bytes(&mut commitment);
    commitment
}

/// A fresh random salt, for a replica's commitment ([`replica_commitment`]).
pub fn random_salt() -> [u8; 32] {
    random_commitment()
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
            event_authority: pda::event_authority(&crate::program_ids::job_escrow()),
            program: crate::program_ids::job_escrow(),
        },
        instruction::CreateJob { args },
    )
}

/// Opens replica group `group_id` of `client`: `replicas` distinct providers will run one
/// batch job, whose replicas are created next with [`create_replica`], committing by
/// `commit_deadline`.
pub fn create_replica_group(
    client: &Pubkey,
    group_id: u64,
    replicas: u8,
    commit_deadline: i64,
) -> Instruction {
    build(
        accounts::CreateReplicaGroup {
            client: *client,
            config: pda::market_config(),
            group: pda::replica_group(client, group_id),
            system_program: system_program::ID,
            event_authority: pda::event_authority(&crate::program_ids::job_escrow()),
            program: crate::program_ids::job_escrow(),
        },
        instruction::CreateReplicaGroup {
            args: CreateReplicaGroupArgs {
                group_id,
                replicas,
                commit_deadline,
            },
        },
    )
}

/// Posts job `args.job_id` for `client` as the next replica of its group `group`.
pub fn create_replica(
    client: &Pubkey,
    payment_mint: &Pubkey,
    token_program: &Pubkey,
    args: CreateJobArgs,
    group: &Pubkey,
) -> Instruction {
    with_group(create_job(client, payment_mint, token_program, args), group)
}

/// `ix` with the replica group `group` appended, writable: `create_job`, `accept_job` and
/// `assign_job` of a replica take it as their first remaining account.
pub fn with_group(mut ix: Instruction, group: &Pubkey) -> Instruction {
    ix.accounts
        .push(anchor_lang::solana_program::instruction::AccountMeta::new(
            *group, false,
        ));
    ix
}

/// `ix` (an `accept_job` or `assign_job` of `job`) with the job's replica group appended
/// when it is a replica; unchanged for an ordinary job.
pub fn taking(ix: Instruction, job: &Job) -> Instruction {
    if job.is_replica() {
        with_group(ix, &job.replica_group)
    } else {
        ix
    }
}

/// Closes replica group `group_id` of `client` once its replica jobs (`jobs`, in the
/// group's order) are all closed; the rent goes back to the client.
pub fn close_replica_group(
    caller: &Pubkey,
    client: &Pubkey,
    group_id: u64,
    jobs: &[Pubkey],
) -> Instruction {
    let mut ix = build(
        accounts::CloseReplicaGroup {
            caller: *caller,
            group: pda::replica_group(client, group_id),
            client: *client,
            event_authority: pda::event_authority(&crate::program_ids::job_escrow()),
            program: crate::program_ids::job_escrow(),
        },
        instruction::CloseReplicaGroup {},
    );
    ix.accounts.extend(jobs.iter().map(|job| {
        anchor_lang::solana_program::instruction::AccountMeta::new_readonly(*job, false)
    }));
    ix
}

/// Commits a replica's result (`replica_commitment(hash, provider, salt)`), signed by the
/// assigned operator of the node of `provider_authority`.
pub fn commit_result(
    operator: &Pubkey,
    provider_authority: &Pubkey,
    job: &Pubkey,
    group: &Pubkey,
    commitment: [u8; 32],
) -> Instruction {
    build(
        accounts::CommitResult {
            operator: *operator,
            config: pda::market_config(),
            job: *job,
            group: *group,
            node: node_cpi(provider_authority),
            event_authority: pda::event_authority(&crate::program_ids::job_escrow()),
            program: crate::program_ids::job_escrow(),
        },
        instruction::CommitResult {
            args: CommitResultArgs { commitment },
        },
    )
}

/// Reveals a replica's committed result hash and salt, with the output's URI, signed by
/// the operator of the replica's provider (of `provider_authority`).
pub fn reveal_result(
    operator: &Pubkey,
    provider_authority: &Pubkey,
    job: &Pubkey,
    group: &Pubkey,
    hash: [u8; 32],
    salt: [u8; 32],
    uri: String,
) -> Instruction {
    build(
        accounts::RevealResult {
            operator: *operator,
            provider: pda::provider(provider_authority),
            job: *job,
            group: *group,
            event_authority: pda::event_authority(&crate::program_ids::job_escrow()),
            program: crate::program_ids::job_escrow(),
        },
        instruction::RevealResult {
            args: RevealResultArgs { hash, salt, uri },
        },
    )
}

/// Settles a committed replica by its group's majority (anyone): a dissent or a missing
/// reveal is slashed whole to `staking_treasury`, the staking config's treasury token
/// account.
pub fn settle_replica(
    keys: &SettleAccounts,
    slash: &SlashKeys,
    staking_treasury: &Pubkey,
    group: &Pubkey,
) -> Instruction {
    build(
        accounts::SettleReplica {
            settle: settle_accounts(keys),
            slashing: accounts::SlashCpi {
                slash_recipient: *staking_treasury,
                ..slash_cpi(keys, slash)
            },
            group: *group,
        },
        instruction::SettleReplica {},
    )
}

/// Cancels an open replica of `group` while the group is incomplete; the deposit goes back
/// and the replica leaves the group.
pub fn cancel_replica(
    client: &Pubkey,
    job_id: u64,
    payment_mint: &Pubkey,
    token_program: &Pubkey,
    group: &Pubkey,
) -> Instruction {
    with_group(
        cancel_job(client, job_id, payment_mint, token_program),
        group,
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
            event_authority: pda::event_authority(&crate::program_ids::job_escrow()),
            program: crate::program_ids::job_escrow(),
        },
        instruction::CancelJob {},
    )
}

fn candidate(operator: &Pubkey, provider_authority: &Pubkey) -> accounts::Candidate {
    accounts::Candidate {
        operator: *operator,
        registry_config: pda::registry_config(),
        provider: pda::provider(provider_authority),
        stake_account: pda::stake_account(provider_authority),
    }
}

/// The provider of `provider_authority` with its stake, as the escrow's CPIs take them.
fn node_cpi(provider_authority: &Pubkey) -> accounts::ProviderCpi {
    accounts::ProviderCpi {
        escrow_authority: pda::escrow_authority(),
        registry_config: pda::registry_config(),
        provider: pda::provider(provider_authority),
        staking_config: pda::staking_config(),
        stake_account: pda::stake_account(provider_authority),
        registry_program: crate::program_ids::provider_registry(),
        staking_program: crate::program_ids::staking(),
        registry_event_authority: pda::event_authority(&crate::program_ids::provider_registry()),
        staking_event_authority: pda::event_authority(&crate::program_ids::staking()),
    }
}

/// Proposes new market parameters; they take effect with [`apply_config_update`] after the
/// timelock.
pub fn propose_config_update(admin: &Pubkey, args: UpdateConfigArgs) -> Instruction {
    let mints = args.allowed_mints.clone().unwrap_or_default();
    with_mints(
        build(
            accounts::ProposeConfigUpdate {
                admin: *admin,
                config: pda::market_config(),
                staking_config: pda::staking_config(),
                event_authority: pda::event_authority(&crate::program_ids::job_escrow()),
                program: crate::program_ids::job_escrow(),
            },
            instruction::ProposeConfigUpdate { args },
        ),
        &mints,
    )
}

/// Applies the pending market config update once its timelock has passed (anyone).
pub fn apply_config_update(caller: &Pubkey) -> Instruction {
    build(
        accounts::ApplyConfigUpdate {
            caller: *caller,
            config: pda::market_config(),
            staking_config: pda::staking_config(),
            event_authority: pda::event_authority(&crate::program_ids::job_escrow()),
            program: crate::program_ids::job_escrow(),
        },
        instruction::ApplyConfigUpdate {},
    )
}

/// Withdraws the pending market config update (the admin).
pub fn cancel_config_update(admin: &Pubkey) -> Instruction {
    build(
        accounts::CancelConfigUpdate {
            admin: *admin,
            config: pda::market_config(),
            event_authority: pda::event_authority(&crate::program_ids::job_escrow()),
            program: crate::program_ids::job_escrow(),
        },
        instruction::CancelConfigUpdate {},
    )
}

/// The node of `provider_authority` bids `price_per_gpu_hour` on an auction `job`, signed by
/// its operator.
pub fn place_bid(
    operator: &Pubkey,
    provider_authority: &Pubkey,
    job: &Pubkey,
    price_per_gpu_hour: u64,
) -> Instruction {
    build(
        accounts::PlaceBid {
            job: *job,
            candidate: candidate(operator, provider_authority),
            event_authority: pda::event_authority(&crate::program_ids::job_escrow()),
            program: crate::program_ids::job_escrow(),
        },
        instruction::PlaceBid {
            args: PlaceBidArgs { price_per_gpu_hour },
        },
    )
}

/// Assigns an auction job to its best bid after the window (anyone); `winner_authority` is
/// the authority of the best bid's provider (`Bid::authority`). A winner that can no longer
/// take the job re-opens it for bids instead.
pub fn close_auction(caller: &Pubkey, job: &Pubkey, winner_authority: &Pubkey) -> Instruction {
    build(
        accounts::CloseAuction {
            caller: *caller,
            config: pda::market_config(),
            job: *job,
            winner: node_cpi(winner_authority),
            event_authority: pda::event_authority(&crate::program_ids::job_escrow()),
            program: crate::program_ids::job_escrow(),
        },
        instruction::CloseAuction {},
    )
}

/// Ends an open job nobody took by the end of its window; `caller` earns the tip into its
/// associated token account.
pub fn reclaim_job(
    caller: &Pubkey,
    client: &Pubkey,
    job_id: u64,
    payment_mint: &Pubkey,
    token_program: &Pubkey,
) -> Instruction {
    let job = pda::job(client, job_id);
    build(
        accounts::ReclaimJob {
            caller: *caller,
            job,
            client: *client,
            vault: pda::job_vault(&job),
            payment_mint: *payment_mint,
            client_tokens: associated_address(client, payment_mint, token_program),
            caller_tokens: associated_address(caller, payment_mint, token_program),
            token_program: *token_program,
            event_authority: pda::event_authority(&crate::program_ids::job_escrow()),
            program: crate::program_ids::job_escrow(),
        },
        instruction::ReclaimJob {},
    )
}

/// The provider node of `provider_authority` takes `job` (instant mode), signed by its
/// operator.
pub fn accept_job(operator: &Pubkey, provider_authority: &Pubkey, job: &Pubkey) -> Instruction {
    build(
        accounts::AcceptJob {
            operator: *operator,
            config: pda::market_config(),
            job: *job,
            node: node_cpi(provider_authority),
            event_authority: pda::event_authority(&crate::program_ids::job_escrow()),
            program: crate::program_ids::job_escrow(),
        },
        instruction::AcceptJob {},
    )
}

/// The admin removes the market's matcher at once.
pub fn remove_matcher(admin: &Pubkey) -> Instruction {
    build(
        accounts::RemoveMatcher {
            admin: *admin,
            config: pda::market_config(),
            event_authority: pda::event_authority(&crate::program_ids::job_escrow()),
            program: crate::program_ids::job_escrow(),
        },
        instruction::RemoveMatcher {},
    )
}

/// The market's matcher assigns `job` (instant mode) to the node of `provider_authority`.
pub fn assign_job(matcher: &Pubkey, provider_authority: &Pubkey, job: &Pubkey) -> Instruction {
    build(
        accounts::AssignJob {
            matcher: *matcher,
            config: pda::market_config(),
            job: *job,
            node: node_cpi(provider_authority),
            event_authority: pda::event_authority(&crate::program_ids::job_escrow()),
            program: crate::program_ids::job_escrow(),
        },
        instruction::AssignJob {},
    )
}

/// The node of `provider_authority` turns down `job`, which the matcher assigned to it,
/// signed by its operator.
pub fn decline_job(operator: &Pubkey, provider_authority: &Pubkey, job: &Pubkey) -> Instruction {
    build(
        accounts::DeclineJob {
            operator: *operator,
            config: pda::market_config(),
            job: *job,
            node: node_cpi(provider_authority),
            event_authority: pda::event_authority(&crate::program_ids::job_escrow()),
            program: crate::program_ids::job_escrow(),
        },
        instruction::DeclineJob {},
    )
}

/// Starts `job` on the node of `provider_authority`, signed by its operator.
pub fn start_job(operator: &Pubkey, provider_authority: &Pubkey, job: &Pubkey) -> Instruction {
    build(
        accounts::StartJob {
            operator: *operator,
            job: *job,
            provider: pda::provider(provider_authority),
            event_authority: pda::event_authority(&crate::program_ids::job_escrow()),
            program: crate::program_ids::job_escrow(),
        },
        instruction::StartJob {},
    )
}

/// A liveness heartbeat for a running job on the node of `provider_authority`, signed by
/// its current operator.
pub fn heartbeat_job(operator: &Pubkey, provider_authority: &Pubkey, job: &Pubkey) -> Instruction {
    build(
        accounts::HeartbeatJob {
            operator: *operator,
            job: *job,
            provider: pda::provider(provider_authority),
            event_authority: pda::event_authority(&crate::program_ids::job_escrow()),
            program: crate::program_ids::job_escrow(),
        },
        instruction::HeartbeatJob {},
    )
}

/// Submits a batch job's result, signed by the assigned operator of the node of
/// `provider_authority`.
pub fn submit_result(
    operator: &Pubkey,
    provider_authority: &Pubkey,
    job: &Pubkey,
    hash: [u8; 32],
    uri: String,
) -> Instruction {
    build(
        accounts::SubmitResult {
            operator: *operator,
            config: pda::market_config(),
            job: *job,
            node: node_cpi(provider_authority),
            event_authority: pda::event_authority(&crate::program_ids::job_escrow()),
            program: crate::program_ids::job_escrow(),
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

impl SettleAccounts {
    /// The settlement accounts of `job` as `caller` sends them, paid in `token_program`
    /// tokens with fees to the market's `treasury` wallet; `None` while no provider holds
    /// the job.
    pub fn for_job(
        job: &Job,
        caller: &Pubkey,
        token_program: &Pubkey,
        treasury: &Pubkey,
    ) -> Option<Self> {
        let assignment = job.assignment?;
        Some(Self {
            caller: *caller,
            client: job.client,
            job_id: job.job_id,
            payment_mint: job.payment_mint,
            token_program: *token_program,
            provider_authority: assignment.authority,
            treasury: *treasury,
        })
    }
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
        node: node_cpi(&keys.provider_authority),
        token_program: keys.token_program,
        event_authority: pda::event_authority(&crate::program_ids::job_escrow()),
        program: crate::program_ids::job_escrow(),
    }
}

/// Staking accounts a slash touches: the stake of `provider_authority`, paid to the
/// client's associated stake-mint account (the treasury's share stays in the staking vault
/// until collected).
#[derive(Debug, Clone, Copy)]
pub struct SlashKeys {
    pub stake_mint: Pubkey,
    pub stake_token_program: Pubkey,
}

fn slash_cpi(keys: &SettleAccounts, slash: &SlashKeys) -> accounts::SlashCpi {
    accounts::SlashCpi {
        stake_mint: slash.stake_mint,
        staking_vault: pda::staking_vault(),
        slash_recipient: associated_address(
            &keys.client,
            &slash.stake_mint,
            &slash.stake_token_program,
        ),
        stake_token_program: slash.stake_token_program,
    }
}

/// Ends a running lease early (the client).
pub fn close_lease(keys: &SettleAccounts) -> Instruction {
    build(settle_accounts(keys), instruction::CloseLease {})
}

/// Compute units a settlement transaction asks for (`expire_job`, `finalize_job`,
/// `approve_result`, `close_lease`, `resolve_dispute`) for the settlement itself. The
/// heaviest, `expire_job`, measures up to about 146,000 on SBF (its committed budget is
/// 168,000), under the 200,000 a transaction gets without asking; asking for more costs
/// nothing without a priority fee, and keeps an exit from depending on that margin.
pub const SETTLEMENT_COMPUTE_UNITS: u32 = 400_000;

/// Compute units allowed for each instruction that creates an account ahead of a
/// settlement (an associated token account of a payee: about 20,000-35,000).
pub const ACCOUNT_CREATION_COMPUTE_UNITS: u32 = 60_000;

/// The most compute units a transaction may ask for.
pub const MAX_TRANSACTION_COMPUTE_UNITS: u32 = 1_400_000;

/// The instruction that sets a settlement transaction's compute limit: the settlement's
/// [`SETTLEMENT_COMPUTE_UNITS`] plus [`ACCOUNT_CREATION_COMPUTE_UNITS`] for each of the
/// `creations` instructions that go with it. An explicit limit replaces the 200,000 per
/// instruction a transaction gets without one, so it must cover them all. Put it first.
pub fn settlement_compute_limit(creations: usize) -> Instruction {
    let creations = u32::try_from(creations).unwrap_or(u32::MAX);
    let units = ACCOUNT_CREATION_COMPUTE_UNITS
        .saturating_mul(creations)
        .saturating_add(SETTLEMENT_COMPUTE_UNITS)
        .min(MAX_TRANSACTION_COMPUTE_UNITS);
    solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(units)
}

/// Takes an expired job from its provider; `keys.caller` earns the tip into its associated
/// token account.
pub fn expire_job(keys: &SettleAccounts, slash: &SlashKeys) -> Instruction {
    build(
        accounts::ExpireJob {
            settle: settle_accounts(keys),
            caller_tokens: associated_address(
                &keys.caller,
                &keys.payment_mint,
                &keys.token_program,
            ),
            slashing: slash_cpi(keys, slash),
        },
        instruction::ExpireJob {},
    )
}

/// The arbiter (`keys.caller`) rules on a disputed result.
pub fn resolve_dispute(keys: &SettleAccounts, slash: &SlashKeys, for_client: bool) -> Instruction {
    build(
        accounts::ResolveDispute {
            settle: settle_accounts(keys),
            slashing: slash_cpi(keys, slash),
        },
        instruction::ResolveDispute {
            args: ResolveDisputeArgs { for_client },
        },
    )
}

/// The client (`keys.caller`) of a known-answer batch job reveals the answer it committed
/// to: a result that differs is slashed (the whole slash to `staking_treasury`, the staking
/// config's treasury token account) and the deposit refunded.
pub fn reveal_canary(
    keys: &SettleAccounts,
    slash: &SlashKeys,
    staking_treasury: &Pubkey,
    expected: [u8; 32],
    salt: [u8; 32],
) -> Instruction {
    build(
        accounts::RevealCanary {
            settle: settle_accounts(keys),
            slashing: accounts::SlashCpi {
                slash_recipient: *staking_treasury,
                ..slash_cpi(keys, slash)
            },
        },
        instruction::RevealCanary {
            args: RevealCanaryArgs { expected, salt },
        },
    )
}

/// The client disputes a batch result, posting the bond from its associated token account.
pub fn dispute_result(
    client: &Pubkey,
    job_id: u64,
    payment_mint: &Pubkey,
    token_program: &Pubkey,
) -> Instruction {
    let job = pda::job(client, job_id);
    build(
        accounts::DisputeResult {
            client: *client,
            config: pda::market_config(),
            job,
            vault: pda::job_vault(&job),
            payment_mint: *payment_mint,
            client_tokens: associated_address(client, payment_mint, token_program),
            token_program: *token_program,
            event_authority: pda::event_authority(&crate::program_ids::job_escrow()),
            program: crate::program_ids::job_escrow(),
        },
        instruction::DisputeResult {},
    )
}

/// The client lengthens a job by `extra_seconds`, topping up the deposit. Once a provider
/// holds the job, `holder` names its current operator (which must co-sign) and authority.
pub fn extend_job(
    client: &Pubkey,
    job_id: u64,
    payment_mint: &Pubkey,
    token_program: &Pubkey,
    extra_seconds: i64,
    holder: Option<(&Pubkey, &Pubkey)>,
) -> Instruction {
    let job = pda::job(client, job_id);
    build(
        accounts::ExtendJob {
            client: *client,
            job,
            vault: pda::job_vault(&job),
            payment_mint: *payment_mint,
            client_tokens: associated_address(client, payment_mint, token_program),
            token_program: *token_program,
            provider: holder.map(|(_, authority)| pda::provider(authority)),
            operator: holder.map(|(operator, _)| *operator),
            event_authority: pda::event_authority(&crate::program_ids::job_escrow()),
            program: crate::program_ids::job_escrow(),
        },
        instruction::ExtendJob {
            args: ExtendJobArgs { extra_seconds },
        },
    )
}

/// A lease provider withdraws `amount` (gross) of its earnings; `signer` is its authority
/// or operator.
pub fn withdraw_earnings(signer: &Pubkey, keys: &SettleAccounts, amount: u64) -> Instruction {
    let job = pda::job(&keys.client, keys.job_id);
    let ata = |owner: &Pubkey| associated_address(owner, &keys.payment_mint, &keys.token_program);
    build(
        accounts::WithdrawEarnings {
            signer: *signer,
            job,
            provider: pda::provider(&keys.provider_authority),
            vault: pda::job_vault(&job),
            payment_mint: keys.payment_mint,
            provider_tokens: ata(&keys.provider_authority),
            token_program: keys.token_program,
            event_authority: pda::event_authority(&crate::program_ids::job_escrow()),
            program: crate::program_ids::job_escrow(),
        },
        instruction::WithdrawEarnings {
            args: WithdrawEarningsArgs { amount },
        },
    )
}

/// The client accepts the result and settles the job.
pub fn approve_result(keys: &SettleAccounts) -> Instruction {
    build(settle_accounts(keys), instruction::ApproveResult {})
}

/// Anyone settles a batch job after its challenge window.
pub fn finalize_job(keys: &SettleAccounts) -> Instruction {
    build(settle_accounts(keys), instruction::FinalizeJob {})
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The units a `SetComputeUnitLimit` instruction asks for.
    fn units(ix: &Instruction) -> u32 {
        assert_eq!(ix.program_id, solana_compute_budget_interface::ID);
        let (tag, units) = ix.data.split_first().unwrap();
        assert_eq!(*tag, 2, "SetComputeUnitLimit");
        u32::from_le_bytes(units.try_into().unwrap())
    }

    #[test]
    fn a_settlement_limit_covers_the_accounts_created_with_it() {
        assert_eq!(units(&settlement_compute_limit(0)), 400_000);
        assert_eq!(units(&settlement_compute_limit(5)), 700_000);
        assert_eq!(
            units(&settlement_compute_limit(usize::MAX)),
            MAX_TRANSACTION_COMPUTE_UNITS
        );
    }
}
