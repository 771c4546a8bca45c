//! The off-chain matcher: pairs open jobs with eligible providers for one round.
//!
//! Eligibility is the registry's own [`satisfies`] predicate, the function the chain runs
//! when a provider accepts or bids, so the matcher never proposes a pair the chain would
//! refuse. Among eligible providers it ranks by price (lower first), then completion rate
//! (higher first), then benchmark per unit of price (higher first), then address, and it
//! tracks each provider's free GPUs across the whole round.
//!
//! To stay fast at scale it indexes providers once per round: only providers that are
//! active, live and staked at all enter the index, grouped by payment mint, GPU class,
//! VRAM size and region, each group sorted by rank. A job walks only the groups it can use
//! (class, VRAM floor and region already right), each from its best member, stops a group
//! at the first provider that satisfies it or ranks below the best so far, and providers
//! whose GPUs are all taken are skipped at the head of each group for good.

use crate::{
    escrow::{Job, JobMode},
    registry::{satisfies, EligibilityPolicy, GpuClass, Provider, Requirements},
};
use anchor_lang::solana_program::pubkey::Pubkey;
use std::collections::HashMap;

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

/// The rank of a provider, lower first: price, then completion rate (higher first), then
/// benchmark per unit of price (higher first, to 2^-64 precision), then address.
type RankKey = (u64, std::cmp::Reverse<u64>, std::cmp::Reverse<u128>, Pubkey);

fn rank_key(view: &ProviderView) -> RankKey {
    let p = &view.provider;
    let per_price = (u128::from(p.benchmark_score) << 64) / u128::from(p.price_per_gpu_hour.max(1));
    (
        p.price_per_gpu_hour,
        std::cmp::Reverse(p.reputation.completion_rate_bps()),
        std::cmp::Reverse(per_price),
        view.address,
    )
}

/// Providers of one GPU class, VRAM size and region (for one payment mint), best first,
/// with the head moved past those that have no free GPU left this round.
struct Group {
    class: GpuClass,
    vram_mib: u32,
    region: u16,
    members: Vec<u32>,
    head: usize,
}

/// The least any job asks: one GPU of any kind anywhere. A provider that cannot take it is
/// not live (paused, exiting, stale, under-staked or full).
pub const ANY_JOB: Requirements = Requirements {
    gpu_class: None,
    gpu_count: 1,
    min_vram_mib: 0,
    min_cpu_cores: 0,
    min_ram_mib: 0,
    region: 0,
    min_benchmark: 0,
    attested_only: false,
};

