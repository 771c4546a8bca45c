pub mod config;
pub mod epoch;
pub mod rewards;
pub mod shard;

pub use config::*;
pub use epoch::*;
pub use rewards::*;
pub use shard::*;

#[cfg(test)]
mod tests;
