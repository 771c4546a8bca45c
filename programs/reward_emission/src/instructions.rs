pub mod claim_rewards;
pub mod finalize_epoch;
pub mod fold_uptime;
pub mod init_config;
pub mod record_uptime;
pub mod update_config;

pub use claim_rewards::*;
pub use finalize_epoch::*;
pub use fold_uptime::*;
pub use init_config::*;
pub use record_uptime::*;
pub use update_config::*;

use crate::{
    error::EmissionError,
    state::{Epoch, ProviderRewards, Settled},
};
use anchor_lang::prelude::*;

/// Settles into `rewards` each finalized epoch passed (`None`s are skipped), as of epoch
/// `now_epoch`; returns the totals paid and forfeited.
pub(crate) fn settle_passed(
    rewards: &mut ProviderRewards,
    epochs: [&Option<Box<Account<Epoch>>>; 2],
    now_epoch: u64,
) -> Result<Settled> {
    let mut total = Settled::default();
    for epoch in epochs.into_iter().flatten() {
        let settled = rewards.settle(epoch, now_epoch)?;
        total.paid = total
            .paid
            .checked_add(settled.paid)
            .ok_or(error!(EmissionError::MathOverflow))?;
        total.forfeited = total
            .forfeited
            .checked_add(settled.forfeited)
            .ok_or(error!(EmissionError::MathOverflow))?;
    }
    Ok(total)
}

/// Writes `value` (discriminator and data) into the program-owned account `info`.
pub(crate) fn store<T: AccountSerialize>(info: &AccountInfo, value: &T) -> Result<()> {
    let mut data = info.try_borrow_mut_data()?;
    value.try_serialize(&mut &mut data[..])
}

/// Reads the program-owned account `info` as `T`.
pub(crate) fn load<T: AccountDeserialize>(info: &AccountInfo) -> Result<T> {
    require_keys_eq!(
        *info.owner,
        crate::ID,
        ErrorCode::AccountOwnedByWrongProgram
    );
    let data = info.try_borrow_data()?;
    T::try_deserialize(&mut &data[..])
}

/// Whether `info` is an address nothing has been created at yet (possibly pre-funded).
pub(crate) fn is_unallocated(info: &AccountInfo) -> bool {
    info.owner == &anchor_lang::system_program::ID && info.data_is_empty()
}
