//! Errors of the client and its chain backends, and the names and messages of the program
//! error codes a rejected transaction carries.

use anchor_lang::{error::ErrorCode as AnchorErrorCode, solana_program::pubkey::Pubkey};
use job_escrow::error::EscrowError;
use provider_registry::error::RegistryError;
use reward_emission::error::EmissionError;
use solana_instruction_error::InstructionError;
use solana_transaction_error::TransactionError;
use staking::error::StakingError;
use std::fmt;

/// What went wrong talking to a chain.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The chain executed the transaction and rejected it.
    #[error("transaction rejected: {}", describe_rejection(.error))]
    Transaction {
        /// The runtime's verdict.
        error: TransactionError,
        /// Program logs of the failed transaction.
        logs: Vec<String>,
    },
    /// The transaction could not be signed with the keypairs given.
    #[error("signing failed: {0}")]
    Signing(String),
    /// No account lives at the address.
    #[error("account {0} does not exist")]
    AccountNotFound(Pubkey),
    /// An account exists but is not of the expected type.
    #[error("account {address} is not a valid {expected}: {reason}")]
    Decode {
        /// The account's address.
        address: Pubkey,
        /// The type it was read as.
        expected: &'static str,
        /// Why decoding failed.
        reason: String,
    },
    /// The chain backend itself failed (transport, runtime).
    #[error("chain backend: {0}")]
    Backend(String),
    /// The RPC node refused the transaction before any program ran (a signature, fee or
    /// blockhash problem): it is not on its way.
    #[error("chain backend: {0}")]
    Refused(String),
    /// A transaction was sent but whether it landed is unknown (it may still): look the
    /// signature up before sending it again.
    #[error("chain backend: {0}")]
    OutcomeUnknown(String),
}

/// Names a custom program error when the code is one of ours or Anchor's; other custom
/// codes (SPL Token's, say) keep the bare number.
fn describe_rejection(error: &TransactionError) -> String {
    match error {
        TransactionError::InstructionError(index, InstructionError::Custom(code)) => {
            match program_error(*code) {
                Some(info) => format!("{info} (instruction {index})"),
                None => format!("{error} (instruction {index}, program error {code})"),
            }
        }
        _ => error.to_string(),
    }
}

impl ClientError {
    /// The failing instruction's error, when the transaction was rejected by an instruction.
    pub fn instruction_error(&self) -> Option<&InstructionError> {
        match self {
            Self::Transaction {
                error: TransactionError::InstructionError(_, err),
                ..
            } => Some(err),
            _ => None,
        }
    }

    /// The custom program error code (Anchor and gpu-market errors), if that is what failed.
    pub fn custom_code(&self) -> Option<u32> {
        match self.instruction_error() {
            Some(InstructionError::Custom(code)) => Some(*code),
            _ => None,
        }
    }

    /// The name and message of the custom program error that failed the transaction, when
    /// its code is a gpu-market or Anchor framework error (see [`program_error`]).
    pub fn program_error(&self) -> Option<ProgramErrorInfo> {
        self.custom_code().and_then(program_error)
    }

    /// Logs of a rejected transaction; empty for other errors.
    pub fn logs(&self) -> &[String] {
        match self {
            Self::Transaction { logs, .. } => logs,
            _ => &[],
        }
    }
}

/// A custom program error code resolved to the error it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramErrorInfo {
    /// The program whose error enum defines the code (its crate name), or `anchor` for the
    /// framework's own errors.
    pub program: &'static str,
    /// The code as the runtime reports it (`InstructionError::Custom`).
    pub code: u32,
    /// The variant's name, e.g. `JobNotOpen`.
    pub name: String,
    /// The variant's `#[msg]`.
    pub message: String,
}

impl fmt::Display for ProgramErrorInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} error {} {}: {}",
            self.program, self.code, self.name, self.message
        )
    }
}

/// The error a custom program error code stands for: a gpu-market program's (each has its
/// own band: registry 6000, staking 7000, escrow 8000, emission 9000) or one of Anchor's
/// framework errors (below 6000). `None` for any other code.
///
/// The code alone decides: the runtime does not say which program failed, so a code from a
/// program outside gpu-market that happens to fall in one of these bands is named as ours.
pub fn program_error(code: u32) -> Option<ProgramErrorInfo> {
    lookup("anchor", ANCHOR_ERRORS, code, AnchorErrorCode::name)
        .or_else(|| {
            lookup(
                "provider_registry",
                REGISTRY_ERRORS,
                code,
                RegistryError::name,
            )
        })
        .or_else(|| lookup("staking", STAKING_ERRORS, code, StakingError::name))
        .or_else(|| lookup("job_escrow", ESCROW_ERRORS, code, EscrowError::name))
        .or_else(|| {
            lookup(
                "reward_emission",
                EMISSION_ERRORS,
                code,
                EmissionError::name,
            )
        })
}

