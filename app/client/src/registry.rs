//! Instruction builders for the provider registry program.

use crate::pda;
use anchor_lang::{
    solana_program::{instruction::Instruction, pubkey::Pubkey, system_program},
    InstructionData, ToAccountMetas,
};
pub use provider_registry::RecordOutcomeArgs;
use provider_registry::{
    accounts, instruction, AttestProviderArgs, CapacityArgs, InitConfigArgs, RegisterProviderArgs,
    SetOperatorArgs, UpdateConfigArgs, UpdateProviderArgs,
};

pub use provider_registry::{
    eligibility::{satisfies, ClassFilter, EligibilityPolicy, Ineligible, Requirements},
    state::{
        spec_hash, Attestation, GpuClass, Hardware, Outcome, Provider, ProviderStatus,
        RegistryConfig, Reputation,
    },
};

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: crate::program_ids::provider_registry(),
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

/// Creates the registry config; `admin` pays and becomes the admin. The staking config
/// must exist (the registry copies its stake mint).
pub fn init_config(admin: &Pubkey, args: InitConfigArgs) -> Instruction {
    build(
        accounts::InitConfig {
            admin: *admin,
            config: pda::registry_config(),
            staking_config: pda::staking_config(),
            system_program: system_program::ID,
            event_authority: pda::event_authority(&crate::program_ids::provider_registry()),
            program: crate::program_ids::provider_registry(),
        },
        instruction::InitConfig { args },
    )
}

/// Proposes new registry parameters; they take effect with [`apply_config_update`] after
/// the timelock.
pub fn propose_config_update(admin: &Pubkey, args: UpdateConfigArgs) -> Instruction {
    build(
        accounts::ProposeConfigUpdate {
            admin: *admin,
            config: pda::registry_config(),
            event_authority: pda::event_authority(&crate::program_ids::provider_registry()),
            program: crate::program_ids::provider_registry(),
        },
        instruction::ProposeConfigUpdate { args },
    )
}

/// Applies the pending registry config update once its timelock has passed (anyone).
pub fn apply_config_update(caller: &Pubkey) -> Instruction {
    build(
        accounts::ApplyConfigUpdate {
            caller: *caller,
            config: pda::registry_config(),
            event_authority: pda::event_authority(&crate::program_ids::provider_registry()),
            program: crate::program_ids::provider_registry(),
        },
        instruction::ApplyConfigUpdate {},
    )
}

/// Withdraws the pending registry config update (the admin).
pub fn cancel_config_update(admin: &Pubkey) -> Instruction {
    build(
        accounts::CancelConfigUpdate {
            admin: *admin,
            config: pda::registry_config(),
            event_authority: pda::event_authority(&crate::program_ids::provider_registry()),
            program: crate::program_ids::provider_registry(),
        },
        instruction::CancelConfigUpdate {},
    )
}

/// Registers the node whose cold wallet is `authority`.
pub fn register_provider(authority: &Pubkey, args: RegisterProviderArgs) -> Instruction {
    build(
        accounts::RegisterProvider {
            authority: *authority,
            config: pda::registry_config(),
            provider: pda::provider(authority),
            stake_account: pda::stake_account(authority),
            system_program: system_program::ID,
            event_authority: pda::event_authority(&crate::program_ids::provider_registry()),
            program: crate::program_ids::provider_registry(),
        },
        instruction::RegisterProvider { args },
    )
}

/// Updates the listing of `authority`'s node; `signer` is its authority or operator.
pub fn update_provider(
    signer: &Pubkey,
    authority: &Pubkey,
    args: UpdateProviderArgs,
) -> Instruction {
    build(
        accounts::UpdateProvider {
            signer: *signer,
            config: pda::registry_config(),
            provider: pda::provider(authority),
            stake_account: pda::stake_account(authority),
            event_authority: pda::event_authority(&crate::program_ids::provider_registry()),
            program: crate::program_ids::provider_registry(),
        },
        instruction::UpdateProvider { args },
    )
}

/// Replaces the operator key of `authority`'s node.
pub fn set_operator(authority: &Pubkey, new_operator: &Pubkey) -> Instruction {
    build(
        accounts::SetOperator {
            authority: *authority,
            provider: pda::provider(authority),
            event_authority: pda::event_authority(&crate::program_ids::provider_registry()),
            program: crate::program_ids::provider_registry(),
        },
        instruction::SetOperator {
            args: SetOperatorArgs {
                new_operator: *new_operator,
            },
        },
    )
}

