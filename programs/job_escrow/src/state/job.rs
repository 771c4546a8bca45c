use crate::{
    constants::{DECLINE_WINDOW, MAX_REFUSED_BIDDERS, MAX_URI_LEN},
    error::EscrowError,
    math,
    state::{MarketConfig, SlashAmounts},
};
use anchor_lang::prelude::*;
use provider_registry::eligibility::Requirements;

/// What to run: a container manifest, pinned by its hash.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Debug, PartialEq, Eq)]
pub struct Workload {
    pub content_hash: [u8; 32],
    #[max_len(MAX_URI_LEN)]
    pub uri: String,
}

#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    /// Runs to completion and submits a result, which the client can challenge.
    Batch,
    /// A service billed per second while it runs.
    Lease,
}

#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobMode {
    /// The first eligible provider at or below the max price takes it.
    Instant,
    /// The lowest bid when the bid window closes wins.
    Auction,
}

#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobStatus {
    /// Waiting for a provider (or bids, in auction mode).
    Open,
    /// A provider holds it and must start within the start timeout.
    Assigned,
    Running,
    /// A batch result is in; the challenge window runs.
    ResultSubmitted,
    /// The client challenged the result; the arbiter decides.
    Disputed,
}

/// The provider a job is assigned to, at the agreed price. Who may act for the provider
/// (its operator) is read from the provider account when it acts, so rotating the operator
/// key takes effect on the jobs it already holds.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Assignment {
    /// The provider account (registry PDA).
    pub provider: Pubkey,
    /// Its authority, whose stake backs the job and whose token account is paid.
    pub authority: Pubkey,
    pub price_per_gpu_hour: u64,
    pub assigned_at: i64,
    /// Assigned by the market's matcher rather than taken by the provider: the provider
    /// may decline it before starting.
    pub by_matcher: bool,
    /// Whether a missed start is slashed: a provider that took the job itself, or one the
    /// matcher assigned while its last heartbeat was at most `DECLINE_WINDOW` old. The
    /// matcher may assign any node live for the registry (it asks the node itself first,
    /// which the chain cannot see); one silent for longer may have gone down without
    /// ever seeing the assignment.
    pub slashable_start: bool,
}

/// The lowest bid so far in an auction; the earliest wins a tie.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bid {
    pub provider: Pubkey,
    pub authority: Pubkey,
    pub price_per_gpu_hour: u64,
    pub placed_at: i64,
}

/// The market terms a job was created under, copied from the config at creation: every
/// later instruction reads these, never the live config, so an admin change cannot reach a
/// job that already exists.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobTerms {
    pub protocol_fee_bps: u16,
    pub arbiter: Pubkey,
    pub bid_window: i64,
    pub start_timeout: i64,
    pub heartbeat_grace: i64,
    pub challenge_window: i64,
    pub max_attempts: u8,
    pub slash: SlashAmounts,
    /// Paid to whoever cranks an expiry or a reclaim, once per attempt.
    pub crank_tip: u64,
    pub dispute_bond: u64,
    /// Longest the job may be extended to.
    pub max_job_duration: i64,
    /// Who may assign the job while it is open (instant mode); `Pubkey::default()` for none.
    pub matcher: Pubkey,
    /// How long the matcher has an open instant job to itself.
    pub match_window: i64,
}

impl JobTerms {
    pub fn from_config(config: &MarketConfig) -> Self {
        Self {
            protocol_fee_bps: config.protocol_fee_bps,
            arbiter: config.arbiter,
            bid_window: config.bid_window,
            start_timeout: config.start_timeout,
            heartbeat_grace: config.heartbeat_grace,
            challenge_window: config.challenge_window,
            max_attempts: config.max_attempts,
            slash: config.slash,
            crank_tip: config.crank_tip,
            dispute_bond: config.dispute_bond,
            max_job_duration: config.max_job_duration,
            matcher: config.matcher,
            match_window: config.match_window,
        }
    }

    /// The collateral a provider locks while it holds the job: the largest slash any of
    /// its faults can cost.
    pub fn collateral(&self) -> u64 {
        let s = &self.slash;
        s.no_start
            .max(s.heartbeat_lost)
            .max(s.no_result)
            .max(s.dispute_lost)
            .max(s.wrong_result)
    }

