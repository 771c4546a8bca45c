pub mod accept_job;
pub mod apply_config_update;
pub mod approve_result;
pub mod assign_job;
pub mod cancel_config_update;
pub mod cancel_job;
pub mod close_auction;
pub mod close_lease;
pub mod close_replica_group;
pub mod commit_result;
pub mod cpi_accounts;
pub mod create_job;
pub mod create_replica_group;
pub mod decline_job;
pub mod dispute_result;
pub mod expire_job;
pub mod extend_job;
pub mod finalize_job;
pub mod heartbeat_job;
pub mod init_config;
pub mod place_bid;
pub mod propose_config_update;
pub mod reclaim_job;
pub mod remove_matcher;
pub mod resolve_dispute;
pub mod reveal_canary;
pub mod reveal_result;
pub mod settle_job;
pub mod settle_replica;
pub mod start_job;
pub mod submit_result;
pub mod withdraw_earnings;

pub use accept_job::*;
pub use apply_config_update::*;
pub use assign_job::*;
pub use cancel_config_update::*;
pub use cancel_job::*;
pub use close_auction::*;
pub use close_replica_group::*;
pub use commit_result::*;
pub use cpi_accounts::*;
pub use create_job::*;
pub use create_replica_group::*;
pub use decline_job::*;
pub use dispute_result::*;
pub use expire_job::*;
pub use extend_job::*;
pub use heartbeat_job::*;
pub use init_config::*;
pub use place_bid::*;
pub use propose_config_update::*;
pub use reclaim_job::*;
pub use remove_matcher::*;
pub use resolve_dispute::*;
pub use reveal_canary::*;
pub use reveal_result::*;
pub use settle_job::*;
pub use settle_replica::*;
pub use start_job::*;
pub use submit_result::*;
pub use withdraw_earnings::*;

use crate::state::{Job, ReplicaGroup};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, CloseAccount, Mint, TokenAccount, TransferChecked};

/// Moves `amount` from the client's token account into a job's vault, refusing a mint whose
/// transfer fee would leave the vault short of what the job's books say it holds.
pub(crate) fn deposit<'info>(
    token_program: &AccountInfo<'info>,
    from: &InterfaceAccount<'info, TokenAccount>,
    mint: &InterfaceAccount<'info, Mint>,
    vault: &mut InterfaceAccount<'info, TokenAccount>,
    client: &AccountInfo<'info>,
    amount: u64,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    let before = vault.amount;
    token_interface::transfer_checked(
        CpiContext::new(
            token_program.key(),
            TransferChecked {
                from: from.to_account_info(),
                mint: mint.to_account_info(),
                to: vault.to_account_info(),
                authority: client.clone(),
            },
        ),
        amount,
        mint.decimals,
    )?;
    vault.reload()?;
    require!(
        crate::math::sub(vault.amount, before)? == amount,
        crate::error::EscrowError::TransferFeeNotSupported
    );
    Ok(())
}

/// Every mint in `mints` must be passed among `accounts` (the instruction's remaining
/// accounts) and be safe for vaults (`staking::utils::check_mint`).
pub(crate) fn check_allowed_mints(mints: &[Pubkey], accounts: &[AccountInfo]) -> Result<()> {
    for mint in mints {
        let info = accounts
            .iter()
            .find(|a| a.key == mint)
            .ok_or(error!(crate::error::EscrowError::MintAccountMissing))?;
        staking::utils::check_mint(info)
            .map_err(|_| error!(crate::error::EscrowError::MintNotSupported))?;
    }
    Ok(())
}

