//! Replaces the provider's operator (hot) key. The authority only.

use crate::{error::RegistryError, events::OperatorChanged, state::Provider};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct SetOperatorArgs {
    pub new_operator: Pubkey,
}

#[event_cpi]
#[derive(Accounts)]
pub struct SetOperator<'info> {
    pub authority: Signer<'info>,
    #[account(
        mut,
        seeds = [Provider::SEED, provider.authority.as_ref()],
        bump = provider.bump,
        has_one = authority @ RegistryError::NotProviderAuthority,
    )]
    pub provider: Box<Account<'info, Provider>>,
}

impl SetOperator<'_> {
    pub fn handler(ctx: Context<Self>, args: SetOperatorArgs) -> Result<()> {
        let provider = &mut ctx.accounts.provider;
        let old_operator = provider.operator;
        provider.operator = args.new_operator;

        staking::emit_event!(
            authority = &ctx.accounts.event_authority,
            OperatorChanged {
                provider: provider.key(),
                old_operator,
                new_operator: provider.operator,
            }
        );
        Ok(())
    }
}
