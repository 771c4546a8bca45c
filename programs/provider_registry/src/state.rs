pub mod config;
pub mod provider;

pub use config::*;
pub use provider::*;
