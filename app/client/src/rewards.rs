//! Instruction builders for the reward emission program.

use crate::pda;
use anchor_lang::{
    solana_program::{instruction::Instruction, pubkey::Pubkey, system_program},
    InstructionData, ToAccountMetas,
};
use reward_emission::{accounts, instruction, InitConfigArgs, RecordUptimeArgs, UpdateConfigArgs};

pub use reward_emission::state::{EmissionConfig, Epoch, ProviderRewards};

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: crate::program_ids::reward_emission(),
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

/// Creates the emission schedule for `reward_mint`, whose mint authority must already be
/// [`pda::reward_mint_authority`] and whose supply must be zero.
pub fn init_config(
    admin: &Pubkey,
    reward_mint: &Pubkey,
    token_program: &Pubkey,
    args: InitConfigArgs,
) -> Instruction {
    build(
        accounts::InitConfig {
            admin: *admin,
            config: pda::emission_config(),
            mint_authority: pda::reward_mint_authority(),
            reward_mint: *reward_mint,
            token_program: *token_program,
            system_program: system_program::ID,
            event_authority: pda::event_authority(&crate::program_ids::reward_emission()),
            program: crate::program_ids::reward_emission(),
        },
        instruction::InitConfig { args },
    )
}

/// Hands over the admin role or lowers the cap.
pub fn update_config(admin: &Pubkey, args: UpdateConfigArgs) -> Instruction {
    build(
        accounts::UpdateConfig {
            admin: *admin,
            config: pda::emission_config(),
            event_authority: pda::event_authority(&crate::program_ids::reward_emission()),
            program: crate::program_ids::reward_emission(),
        },
        instruction::UpdateConfig { args },
    )
}

/// Records uptime in `epoch` (the current one) for the node of `provider_authority`, signed
/// by its operator. `previous_epoch` is the finished epoch the provider last recorded in,
/// if any (read it from its [`ProviderRewards`]).
pub fn record_uptime(
    operator: &Pubkey,
    provider_authority: &Pubkey,
    epoch: u64,
    previous_epoch: Option<u64>,
) -> Instruction {
    let provider = pda::provider(provider_authority);
    build(
        accounts::RecordUptime {
            operator: *operator,
            config: pda::emission_config(),
            registry_config: pda::registry_config(),
            provider,
            stake_account: pda::stake_account(provider_authority),
            rewards: pda::provider_rewards(&provider),
            epoch: pda::reward_epoch(epoch),
            previous_epoch: previous_epoch.map(pda::reward_epoch),
            system_program: system_program::ID,
            event_authority: pda::event_authority(&crate::program_ids::reward_emission()),
            program: crate::program_ids::reward_emission(),
        },
        instruction::RecordUptime {
            args: RecordUptimeArgs { epoch },
        },
    )
}

/// Mints the unclaimed rewards of `provider_authority`'s node to `destination` (a token
/// account of the reward mint owned by that authority); `signer` is its authority or
/// operator. `previous_epoch` as for [`record_uptime`].
pub fn claim_rewards(
    signer: &Pubkey,
    provider_authority: &Pubkey,
    reward_mint: &Pubkey,
    destination: &Pubkey,
    token_program: &Pubkey,
    previous_epoch: Option<u64>,
) -> Instruction {
    let provider = pda::provider(provider_authority);
    build(
        accounts::ClaimRewards {
            signer: *signer,
            config: pda::emission_config(),
            provider,
            rewards: pda::provider_rewards(&provider),
            previous_epoch: previous_epoch.map(pda::reward_epoch),
            reward_mint: *reward_mint,
            mint_authority: pda::reward_mint_authority(),
            destination: *destination,
            token_program: *token_program,
            event_authority: pda::event_authority(&crate::program_ids::reward_emission()),
            program: crate::program_ids::reward_emission(),
        },
        instruction::ClaimRewards {},
    )
}