    /// What the crank tips of every attempt cost together.
    pub fn tips(&self) -> Result<u64> {
        self.crank_tip
            .checked_mul(u64::from(self.max_attempts))
            .ok_or(error!(EscrowError::DepositTooLarge))
    }
}

#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Debug, PartialEq, Eq)]
pub struct JobResult {
    pub hash: [u8; 32],
    #[max_len(MAX_URI_LEN)]
    pub uri: String,
    pub submitted_at: i64,
}

#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dispute {
    /// Held in the vault until the arbiter rules.
    pub bond: u64,
    pub opened_at: i64,
}

/// A compute job and the terms of its escrow. Its tokens sit in the vault PDA
/// `["vault", job]`, whose authority is the job itself. The vault always holds
/// `escrowed - billed` less the crank tips paid, plus any dispute bond and the withdrawal
/// fees held for the treasury (`fees_held`).
///
/// Every field a client filters on sits at a fixed offset (see [`layout`]): `status` first,
/// with the requirements (GPU class first) right after it, so that one `memcmp` selects
/// "open, for this class"; the assignment last among them, so that one `memcmp` on its
/// `Some` tag and provider selects "assigned to this provider"; the fields of variable length
/// after it.
#[account]
#[derive(InitSpace, Debug)]
pub struct Job {
    pub status: JobStatus,
    pub requirements: Requirements,
    pub mode: JobMode,
    pub kind: JobKind,
    pub payment_mint: Pubkey,
    pub client: Pubkey,
    pub job_id: u64,
    pub max_price_per_gpu_hour: u64,
    /// Longest billable run, in seconds.
    pub max_duration: i64,
    /// Deposited so far: max cost plus a crank tip per attempt, plus extensions.
    pub escrowed: u64,
    /// The most this job can ever bill, across all its providers: `escrowed` less the tips.
    pub budget: u64,
    /// Tips still reserved for whoever cranks an expiry or a reclaim.
    pub tip_reserve: u64,
    /// Gross amount billed so far (provider pay plus fees), over every attempt.
    pub billed: u64,
    /// Gross amount billed to the current provider in the current attempt.
    pub attempt_billed: u64,
    /// When an open job stops taking bids (auction) or may be reclaimed.
    pub bid_deadline: i64,
    /// Until when only the matcher may assign an open instant job: the end of the match
    /// window from when it (re-)opened.
    pub match_deadline: i64,
    pub created_at: i64,
    pub started_at: i64,
    pub last_heartbeat: i64,
    pub terms: JobTerms,
    /// Providers that have held this job.
    pub attempts: u8,
    pub bump: u8,
    pub vault_bump: u8,
    pub assignment: Option<Assignment>,
    pub best_bid: Option<Bid>,
    pub result: Option<JobResult>,
    pub dispute: Option<Dispute>,
    pub workload: Workload,
    /// Auction winners that could not take the job when the window closed, providers
    /// that declined the matcher's assignment, and (after a re-queue) the provider whose
    /// missed start of a matcher's assignment went unslashed: they may not bid on it, nor
    /// be assigned it by the matcher, again (they may still take it themselves once the
    /// match window has closed). Once the list is full the auction stops re-opening and the
    /// matcher stops assigning.
    #[max_len(MAX_REFUSED_BIDDERS)]
    pub refused_bidders: Vec<Pubkey>,
    /// Protocol fees of the current attempt's lease withdrawals, held in the vault and
    /// paid to the treasury when the attempt ends (its settlement or expiry): a withdrawal
    /// writes no account that another node's withdrawal writes.
    pub fees_held: u64,
    /// The client's verification commitment, fixed at creation: random for an ordinary job,
    /// `sha256(expected_result_hash || salt)` for a known-answer (canary) job, so nobody
    /// can tell the two apart until the client reveals (`reveal_canary`).
    pub verification: [u8; 32],
    /// The replica group this job is one replica of (`ReplicaGroup`), or `Pubkey::default()`
    /// for an ordinary job. A replica is taken with its group, commits and reveals its
    /// result through it, and is settled by the group's majority (`settle_replica`), never
    /// by the client's approval, a finalization or a dispute.
    pub replica_group: Pubkey,
}

