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

/// The gpu-market programs, by crate name (also the name of each `.so` file), at the ids
/// they are built with: where a local chain loads them. A cluster's ids are
/// [`program_ids::get`].
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

/// Program ids of the gpu-market programs: those the programs are built with
/// (`declare_id!`), unless the environment names others for a deployment of its own
/// (see [`program_ids::from_env`]). Every instruction, PDA and account scan of this crate
/// uses [`program_ids::get`].
pub mod program_ids {
    use super::Pubkey;
    use std::sync::OnceLock;

    /// The job escrow program, as built.
    pub const JOB_ESCROW: Pubkey = job_escrow::ID;
    /// The provider registry program, as built.
    pub const PROVIDER_REGISTRY: Pubkey = provider_registry::ID;
    /// The reward emission program, as built.
    pub const REWARD_EMISSION: Pubkey = reward_emission::ID;
    /// The staking program, as built.
    pub const STAKING: Pubkey = staking::ID;

    /// The environment variables that override each program's id, by program.
    pub const ENV: [(&str, &str); 4] = [
        ("staking", "GPU_MARKET_STAKING_PROGRAM"),
        ("provider_registry", "GPU_MARKET_PROVIDER_REGISTRY_PROGRAM"),
        ("job_escrow", "GPU_MARKET_JOB_ESCROW_PROGRAM"),
        ("reward_emission", "GPU_MARKET_REWARD_EMISSION_PROGRAM"),
    ];

    /// The four programs' ids on a cluster.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct ProgramIds {
        pub staking: Pubkey,
        pub provider_registry: Pubkey,
        pub job_escrow: Pubkey,
        pub reward_emission: Pubkey,
    }

    impl Default for ProgramIds {
        /// The ids the programs are built with.
        fn default() -> Self {
            Self {
                staking: STAKING,
                provider_registry: PROVIDER_REGISTRY,
                job_escrow: JOB_ESCROW,
                reward_emission: REWARD_EMISSION,
            }
        }
    }

    impl ProgramIds {
        /// Each program's name and id.
        pub fn all(&self) -> [(&'static str, Pubkey); 4] {
            [
                ("staking", self.staking),
                ("provider_registry", self.provider_registry),
                ("job_escrow", self.job_escrow),
                ("reward_emission", self.reward_emission),
            ]
        }

        /// The built ids, with those `var` (an environment lookup) gives in their place.
        pub fn with_overrides(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
            let mut ids = Self::default();
            let slots = [
                &mut ids.staking,
                &mut ids.provider_registry,
                &mut ids.job_escrow,
                &mut ids.reward_emission,
            ];
            // `ENV` lists the programs in the order of `slots`.
            for ((_, key), slot) in ENV.iter().zip(slots) {
                if let Some(value) = var(key) {
                    *slot = value.trim().parse().map_err(|_| {
                        format!("{key}={value:?} is not a program id (a base58 public key)")
                    })?;
                }
            }
            Ok(ids)
        }
    }

    static IDS: OnceLock<ProgramIds> = OnceLock::new();

    /// The ids of the built programs, overridden by any of [`ENV`] set in the environment.
    pub fn from_env() -> Result<ProgramIds, String> {
        ProgramIds::with_overrides(|key| std::env::var(key).ok().filter(|v| !v.is_empty()))
    }

    /// Makes `ids` the ids this process uses. Only before the first [`get`]: afterwards
    /// (or a second time) it is refused, so no instruction is ever built with one set of
    /// ids and sent with another.
    pub fn set(ids: ProgramIds) -> Result<(), String> {
        IDS.set(ids)
            .map_err(|_| "the program ids are already in use: set them once, first".to_string())
    }

    /// The ids in use: those [`set`] gave, else the built ones.
    pub fn get() -> ProgramIds {
        *IDS.get_or_init(ProgramIds::default)
    }

    /// The job escrow program in use.
    pub fn job_escrow() -> Pubkey {
        get().job_escrow
    }

    /// The provider registry program in use.
    pub fn provider_registry() -> Pubkey {
        get().provider_registry
    }

    /// The reward emission program in use.
    pub fn reward_emission() -> Pubkey {
        get().reward_emission
    }

    /// The staking program in use.
    pub fn staking() -> Pubkey {
        get().staking
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_environment_overrides_each_program_and_a_bad_id_is_named() {
            let other = Pubkey::new_unique();
            let ids = ProgramIds::with_overrides(|key| {
                (key == "GPU_MARKET_JOB_ESCROW_PROGRAM").then(|| other.to_string())
            })
            .unwrap();
            assert_eq!(
                ids,
                ProgramIds {
                    job_escrow: other,
                    ..ProgramIds::default()
                }
            );
            let err = ProgramIds::with_overrides(|key| {
                (key == "GPU_MARKET_STAKING_PROGRAM").then(|| "nope".to_string())
            })
            .unwrap_err();
            assert_eq!(
                err,
                "GPU_MARKET_STAKING_PROGRAM=\"nope\" is not a program id (a base58 public key)"
            );
        }
    }
}
