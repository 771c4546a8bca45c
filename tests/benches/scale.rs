//! The market at the size it is built for, end to end on the in-process chain: 200,000
//! providers and their stake accounts (genesis-style, written straight into the bank, with
//! the program-derived addresses and bumps the programs check) and 10,000 open jobs no
//! provider can serve, then:
//!
//! - what one provider agent's tick reads (`MarketSnapshot::for_provider` through a
//!   counting chain), at 2,000 providers and again at 200,000;
//! - how long the matcher service takes to read the market and build its index;
//! - job created -> assigned: a startup's job created by a real transaction, applied to the
//!   service's live market, matched, assigned by a real `assign_job` and its accounts
//!   applied back, with the 10,000 other jobs waiting.
//!
//! `cargo bench -p gpu-market-tests --bench scale`; `SCALE_PROVIDERS` and `SCALE_JOBS`
//! change the sizes. The in-process chain serves each account read through the bank, so
//! the read times are that bank's, not an RPC node's; the counts are what an RPC node would
//! serve. The service's read here is unsharded: the in-process chain answers a filtered
//! read by scanning every account of the program, so 256 pages would cost 256 scans.

use anchor_lang::AccountSerialize;
use gpu_market_client::{
    chain::counting::Counting,
    escrow::{self as ix, Job, JobStatus, Workload},
    market::MarketSnapshot,
    pda,
    registry::{Provider, RegistryConfig},
    staking::StakeAccount,
    Chain, Pubkey, Signer,
};
use gpu_market_matcher::{
    live::{LiveMarket, Shards, Update},
    market_gen::{self, Rng},
};
use gpu_market_tests::{escrow::*, *};
use solana_account::Account;
use std::time::{Duration, Instant};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn account<T: AccountSerialize>(value: &T, space: usize, owner: Pubkey, lamports: u64) -> Account {
    let mut data = Vec::with_capacity(space);
    value.try_serialize(&mut data).expect("serialize");
    data.resize(space.max(data.len()), 0);
    Account {
        lamports,
        data,
        owner,
        executable: false,
        rent_epoch: 0,
    }
}

/// Writes `count` providers (from `market_gen`, re-addressed to their PDAs) and their stake
/// accounts into the chain; returns their authorities.
fn add_providers(m: &mut Market, rng: &mut Rng, count: usize) -> Vec<Pubkey> {
    let now = m.chain.now().expect("clock");
    let registry: RegistryConfig = m.chain.fetch(&pda::registry_config()).expect("registry");
    let provider_rent = m.chain.minimum_balance(Provider::SPACE).expect("rent");
    let stake_rent = m.chain.minimum_balance(StakeAccount::SPACE).expect("rent");
    let views = market_gen::providers(rng, count, m.payment_mint, registry.min_stake_per_gpu, now);
    let mut authorities = Vec::with_capacity(count);
    for view in views {
        let mut provider = view.provider;
        let authority = provider.authority;
        let (address, bump) = Pubkey::find_program_address(
            &[Provider::SEED, authority.as_ref()],
            &provider_registry::ID,
        );
        provider.bump = bump;
        provider.endpoint = "https://node.example:8443".into();
        let (stake_address, stake_bump) =
            Pubkey::find_program_address(&[StakeAccount::SEED, authority.as_ref()], &staking::ID);
        let stake = StakeAccount {
            owner: authority,
            active: view.active_stake,
            unbonding: 0,
            unbonding_ends_at: 0,
            total_slashed: 0,
            locked: view.active_stake.saturating_sub(view.unlocked_stake),
            bump: stake_bump,
        };
        m.chain.set_account(
            &address,
            account(
                &provider,
                Provider::SPACE,
                provider_registry::ID,
                provider_rent,
            ),
        );
        m.chain.set_account(
            &stake_address,
            account(&stake, StakeAccount::SPACE, staking::ID, stake_rent),
        );
        authorities.push(authority);
    }
    authorities
}

/// Writes `count` open instant jobs that no provider can serve (64 GPUs each), in the
/// matcher's window, so they wait in its index.
fn add_waiting_jobs(m: &mut Market, rng: &mut Rng, matcher: &Pubkey, count: usize) {
    let now = m.chain.now().expect("clock");
    let rent = m.chain.minimum_balance(Job::SPACE).expect("rent");
    for open in market_gen::jobs(rng, count, m.payment_mint, now) {
        let mut job = open.job;
        job.mode = job_escrow::state::JobMode::Instant;
        job.status = JobStatus::Open;
        job.requirements.gpu_count = 64;
        job.terms.matcher = *matcher;
        job.terms.match_window = 600;
        job.match_deadline = now + 86_400;
        job.bid_deadline = now + 86_400;
        job.workload = Workload {
            content_hash: [1; 32],
            uri: "oci://registry.example/train:1.0".into(),
        };
        let (address, bump) = Pubkey::find_program_address(
            &[Job::SEED, job.client.as_ref(), &job.job_id.to_le_bytes()],
            &job_escrow::ID,
        );
        job.bump = bump;
        m.chain
            .set_account(&address, account(&job, Job::SPACE, job_escrow::ID, rent));
    }
}

