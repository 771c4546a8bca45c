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
    /// Every provider, with its authority's active and unlocked stake. The chain reserves
    /// a job's GPUs when it is assigned, so `gpus_in_use` already counts every held job.
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
        let stakes: HashMap<Pubkey, (u64, u64)> = chain
            .fetch_all::<StakeAccount>(&staking::ID)?
            .into_iter()
            .map(|(_, s)| (s.owner, (s.active, s.unlocked())))
            .collect();
        let jobs = chain.fetch_all::<Job>(&job_escrow::ID)?;
        let providers = chain
            .fetch_all::<Provider>(&provider_registry::ID)?
            .into_iter()
            .map(|(address, provider)| {
                let (active_stake, unlocked_stake) =
                    stakes.get(&provider.authority).copied().unwrap_or_default();
                ProviderView {
                    address,
                    active_stake,
                    unlocked_stake,
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
    pub fn policy(&self) -> EligibilityPolicy<'_> {
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
