use super::*;
use crate::{
    escrow::JobStatus,
    market_gen::{jobs, providers, Rng},
    registry::{spec_hash, Attestation, ProviderStatus},
};
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap};

const NOW: i64 = 1_700_000_000;
const AUDITOR: Pubkey = Pubkey::new_from_array([0xad; 32]);
const POLICY: EligibilityPolicy<'static> = EligibilityPolicy {
    min_stake_per_gpu: 100,
    liveness_window: 90,
    auditors: &[AUDITOR],
};

/// A synthetic market where about a third of the providers carry a valid attestation and a
/// quarter of the jobs ask for one.
fn market(seed: u64, n_providers: usize, n_jobs: usize) -> (Vec<OpenJob>, Vec<ProviderView>) {
    let mut rng = Rng::new(seed);
    let mint = Pubkey::new_from_array([1; 32]);
    let mut providers = providers(&mut rng, n_providers, mint, 100, NOW);
    for view in &mut providers {
        if rng.below(3) == 0 {
            let p = &mut view.provider;
            p.attestation = Some(Attestation {
                auditor: AUDITOR,
                attested_at: NOW,
                spec_hash: spec_hash(&p.hardware, p.benchmark_score),
            });
        }
    }
    let mut jobs = jobs(&mut rng, n_jobs, mint, NOW);
    for open in &mut jobs {
        open.job.requirements.attested_only = rng.below(4) == 0;
        // Some jobs refused a provider (a declined assignment, a refused auction winner).
        if rng.below(5) == 0 {
            if let Some(view) = pick(&mut rng, providers.iter()) {
                open.job.refused_bidders.push(view.address);
            }
        }
    }
    (jobs, providers)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Same answer as the brute-force matcher: so never an ineligible provider, never
    /// more GPUs than a provider has free, the best-ranked eligible provider each time.
    #[test]
    fn agrees_with_the_reference(seed in any::<u64>(), n_providers in 1..120usize, n_jobs in 1..80usize) {
        let (jobs, providers) = market(seed, n_providers, n_jobs);
        let got = match_round(&jobs, &providers, &POLICY, NOW);
        prop_assert_eq!(&got, &brute_force(&jobs, &providers, &POLICY, NOW));

        let by_address: HashMap<Pubkey, &ProviderView> =
            providers.iter().map(|p| (p.address, p)).collect();
        let jobs_by_address: HashMap<Pubkey, &OpenJob> =
            jobs.iter().map(|j| (j.address, j)).collect();
        let mut used: HashMap<Pubkey, (u16, u64)> = HashMap::new();
        for m in &got {
            let p = by_address[&m.provider];
            let j = &jobs_by_address[&m.job].job;
            prop_assert!(satisfies(&p.provider, p.active_stake, &j.requirements, &POLICY, NOW).is_ok());
            prop_assert!(m.price_per_gpu_hour <= j.max_price_per_gpu_hour);
            let entry = used.entry(m.provider).or_default();
            entry.0 += j.requirements.gpu_count;
            entry.1 += j.terms.collateral();
        }
        for (provider, (gpus, collateral)) in used {
            prop_assert!(gpus <= by_address[&provider].provider.free_gpus());
            prop_assert!(collateral <= by_address[&provider].unlocked_stake);
        }
    }

    /// The input order of providers and jobs does not change the outcome.
    #[test]
    fn is_deterministic(seed in any::<u64>()) {
        let (mut jobs, mut providers) = market(seed, 60, 40);
        let first = match_round(&jobs, &providers, &POLICY, NOW);
        providers.reverse();
        jobs.rotate_left(7);
        prop_assert_eq!(first, match_round(&jobs, &providers, &POLICY, NOW));
    }

    /// A live index fed a random stream of changes (jobs created, confirmed, finished,
    /// cancelled or refused; providers repriced, paused, filled, emptied, going stale,
    /// removed; time passing) answers each with exactly the matches a brute-force round over
    /// what is left would make, and afterwards no waiting job has an eligible provider.
    #[test]
    fn incremental_rounds_agree_with_the_reference(
        seed in any::<u64>(),
        n_providers in 1..40usize,
        n_jobs in 0..30usize,
        n_events in 1..60usize,
    ) {
        let mut world = World::new(seed, n_providers, n_jobs);
        let first = world.index.round(world.now);
        world.check(first)?;
        for _ in 0..n_events {
            let got = world.step();
            world.check(got)?;
        }
    }
}