/// One agent tick's reads for the provider of `authority`.
fn agent_tick(
    m: &mut Market,
    authority: &Pubkey,
) -> (gpu_market_client::chain::counting::Reads, Duration) {
    let mut counting = Counting::new(&mut m.chain);
    let started = Instant::now();
    let snapshot = MarketSnapshot::for_provider(&mut counting, authority).expect("agent read");
    let took = started.elapsed();
    assert_eq!(snapshot.providers.len(), 1);
    (counting.take(), took)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let small = env("SCALE_SMALL", 2_000);
    let large = env("SCALE_PROVIDERS", 200_000);
    let waiting = env("SCALE_JOBS", 10_000);
    let assignments = env("SCALE_ASSIGNMENTS", 20);
    let (mut m, matcher) = Market::with_matcher(30);
    let mut rng = Rng::new(7);

    let started = Instant::now();
    add_waiting_jobs(&mut m, &mut rng, &matcher.pubkey(), waiting);
    let mut authorities = add_providers(&mut m, &mut rng, small);
    println!(
        "market: {small} providers and {waiting} waiting jobs written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let me = authorities[0];
    let (reads_small, took_small) = agent_tick(&mut m, &me);

    let started = Instant::now();
    authorities.extend(add_providers(&mut m, &mut rng, large - small));
    println!(
        "market: {} more providers written in {:.1} s",
        large - small,
        started.elapsed().as_secs_f64()
    );
    let (reads_large, took_large) = agent_tick(&mut m, &me);
    println!();
    println!(
        "| providers | read calls | accounts returned | bytes returned | agent read (in-process) |"
    );
    println!("| --- | --- | --- | --- | --- |");
    for (n, reads, took) in [
        (small, reads_small, took_small),
        (large, reads_large, took_large),
    ] {
        println!(
            "| {n} | {} | {} | {} | {:.0} ms |",
            reads.calls(),
            reads.accounts_returned,
            reads.bytes_returned,
            took.as_secs_f64() * 1e3
        );
    }

    // The matcher service's first read and index.
    let mut counting = Counting::new(&mut m.chain);
    let started = Instant::now();
    let (mut live, loaded) =
        LiveMarket::load(&mut counting, matcher.pubkey(), Shards::Whole, 1).expect("load");
    let read_and_index = started.elapsed();
    let reads = counting.take();
    let now = m.chain.now().expect("clock");
    let started = Instant::now();
    let first = live.tick(now);
    let first_round = started.elapsed();
    let size = live.size();
    println!();
    println!(
        "matcher service: read {} providers, {} stakes, {} jobs in {} pages ({} accounts, {} MB) and fed the index in {:.2} s, of which the index {:.0} ms; first round (sorting the groups) {:.0} ms, {} matches; {} indexed providers in {} groups, {} jobs waiting",
        loaded.providers,
        loaded.stakes,
        loaded.jobs,
        loaded.pages,
        reads.accounts_returned,
        reads.bytes_returned / 1_000_000,
        read_and_index.as_secs_f64(),
        loaded.index_build.as_secs_f64() * 1e3,
        first_round.as_secs_f64() * 1e3,
        first.len(),
        size.index.indexed_providers,
        size.index.groups,
        size.index.waiting_jobs,
    );

    // Jobs created one after another, each assigned by the service.
    let client = m.client(10_000 * TOKEN);
    let mut slot = 2;
    let (mut latencies, mut rounds) = (Vec::new(), Vec::new());
    for id in 0..assignments {
        let id = u64::try_from(id).unwrap_or(u64::MAX) + 1;
        m.create_job(&client, batch_job(id, 1))
            .expect("create a job");
        let job = pda::job(&client.pubkey(), id);
        let created = Instant::now();
        slot += 1;
        live.apply(Update {
            address: job,
            slot,
            account: m.chain.account(&job).expect("read"),
        });
        let round = Instant::now();
        let matches = live.tick(m.chain.now().expect("clock"));
        rounds.push(round.elapsed());
        assert_eq!(matches.len(), 1, "job {id} matched");
        let provider = matches[0].provider;
        let authority = live.provider(&provider).expect("provider").authority;
        signed(
            &mut m,
            ix::assign_job(&matcher.pubkey(), &authority, &job),
            &matcher,
        )
        .expect("assign");
        slot += 1;
        for address in [job, provider, pda::stake_account(&authority)] {
            live.apply(Update {
                address,
                slot,
                account: m.chain.account(&address).expect("read"),
            });
        }
        assert!(live.tick(m.chain.now().expect("clock")).is_empty());
        latencies.push(created.elapsed());
        assert_eq!(
            m.chain.fetch::<Job>(&job).expect("job").status,
            JobStatus::Assigned
        );
    }
    println!(
        "created -> assigned with {waiting} jobs waiting: median {:.2} ms over {assignments} jobs (apply, round, assign_job in process, apply back); the round alone: median {:.0} us",
        median(latencies).as_secs_f64() * 1e3,
        median(rounds).as_secs_f64() * 1e6,
    );
}
