//! The off-chain matcher: pairs open jobs with eligible providers.
//!
//! Eligibility is the registry's own [`satisfies`] predicate, the function the chain runs
//! when a provider accepts or bids, so the matcher never proposes a pair the chain would
//! refuse; a provider in a job's refused list (an auction winner that could not take it, or
//! a provider that declined the market matcher's assignment) is not eligible for that job. Among eligible providers it ranks by price (lower first), then completion rate
//! (higher first), then benchmark per unit of price (higher first), then address, and it
//! tracks each provider's free GPUs and unlocked stake across the round.
//!
//! [`Index`] keeps the market between rounds and answers a change with a small round;
//! [`match_round`] is one full round over a market read at once; [`brute_force`] is the
//! quadratic matcher both must agree with.

mod index;
pub mod live;
pub mod market_gen;

pub use gpu_market_client::market::{Match, OpenJob, ProviderView};
pub use index::{Index, IndexSize};

use anchor_lang::solana_program::pubkey::Pubkey;
use gpu_market_client::{
    driver, error, escrow,
    escrow::Job,
    filters, market,
    market::MarketSnapshot,
    pda,
    registry::{self, satisfies, ClassFilter, EligibilityPolicy, Requirements},
    rewards, staking, Chain,
};

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

/// Whether the provider account `provider` is in `job`'s refused list: it may not bid on
/// the job, nor be assigned it by the matcher.
fn refused(job: &Job, provider: &Pubkey) -> bool {
    job.refused_bidders.contains(provider)
}

/// The least any job asks: one GPU of any kind anywhere. A provider that cannot take it is
/// not live (paused, exiting, stale, under-staked or full).
pub const ANY_JOB: Requirements = Requirements {
    gpu_class: ClassFilter::Any,
    gpu_count: 1,
    min_vram_mib: 0,
    min_cpu_cores: 0,
    min_ram_mib: 0,
    region: 0,
    min_benchmark: 0,
    attested_only: false,
};

/// Pairs `jobs` with `providers` at time `now`. Jobs are served oldest first (then by
/// address), so the result is deterministic for the same input. It builds an [`Index`] and
/// runs one full round; a long-running matcher keeps the index instead and feeds it changes.
pub fn match_round(
    jobs: &[OpenJob],
    providers: &[ProviderView],
    policy: &EligibilityPolicy,
    now: i64,
) -> Vec<Match> {
    let mut index = Index::new(policy);
    for view in providers {
        index.upsert_provider(view.clone());
    }
    for open in jobs {
        index.upsert_job(open.clone());
    }
    index.round(now)
}

/// The obvious matcher, as a bid engine that has every job scan every provider does it:
/// for each job, oldest first, the best-ranked eligible provider with enough free GPUs and
/// unlocked stake left this round. Quadratic; the reference the indexed matcher must agree
/// with, and the baseline its benchmark compares against.
pub fn brute_force(
    jobs: &[OpenJob],
    providers: &[ProviderView],
    policy: &EligibilityPolicy,
    now: i64,
) -> Vec<Match> {
    let mut free: Vec<u16> = providers.iter().map(|p| p.provider.free_gpus()).collect();
    let mut unlocked: Vec<u64> = providers.iter().map(|p| p.unlocked_stake).collect();
    let mut order: Vec<&OpenJob> = jobs.iter().collect();
    order.sort_by_key(|j| (j.job.created_at, j.address));
    let mut out = Vec::new();
    for open in order {
        let job = &open.job;
        let collateral = job.terms.collateral();
        let best = (0..providers.len())
            .filter(|&i| {
                let p = &providers[i];
                p.provider.payment_mint == job.payment_mint
                    && p.provider.price_per_gpu_hour <= job.max_price_per_gpu_hour
                    && free[i] >= job.requirements.gpu_count
                    && unlocked[i] >= collateral
                    && !refused(job, &p.address)
                    && satisfies(&p.provider, p.active_stake, &job.requirements, policy, now)
                        .is_ok()
            })
            .min_by_key(|&i| rank_key(&providers[i]));
        if let Some(i) = best {
            free[i] = free[i].saturating_sub(job.requirements.gpu_count);
            unlocked[i] = unlocked[i].saturating_sub(collateral);
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

/// One full round over a snapshot's open jobs and providers.
pub trait SnapshotRound {
    fn match_round(&self) -> Vec<Match>;
}

impl SnapshotRound for MarketSnapshot {
    fn match_round(&self) -> Vec<Match> {
        match_round(&self.open_jobs(), &self.providers, &self.policy(), self.now)
    }
}

#[cfg(test)]
mod tests;
