use crate::{constants::MAX_URI_LEN, error::EscrowError, math};
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
    Open,
    Assigned,
    Running,
    ResultSubmitted,
}

/// The provider a job is assigned to, at the agreed price.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Assignment {
    /// The provider account (registry PDA).
    pub provider: Pubkey,
    /// Its authority, paid at settlement.
    pub authority: Pubkey,
    /// Its operator, which starts, heartbeats and submits.
    pub operator: Pubkey,
    pub price_per_gpu_hour: u64,
    pub assigned_at: i64,
}

#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Debug, PartialEq, Eq)]
pub struct JobResult {
    pub hash: [u8; 32],
    #[max_len(MAX_URI_LEN)]
    pub uri: String,
    pub submitted_at: i64,
}

/// A compute job and the terms of its escrow. Its tokens sit in the vault PDA
/// `["vault", job]`, whose authority is the job itself.
#[account]
#[derive(InitSpace, Debug)]
pub struct Job {
    pub client: Pubkey,
    pub job_id: u64,
    pub requirements: Requirements,
    pub workload: Workload,
    pub kind: JobKind,
    pub mode: JobMode,
    pub max_price_per_gpu_hour: u64,
    /// Longest billable run, in seconds.
    pub max_duration: i64,
    pub payment_mint: Pubkey,
    /// Deposited: max cost plus the crank tip.
    pub escrowed: u64,
    pub crank_tip: u64,
    pub paid_out: u64,
    pub status: JobStatus,
    pub assignment: Option<Assignment>,
    pub created_at: i64,
    pub started_at: i64,
    pub last_heartbeat: i64,
    pub result: Option<JobResult>,
    pub attempts: u8,
    pub bump: u8,
    pub vault_bump: u8,
}

impl Job {
    pub const SEED: &'static [u8] = b"job";
    pub const VAULT_SEED: &'static [u8] = b"vault";
    pub const SPACE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;

    fn expect(&self, status: JobStatus, error: EscrowError) -> Result<()> {
        if self.status == status {
            Ok(())
        } else {
            Err(error.into())
        }
    }

    pub fn assignment(&self) -> Result<Assignment> {
        self.assignment.ok_or(error!(EscrowError::JobNotAssigned))
    }

    /// Open -> Assigned.
    pub fn assign(&mut self, assignment: Assignment) -> Result<()> {
        self.expect(JobStatus::Open, EscrowError::JobNotOpen)?;
        self.assignment = Some(assignment);
        self.attempts = self
            .attempts
            .checked_add(1)
            .ok_or(error!(EscrowError::MathOverflow))?;
        self.status = JobStatus::Assigned;
        Ok(())
    }

    /// Assigned -> Running, within the start timeout.
    pub fn start(&mut self, now: i64, start_timeout: i64) -> Result<()> {
        self.expect(JobStatus::Assigned, EscrowError::JobNotAssigned)?;
        let deadline = self
            .assignment()?
            .assigned_at
            .checked_add(start_timeout)
            .ok_or(error!(EscrowError::MathOverflow))?;
        require!(now <= deadline, EscrowError::StartTimeoutPassed);
        self.status = JobStatus::Running;
        self.started_at = now;
        self.last_heartbeat = now;
        Ok(())
    }

    /// When the billable run ends at the latest.
    pub fn run_deadline(&self) -> Result<i64> {
        self.started_at
            .checked_add(self.max_duration)
            .ok_or(error!(EscrowError::MathOverflow))
    }

    pub fn heartbeat(&mut self, now: i64) -> Result<()> {
        self.expect(JobStatus::Running, EscrowError::JobNotRunning)?;
        self.last_heartbeat = self.last_heartbeat.max(now);
        Ok(())
    }

    /// Running -> ResultSubmitted (batch jobs, before the max duration ends).
    pub fn submit(&mut self, result: JobResult) -> Result<()> {
        self.expect(JobStatus::Running, EscrowError::JobNotRunning)?;
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

    /// Seconds of GPU time delivered, from start to the result (capped at max duration).
    pub fn billable_seconds(&self) -> Result<u64> {
        let end = self
            .result
            .as_ref()
            .map(|r| r.submitted_at)
            .ok_or(error!(EscrowError::NoResultSubmitted))?;
        let seconds = end
            .checked_sub(self.started_at)
            .ok_or(error!(EscrowError::MathOverflow))?
            .clamp(0, self.max_duration);
        u64::try_from(seconds).map_err(|_| error!(EscrowError::MathOverflow))
    }

    /// How a completed job's deposit divides, for the result submitted.
    pub fn settlement(&self, fee_bps: u16) -> Result<Settlement> {
        let assignment = self.assignment()?;
        let seconds = self.billable_seconds()?;
        let cost = math::cost(
            assignment.price_per_gpu_hour,
            self.requirements.gpu_count,
            seconds,
        )?;
        let fee = math::bps_of(cost, fee_bps)?;
        let to_provider = math::sub(cost, fee)?;
        let refund = math::sub(self.escrowed, cost)?;
        Ok(Settlement {
            gpu_seconds: seconds
                .checked_mul(u64::from(self.requirements.gpu_count))
                .ok_or(error!(EscrowError::MathOverflow))?,
            to_provider,
            fee,
            refund,
        })
    }
}

/// How a finished job's deposit divides. `to_provider + fee + refund == escrowed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    pub gpu_seconds: u64,
    pub to_provider: u64,
    pub fee: u64,
    /// Unused budget and the crank tip, back to the client.
    pub refund: u64,
}
