//! gpu-market job escrow: clients lock a job's maximum cost in a per-job vault; providers
//! take the job, run it and are paid per second of GPU time delivered; the rest goes back
//! to the client. Capacity and reputation are written to the registry through CPIs signed
//! by this program's `["escrow_authority"]` PDA.
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;
#[cfg(target_os = "solana")]
use solana_compiler_builtins as _;

pub mod constants;
pub mod error;
pub mod events;
pub mod instructions;
pub mod math;
pub mod state;

pub use instructions::*;
pub use state::*;

declare_id!("7LUWHXCiVkL4JxHuxy1bbMXH2CZtzruPnEipVhPdnjoj");

// Where to report a vulnerability, embedded in the deployed binary (security.txt). Only the
// deployable build carries it: the `no-entrypoint` builds all link into one test binary.
#[cfg(not(feature = "no-entrypoint"))]
solana_security_txt::security_txt! {
    name: "gpu-market job escrow",
    project_url: "https://github.com/gpu-market/gpu-market",
    contacts: "link:https://github.com/gpu-market/gpu-market/security/advisories/new",
    policy: "https://github.com/gpu-market/gpu-market/blob/main/README.md#idls-and-securitytxt",
    source_code: "https://github.com/gpu-market/gpu-market",
    source_release: env!("CARGO_PKG_VERSION")
}

#[program]
pub mod job_escrow {
    use super::*;

    pub fn init_config(ctx: Context<InitConfig>, args: InitConfigArgs) -> Result<()> {
        InitConfig::handler(ctx, args)
    }

    pub fn propose_config_update(
        ctx: Context<ProposeConfigUpdate>,
        args: UpdateConfigArgs,
    ) -> Result<()> {
        ProposeConfigUpdate::handler(ctx, args)
    }

    pub fn apply_config_update(ctx: Context<ApplyConfigUpdate>) -> Result<()> {
        ApplyConfigUpdate::handler(ctx)
    }

    pub fn cancel_config_update(ctx: Context<CancelConfigUpdate>) -> Result<()> {
        CancelConfigUpdate::handler(ctx)
    }

    pub fn remove_matcher(ctx: Context<RemoveMatcher>) -> Result<()> {
        RemoveMatcher::handler(ctx)
    }

    pub fn create_job(ctx: Context<CreateJob>, args: CreateJobArgs) -> Result<()> {
        CreateJob::handler(ctx, args)
    }

    pub fn cancel_job(ctx: Context<CancelJob>) -> Result<()> {
        CancelJob::handler(ctx)
    }

    pub fn place_bid(ctx: Context<PlaceBid>, args: PlaceBidArgs) -> Result<()> {
        PlaceBid::handler(ctx, args)
    }

    pub fn accept_job(ctx: Context<AcceptJob>) -> Result<()> {
        AcceptJob::handler(ctx)
    }

    pub fn assign_job(ctx: Context<AssignJob>) -> Result<()> {
        AssignJob::handler(ctx)
    }

    pub fn decline_job(ctx: Context<DeclineJob>) -> Result<()> {
        DeclineJob::handler(ctx)
    }

    pub fn close_auction(ctx: Context<CloseAuction>) -> Result<()> {
        CloseAuction::handler(ctx)
    }

    pub fn reclaim_job(ctx: Context<ReclaimJob>) -> Result<()> {
        ReclaimJob::handler(ctx)
    }

    pub fn start_job(ctx: Context<StartJob>) -> Result<()> {
        StartJob::handler(ctx)
    }

    pub fn heartbeat_job(ctx: Context<HeartbeatJob>) -> Result<()> {
        HeartbeatJob::handler(ctx)
    }

    pub fn submit_result(ctx: Context<SubmitResult>, args: SubmitResultArgs) -> Result<()> {
        SubmitResult::handler(ctx, args)
    }

    pub fn approve_result(ctx: Context<SettleJob>) -> Result<()> {
        instructions::approve_result::handler(ctx)
    }

    pub fn finalize_job(ctx: Context<SettleJob>) -> Result<()> {
        instructions::finalize_job::handler(ctx)
    }

    pub fn withdraw_earnings(
        ctx: Context<WithdrawEarnings>,
        args: WithdrawEarningsArgs,
    ) -> Result<()> {
        WithdrawEarnings::handler(ctx, args)
    }

    pub fn extend_job(ctx: Context<ExtendJob>, args: ExtendJobArgs) -> Result<()> {
        ExtendJob::handler(ctx, args)
    }

    pub fn close_lease(ctx: Context<SettleJob>) -> Result<()> {
        instructions::close_lease::handler(ctx)
    }

    pub fn dispute_result(ctx: Context<DisputeResult>) -> Result<()> {
        DisputeResult::handler(ctx)
    }

    pub fn resolve_dispute(ctx: Context<ResolveDispute>, args: ResolveDisputeArgs) -> Result<()> {
        ResolveDispute::handler(ctx, args)
    }

    pub fn reveal_canary(ctx: Context<RevealCanary>, args: RevealCanaryArgs) -> Result<()> {
        RevealCanary::handler(ctx, args)
    }

    pub fn expire_job(ctx: Context<ExpireJob>) -> Result<()> {
        ExpireJob::handler(ctx)
    }

    pub fn create_replica_group(
        ctx: Context<CreateReplicaGroup>,
        args: CreateReplicaGroupArgs,
    ) -> Result<()> {
        CreateReplicaGroup::handler(ctx, args)
    }

    pub fn commit_result(ctx: Context<CommitResult>, args: CommitResultArgs) -> Result<()> {
        CommitResult::handler(ctx, args)
    }

    pub fn reveal_result(ctx: Context<RevealResult>, args: RevealResultArgs) -> Result<()> {
        RevealResult::handler(ctx, args)
    }

    pub fn settle_replica(ctx: Context<SettleReplica>) -> Result<()> {
        SettleReplica::handler(ctx)
    }

    pub fn close_replica_group(ctx: Context<CloseReplicaGroup>) -> Result<()> {
        CloseReplicaGroup::handler(ctx)
    }
}