fn lookup<E>(
    program: &'static str,
    variants: &[E],
    code: u32,
    name: fn(&E) -> String,
) -> Option<ProgramErrorInfo>
where
    E: Copy + fmt::Display,
    u32: From<E>,
{
    variants
        .iter()
        .find(|variant| u32::from(**variant) == code)
        .map(|variant| ProgramErrorInfo {
            program,
            code,
            name: name(variant),
            message: variant.to_string(),
        })
}

/// Lists every variant of an `#[error_code]` enum. Anchor generates `u32::from(variant)` but
/// no way back from a code, nor a list of variants, so the list is written out here; the
/// exhaustive `match` stops the build when a program gains a variant the list lacks.
macro_rules! error_variants {
    ($list:ident: $enum:ident { $($variant:ident),+ $(,)? }) => {
        const $list: &[$enum] = &[$($enum::$variant),+];
        const _: fn($enum) = |error| match error {
            $($enum::$variant)|+ => {}
        };
    };
}

error_variants!(ANCHOR_ERRORS: AnchorErrorCode {
    InstructionMissing, InstructionFallbackNotFound, InstructionDidNotDeserialize,
    InstructionDidNotSerialize, IdlInstructionStub, IdlInstructionInvalidProgram,
    IdlAccountNotEmpty, EventInstructionStub, ConstraintMut, ConstraintHasOne,
    ConstraintSigner, ConstraintRaw, ConstraintOwner, ConstraintRentExempt, ConstraintSeeds,
    ConstraintExecutable, ConstraintState, ConstraintAssociated, ConstraintAssociatedInit,
    ConstraintClose, ConstraintAddress, ConstraintZero, ConstraintTokenMint,
    ConstraintTokenOwner, ConstraintMintMintAuthority, ConstraintMintFreezeAuthority,
    ConstraintMintDecimals, ConstraintSpace, ConstraintAccountIsNone,
    ConstraintTokenTokenProgram, ConstraintMintTokenProgram,
    ConstraintAssociatedTokenTokenProgram, ConstraintMintGroupPointerExtension,
    ConstraintMintGroupPointerExtensionAuthority,
    ConstraintMintGroupPointerExtensionGroupAddress, ConstraintMintGroupMemberPointerExtension,
    ConstraintMintGroupMemberPointerExtensionAuthority,
    ConstraintMintGroupMemberPointerExtensionMemberAddress,
    ConstraintMintMetadataPointerExtension, ConstraintMintMetadataPointerExtensionAuthority,
    ConstraintMintMetadataPointerExtensionMetadataAddress, ConstraintMintCloseAuthorityExtension,
    ConstraintMintCloseAuthorityExtensionAuthority, ConstraintMintPermanentDelegateExtension,
    ConstraintMintPermanentDelegateExtensionDelegate, ConstraintMintTransferHookExtension,
    ConstraintMintTransferHookExtensionAuthority, ConstraintMintTransferHookExtensionProgramId,
    ConstraintDuplicateMutableAccount, AccountAlreadyMigrated, AccountNotMigrated,
    ConstraintMintPausableExtension, ConstraintMintPausableAuthority, RequireViolated,
    RequireEqViolated, RequireKeysEqViolated, RequireNeqViolated, RequireKeysNeqViolated,
    RequireGtViolated, RequireGteViolated, AccountDiscriminatorAlreadySet,
    AccountDiscriminatorNotFound, AccountDiscriminatorMismatch, AccountDidNotDeserialize,
    AccountDidNotSerialize, AccountNotEnoughKeys, AccountNotMutable,
    AccountOwnedByWrongProgram, InvalidProgramId, InvalidProgramExecutable, AccountNotSigner,
    AccountNotSystemOwned, AccountNotInitialized, AccountNotProgramData,
    AccountNotAssociatedTokenAccount, AccountSysvarMismatch, AccountReallocExceedsLimit,
    AccountDuplicateReallocs, DeclaredProgramIdMismatch, TryingToInitPayerAsProgramAccount,
    InvalidNumericConversion, Deprecated,
});

error_variants!(REGISTRY_ERRORS: RegistryError {
    NotAdmin, InvalidTiming, TooManyAuditors, WrongStakeAccount, StakeBelowMinimum,
    EndpointTooLong, InvalidGpuModel, InvalidGpuCount, InvalidHardware, InvalidRegion,
    InvalidPrice, NotProviderKey, NotProviderAuthority, NotProviderOperator, ProviderNotActive,
    ProviderNotPaused, ProviderExiting, ProviderNotExiting, ExitNoticeNotElapsed, GpusInUse,
    GpuCountBelowInUse, NotAuditor, SpecHashMismatch, NotEscrowAuthority, InsufficientCapacity,
    ReleaseExceedsReserved, ZeroGpus, ProviderAlreadyRegistered, MathOverflow,
    InvariantViolated, JobsHeld, ProviderRetired, BenchmarkAboveCeiling, NoPendingUpdate,
    TimelockNotElapsed, EscrowAuthorityInUse, ProposalLapsed,
});

