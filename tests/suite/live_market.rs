//! The matcher service's live market on the in-process chain: loaded from a sharded
//! snapshot, kept current by account updates applied by slot, assigning through the real
//! `assign_job`, and holding a provider's reservation until its own update arrives.

use gpu_market_client::{
    driver::{self, Action},
    escrow::{self as ix, Job, JobStatus},
    market::MarketSnapshot,
    pda,
    registry::Provider,
    Chain, Keypair, Memcmp, Pubkey, Signer,
};
use gpu_market_matcher::live::{Applied, LiveMarket, Shards, Update, MAX_TRIES, SETTLE_GRACE};
use gpu_market_tests::{escrow::*, *};

const MATCH_WINDOW: i64 = 30;

/// The account at `address` as an update of `slot`.
fn read(m: &mut Market, address: &Pubkey, slot: u64) -> Update {
    Update {
        address: *address,
        slot,
        account: m.chain.account(address).unwrap(),
    }
}

fn open_job(m: &mut Market, client: &Wallet, id: u64, gpus: u16) -> Pubkey {
    m.create_job(client, batch_job(id, gpus)).unwrap();
    pda::job(&client.pubkey(), id)
}

fn send_assignment(m: &mut Market, matcher: &Keypair, authority: &Pubkey, job: &Pubkey) {
    signed(
        m,
        ix::assign_job(&matcher.pubkey(), authority, job),
        matcher,
    )
    .unwrap();
}

#[test]
fn a_sharded_snapshot_reads_the_market_in_pages_and_holds_the_same_accounts() {
    let (mut m, matcher) = Market::with_matcher(MATCH_WINDOW);
    for _ in 0..3 {
        m.provider(1);
    }
    let client = m.client(100 * TOKEN);
    open_job(&mut m, &client, 1, 1);
    let (whole, read_whole) = LiveMarket::load(&mut m.chain, matcher.pubkey(), Shards::Whole, 1)
        .expect("a whole snapshot");
    let (sharded, read_sharded) =
        LiveMarket::load(&mut m.chain, matcher.pubkey(), Shards::ByFirstByte, 1)
            .expect("a sharded snapshot");
    assert_eq!(read_whole.pages, 3);
    assert_eq!(read_sharded.pages, 3 * 256);
    assert_eq!(
        (read_whole.providers, read_whole.stakes, read_whole.jobs),
        (3, 3, 1)
    );
    assert_eq!(
        (
            read_sharded.providers,
            read_sharded.stakes,
            read_sharded.jobs
        ),
        (3, 3, 1)
    );
    assert_eq!(whole.size(), sharded.size());
    assert_eq!(whole.size().assignable_jobs, 1);

    // Each page holds exactly the accounts whose key starts with its byte.
    let providers: Vec<(Pubkey, Provider)> = m.chain.fetch_all(&provider_registry::ID).unwrap();
    for (address, provider) in &providers {
        let first = provider.authority.to_bytes()[0];
        let page = m
            .chain
            .fetch_where::<Provider>(
                &provider_registry::ID,
                &[Memcmp::new(
                    provider_registry::state::layout::AUTHORITY,
                    [first],
                )],
            )
            .unwrap();
        assert!(page.iter().any(|(a, _)| a == address));
        assert!(page.iter().all(|(_, p)| p.authority.to_bytes()[0] == first));
    }
    let first = client.pubkey().to_bytes()[0];
    let page = m
        .chain
        .fetch_where::<Job>(
            &job_escrow::ID,
            &[Memcmp::new(job_escrow::state::layout::CLIENT, [first])],
        )
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].1.client, client.pubkey());
}

