use crate::{error::EmissionError, state::Epoch};
use anchor_lang::prelude::*;

/// A provider's reward record: the epoch it last recorded uptime in with its weight there,
/// and everything settled from finished epochs but not yet claimed.
#[account]
#[derive(InitSpace, Debug)]
pub struct ProviderRewards {
    /// The registry's provider account.
    pub provider: Pubkey,
    pub current_epoch: u64,
    pub current_weight: u64,
    pub unclaimed: u64,
    pub total_claimed: u64,
    pub last_recorded_at: i64,
    pub bump: u8,
}

impl ProviderRewards {
    pub const SEED: &'static [u8] = b"rewards";
    pub const SPACE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;

    /// Whether the epoch this record holds weight in is over by epoch `now_epoch`.
    pub fn needs_settling(&self, now_epoch: u64) -> bool {
        self.current_weight > 0 && self.current_epoch < now_epoch
    }

    /// Moves the share of the finished epoch `epoch` (the one this record holds weight in)
    /// into `unclaimed`, in O(1). Returns the amount settled.
    pub fn settle(&mut self, epoch: &Epoch) -> Result<u64> {
        require!(epoch.epoch == self.current_epoch, EmissionError::WrongEpoch);
        if self.current_weight == 0 || epoch.total_weight == 0 {
            return Ok(0);
        }
        let share = u128::from(self.current_weight)
            .checked_mul(u128::from(epoch.emission))
            .and_then(|v| v.checked_div(epoch.total_weight))
            .ok_or(error!(EmissionError::MathOverflow))?;
        let share = u64::try_from(share).map_err(|_| error!(EmissionError::MathOverflow))?;
        self.unclaimed = self
            .unclaimed
            .checked_add(share)
            .ok_or(error!(EmissionError::MathOverflow))?;
        self.current_weight = 0;
        Ok(share)
    }
}
