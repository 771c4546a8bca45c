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
//! account shows the job: when the job's update (assigned) arrives first, the reservation
//! stays until a provider update of that slot or later, applied after the match, comes in;
//! when the provider's came first, it is released at once. An assignment the chain refuses
//! (or that cannot be sent) bars that provider from the job in this index only, and the
//! job is matched again; after [`MAX_TRIES`] failures the job is left to the providers.
//!
//! Config updates (every new job and provider bumps a counter in one) rebuild nothing
//! unless a field the index depends on changed: the registry's eligibility policy, or the
//! market's matcher. The time a tick runs at never goes back: an earlier clock reading
//! (another RPC node behind) counts as the latest seen.

pub use gpu_market_client::chain::feed::Update;

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

/// How many failed assignments of one job this matcher tries before leaving the job to
/// the providers.
pub const MAX_TRIES: usize = 3;

pub use gpu_market_client::driver::FRESHNESS_MARGIN;

/// How long after its job's window a match whose outcome is not known yet (sent near the
/// window's end, or unconfirmed) keeps its reservation before the index gives it up.
pub const SETTLE_GRACE: i64 = 60;

/// A confirmed assignment whose reservation waits for its provider's updates: the
/// provider account (GPUs held) and, when the job locks collateral, its stake account.
#[derive(Debug, Clone, Copy)]
struct Hold {
    job: Pubkey,
    /// The slot of the job's update that showed it assigned.
    slot: u64,
    provider_seen: bool,
    stake_seen: bool,
}

