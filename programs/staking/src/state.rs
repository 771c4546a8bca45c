pub mod config;
pub mod stake_account;

pub use config::*;
pub use stake_account::*;