/// The chain as the test sees it, an index fed from it, and what the index matched.
struct World {
    rng: Rng,
    now: i64,
    index: Index,
    providers: BTreeMap<Pubkey, ProviderView>,
    /// Open jobs, and the match the index holds for each (if any).
    open: BTreeMap<Pubkey, (OpenJob, Option<Pubkey>)>,
    /// Jobs confirmed on chain: their provider, GPUs and collateral.
    running: Vec<(Pubkey, u16, u64)>,
    spare_jobs: Vec<OpenJob>,
    /// What a brute-force round over the state before the last step's matching gives.
    expected: Vec<Match>,
}

impl World {
    fn new(seed: u64, n_providers: usize, n_jobs: usize) -> Self {
        let (mut jobs, providers) = market(seed, n_providers, n_jobs + 40);
        let spare_jobs = jobs.split_off(n_jobs);
        let mut index = Index::new(&POLICY);
        for view in &providers {
            index.upsert_provider(view.clone());
        }
        for open in &jobs {
            index.upsert_job(open.clone());
        }
        let mut world = Self {
            rng: Rng::new(seed ^ 0x5eed),
            now: NOW,
            index,
            providers: providers.into_iter().map(|p| (p.address, p)).collect(),
            open: jobs.into_iter().map(|j| (j.address, (j, None))).collect(),
            running: Vec::new(),
            spare_jobs,
            expected: Vec::new(),
        };
        world.expect();
        world
    }

    /// Providers as the index should see them: the chain's view less what its own matches
    /// hold.
    fn effective(&self) -> Vec<ProviderView> {
        let mut held: HashMap<Pubkey, (u16, u64)> = HashMap::new();
        for (open, matched) in self.open.values() {
            if let Some(p) = matched {
                let h = held.entry(*p).or_default();
                h.0 += open.job.requirements.gpu_count;
                h.1 += open.job.terms.collateral();
            }
        }
        self.providers
            .values()
            .map(|view| {
                let mut view = view.clone();
                let (gpus, collateral) = held.get(&view.address).copied().unwrap_or_default();
                let p = &mut view.provider;
                p.gpus_in_use = p.gpus_in_use.saturating_add(gpus).min(p.hardware.gpu_count);
                view.unlocked_stake = view.unlocked_stake.saturating_sub(collateral);
                view
            })
            .collect()
    }

    fn waiting(&self) -> Vec<OpenJob> {
        self.open
            .values()
            .filter(|(_, m)| m.is_none())
            .map(|(j, _)| j.clone())
            .collect()
    }

    /// Records what a brute-force round would match now.
    fn expect(&mut self) {
        self.expected = brute_force(&self.waiting(), &self.effective(), &POLICY, self.now);
    }

