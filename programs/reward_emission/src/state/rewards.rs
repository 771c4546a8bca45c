use crate::{error::EmissionError, state::Epoch};
use anchor_lang::prelude::*;

/// Uptime weight a provider recorded in one epoch, and whether it was folded into the
/// epoch's total. An empty slot has no weight.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct EpochWeight {
    pub epoch: u64,
    pub weight: u64,
    pub folded: bool,
}

impl EpochWeight {
    pub fn is_empty(&self) -> bool {
        self.weight == 0
    }
}

/// What settling one finished epoch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Settled {
    /// Moved into `unclaimed`.
    pub paid: u64,
    /// Weight that was never folded into the epoch's total, and so earns nothing.
    pub forfeited: u64,
}

/// A provider's reward record, written only by its own records and claims and by folds of
/// its weight. It holds the weight of at most two epochs: the last one it recorded in, and
/// one finished epoch before it still waiting to be settled against its finalized total.
#[account]
#[derive(InitSpace, Debug)]
pub struct ProviderRewards {
    /// The registry's provider account.
    pub provider: Pubkey,
    /// A finished epoch whose total is not settled yet.
    pub earlier: EpochWeight,
    /// The epoch this provider last recorded in.
    pub latest: EpochWeight,
    pub unclaimed: u64,
    pub total_claimed: u64,
    pub last_recorded_at: i64,
    pub bump: u8,
}

impl ProviderRewards {
    pub const SEED: &'static [u8] = b"rewards";
    pub const SPACE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;

    /// The finished epochs (before `now_epoch`) whose weight still waits to be settled,
    /// oldest first.
    pub fn unsettled(&self, now_epoch: u64) -> Vec<u64> {
        [self.earlier, self.latest]
            .iter()
            .filter(|slot| !slot.is_empty() && slot.epoch < now_epoch)
            .map(|slot| slot.epoch)
            .collect()
    }

    /// Settles the finished epoch `epoch` (finalized: its account exists) in O(1): a folded
    /// weight's share moves into `unclaimed`, a weight never folded is forfeited, and the
    /// slot empties.
    pub fn settle(&mut self, epoch: &Epoch, now_epoch: u64) -> Result<Settled> {
        require!(epoch.epoch < now_epoch, EmissionError::WrongEpoch);
        let slot = [&mut self.earlier, &mut self.latest]
            .into_iter()
            .find(|slot| !slot.is_empty() && slot.epoch == epoch.epoch)
            .ok_or(error!(EmissionError::WrongEpoch))?;
        let taken = std::mem::take(slot);
        if !taken.folded || epoch.total_weight == 0 {
            return Ok(Settled {
                paid: 0,
                forfeited: taken.weight,
            });
        }
        let share = u128::from(taken.weight)
            .checked_mul(u128::from(epoch.emission))
            .and_then(|v| v.checked_div(epoch.total_weight))
            .ok_or(error!(EmissionError::MathOverflow))?;
        let paid = u64::try_from(share).map_err(|_| error!(EmissionError::MathOverflow))?;
        self.unclaimed = self
            .unclaimed
            .checked_add(paid)
            .ok_or(error!(EmissionError::MathOverflow))?;
        Ok(Settled { paid, forfeited: 0 })
    }

    /// Makes `latest` the slot of `now_epoch`: a finished latest epoch moves to `earlier`,
    /// which must be empty (settled) by then.
    pub fn roll(&mut self, now_epoch: u64) -> Result<()> {
        if self.latest.epoch == now_epoch {
            return Ok(());
        }
        require!(self.latest.epoch < now_epoch, EmissionError::WrongEpoch);
        if !self.latest.is_empty() {
            require!(self.earlier.is_empty(), EmissionError::MissingEpoch);
            self.earlier = self.latest;
        }
        self.latest = EpochWeight {
            epoch: now_epoch,
            weight: 0,
            folded: false,
        };
        Ok(())
    }

    /// Marks this record's unfolded weight in `epoch` as folded and returns it; `None` when
    /// it has none (never recorded there, or already folded).
    pub fn fold(&mut self, epoch: u64) -> Option<u64> {
        let slot = [&mut self.earlier, &mut self.latest]
            .into_iter()
            .find(|slot| !slot.is_empty() && slot.epoch == epoch && !slot.folded)?;
        slot.folded = true;
        Some(slot.weight)
    }
}
