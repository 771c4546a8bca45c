//! The matcher on a synthetic market of 200,000 providers (see `market_gen` for the spread
//! of GPUs, regions and prices), in one run:
//!
//! - `round_on_live_index`: one full round over 1,000 / 10,000 / 100,000 open jobs on an
//!   index already built, as the matcher service runs it;
//! - `build_and_round`: [`match_round`], building the index from the accounts first;
//! - `brute_force`: every job scans every provider (a bid engine's way), on the same market:
//!   sampled at 1,000 jobs, one timed pass at 10,000, and at 100,000 (about ten minutes) one
//!   pass only with `MATCHER_BENCH_BRUTE_100K=1`;
//! - `incremental`: with the 10,000-job round done, one job created (and matched), and one
//!   provider finishing a job (its reputation, hence its rank, and its free GPUs change).

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use gpu_market_client::{registry::EligibilityPolicy, Pubkey};
use gpu_market_matcher::{
    brute_force,
    market_gen::{jobs, providers, Rng},
    match_round, Index, OpenJob, ProviderView,
};
use std::{
    hint::black_box,
    time::{Duration, Instant},
};

const PROVIDERS: usize = 200_000;
const NOW: i64 = 1_700_000_000;
const POLICY: EligibilityPolicy<'static> = EligibilityPolicy {
    min_stake_per_gpu: 100,
    liveness_window: 90,
    auditors: &[],
};
const MINT: Pubkey = Pubkey::new_from_array([7; 32]);

fn index(providers: &[ProviderView], jobs: &[OpenJob]) -> Index {
    let mut index = Index::new(&POLICY);
    for view in providers {
        index.upsert_provider(view.clone());
    }
    for open in jobs {
        index.upsert_job(open.clone());
    }
    index
}

fn market() -> (Vec<ProviderView>, Vec<(usize, Vec<OpenJob>)>) {
    let mut rng = Rng::new(42);
    let providers = providers(&mut rng, PROVIDERS, MINT, 100, NOW);
    let jobs = [1_000, 10_000, 100_000]
        .into_iter()
        .map(|count| (count, jobs(&mut rng, count, MINT, NOW)))
        .collect();
    (providers, jobs)
}

/// Whether the command line selects benchmark `name` (no filter selects all). Work done
/// outside criterion's timing (the printed checks, the one-pass brute force) runs only then.
fn selected(name: &str) -> bool {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        // Filters, not options or their numeric values (`--profile-time 10`).
        .filter(|arg| !arg.starts_with('-') && arg.contains(|c: char| c.is_alphabetic()))
        .collect();
    filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()))
}

