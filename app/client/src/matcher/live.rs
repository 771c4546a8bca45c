//! The market as the matcher service keeps it: read once (a snapshot, sharded so that no
//! single read returns the whole market), then kept current by account updates pushed by
//! the cluster, each applied only if it is not older than what is held for that account.
//!
//! [`LiveMarket`] does no I/O: [`LiveMarket::load`] reads through any [`Chain`], and the
//! caller feeds it [`Update`]s (from websocket subscriptions, or accounts it read back after
//! a transaction) and asks it, at the cluster's time, which assignments to send
//! ([`LiveMarket::tick`]) and which permissionless upkeep is due ([`LiveMarket::upkeep`]).
//!
//! Only the jobs this matcher may still assign sit in its [`Index`]: open instant jobs whose
//! terms name this matcher, while the market still does and their match window is open, and
//! fewer providers than the chain allows have declined them. When a window closes the job
//! leaves the index: the providers' agents take it from there. Auctions are never matched
//! here (the providers bid themselves); the service only closes them when their bid window
//! ends.
//!
//! A match holds its provider's GPUs and collateral in the index until the provider's own
//! account shows the job: when the job's update (assigned) arrives before the provider's,
//! the reservation stays until a provider update from the same slot or later is applied, so
//! the provider is never offered to a second job on GPUs the first one took.

use super::{Index, IndexSize, Match, OpenJob, ProviderView};
use crate::{
    driver::{self, Action},
    error::ClientError,
    escrow::{Job, JobMode, JobStatus, MarketConfig},
    filters,
    market::{MarketSnapshot, Scope},
    pda,
    registry::{EligibilityPolicy, Provider, RegistryConfig},
    rewards::EmissionConfig,
    staking::{StakeAccount, StakingConfig},
    Chain,
};
use anchor_lang::{solana_program::pubkey::Pubkey, AccountDeserialize, Discriminator};
use solana_account::Account;
use std::collections::{BTreeSet, HashMap};

/// An account as of a slot: pushed by a subscription or read back. `None`, or an account
/// no longer owned by a gpu-market program (a closed account), means it is gone.
#[derive(Debug, Clone)]
pub struct Update {
    pub address: Pubkey,
    pub slot: u64,
    pub account: Option<Account>,
}

/// What applying an [`Update`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Older than the state held for the account: dropped.
    Stale,
    /// Not an account the matcher keeps (a vault, an epoch, an unknown type).
    Ignored,
    Provider,
    Stake,
    Job,
    /// A config changed: the index was rebuilt under it.
    Config,
}

/// How a snapshot splits its reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shards {
    /// One `getProgramAccounts` per account type.
    Whole,
    /// 256 reads per account type, one per first byte of the provider's authority, the
    /// stake's owner and the job's client: no single answer carries the whole market.
    ByFirstByte,
}

impl Shards {
    /// The `memcmp` filters of each read, for a field at `offset` of the account.
    fn filters(self, offset: usize) -> Vec<Vec<crate::chain::Memcmp>> {
        match self {
            Self::Whole => vec![Vec::new()],
            Self::ByFirstByte => (0..=u8::MAX)
                .map(|byte| vec![crate::chain::Memcmp::new(offset, [byte])])
                .collect(),
        }
    }
}

/// What a [`LiveMarket::load`] read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loaded {
    /// `getProgramAccounts` calls made (each a page of the snapshot).
    pub pages: usize,
    pub providers: usize,
    pub stakes: usize,
    pub jobs: usize,
    /// Time spent feeding what was read into a new index (its groups are sorted at the
    /// first [`LiveMarket::tick`]).
    pub index_build: std::time::Duration,
}

/// Counts of what a [`LiveMarket`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveSize {
    pub providers: usize,
    pub stakes: usize,
    pub jobs: usize,
    /// Jobs this matcher may assign now (open, in its window).
    pub assignable_jobs: usize,
    /// Confirmed assignments whose provider update has not arrived yet.
    pub held: usize,
    pub index: IndexSize,
}