/// Which of a provider's accounts an update was.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Provider,
    Stake,
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
    fn filters(self, offset: usize) -> Vec<Vec<gpu_market_client::Memcmp>> {
        match self {
            Self::Whole => vec![Vec::new()],
            Self::ByFirstByte => (0..=u8::MAX)
                .map(|byte| vec![gpu_market_client::Memcmp::new(offset, [byte])])
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
    /// Per provider, the jobs confirmed for it whose reservation waits for the provider's
    /// own update.
    held: HashMap<Pubkey, Vec<Hold>>,
    /// Each indexed job's window end (the key of its entry in `windows`).
    deadline_of: HashMap<Pubkey, i64>,
    /// Matches whose window closed before their job's update came, by when they are given
    /// up.
    settling: BTreeSet<(i64, Pubkey)>,
    /// Providers this index no longer offers a job after an assignment failed, by job.
    excluded: HashMap<Pubkey, Vec<Pubkey>>,
    /// A count of the updates applied; what it was at each provider's last update and at
    /// each match.
    seq: u64,
    applied_at: HashMap<Pubkey, u64>,
    matched_at: HashMap<Pubkey, u64>,
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
            providers.extend(chain.fetch_where::<Provider>(
                &gpu_market_client::program_ids::provider_registry(),
                &filters,
            )?);
            pages = pages.saturating_add(1);
        }
        let mut stakes = Vec::new();
        for filters in shards.filters(filters::stake::OWNER) {
            stakes.extend(chain.fetch_where::<StakeAccount>(
                &gpu_market_client::program_ids::staking(),
                &filters,
            )?);
            pages = pages.saturating_add(1);
        }
        let mut jobs = HashMap::new();
        for filters in shards.filters(job_escrow::state::layout::CLIENT) {
            jobs.extend(
                chain
                    .fetch_where::<Job>(&gpu_market_client::program_ids::job_escrow(), &filters)?,
            );
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
            deadline_of: HashMap::new(),
            settling: BTreeSet::new(),
            excluded: HashMap::new(),
            seq: 0,
            applied_at: HashMap::new(),
            matched_at: HashMap::new(),
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

    /// The eligibility rules the index applies: the registry's, with a heartbeat younger
    /// (by [`FRESHNESS_MARGIN`]) than the chain lets a matcher assign to. Whether the node
    /// is up is asked of the node itself before an assignment is sent.
    fn policy(&self) -> EligibilityPolicy<'_> {
        let mut policy = self.registry.policy();
        policy.liveness_window = policy.liveness_window.saturating_sub(FRESHNESS_MARGIN);
        policy
    }

    /// A new index from what is held (a config changed, the clock went back, a load).
    fn rebuild(&mut self) {
        self.index = Index::new(&self.policy());
        self.windows.clear();
        self.deadline_of.clear();
        self.held.clear();
        self.matched_at.clear();
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

    /// Whether this matcher may assign `job` at the latest time seen. Not a replica: which
    /// providers may take one depends on its group, which this service does not follow;
    /// the providers' agents take replicas themselves once the match window has closed.
    fn assignable(&self, job: &Job) -> bool {
        job.status == JobStatus::Open
            && !job.is_replica()
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
            let mut open = OpenJob {
                address: *address,
                job: job.clone(),
            };
            // Open again after a confirmed assignment (declined, or re-queued after an
            // expiry), or after a match that did not land: whatever the index held for it
            // is stale.
            if self.release_hold_of(address) || self.index.matched(address).is_some() {
                if let Some(freed) = self.index.remove_job(address) {
                    self.touched.insert(freed);
                }
            }
            if let Some(excluded) = self.excluded.get(address) {
                open.job.refused_bidders.extend(excluded.iter().copied());
            }
            self.set_window(address, Some(open.job.match_deadline));
            self.index.upsert_job(open);
            self.new_jobs.insert(*address);
        } else {
            let confirmed = job
                .assignment
                .as_ref()
                .filter(|_| job.status != JobStatus::Open)
                .map(|a| a.provider);
            self.set_window(address, None);
            self.unindex_job(address, confirmed);
        }
    }

    /// Records `job`'s window end (`None`: out of the index).
    fn set_window(&mut self, job: &Pubkey, deadline: Option<i64>) {
        if let Some(old) = self.deadline_of.remove(job) {
            self.windows.remove(&(old, *job));
        }
        if let Some(deadline) = deadline {
            self.windows.insert((deadline, *job));
            self.deadline_of.insert(*job, deadline);
        }
    }

    /// Drops any hold on `job`; whether there was one.
    fn release_hold_of(&mut self, job: &Pubkey) -> bool {
        let mut found = false;
        self.held.retain(|_, holds| {
            let before = holds.len();
            holds.retain(|h| h.job != *job);
            found |= holds.len() != before;
            !holds.is_empty()
        });
        found
    }

    /// Takes `address` out of the index. When the index had matched it to the provider the
    /// chain now shows it assigned to, the reservation stays until that provider's update
    /// shows it: at once if one of the job's slot or later was applied since the match.
    fn unindex_job(&mut self, address: &Pubkey, confirmed: Option<Pubkey>) {
        self.new_jobs.remove(address);
        self.excluded.remove(address);
        let matched = self.index.matched(address);
        let matched_at = self.matched_at.remove(address);
        if let (Some(p), Some(c)) = (matched, confirmed) {
            if p == c {
                let slot = self.slots.get(address).copied().unwrap_or_default();
                // An update of the job's slot or later, applied since the match, shows it.
                let seen = |account: &Pubkey| {
                    self.slots.get(account).is_some_and(|at| *at >= slot)
                        && matched_at.is_some_and(|m| self.applied_at.get(account) > Some(&m))
                };
                let locks = self
                    .jobs
                    .get(address)
                    .is_some_and(|j| j.terms.collateral() > 0);
                let stake = self
                    .providers
                    .get(&p)
                    .map(|provider| pda::stake_account(&provider.authority));
                let hold = Hold {
                    job: *address,
                    slot,
                    provider_seen: seen(&p),
                    stake_seen: !locks || stake.is_some_and(|s| seen(&s)),
                };
                if !(hold.provider_seen && hold.stake_seen) {
                    let held = self.held.entry(p).or_default();
                    if !held.iter().any(|h| h.job == *address) {
                        held.push(hold);
                    }
                    return;
                }
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
        self.seq = self.seq.saturating_add(1);
        let account = account.filter(|a| {
            a.lamports > 0
                && [
                    gpu_market_client::program_ids::staking(),
                    gpu_market_client::program_ids::provider_registry(),
                    gpu_market_client::program_ids::job_escrow(),
                ]
                .contains(&a.owner)
        });
        let Some(account) = account else {
            return self.close(address, slot);
        };
        let data = account.data.as_slice();
        if account.owner == gpu_market_client::program_ids::provider_registry() {
            if let Some(provider) = decode::<Provider>(data) {
                self.slots.insert(address, slot);
                self.applied_at.insert(address, self.seq);
                self.providers.insert(address, provider);
                self.provider_changed(&address, Some((Part::Provider, slot)));
                return Applied::Provider;
            }
            if let Some(config) = decode::<RegistryConfig>(data) {
                self.slots.insert(address, slot);
                let changed = config.policy() != self.registry.policy();
                self.registry = config;
                if changed {
                    self.rebuild();
                }
                return Applied::Config;
            }
        } else if account.owner == gpu_market_client::program_ids::staking() {
            if let Some(stake) = decode::<StakeAccount>(data) {
                self.slots.insert(address, slot);
                self.applied_at.insert(address, self.seq);
                self.stake_owner.insert(address, stake.owner);
                self.stakes
                    .insert(stake.owner, (stake.active, stake.unlocked()));
                self.provider_changed(&pda::provider(&stake.owner), Some((Part::Stake, slot)));
                return Applied::Stake;
            }
            if let Some(config) = decode::<StakingConfig>(data) {
                self.slots.insert(address, slot);
                self.staking = config;
                return Applied::Config;
            }
        } else if account.owner == gpu_market_client::program_ids::job_escrow() {
            if let Some(job) = decode::<Job>(data) {
                self.slots.insert(address, slot);
                self.jobs.insert(address, job);
                self.index_job(&address);
                return Applied::Job;
            }
            if let Some(config) = decode::<MarketConfig>(data) {
                self.slots.insert(address, slot);
                let changed = config.matcher != self.escrow.matcher;
                self.escrow = config;
                if changed {
                    // Which jobs this matcher may assign changed; nothing else did.
                    let jobs: Vec<Pubkey> = self.jobs.keys().copied().collect();
                    for job in jobs {
                        self.index_job(&job);
                    }
                }
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
            // Jobs confirmed for it are on chain, not waiting: out of the index first.
            for hold in self.held.remove(&address).unwrap_or_default() {
                self.index.remove_job(&hold.job);
            }
            self.index.remove_provider(&address);
            self.full_round = true;
            return Applied::Provider;
        }
        if self.jobs.remove(&address).is_some() {
            self.set_window(&address, None);
            self.release_hold_of(&address);
            self.unindex_job(&address, None);
            return Applied::Job;
        }
        if let Some(owner) = self.stake_owner.remove(&address) {
            self.stakes.remove(&owner);
            self.provider_changed(&pda::provider(&owner), None);
        }
        Applied::Stake
    }

    /// Feeds the provider at `address` (or its stake) to the index again; an update of the
    /// provider or its stake of `slot` counts for the holds of jobs confirmed by then, and
    /// a hold both have shown is released.
    fn provider_changed(&mut self, address: &Pubkey, update: Option<(Part, u64)>) {
        if let Some((part, slot)) = update {
            if let Some(held) = self.held.get_mut(address) {
                for hold in held.iter_mut().filter(|h| h.slot <= slot) {
                    match part {
                        Part::Provider => hold.provider_seen = true,
                        Part::Stake => hold.stake_seen = true,
                    }
                }
                let (due, kept): (Vec<Hold>, Vec<Hold>) = held
                    .drain(..)
                    .partition(|h| h.provider_seen && h.stake_seen);
                *held = kept;
                if held.is_empty() {
                    self.held.remove(address);
                }
                for hold in due {
                    self.index.remove_job(&hold.job);
                }
            }
        }
        if let Some(view) = self.view(address) {
            self.index.upsert_provider(view);
            self.touched.insert(*address);
        }
    }

    /// Brings the market to the cluster time `now` (an earlier time than one seen before
    /// counts as that one) and returns the assignments to send: jobs whose window closed
    /// leave the index, then a round over what changed since the last tick (a full round
    /// after a rebuild or a provider leaving).
    pub fn tick(&mut self, now: i64) -> Vec<Match> {
        let now = now.max(self.clock);
        self.clock = now;
        while let Some(&(deadline, job)) = self.windows.first() {
            if deadline > now {
                break;
            }
            self.set_window(&job, None);
            if self.index.matched(&job).is_some() {
                // A match sent near the window's end may have landed: its reservation stays
                // until the job's update (or `failed`) settles it, for a while.
                self.new_jobs.remove(&job);
                self.settling
                    .insert((deadline.saturating_add(SETTLE_GRACE), job));
                continue;
            }
            self.unindex_job(&job, None);
        }
        while let Some(&(until, job)) = self.settling.first() {
            if until > now {
                break;
            }
            self.settling.pop_first();
            let held = self.held.values().flatten().any(|h| h.job == job);
            if self.index.matched(&job).is_some() && !held {
                self.unindex_job(&job, None);
            }
        }
        let matches = if std::mem::take(&mut self.full_round) {
            self.new_jobs.clear();
            self.touched.clear();
            self.index.round(now)
        } else {
            let mut matches: Vec<Match> = std::mem::take(&mut self.new_jobs)
                .into_iter()
                .filter_map(|job| self.index.match_job(&job, now))
                .collect();
            for provider in std::mem::take(&mut self.touched) {
                matches.extend(self.index.match_provider(&provider, now));
            }
            matches
        };
        for m in &matches {
            self.matched_at.insert(m.job, self.seq);
        }
        matches
    }

    /// The match of `job` was not sent (the service ran out of time for this tick): the job
    /// waits again, to be matched at the next tick.
    pub fn unsent(&mut self, job: &Pubkey) {
        self.matched_at.remove(job);
        if let Some(freed) = self.index.unmatch(job) {
            self.touched.insert(freed);
        }
        if self.deadline_of.contains_key(job) {
            self.new_jobs.insert(*job);
        }
    }

    /// The assignment of `job` to `provider` failed (the chain refused it, or it could not
    /// be sent): this index offers the job to others, or, after [`MAX_TRIES`] failures,
    /// leaves it to the providers' agents (until its account changes). Returns whether it
    /// will be tried again.
    pub fn failed(&mut self, job: &Pubkey, provider: &Pubkey) -> bool {
        self.matched_at.remove(job);
        if let Some(freed) = self.index.remove_job(job) {
            self.touched.insert(freed);
        }
        let excluded = self.excluded.entry(*job).or_default();
        if !excluded.contains(provider) {
            excluded.push(*provider);
        }
        if excluded.len() >= MAX_TRIES {
            self.new_jobs.remove(job);
            self.set_window(job, None);
            return false;
        }
        self.index_job(job);
        self.deadline_of.contains_key(job)
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
            // The service does not follow replica groups: it offers no replica.
            replica_groups: Default::default(),
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
