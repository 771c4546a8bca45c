//! The matcher's live index: providers and open jobs kept between rounds, so that a change
//! (a job created, a provider freeing GPUs or sending a heartbeat) costs one small round
//! instead of a new pass over the whole market.
//!
//! Providers that could ever take a job (active, and staked for all their GPUs) sit in
//! groups by payment mint, GPU class and VRAM size, each group sorted by rank; every
//! provider is in two such groups, one of its own region (for jobs that ask for a region)
//! and one of all regions (for jobs that do not). Over each group's members, in rank order,
//! a tree keeps for every range the most that any member in it can still offer: free GPUs,
//! unlocked stake, CPU cores, RAM, benchmark, attestation and the latest heartbeat.
//!
//! A job looks only at the groups of its mint and region choice whose class and VRAM fit,
//! best group head first, and in each descends the tree to the best-ranked member that can
//! serve it, skipping at once every range whose maxima cannot, whose best member is above
//! the job's price, or ranks no better than the best found so far. It stops at the first
//! group whose head ranks no better than that.
//!
//! The tree only prunes: every candidate still passes the registry's own [`satisfies`], the
//! predicate the escrow runs on-chain, before it is proposed.
//!
//! A match reserves the provider's GPUs and collateral in the index ("pending") until the
//! job leaves the open set ([`Index::remove_job`], or [`Index::upsert_job`] with a job that
//! is no longer open) or the caller gives it up ([`Index::unmatch`]). While both the pending
//! reservation and the provider's own update showing the job are in, the provider counts as
//! fuller than it is: a round may miss it. Feed a confirmed job's removal no earlier than
//! its provider's update: in between, the provider counts as emptier than it is, and a round
//! may propose a match the chain then refuses (the chain, not the index, is the arbiter).
//!
//! After each change, one of [`Index::match_job`] (a job arrived), [`Index::match_provider`]
//! (a provider changed, or a reservation on it was freed by a confirmation) or
//! [`Index::round`] (anything else: a provider removed, a match given up) keeps the index
//! maximal: no waiting job has an eligible provider left. Rounds run at a `now` that does
//! not go back: the trees leave out the providers whose heartbeat is stale at the latest
//! `now` seen (`satisfies` still decides at each call's own `now`).

use super::{rank_key, Match, OpenJob, ProviderView, RankKey};
use crate::{
    escrow::{Job, JobStatus},
    registry::{satisfies, EligibilityPolicy, GpuClass, ProviderStatus},
};
use anchor_lang::solana_program::pubkey::Pubkey;
use std::{
    cmp::Reverse,
    collections::{BTreeSet, BinaryHeap, HashMap},
};

/// What one provider can still offer, or the most any provider under a tree node can.
#[derive(Clone, Copy, Debug)]
struct Caps {
    free: u16,
    cpu: u16,
    ram: u32,
    bench: u32,
    attested: bool,
    heartbeat: i64,
    unlocked: u64,
}

impl Caps {
    const NONE: Self = Self {
        free: 0,
        cpu: 0,
        ram: 0,
        bench: 0,
        attested: false,
        heartbeat: i64::MIN,
        unlocked: 0,
    };

    fn max(self, other: Self) -> Self {
        Self {
            free: self.free.max(other.free),
            cpu: self.cpu.max(other.cpu),
            ram: self.ram.max(other.ram),
            bench: self.bench.max(other.bench),
            attested: self.attested || other.attested,
            heartbeat: self.heartbeat.max(other.heartbeat),
            unlocked: self.unlocked.max(other.unlocked),
        }
    }
}

/// What a job needs, in the terms of [`Caps`].
struct Need {
    gpus: u16,
    cpu: u16,
    ram: u32,
    bench: u32,
    attested: bool,
    unlocked: u64,
    now: i64,
    liveness_window: i64,
}

impl Need {
    fn of(job: &Job, now: i64, liveness_window: i64) -> Self {
        let req = &job.requirements;
        Self {
            gpus: req.gpu_count,
            cpu: req.min_cpu_cores,
            ram: req.min_ram_mib,
            bench: req.min_benchmark,
            attested: req.attested_only,
            unlocked: job.terms.collateral(),
            now,
            liveness_window,
        }
    }

