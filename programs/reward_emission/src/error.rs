use anchor_lang::prelude::*;

/// Reward emission errors: codes 9000-9999.
#[error_code(offset = 9000)]
pub enum EmissionError {
    #[msg("Only the config admin may do this")]
    NotAdmin,
    #[msg("Epoch length, decay period and first-epoch emission must be positive; decay at most 10000 bps")]
    InvalidSchedule,
    #[msg("The hard cap cannot rise above the cap set at init, nor fall below what is already allocated")]
    InvalidCap,
    #[msg("The mint is not the configured reward mint")]
    WrongRewardMint,
    #[msg("The reward mint's authority must be this program's mint authority PDA")]
    WrongMintAuthority,
    #[msg("Only the provider's operator key may record uptime")]
    NotOperator,
    #[msg("Only the provider's authority or operator may claim")]
    NotProviderKey,
    #[msg("Uptime was already recorded within this heartbeat interval")]
    RecordedTooSoon,
    #[msg("Only active providers earn rewards")]
    ProviderNotActive,
    #[msg("The provider's active stake is below the registry minimum")]
    UnderStaked,
    #[msg("The epoch has not started yet")]
    BeforeGenesis,
    #[msg("The epoch account does not match the epoch being settled")]
    WrongEpoch,
    #[msg("The finished epoch this provider recorded in must be passed to settle it")]
    MissingEpoch,
    #[msg("The destination is not a token account of the provider's authority")]
    WrongDestination,
    #[msg("Nothing to claim")]
    NothingToClaim,
    #[msg("Minting this would pass the hard cap")]
    CapExceeded,
    #[msg("Arithmetic overflow")]
    MathOverflow,
}
