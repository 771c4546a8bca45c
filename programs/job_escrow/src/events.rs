//! Events: every job transition, with amounts and resulting balances.

use crate::{
    instructions::UpdateConfigArgs,
    state::{JobKind, JobMode, JobTerms},
};
use anchor_lang::prelude::*;

#[event]
pub struct MarketConfigInitialized {
    pub admin: Pubkey,
    pub treasury: Pubkey,
    pub arbiter: Pubkey,
    pub protocol_fee_bps: u16,
    pub allowed_mints: Vec<Pubkey>,
    pub escrow_authority: Pubkey,
}

#[event]
pub struct JobCreated {
    pub job: Pubkey,
    pub client: Pubkey,
    pub job_id: u64,
    pub kind: JobKind,
    pub mode: JobMode,
    pub gpu_count: u16,
    pub max_price_per_gpu_hour: u64,
    pub max_duration: i64,
    pub payment_mint: Pubkey,
    pub escrowed: u64,
    /// Crank tips reserved in the deposit: one per possible attempt.
    pub tip_reserve: u64,
    pub terms: JobTerms,
}

#[event]
pub struct JobCancelled {
    pub job: Pubkey,
    pub client: Pubkey,
    pub refunded: u64,
}

#[event]
pub struct JobAssigned {
    pub job: Pubkey,
    pub provider: Pubkey,
    pub price_per_gpu_hour: u64,
    pub attempt: u8,
    /// Stake locked on the provider until the job ends.
    pub collateral_locked: u64,
    /// Assigned by the market's matcher, not taken by the provider itself.
    pub by_matcher: bool,
}

/// The admin removed the market's matcher, at once: it can assign no job any more.
#[event]
pub struct MatcherRemoved {
    pub admin: Pubkey,
    pub matcher: Pubkey,
}

/// The provider turned down the matcher's assignment: its GPUs and collateral are free, the
/// job is open again and the provider may not be assigned it again.
#[event]
pub struct JobDeclined {
    pub job: Pubkey,
    pub provider: Pubkey,
    /// Providers that have declined the job or been refused it, this one included.
    pub refused: u8,
    pub bid_deadline: i64,
}

/// The auction's winner could no longer take the job when the window closed; the job takes
/// bids again until `bid_deadline`.
#[event]
pub struct AuctionReopened {
    pub job: Pubkey,
    pub refused_provider: Pubkey,
    /// The error the winner's eligibility check gave.
    pub error_code: u32,
    pub bid_deadline: i64,
}

#[event]
pub struct JobStarted {
    pub job: Pubkey,
    pub provider: Pubkey,
    pub started_at: i64,
    pub time_to_start: i64,
}

#[event]
pub struct JobHeartbeat {
    pub job: Pubkey,
    pub at: i64,
}

#[event]
pub struct ResultSubmitted {
    pub job: Pubkey,
    pub provider: Pubkey,
    pub hash: [u8; 32],
    pub uri: String,
    pub billable_seconds: u64,
}

/// Why a job settled in the provider's favour.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettleReason {
    /// The client approved the batch result.
    Approved,
    /// Nobody disputed the batch result within the challenge window.
    ChallengeWindowPassed,
    /// The client ended the lease.
    LeaseClosed,
    /// The lease ran to its max duration.
    LeaseEnded,
    /// The arbiter ruled for the provider.
    DisputeRejected,
    /// The arbiter did not rule in time: the provider is paid and receives the client's
    /// dispute bond, as when the arbiter rules for it.
    DisputeTimedOut,
    /// The replica's revealed result is its group's majority.
    ReplicasAgreed,
}

#[event]
pub struct JobSettled {
    pub job: Pubkey,
    pub client: Pubkey,
    pub provider: Pubkey,
    pub reason: SettleReason,
    /// GPU-seconds delivered in the attempt that completed.
    pub gpu_seconds: u64,
    /// Paid to the provider now (earlier lease withdrawals not included).
    pub to_provider: u64,
    /// Protocol fee on what was paid now.
    pub fee: u64,
    /// Protocol fees of the attempt's earlier lease withdrawals, held in the vault until
    /// now: the treasury receives `fee` plus these.
    pub fees_released: u64,
    /// Dispute bond forfeited to the provider.
    pub bond_to_provider: u64,
    pub refund: u64,
    /// Gross amount billed over the job's life.
    pub billed_total: u64,
}

#[event]
pub struct EarningsWithdrawn {
    pub job: Pubkey,
    pub provider: Pubkey,
    pub gross: u64,
    pub to_provider: u64,
    /// Protocol fee on `gross`, held in the vault for the treasury until the attempt ends.
    pub fee: u64,
    pub billed_total: u64,
    pub vault_balance_after: u64,
}