    fn met_by(&self, caps: &Caps) -> bool {
        caps.free >= self.gpus
            && caps.unlocked >= self.unlocked
            && caps.cpu >= self.cpu
            && caps.ram >= self.ram
            && caps.bench >= self.bench
            && (caps.attested || !self.attested)
            && self.now.saturating_sub(caps.heartbeat) <= self.liveness_window
    }
}

/// A provider's two groups: of its region, and of all regions.
const REGIONAL: usize = 0;
const ANYWHERE: usize = 1;

/// The providers of one payment mint, GPU class and VRAM size, in one region or in all.
struct Group {
    mint: Pubkey,
    class: GpuClass,
    vram_mib: u32,
    /// `None`: every region.
    region: Option<u16>,
    /// Provider slots, best rank first (stale while `dirty`).
    members: Vec<u32>,
    keys: Vec<RankKey>,
    /// A binary tree over `members` in heap order: leaves at `width..width + members.len()`,
    /// every inner node the [`Caps::max`] of its children.
    tree: Vec<Caps>,
    width: usize,
    /// Slots that joined since the last rebuild.
    joined: Vec<u32>,
    /// Members left, joined or changed rank: rebuild before the next round.
    dirty: bool,
}

/// Which members a search may still return: at or below the job's price, and ranked
/// better than the best candidate found so far.
struct Bound<'a> {
    max_price: u64,
    better_than: Option<&'a RankKey>,
}

impl Group {
    fn kind(&self) -> usize {
        if self.region.is_some() {
            REGIONAL
        } else {
            ANYWHERE
        }
    }

    fn set(&mut self, pos: usize, caps: Caps) {
        let mut node = self.width + pos;
        self.tree[node] = caps;
        while node > 1 {
            node /= 2;
            self.tree[node] = self.tree[2 * node].max(self.tree[2 * node + 1]);
        }
    }

    /// Whether the members from `pos` on may hold one within `bound`: the member at `pos`
    /// is the best of them.
    fn admits(&self, pos: usize, bound: &Bound) -> bool {
        self.keys.get(pos).is_some_and(|key| {
            key.0 <= bound.max_price && bound.better_than.is_none_or(|best| key < best)
        })
    }

    /// The best-ranked member from `start` on, within `bound`, whose own caps meet `need`.
    fn first(&self, start: usize, need: &Need, bound: &Bound) -> Option<usize> {
        self.descend(1, 0, self.width, start, need, bound)
    }

    fn descend(
        &self,
        node: usize,
        lo: usize,
        hi: usize,
        start: usize,
        need: &Need,
        bound: &Bound,
    ) -> Option<usize> {
        if hi <= start || !need.met_by(&self.tree[node]) || !self.admits(lo.max(start), bound) {
            return None;
        }
        if hi - lo == 1 {
            return Some(lo);
        }
        let mid = lo + (hi - lo) / 2;
        self.descend(2 * node, lo, mid, start, need, bound)
            .or_else(|| self.descend(2 * node + 1, mid, hi, start, need, bound))
    }
}

struct ProviderSlot {
    view: ProviderView,
    key: RankKey,
    attested: bool,
    /// Its [`REGIONAL`] and [`ANYWHERE`] groups; `None` for a provider that can take no job
    /// until it changes (not active, or staked for fewer than all its GPUs).
    groups: Option<[u32; 2]>,
    /// Its place in each group (valid while the group is not dirty).
    pos: [u32; 2],
    /// GPUs and collateral that this index's own matches hold, not yet on chain.
    pending_gpus: u16,
    pending_collateral: u64,
    pending_jobs: Vec<Pubkey>,
}

impl ProviderSlot {
    /// What it can still offer at `clock`: nothing at all once its GPUs are all taken or its
    /// heartbeat is older than `liveness_window`, so that the tree's maxima are over the
    /// providers that can take something.
    fn caps(&self, clock: i64, liveness_window: i64) -> Caps {
        let p = &self.view.provider;
        let free = p.free_gpus().saturating_sub(self.pending_gpus);
        if free == 0 || clock.saturating_sub(p.last_heartbeat) > liveness_window {
            return Caps::NONE;
        }
        Caps {
            free,
            cpu: p.hardware.cpu_cores,
            ram: p.hardware.ram_mib,
            bench: p.benchmark_score,
            attested: self.attested,
            heartbeat: p.last_heartbeat,
            unlocked: self
                .view
                .unlocked_stake
                .saturating_sub(self.pending_collateral),
        }
    }
}

