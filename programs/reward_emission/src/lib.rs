//! gpu-market reward emission: providers earn network tokens for keeping staked, healthy
//! GPUs online. Each node records its uptime in its own account; after an epoch ends its
//! weight is folded into sharded accumulators and the epoch is finalized, which fixes its
//! emission. Emissions follow a decay schedule, are split pro rata over the folded uptime
//! weight, and never pass a hard cap on the total supply.
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

declare_id!("A5nKTSo6h99vVwWzCPfHPk79gnwRti6MKvM1enT866m3");

// Where to report a vulnerability, embedded in the deployed binary (security.txt). Only the
// deployable build carries it: the `no-entrypoint` builds all link into one test binary.
#[cfg(not(feature = "no-entrypoint"))]
solana_security_txt::security_txt! {
    name: "gpu-market reward emission",
    project_url: "https://github.com/gpu-market/gpu-market",
    contacts: "link:https://github.com/gpu-market/gpu-market/security/advisories/new",
    policy: "https://github.com/gpu-market/gpu-market/blob/main/README.md#idls-and-securitytxt",
    source_code: "https://github.com/gpu-market/gpu-market",
    source_release: env!("CARGO_PKG_VERSION")
}

#[program]
pub mod reward_emission {
    use super::*;

    pub fn init_config(ctx: Context<InitConfig>, args: InitConfigArgs) -> Result<()> {
        InitConfig::handler(ctx, args)
    }

    pub fn update_config(ctx: Context<UpdateConfig>, args: UpdateConfigArgs) -> Result<()> {
        UpdateConfig::handler(ctx, args)
    }

    pub fn record_uptime(ctx: Context<RecordUptime>, args: RecordUptimeArgs) -> Result<()> {
        RecordUptime::handler(ctx, args)
    }

    pub fn fold_uptime(ctx: Context<FoldUptime>, args: FoldUptimeArgs) -> Result<()> {
        FoldUptime::handler(ctx, args)
    }

    pub fn finalize_epoch(ctx: Context<FinalizeEpoch>, args: FinalizeEpochArgs) -> Result<()> {
        FinalizeEpoch::handler(ctx, args)
    }

    pub fn claim_rewards(ctx: Context<ClaimRewards>) -> Result<()> {
        ClaimRewards::handler(ctx)
    }
}