/// The provider's payee must be a token account of the assigned provider's authority, and
/// the fee's a token account of the market treasury.
pub(crate) fn check_payees(
    assignment: &crate::state::Assignment,
    config: &crate::state::MarketConfig,
    provider_tokens: &InterfaceAccount<TokenAccount>,
    treasury_tokens: &InterfaceAccount<TokenAccount>,
) -> Result<()> {
    require_keys_eq!(
        provider_tokens.owner,
        assignment.authority,
        crate::error::EscrowError::WrongTokenAccountOwner
    );
    require_keys_eq!(
        treasury_tokens.owner,
        config.treasury,
        crate::error::EscrowError::WrongTokenAccountOwner
    );
    Ok(())
}

/// Signs for a job PDA, which is the authority of its vault.
pub(crate) struct JobSigner {
    client: Pubkey,
    job_id: [u8; 8],
    bump: [u8; 1],
}

impl JobSigner {
    pub fn new(job: &Job) -> Self {
        Self {
            client: job.client,
            job_id: job.job_id.to_le_bytes(),
            bump: [job.bump],
        }
    }

    pub fn seeds(&self) -> [&[u8]; 4] {
        [Job::SEED, self.client.as_ref(), &self.job_id, &self.bump]
    }
}

/// Token movements out of one job's vault.
pub(crate) struct Vault<'a, 'info> {
    pub token_program: AccountInfo<'info>,
    pub vault: &'a InterfaceAccount<'info, TokenAccount>,
    pub mint: &'a InterfaceAccount<'info, Mint>,
    pub job: AccountInfo<'info>,
    pub signer: JobSigner,
}

impl<'info> Vault<'_, 'info> {
    pub fn pay(&self, to: &InterfaceAccount<'info, TokenAccount>, amount: u64) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        let seeds = self.signer.seeds();
        token_interface::transfer_checked(
            CpiContext::new_with_signer(
                self.token_program.key(),
                TransferChecked {
                    from: self.vault.to_account_info(),
                    mint: self.mint.to_account_info(),
                    to: to.to_account_info(),
                    authority: self.job.clone(),
                },
                &[&seeds],
            ),
            amount,
            self.mint.decimals,
        )
    }

    /// Closes the (empty) vault; its rent goes to `rent_to`.
    pub fn close(&self, rent_to: AccountInfo<'info>) -> Result<()> {
        let seeds = self.signer.seeds();
        token_interface::close_account(CpiContext::new_with_signer(
            self.token_program.key(),
            CloseAccount {
                account: self.vault.to_account_info(),
                destination: rent_to,
                authority: self.job.clone(),
            },
            &[&seeds],
        ))
    }
}

/// The replica group passed as an instruction's first remaining account, writable, for an
/// instruction whose accounts do not name it (`create_job`, `accept_job`, `assign_job`):
/// an ordinary job's callers pass nothing. `expected` is the job's group, if it has one.
/// Returns the account and its contents, to write back with [`save_group`].
pub(crate) fn remaining_group<'a, 'info>(
    remaining: &'a [AccountInfo<'info>],
    expected: Option<&Pubkey>,
) -> Result<(&'a AccountInfo<'info>, ReplicaGroup)> {
    let info = remaining
        .first()
        .ok_or(error!(crate::error::EscrowError::ReplicaGroupMissing))?;
    if let Some(expected) = expected {
        require_keys_eq!(
            *info.key,
            *expected,
            crate::error::EscrowError::WrongReplicaGroup
        );
    }
    require!(
        info.is_writable,
        crate::error::EscrowError::ReplicaGroupMissing
    );
    require_keys_eq!(
        *info.owner,
        crate::ID,
        crate::error::EscrowError::WrongReplicaGroup
    );
    let data = info.try_borrow_data()?;
    let group = ReplicaGroup::try_deserialize(&mut &data[..])
        .map_err(|_| error!(crate::error::EscrowError::WrongReplicaGroup))?;
    Ok((info, group))
}

/// Writes a group read with [`remaining_group`] back to its account.
pub(crate) fn save_group(info: &AccountInfo, group: &ReplicaGroup) -> Result<()> {
    let mut data = info.try_borrow_mut_data()?;
    group.try_serialize(&mut &mut data[..])
}