fn rounds(c: &mut Criterion) {
    let (providers, markets) = market();
    if selected("round_on_live_index") {
        let start = Instant::now();
        let built = index(&providers, &[]);
        println!(
            "index of {PROVIDERS} providers: {:?} to feed, {:?}",
            start.elapsed(),
            built.size()
        );
    }

    let mut group = c.benchmark_group("round_on_live_index_200k_providers");
    group.sample_size(10);
    for (count, jobs) in &markets {
        group.bench_with_input(BenchmarkId::from_parameter(count), jobs, |b, jobs| {
            b.iter_batched(
                || {
                    // A live index: its groups already sorted, then the jobs arrive.
                    let mut index = index(&providers, &[]);
                    index.round(NOW);
                    for open in jobs {
                        index.upsert_job(open.clone());
                    }
                    index
                },
                |mut index| {
                    let matches = index.round(black_box(NOW));
                    // Dropping 200,000 providers is not part of a round.
                    (index, matches)
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();

    let mut group = c.benchmark_group("build_and_round_200k_providers");
    group.sample_size(10);
    for (count, jobs) in &markets {
        group.bench_with_input(BenchmarkId::from_parameter(count), jobs, |b, jobs| {
            b.iter(|| match_round(black_box(jobs), black_box(&providers), &POLICY, NOW))
        });
    }
    group.finish();

    // The brute force takes seconds a round: criterion samples it at 1,000 jobs; at 10,000
    // it is one timed pass, and at 100,000 (minutes) one pass only when
    // MATCHER_BENCH_BRUTE_100K is set.
    let mut group = c.benchmark_group("brute_force_200k_providers");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(1));
    for (count, jobs) in markets.iter().filter(|(count, _)| *count == 1_000) {
        if selected(&format!("brute_force_200k_providers/{count}")) {
            let indexed = match_round(jobs, &providers, &POLICY, NOW);
            let same = brute_force(jobs, &providers, &POLICY, NOW) == indexed;
            println!(
                "{count} jobs: {} matched; brute force and indexed agree: {same}",
                indexed.len()
            );
        }
        group.bench_with_input(BenchmarkId::from_parameter(count), jobs, |b, jobs| {
            b.iter(|| brute_force(black_box(jobs), black_box(&providers), &POLICY, NOW))
        });
    }
    group.finish();
    let full = std::env::var_os("MATCHER_BENCH_BRUTE_100K").is_some();
    for (count, jobs) in &markets {
        let name = format!("brute_force_200k_providers/{count}");
        if *count == 1_000 || (*count == 100_000 && !full) || !selected(&name) {
            continue;
        }
        let start = Instant::now();
        let brute = black_box(brute_force(jobs, &providers, &POLICY, NOW));
        let took = start.elapsed().as_secs_f64();
        let same = brute == match_round(jobs, &providers, &POLICY, NOW);
        println!(
            "{name}: one pass {took:.2} s, {} matched; brute force and indexed agree: {same}",
            brute.len()
        );
    }
}

fn incremental(c: &mut Criterion) {
    let (providers, markets) = market();
    let Some((_, jobs)) = markets.into_iter().find(|(count, _)| *count == 10_000) else {
        return;
    };
    let mut live = index(&providers, &jobs);
    live.round(NOW);
    if selected("incremental") {
        println!("after the 10,000-job round: {:?}", live.size());
    }
    let mut rng = Rng::new(7);
    let fresh = jobs_like(&mut rng, 100_000);
    let mut group = c.benchmark_group("incremental_10k_jobs_200k_providers");
    group.bench_function("job_created", |b| {
        let mut next = fresh.iter().cycle();
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                let Some(open) = next.next() else { break };
                let start = Instant::now();
                live.upsert_job(open.clone());
                black_box(live.match_job(&open.address, NOW));
                timed += start.elapsed();
                // Put the market back: the job is gone again and its provider is free.
                if let Some(provider) = live.remove_job(&open.address) {
                    live.match_provider(&provider, NOW);
                }
            }
            timed
        })
    });
    group.bench_function("provider_finished_a_job", |b| {
        let mut visits = 0;
        b.iter_custom(|iters| {
            time_provider_changes(&mut live, &providers, &mut visits, iters, |view, lap| {
                view.provider.reputation.jobs_completed += 1 + lap;
                let freed = 1 + (lap % 2) as u16;
                view.provider.gpus_in_use = view.provider.gpus_in_use.saturating_sub(freed);
            })
        })
    });
    group.bench_function("provider_repriced", |b| {
        // A price change always moves the provider in its groups' rank order.
        let mut visits = 0;
        b.iter_custom(|iters| {
            time_provider_changes(&mut live, &providers, &mut visits, iters, |view, lap| {
                let price = view.provider.price_per_gpu_hour;
                view.provider.price_per_gpu_hour = if lap % 2 == 0 {
                    price / 2
                } else {
                    price * 3 / 2
                };
            })
        })
    });
    group.finish();
}

/// Times `iters` provider updates (each `change`d from its account, then fed to `live` and
/// answered), visiting the providers in turn. `change` gets the lap, so that each visit
/// differs from the previous one to the same provider: criterion runs more iterations than
/// there are providers.
fn time_provider_changes(
    live: &mut Index,
    providers: &[ProviderView],
    visits: &mut usize,
    iters: u64,
    change: impl Fn(&mut ProviderView, u64),
) -> Duration {
    let mut timed = Duration::ZERO;
    for _ in 0..iters {
        let (lap, i) = (*visits / providers.len(), *visits % providers.len());
        *visits += 1;
        let mut view = providers[i].clone();
        change(&mut view, lap as u64);
        let address = view.address;
        let start = Instant::now();
        live.upsert_provider(view);
        black_box(live.match_provider(&address, NOW));
        timed += start.elapsed();
    }
    timed
}

/// Jobs like the benchmark's, with their own addresses, all created now (the youngest).
fn jobs_like(rng: &mut Rng, count: usize) -> Vec<OpenJob> {
    let mut jobs = jobs(rng, count, MINT, NOW);
    for open in &mut jobs {
        open.job.created_at = NOW;
    }
    jobs
}

criterion_group!(benches, rounds, incremental);
criterion_main!(benches);
