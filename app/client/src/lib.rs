//! gpu-market client: PDA helpers, instruction builders, account decoding and event
//! parsing for the gpu-market programs, and the [`Chain`] trait that scenario code, the CLI
//! and the provider agent are written against.
//!
//! Builders are pure functions returning [`Instruction`]s; all I/O goes through [`Chain`]:
//! [`RpcChain`] talks to a cluster, and the `gpu-market-in-process` crate runs every program
//! inside the process (for tests, the demo and the CLI's own tests), so the same code runs
//! in `cargo test` and against a cluster. The matcher (`gpu-market-matcher`) and the
//! provider agent (`gpu-market-agent`) are crates of their own on top of this one.

pub mod archive;
pub mod chain;
pub mod cli_config;
pub mod compute;
pub mod driver;
pub mod error;
pub mod escrow;
pub mod events;
pub mod filters;
pub mod hex;
pub mod manifest;
pub mod market;
pub mod node_api;
pub mod pda;
pub mod registry;
pub mod rewards;
pub mod serde_key;
pub mod staking;
pub mod token;
pub mod units;

/// The gpu-market programs, by crate name (also the name of each `.so` file).
pub const PROGRAMS: [(&str, Pubkey); 4] = [
    ("staking", ::staking::ID),
    ("provider_registry", ::provider_registry::ID),
    ("job_escrow", ::job_escrow::ID),
    ("reward_emission", ::reward_emission::ID),
];

pub use anchor_lang::solana_program::instruction::Instruction;
pub use anchor_lang::solana_program::pubkey::Pubkey;
pub use chain::rpc::RpcChain;
pub use chain::{
    counting::{Counting, Reads},
    Chain, Memcmp, PastSignature, TxOutcome, MAX_FILTERS,
};
pub use error::ClientError;
pub use solana_instruction_error::InstructionError;
pub use solana_keypair::Keypair;
pub use solana_signature::Signature;
pub use solana_signer::Signer;

/// Program ids of the gpu-market programs.
pub mod program_ids {
    use super::Pubkey;

    /// The job escrow program.
    pub const JOB_ESCROW: Pubkey = job_escrow::ID;
    /// The provider registry program.
    pub const PROVIDER_REGISTRY: Pubkey = provider_registry::ID;
    /// The reward emission program.
    pub const REWARD_EMISSION: Pubkey = reward_emission::ID;
    /// The staking program.
    pub const STAKING: Pubkey = staking::ID;
}
