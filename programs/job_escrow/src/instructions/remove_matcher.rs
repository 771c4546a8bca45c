//! Removes the market's matcher at once, without the timelock: it only takes power away (a
//! lost or stolen matcher key must not keep assigning jobs for 60 days). Admin only. From
//! now on no job can be assigned by a matcher, those created under it included, and
//! providers take instant jobs themselves without waiting for a window. A pending proposal
//! that names a matcher stays pending, visible, and cancellable.

use crate::{error::EscrowError, events::MatcherRemoved, state::MarketConfig};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct RemoveMatcher<'info> {
    pub admin: Signer<'info>,
    #[account(
        mut,
        seeds = [MarketConfig::SEED],
        bump = config.bump,
        has_one = admin @ EscrowError::NotAdmin,
    )]
    pub config: Box<Account<'info, MarketConfig>>,
}

impl RemoveMatcher<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let config = &mut ctx.accounts.config;
        let removed = config.matcher;
        require!(removed != Pubkey::default(), EscrowError::NotMatcher);
        config.matcher = Pubkey::default();
        config.match_window = 0;
        config.invariant()?;

        staking::emit_event!(
            authority = &ctx.accounts.event_authority,
            MatcherRemoved {
                admin: config.admin,
                matcher: removed,
            }
        );
        Ok(())
    }
}
