//! A snapshot of the market as the chain holds it: the configs, providers with their stake,
//! and jobs. The matcher, the driver, the provider agent and the CLI all work from one, so
//! they agree on what they saw. [`MarketSnapshot::load`] reads the whole market;
//! [`MarketSnapshot::for_provider`] only what one provider's agent needs, in a fixed number
//! of reads whatever the market's size.

use crate::{
    error::ClientError,
    escrow::{Job, JobMode, JobStatus, MarketConfig, ReplicaGroup},
    filters, pda,
    registry::{EligibilityPolicy, Provider, RegistryConfig},
    rewards::EmissionConfig,
    staking::{StakeAccount, StakingConfig},
    Chain,
};
use anchor_lang::{solana_program::pubkey::Pubkey, AccountDeserialize};
use provider_registry::eligibility::ClassFilter;
use solana_account::Account;
use std::collections::HashMap;

/// The Anchor account of type `T` in `account`, read at `address`.
pub(crate) fn decode<T: AccountDeserialize>(
    address: &Pubkey,
    account: &Account,
) -> Result<T, ClientError> {
    T::try_deserialize(&mut account.data.as_slice()).map_err(|err| ClientError::Decode {
        address: *address,
        expected: std::any::type_name::<T>(),
        reason: err.to_string(),
    })
}

/// The Anchor account of type `T` read at `address`, which must exist.
fn decode_required<T: AccountDeserialize>(
    address: &Pubkey,
    account: Option<Account>,
) -> Result<T, ClientError> {
    decode(
        address,
        &account.ok_or(ClientError::AccountNotFound(*address))?,
    )
}

/// The Anchor account of type `T` read at `address`, if there is one.
fn decode_optional<T: AccountDeserialize>(
    address: &Pubkey,
    account: Option<Account>,
) -> Result<Option<T>, ClientError> {
    account.map(|a| decode(address, &a)).transpose()
}

/// The token program (owner) of each of `mints`, read in one call.
fn token_programs<'a>(
    chain: &mut impl Chain,
    mints: impl Iterator<Item = &'a Pubkey>,
) -> Result<HashMap<Pubkey, Pubkey>, ClientError> {
    let mut unique: Vec<Pubkey> = mints.copied().collect();
    unique.sort();
    unique.dedup();
    let accounts = chain.accounts(&unique)?;
    unique
        .into_iter()
        .zip(accounts)
        .map(|(mint, account)| {
            let owner = account.ok_or(ClientError::AccountNotFound(mint))?.owner;
            Ok((mint, owner))
        })
        .collect()
}

/// The replica groups of the replica jobs among `jobs` that are open (which authorities
/// may take them) or committed (whether they settle yet), read 100 to a call.
fn replica_groups(
    chain: &mut impl Chain,
    jobs: &[(Pubkey, Job)],
) -> Result<HashMap<Pubkey, ReplicaGroup>, ClientError> {
    let mut addresses: Vec<Pubkey> = jobs
        .iter()
        .filter(|(_, job)| {
            job.is_replica() && matches!(job.status, JobStatus::Open | JobStatus::ResultSubmitted)
        })
        .map(|(_, job)| job.replica_group)
        .collect();
    addresses.sort();
    addresses.dedup();
    let mut groups = HashMap::new();
    for chunk in addresses.chunks(100) {
        for (address, account) in chunk.iter().zip(chain.accounts(chunk)?) {
            if let Some(group) = decode_optional::<ReplicaGroup>(address, account)? {
                groups.insert(*address, group);
            }
        }
    }
    Ok(groups)
}

/// A provider as the matcher sees it.
#[derive(Debug, Clone)]
pub struct ProviderView {
    /// The provider account's address.
    pub address: Pubkey,
    pub provider: Provider,
    /// Its authority's active stake.
    pub active_stake: u64,
    /// The part of it not locked behind jobs: what new jobs' collateral can come from.
    pub unlocked_stake: u64,
}

/// An open job as the matcher sees it.
#[derive(Debug, Clone)]
pub struct OpenJob {
    /// The job account's address.
    pub address: Pubkey,
    pub job: Job,
}

/// One pairing of a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    pub job: Pubkey,
    pub provider: Pubkey,
    /// What the provider will be paid per GPU-hour (its listed price).
    pub price_per_gpu_hour: u64,
    pub mode: JobMode,
}

/// What a snapshot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every provider and every job.
    Market,
    /// One provider (the authority's), the jobs assigned to it and the open jobs it could
    /// take (of its GPU class or open to any, paid in its mint).
    Provider(Pubkey),
}

