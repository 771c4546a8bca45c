use crate::{error::StakingError, math};
use anchor_lang::prelude::*;

/// Why a stake was slashed; carried in `StakeSlashed` so an indexer can tell faults apart.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlashReason {
    /// The provider accepted a job and never started it.
    NoStart,
    /// The provider's job heartbeats stopped for longer than the grace.
    HeartbeatLost,
    /// No result by the job's deadline.
    NoResult,
    /// The arbiter ruled against the provider in a dispute.
    DisputeLost,
    /// The provider's result differed from the answer a known-answer (canary) job's client
    /// committed to at creation.
    WrongResult,
}

/// One owner's collateral: active stake backs registered GPUs, unbonding stake waits out
/// the cooldown and remains slashable until it is withdrawn.
#[account]
#[derive(InitSpace, Debug)]
pub struct StakeAccount {
    pub owner: Pubkey,
    pub active: u64,
    pub unbonding: u64,
    /// Zero while nothing is unbonding.
    pub unbonding_ends_at: i64,
    pub total_slashed: u64,
    /// Part of `active` that backs jobs a provider holds: it cannot be unbonded until the
    /// job escrow unlocks it when the job ends, and it is slashed first.
    pub locked: u64,
    pub bump: u8,
}

/// Where a slash was taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlashTaken {
    pub from_active: u64,
    pub from_unbonding: u64,
}

impl SlashTaken {
    pub fn total(&self) -> Result<u64> {
        math::add(self.from_active, self.from_unbonding)
    }
}

impl StakeAccount {
    pub const SEED: &'static [u8] = b"stake";
    pub const SPACE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;

    pub fn deposit(&mut self, amount: u64) -> Result<()> {
        require!(amount > 0, StakingError::ZeroAmount);
        self.active = math::add(self.active, amount)?;
        Ok(())
    }

    /// Moves `amount` from active to unbonding. The cooldown restarts for everything that is
    /// unbonding, so a late request cannot ride an earlier request's timer.
    pub fn begin_unbonding(&mut self, amount: u64, now: i64, period: i64) -> Result<()> {
        require!(amount > 0, StakingError::ZeroAmount);
        require!(amount <= self.active, StakingError::InsufficientActiveStake);
        require!(amount <= self.unlocked(), StakingError::StakeLocked);
        self.active = math::sub(self.active, amount)?;
        self.unbonding = math::add(self.unbonding, amount)?;
        self.unbonding_ends_at = now
            .checked_add(period)
            .ok_or(error!(StakingError::MathOverflow))?;
        Ok(())
    }

    /// Active stake not backing any job.
    pub fn unlocked(&self) -> u64 {
        self.active.saturating_sub(self.locked)
    }

    /// Locks `amount` of unlocked active stake behind a job.
    pub fn lock(&mut self, amount: u64) -> Result<()> {
        require!(
            amount <= self.unlocked(),
            StakingError::InsufficientUnlockedStake
        );
        self.locked = math::add(self.locked, amount)?;
        Ok(())
    }

    /// Releases a job's lock. Saturates: a slash may already have taken locked stake, and
    /// the ending of a job must never be blocked by the bookkeeping of its collateral.
    pub fn unlock(&mut self, amount: u64) -> u64 {
        let released = amount.min(self.locked);
        self.locked = self.locked.saturating_sub(released);
        released
    }

    /// Returns everything unbonding to active; the amount moved.
    pub fn cancel_unbonding(&mut self) -> Result<u64> {
        require!(self.unbonding > 0, StakingError::NothingUnbonding);
        let amount = self.unbonding;
        self.active = math::add(self.active, amount)?;
        self.unbonding = 0;
        self.unbonding_ends_at = 0;
        Ok(amount)
    }

    /// Releases the unbonded amount once the cooldown has ended.
    pub fn take_unbonded(&mut self, now: i64) -> Result<u64> {
        require!(self.unbonding > 0, StakingError::NothingUnbonding);
        require!(
            now >= self.unbonding_ends_at,
            StakingError::CooldownNotElapsed
        );
        let amount = self.unbonding;
        self.unbonding = 0;
        self.unbonding_ends_at = 0;
        Ok(amount)
    }

    /// Takes up to `amount`: active stake first, then unbonding stake. Clamps at what is
    /// there, so a slash larger than the stake empties it and never underflows.
    pub fn slash(&mut self, amount: u64) -> Result<SlashTaken> {
        require!(amount > 0, StakingError::ZeroAmount);
        require!(
            self.active > 0 || self.unbonding > 0,
            StakingError::NothingToSlash
        );
        let from_active = amount.min(self.active);
        let rest = math::sub(amount, from_active)?;
        let from_unbonding = rest.min(self.unbonding);
        self.active = math::sub(self.active, from_active)?;
        self.unbonding = math::sub(self.unbonding, from_unbonding)?;
        // Locked stake is part of active; whatever a slash took from it is no longer there
        // to back other jobs.
        self.locked = self.locked.min(self.active);
        if self.unbonding == 0 {
            self.unbonding_ends_at = 0;
        }
        let taken = SlashTaken {
            from_active,
            from_unbonding,
        };
        self.total_slashed = math::add(self.total_slashed, taken.total()?)?;
        Ok(taken)
    }

    pub fn invariant(&self) -> Result<()> {
        require!(
            (self.unbonding == 0) == (self.unbonding_ends_at == 0),
            StakingError::InvariantViolated
        );
        require!(self.locked <= self.active, StakingError::InvariantViolated);
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests;