/// See the module documentation.
pub struct LiveMarket {
    matcher: Pubkey,
    pub staking: StakingConfig,
    pub registry: RegistryConfig,
    pub escrow: MarketConfig,
    pub emission: Option<EmissionConfig>,
    token_programs: HashMap<Pubkey, Pubkey>,
    providers: HashMap<Pubkey, Provider>,
    /// Active and unlocked stake by owner.
    stakes: HashMap<Pubkey, (u64, u64)>,
    /// Each stake account's owner, to apply its closing.
    stake_owner: HashMap<Pubkey, Pubkey>,
    jobs: HashMap<Pubkey, Job>,
    /// The slot of the state held for each account (closed ones included).
    slots: HashMap<Pubkey, u64>,
    index: Index,
    /// The jobs in the index, by the end of their match window.
    windows: BTreeSet<(i64, Pubkey)>,
    /// Per provider, the jobs confirmed for it (and the slot that showed it) whose
    /// reservation waits for the provider's own update.
    held: HashMap<Pubkey, Vec<(Pubkey, u64)>>,
    new_jobs: BTreeSet<Pubkey>,
    touched: BTreeSet<Pubkey>,
    full_round: bool,
    clock: i64,
}

/// The Anchor account of type `T` in `data`, if it is one.
fn decode<T: AccountDeserialize + Discriminator>(data: &[u8]) -> Option<T> {
    if !data.starts_with(T::DISCRIMINATOR) {
        return None;
    }
    T::try_deserialize(&mut &data[..]).ok()
}

impl LiveMarket {
    /// Reads the market through `chain` for the matcher `matcher`, as of `slot` (a slot read
    /// before the subscriptions that keep it current began, so that every update they push
    /// is at least as new): the configs in one read, then providers, stakes and jobs, split
    /// as `shards` says.
    pub fn load(
        chain: &mut impl Chain,
        matcher: Pubkey,
        shards: Shards,
        slot: u64,
    ) -> Result<(Self, Loaded), ClientError> {
        let now = chain.now()?;
        let addresses = [
            pda::staking_config(),
            pda::registry_config(),
            pda::market_config(),
            pda::emission_config(),
        ];
        let read = chain.accounts(&addresses)?;
        let config = |i: usize| -> Result<&Account, ClientError> {
            read.get(i)
                .and_then(Option::as_ref)
                .ok_or(ClientError::AccountNotFound(addresses[i]))
        };
        let bad = |i: usize, expected: &'static str| ClientError::Decode {
            address: addresses[i],
            expected,
            reason: "not that account".into(),
        };
        let staking = decode::<StakingConfig>(&config(0)?.data).ok_or(bad(0, "StakingConfig"))?;
        let registry =
            decode::<RegistryConfig>(&config(1)?.data).ok_or(bad(1, "RegistryConfig"))?;
        let escrow = decode::<MarketConfig>(&config(2)?.data).ok_or(bad(2, "MarketConfig"))?;
        let emission = read
            .get(3)
            .and_then(Option::as_ref)
            .and_then(|a| decode::<EmissionConfig>(&a.data));

        let mut pages = 0usize;
        let mut providers = HashMap::new();
        for filters in shards.filters(provider_registry::state::layout::AUTHORITY) {
            providers.extend(chain.fetch_where::<Provider>(&provider_registry::ID, &filters)?);
            pages = pages.saturating_add(1);
        }
        let mut stakes = Vec::new();
        for filters in shards.filters(filters::stake::OWNER) {
            stakes.extend(chain.fetch_where::<StakeAccount>(&staking::ID, &filters)?);
            pages = pages.saturating_add(1);
        }
        let mut jobs = HashMap::new();
        for filters in shards.filters(job_escrow::state::layout::CLIENT) {
            jobs.extend(chain.fetch_where::<Job>(&job_escrow::ID, &filters)?);
            pages = pages.saturating_add(1);
        }
        let mut loaded = Loaded {
            pages,
            providers: providers.len(),
            stakes: stakes.len(),
            jobs: jobs.len(),
            index_build: std::time::Duration::ZERO,
        };
        let mints: Vec<Pubkey> = escrow
            .allowed_mints
            .iter()
            .chain([&staking.stake_mint])
            .copied()
            .collect();
        let owners = chain.accounts(&mints)?;
        let token_programs = mints
            .into_iter()
            .zip(owners)
            .filter_map(|(mint, account)| Some((mint, account?.owner)))
            .collect();