#[event]
pub struct JobExtended {
    pub job: Pubkey,
    pub extra_seconds: i64,
    pub deposit: u64,
    pub max_duration_after: i64,
    pub escrowed_after: u64,
}

#[event]
pub struct BidPlaced {
    pub job: Pubkey,
    pub provider: Pubkey,
    pub price_per_gpu_hour: u64,
    pub placed_at: i64,
}

/// Why a job's current provider lost it.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpiryReason {
    NoStart,
    HeartbeatLost,
    NoResult,
}

#[event]
pub struct JobExpired {
    pub job: Pubkey,
    pub provider: Pubkey,
    pub reason: ExpiryReason,
    /// Paid to the provider for service up to its last heartbeat (leases).
    pub to_provider: u64,
    /// Protocol fee on what was paid now.
    pub fee: u64,
    /// Protocol fees of the attempt's earlier lease withdrawals, held in the vault until
    /// now: the treasury receives `fee` plus these.
    pub fees_released: u64,
    pub slash_requested: u64,
    pub tip: u64,
    pub cranker: Pubkey,
    /// The job went back to Open for another provider.
    pub requeued: bool,
    /// Refunded to the client when it did not.
    pub refund: u64,
    pub attempts: u8,
}

#[event]
pub struct JobReclaimed {
    pub job: Pubkey,
    pub client: Pubkey,
    pub refund: u64,
    pub tip: u64,
    pub cranker: Pubkey,
}

#[event]
pub struct ResultDisputed {
    pub job: Pubkey,
    pub client: Pubkey,
    pub bond: u64,
    pub vault_balance_after: u64,
}

#[event]
pub struct DisputeResolved {
    pub job: Pubkey,
    pub arbiter: Pubkey,
    pub for_client: bool,
    pub refund: u64,
    pub slash_requested: u64,
}

/// The client of a batch job revealed the known answer it committed to at creation.
#[event]
pub struct CanaryRevealed {
    pub job: Pubkey,
    pub client: Pubkey,
    pub provider: Pubkey,
    pub expected: [u8; 32],
    pub submitted: [u8; 32],
    /// The provider's result matched: nothing changed.
    pub passed: bool,
    /// Returned to the client when the result was wrong: the whole vault.
    pub refund: u64,
    /// The `wrong_result` slash of the job's terms, when the result was wrong.
    pub slash_requested: u64,
}

#[event]
pub struct MarketConfigUpdated {
    pub admin: Pubkey,
    pub treasury: Pubkey,
    pub arbiter: Pubkey,
    pub protocol_fee_bps: u16,
    pub allowed_mints: Vec<Pubkey>,
    /// The change that was applied.
    pub args: UpdateConfigArgs,
}

/// A change of market parameters was proposed; it can be applied from `eta` on.
#[event]
pub struct MarketConfigUpdateProposed {
    pub admin: Pubkey,
    pub args: UpdateConfigArgs,
    pub eta: i64,
}

#[event]
pub struct MarketConfigUpdateCancelled {
    pub admin: Pubkey,
    pub args: UpdateConfigArgs,
    pub eta: i64,
}

#[event]
pub struct ReplicaGroupCreated {
    pub group: Pubkey,
    pub client: Pubkey,
    pub group_id: u64,
    pub replicas: u8,
    pub commit_deadline: i64,
    pub reveal_deadline: i64,
}

/// A replica's provider committed to its result (`replica_commitment`).
#[event]
pub struct ResultCommitted {
    pub job: Pubkey,
    pub group: Pubkey,
    pub provider: Pubkey,
    pub commitment: [u8; 32],
    pub billable_seconds: u64,
}

#[event]
pub struct ResultRevealed {
    pub job: Pubkey,
    pub group: Pubkey,
    pub provider: Pubkey,
    pub hash: [u8; 32],
    pub uri: String,
}

/// How a replica ended.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplicaVerdict {
    /// Its result is the majority's: the provider was paid as for a finalized job.
    Agreed,
    /// A majority exists and this replica revealed another result: slashed, refunded.
    Dissented,
    /// It never revealed: slashed, refunded.
    Unrevealed,
    /// No majority: refunded, nobody paid, nobody slashed for a revealed result.
    Inconclusive,
}

#[event]
pub struct ReplicaSettled {
    pub job: Pubkey,
    pub group: Pubkey,
    pub provider: Pubkey,
    pub verdict: ReplicaVerdict,
    /// The group's majority result, if any.
    pub majority: Option<[u8; 32]>,
    /// Returned to the client: what the run did not cost when the replica was paid, the
    /// whole vault when it was not.
    pub refund: u64,
    /// The `wrong_result` slash of the job's terms, for a dissent or a missing reveal.
    pub slash_requested: u64,
}

#[event]
pub struct ReplicaGroupClosed {
    pub group: Pubkey,
    pub client: Pubkey,
}
