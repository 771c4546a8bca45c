//! gpu-market provider registry: GPU nodes, their specs, liveness, attestation, reputation
//! and capacity. The eligibility predicate used on-chain by the job escrow and off-chain by
//! the matcher lives here, in [`eligibility`].
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;
#[cfg(target_os = "solana")]
use solana_compiler_builtins as _;

pub mod constants;
pub mod eligibility;
pub mod error;
pub mod events;
pub mod instructions;
pub mod state;

pub use instructions::*;
pub use state::*;

declare_id!("5ybPo12L5EtRTqgRh3dPySjNSDFhqDiBcZ5Ny3pGcepK");

// Where to report a vulnerability, embedded in the deployed binary (security.txt). Only the
// deployable build carries it: the `no-entrypoint` builds all link into one test binary.
#[cfg(not(feature = "no-entrypoint"))]
solana_security_txt::security_txt! {
    name: "gpu-market provider registry",
    project_url: "https://github.com/gpu-market/gpu-market",
    contacts: "link:https://github.com/gpu-market/gpu-market/security/advisories/new",
    policy: "https://github.com/gpu-market/gpu-market/blob/main/README.md#idls-and-securitytxt",
    source_code: "https://github.com/gpu-market/gpu-market",
    source_release: env!("CARGO_PKG_VERSION")
}

#[program]
pub mod provider_registry {
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

    pub fn register_provider(
        ctx: Context<RegisterProvider>,
        args: RegisterProviderArgs,
    ) -> Result<()> {
        RegisterProvider::handler(ctx, args)
    }

    pub fn update_provider(ctx: Context<UpdateProvider>, args: UpdateProviderArgs) -> Result<()> {
        UpdateProvider::handler(ctx, args)
    }

    pub fn set_operator(ctx: Context<SetOperator>, args: SetOperatorArgs) -> Result<()> {
        SetOperator::handler(ctx, args)
    }

    pub fn pause_provider(ctx: Context<PauseProvider>) -> Result<()> {
        PauseProvider::handler(ctx)
    }

    pub fn resume_provider(ctx: Context<ResumeProvider>) -> Result<()> {
        ResumeProvider::handler(ctx)
    }

    pub fn heartbeat(ctx: Context<Heartbeat>) -> Result<()> {
        Heartbeat::handler(ctx)
    }

    pub fn attest_provider(ctx: Context<AttestProvider>, args: AttestProviderArgs) -> Result<()> {
        AttestProvider::handler(ctx, args)
    }

    pub fn begin_exit(ctx: Context<BeginExit>) -> Result<()> {
        BeginExit::handler(ctx)
    }

    pub fn retire_provider(ctx: Context<RetireProvider>) -> Result<()> {
        RetireProvider::handler(ctx)
    }

    pub fn reserve_capacity(ctx: Context<ReserveCapacity>, args: CapacityArgs) -> Result<()> {
        ReserveCapacity::handler(ctx, args)
    }

    pub fn release_capacity(ctx: Context<ReleaseCapacity>, args: CapacityArgs) -> Result<()> {
        ReleaseCapacity::handler(ctx, args)
    }

    pub fn record_outcome(ctx: Context<RecordOutcome>, args: RecordOutcomeArgs) -> Result<()> {
        RecordOutcome::handler(ctx, args)
    }
}