        let mut slots = HashMap::new();
        for address in addresses {
            slots.insert(address, slot);
        }
        let mut market = Self {
            matcher,
            index: Index::new(&registry.policy()),
            staking,
            registry,
            escrow,
            emission,
            token_programs,
            providers,
            stakes: HashMap::new(),
            stake_owner: HashMap::new(),
            jobs,
            slots,
            windows: BTreeSet::new(),
            held: HashMap::new(),
            new_jobs: BTreeSet::new(),
            touched: BTreeSet::new(),
            full_round: true,
            clock: now,
        };
        for (address, stake) in stakes {
            market.stake_owner.insert(address, stake.owner);
            market
                .stakes
                .insert(stake.owner, (stake.active, stake.unlocked()));
            market.slots.insert(address, slot);
        }
        for address in market
            .providers
            .keys()
            .chain(market.jobs.keys())
            .copied()
            .collect::<Vec<_>>()
        {
            market.slots.insert(address, slot);
        }
        let building = std::time::Instant::now();
        market.rebuild();
        loaded.index_build = building.elapsed();
        Ok((market, loaded))
    }

    /// The eligibility rules the index applies: the registry's, with a heartbeat no older
    /// than the chain lets a matcher assign to.
    fn policy(&self) -> EligibilityPolicy<'_> {
        let mut policy = self.registry.policy();
        policy.liveness_window = policy
            .liveness_window
            .min(job_escrow::constants::DECLINE_WINDOW);
        policy
    }

    /// A new index from what is held (a config changed, the clock went back, a load).
    fn rebuild(&mut self) {
        self.index = Index::new(&self.policy());
        self.windows.clear();
        self.held.clear();
        let addresses: Vec<Pubkey> = self.providers.keys().copied().collect();
        for address in addresses {
            if let Some(view) = self.view(&address) {
                self.index.upsert_provider(view);
            }
        }
        let jobs: Vec<Pubkey> = self.jobs.keys().copied().collect();
        for job in jobs {
            self.index_job(&job);
        }
        self.full_round = true;
    }

    fn view(&self, address: &Pubkey) -> Option<ProviderView> {
        let provider = self.providers.get(address)?.clone();
        let (active_stake, unlocked_stake) = self
            .stakes
            .get(&provider.authority)
            .copied()
            .unwrap_or_default();
        Some(ProviderView {
            address: *address,
            provider,
            active_stake,
            unlocked_stake,
        })
    }

    /// Whether this matcher may assign `job` at the latest time seen.
    fn assignable(&self, job: &Job) -> bool {
        job.status == JobStatus::Open
            && job.mode == JobMode::Instant
            && job.terms.matcher == self.matcher
            && self.escrow.matcher == self.matcher
            && self.clock < job.match_deadline
            && job.refused_bidders.len() < job_escrow::constants::MAX_REFUSED_BIDDERS
    }

    /// Puts the held job `address` into the index, or takes it out, as its state says.
    fn index_job(&mut self, address: &Pubkey) {
        let Some(job) = self.jobs.get(address) else {
            self.unindex_job(address, None);
            return;
        };
        if self.assignable(job) {
            self.windows.insert((job.match_deadline, *address));
            self.index.upsert_job(OpenJob {
                address: *address,
                job: job.clone(),
            });
            self.new_jobs.insert(*address);
        } else {
            let confirmed = job
                .assignment
                .as_ref()
                .filter(|_| job.status != JobStatus::Open)
                .map(|a| a.provider);
            self.windows.remove(&(job.match_deadline, *address));
            self.unindex_job(address, confirmed);
        }
    }

    /// Takes `address` out of the index. When the index had matched it to the provider the
    /// chain now shows it assigned to, the reservation waits for that provider's update.
    fn unindex_job(&mut self, address: &Pubkey, confirmed: Option<Pubkey>) {
        self.new_jobs.remove(address);
        let matched = self.index.matched(address);
        if let (Some(p), Some(c)) = (matched, confirmed) {
            if p == c {
                let slot = self.slots.get(address).copied().unwrap_or_default();
                let held = self.held.entry(p).or_default();
                if !held.iter().any(|(j, _)| j == address) {
                    held.push((*address, slot));
                }
                return;
            }
        }
        if let Some(freed) = self.index.remove_job(address) {
            self.touched.insert(freed);
        }
    }

    /// Applies `update` unless the state held for its account is from a later slot.
    pub fn apply(&mut self, update: Update) -> Applied {
        let Update {
            address,
            slot,
            account,
        } = update;
        if self.slots.get(&address).is_some_and(|held| *held > slot) {
            return Applied::Stale;
        }
        let account = account.filter(|a| {
            a.lamports > 0
                && [staking::ID, provider_registry::ID, job_escrow::ID].contains(&a.owner)
        });
        let Some(account) = account else {
            return self.close(address, slot);
        };
        let data = account.data.as_slice();
        if account.owner == provider_registry::ID {
            if let Some(provider) = decode::<Provider>(data) {
                self.slots.insert(address, slot);
                self.providers.insert(address, provider);
                self.provider_changed(&address, Some(slot));
                return Applied::Provider;
            }
            if let Some(config) = decode::<RegistryConfig>(data) {
                self.slots.insert(address, slot);
                self.registry = config;
                self.rebuild();
                return Applied::Config;
            }
        } else if account.owner == staking::ID {
            if let Some(stake) = decode::<StakeAccount>(data) {
                self.slots.insert(address, slot);
                self.stake_owner.insert(address, stake.owner);
                self.stakes
                    .insert(stake.owner, (stake.active, stake.unlocked()));
                self.provider_changed(&pda::provider(&stake.owner), None);
                return Applied::Stake;
            }
            if let Some(config) = decode::<StakingConfig>(data) {
                self.slots.insert(address, slot);
                self.staking = config;
                return Applied::Config;
            }
        } else if account.owner == job_escrow::ID {
            if let Some(job) = decode::<Job>(data) {
                self.slots.insert(address, slot);
                self.jobs.insert(address, job);
                self.index_job(&address);
                return Applied::Job;
            }
            if let Some(config) = decode::<MarketConfig>(data) {
                self.slots.insert(address, slot);
                self.escrow = config;
                self.rebuild();
                return Applied::Config;
            }
        }
        Applied::Ignored
    }

    /// The account at `address` is gone as of `slot`.
    fn close(&mut self, address: Pubkey, slot: u64) -> Applied {
        let known = self.providers.contains_key(&address)
            || self.jobs.contains_key(&address)
            || self.stake_owner.contains_key(&address);
        if !known {
            return Applied::Ignored;
        }
        self.slots.insert(address, slot);
        if self.providers.remove(&address).is_some() {
            self.index.remove_provider(&address);
            self.held.remove(&address);
            self.full_round = true;
            return Applied::Provider;
        }
        if self.jobs.remove(&address).is_some() {
            self.windows.retain(|(_, job)| *job != address);
            for held in self.held.values_mut() {
                held.retain(|(job, _)| *job != address);
            }
            self.held.retain(|_, held| !held.is_empty());
            self.unindex_job(&address, None);
            return Applied::Job;
        }
        if let Some(owner) = self.stake_owner.remove(&address) {
            self.stakes.remove(&owner);
            self.provider_changed(&pda::provider(&owner), None);
        }
        Applied::Stake
    }

    /// Feeds the provider at `address` (or its stake) to the index again; a provider update
    /// of `slot` releases the reservations held for jobs confirmed by then.
    fn provider_changed(&mut self, address: &Pubkey, slot: Option<u64>) {
        if let Some(slot) = slot {
            if let Some(held) = self.held.get_mut(address) {
                let (due, kept): (Vec<_>, Vec<_>) = held.drain(..).partition(|(_, at)| *at <= slot);
                *held = kept;
                if held.is_empty() {
                    self.held.remove(address);
                }
                for (job, _) in due {
                    self.index.remove_job(&job);
                }
            }
        }
        if let Some(view) = self.view(address) {
            self.index.upsert_provider(view);
            self.touched.insert(*address);
        }
    }

    /// Brings the market to the cluster time `now` and returns the assignments to send:
    /// jobs whose window closed leave the index (a clock that went back rebuilds it), then
    /// a round over what changed since the last tick (a full round after a rebuild or a
    /// provider leaving).
    pub fn tick(&mut self, now: i64) -> Vec<Match> {
        if now < self.clock {
            self.clock = now;
            self.rebuild();
        }
        self.clock = now;
        while let Some(&(deadline, job)) = self.windows.first() {
            if deadline > now {
                break;
            }
            self.windows.pop_first();
            self.unindex_job(&job, None);
        }
        if std::mem::take(&mut self.full_round) {
            self.new_jobs.clear();
            self.touched.clear();
            return self.index.round(now);
        }
        let mut matches: Vec<Match> = std::mem::take(&mut self.new_jobs)
            .into_iter()
            .filter_map(|job| self.index.match_job(&job, now))
            .collect();
        for provider in std::mem::take(&mut self.touched) {
            matches.extend(self.index.match_provider(&provider, now));
        }
        matches
    }

    /// Gives up the match of `job` (the chain refused the assignment, or it could not be
    /// sent): the job leaves this matcher's index until its account changes, and the
    /// providers' agents take it once its window closes.
    pub fn give_up(&mut self, job: &Pubkey) {
        self.new_jobs.remove(job);
        if let Some(freed) = self.index.remove_job(job) {
            self.touched.insert(freed);
        }
    }

    /// The permissionless actions due at `now` (expiries, settlements, reclaims, auctions
    /// to close), in job address order.
    pub fn upkeep(&self, now: i64) -> Vec<Action> {
        let mut due: Vec<Action> = self
            .jobs
            .iter()
            .filter_map(|(address, job)| driver::due(now, address, job))
            .collect();
        due.sort_by_key(Action::job);
        due
    }

    /// A snapshot holding the configs and just `jobs` and `providers`, to build their
    /// transactions with [`driver::instructions`]. A mint not seen before gets its token
    /// program read through `chain`.
    pub fn snapshot_for(
        &mut self,
        chain: &mut impl Chain,
        jobs: &[Pubkey],
        providers: &[Pubkey],
    ) -> Result<MarketSnapshot, ClientError> {
        let jobs: Vec<(Pubkey, Job)> = jobs
            .iter()
            .filter_map(|a| Some((*a, self.jobs.get(a)?.clone())))
            .collect();
        for (_, job) in &jobs {
            if let std::collections::hash_map::Entry::Vacant(entry) =
                self.token_programs.entry(job.payment_mint)
            {
                let account = chain
                    .account(&job.payment_mint)?
                    .ok_or(ClientError::AccountNotFound(job.payment_mint))?;
                entry.insert(account.owner);
            }
        }
        Ok(MarketSnapshot {
            scope: Scope::Market,
            now: self.clock,
            staking: self.staking.clone(),
            registry: self.registry.clone(),
            escrow: self.escrow.clone(),
            emission: self.emission.clone(),
            providers: providers.iter().filter_map(|p| self.view(p)).collect(),
            jobs,
            token_programs: self.token_programs.clone(),
        })
    }

    /// The open jobs held (of every mode and matcher).
    pub fn open_jobs(&self) -> Vec<Pubkey> {
        self.jobs
            .iter()
            .filter(|(_, j)| j.status == JobStatus::Open)
            .map(|(a, _)| *a)
            .collect()
    }

    /// The job at `address`, as last applied.
    pub fn job(&self, address: &Pubkey) -> Option<&Job> {
        self.jobs.get(address)
    }

    /// The provider at `address`, as last applied.
    pub fn provider(&self, address: &Pubkey) -> Option<&Provider> {
        self.providers.get(address)
    }

    /// The slot of the state held for `address`.
    pub fn slot_of(&self, address: &Pubkey) -> Option<u64> {
        self.slots.get(address).copied()
    }

    pub fn size(&self) -> LiveSize {
        LiveSize {
            providers: self.providers.len(),
            stakes: self.stakes.len(),
            jobs: self.jobs.len(),
            assignable_jobs: self.windows.len(),
            held: self.held.values().map(Vec::len).sum(),
            index: self.index.size(),
        }
    }
}
