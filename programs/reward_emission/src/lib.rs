//! gpu-market reward emission: providers earn network tokens for keeping staked, healthy
//! GPUs online. Each epoch's emission is fixed when the epoch opens, follows a decay
//! schedule, is split pro rata over the uptime weight recorded in that epoch, and never
//! passes a hard cap on the total supply.
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;

pub mod constants;
pub mod error;
pub mod events;
pub mod instructions;
pub mod math;
pub mod state;

pub use instructions::*;
pub use state::*;

declare_id!("A5nKTSo6h99vVwWzCPfHPk79gnwRti6MKvM1enT866m3");

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

    pub fn claim_rewards(ctx: Context<ClaimRewards>) -> Result<()> {
        ClaimRewards::handler(ctx)
    }
}
