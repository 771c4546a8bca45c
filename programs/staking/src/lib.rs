//! gpu-market staking: provider collateral with an unbonding cooldown, slashable by the
//! market's escrow authority while it is staked or unbonding.
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;
#[cfg(target_os = "solana")]
use solana_compiler_builtins as _;

pub mod constants;
pub mod error;
pub mod events;
pub mod instructions;
pub mod layout;
pub mod math;
pub mod state;
pub mod utils;

pub use instructions::*;
pub use state::*;

declare_id!("EGkm4cmWUGL2JWdW3fXbG76jbghKabb7vswJAogWAWVS");

// Where to report a vulnerability, embedded in the deployed binary (security.txt). Only the
// deployable build carries it: the `no-entrypoint` builds all link into one test binary.
#[cfg(not(feature = "no-entrypoint"))]
solana_security_txt::security_txt! {
    name: "gpu-market staking",
    project_url: "https://github.com/gpu-market/gpu-market",
    contacts: "link:https://github.com/gpu-market/gpu-market/security/advisories/new",
    policy: "https://github.com/gpu-market/gpu-market/blob/main/README.md#idls-and-securitytxt",
    source_code: "https://github.com/gpu-market/gpu-market",
    source_release: env!("CARGO_PKG_VERSION")
}

#[program]
pub mod staking {
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

    pub fn stake(ctx: Context<Stake>, args: StakeArgs) -> Result<()> {
        Stake::handler(ctx, args)
    }

    pub fn request_unstake(ctx: Context<RequestUnstake>, args: RequestUnstakeArgs) -> Result<()> {
        RequestUnstake::handler(ctx, args)
    }

    pub fn cancel_unstake(ctx: Context<CancelUnstake>) -> Result<()> {
        CancelUnstake::handler(ctx)
    }

    pub fn withdraw(ctx: Context<Withdraw>) -> Result<()> {
        Withdraw::handler(ctx)
    }

    pub fn lock_stake(ctx: Context<LockStake>, args: LockStakeArgs) -> Result<()> {
        LockStake::lock(ctx, args)
    }

    pub fn unlock_stake(ctx: Context<LockStake>, args: LockStakeArgs) -> Result<()> {
        LockStake::unlock(ctx, args)
    }

    pub fn collect_treasury(ctx: Context<CollectTreasury>) -> Result<()> {
        CollectTreasury::handler(ctx)
    }

    pub fn slash(ctx: Context<Slash>, args: SlashArgs) -> Result<()> {
        Slash::handler(ctx, args)
    }
}
