//! One matcher round over a synthetic market: 200,000 providers against 1,000, 10,000 and
//! 100,000 open jobs (see `market_gen` for the spread of GPUs, regions and prices).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use gpu_market_client::{
    market_gen::{jobs, providers, Rng},
    matcher::match_round,
    registry::EligibilityPolicy,
    Pubkey,
};
use std::hint::black_box;

const PROVIDERS: usize = 200_000;
const NOW: i64 = 1_700_000_000;

fn round(c: &mut Criterion) {
    let mint = Pubkey::new_from_array([7; 32]);
    let policy = EligibilityPolicy {
        min_stake_per_gpu: 100,
        liveness_window: 90,
        auditors: &[],
    };
    let mut rng = Rng::new(42);
    let providers = providers(&mut rng, PROVIDERS, mint, 100, NOW);
    let mut group = c.benchmark_group("match_round_200k_providers");
    group.sample_size(10);
    for count in [1_000, 10_000, 100_000] {
        let jobs = jobs(&mut rng, count, mint, NOW);
        let matched = match_round(&jobs, &providers, &policy, NOW).len();
        println!("{count} jobs: {matched} matched");
        group.bench_with_input(BenchmarkId::from_parameter(count), &jobs, |b, jobs| {
            b.iter(|| match_round(black_box(jobs), black_box(&providers), &policy, NOW))
        });
    }
    group.finish();
}

criterion_group!(benches, round);
criterion_main!(benches);
