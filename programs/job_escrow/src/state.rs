pub mod config;
pub mod job;
pub mod replica;

pub use config::*;
pub use job::*;
pub use replica::*;