/// Pauses `authority`'s node; `signer` is its authority or operator.
pub fn pause_provider(signer: &Pubkey, authority: &Pubkey) -> Instruction {
    build(
        accounts::PauseProvider {
            signer: *signer,
            provider: pda::provider(authority),
            event_authority: pda::event_authority(&crate::program_ids::provider_registry()),
            program: crate::program_ids::provider_registry(),
        },
        instruction::PauseProvider {},
    )
}

/// Resumes `authority`'s paused node; `signer` is its authority or operator.
pub fn resume_provider(signer: &Pubkey, authority: &Pubkey) -> Instruction {
    build(
        accounts::ResumeProvider {
            signer: *signer,
            provider: pda::provider(authority),
            event_authority: pda::event_authority(&crate::program_ids::provider_registry()),
            program: crate::program_ids::provider_registry(),
        },
        instruction::ResumeProvider {},
    )
}

/// A liveness heartbeat for `authority`'s node, signed by its operator.
pub fn heartbeat(operator: &Pubkey, authority: &Pubkey) -> Instruction {
    build(
        accounts::Heartbeat {
            operator: *operator,
            provider: pda::provider(authority),
            event_authority: pda::event_authority(&crate::program_ids::provider_registry()),
            program: crate::program_ids::provider_registry(),
        },
        instruction::Heartbeat {},
    )
}

/// An auditor's attestation of the spec whose hash is `spec_hash`.
pub fn attest_provider(auditor: &Pubkey, authority: &Pubkey, spec_hash: [u8; 32]) -> Instruction {
    build(
        accounts::AttestProvider {
            auditor: *auditor,
            config: pda::registry_config(),
            provider: pda::provider(authority),
            event_authority: pda::event_authority(&crate::program_ids::provider_registry()),
            program: crate::program_ids::provider_registry(),
        },
        instruction::AttestProvider {
            args: AttestProviderArgs { spec_hash },
        },
    )
}

/// Starts the exit notice of `authority`'s node.
pub fn begin_exit(authority: &Pubkey) -> Instruction {
    build(
        accounts::BeginExit {
            authority: *authority,
            config: pda::registry_config(),
            provider: pda::provider(authority),
            event_authority: pda::event_authority(&crate::program_ids::provider_registry()),
            program: crate::program_ids::provider_registry(),
        },
        instruction::BeginExit {},
    )
}

/// Closes `authority`'s node after its notice; rent goes back to `authority`.
pub fn retire_provider(authority: &Pubkey) -> Instruction {
    build(
        accounts::RetireProvider {
            authority: *authority,
            config: pda::registry_config(),
            provider: pda::provider(authority),
            event_authority: pda::event_authority(&crate::program_ids::provider_registry()),
            program: crate::program_ids::provider_registry(),
        },
        instruction::RetireProvider {},
    )
}

/// Reserves `gpus` of `authority`'s node; valid only inside a CPI signed by the escrow
/// authority PDA.
pub fn reserve_capacity(escrow_authority: &Pubkey, authority: &Pubkey, gpus: u16) -> Instruction {
    build(
        accounts::ReserveCapacity {
            escrow_authority: *escrow_authority,
            config: pda::registry_config(),
            provider: pda::provider(authority),
            event_authority: pda::event_authority(&crate::program_ids::provider_registry()),
            program: crate::program_ids::provider_registry(),
        },
        instruction::ReserveCapacity {
            args: CapacityArgs { gpus },
        },
    )
}

/// Releases `gpus` of `authority`'s node; CPI-only, like [`reserve_capacity`].
pub fn release_capacity(escrow_authority: &Pubkey, authority: &Pubkey, gpus: u16) -> Instruction {
    build(
        accounts::ReleaseCapacity {
            escrow_authority: *escrow_authority,
            config: pda::registry_config(),
            provider: pda::provider(authority),
            event_authority: pda::event_authority(&crate::program_ids::provider_registry()),
            program: crate::program_ids::provider_registry(),
        },
        instruction::ReleaseCapacity {
            args: CapacityArgs { gpus },
        },
    )
}

/// Records a job outcome in `authority`'s reputation and frees the GPUs the job still held;
/// CPI-only, like [`reserve_capacity`].
pub fn record_outcome(
    escrow_authority: &Pubkey,
    authority: &Pubkey,
    args: RecordOutcomeArgs,
) -> Instruction {
    build(
        accounts::RecordOutcome {
            escrow_authority: *escrow_authority,
            config: pda::registry_config(),
            provider: pda::provider(authority),
            event_authority: pda::event_authority(&crate::program_ids::provider_registry()),
            program: crate::program_ids::provider_registry(),
        },
        instruction::RecordOutcome { args },
    )
}
