use anchor_lang::prelude::*;

/// Job escrow errors: codes 8000-8999.
#[error_code(offset = 8000)]
pub enum EscrowError {
    #[msg("Only the config admin may do this")]
    NotAdmin,
    #[msg(
        "A window, timeout, duration or attempt count is outside its hard bounds (see constants)"
    )]
    InvalidTiming,
    #[msg("Protocol fee must be at most 2000 bps")]
    InvalidFee,
    #[msg("Too many allowed mints: at most 8")]
    TooManyMints,
    #[msg("The payment mint is not on the market's allow-list")]
    MintNotAllowed,
    #[msg("Job needs at least one GPU, a positive max price and a positive max duration")]
    InvalidJobTerms,
    #[msg("URI is longer than 128 bytes")]
    UriTooLong,
    #[msg("The deposit would overflow: lower the price, GPU count or duration")]
    DepositTooLarge,
    #[msg("The vault received less than the deposit: mints with transfer fees are not supported")]
    TransferFeeNotSupported,
    #[msg("Only the job's client may do this")]
    NotClient,
    #[msg("The job is not open")]
    JobNotOpen,
    #[msg("The job is not assigned")]
    JobNotAssigned,
    #[msg("The job is not running")]
    JobNotRunning,
    #[msg("The job has no submitted result")]
    NoResultSubmitted,
    #[msg("This instruction is for instant-mode jobs only")]
    NotInstantMode,
    #[msg("Only batch jobs submit results")]
    NotBatchJob,
    #[msg("The signer is not the operator of the assigned provider")]
    NotAssignedProvider,
    #[msg("The provider account is not the one assigned to this job")]
    WrongProvider,
    #[msg("The provider's price is above the job's max price")]
    PriceAboveMax,
    #[msg("The provider is paid in another mint")]
    PaymentMintMismatch,
    #[msg("Provider is paused")]
    ProviderPaused,
    #[msg("Provider is exiting")]
    ProviderExiting,
    #[msg("Provider has not sent a heartbeat within the liveness window")]
    ProviderStale,
    #[msg("Provider's active stake does not cover its GPUs")]
    ProviderUnderStaked,
    #[msg("Provider's GPU class does not match the job")]
    GpuClassMismatch,
    #[msg("Provider has fewer GPUs than the job needs")]
    TooFewGpus,
    #[msg("Provider has too few free GPUs")]
    NoFreeCapacity,
    #[msg("Provider's VRAM per GPU is below the job's minimum")]
    InsufficientVram,
    #[msg("Provider has too few CPU cores")]
    InsufficientCpu,
    #[msg("Provider has too little RAM")]
    InsufficientRam,
    #[msg("Provider is in another region")]
    RegionMismatch,
    #[msg("Provider's benchmark is below the job's floor")]
    BenchmarkTooLow,
    #[msg("The job requires an attested provider")]
    NotAttested,
    #[msg("The start timeout has passed")]
    StartTimeoutPassed,
    #[msg("The job's max duration has passed")]
    DurationExceeded,
    #[msg("The challenge window has not ended yet")]
    ChallengeWindowOpen,
    #[msg("This instruction is for auction-mode jobs only")]
    NotAuctionMode,
    #[msg("The bid window has closed")]
    BidWindowClosed,
    #[msg("The bid window is still open")]
    BidWindowOpen,
    #[msg("The auction received no bids: reclaim the job instead")]
    NoBids,
    #[msg("A bid must be strictly lower than the best bid")]
    BidNotLower,
    #[msg("Only lease jobs do this")]
    NotLeaseJob,
    #[msg("Cannot withdraw more than has been earned")]
    WithdrawExceedsEarned,
    #[msg("Only the assigned provider's authority or operator may do this")]
    NotProviderKey,
    #[msg("The challenge window has ended")]
    ChallengeWindowClosed,
    #[msg("The job is not disputed")]
    NotDisputed,
    #[msg("The dispute awaits the arbiter's ruling")]
    DisputePending,
    #[msg("Only the arbiter may do this")]
    NotArbiter,
    #[msg("No deadline of this job has passed yet")]
    NothingToExpire,
    #[msg("The open job still has a provider or a bid, or its window is open")]
    NotReclaimable,
    #[msg("The lease has not reached its end")]
    LeaseNotEnded,
    #[msg("The stake account is not the assigned provider's")]
    WrongStakeAccount,
    #[msg("Token account has the wrong owner for this payment")]
    WrongTokenAccountOwner,
    #[msg("Arithmetic overflow")]
    MathOverflow,
    #[msg("A bid must be above zero")]
    ZeroBid,
    #[msg("The provider is retired")]
    ProviderRetired,
    #[msg("The provider's unlocked stake does not cover this job's collateral")]
    InsufficientCollateral,
    #[msg("The job's max duration is above the market's longest allowed job")]
    DurationAboveMax,
    #[msg("The staking cooldown is shorter than the longest job lifetime this config allows")]
    CooldownShorterThanJobLifetime,
    #[msg("The provider account is not a registered provider")]
    ProviderNotFound,
    #[msg("No config update is pending")]
    NoPendingUpdate,
    #[msg("The config update's timelock has not passed yet")]
    TimelockNotElapsed,
    #[msg("The mint is not a token mint, or carries a Token-2022 extension that could freeze, drain or block vaults (permanent delegate, transfer hook or fee, pausable, default account state, close authority, non-transferable)")]
    MintNotSupported,
    #[msg("Pass each allowed mint's account (in order) after the instruction's accounts")]
    MintAccountMissing,
    #[msg("The job's heartbeats lapsed past the grace: it can only be expired now")]
    HeartbeatLapsed,
    #[msg("A provider holds this job: its operator must co-sign the extension")]
    ProviderConsentRequired,
    #[msg("This provider's winning bid was refused on this job before; it cannot bid again")]
    BidderRefused,
    #[msg("The auction was re-opened too often; the job can only be reclaimed or cancelled")]
    AuctionExhausted,
    #[msg("Each slash must be at least the crank tip, and the dispute bond above zero")]
    InvalidSlashOrBond,
    #[msg("The proposal was not applied within 14 days of its timelock and lapsed: propose again")]
    ProposalLapsed,
    #[msg("Only the market's matcher, as recorded in the job's terms, may assign it")]
    NotMatcher,
    #[msg("The matcher still has this job to itself: providers may take it once the match window closes")]
    MatchWindowOpen,
    #[msg("The match window must be at most half the bid window and 10 minutes, and zero without a matcher")]
    InvalidMatchWindow,
    #[msg("This provider declined the job; the matcher may not assign it again")]
    ProviderDeclined,
    #[msg("Too many providers declined the job: only a provider taking it itself can now")]
    MatcherExhausted,
    #[msg("A provider may decline only a job the matcher assigned to it, before starting it")]
    NotMatcherAssignment,
    #[msg("The matcher's window on this job has closed: providers take it themselves now")]
    MatchWindowClosed,
    #[msg("A matcher's assignment can be declined only within 60 seconds of it (and before the start timeout)")]
    DeclineWindowClosed,
    #[msg("The revealed answer and salt do not hash to the job's verification commitment")]
    VerificationMismatch,
    #[msg("A wrong-result slash goes to the staking treasury's token account, not the client's")]
    NotStakingTreasury,
    #[msg("This instruction is for replica jobs only")]
    NotReplicaJob,
    #[msg("A replica job commits, reveals and settles through its replica group (commit_result, reveal_result, settle_replica), and cannot be cancelled or extended")]
    ReplicaJob,
    #[msg("A replica group runs 2 to 5 replicas")]
    ReplicaCountOutOfRange,
    #[msg("The commit deadline must leave room for a whole run (start timeout and max duration) and be at most twice the market's longest job away")]
    ReplicaDeadlineOutOfRange,
    #[msg("A replica job needs its replica group account (the first remaining account, writable)")]
    ReplicaGroupMissing,
    #[msg("The replica group passed is not this job's, or not this client's")]
    WrongReplicaGroup,
    #[msg("Every replica of this group has been created")]
    ReplicaGroupFull,
    #[msg("Every replica of a group must have the same requirements, workload, price, duration, mint and market terms")]
    ReplicaTermsDiffer,
    #[msg("Replicas are instant-mode batch jobs")]
    ReplicaNotInstantBatch,
    #[msg("Providers may take a replica only once all of its group's replicas exist")]
    ReplicaGroupIncomplete,
    #[msg("A whole run of this replica no longer fits before its group's commit deadline")]
    ReplicaClaimClosed,
    #[msg("This provider's authority already holds another replica of this group")]
    ReplicaAuthorityTaken,
    #[msg("The group's commit deadline has passed")]
    CommitDeadlinePassed,
    #[msg("This replica committed no result: there is nothing to reveal")]
    NoCommitment,
    #[msg("Reveals open once every replica has committed or the commit deadline has passed")]
    RevealNotOpen,
    #[msg("The group's reveal deadline has passed")]
    RevealWindowClosed,
    #[msg("This replica's result was already revealed")]
    AlreadyRevealed,
    #[msg("The result hash and salt do not open this replica's commitment")]
    CommitmentMismatch,
    #[msg("The group's reveals are not final yet: every replica must reveal, or the reveal deadline pass")]
    ReplicasUndecided,
    #[msg("Every replica job of the group must be closed (pass them in order)")]
    ReplicaJobsOpen,
    #[msg("A client's own provider may not run a replica of its job")]
    ClientCannotRunReplica,
}

impl From<provider_registry::eligibility::Ineligible> for EscrowError {
    fn from(why: provider_registry::eligibility::Ineligible) -> Self {
        use provider_registry::eligibility::Ineligible as I;
        match why {
            I::Paused => Self::ProviderPaused,
            I::Exiting => Self::ProviderExiting,
            I::Retired => Self::ProviderRetired,
            I::Stale => Self::ProviderStale,
            I::InsufficientStake => Self::ProviderUnderStaked,
            I::GpuClassMismatch => Self::GpuClassMismatch,
            I::TooFewGpus => Self::TooFewGpus,
            I::NoFreeCapacity => Self::NoFreeCapacity,
            I::InsufficientVram => Self::InsufficientVram,
            I::InsufficientCpu => Self::InsufficientCpu,
            I::InsufficientRam => Self::InsufficientRam,
            I::RegionMismatch => Self::RegionMismatch,
            I::BenchmarkTooLow => Self::BenchmarkTooLow,
            I::NotAttested => Self::NotAttested,
        }
    }
}