/// The market at one moment.
#[derive(Debug, Clone)]
pub struct MarketSnapshot {
    /// What the snapshot holds.
    pub scope: Scope,
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
    /// The replica group of each open or committed replica job, by address: which
    /// authorities already hold one of its replicas (an open replica whose group is not here
    /// is not offered), and whether its reveals are final (a committed replica settles).
    pub replica_groups: HashMap<Pubkey, ReplicaGroup>,
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
            .fetch_all::<StakeAccount>(&crate::program_ids::staking())?
            .into_iter()
            .map(|(_, s)| (s.owner, (s.active, s.unlocked())))
            .collect();
        let jobs = chain.fetch_all::<Job>(&crate::program_ids::job_escrow())?;
        let providers = chain
            .fetch_all::<Provider>(&crate::program_ids::provider_registry())?
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
        let mints = escrow.allowed_mints.iter().chain([&staking.stake_mint]);
        let token_programs = token_programs(
            chain,
            mints.chain(jobs.iter().map(|(_, j)| &j.payment_mint)),
        )?;
        let replica_groups = replica_groups(chain, &jobs)?;
        Ok(Self {
            scope: Scope::Market,
            now,
            staking,
            registry,
            escrow,
            emission,
            providers,
            jobs,
            token_programs,
            replica_groups,
        })
    }

    /// Reads what the agent of the provider registered by `authority` needs, in six reads
    /// whatever the market's size: the clock; the configs, the provider and its stake account
    /// in one `getMultipleAccounts`; the jobs assigned to the provider; the open jobs of its
    /// GPU class and those open to any class, paid in its mint (`getProgramAccounts` with
    /// `memcmp` filters); the token programs of the mints involved. Without a registered
    /// provider the snapshot holds no provider and no job.
    pub fn for_provider(chain: &mut impl Chain, authority: &Pubkey) -> Result<Self, ClientError> {
        let now = chain.now()?;
        let provider_address = pda::provider(authority);
        let addresses = [
            pda::staking_config(),
            pda::registry_config(),
            pda::market_config(),
            pda::emission_config(),
            provider_address,
            pda::stake_account(authority),
        ];
        let [staking, registry, escrow, emission, provider, stake] =
            <[Option<Account>; 6]>::try_from(chain.accounts(&addresses)?).map_err(|got| {
                ClientError::Backend(format!("asked for 6 accounts, got {}", got.len()))
            })?;
        let staking: StakingConfig = decode_required(&addresses[0], staking)?;
        let registry: RegistryConfig = decode_required(&addresses[1], registry)?;
        let escrow: MarketConfig = decode_required(&addresses[2], escrow)?;
        let emission: Option<EmissionConfig> = decode_optional(&addresses[3], emission)?;
        let provider: Option<Provider> = decode_optional(&addresses[4], provider)?;
        let stake: Option<StakeAccount> = decode_optional(&addresses[5], stake)?;

        let mut providers = Vec::new();
        let mut jobs = Vec::new();
        if let Some(provider) = provider {
            let filters = |class| {
                [
                    filters::job::open_for(class),
                    filters::job::paid_in(&provider.payment_mint),
                ]
            };
            jobs = chain.fetch_where::<Job>(
                &crate::program_ids::job_escrow(),
                &[filters::job::assigned_to(&provider_address)],
            )?;
            for class in [
                ClassFilter::from(provider.hardware.gpu_class),
                ClassFilter::Any,
            ] {
                jobs.extend(
                    chain.fetch_where::<Job>(&crate::program_ids::job_escrow(), &filters(class))?,
                );
            }
            jobs.sort_by_key(|(address, _)| *address);
            jobs.dedup_by_key(|(address, _)| *address);
            providers.push(ProviderView {
                address: provider_address,
                active_stake: stake.as_ref().map_or(0, |s| s.active),
                unlocked_stake: stake.as_ref().map_or(0, |s| s.unlocked()),
                provider,
            });
        }
        let mints = providers
            .iter()
            .map(|p| &p.provider.payment_mint)
            .chain([&staking.stake_mint])
            .chain(jobs.iter().map(|(_, j)| &j.payment_mint));
        let token_programs = token_programs(chain, mints)?;
        let replica_groups = replica_groups(chain, &jobs)?;
        Ok(Self {
            scope: Scope::Provider(*authority),
            now,
            staking,
            registry,
            escrow,
            emission,
            providers,
            jobs,
            token_programs,
            replica_groups,
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
    /// window has not closed. A replica is offered only while its group is complete and a
    /// provider may still take it, and not to the providers of the authorities that hold
    /// (or held) another replica of its group, nor to its client's own: they are added to
    /// its refused providers, which the matching round skips.
    pub fn open_jobs(&self) -> Vec<OpenJob> {
        self.jobs
            .iter()
            .filter(|(_, job)| {
                job.status == JobStatus::Open
                    && (job.mode == JobMode::Instant || self.now < job.bid_deadline)
            })
            .filter_map(|(address, job)| {
                let mut job = job.clone();
                if job.is_replica() {
                    let group = self.replica_groups.get(&job.replica_group)?;
                    let open = group.is_complete()
                        && group.last_claim_at(&job).is_ok_and(|last| self.now < last);
                    if !open {
                        return None;
                    }
                    job.refused_bidders.extend(
                        group
                            .slots
                            .iter()
                            .filter(|slot| slot.job != *address)
                            .map(|slot| slot.authority)
                            .chain([group.client])
                            .filter(|authority| *authority != Pubkey::default())
                            .map(|authority| pda::provider(&authority)),
                    );
                }
                Some(OpenJob {
                    address: *address,
                    job,
                })
            })
            .collect()
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
