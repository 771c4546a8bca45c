use crate::{
    constants::{
        DISPUTE_TIMEOUT, MAX_ALLOWED_MINTS, MAX_ATTEMPTS, MAX_BID_WINDOW, MAX_CHALLENGE_WINDOW,
        MAX_HEARTBEAT_GRACE, MAX_JOB_DURATION, MAX_MATCH_WINDOW, MAX_PROTOCOL_FEE_BPS,
        MAX_START_TIMEOUT,
    },
    error::EscrowError,
    instructions::UpdateConfigArgs,
};
use anchor_lang::prelude::*;

/// Stake slashed for each kind of provider fault, in stake-mint base units.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlashAmounts {
    pub no_start: u64,
    pub heartbeat_lost: u64,
    pub no_result: u64,
    pub dispute_lost: u64,
    /// The provider's result differed from a known-answer (canary) job's committed answer.
    pub wrong_result: u64,
}

/// Market-wide parameters.
#[account]
#[derive(InitSpace, Debug)]
pub struct MarketConfig {
    pub admin: Pubkey,
    /// Wallet whose token accounts receive protocol fees.
    pub treasury: Pubkey,
    /// Resolves disputes.
    pub arbiter: Pubkey,
    pub protocol_fee_bps: u16,
    #[max_len(MAX_ALLOWED_MINTS)]
    pub allowed_mints: Vec<Pubkey>,
    /// How long an auction job takes bids.
    pub bid_window: i64,
    /// How long an assigned provider has to start.
    pub start_timeout: i64,
    /// How long a running job may go without a heartbeat.
    pub heartbeat_grace: i64,
    /// How long the client may dispute a batch result.
    pub challenge_window: i64,
    /// Provider attempts before a job is refunded instead of re-opened.
    pub max_attempts: u8,
    pub slash: SlashAmounts,
    /// Paid from each job's deposit to whoever cranks an expiry; refunded otherwise.
    pub crank_tip: u64,
    /// What a client posts to dispute a result, in the job's payment mint.
    pub dispute_bond: u64,
    /// Longest run a job may ask for, extensions included.
    pub max_job_duration: i64,
    /// Key of the operator's matcher service, which may assign open instant jobs to eligible
    /// providers; `Pubkey::default()` for none.
    pub matcher: Pubkey,
    /// How long after an instant job opens only the matcher may assign it; then any
    /// eligible provider may take it too. Zero without a matcher.
    pub match_window: i64,
    pub job_count: u64,
    pub bump: u8,
    pub authority_bump: u8,
    /// A proposed change, waiting out its timelock.
    pub pending: Option<PendingConfigUpdate>,
}

/// A proposed change of market parameters and when it may be applied.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Debug, PartialEq, Eq)]
pub struct PendingConfigUpdate {
    pub args: UpdateConfigArgs,
    pub eta: i64,
}

impl MarketConfig {
    pub const SEED: &'static [u8] = b"config";
    /// The PDA that signs this program's CPIs into the registry and staking.
    pub const AUTHORITY_SEED: &'static [u8] = b"escrow_authority";
    pub const SPACE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;

    /// Sets every parameter `args` names.
    pub fn apply(&mut self, args: &UpdateConfigArgs) {
        let a = args.clone();
        self.admin = a.new_admin.unwrap_or(self.admin);
        self.treasury = a.treasury.unwrap_or(self.treasury);
        self.arbiter = a.arbiter.unwrap_or(self.arbiter);
        self.protocol_fee_bps = a.protocol_fee_bps.unwrap_or(self.protocol_fee_bps);
        if let Some(mints) = a.allowed_mints {
            self.allowed_mints = mints;
        }
        self.bid_window = a.bid_window.unwrap_or(self.bid_window);
        self.start_timeout = a.start_timeout.unwrap_or(self.start_timeout);
        self.heartbeat_grace = a.heartbeat_grace.unwrap_or(self.heartbeat_grace);
        self.challenge_window = a.challenge_window.unwrap_or(self.challenge_window);
        self.max_attempts = a.max_attempts.unwrap_or(self.max_attempts);
        self.slash = a.slash.unwrap_or(self.slash);
        self.crank_tip = a.crank_tip.unwrap_or(self.crank_tip);
        self.dispute_bond = a.dispute_bond.unwrap_or(self.dispute_bond);
        self.max_job_duration = a.max_job_duration.unwrap_or(self.max_job_duration);
        self.matcher = a.matcher.unwrap_or(self.matcher);
        self.match_window = a.match_window.unwrap_or(self.match_window);
    }

    pub fn allows(&self, mint: &Pubkey) -> bool {
        self.allowed_mints.contains(mint)
    }

    /// The longest one provider can hold a job: starting at the last moment, running the
    /// longest allowed duration, the grace, the challenge window and a dispute the arbiter
    /// leaves to its timeout. Stake locked behind a job must stay slashable that long.
    pub fn job_lifetime(&self) -> Result<i64> {
        [
            self.start_timeout,
            self.heartbeat_grace,
            self.challenge_window,
            DISPUTE_TIMEOUT,
        ]
        .iter()
        .try_fold(self.max_job_duration, |sum, v| sum.checked_add(*v))
        .ok_or(error!(EscrowError::MathOverflow))
    }

    /// Locked stake cannot be unbonded, and as a second line the staking cooldown must
    /// outlast the longest job, so stake unbonding when a job was taken is still there to
    /// slash when the job ends.
    pub fn check_cooldown(&self, staking: &staking::state::StakingConfig) -> Result<()> {
        require!(
            staking.unbonding_period >= self.job_lifetime()?,
            EscrowError::CooldownShorterThanJobLifetime
        );
        Ok(())
    }

    pub fn invariant(&self) -> Result<()> {
        require!(
            self.protocol_fee_bps <= MAX_PROTOCOL_FEE_BPS,
            EscrowError::InvalidFee
        );
        require!(
            self.allowed_mints.len() <= MAX_ALLOWED_MINTS,
            EscrowError::TooManyMints
        );
        let within = |v: i64, max: i64| v > 0 && v <= max;
        require!(
            within(self.bid_window, MAX_BID_WINDOW)
                && within(self.start_timeout, MAX_START_TIMEOUT)
                && within(self.heartbeat_grace, MAX_HEARTBEAT_GRACE)
                && within(self.challenge_window, MAX_CHALLENGE_WINDOW)
                && within(self.max_job_duration, MAX_JOB_DURATION)
                && self.max_attempts > 0
                && self.max_attempts <= MAX_ATTEMPTS,
            EscrowError::InvalidTiming
        );
        // Providers must get a fair turn at an instant job (at least half the bid window)
        // before it becomes reclaimable.
        let window_bound = if self.matcher == Pubkey::default() {
            0
        } else {
            MAX_MATCH_WINDOW.min(self.bid_window / 2)
        };
        require!(
            (0..=window_bound).contains(&self.match_window),
            EscrowError::InvalidMatchWindow
        );
        // A provider must never profit from cranking its own expiry, and a dispute must
        // cost the client something.
        let s = &self.slash;
        require!(
            s.no_start
                .min(s.heartbeat_lost)
                .min(s.no_result)
                .min(s.dispute_lost)
                .min(s.wrong_result)
                >= self.crank_tip
                && self.dispute_bond > 0,
            EscrowError::InvalidSlashOrBond
        );
        Ok(())
    }
}
