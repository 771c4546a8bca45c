//! Fixtures shared by the gpu-market test suites: a configured market on an in-process
//! chain, funded wallets, stakes and providers, and an exact-error assertion.

pub mod any_chain;
pub mod escrow;
pub mod fixtures;
pub mod proxy;
pub mod rewards;

pub use fixtures::*;