#[test]
fn a_new_job_is_assigned_and_its_provider_stays_reserved_until_its_own_update() {
    let (mut m, matcher) = Market::with_matcher(MATCH_WINDOW);
    let node = m.provider(1);
    let provider = pda::provider(&node.pubkey());
    let (mut live, _) = LiveMarket::load(&mut m.chain, matcher.pubkey(), Shards::Whole, 1).unwrap();
    let now = m.chain.now().unwrap();
    assert!(live.tick(now).is_empty(), "no job yet");
    let before = read(&mut m, &provider, 1);

    // A job arrives: matched to the only provider at its listed price.
    let client = m.client(100 * TOKEN);
    let first = open_job(&mut m, &client, 1, 1);
    assert_eq!(live.apply(read(&mut m, &first, 2)), Applied::Job);
    let matches = live.tick(now);
    assert_eq!(matches.len(), 1);
    assert_eq!((matches[0].job, matches[0].provider), (first, provider));
    send_assignment(&mut m, &matcher, &node.pubkey(), &first);

    // The job's update arrives before the provider's: the provider stays reserved, so a
    // second job finds nobody (the chain would refuse it: the provider's one GPU is taken).
    assert_eq!(live.apply(read(&mut m, &first, 3)), Applied::Job);
    assert_eq!(live.size().held, 1);
    let second = open_job(&mut m, &client, 2, 1);
    assert_eq!(live.apply(read(&mut m, &second, 4)), Applied::Job);
    // Creating a job bumps the market config's job count: no rebuild, the hold stays.
    assert_eq!(
        live.apply(read(&mut m, &pda::market_config(), 4)),
        Applied::Config
    );
    assert_eq!(live.size().held, 1);
    assert!(live.tick(now).is_empty(), "the provider is still reserved");
    let refused = signed(
        &mut m,
        ix::assign_job(&matcher.pubkey(), &node.pubkey(), &second),
        &matcher,
    );
    assert!(refused.is_err(), "the chain refuses it too");

    // The provider's update of the same slot shows the GPU in use; the job locks
    // collateral, so the hold waits for the stake account's update too.
    assert_eq!(live.apply(read(&mut m, &provider, 3)), Applied::Provider);
    assert_eq!(live.size().held, 1, "the stake's update has not come");
    let stake = pda::stake_account(&node.pubkey());
    assert_eq!(live.apply(read(&mut m, &stake, 3)), Applied::Stake);
    assert_eq!(live.size().held, 0);
    assert_eq!(live.provider(&provider).unwrap().gpus_in_use, 1);
    assert!(live.tick(now).is_empty());
    // An older state (before the assignment) than what is held changes nothing.
    let older = Update { slot: 2, ..before };
    assert_eq!(live.apply(older), Applied::Stale);
    assert_eq!(live.provider(&provider).unwrap().gpus_in_use, 1);
    assert!(live.tick(now).is_empty());
    assert_eq!(live.size().index.waiting_jobs, 1);
}

#[test]
fn a_provider_update_seen_before_its_job_releases_the_reservation_at_once() {
    let (mut m, matcher) = Market::with_matcher(MATCH_WINDOW);
    let node = m.provider(2);
    let provider = pda::provider(&node.pubkey());
    let (mut live, _) = LiveMarket::load(&mut m.chain, matcher.pubkey(), Shards::Whole, 1).unwrap();
    let now = m.chain.now().unwrap();
    let client = m.client(100 * TOKEN);
    let first = open_job(&mut m, &client, 1, 1);
    live.apply(read(&mut m, &first, 2));
    assert_eq!(live.tick(now).len(), 1);
    send_assignment(&mut m, &matcher, &node.pubkey(), &first);
    // Same transaction, provider and stake first: they already show the GPU taken and the
    // collateral locked.
    live.apply(read(&mut m, &provider, 3));
    live.apply(read(&mut m, &pda::stake_account(&node.pubkey()), 3));
    live.apply(read(&mut m, &first, 3));
    assert_eq!(live.size().held, 0);
    // Its second GPU goes to the next job.
    let second = open_job(&mut m, &client, 2, 1);
    live.apply(read(&mut m, &second, 4));
    let matches = live.tick(now);
    assert_eq!(matches.len(), 1);
    assert_eq!((matches[0].job, matches[0].provider), (second, provider));
    send_assignment(&mut m, &matcher, &node.pubkey(), &second);
}

