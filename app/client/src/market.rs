//! A snapshot of the whole market as the chain holds it: the configs, every provider with
//! its stake, and every job. The matcher, the driver, the provider agent and the CLI all
//! work from one, so they agree on what they saw.

use crate::{
    error::ClientError,
    escrow::{Job, JobMode, JobStatus, MarketConfig},
    matcher::{self, Match, OpenJob, ProviderView},
    pda,
    registry::{EligibilityPolicy, Provider, RegistryConfig},
    rewards::EmissionConfig,
    staking::{StakeAccount, StakingConfig},
    Chain,
};
use anchor_lang::solana_program::pubkey::Pubkey;
use std::collections::HashMap;

/// The market at one moment.
#[derive(Debug, Clone)]
pub struct MarketSnapshot {
    /// The cluster's unix time when the snapshot was taken.
    pub now: i64,
    /// The staking config (stake mint, treasury).
    pub staking: StakingConfig,
    /// The registry config (stake minimum, heartbeat rules).
    pub registry: RegistryConfig,
    /// The job escrow's market config (fees, timeouts, slashes).
    pub escrow: MarketConfig,
    /// The reward emission schedule, when rewards are set up.
    pub emission: Option<EmissionConfig>,
    /// Every provider, with its authority's active stake. A provider's `gpus_in_use`
    /// also counts the GPUs of jobs assigned to it that have not started yet: the chain
    /// reserves them only at start, but they are promised.
    pub providers: Vec<ProviderView>,
    /// Every job, by address.
    pub jobs: Vec<(Pubkey, Job)>,
    /// The token program of each mint jobs are paid in (and of the stake mint).
    pub token_programs: HashMap<Pubkey, Pubkey>,
}

impl MarketSnapshot {
    /// Reads the market from `chain`. The staking, registry and escrow configs must exist.
    pub fn load(chain: &mut impl Chain) -> Result<Self, ClientError> {
        let now = chain.now()?;
        let staking: StakingConfig = chain.fetch(&pda::staking_config())?;
        let registry: RegistryConfig = chain.fetch(&pda::registry_config())?;
        let escrow: MarketConfig = chain.fetch(&pda::market_config())?;
        let emission = if chain.exists(&pda::emission_config())? {
            Some(chain.fetch(&pda::emission_config())?)
        } else {
            None
        };
        let stakes: HashMap<Pubkey, u64> = chain
            .fetch_all::<StakeAccount>(&staking::ID)?
            .into_iter()
            .map(|(_, s)| (s.owner, s.active))
            .collect();
        let jobs = chain.fetch_all::<Job>(&job_escrow::ID)?;
        let mut pending: HashMap<Pubkey, u16> = HashMap::new();
        for (_, job) in &jobs {
            if let (JobStatus::Assigned, Some(a)) = (job.status, job.assignment) {
                let gpus = pending.entry(a.provider).or_default();
                *gpus = gpus.saturating_add(job.requirements.gpu_count);
            }
        }
        let providers = chain
            .fetch_all::<Provider>(&provider_registry::ID)?
            .into_iter()
            .map(|(address, mut provider)| {
                let promised = pending.get(&address).copied().unwrap_or(0);
                provider.gpus_in_use = provider.gpus_in_use.saturating_add(promised);
                ProviderView {
                    address,
                    active_stake: stakes.get(&provider.authority).copied().unwrap_or(0),
                    provider,
                }
            })
            .collect();
        let mut token_programs = HashMap::new();
        let mints = escrow.allowed_mints.iter().chain([&staking.stake_mint]);
        for mint in mints.chain(jobs.iter().map(|(_, j)| &j.payment_mint)) {
            if !token_programs.contains_key(mint) {
                let owner = chain
                    .account(mint)?
                    .ok_or(ClientError::AccountNotFound(*mint))?
                    .owner;
                token_programs.insert(*mint, owner);
            }
        }
        Ok(Self {
            now,
            staking,
            registry,
            escrow,
            emission,
            providers,
            jobs,
            token_programs,
        })
    }

    /// The eligibility rules the registry enforces.
    pub fn policy(&self) -> EligibilityPolicy {
        self.registry.policy()
    }

    /// The provider registered by `authority`, if any.
    pub fn provider_of(&self, authority: &Pubkey) -> Option<&ProviderView> {
        self.providers
            .iter()
            .find(|p| p.provider.authority == *authority)
    }

    /// The provider at `address`, if any.
    pub fn provider(&self, address: &Pubkey) -> Option<&ProviderView> {
        self.providers.iter().find(|p| p.address == *address)
    }

    /// The job at `address`, if any.
    pub fn job(&self, address: &Pubkey) -> Option<&Job> {
        self.jobs.iter().find(|(a, _)| a == address).map(|(_, j)| j)
    }

    /// Jobs still looking for a provider: open instant jobs, and open auctions whose bid
    /// window has not closed.
    pub fn open_jobs(&self) -> Vec<OpenJob> {
        self.jobs
            .iter()
            .filter(|(_, job)| {
                job.status == JobStatus::Open
                    && (job.mode == JobMode::Instant || self.now < job.bid_deadline)
            })
            .map(|(address, job)| OpenJob {
                address: *address,
                job: job.clone(),
            })
            .collect()
    }

    /// One matcher round over the open jobs and every provider.
    pub fn match_round(&self) -> Vec<Match> {
        matcher::match_round(&self.open_jobs(), &self.providers, &self.policy(), self.now)
    }

    /// The token program of `mint`, defaulting to SPL Token for a mint not seen.
    pub fn token_program(&self, mint: &Pubkey) -> Pubkey {
        self.token_programs
            .get(mint)
            .copied()
            .unwrap_or(crate::token::TOKEN_PROGRAM)
    }

    /// The current reward epoch, when rewards are set up and have begun.
    pub fn reward_epoch(&self) -> Option<u64> {
        self.emission
            .as_ref()
            .and_then(|e| e.epoch_at(self.now).ok())
    }
}