/// Byte offsets in a job account's data, for `memcmp` filters and `dataSlice` reads. The
/// requirements start with the GPU class (`GPU_CLASS`). `ASSIGNMENT` is the assignment's
/// `Option` tag (1 when assigned), followed by the provider's address: the last field at a
/// fixed offset.
#[allow(
    clippy::arithmetic_side_effects,
    reason = "constants, checked at compile time"
)]
pub mod layout {
    use super::{JobKind, JobMode, JobStatus, JobTerms};
    use anchor_lang::prelude::Pubkey;
    use provider_registry::eligibility::Requirements;

    staking::account_layout! { 8;
        STATUS: JobStatus,
        REQUIREMENTS: Requirements,
        MODE: JobMode,
        KIND: JobKind,
        PAYMENT_MINT: Pubkey,
        CLIENT: Pubkey,
        JOB_ID: u64,
        MAX_PRICE_PER_GPU_HOUR: u64,
        MAX_DURATION: i64,
        ESCROWED: u64,
        BUDGET: u64,
        TIP_RESERVE: u64,
        BILLED: u64,
        ATTEMPT_BILLED: u64,
        BID_DEADLINE: i64,
        MATCH_DEADLINE: i64,
        CREATED_AT: i64,
        STARTED_AT: i64,
        LAST_HEARTBEAT: i64,
        TERMS: JobTerms,
        ATTEMPTS: u8,
        BUMP: u8,
        VAULT_BUMP: u8,
        ASSIGNMENT: Option<super::Assignment>,
    }

    /// The requirements' first field.
    pub const GPU_CLASS: usize = REQUIREMENTS;
    /// The assigned provider's address, after the `Option` tag.
    pub const ASSIGNED_PROVIDER: usize = ASSIGNMENT + 1;
}

/// What a provider is owed for service up to some moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Payout {
    /// GPU-seconds delivered in this attempt.
    pub gpu_seconds: u64,
    /// Billed now: `to_provider + fee`.
    pub gross: u64,
    pub to_provider: u64,
    pub fee: u64,
}

/// The commitment of a known-answer job whose correct result hash is `expected`:
/// `sha256(expected || salt)`.
pub fn canary_commitment(expected: &[u8; 32], salt: &[u8; 32]) -> [u8; 32] {
    solana_sha256_hasher::hashv(&[expected, salt]).to_bytes()
}

impl Job {
    pub const SEED: &'static [u8] = b"job";
    pub const VAULT_SEED: &'static [u8] = b"vault";
    pub const SPACE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;

    fn require_status(&self, status: JobStatus, error: EscrowError) -> Result<()> {
        if self.status == status {
            Ok(())
        } else {
            Err(error.into())
        }
    }

    pub fn is_replica(&self) -> bool {
        self.replica_group != Pubkey::default()
    }

    /// Refuses anything but a replica of `group`.
    pub fn require_replica_of(&self, group: &Pubkey) -> Result<()> {
        require!(self.is_replica(), EscrowError::NotReplicaJob);
        require_keys_eq!(self.replica_group, *group, EscrowError::WrongReplicaGroup);
        Ok(())
    }

    /// Refuses a replica job on a path that would settle or change it outside its group.
    pub fn require_not_replica(&self) -> Result<()> {
        require!(!self.is_replica(), EscrowError::ReplicaJob);
        Ok(())
    }

    pub fn assignment(&self) -> Result<Assignment> {
        self.assignment.ok_or(error!(EscrowError::JobNotAssigned))
    }

    /// Stake the current provider has locked behind this job: the job's collateral while
    /// a provider holds it (from assignment to the end of its attempt), else nothing.
    pub fn collateral_locked(&self) -> u64 {
        if self.assignment.is_some() {
            self.terms.collateral()
        } else {
            0
        }
    }

    /// Open -> Assigned; the caller locks `collateral_locked()` on the provider's stake.
    pub fn assign(&mut self, assignment: Assignment) -> Result<()> {
        self.require_status(JobStatus::Open, EscrowError::JobNotOpen)?;
        self.assignment = Some(assignment);
        self.attempt_billed = 0;
        self.best_bid = None;
        self.attempts = self
            .attempts
            .checked_add(1)
            .ok_or(error!(EscrowError::MathOverflow))?;
        self.status = JobStatus::Assigned;
        Ok(())
    }

