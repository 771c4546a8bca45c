pub mod apply_config_update;
pub mod cancel_config_update;
pub mod cancel_unstake;
pub mod collect_treasury;
pub mod init_config;
pub mod lock_stake;
pub mod propose_config_update;
pub mod request_unstake;
pub mod slash;
pub mod stake;
pub mod withdraw;

pub use apply_config_update::*;
pub use cancel_config_update::*;
pub use cancel_unstake::*;
pub use collect_treasury::*;
pub use init_config::*;
pub use lock_stake::*;
pub use propose_config_update::*;
pub use request_unstake::*;
pub use slash::*;
pub use stake::*;
pub use withdraw::*;

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TransferChecked};

/// Moves `amount` out of the pooled vault, signed by the config PDA.
pub(crate) fn transfer_from_vault<'info>(
    token_program: &AccountInfo<'info>,
    vault: &InterfaceAccount<'info, TokenAccount>,
    mint: &InterfaceAccount<'info, Mint>,
    to: &InterfaceAccount<'info, TokenAccount>,
    config: &AccountInfo<'info>,
    config_bump: u8,
    amount: u64,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    let seeds: &[&[u8]] = &[crate::state::StakingConfig::SEED, &[config_bump]];
    token_interface::transfer_checked(
        CpiContext::new_with_signer(
            token_program.key(),
            TransferChecked {
                from: vault.to_account_info(),
                mint: mint.to_account_info(),
                to: to.to_account_info(),
                authority: config.clone(),
            },
            &[seeds],
        ),
        amount,
        mint.decimals,
    )
}