struct JobSlot {
    open: OpenJob,
    /// What this index matched it with, until the match is confirmed or given up.
    matched: Option<Reservation>,
}

/// A match's hold on its provider.
#[derive(Clone, Copy)]
struct Reservation {
    provider: u32,
    gpus: u16,
    collateral: u64,
}

/// Counts of what an [`Index`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexSize {
    /// Every provider fed in.
    pub providers: usize,
    /// Those that could take a job (active and fully staked).
    pub indexed_providers: usize,
    pub groups: usize,
    /// Open jobs waiting for a provider.
    pub waiting_jobs: usize,
    /// Open jobs this index matched, not yet confirmed on chain.
    pub pending_jobs: usize,
}

/// A group's payment mint, GPU class, VRAM and region (`None`: all regions).
type GroupKey = (Pubkey, GpuClass, u32, Option<u16>);

/// A live matcher index: see the module documentation.
pub struct Index {
    min_stake_per_gpu: u64,
    liveness_window: i64,
    auditors: Vec<Pubkey>,
    slots: Vec<Option<ProviderSlot>>,
    vacant: Vec<u32>,
    by_address: HashMap<Pubkey, u32>,
    groups: Vec<Group>,
    group_of: HashMap<GroupKey, u32>,
    /// The groups a job visits, best head first (empty groups last): per payment mint and
    /// region for a job that asks for one, per payment mint for a job that does not.
    lists: HashMap<(Pubkey, Option<u16>), Vec<u32>>,
    dirty: Vec<u32>,
    jobs: HashMap<Pubkey, JobSlot>,
    /// Open jobs without a match, oldest first.
    waiting: BTreeSet<(i64, Pubkey)>,
    /// The latest time a round ran at: providers whose heartbeat is older than the liveness
    /// window then drop out of the trees' maxima.
    clock: i64,
    /// When each provider's last heartbeat stops counting, soonest first (entries for
    /// heartbeats since replaced are skipped when they come up).
    expiries: BinaryHeap<Reverse<(i64, u32)>>,
}

impl Index {
    pub fn new(policy: &EligibilityPolicy) -> Self {
        Self {
            min_stake_per_gpu: policy.min_stake_per_gpu,
            liveness_window: policy.liveness_window,
            auditors: policy.auditors.to_vec(),
            slots: Vec::new(),
            vacant: Vec::new(),
            by_address: HashMap::new(),
            groups: Vec::new(),
            group_of: HashMap::new(),
            lists: HashMap::new(),
            dirty: Vec::new(),
            jobs: HashMap::new(),
            waiting: BTreeSet::new(),
            clock: i64::MIN,
            expiries: BinaryHeap::new(),
        }
    }

