pub mod config;
pub mod job;

pub use config::*;
pub use job::*;