    /// The auction's winner could not take the job: it is barred from bidding again and the
    /// job takes bids for another window, or, once too many winners were refused, becomes
    /// reclaimable at once.
    pub fn reopen_auction(&mut self, refused: Pubkey, now: i64) -> Result<()> {
        self.best_bid = None;
        if self.refused_bidders.len() < MAX_REFUSED_BIDDERS {
            self.refused_bidders.push(refused);
        }
        self.bid_deadline = if self.refused_bidders.len() < MAX_REFUSED_BIDDERS {
            now.checked_add(self.terms.bid_window)
                .ok_or(error!(EscrowError::MathOverflow))?
        } else {
            now
        };
        Ok(())
    }

    /// When the challenge window of the submitted result closes.
    pub fn challenge_ends_at(&self) -> Result<i64> {
        let submitted_at = self
            .result
            .as_ref()
            .map(|r| r.submitted_at)
            .ok_or(error!(EscrowError::NoResultSubmitted))?;
        submitted_at
            .checked_add(self.terms.challenge_window)
            .ok_or(error!(EscrowError::MathOverflow))
    }

    /// Whether the provider still holds the GPUs: from assignment until it ends, except
    /// that a batch result frees them (the challenge window only concerns money).
    pub fn holds_gpus(&self) -> bool {
        matches!(self.status, JobStatus::Assigned | JobStatus::Running)
    }

    /// Records `bid` if it beats the best bid so far (strictly lower price).
    pub fn bid(&mut self, bid: Bid) -> Result<()> {
        self.require_status(JobStatus::Open, EscrowError::JobNotOpen)?;
        require!(self.mode == JobMode::Auction, EscrowError::NotAuctionMode);
        require!(bid.price_per_gpu_hour > 0, EscrowError::ZeroBid);
        require!(
            self.refused_bidders.len() < MAX_REFUSED_BIDDERS,
            EscrowError::AuctionExhausted
        );
        require!(
            !self.refused_bidders.contains(&bid.provider),
            EscrowError::BidderRefused
        );
        require!(
            bid.placed_at < self.bid_deadline,
            EscrowError::BidWindowClosed
        );
        require!(
            bid.price_per_gpu_hour <= self.max_price_per_gpu_hour,
            EscrowError::PriceAboveMax
        );
        if let Some(best) = self.best_bid {
            require!(
                bid.price_per_gpu_hour < best.price_per_gpu_hour,
                EscrowError::BidNotLower
            );
        }
        self.best_bid = Some(bid);
        Ok(())
    }

    /// Assigned -> Running, within the start timeout.
    pub fn start(&mut self, now: i64) -> Result<()> {
        self.require_status(JobStatus::Assigned, EscrowError::JobNotAssigned)?;
        require!(
            now <= self.start_deadline()?,
            EscrowError::StartTimeoutPassed
        );
        self.status = JobStatus::Running;
        self.started_at = now;
        self.last_heartbeat = now;
        Ok(())
    }

    pub fn start_deadline(&self) -> Result<i64> {
        self.assignment()?
            .assigned_at
            .checked_add(self.terms.start_timeout)
            .ok_or(error!(EscrowError::MathOverflow))
    }

    /// When the billable run ends at the latest.
    pub fn run_deadline(&self) -> Result<i64> {
        self.started_at
            .checked_add(self.max_duration)
            .ok_or(error!(EscrowError::MathOverflow))
    }

    /// Whether a running job's heartbeats have lapsed: silent for longer than the grace
    /// before the end of its run. A lapsed lease can only be expired (a late heartbeat
    /// cannot revive it, nor can it be finalized to bill the silent time); a lapsed batch
    /// job may still deliver its result in time, which is what it is paid for.
    pub fn heartbeat_lapsed(&self, now: i64) -> Result<bool> {
        let silent_since = self
            .last_heartbeat
            .checked_add(self.terms.heartbeat_grace)
            .ok_or(error!(EscrowError::MathOverflow))?;
        Ok(self.status == JobStatus::Running
            && now > silent_since
            && silent_since < self.run_deadline()?)
    }

