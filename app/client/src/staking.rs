//! Instruction builders for the staking program.

use crate::pda;
use anchor_lang::{
    solana_program::{instruction::Instruction, pubkey::Pubkey, system_program},
    InstructionData, ToAccountMetas,
};
pub use staking::SlashArgs;
use staking::{
    accounts, instruction, InitConfigArgs, RequestUnstakeArgs, StakeArgs, UpdateConfigArgs,
};

pub use staking::state::{SlashReason, StakeAccount, StakingConfig};

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: crate::program_ids::staking(),
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

/// Creates the staking config and pooled vault; `admin` pays and becomes the admin.
pub fn init_config(
    admin: &Pubkey,
    stake_mint: &Pubkey,
    treasury: &Pubkey,
    token_program: &Pubkey,
    args: InitConfigArgs,
) -> Instruction {
    build(
        accounts::InitConfig {
            admin: *admin,
            config: pda::staking_config(),
            stake_mint: *stake_mint,
            vault: pda::staking_vault(),
            treasury: *treasury,
            token_program: *token_program,
            system_program: system_program::ID,
            event_authority: pda::event_authority(&crate::program_ids::staking()),
            program: crate::program_ids::staking(),
        },
        instruction::InitConfig { args },
    )
}

/// Proposes new staking parameters; `new_treasury` replaces the treasury token account.
/// They take effect with [`apply_config_update`] after the timelock.
pub fn propose_config_update(
    admin: &Pubkey,
    new_treasury: Option<Pubkey>,
    args: UpdateConfigArgs,
) -> Instruction {
    build(
        accounts::ProposeConfigUpdate {
            admin: *admin,
            config: pda::staking_config(),
            new_treasury,
            event_authority: pda::event_authority(&crate::program_ids::staking()),
            program: crate::program_ids::staking(),
        },
        instruction::ProposeConfigUpdate { args },
    )
}

/// Applies the pending staking config update once its timelock has passed (anyone).
pub fn apply_config_update(caller: &Pubkey) -> Instruction {
    build(
        accounts::ApplyConfigUpdate {
            caller: *caller,
            config: pda::staking_config(),
            event_authority: pda::event_authority(&crate::program_ids::staking()),
            program: crate::program_ids::staking(),
        },
        instruction::ApplyConfigUpdate {},
    )
}

/// Withdraws the pending staking config update (the admin).
pub fn cancel_config_update(admin: &Pubkey) -> Instruction {
    build(
        accounts::CancelConfigUpdate {
            admin: *admin,
            config: pda::staking_config(),
            event_authority: pda::event_authority(&crate::program_ids::staking()),
            program: crate::program_ids::staking(),
        },
        instruction::CancelConfigUpdate {},
    )
}

/// Stakes `amount` of the stake mint from `source` (a token account of `owner`).
pub fn stake(
    owner: &Pubkey,
    source: &Pubkey,
    stake_mint: &Pubkey,
    token_program: &Pubkey,
    amount: u64,
) -> Instruction {
    build(
        accounts::Stake {
            owner: *owner,
            config: pda::staking_config(),
            stake_account: pda::stake_account(owner),
            stake_mint: *stake_mint,
            vault: pda::staking_vault(),
            source: *source,
            token_program: *token_program,
            system_program: system_program::ID,
            event_authority: pda::event_authority(&crate::program_ids::staking()),
            program: crate::program_ids::staking(),
        },
        instruction::Stake {
            args: StakeArgs { amount },
        },
    )
}

/// Starts the unbonding cooldown for `amount` of `owner`'s active stake.
pub fn request_unstake(owner: &Pubkey, amount: u64) -> Instruction {
    build(
        accounts::RequestUnstake {
            owner: *owner,
            config: pda::staking_config(),
            stake_account: pda::stake_account(owner),
            event_authority: pda::event_authority(&crate::program_ids::staking()),
            program: crate::program_ids::staking(),
        },
        instruction::RequestUnstake {
            args: RequestUnstakeArgs { amount },
        },
    )
}

