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
        self.active = math::sub(self.active, amount)?;
        self.unbonding = math::add(self.unbonding, amount)?;
        self.unbonding_ends_at = now
            .checked_add(period)
            .ok_or(error!(StakingError::MathOverflow))?;
        Ok(())
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
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn account(active: u64, unbonding: u64) -> StakeAccount {
        StakeAccount {
            owner: Pubkey::new_unique(),
            active,
            unbonding,
            unbonding_ends_at: if unbonding > 0 { 100 } else { 0 },
            total_slashed: 0,
            bump: 255,
        }
    }

    #[test]
    fn slash_takes_active_then_unbonding() {
        let mut stake = account(50, 30);
        let taken = stake.slash(70).unwrap();
        assert_eq!(
            taken,
            SlashTaken {
                from_active: 50,
                from_unbonding: 20
            }
        );
        assert_eq!(
            (stake.active, stake.unbonding, stake.total_slashed),
            (0, 10, 70)
        );
        stake.invariant().unwrap();
    }

    #[test]
    fn slash_clamps_at_the_stake() {
        let mut stake = account(5, 3);
        let taken = stake.slash(u64::MAX).unwrap();
        assert_eq!(taken.total().unwrap(), 8);
        assert_eq!(
            (stake.active, stake.unbonding, stake.unbonding_ends_at),
            (0, 0, 0)
        );
        stake.invariant().unwrap();
        assert_eq!(
            stake.slash(1).unwrap_err(),
            error!(StakingError::NothingToSlash)
        );
    }

    #[derive(Debug, Clone)]
    enum Op {
        Deposit(u64),
        Unbond(u64),
        Cancel,
        Withdraw,
        Slash(u64),
        Wait(i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (1..1_000_000u64).prop_map(Op::Deposit),
            (0..1_500_000u64).prop_map(Op::Unbond),
            Just(Op::Cancel),
            Just(Op::Withdraw),
            (0..2_000_000u64).prop_map(Op::Slash),
            (0..200i64).prop_map(Op::Wait),
        ]
    }

    proptest! {
        /// Whatever the order of operations, every token deposited is still staked,
        /// unbonding, withdrawn or slashed: none is created or lost.
        #[test]
        fn tokens_are_conserved(ops in proptest::collection::vec(op(), 1..60)) {
            let mut stake = account(0, 0);
            let (mut now, mut deposited, mut withdrawn) = (0i64, 0u64, 0u64);
            for op in ops {
                // Rejected operations must leave the account as it was.
                let before = (stake.active, stake.unbonding, stake.unbonding_ends_at);
                let ok = match op {
                    Op::Deposit(n) => stake.deposit(n).map(|_| deposited += n).is_ok(),
                    Op::Unbond(n) => stake.begin_unbonding(n, now, 100).is_ok(),
                    Op::Cancel => stake.cancel_unbonding().is_ok(),
                    Op::Withdraw => stake.take_unbonded(now).map(|n| withdrawn += n).is_ok(),
                    Op::Slash(n) => stake.slash(n).is_ok(),
                    Op::Wait(s) => { now += s; true }
                };
                if !ok {
                    prop_assert_eq!(before, (stake.active, stake.unbonding, stake.unbonding_ends_at));
                }
                stake.invariant().unwrap();
                prop_assert_eq!(
                    u128::from(stake.active) + u128::from(stake.unbonding)
                        + u128::from(withdrawn) + u128::from(stake.total_slashed),
                    u128::from(deposited)
                );
            }
        }
    }

    #[test]
    fn unbonding_restarts_the_cooldown() {
        let mut stake = account(100, 0);
        stake.begin_unbonding(10, 1_000, 60).unwrap();
        stake.begin_unbonding(10, 1_030, 60).unwrap();
        assert_eq!(
            (stake.active, stake.unbonding, stake.unbonding_ends_at),
            (80, 20, 1_090)
        );
        assert_eq!(
            stake.take_unbonded(1_089).unwrap_err(),
            error!(StakingError::CooldownNotElapsed)
        );
        assert_eq!(stake.take_unbonded(1_090).unwrap(), 20);
        stake.invariant().unwrap();
    }
}