    /// One random change, fed to the index, and the incremental round that answers it.
    fn step(&mut self) -> Vec<Match> {
        match self.rng.below(9) {
            // A job is created.
            0 | 1 => {
                let Some(mut open) = self.spare_jobs.pop() else {
                    return self.idle();
                };
                open.job.created_at = self.now;
                let address = open.address;
                self.open.insert(address, (open.clone(), None));
                self.index.upsert_job(open);
                self.expect();
                self.index
                    .match_job(&address, self.now)
                    .into_iter()
                    .collect()
            }
            // A provider changes: price, status, heartbeat, capacity or stake.
            2 | 3 => {
                let Some(address) = pick(&mut self.rng, self.providers.keys().copied()) else {
                    return self.idle();
                };
                let change = self.rng.below(6);
                let amount = self.rng.below(1_000);
                let view = self.providers.get_mut(&address).unwrap();
                let p = &mut view.provider;
                match change {
                    0 => p.price_per_gpu_hour = p.price_per_gpu_hour * (50 + amount % 100) / 100,
                    1 => {
                        p.status = if p.status == ProviderStatus::Active {
                            ProviderStatus::Paused
                        } else {
                            ProviderStatus::Active
                        }
                    }
                    2 => p.last_heartbeat = self.now,
                    3 => p.last_heartbeat = self.now - 200,
                    4 => p.reputation.jobs_failed += amount % 7,
                    _ => view.active_stake = amount % 3 * 400,
                }
                self.changed(address)
            }
            // The chain confirms a match: the job leaves the open set, the provider fills.
            4 | 5 => {
                let Some((job, provider)) = pick(
                    &mut self.rng,
                    self.open.iter().filter_map(|(a, (_, m))| Some((*a, (*m)?))),
                ) else {
                    return self.idle();
                };
                let (open, _) = self.open.remove(&job).unwrap();
                let (gpus, collateral) =
                    (open.job.requirements.gpu_count, open.job.terms.collateral());
                assert_eq!(self.index.remove_job(&job), Some(provider));
                let view = self.providers.get_mut(&provider).unwrap();
                view.provider.gpus_in_use += gpus;
                view.unlocked_stake -= collateral;
                self.running.push((provider, gpus, collateral));
                self.changed(provider)
            }
            // A running job ends: the provider frees its GPUs and collateral.
            6 => {
                if self.running.is_empty() {
                    return self.idle();
                }
                let i = self.rng.below(self.running.len() as u64) as usize;
                let (provider, gpus, collateral) = self.running.swap_remove(i);
                let Some(view) = self.providers.get_mut(&provider) else {
                    return self.idle();
                };
                view.provider.gpus_in_use -= gpus;
                view.unlocked_stake += collateral;
                self.changed(provider)
            }
            // A job is cancelled, or the chain refuses a match (then the job waits again).
            7 => {
                let Some(job) = pick(&mut self.rng, self.open.keys().copied()) else {
                    return self.idle();
                };
                if self.rng.below(2) == 0 {
                    let mut open = self.open.remove(&job).unwrap().0;
                    open.job.status = JobStatus::Assigned;
                    // Cancelled or taken by someone the index did not match: either way no
                    // longer open.
                    self.index.upsert_job(open);
                } else {
                    let held = self.open.get_mut(&job).unwrap();
                    let was = held.1.take();
                    assert_eq!(self.index.unmatch(&job), was);
                }
                self.expect();
                self.index.round(self.now)
            }
            // A provider leaves, or time passes.
            _ => {
                if self.rng.below(2) == 0 {
                    if let Some(address) = pick(&mut self.rng, self.providers.keys().copied()) {
                        self.providers.remove(&address);
                        self.running.retain(|r| r.0 != address);
                        for (_, m) in self.open.values_mut() {
                            if *m == Some(address) {
                                *m = None;
                            }
                        }
                        self.index.remove_provider(&address);
                    }
                } else {
                    self.now += self.rng.below(60) as i64;
                }
                self.idle()
            }
        }
    }

    /// Feeds a changed provider to the index and answers it.
    fn changed(&mut self, provider: Pubkey) -> Vec<Match> {
        self.index
            .upsert_provider(self.providers[&provider].clone());
        self.expect();
        self.index.match_provider(&provider, self.now)
    }

    fn idle(&mut self) -> Vec<Match> {
        self.expect();
        self.index.round(self.now)
    }

    /// The step matched what the reference did; records it; nothing is left to match.
    fn check(&mut self, got: Vec<Match>) -> Result<(), TestCaseError> {
        prop_assert_eq!(&got, &self.expected);
        for m in &got {
            let held = self.open.get_mut(&m.job).unwrap();
            held.1 = Some(m.provider);
        }
        let left = brute_force(&self.waiting(), &self.effective(), &POLICY, self.now);
        prop_assert!(
            left.is_empty(),
            "a waiting job could still be matched: {left:?}"
        );
        for (job, (_, matched)) in &self.open {
            prop_assert_eq!(self.index.matched(job), *matched);
        }
        let size = self.index.size();
        prop_assert_eq!(size.providers, self.providers.len());
        prop_assert_eq!(size.waiting_jobs + size.pending_jobs, self.open.len());
        Ok(())
    }
}

fn pick<T: Clone>(rng: &mut Rng, items: impl Iterator<Item = T>) -> Option<T> {
    let items: Vec<T> = items.collect();
    (!items.is_empty()).then(|| rng.pick(&items).clone())
}