/// Pairs `jobs` with `providers` at time `now`. Jobs are served oldest first (then by
/// address), so the result is deterministic for the same input.
pub fn match_round(
    jobs: &[OpenJob],
    providers: &[ProviderView],
    policy: &EligibilityPolicy,
    now: i64,
) -> Vec<Match> {
    // Free GPUs and unlocked stake per provider, updated as the round assigns them.
    let mut free: Vec<u16> = providers.iter().map(|p| p.provider.free_gpus()).collect();
    let mut unlocked: Vec<u64> = providers.iter().map(|p| p.unlocked_stake).collect();
    let keys: Vec<RankKey> = providers.iter().map(rank_key).collect();

    // Index the providers that could take some job at all, by payment mint, then by GPU
    // class, VRAM and region: a job only looks at the groups it can use.
    let mut slots: HashMap<(Pubkey, GpuClass, u32, u16), usize> = HashMap::new();
    let mut by_mint: HashMap<Pubkey, Vec<Group>> = HashMap::new();
    for (i, view) in providers.iter().enumerate() {
        let p = &view.provider;
        if satisfies(p, view.active_stake, &ANY_JOB, policy, now).is_err() {
            continue;
        }
        let groups = by_mint.entry(p.payment_mint).or_default();
        let key = (
            p.payment_mint,
            p.hardware.gpu_class,
            p.hardware.vram_mib,
            p.region,
        );
        let slot = *slots.entry(key).or_insert_with(|| {
            groups.push(Group {
                class: p.hardware.gpu_class,
                vram_mib: p.hardware.vram_mib,
                region: p.region,
                members: Vec::new(),
                head: 0,
            });
            groups.len() - 1
        });
        groups[slot]
            .members
            .push(u32::try_from(i).unwrap_or(u32::MAX));
    }
    for group in by_mint.values_mut().flatten() {
        group.members.sort_unstable_by_key(|&m| keys[m as usize]);
    }

    let mut order: Vec<&OpenJob> = jobs.iter().collect();
    order.sort_by_key(|j| (j.job.created_at, j.address));

    let mut matches = Vec::new();
    for open in order {
        let job = &open.job;
        let req = &job.requirements;
        let Some(groups) = by_mint.get_mut(&job.payment_mint) else {
            continue;
        };
        let mut best: Option<usize> = None;
        let usable = groups.iter_mut().filter(|g| {
            req.gpu_class.is_none_or(|c| c == g.class)
                && g.vram_mib >= req.min_vram_mib
                && (req.region == 0 || req.region == g.region)
        });
        for group in usable {
            while group.head < group.members.len() && free[group.members[group.head] as usize] == 0
            {
                group.head += 1;
            }
            for &member in &group.members[group.head..] {
                let i = member as usize;
                let view = &providers[i];
                if view.provider.price_per_gpu_hour > job.max_price_per_gpu_hour {
                    // Sorted by price: nobody further on is cheap enough.
                    break;
                }
                if best.is_some_and(|b| keys[i] >= keys[b]) {
                    // Nobody further on in this group ranks above the best so far.
                    break;
                }
                if free[i] < req.gpu_count || unlocked[i] < job.terms.collateral() {
                    continue;
                }
                // The round's free count is at most the on-chain one, so the predicate's own
                // capacity check cannot disagree with the one above.
                if satisfies(&view.provider, view.active_stake, req, policy, now).is_ok() {
                    best = Some(i);
                    break;
                }
            }
        }
        if let Some(i) = best {
            free[i] = free[i].saturating_sub(req.gpu_count);
            unlocked[i] = unlocked[i].saturating_sub(job.terms.collateral());
            matches.push(Match {
                job: open.address,
                provider: providers[i].address,
                price_per_gpu_hour: providers[i].provider.price_per_gpu_hour,
                mode: job.mode,
            });
        }
    }
    matches
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market_gen::{jobs, providers, Rng};
    use proptest::prelude::*;

    const NOW: i64 = 1_700_000_000;
    const POLICY: EligibilityPolicy<'static> = EligibilityPolicy {
        min_stake_per_gpu: 100,
        liveness_window: 90,
        auditors: &[],
    };

    /// The obvious quadratic matcher the indexed one must agree with.
    fn reference(jobs: &[OpenJob], providers: &[ProviderView]) -> Vec<Match> {
        let mut free: Vec<u16> = providers.iter().map(|p| p.provider.free_gpus()).collect();
        let mut unlocked: Vec<u64> = providers.iter().map(|p| p.unlocked_stake).collect();
        let mut order: Vec<&OpenJob> = jobs.iter().collect();
        order.sort_by_key(|j| (j.job.created_at, j.address));
        let mut out = Vec::new();
        for open in order {
            let job = &open.job;
            let best = (0..providers.len())
                .filter(|&i| {
                    let p = &providers[i];
                    p.provider.payment_mint == job.payment_mint
                        && p.provider.price_per_gpu_hour <= job.max_price_per_gpu_hour
                        && free[i] >= job.requirements.gpu_count
                        && unlocked[i] >= job.terms.collateral()
                        && satisfies(&p.provider, p.active_stake, &job.requirements, &POLICY, NOW)
                            .is_ok()
                })
                .min_by_key(|&i| rank_key(&providers[i]));
            if let Some(i) = best {
                free[i] -= job.requirements.gpu_count;
                unlocked[i] -= job.terms.collateral();
                out.push(Match {
                    job: open.address,
                    provider: providers[i].address,
                    price_per_gpu_hour: providers[i].provider.price_per_gpu_hour,
                    mode: job.mode,
                });
            }
        }
        out
    }

    fn market(seed: u64, n_providers: usize, n_jobs: usize) -> (Vec<OpenJob>, Vec<ProviderView>) {
        let mut rng = Rng::new(seed);
        let mint = Pubkey::new_from_array([1; 32]);
        let providers = providers(&mut rng, n_providers, mint, 100, NOW);
        let jobs = jobs(&mut rng, n_jobs, mint, NOW);
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
            prop_assert_eq!(&got, &reference(&jobs, &providers));

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
    }

    #[test]
    fn the_cheapest_of_equal_providers_wins() {
        let (mut jobs, providers) = market(9, 3, 1);
        let mut providers: Vec<ProviderView> = (0..3)
            .map(|i| {
                let mut p = providers[0].clone();
                p.address = Pubkey::new_from_array([i as u8 + 10; 32]);
                p.provider.status = crate::registry::ProviderStatus::Active;
                p.provider.gpus_in_use = 0;
                p.provider.last_heartbeat = NOW;
                p.active_stake = 1 << 40;
                p.unlocked_stake = 1 << 40;
                p.provider.price_per_gpu_hour = [300, 100, 200][i];
                p
            })
            .collect();
        let job = &mut jobs[0].job;
        job.requirements = crate::registry::Requirements {
            gpu_class: None,
            gpu_count: 1,
            min_vram_mib: 0,
            min_cpu_cores: 0,
            min_ram_mib: 0,
            region: 0,
            min_benchmark: 0,
            attested_only: false,
        };
        job.max_price_per_gpu_hour = 1_000;
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
}
