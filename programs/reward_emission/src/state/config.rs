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
///
/// Uptime is recorded in each provider's own account, at most once per `record_interval`.
/// When epoch `n` ends its fold window opens (a quarter of an epoch, [`Self::fold_window`]):
/// anyone may fold the providers' weight into [`crate::state::UptimeShard`]s, and once the
/// window has closed anyone may finalize the epoch, which sums the shards, fixes the epoch's
/// emission and books it against the cap. No periodic transaction of a node writes an
/// account another node writes.
#[account]
#[derive(InitSpace, Debug)]
pub struct EmissionConfig {
    pub admin: Pubkey,
    /// Minted only by this program: its authority is the `["mint_authority"]` PDA.
    pub reward_mint: Pubkey,
    pub mint_authority_bump: u8,
    pub genesis_time: i64,
    pub epoch_length: i64,
    /// The shortest time between two uptime records of one provider: each record weighs the
    /// same, so this sets how many a live node sends per epoch.
    pub record_interval: i64,
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

    /// When epoch `epoch` ends.
    pub fn epoch_end(&self, epoch: u64) -> Result<i64> {
        let epochs = epoch
            .checked_add(1)
            .and_then(|e| i64::try_from(e).ok())
            .ok_or(error!(EmissionError::MathOverflow))?;
        epochs
            .checked_mul(self.epoch_length)
            .and_then(|span| span.checked_add(self.genesis_time))
            .ok_or(error!(EmissionError::MathOverflow))
    }

    /// How long after an epoch ends its uptime may be folded: a quarter of an epoch, at
    /// least one second.
    pub fn fold_window(&self) -> i64 {
        // Unsigned division: SBF has no signed 64-bit division instruction.
        let length = u64::try_from(self.epoch_length).unwrap_or(0);
        i64::try_from(length / 4).unwrap_or(i64::MAX).max(1)
    }

    /// When the fold window of `epoch` closes and the epoch may be finalized.
    pub fn fold_closes(&self, epoch: u64) -> Result<i64> {
        self.epoch_end(epoch)?
            .checked_add(self.fold_window())
            .ok_or(error!(EmissionError::MathOverflow))
    }

    /// Fixes the emission of epoch `epoch` as it is finalized and books it against the cap.
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
                && self.record_interval > 0
                && self.record_interval <= self.epoch_length
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
