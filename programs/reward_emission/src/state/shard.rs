use crate::constants::SHARDS;
use anchor_lang::prelude::*;

/// One of [`SHARDS`] accumulators of folded uptime weight. Each provider folds into the
/// shard its key picks ([`shard_of`]), so folds spread over shards, and a shard carries one
/// epoch at a time: the epoch it holds must be finalized (tallied) before it takes the next.
#[account]
#[derive(InitSpace, Debug)]
pub struct UptimeShard {
    pub index: u8,
    pub epoch: u64,
    pub weight: u128,
    /// Provider records folded into this shard in `epoch`.
    pub providers: u64,
    /// Whether `epoch` was finalized with this shard's weight in its total.
    pub tallied: bool,
    pub bump: u8,
}

impl UptimeShard {
    pub const SEED: &'static [u8] = b"shard";
    pub const SPACE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;

    /// Whether weight of `epoch` may be folded in: the shard holds `epoch` untallied, or
    /// holds nothing that still waits for its epoch's total.
    pub fn accepts(&self, epoch: u64) -> bool {
        if self.epoch == epoch {
            !self.tallied
        } else {
            self.epoch < epoch && (self.tallied || self.weight == 0)
        }
    }
}

/// The shard the reward record of provider account `provider` folds into.
pub fn shard_of(provider: &Pubkey) -> u8 {
    provider.to_bytes()[0] % SHARDS
}
