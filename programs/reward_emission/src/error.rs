use anchor_lang::prelude::*;

/// Reward emission errors: codes 9000-9999.
#[error_code(offset = 9000)]
pub enum EmissionError {
    #[msg("Only the config admin may do this")]
    NotAdmin,
    #[msg("Epoch length, record interval, decay period and first-epoch emission must be positive, the record interval at most an epoch; decay at most 10000 bps")]
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
    #[msg("Uptime was already recorded within this record interval")]
    RecordedTooSoon,
    #[msg("Only active providers earn rewards")]
    ProviderNotActive,
    #[msg("The provider's active stake is below the registry minimum")]
    UnderStaked,
    #[msg("The epoch has not started yet")]
    BeforeGenesis,
    #[msg("The epoch does not match the current epoch or one the reward record holds")]
    WrongEpoch,
    #[msg("The record still holds an older finished epoch: pass its finalized epoch account to settle it")]
    MissingEpoch,
    #[msg("The destination is not a token account of the provider's authority")]
    WrongDestination,
    #[msg("Nothing to claim")]
    NothingToClaim,
    #[msg("Minting this would pass the hard cap")]
    CapExceeded,
    #[msg("Arithmetic overflow")]
    MathOverflow,
    #[msg("The epoch is not over yet")]
    EpochNotOver,
    #[msg("The epoch's fold window has closed")]
    FoldWindowClosed,
    #[msg("The epoch's fold window is still open")]
    FoldWindowOpen,
    #[msg("The epoch is already finalized")]
    EpochAlreadyFinalized,
    #[msg(
        "The shard still holds an earlier epoch that is not finalized: finalize that epoch first"
    )]
    EpochNotFinalized,
    #[msg("The shard index or a record's shard is wrong, or not every shard was passed in order")]
    WrongShard,
    #[msg("A fold names between 1 and 24 reward records")]
    FoldBatchSize,
    #[msg("A reward record or shard to write was passed read-only")]
    RecordNotWritable,
}