error_variants!(STAKING_ERRORS: StakingError {
    NotAdmin, InvalidUnbondingPeriod, InvalidBps, TooManySlashers, ZeroAmount, WrongStakeMint,
    WrongVault, WrongTreasury, NotStakeOwner, InsufficientActiveStake, NothingUnbonding,
    CooldownNotElapsed, UnauthorizedSlasher, NothingToSlash, MathOverflow, InvariantViolated,
    StakeLocked, InsufficientUnlockedStake, NoPendingUpdate, TimelockNotElapsed, MintNotSupported,
    SlasherHoldsLocks, ProposalLapsed,
});

error_variants!(ESCROW_ERRORS: EscrowError {
    NotAdmin, InvalidTiming, InvalidFee, TooManyMints, MintNotAllowed, InvalidJobTerms,
    UriTooLong, DepositTooLarge, TransferFeeNotSupported, NotClient, JobNotOpen,
    JobNotAssigned, JobNotRunning, NoResultSubmitted, NotInstantMode, NotBatchJob,
    NotAssignedProvider, WrongProvider, PriceAboveMax, PaymentMintMismatch, ProviderPaused,
    ProviderExiting, ProviderStale, ProviderUnderStaked, GpuClassMismatch, TooFewGpus,
    NoFreeCapacity, InsufficientVram, InsufficientCpu, InsufficientRam, RegionMismatch,
    BenchmarkTooLow, NotAttested, StartTimeoutPassed, DurationExceeded, ChallengeWindowOpen,
    NotAuctionMode, BidWindowClosed, BidWindowOpen, NoBids, BidNotLower, NotLeaseJob,
    WithdrawExceedsEarned, NotProviderKey, ChallengeWindowClosed, NotDisputed,
    DisputePending, NotArbiter, NothingToExpire, NotReclaimable, LeaseNotEnded,
    WrongStakeAccount, WrongTokenAccountOwner, MathOverflow, ZeroBid, ProviderRetired,
    InsufficientCollateral, DurationAboveMax, CooldownShorterThanJobLifetime, ProviderNotFound,
    NoPendingUpdate, TimelockNotElapsed, MintNotSupported, MintAccountMissing, HeartbeatLapsed,
    ProviderConsentRequired, BidderRefused, AuctionExhausted, InvalidSlashOrBond, ProposalLapsed,
    NotMatcher, MatchWindowOpen, InvalidMatchWindow, ProviderDeclined, MatcherExhausted,
    NotMatcherAssignment, MatchWindowClosed, DeclineWindowClosed, VerificationMismatch,
    NotStakingTreasury, NotReplicaJob, ReplicaJob, ReplicaCountOutOfRange,
    ReplicaDeadlineOutOfRange, ReplicaGroupMissing, WrongReplicaGroup, ReplicaGroupFull,
    ReplicaTermsDiffer, ReplicaNotInstantBatch, ReplicaGroupIncomplete, ReplicaClaimClosed,
    ReplicaAuthorityTaken, CommitDeadlinePassed, NoCommitment, RevealNotOpen,
    RevealWindowClosed, AlreadyRevealed, CommitmentMismatch, ReplicasUndecided,
    ReplicaJobsOpen, ClientCannotRunReplica,
});

