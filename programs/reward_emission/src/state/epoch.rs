use anchor_lang::prelude::*;

/// A finalized epoch: its emission and the uptime weight folded into it. It exists only
/// once the epoch's fold window has closed, so its total is final, and each provider whose
/// weight was folded earns `weight * emission / total_weight`, rounded down.
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