    /// A heartbeat of a running job. A lease's heartbeats are its proof of service (it is
    /// billed up to the last one), so once they lapsed a late one cannot revive the lease
    /// and bill the silent time. A batch job is paid up to its result, which it may still
    /// deliver within its max duration.
    pub fn heartbeat(&mut self, now: i64) -> Result<()> {
        self.require_status(JobStatus::Running, EscrowError::JobNotRunning)?;
        require!(
            self.kind != JobKind::Lease || !self.heartbeat_lapsed(now)?,
            EscrowError::HeartbeatLapsed
        );
        self.last_heartbeat = self.last_heartbeat.max(now);
        Ok(())
    }

    /// Running -> ResultSubmitted (batch jobs, before the max duration ends).
    pub fn submit(&mut self, result: JobResult) -> Result<()> {
        self.require_status(JobStatus::Running, EscrowError::JobNotRunning)?;
        require!(self.kind == JobKind::Batch, EscrowError::NotBatchJob);
        require!(
            result.submitted_at <= self.run_deadline()?,
            EscrowError::DurationExceeded
        );

        require!(result.uri.len() <= MAX_URI_LEN, EscrowError::UriTooLong);
        self.last_heartbeat = result.submitted_at;
        self.result = Some(result);
        self.status = JobStatus::ResultSubmitted;
        Ok(())
    }

    /// Until when service counts as delivered: a batch job's result time; for a lease, now,
    /// but never past the last heartbeat plus `grace` nor the max duration.
    pub fn served_until(&self, now: i64, grace: i64) -> Result<i64> {
        if let Some(result) = &self.result {
            return Ok(result.submitted_at);
        }
        let alive_until = self
            .last_heartbeat
            .checked_add(grace)
            .ok_or(error!(EscrowError::MathOverflow))?;
        Ok(now.min(alive_until).min(self.run_deadline()?))
    }

    /// Seconds served from the start until `until`, within the max duration.
    pub fn served_seconds(&self, until: i64) -> Result<u64> {
        let seconds = until
            .checked_sub(self.started_at)
            .ok_or(error!(EscrowError::MathOverflow))?
            .clamp(0, self.max_duration);
        u64::try_from(seconds).map_err(|_| error!(EscrowError::MathOverflow))
    }

    /// What the current provider is owed for its service until `until` beyond what it was
    /// already paid in this attempt. Each attempt is billed on its own, at its provider's
    /// price; the attempt's total is rounded down once, so per-second billing never pays
    /// for a fraction of a base unit. Billing never passes what the budget still holds.
    pub fn payout(&self, until: i64) -> Result<Payout> {
        let assignment = self.assignment()?;
        let seconds = self.served_seconds(until)?;
        let total = math::cost(
            assignment.price_per_gpu_hour,
            self.requirements.gpu_count,
            seconds,
        )?;
        let gross = total
            .saturating_sub(self.attempt_billed)
            .min(self.budget.saturating_sub(self.billed));
        let fee = math::bps_of(gross, self.terms.protocol_fee_bps)?;
        Ok(Payout {
            gpu_seconds: seconds
                .checked_mul(u64::from(self.requirements.gpu_count))
                .ok_or(error!(EscrowError::MathOverflow))?,
            gross,
            to_provider: math::sub(gross, fee)?,
            fee,
        })
    }

    /// Books a payout.
    pub fn bill(&mut self, payout: &Payout) -> Result<()> {
        self.billed = math::add(self.billed, payout.gross)?;
        self.attempt_billed = math::add(self.attempt_billed, payout.gross)?;
        require!(
            self.billed <= self.budget,
            EscrowError::WithdrawExceedsEarned
        );
        Ok(())
    }

    /// Takes the fees held for the treasury since the attempt began, to pay them out.
    pub fn take_fees_held(&mut self) -> u64 {
        std::mem::take(&mut self.fees_held)
    }

    /// Takes one attempt's crank tip from the reserve.
    pub fn take_tip(&mut self) -> u64 {
        let tip = self.terms.crank_tip.min(self.tip_reserve);
        self.tip_reserve = self.tip_reserve.saturating_sub(tip);
        tip
    }