#[test]
fn a_declined_job_is_matched_again_to_another_provider() {
    let (mut m, matcher) = Market::with_matcher(MATCH_WINDOW);
    let first_node = m.provider(1);
    let first = pda::provider(&first_node.pubkey());
    let (mut live, _) = LiveMarket::load(&mut m.chain, matcher.pubkey(), Shards::Whole, 1).unwrap();
    let now = m.chain.now().unwrap();
    let client = m.client(100 * TOKEN);
    let job = open_job(&mut m, &client, 1, 1);
    live.apply(read(&mut m, &job, 2));
    assert_eq!(live.tick(now)[0].provider, first);
    send_assignment(&mut m, &matcher, &first_node.pubkey(), &job);
    live.apply(read(&mut m, &job, 3));
    assert_eq!(live.size().held, 1);

    // The provider declines before its own update came in; a second one registers.
    signed(
        &mut m,
        ix::decline_job(&first_node.pubkey(), &first_node.pubkey(), &job),
        &first_node.keypair,
    )
    .unwrap();
    live.apply(read(&mut m, &job, 4));
    assert_eq!(live.size().held, 0, "the stale hold is gone");
    let second_node = m.provider(1);
    let second = pda::provider(&second_node.pubkey());
    live.apply(read(&mut m, &pda::stake_account(&second_node.pubkey()), 5));
    live.apply(read(&mut m, &second, 5));
    live.apply(read(&mut m, &first, 5));
    let matches = live.tick(now);
    assert_eq!(matches.len(), 1, "{matches:?}");
    assert_eq!((matches[0].job, matches[0].provider), (job, second));
    send_assignment(&mut m, &matcher, &second_node.pubkey(), &job);
}

#[test]
fn a_failed_assignment_goes_to_the_next_provider_until_the_tries_run_out() {
    let (mut m, matcher) = Market::with_matcher(MATCH_WINDOW);
    let nodes: Vec<Pubkey> = (0..MAX_TRIES + 1)
        .map(|_| pda::provider(&m.provider(1).pubkey()))
        .collect();
    let (mut live, _) = LiveMarket::load(&mut m.chain, matcher.pubkey(), Shards::Whole, 1).unwrap();
    let now = m.chain.now().unwrap();
    let client = m.client(100 * TOKEN);
    let job = open_job(&mut m, &client, 1, 1);
    live.apply(read(&mut m, &job, 2));
    let mut offered = Vec::new();
    for attempt in 1..=MAX_TRIES {
        let matches = live.tick(now);
        assert_eq!(matches.len(), 1, "attempt {attempt}");
        let provider = matches[0].provider;
        assert!(!offered.contains(&provider), "never the same one twice");
        offered.push(provider);
        assert_eq!(live.failed(&job, &provider), attempt < MAX_TRIES);
    }
    assert!(live.tick(now).is_empty(), "left to the providers");
    assert_eq!(live.size().assignable_jobs, 0);
    assert!(offered.iter().all(|p| nodes.contains(p)));
}

#[test]
fn jobs_leave_the_index_when_their_window_closes_or_their_account_does() {
    let (mut m, matcher) = Market::with_matcher(MATCH_WINDOW);
    let client = m.client(100 * TOKEN);
    let waiting = open_job(&mut m, &client, 1, 1);
    let cancelled = open_job(&mut m, &client, 2, 1);
    let (mut live, _) = LiveMarket::load(&mut m.chain, matcher.pubkey(), Shards::Whole, 1).unwrap();
    let now = m.chain.now().unwrap();
    assert!(live.tick(now).is_empty(), "no provider");
    assert_eq!(live.size().assignable_jobs, 2);

    // A cancelled job's account is closed: the update carries no account.
    let mint = m.payment_mint;
    let program = m.payment_token_program;
    signed(
        &mut m,
        ix::cancel_job(&client.pubkey(), 2, &mint, &program),
        &client.keypair,
    )
    .unwrap();
    assert_eq!(live.apply(read(&mut m, &cancelled, 2)), Applied::Job);
    assert!(live.job(&cancelled).is_none());
    assert_eq!(live.size().assignable_jobs, 1);

    // Past the window the job is the providers' to take: a provider arriving then is not
    // matched by the service.
    let node = m.provider(1);
    let provider = pda::provider(&node.pubkey());
    m.chain.advance(MATCH_WINDOW).unwrap();
    let later = m.chain.now().unwrap();
    live.apply(read(&mut m, &provider, 3));
    live.apply(read(&mut m, &pda::stake_account(&node.pubkey()), 3));
    assert!(live.tick(later).is_empty());
    assert_eq!(live.size().assignable_jobs, 0);
    assert_eq!(live.job(&waiting).unwrap().status, JobStatus::Open);
}

