//! Program-derived addresses of the gpu-market programs, from the programs' own seeds.

use anchor_lang::solana_program::pubkey::Pubkey;
use provider_registry::state::{Provider, RegistryConfig};
use staking::state::{StakeAccount, StakingConfig};

/// The staking program's config.
pub fn staking_config() -> Pubkey {
    Pubkey::find_program_address(&[StakingConfig::SEED], &staking::ID).0
}

/// The pooled stake vault.
pub fn staking_vault() -> Pubkey {
    Pubkey::find_program_address(&[StakingConfig::VAULT_SEED], &staking::ID).0
}

/// `owner`'s stake account.
pub fn stake_account(owner: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[StakeAccount::SEED, owner.as_ref()], &staking::ID).0
}

/// The provider registry's config.
pub fn registry_config() -> Pubkey {
    Pubkey::find_program_address(&[RegistryConfig::SEED], &provider_registry::ID).0
}

/// The provider account of the node whose cold wallet is `authority`.
pub fn provider(authority: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[Provider::SEED, authority.as_ref()],
        &provider_registry::ID,
    )
    .0
}
