pub mod claim_rewards;
pub mod init_config;
pub mod record_uptime;
pub mod update_config;

pub use claim_rewards::*;
pub use init_config::*;
pub use record_uptime::*;
pub use update_config::*;

use anchor_lang::prelude::*;

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