#[test]
fn a_removed_matcher_assigns_nothing_and_the_clock_never_goes_back() {
    let (mut m, matcher) = Market::with_matcher(MATCH_WINDOW);
    m.provider(1);
    let client = m.client(100 * TOKEN);
    let job = open_job(&mut m, &client, 1, 1);
    let (mut live, _) = LiveMarket::load(&mut m.chain, matcher.pubkey(), Shards::Whole, 1).unwrap();
    let now = m.chain.now().unwrap();
    // Seen at a later time first, then an earlier one (another node behind): the earlier
    // counts as the later, and the match is not made twice.
    assert_eq!(live.tick(now + 1).len(), 1);
    assert!(live.tick(now).is_empty(), "matched once");

    let admin = m.admin.insecure_clone();
    signed(&mut m, ix::remove_matcher(&admin.pubkey()), &admin).unwrap();
    let config = pda::market_config();
    assert_eq!(live.apply(read(&mut m, &config, 2)), Applied::Config);
    assert_eq!(live.size().assignable_jobs, 0);
    assert!(live.tick(now).is_empty());
    assert!(live.job(&job).is_some(), "still kept for upkeep");
}

#[test]
fn upkeep_is_what_the_whole_market_snapshot_plans() {
    let (mut m, matcher) = Market::with_matcher(MATCH_WINDOW);
    let node = m.provider(1);
    let client = m.client(100 * TOKEN);
    let job = open_job(&mut m, &client, 1, 1);
    send_assignment(&mut m, &matcher, &node.pubkey(), &job);
    open_job(&mut m, &client, 2, 1);
    // The assigned job misses its start deadline; the open one's bid window ends.
    m.chain.advance(3_600).unwrap();
    let (live, _) = LiveMarket::load(&mut m.chain, matcher.pubkey(), Shards::Whole, 1).unwrap();
    let snapshot = MarketSnapshot::load(&mut m.chain).unwrap();
    let planned = driver::plan_upkeep(&snapshot);
    assert_eq!(planned.len(), 2);
    assert!(planned.contains(&Action::Expire { job }));
    assert_eq!(live.upkeep(snapshot.now), {
        let mut sorted = planned;
        sorted.sort_by_key(Action::job);
        sorted
    });
}

#[test]
fn a_match_past_its_window_keeps_its_provider_until_settled_and_an_unsent_one_comes_back() {
    let (mut m, matcher) = Market::with_matcher(MATCH_WINDOW);
    let node = m.provider(1);
    let provider = pda::provider(&node.pubkey());
    let (mut live, _) = LiveMarket::load(&mut m.chain, matcher.pubkey(), Shards::Whole, 1).unwrap();
    let now = m.chain.now().unwrap();
    let client = m.client(100 * TOKEN);
    let job = open_job(&mut m, &client, 1, 1);
    live.apply(read(&mut m, &job, 2));

    // Matched but not sent this tick: back to waiting, matched again at the next.
    assert_eq!(live.tick(now).len(), 1);
    live.unsent(&job);
    let again = live.tick(now);
    assert_eq!((again[0].job, again[0].provider), (job, provider));

    // Its window closes before the outcome is known: the provider stays reserved for a
    // second job, until the grace runs out with no word of the first.
    let other = open_job(&mut m, &client, 2, 1);
    live.apply(read(&mut m, &other, 3));
    let deadline = live.job(&job).unwrap().match_deadline;
    assert!(live.tick(deadline).is_empty(), "still reserved");
    assert!(live.tick(deadline + SETTLE_GRACE - 1).is_empty());
    assert_eq!(live.size().index.pending_jobs, 1);
    live.tick(deadline + SETTLE_GRACE);
    assert_eq!(live.size().index.pending_jobs, 0, "given up");
}