    /// Back to Open for another provider after a fault. A lease keeps only the duration it
    /// has not served, so the remaining deposit still covers the rest.
    /// Back to Open after a failed attempt. `unseen` is a provider whose missed start of a
    /// matcher's assignment went unslashed: it stays refused for this job.
    pub fn requeue(&mut self, now: i64, served: u64, unseen: Option<Pubkey>) -> Result<()> {
        if self.kind == JobKind::Lease {
            let served = i64::try_from(served).map_err(|_| error!(EscrowError::MathOverflow))?;
            self.max_duration = self
                .max_duration
                .checked_sub(served)
                .ok_or(error!(EscrowError::MathOverflow))?;
        }
        self.status = JobStatus::Open;
        self.assignment = None;
        self.attempt_billed = 0;
        self.best_bid = None;
        self.started_at = 0;
        self.last_heartbeat = 0;
        self.result = None;
        self.refused_bidders.clear();
        if let Some(passed) = unseen {
            // The matcher does not hand this job to that node again.
            self.refused_bidders.push(passed);
        }
        // Never earlier than it was: a replica stays unreclaimable while a provider may
        // still take it (an ordinary job's deadline has passed by now anyway).
        self.bid_deadline = self.bid_deadline.max(
            now.checked_add(self.terms.bid_window)
                .ok_or(error!(EscrowError::MathOverflow))?,
        );
        self.match_deadline = now
            .checked_add(self.terms.match_window)
            .ok_or(error!(EscrowError::MathOverflow))?;
        Ok(())
    }

    /// May the matcher assign this job to `provider` at `now`? An open instant job, signed
    /// by the matcher its terms name (and still the market's: removing or replacing the
    /// matcher revokes it on existing jobs too), within its match window, to a provider that
    /// has not declined it.
    pub fn check_matcher(
        &self,
        signer: &Pubkey,
        market_matcher: &Pubkey,
        provider: &Pubkey,
        now: i64,
    ) -> Result<()> {
        require!(self.mode == JobMode::Instant, EscrowError::NotInstantMode);
        let matcher = self.terms.matcher;
        require!(
            matcher != Pubkey::default() && *signer == matcher && *market_matcher == matcher,
            EscrowError::NotMatcher
        );
        require!(now < self.match_deadline, EscrowError::MatchWindowClosed);
        require!(
            self.refused_bidders.len() < MAX_REFUSED_BIDDERS,
            EscrowError::MatcherExhausted
        );
        require!(
            !self.refused_bidders.contains(provider),
            EscrowError::ProviderDeclined
        );
        Ok(())
    }

    /// May a provider take this open instant job itself at `now`? Once the matcher's window
    /// has closed, or at once when the job's matcher is no longer the market's
    /// (`market_matcher`).
    pub fn check_match_window(&self, market_matcher: &Pubkey, now: i64) -> Result<()> {
        require!(
            now >= self.match_deadline || *market_matcher != self.terms.matcher,
            EscrowError::MatchWindowOpen
        );
        Ok(())
    }

    /// Assigned -> Open: the provider turned down the matcher's assignment before starting,
    /// within `DECLINE_WINDOW` of it and the start timeout. The attempt is not counted, the
    /// provider may not be assigned the job again, and the job stays open at least one more
    /// bid window; the match window is not re-opened.
    pub fn decline(&mut self, now: i64) -> Result<Assignment> {
        self.require_status(JobStatus::Assigned, EscrowError::NotMatcherAssignment)?;
        let assignment = self.assignment()?;
        require!(assignment.by_matcher, EscrowError::NotMatcherAssignment);
        let decline_by = assignment
            .assigned_at
            .checked_add(DECLINE_WINDOW)
            .ok_or(error!(EscrowError::MathOverflow))?
            .min(self.start_deadline()?);
        require!(now <= decline_by, EscrowError::DeclineWindowClosed);
        // The matcher assigns only while the list has room, so there always is; were it
        // full, the decline must still go through.
        if self.refused_bidders.len() < MAX_REFUSED_BIDDERS {
            self.refused_bidders.push(assignment.provider);
        }
        self.status = JobStatus::Open;
        self.assignment = None;
        self.attempts = self
            .attempts
            .checked_sub(1)
            .ok_or(error!(EscrowError::MathOverflow))?;
        self.bid_deadline = self.bid_deadline.max(
            now.checked_add(self.terms.bid_window)
                .ok_or(error!(EscrowError::MathOverflow))?,
        );
        Ok(assignment)
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests;
