use anchor_lang::prelude::*;

/// One epoch: its emission, fixed when the account opens, and the uptime weight recorded in
/// it. Once the epoch is over its total weight is final, and each provider's share is
/// `weight * emission / total_weight`, rounded down.
#[account]
#[derive(InitSpace, Debug)]
pub struct Epoch {
    pub epoch: u64,
    pub emission: u64,
    pub total_weight: u128,
    pub bump: u8,
}

impl Epoch {
    pub const SEED: &'static [u8] = b"epoch";
    pub const SPACE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;
}