/// Returns `owner`'s unbonding stake to active.
pub fn cancel_unstake(owner: &Pubkey) -> Instruction {
    build(
        accounts::CancelUnstake {
            owner: *owner,
            config: pda::staking_config(),
            stake_account: pda::stake_account(owner),
            event_authority: pda::event_authority(&crate::program_ids::staking()),
            program: crate::program_ids::staking(),
        },
        instruction::CancelUnstake {},
    )
}

/// Pays `owner`'s unbonded stake to `destination` after the cooldown.
pub fn withdraw(
    owner: &Pubkey,
    destination: &Pubkey,
    stake_mint: &Pubkey,
    token_program: &Pubkey,
) -> Instruction {
    build(
        accounts::Withdraw {
            owner: *owner,
            config: pda::staking_config(),
            stake_account: pda::stake_account(owner),
            stake_mint: *stake_mint,
            vault: pda::staking_vault(),
            destination: *destination,
            token_program: *token_program,
            event_authority: pda::event_authority(&crate::program_ids::staking()),
            program: crate::program_ids::staking(),
        },
        instruction::Withdraw {},
    )
}

/// Pays the treasury's accumulated share of slashes to the configured treasury token
/// account (anyone).
pub fn collect_treasury(
    caller: &Pubkey,
    stake_mint: &Pubkey,
    treasury: &Pubkey,
    token_program: &Pubkey,
) -> Instruction {
    build(
        accounts::CollectTreasury {
            caller: *caller,
            config: pda::staking_config(),
            stake_mint: *stake_mint,
            vault: pda::staking_vault(),
            treasury: *treasury,
            token_program: *token_program,
            event_authority: pda::event_authority(&crate::program_ids::staking()),
            program: crate::program_ids::staking(),
        },
        instruction::CollectTreasury {},
    )
}

/// Locks `amount` of `owner`'s unlocked stake behind a job; `slasher` must be an authorised
/// slasher PDA, so this is only valid inside a CPI.
pub fn lock_stake(slasher: &Pubkey, owner: &Pubkey, amount: u64) -> Instruction {
    build(
        accounts::LockStake {
            slasher: *slasher,
            config: pda::staking_config(),
            stake_account: pda::stake_account(owner),
            event_authority: pda::event_authority(&crate::program_ids::staking()),
            program: crate::program_ids::staking(),
        },
        instruction::LockStake {
            args: staking::LockStakeArgs { amount },
        },
    )
}

/// Releases up to `amount` of `owner`'s locked stake (CPI-only, like [`lock_stake`]).
pub fn unlock_stake(slasher: &Pubkey, owner: &Pubkey, amount: u64) -> Instruction {
    build(
        accounts::LockStake {
            slasher: *slasher,
            config: pda::staking_config(),
            stake_account: pda::stake_account(owner),
            event_authority: pda::event_authority(&crate::program_ids::staking()),
            program: crate::program_ids::staking(),
        },
        instruction::UnlockStake {
            args: staking::LockStakeArgs { amount },
        },
    )
}

/// Accounts of a slash, besides the slasher.
#[derive(Debug, Clone, Copy)]
pub struct SlashAccounts {
    /// Owner of the stake being slashed.
    pub owner: Pubkey,
    /// The stake mint.
    pub stake_mint: Pubkey,
    /// The harmed party's token account.
    pub recipient: Pubkey,
    /// The stake mint's token program.
    pub token_program: Pubkey,
}

/// Releases a job's lock and slashes up to `args.amount` from a stake; `slasher` must be an
/// authorised slasher PDA, so this instruction is only valid inside a CPI from the program
/// that owns it.
pub fn slash(slasher: &Pubkey, keys: SlashAccounts, args: SlashArgs) -> Instruction {
    build(
        accounts::Slash {
            slasher: *slasher,
            config: pda::staking_config(),
            stake_account: pda::stake_account(&keys.owner),
            stake_mint: keys.stake_mint,
            vault: pda::staking_vault(),
            recipient: keys.recipient,
            token_program: keys.token_program,
            event_authority: pda::event_authority(&crate::program_ids::staking()),
            program: crate::program_ids::staking(),
        },
        instruction::Slash { args },
    )
}