error_variants!(EMISSION_ERRORS: EmissionError {
    NotAdmin, InvalidSchedule, InvalidCap, WrongRewardMint, WrongMintAuthority, NotOperator,
    NotProviderKey, RecordedTooSoon, ProviderNotActive, UnderStaked, BeforeGenesis, WrongEpoch,
    MissingEpoch, WrongDestination, NothingToClaim, CapExceeded, MathOverflow, EpochNotOver,
    FoldWindowClosed, FoldWindowOpen, EpochAlreadyFinalized, EpochNotFinalized, WrongShard,
    FoldBatchSize, RecordNotWritable,
});

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn rejected(index: u8, code: u32) -> ClientError {
        ClientError::Transaction {
            error: TransactionError::InstructionError(index, InstructionError::Custom(code)),
            logs: vec![],
        }
    }

    fn info(program: &'static str, code: u32, name: &str, message: &str) -> ProgramErrorInfo {
        ProgramErrorInfo {
            program,
            code,
            name: name.into(),
            message: message.into(),
        }
    }

    #[test]
    fn names_a_code_from_each_band() {
        assert_eq!(
            program_error(6004),
            Some(info(
                "provider_registry",
                6004,
                "StakeBelowMinimum",
                "Active stake is below gpu_count x min_stake_per_gpu: stake more first",
            ))
        );
        assert_eq!(
            program_error(7012),
            Some(info(
                "staking",
                7012,
                "UnauthorizedSlasher",
                "The signer is not an authorised slasher",
            ))
        );
        assert_eq!(
            program_error(8010),
            Some(info(
                "job_escrow",
                8010,
                "JobNotOpen",
                "The job is not open"
            ))
        );
        assert_eq!(
            program_error(9014),
            Some(info(
                "reward_emission",
                9014,
                "NothingToClaim",
                "Nothing to claim"
            ))
        );
    }

    #[test]
    fn names_anchor_framework_errors() {
        assert_eq!(
            program_error(2006),
            Some(info(
                "anchor",
                2006,
                "ConstraintSeeds",
                "A seeds constraint was violated",
            ))
        );
        assert_eq!(
            program_error(3012),
            Some(info(
                "anchor",
                3012,
                "AccountNotInitialized",
                "The program expected this account to be already initialized",
            ))
        );
    }

    #[test]
    fn unknown_codes_have_no_name() {
        // SPL Token's InsufficientFunds, a gap in Anchor's codes, past each band's end.
        for code in [1, 2045, 5999, 6037, 7023, 8101, 9025, 10_000, u32::MAX] {
            assert_eq!(program_error(code), None, "code {code}");
        }
    }

    /// Each band's list must run from the offset without a gap and in declaration order
    /// (the enums number their variants consecutively): a variant left out in the middle
    /// or listed out of order shows up as a code mismatch.
    #[test]
    fn bands_are_complete_and_in_order() {
        fn codes<E: Copy>(variants: &[E]) -> Vec<u32>
        where
            u32: From<E>,
        {
            variants.iter().map(|v| u32::from(*v)).collect()
        }
        for (offset, listed) in [
            (6000, codes(REGISTRY_ERRORS)),
            (7000, codes(STAKING_ERRORS)),
            (8000, codes(ESCROW_ERRORS)),
            (9000, codes(EMISSION_ERRORS)),
        ] {
            let expected: Vec<u32> = (offset..).take(listed.len()).collect();
            assert_eq!(listed, expected);
            let first_gap = offset + u32::try_from(listed.len()).unwrap();
            assert!(program_error(first_gap - 1).is_some());
            assert!(program_error(first_gap).is_none());
        }
    }

    #[test]
    fn every_listed_error_round_trips_and_no_code_is_named_twice() {
        let mut seen = HashSet::new();
        let anchor = codes_and_names(ANCHOR_ERRORS, AnchorErrorCode::name);
        let ours = [
            codes_and_names(REGISTRY_ERRORS, RegistryError::name),
            codes_and_names(STAKING_ERRORS, StakingError::name),
            codes_and_names(ESCROW_ERRORS, EscrowError::name),
            codes_and_names(EMISSION_ERRORS, EmissionError::name),
        ];
        for (code, name) in anchor.into_iter().chain(ours.into_iter().flatten()) {
            assert!(seen.insert(code), "code {code} listed twice");
            assert_eq!(program_error(code).map(|i| i.name), Some(name));
        }
        assert_eq!(seen.len(), 82 + 37 + 23 + 101 + 25);
    }

    fn codes_and_names<E: Copy>(variants: &[E], name: fn(&E) -> String) -> Vec<(u32, String)>
    where
        u32: From<E>,
    {
        variants.iter().map(|v| (u32::from(*v), name(v))).collect()
    }

    #[test]
    fn a_rejection_names_its_program_error() {
        let err = rejected(0, 8010);
        assert_eq!(
            err.to_string(),
            "transaction rejected: job_escrow error 8010 JobNotOpen: The job is not open \
             (instruction 0)"
        );
        assert_eq!(err.custom_code(), Some(8010));
        assert_eq!(
            err.program_error().map(|i| i.name),
            Some("JobNotOpen".into())
        );
    }

    #[test]
    fn a_rejection_with_a_foreign_code_keeps_the_number() {
        let err = rejected(2, 1);
        assert_eq!(
            err.to_string(),
            "transaction rejected: Error processing Instruction 2: custom program error: 0x1 \
             (instruction 2, program error 1)"
        );
        assert_eq!(err.program_error(), None);
    }

    #[test]
    fn other_rejections_show_the_runtime_error() {
        let err = ClientError::Transaction {
            error: TransactionError::BlockhashNotFound,
            logs: vec![],
        };
        assert_eq!(err.to_string(), "transaction rejected: Blockhash not found");
        assert_eq!(err.program_error(), None);
    }
}
