use crate::{constants::BPS_DENOMINATOR, error::EmissionError};
use anchor_lang::prelude::*;

/// The emission schedule and its running totals.
///
/// Epoch `n` covers `[genesis_time + n * epoch_length, genesis_time + (n + 1) * epoch_length)`.
/// Every `decay_period_epochs` epochs the per-epoch emission shrinks by `decay_bps`:
/// `E(period k) = E(0) * ((10000 - decay_bps) / 10000)^k`, computed in closed form by
/// [`crate::math::period_emission`] and rounded down, `E(0)` the first-epoch emission. An
/// epoch's emission is fixed when its account opens and never passes what the hard cap
/// leaves, so the total ever minted is bounded and known in advance.
#[account]
#[derive(InitSpace, Debug)]
pub struct EmissionConfig {
    pub admin: Pubkey,
    /// Minted only by this program: its authority is the `["mint_authority"]` PDA.
    pub reward_mint: Pubkey,
    pub mint_authority_bump: u8,
    pub genesis_time: i64,
    pub epoch_length: i64,
    pub first_epoch_emission: u64,
    pub decay_bps: u16,
    pub decay_period_epochs: u64,
    /// The cap set at init; the admin may lower the cap but never raise it past this.
    pub initial_cap: u64,
    pub hard_cap: u64,
    /// Sum of the emissions of every epoch opened so far.
    pub total_allocated: u64,
    pub total_minted: u64,
    pub bump: u8,
}

impl EmissionConfig {
    pub const SEED: &'static [u8] = b"config";
    pub const MINT_AUTHORITY_SEED: &'static [u8] = b"mint_authority";
    pub const SPACE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;

    /// The epoch `now` falls in.
    pub fn epoch_at(&self, now: i64) -> Result<u64> {
        let since = now
            .checked_sub(self.genesis_time)
            .ok_or(error!(EmissionError::MathOverflow))?;
        require!(since >= 0, EmissionError::BeforeGenesis);
        // Unsigned division: SBF has no signed 64-bit division instruction.
        let since = u64::try_from(since).map_err(|_| error!(EmissionError::MathOverflow))?;
        let epoch_length =
            u64::try_from(self.epoch_length).map_err(|_| error!(EmissionError::MathOverflow))?;
        since
            .checked_div(epoch_length)
            .ok_or(error!(EmissionError::MathOverflow))
    }

    /// Fixes the emission of a newly opened epoch `epoch` and books it against the cap.
    pub fn open_epoch(&mut self, epoch: u64) -> Result<u64> {
        let period = epoch
            .checked_div(self.decay_period_epochs)
            .ok_or(error!(EmissionError::MathOverflow))?;
        let scheduled =
            crate::math::period_emission(self.first_epoch_emission, self.decay_bps, period)?;
        let left = self.hard_cap.saturating_sub(self.total_allocated);
        let emission = scheduled.min(left);
        self.total_allocated = self
            .total_allocated
            .checked_add(emission)
            .ok_or(error!(EmissionError::MathOverflow))?;
        Ok(emission)
    }

    pub fn invariant(&self) -> Result<()> {
        require!(
            self.epoch_length > 0
                && self.decay_period_epochs > 0
                && self.first_epoch_emission > 0
                && u64::from(self.decay_bps) <= BPS_DENOMINATOR,
            EmissionError::InvalidSchedule
        );
        require!(
            self.hard_cap <= self.initial_cap
                && self.total_allocated <= self.hard_cap
                && self.total_minted <= self.total_allocated,
            EmissionError::InvalidCap
        );
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests;
