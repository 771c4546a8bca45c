//! Program-derived addresses of the gpu-market programs, from the programs' own seeds.

use anchor_lang::solana_program::pubkey::Pubkey;
use job_escrow::state::{Job, MarketConfig, ReplicaGroup};
use provider_registry::state::{Provider, RegistryConfig};
use reward_emission::state::{EmissionConfig, Epoch, ProviderRewards, UptimeShard};
use staking::state::{StakeAccount, StakingConfig};

/// The staking program's config.
pub fn staking_config() -> Pubkey {
    Pubkey::find_program_address(&[StakingConfig::SEED], &crate::program_ids::staking()).0
}

/// The pooled stake vault.
pub fn staking_vault() -> Pubkey {
    Pubkey::find_program_address(&[StakingConfig::VAULT_SEED], &crate::program_ids::staking()).0
}

/// `owner`'s stake account.
pub fn stake_account(owner: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[StakeAccount::SEED, owner.as_ref()],
        &crate::program_ids::staking(),
    )
    .0
}

/// The provider registry's config.
pub fn registry_config() -> Pubkey {
    Pubkey::find_program_address(
        &[RegistryConfig::SEED],
        &crate::program_ids::provider_registry(),
    )
    .0
}

/// The provider account of the node whose cold wallet is `authority`.
pub fn provider(authority: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[Provider::SEED, authority.as_ref()],
        &crate::program_ids::provider_registry(),
    )
    .0
}

/// The job escrow's market config.
pub fn market_config() -> Pubkey {
    Pubkey::find_program_address(&[MarketConfig::SEED], &crate::program_ids::job_escrow()).0
}

/// The job escrow's authority PDA: the registry's escrow authority and a staking slasher.
pub fn escrow_authority() -> Pubkey {
    Pubkey::find_program_address(
        &[MarketConfig::AUTHORITY_SEED],
        &crate::program_ids::job_escrow(),
    )
    .0
}

/// Job `job_id` of `client`.
pub fn job(client: &Pubkey, job_id: u64) -> Pubkey {
    Pubkey::find_program_address(
        &[Job::SEED, client.as_ref(), &job_id.to_le_bytes()],
        &crate::program_ids::job_escrow(),
    )
    .0
}

/// The replica group `group_id` of `client`.
pub fn replica_group(client: &Pubkey, group_id: u64) -> Pubkey {
    Pubkey::find_program_address(
        &[ReplicaGroup::SEED, client.as_ref(), &group_id.to_le_bytes()],
        &crate::program_ids::job_escrow(),
    )
    .0
}

/// The escrow vault of `job`.
pub fn job_vault(job: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[Job::VAULT_SEED, job.as_ref()],
        &crate::program_ids::job_escrow(),
    )
    .0
}

/// The reward emission config.
pub fn emission_config() -> Pubkey {
    Pubkey::find_program_address(
        &[EmissionConfig::SEED],
        &crate::program_ids::reward_emission(),
    )
    .0
}

/// The PDA that is the reward mint's only mint authority.
pub fn reward_mint_authority() -> Pubkey {
    Pubkey::find_program_address(
        &[EmissionConfig::MINT_AUTHORITY_SEED],
        &crate::program_ids::reward_emission(),
    )
    .0
}

/// Reward epoch `epoch`.
pub fn reward_epoch(epoch: u64) -> Pubkey {
    Pubkey::find_program_address(
        &[Epoch::SEED, &epoch.to_le_bytes()],
        &crate::program_ids::reward_emission(),
    )
    .0
}

/// Uptime shard `index` (below `reward_emission::constants::SHARDS`).
pub fn uptime_shard(index: u8) -> Pubkey {
    Pubkey::find_program_address(
        &[UptimeShard::SEED, &[index]],
        &crate::program_ids::reward_emission(),
    )
    .0
}

/// The reward record of the provider account `provider`.
pub fn provider_rewards(provider: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[ProviderRewards::SEED, provider.as_ref()],
        &crate::program_ids::reward_emission(),
    )
    .0
}

/// The event-authority PDA of `program` (Anchor's `#[event_cpi]`): it signs the program's
/// calls into itself that carry its events.
pub fn event_authority(program: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[staking::events::EVENT_AUTHORITY_SEED], program).0
}