/// A job any live provider can take at up to 1,000, and three live providers alike but
/// for their prices: 300, 100, 200.
fn one_job_three_providers() -> (Vec<OpenJob>, Vec<ProviderView>) {
    let (mut jobs, providers) = market(9, 3, 1);
    let providers: Vec<ProviderView> = (0..3)
        .map(|i| {
            let mut p = providers[0].clone();
            p.address = Pubkey::new_from_array([i as u8 + 10; 32]);
            p.provider.status = ProviderStatus::Active;
            p.provider.gpus_in_use = 0;
            p.provider.last_heartbeat = NOW;
            p.active_stake = 1 << 40;
            p.unlocked_stake = 1 << 40;
            p.provider.price_per_gpu_hour = [300, 100, 200][i];
            p
        })
        .collect();
    let job = &mut jobs[0].job;
    job.requirements = ANY_JOB;
    job.max_price_per_gpu_hour = 1_000;
    job.refused_bidders.clear();
    (jobs, providers)
}

#[test]
fn the_cheapest_of_equal_providers_wins() {
    let (jobs, mut providers) = one_job_three_providers();
    let got = match_round(&jobs, &providers, &POLICY, NOW);
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].provider, got[0].price_per_gpu_hour),
        (providers[1].address, 100)
    );
    // Above the job's max price nobody is proposed.
    providers
        .iter_mut()
        .for_each(|p| p.provider.price_per_gpu_hour = 1_001);
    assert!(match_round(&jobs, &providers, &POLICY, NOW).is_empty());
}

#[test]
fn a_provider_the_job_refused_is_passed_over() {
    let (mut jobs, providers) = one_job_three_providers();
    let job = &mut jobs[0].job;
    job.refused_bidders = vec![providers[1].address];
    let got = match_round(&jobs, &providers, &POLICY, NOW);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].provider, providers[2].address);
    assert_eq!(got, brute_force(&jobs, &providers, &POLICY, NOW));
    // Freeing the refused provider offers it nothing; the job stays with the next best.
    let mut index = Index::new(&POLICY);
    index.upsert_provider(providers[1].clone());
    index.upsert_job(jobs[0].clone());
    assert_eq!(index.match_job(&jobs[0].address, NOW), None);
    assert!(index.match_provider(&providers[1].address, NOW).is_empty());
    index.upsert_provider(providers[2].clone());
    let got = index.match_provider(&providers[2].address, NOW);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].provider, providers[2].address);
}

/// A provider that frees its GPUs gets the oldest waiting job it can serve; a refused match
/// goes back to waiting and to the next best provider.
#[test]
fn a_freed_provider_takes_the_oldest_waiting_job() {
    let (jobs, providers) = market(3, 1, 2);
    let mut view = providers[0].clone();
    view.provider.status = ProviderStatus::Active;
    view.provider.hardware.gpu_count = 1;
    view.provider.gpus_in_use = 1;
    view.provider.last_heartbeat = NOW;
    view.active_stake = 1 << 40;
    view.unlocked_stake = 1 << 40;
    view.provider.price_per_gpu_hour = 10;
    let mut index = Index::new(&POLICY);
    index.upsert_provider(view.clone());
    let mut ids = Vec::new();
    for (i, mut open) in jobs.into_iter().enumerate() {
        open.job.requirements = ANY_JOB;
        open.job.max_price_per_gpu_hour = 100;
        open.job.created_at = NOW - 10 + i as i64;
        ids.push(open.address);
        index.upsert_job(open);
        assert_eq!(index.match_job(&ids[i], NOW), None, "the provider is full");
    }
    view.provider.gpus_in_use = 0;
    index.upsert_provider(view.clone());
    let got = index.match_provider(&view.address, NOW);
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].job, got[0].provider), (ids[0], view.address));
    assert_eq!(
        index.size(),
        IndexSize {
            providers: 1,
            indexed_providers: 1,
            groups: 2,
            waiting_jobs: 1,
            pending_jobs: 1,
        }
    );
    // The chain refuses it: the job waits again and, oldest first, is matched again.
    assert_eq!(index.unmatch(&ids[0]), Some(view.address));
    assert_eq!(index.round(NOW)[0].job, ids[0]);
    // Confirmed on chain: the reservation moves into the provider's own account.
    assert_eq!(index.remove_job(&ids[0]), Some(view.address));
    view.provider.gpus_in_use = 1;
    index.upsert_provider(view.clone());
    assert!(index.match_provider(&view.address, NOW).is_empty());
    assert_eq!(index.size().waiting_jobs, 1);
}
