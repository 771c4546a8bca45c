pub mod config;
pub mod epoch;
pub mod rewards;

pub use config::*;
pub use epoch::*;
pub use rewards::*;

#[cfg(test)]
mod tests;