    fn policy(&self) -> EligibilityPolicy<'_> {
        EligibilityPolicy {
            min_stake_per_gpu: self.min_stake_per_gpu,
            liveness_window: self.liveness_window,
            auditors: &self.auditors,
        }
    }

    pub fn size(&self) -> IndexSize {
        IndexSize {
            providers: self.by_address.len(),
            indexed_providers: self
                .slots
                .iter()
                .flatten()
                .filter(|s| s.groups.is_some())
                .count(),
            groups: self.groups.len(),
            waiting_jobs: self.waiting.len(),
            pending_jobs: self.jobs.len().saturating_sub(self.waiting.len()),
        }
    }

    /// The match this index holds for `job`, if any.
    pub fn matched(&self, job: &Pubkey) -> Option<Pubkey> {
        let reserved = self.jobs.get(job)?.matched?;
        Some(self.slot(reserved.provider)?.view.address)
    }

    fn slot(&self, slot: u32) -> Option<&ProviderSlot> {
        self.slots.get(slot as usize)?.as_ref()
    }

    fn slot_mut(&mut self, slot: u32) -> Option<&mut ProviderSlot> {
        self.slots.get_mut(slot as usize)?.as_mut()
    }

    fn mark_dirty(&mut self, group: u32) {
        if let Some(g) = self.groups.get_mut(group as usize) {
            if !g.dirty {
                g.dirty = true;
                self.dirty.push(group);
            }
        }
    }

    fn group_for(&mut self, view: &ProviderView) -> Option<[u32; 2]> {
        let p = &view.provider;
        let staked = u128::from(view.active_stake)
            >= u128::from(p.hardware.gpu_count).saturating_mul(u128::from(self.min_stake_per_gpu));
        if p.status != ProviderStatus::Active || !staked {
            return None;
        }
        let key = (
            p.payment_mint,
            p.hardware.gpu_class,
            p.hardware.vram_mib,
            Some(p.region),
        );
        Some([self.group(key)?, self.group((key.0, key.1, key.2, None))?])
    }

    fn group(&mut self, key: GroupKey) -> Option<u32> {
        if let Some(&g) = self.group_of.get(&key) {
            return Some(g);
        }
        let g = u32::try_from(self.groups.len()).ok()?;
        let (mint, class, vram_mib, region) = key;
        self.groups.push(Group {
            mint,
            class,
            vram_mib,
            region,
            members: Vec::new(),
            keys: Vec::new(),
            tree: vec![Caps::NONE; 2],
            width: 1,
            joined: Vec::new(),
            dirty: false,
        });
        self.group_of.insert(key, g);
        self.lists.entry((mint, region)).or_default().push(g);
        Some(g)
    }

    /// Writes slot `s`'s caps into its groups' trees (a dirty group is rebuilt anyway).
    fn refresh(&mut self, s: u32) {
        let Some(slot) = self.slot(s) else {
            return;
        };
        let caps = slot.caps(self.clock, self.liveness_window);
        let (groups, pos) = (slot.groups, slot.pos);
        for (g, pos) in groups.into_iter().flatten().zip(pos) {
            let group = &mut self.groups[g as usize];
            if !group.dirty {
                group.set(pos as usize, caps);
            }
        }
    }

    /// Moves slot `s`, whose rank changed, to its new place in group `g`: the members between
    /// its old and new places shift by one, and only their part of the tree is recomputed.
    fn reposition(&mut self, g: u32, s: u32) {
        let (clock, window) = (self.clock, self.liveness_window);
        let (groups, slots) = (&mut self.groups, &mut self.slots);
        let Some(group) = groups.get_mut(g as usize) else {
            return;
        };
        let kind = group.kind();
        let Some(slot) = slots.get(s as usize).and_then(Option::as_ref) else {
            return;
        };
        let (old, key) = (slot.pos[kind] as usize, slot.key);
        if group.dirty || group.members.get(old) != Some(&s) {
            // Rebuilt (and so sorted) before the next round anyway.
            self.mark_dirty(g);
            return;
        }
        // Its new place among the others, then a rotation of just the range in between.
        let new = if group.keys.get(old + 1).is_some_and(|next| next < &key) {
            group.keys[old + 1..].partition_point(|k| k < &key) + old
        } else {
            group.keys[..old].partition_point(|k| k < &key)
        };
        let (lo, hi) = (old.min(new), old.max(new));
        let leaves = group.width + lo..=group.width + hi;
        if new > old {
            group.members[lo..=hi].rotate_left(1);
            group.keys[lo..=hi].rotate_left(1);
            group.tree[leaves].rotate_left(1);
        } else {
            group.members[lo..=hi].rotate_right(1);
            group.keys[lo..=hi].rotate_right(1);
            group.tree[leaves].rotate_right(1);
        }
        group.keys[new] = key;
        for pos in lo..=hi {
            if let Some(slot) = slots[group.members[pos] as usize].as_mut() {
                slot.pos[kind] = u32::try_from(pos).unwrap_or(u32::MAX);
                if pos == new {
                    group.tree[group.width + pos] = slot.caps(clock, window);
                }
            }
        }
        let (mut first, mut last) = ((group.width + lo) / 2, (group.width + hi) / 2);
        while first >= 1 {
            for node in first..=last {
                group.tree[node] = group.tree[2 * node].max(group.tree[2 * node + 1]);
            }
            first /= 2;
            last /= 2;
        }
        if lo == 0 {
            // The group's head changed: its place among the groups a job visits may too.
            let list = (group.mint, group.region);
            self.sort_list(list);
        }
    }

    fn sort_list(&mut self, list: (Pubkey, Option<u16>)) {
        if let Some(order) = self.lists.get_mut(&list) {
            let groups = &self.groups;
            order.sort_unstable_by(|&a, &b| {
                let (a, b) = (&groups[a as usize].keys, &groups[b as usize].keys);
                (a.is_empty(), a.first()).cmp(&(b.is_empty(), b.first()))
            });
        }
    }

    /// Slot `s` joins `groups`, which are rebuilt before the next round.
    fn join(&mut self, s: u32, groups: Option<[u32; 2]>) {
        for g in groups.into_iter().flatten() {
            self.groups[g as usize].joined.push(s);
            self.mark_dirty(g);
        }
    }

    /// Adds or replaces a provider (its account and its authority's stake, as last read).
    /// Matches already made for it stay reserved. Follow with [`Index::match_provider`].
    pub fn upsert_provider(&mut self, view: ProviderView) {
        let expires = view
            .provider
            .last_heartbeat
            .saturating_add(self.liveness_window);
        let key = rank_key(&view);
        let attested = view.provider.is_attested(&self.auditors);
        let groups = self.group_for(&view);
        match self.by_address.get(&view.address).copied() {
            Some(s) => {
                let Some(slot) = self.slot_mut(s) else {
                    return;
                };
                let (old_groups, old_key) = (slot.groups, slot.key);
                slot.view = view;
                slot.key = key;
                slot.attested = attested;
                slot.groups = groups;
                self.expiries.push(Reverse((expires, s)));
                if old_groups != groups {
                    for g in old_groups.into_iter().flatten() {
                        self.mark_dirty(g);
                    }
                    self.join(s, groups);
                } else if old_key != key {
                    for g in groups.into_iter().flatten() {
                        self.reposition(g, s);
                    }
                } else {
                    self.refresh(s);
                }
            }
            None => {
                let s = match self.vacant.pop() {
                    Some(s) => s,
                    None => {
                        self.slots.push(None);
                        u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
                    }
                };
                self.by_address.insert(view.address, s);
                self.expiries.push(Reverse((expires, s)));
                self.slots[s as usize] = Some(ProviderSlot {
                    view,
                    key,
                    attested,
                    groups,
                    pos: [0; 2],
                    pending_gpus: 0,
                    pending_collateral: 0,
                    pending_jobs: Vec::new(),
                });
                self.join(s, groups);
            }
        }
    }

    /// Drops a provider (its account closed). Jobs matched to it wait again; follow with
    /// [`Index::round`].
    pub fn remove_provider(&mut self, address: &Pubkey) {
        let Some(s) = self.by_address.remove(address) else {
            return;
        };
        let Some(slot) = self.slots[s as usize].take() else {
            return;
        };
        self.vacant.push(s);
        for g in slot.groups.into_iter().flatten() {
            self.mark_dirty(g);
        }
        for job in slot.pending_jobs {
            if let Some(j) = self.jobs.get_mut(&job) {
                j.matched = None;
                self.waiting.insert((j.open.job.created_at, job));
            }
        }
    }

    /// Adds or replaces a job as last read. A job that is no longer open leaves the index
    /// (see [`Index::remove_job`]). Follow a new job with [`Index::match_job`].
    pub fn upsert_job(&mut self, open: OpenJob) -> Option<Pubkey> {
        if open.job.status != JobStatus::Open {
            return self.remove_job(&open.address);
        }
        match self.jobs.get_mut(&open.address) {
            Some(slot) => {
                if slot.matched.is_none() {
                    self.waiting
                        .remove(&(slot.open.job.created_at, open.address));
                    self.waiting.insert((open.job.created_at, open.address));
                }
                slot.open = open;
            }
            None => {
                self.waiting.insert((open.job.created_at, open.address));
                self.jobs.insert(
                    open.address,
                    JobSlot {
                        open,
                        matched: None,
                    },
                );
            }
        }
        None
    }

    /// Drops a job (assigned, cancelled or closed on chain). Returns the provider whose
    /// reservation for it this frees: once that provider's own update is in, follow with
    /// [`Index::match_provider`] on it.
    pub fn remove_job(&mut self, address: &Pubkey) -> Option<Pubkey> {
        let slot = self.jobs.remove(address)?;
        self.waiting.remove(&(slot.open.job.created_at, *address));
        self.free_reservation(slot.matched?, address)
    }

    /// Gives up this index's match for `job` (the chain refused it): the job waits again and
    /// the provider's reservation is freed. Returns that provider. Follow with
    /// [`Index::round`]: the job may now go to another provider. The index keeps no record
    /// of refused pairs, so the same pair can come back until the provider's update shows
    /// why the chain refused it.
    pub fn unmatch(&mut self, job: &Pubkey) -> Option<Pubkey> {
        let slot = self.jobs.get_mut(job)?;
        let reserved = slot.matched.take()?;
        self.waiting.insert((slot.open.job.created_at, *job));
        self.free_reservation(reserved, job)
    }

    fn free_reservation(&mut self, reserved: Reservation, job: &Pubkey) -> Option<Pubkey> {
        let p = self.slot_mut(reserved.provider)?;
        p.pending_gpus = p.pending_gpus.saturating_sub(reserved.gpus);
        p.pending_collateral = p.pending_collateral.saturating_sub(reserved.collateral);
        p.pending_jobs.retain(|j| j != job);
        let address = p.view.address;
        self.refresh(reserved.provider);
        Some(address)
    }

    /// Brings the index to time `now` (never back): drops providers whose heartbeat went
    /// stale from the trees, and rebuilds the groups that changed membership or order.
    fn prepare(&mut self, now: i64) {
        if now > self.clock {
            self.clock = now;
            while let Some(&Reverse((expires, s))) = self.expiries.peek() {
                if expires >= now {
                    break;
                }
                self.expiries.pop();
                self.refresh(s);
            }
        }
        if self.dirty.is_empty() {
            return;
        }
        let mut lists = Vec::new();
        let (clock, window) = (self.clock, self.liveness_window);
        for g in std::mem::take(&mut self.dirty) {
            let group = &mut self.groups[g as usize];
            let kind = group.kind();
            let mut members = std::mem::take(&mut group.members);
            members.append(&mut group.joined);
            let slots = &self.slots;
            // Sort (key, slot) pairs: no lookups into the slots while sorting.
            let mut entries: Vec<(RankKey, u32)> = members
                .into_iter()
                .filter_map(|m| {
                    let slot = slots.get(m as usize)?.as_ref()?;
                    (slot.groups?[kind] == g).then_some((slot.key, m))
                })
                .collect();
            entries.sort_unstable();
            entries.dedup();
            let width = entries.len().next_power_of_two().max(1);
            let mut tree = vec![Caps::NONE; 2 * width];
            let mut keys = Vec::with_capacity(entries.len());
            let mut members = Vec::with_capacity(entries.len());
            for (pos, (key, m)) in entries.into_iter().enumerate() {
                if let Some(slot) = self.slots[m as usize].as_mut() {
                    slot.pos[kind] = u32::try_from(pos).unwrap_or(u32::MAX);
                    tree[width + pos] = slot.caps(clock, window);
                    keys.push(key);
                    members.push(m);
                }
            }
            for node in (1..width).rev() {
                tree[node] = tree[2 * node].max(tree[2 * node + 1]);
            }
            let group = &mut self.groups[g as usize];
            group.members = members;
            group.keys = keys;
            group.tree = tree;
            group.width = width;
            group.dirty = false;
            lists.push((group.mint, group.region));
        }
        lists.sort_unstable();
        lists.dedup();
        for list in lists {
            self.sort_list(list);
        }
    }

    /// The best provider slot for `open` at `now`, from what is left.
    fn best_for(&self, open: &OpenJob, now: i64) -> Option<u32> {
        let job = &open.job;
        let req = &job.requirements;
        let need = Need::of(job, now, self.liveness_window);
        let policy = self.policy();
        let region = (req.region != 0).then_some(req.region);
        let mut best: Option<(u32, RankKey)> = None;
        for &g in self.lists.get(&(job.payment_mint, region))? {
            let group = &self.groups[g as usize];
            let bound = Bound {
                max_price: job.max_price_per_gpu_hour,
                better_than: best.as_ref().map(|(_, key)| key),
            };
            if !group.admits(0, &bound) {
                // Groups come best head first (empty ones last): no later group has anyone
                // within the price, or better than the best so far.
                break;
            }
            if !req.gpu_class.accepts(group.class) || group.vram_mib < req.min_vram_mib {
                continue;
            }
            let mut start = 0;
            while let Some(pos) = group.first(start, &need, &bound) {
                let s = group.members[pos];
                if let Some(slot) = self.slot(s) {
                    let view = &slot.view;
                    if !super::refused(job, &view.address)
                        && satisfies(&view.provider, view.active_stake, req, &policy, now).is_ok()
                    {
                        best = Some((s, slot.key));
                        break;
                    }
                }
                start = pos + 1;
            }
        }
        best.map(|(s, _)| s)
    }

    fn assign(&mut self, job: Pubkey, provider: u32) -> Option<Match> {
        let j = self.jobs.get_mut(&job)?;
        let (gpus, collateral) = (
            j.open.job.requirements.gpu_count,
            j.open.job.terms.collateral(),
        );
        j.matched = Some(Reservation {
            provider,
            gpus,
            collateral,
        });
        let (created_at, mode, max_price) = (
            j.open.job.created_at,
            j.open.job.mode,
            j.open.job.max_price_per_gpu_hour,
        );
        self.waiting.remove(&(created_at, job));
        let p = self.slot_mut(provider)?;
        p.pending_gpus = p.pending_gpus.saturating_add(gpus);
        p.pending_collateral = p.pending_collateral.saturating_add(collateral);
        p.pending_jobs.push(job);
        let (address, price) = (p.view.address, p.view.provider.price_per_gpu_hour);
        self.refresh(provider);
        debug_assert!(price <= max_price);
        Some(Match {
            job,
            provider: address,
            price_per_gpu_hour: price,
            mode,
        })
    }

    fn try_match(&mut self, job: Pubkey, now: i64) -> Option<Match> {
        let open = &self.jobs.get(&job)?.open;
        let provider = self.best_for(open, now)?;
        self.assign(job, provider)
    }

    /// Matches every waiting job, oldest first (then by address), with the best provider
    /// left for it.
    pub fn round(&mut self, now: i64) -> Vec<Match> {
        self.prepare(now);
        let waiting: Vec<Pubkey> = self.waiting.iter().map(|(_, job)| *job).collect();
        waiting
            .into_iter()
            .filter_map(|job| self.try_match(job, now))
            .collect()
    }

    /// After a job arrived: matches it if a provider is left for it.
    pub fn match_job(&mut self, job: &Pubkey, now: i64) -> Option<Match> {
        self.prepare(now);
        let slot = self.jobs.get(job)?;
        if slot.matched.is_some() {
            return None;
        }
        self.try_match(*job, now)
    }

    /// After a provider changed (or a reservation on it was freed): gives the waiting jobs it
    /// can now serve, oldest first, their best provider. Only this provider's change can have
    /// made a waiting job matchable, so only the jobs it can serve are tried.
    pub fn match_provider(&mut self, provider: &Pubkey, now: i64) -> Vec<Match> {
        self.prepare(now);
        let Some(&s) = self.by_address.get(provider) else {
            return Vec::new();
        };
        let policy = self.policy();
        let Some(slot) = self.slot(s) else {
            return Vec::new();
        };
        if slot.groups.is_none() {
            return Vec::new();
        }
        let caps = slot.caps(self.clock, self.liveness_window);
        let view = &slot.view;
        let candidates: Vec<Pubkey> = self
            .waiting
            .iter()
            .filter_map(|(_, job)| {
                let j = &self.jobs.get(job)?.open.job;
                let need = Need::of(j, now, self.liveness_window);
                (j.payment_mint == view.provider.payment_mint
                    && j.max_price_per_gpu_hour >= view.provider.price_per_gpu_hour
                    && need.met_by(&caps)
                    && !super::refused(j, &view.address)
                    && satisfies(
                        &view.provider,
                        view.active_stake,
                        &j.requirements,
                        &policy,
                        now,
                    )
                    .is_ok())
                .then_some(*job)
            })
            .collect();
        let mut matches = Vec::new();
        for job in candidates {
            if let Some(m) = self.try_match(job, now) {
                matches.push(m);
            }
            if self
                .slot(s)
                .is_none_or(|p| p.caps(self.clock, self.liveness_window).free == 0)
            {
                break;
            }
        }
        matches
    }
}
