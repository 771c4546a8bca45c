use anchor_lang::prelude::*;

/// Staking errors: codes 7000-7999.
#[error_code(offset = 7000)]
pub enum StakingError {
    #[msg("Only the config admin may do this")]
    NotAdmin,
    #[msg("Unbonding period must be between 1 second and one year")]
    InvalidUnbondingPeriod,
    #[msg("Basis points must be at most 10000")]
    InvalidBps,
    #[msg("Too many slashers: at most 4")]
    TooManySlashers,
    #[msg("Amount must be greater than zero")]
    ZeroAmount,
    #[msg("The mint is not the configured stake mint")]
    WrongStakeMint,
    #[msg("The vault is not the pooled stake vault")]
    WrongVault,
    #[msg("The treasury is not the configured treasury token account")]
    WrongTreasury,
    #[msg("Only the stake account's owner may do this")]
    NotStakeOwner,
    #[msg("Cannot unstake more than the active stake")]
    InsufficientActiveStake,
    #[msg("Nothing is unbonding")]
    NothingUnbonding,
    #[msg("The unbonding cooldown has not ended yet")]
    CooldownNotElapsed,
    #[msg("The signer is not an authorised slasher")]
    UnauthorizedSlasher,
    #[msg("The stake account holds nothing to slash")]
    NothingToSlash,
    #[msg("Arithmetic overflow")]
    MathOverflow,
    #[msg("Stake account bookkeeping is inconsistent")]
    InvariantViolated,
    #[msg("That stake is locked behind jobs the provider holds; it unlocks when they end")]
    StakeLocked,
    #[msg("Not enough unlocked stake to back this job")]
    InsufficientUnlockedStake,
    #[msg("No config update is pending")]
    NoPendingUpdate,
    #[msg("The config update's timelock has not passed yet")]
    TimelockNotElapsed,
    #[msg("The mint is not a token mint, or carries a Token-2022 extension that could freeze, drain or block vaults (permanent delegate, transfer hook or fee, pausable, default account state, close authority, non-transferable)")]
    MintNotSupported,
    #[msg("Stake is locked behind jobs: no slasher can be removed until every lock is released")]
    SlasherHoldsLocks,
    #[msg("The proposal was not applied within 14 days of its timelock and lapsed: propose again")]
    ProposalLapsed,
}
