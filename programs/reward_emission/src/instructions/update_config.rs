//! Hands over the admin role or lowers the hard cap (never above the cap set at init, never
//! below what epochs already allocated). The schedule itself (genesis, epoch length,
//! emission, decay) is fixed: epochs that exist keep their emission. Admin only.

use crate::{error::EmissionError, events::EmissionConfigUpdated, state::EmissionConfig};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default)]
pub struct UpdateConfigArgs {
    pub new_admin: Option<Pubkey>,
    pub hard_cap: Option<u64>,
}

#[event_cpi]
#[derive(Accounts)]
pub struct UpdateConfig<'info> {
    pub admin: Signer<'info>,
    #[account(
        mut,
        seeds = [EmissionConfig::SEED],
        bump = config.bump,
        has_one = admin @ EmissionError::NotAdmin,
    )]
    pub config: Account<'info, EmissionConfig>,
}

impl UpdateConfig<'_> {
    pub fn handler(ctx: Context<Self>, args: UpdateConfigArgs) -> Result<()> {
        let config = &mut ctx.accounts.config;
        if let Some(admin) = args.new_admin {
            config.admin = admin;
        }
        if let Some(cap) = args.hard_cap {
            config.hard_cap = cap;
        }
        config.invariant()?;

        staking::emit_event!(
            authority = &ctx.accounts.event_authority,
            EmissionConfigUpdated {
                admin: config.admin,
                hard_cap: config.hard_cap,
            }
        );
        Ok(())
    }
}
