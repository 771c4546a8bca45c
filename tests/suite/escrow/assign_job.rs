//! The market's matcher: assigning open instant jobs, its match window, and providers
//! declining what it assigned.

use gpu_market_client::{
    escrow::{self as ix, Job, JobMode, JobStatus, MarketConfig},
    pda, registry, Chain, Keypair, Pubkey, Signer,
};
use gpu_market_tests::{escrow::*, *};
use job_escrow::{
    constants::{DECLINE_WINDOW, MAX_BID_WINDOW, MAX_MATCH_WINDOW, MAX_REFUSED_BIDDERS},
    error::EscrowError,
    events::{JobAssigned, JobDeclined},
    UpdateConfigArgs,
};
use provider_registry::UpdateProviderArgs;

const MATCH_WINDOW: i64 = 30;

fn matched_market() -> (Market, Keypair) {
    Market::with_matcher(MATCH_WINDOW)
}

fn open_job(m: &mut Market, args: job_escrow::CreateJobArgs) -> (Wallet, Pubkey) {
    let client = m.client(100 * TOKEN);
    let id = args.job_id;
    m.create_job(&client, args).unwrap();
    let job = pda::job(&client.pubkey(), id);
    (client, job)
}

fn assign(
    m: &mut Market,
    matcher: &Keypair,
    provider: &Pubkey,
    job: &Pubkey,
) -> Result<gpu_market_client::TxOutcome, gpu_market_client::ClientError> {
    signed(m, ix::assign_job(&matcher.pubkey(), provider, job), matcher)
}

fn decline(
    m: &mut Market,
    operator: &Keypair,
    provider: &Pubkey,
    job: &Pubkey,
) -> Result<gpu_market_client::TxOutcome, gpu_market_client::ClientError> {
    signed(
        m,
        ix::decline_job(&operator.pubkey(), provider, job),
        operator,
    )
}

fn accept(
    m: &mut Market,
    provider: &Wallet,
    job: &Pubkey,
) -> Result<gpu_market_client::TxOutcome, gpu_market_client::ClientError> {
    let op = provider.keypair.insecure_clone();
    signed(m, ix::accept_job(&op.pubkey(), &op.pubkey(), job), &op)
}

fn job(m: &mut Market, address: &Pubkey) -> Job {
    m.chain.fetch(address).unwrap()
}

#[test]
fn the_matcher_assigns_an_eligible_provider_at_its_listed_price() {
    let (mut m, matcher) = matched_market();
    let provider = m.provider(2);
    let (_, address) = open_job(&mut m, batch_job(1, 2));
    let created = m.chain.now().unwrap();
    let j = job(&mut m, &address);
    assert_eq!(j.match_deadline, created + MATCH_WINDOW);
    assert_eq!(
        (j.terms.matcher, j.terms.match_window),
        (matcher.pubkey(), MATCH_WINDOW)
    );

    // Within the window the provider may not take the job itself; the matcher may give it.
    assert_error(
        accept(&mut m, &provider, &address),
        EscrowError::MatchWindowOpen,
    );
    let out = assign(&mut m, &matcher, &provider.pubkey(), &address).unwrap();
    let j = job(&mut m, &address);
    assert_eq!((j.status, j.attempts), (JobStatus::Assigned, 1));
    let a = j.assignment.unwrap();
    assert_eq!(
        (a.provider, a.authority, a.price_per_gpu_hour, a.assigned_at),
        (
            pda::provider(&provider.pubkey()),
            provider.pubkey(),
            2 * TOKEN,
            created
        )
    );
    assert!(a.by_matcher);
    let event = &out.events::<JobAssigned>()[0];
    assert!(event.by_matcher);
    assert_eq!(event.collateral_locked, SLASH.dispute_lost);
    let p = m.provider_account(&provider.pubkey());
    assert_eq!((p.gpus_in_use, p.jobs_held), (2, 1));
    assert_eq!(
        m.stake_account(&provider.pubkey()).locked,
        SLASH.dispute_lost
    );
    // The job is taken: neither the matcher nor anyone else can assign it again.
    let other = m.provider(2);
    assert_error(
        assign(&mut m, &matcher, &other.pubkey(), &address),
        EscrowError::JobNotOpen,
    );
    // The provider runs it as any other job.
    let key = provider.pubkey();
    signed(
        &mut m,
        ix::start_job(&key, &key, &address),
        &provider.keypair,
    )
    .unwrap();
    assert_eq!(job(&mut m, &address).status, JobStatus::Running);
}

#[test]
fn once_the_window_closes_any_eligible_provider_may_take_the_job() {
    let (mut m, _matcher) = matched_market();
    let provider = m.provider(2);
    let (_, address) = open_job(&mut m, batch_job(1, 2));
    m.chain.advance(MATCH_WINDOW - 1).unwrap();
    assert_error(
        accept(&mut m, &provider, &address),
        EscrowError::MatchWindowOpen,
    );
    m.chain.advance(1).unwrap();
    accept(&mut m, &provider, &address).unwrap();
    let a = job(&mut m, &address).assignment.unwrap();
    assert!(!a.by_matcher);
    // A job the provider took itself cannot be declined: not starting it is a fault.
    assert_error(
        decline(&mut m, &provider.keypair, &provider.pubkey(), &address),
        EscrowError::NotMatcherAssignment,
    );
}

#[test]
fn only_the_matcher_named_in_the_jobs_terms_may_assign() {
    let (mut m, matcher) = matched_market();
    let provider = m.provider(2);
    let (_, address) = open_job(&mut m, batch_job(1, 2));
    // A stranger, or the provider itself, is not the matcher.
    let stranger = Keypair::new();
    let funded = m.wallet(0);
    for signer in [&stranger, &provider.keypair] {
        let ix = ix::assign_job(&signer.pubkey(), &provider.pubkey(), &address);
        assert_error(
            m.chain.send(&[ix], &[&funded.keypair, signer]),
            EscrowError::NotMatcher,
        );
    }

    // The admin hands the market to a new matcher: jobs created before keep the one their
    // terms name, jobs created after get the new one.
    let successor = Keypair::new();
    m.update_escrow(UpdateConfigArgs {
        matcher: Some(successor.pubkey()),
        ..Default::default()
    });
    let config: MarketConfig = m.chain.fetch(&pda::market_config()).unwrap();
    assert_eq!(config.matcher, successor.pubkey());
    let key = provider.pubkey();
    m.send(registry::heartbeat(&key, &key), &provider.keypair)
        .unwrap();
    let (_, newer) = open_job(&mut m, batch_job(2, 2));
    let payer = m.wallet(0);
    let send = |m: &mut Market, signer: &Keypair, job: &Pubkey| {
        let ix = ix::assign_job(&signer.pubkey(), &key, job);
        m.chain.send(&[ix], &[&payer.keypair, signer])
    };
    // Replacing the matcher revokes the old one on the jobs it was named in, and the new
    // one gets only the jobs created after.
    assert_error(send(&mut m, &matcher, &address), EscrowError::NotMatcher);
    assert_error(send(&mut m, &successor, &address), EscrowError::NotMatcher);
    assert_error(send(&mut m, &matcher, &newer), EscrowError::NotMatcher);
    let other = m.provider(2);
    let ix = ix::assign_job(&successor.pubkey(), &other.pubkey(), &newer);
    m.chain.send(&[ix], &[&payer.keypair, &successor]).unwrap();
}

#[test]
fn a_market_without_a_matcher_has_no_window_and_nobody_may_assign() {
    let mut m = Market::with_escrow();
    let provider = m.provider(2);
    let (_, address) = open_job(&mut m, batch_job(1, 2));
    let j = job(&mut m, &address);
    assert_eq!(j.match_deadline, j.created_at);
    // Not even a signer posing as the all-zero "no matcher" key gets through: it is not a
    // signer anyone holds, and any real key is refused.
    let admin = m.admin.insecure_clone();
    assert_error(
        assign(&mut m, &admin, &provider.pubkey(), &address),
        EscrowError::NotMatcher,
    );
    accept(&mut m, &provider, &address).unwrap();
}

#[test]
fn the_matcher_is_held_to_the_same_rules_as_a_provider_taking_the_job() {
    let (mut m, matcher) = matched_market();
    let provider = m.provider(2);

    let mut auction = batch_job(1, 2);
    auction.mode = JobMode::Auction;
    let (_, address) = open_job(&mut m, auction);
    assert_error(
        assign(&mut m, &matcher, &provider.pubkey(), &address),
        EscrowError::NotInstantMode,
    );

    let mut vram = batch_job(2, 2);
    vram.requirements.min_vram_mib = 81_921;
    let (_, address) = open_job(&mut m, vram);
    assert_error(
        assign(&mut m, &matcher, &provider.pubkey(), &address),
        EscrowError::InsufficientVram,
    );

    let (_, address) = open_job(&mut m, batch_job(3, 3));
    assert_error(
        assign(&mut m, &matcher, &provider.pubkey(), &address),
        EscrowError::TooFewGpus,
    );

    // The provider's listed price, not one the matcher picks, must fit the job's cap.
    let key = provider.pubkey();
    m.send(
        registry::update_provider(
            &key,
            &key,
            UpdateProviderArgs {
                price_per_gpu_hour: Some(3 * TOKEN + 1),
                ..Default::default()
            },
        ),
        &provider.keypair,
    )
    .unwrap();
    let (_, address) = open_job(&mut m, batch_job(4, 2));
    assert_error(
        assign(&mut m, &matcher, &key, &address),
        EscrowError::PriceAboveMax,
    );

    // A paused provider is not eligible, whoever picks it.
    let paused = m.provider(2);
    m.send(
        registry::pause_provider(&paused.pubkey(), &paused.pubkey()),
        &paused.keypair,
    )
    .unwrap();
    assert_error(
        assign(&mut m, &matcher, &paused.pubkey(), &address),
        EscrowError::ProviderPaused,
    );

    // Another provider's stake account cannot stand in for the chosen provider's.
    let rich = m.provider(8);
    let poor = m.provider(2);
    m.send(
        gpu_market_client::staking::request_unstake(&poor.pubkey(), 1),
        &poor.keypair,
    )
    .unwrap();
    let ix = swap_account(
        ix::assign_job(&matcher.pubkey(), &poor.pubkey(), &address),
        &pda::stake_account(&poor.pubkey()),
        &pda::stake_account(&rich.pubkey()),
    );
    assert_error(signed(&mut m, ix, &matcher), EscrowError::WrongStakeAccount);
    assert_error(
        assign(&mut m, &matcher, &poor.pubkey(), &address),
        EscrowError::ProviderUnderStaked,
    );
    assert_eq!(job(&mut m, &address).status, JobStatus::Open);
}

#[test]
fn a_provider_declines_an_assignment_and_loses_nothing() {
    let (mut m, matcher) = matched_market();
    let (authority, operator) = m.provider_with_operator(2);
    let (client, address) = open_job(&mut m, batch_job(1, 2));
    let vault = pda::job_vault(&address);
    let escrowed = m.balance(&vault);
    let client_balance = m.balance(&client.tokens);
    let stake = |m: &mut Market| {
        let s = m.stake_account(&authority.pubkey());
        (s.active, s.unbonding, s.locked)
    };
    let stake_before = stake(&mut m);
    let reputation = m.provider_account(&authority.pubkey()).reputation;
    assign(&mut m, &matcher, &authority.pubkey(), &address).unwrap();
    let assigned = job(&mut m, &address);
    m.chain.advance(20).unwrap();

    // Only the provider's operator may decline, with the assigned provider's accounts.
    let stranger = m.wallet(0);
    assert_error(
        decline(&mut m, &stranger.keypair, &authority.pubkey(), &address),
        EscrowError::NotAssignedProvider,
    );
    let other = m.provider(2);
    assert_error(
        decline(&mut m, &other.keypair, &other.pubkey(), &address),
        EscrowError::WrongProvider,
    );
    let ix = swap_account(
        ix::decline_job(&operator.pubkey(), &authority.pubkey(), &address),
        &pda::stake_account(&authority.pubkey()),
        &pda::stake_account(&other.pubkey()),
    );
    assert_error(
        signed(&mut m, ix, &operator.keypair),
        EscrowError::WrongStakeAccount,
    );

    let out = decline(&mut m, &operator.keypair, &authority.pubkey(), &address).unwrap();
    // (20 s after the assignment: the matcher's window is still open.)
    let now = m.chain.now().unwrap();
    let j = job(&mut m, &address);
    assert_eq!((j.status, j.attempts), (JobStatus::Open, 0));
    assert_eq!(j.assignment, None);
    assert_eq!(j.refused_bidders, vec![pda::provider(&authority.pubkey())]);
    // The job stays open for at least another bid window; the match window does not
    // re-open.
    assert_eq!(j.bid_deadline, now + BID_WINDOW);
    assert_eq!(j.match_deadline, assigned.match_deadline);
    let event = &out.events::<JobDeclined>()[0];
    assert_eq!(
        (event.provider, event.refused, event.bid_deadline),
        (pda::provider(&authority.pubkey()), 1, now + BID_WINDOW)
    );
    // GPUs, hold and collateral are released; nothing is slashed, the record is unchanged.
    let p = m.provider_account(&authority.pubkey());
    assert_eq!((p.gpus_in_use, p.jobs_held), (0, 0));
    assert_eq!(p.reputation, reputation);
    assert_eq!(stake(&mut m), stake_before);
    // Not a token moved: the vault holds the whole deposit, the client has what it had.
    assert_eq!(m.balance(&vault), escrowed);
    assert_eq!(m.balance(&client.tokens), client_balance);

    // A second decline has nothing to decline.
    assert_error(
        decline(&mut m, &operator.keypair, &authority.pubkey(), &address),
        EscrowError::JobNotAssigned,
    );
    // The matcher may not hand the job back to the provider that declined it, but may give
    // it to another within its window.
    assert_error(
        assign(&mut m, &matcher, &authority.pubkey(), &address),
        EscrowError::ProviderDeclined,
    );
    assign(&mut m, &matcher, &other.pubkey(), &address).unwrap();
    assert_eq!(job(&mut m, &address).attempts, 1);

    // Once the window is over the declining provider may still take a job itself, and
    // answers for it like any provider that did.
    let (_, later) = open_job(&mut m, batch_job(2, 2));
    assign(&mut m, &matcher, &authority.pubkey(), &later).unwrap();
    decline(&mut m, &operator.keypair, &authority.pubkey(), &later).unwrap();
    m.chain.advance(MATCH_WINDOW).unwrap();
    assert_error(
        assign(&mut m, &matcher, &other.pubkey(), &later),
        EscrowError::MatchWindowClosed,
    );
    let key = authority.pubkey();
    m.send(
        registry::heartbeat(&operator.pubkey(), &key),
        &operator.keypair,
    )
    .unwrap();
    signed(
        &mut m,
        ix::accept_job(&operator.pubkey(), &key, &later),
        &operator.keypair,
    )
    .unwrap();
    assert_error(
        decline(&mut m, &operator.keypair, &key, &later),
        EscrowError::NotMatcherAssignment,
    );
}

#[test]
fn the_matcher_acts_only_within_its_window() {
    let (mut m, matcher) = matched_market();
    let provider = m.provider(2);
    let (_, address) = open_job(&mut m, batch_job(1, 2));
    m.chain.advance(MATCH_WINDOW).unwrap();
    assert_error(
        assign(&mut m, &matcher, &provider.pubkey(), &address),
        EscrowError::MatchWindowClosed,
    );
    assert_eq!(job(&mut m, &address).status, JobStatus::Open);
    accept(&mut m, &provider, &address).unwrap();
}

#[test]
fn a_decline_comes_before_the_start_and_within_a_minute() {
    let (mut m, matcher) = matched_market();
    let provider = m.provider(4);
    let key = provider.pubkey();

    let (_, started) = open_job(&mut m, batch_job(1, 2));
    assign(&mut m, &matcher, &key, &started).unwrap();
    signed(
        &mut m,
        ix::start_job(&key, &key, &started),
        &provider.keypair,
    )
    .unwrap();
    assert_error(
        decline(&mut m, &provider.keypair, &key, &started),
        EscrowError::NotMatcherAssignment,
    );

    // The last second of the decline window still counts.
    let (_, in_time) = open_job(&mut m, batch_job(2, 1));
    assign(&mut m, &matcher, &key, &in_time).unwrap();
    m.chain.advance(DECLINE_WINDOW).unwrap();
    decline(&mut m, &provider.keypair, &key, &in_time).unwrap();

    // Past it the assignment stands: the provider starts it, or misses the start and is
    // slashed like any provider that does.
    let s = Scenario::new(&mut m, 3, &[&provider], &[]);
    m.create_job(&s.client, batch_job(3, 1)).unwrap();
    assign(&mut m, &matcher, &key, &s.job).unwrap();
    m.chain.advance(DECLINE_WINDOW + 1).unwrap();
    assert_error(
        decline(&mut m, &provider.keypair, &key, &s.job),
        EscrowError::DeclineWindowClosed,
    );
    let stake_before = m.stake_account(&key).active;
    m.chain.advance(START_TIMEOUT - DECLINE_WINDOW).unwrap();
    let cranker = m.wallet(0);
    m.payment_account(&cranker.pubkey());
    m.stake_mint_account(&s.client.pubkey());
    let keys = s.keys(&m, &cranker.pubkey(), &key);
    let slash = m.slash_keys();
    let out = signed(&mut m, ix::expire_job(&keys, &slash), &cranker.keypair).unwrap();
    assert_eq!(
        out.events::<job_escrow::events::JobExpired>()[0].reason,
        job_escrow::events::ExpiryReason::NoStart
    );
    assert_eq!(m.stake_account(&key).active, stake_before - SLASH.no_start);
}

/// Whether a missed start is slashed is decided when the matcher assigns: a node whose last
/// heartbeat was at most a minute old then is slashed for missing it; a node the registry
/// still counted live but that had been silent for longer may have gone down without
/// seeing the assignment, so its miss is not slashed, whatever it sends afterwards, and
/// the matcher may not hand it the re-queued job again. The stake, the client's share and
/// the treasury's share of each slash are checked; the boundary is exactly a minute.
#[test]
fn a_missed_start_is_slashed_only_if_the_node_was_fresh_when_assigned() {
    let (mut m, matcher) = matched_market();
    let cranker = m.wallet(0);
    m.payment_account(&cranker.pubkey());
    // (seconds silent before the assignment, heartbeat after it, slashed)
    let cases = [
        (0, false, true),
        (DECLINE_WINDOW, false, true),
        (DECLINE_WINDOW + 1, false, false),
        (DECLINE_WINDOW + 1, true, false),
    ];
    for (n, (silent, seen_after, slashed)) in cases.into_iter().enumerate() {
        let provider = m.provider(1);
        let key = provider.pubkey();
        let s = Scenario::new(&mut m, n as u64 + 1, &[&provider], &[]);
        let client_stake = m.stake_mint_account(&s.client.pubkey());
        m.send(registry::heartbeat(&key, &key), &provider.keypair)
            .unwrap();
        // Within the registry's liveness window throughout.
        m.chain.advance(silent).unwrap();
        m.create_job(&s.client, batch_job(s.job_id, 1)).unwrap();
        assign(&mut m, &matcher, &key, &s.job).unwrap();
        let assignment = job(&mut m, &s.job).assignment.unwrap();
        assert_eq!(assignment.slashable_start, slashed, "case {n}");
        let locked = m.stake_account(&key).locked;
        assert!(locked > 0);
        if seen_after {
            m.send(registry::heartbeat(&key, &key), &provider.keypair)
                .unwrap();
        }
        let before = m.stake_account(&key);
        let client_before = m.balance(&client_stake);
        let owed_before = m.staking_config().treasury_owed;
        let failed_before = m.provider_account(&key).reputation.jobs_failed;
        m.chain.advance(START_TIMEOUT + 1).unwrap();
        let keys = s.keys(&m, &cranker.pubkey(), &key);
        let slash = m.slash_keys();
        let out = signed(&mut m, ix::expire_job(&keys, &slash), &cranker.keypair).unwrap();
        assert_eq!(
            out.events::<job_escrow::events::JobExpired>()[0].reason,
            job_escrow::events::ExpiryReason::NoStart
        );
        let after = m.stake_account(&key);
        let taken = if slashed { SLASH.no_start } else { 0 };
        assert_eq!(after.active, before.active - taken, "case {n}");
        assert_eq!(after.locked, before.locked - locked, "case {n}");
        // The harmed client's share of a slash: 75 %.
        assert_eq!(
            m.balance(&client_stake),
            client_before + taken * 3 / 4,
            "case {n}"
        );
        assert_eq!(
            m.staking_config().treasury_owed,
            owed_before + taken / 4,
            "case {n}"
        );
        assert_eq!(
            m.provider_account(&key).reputation.jobs_failed,
            failed_before + 1
        );
        let requeued = job(&mut m, &s.job);
        assert_eq!(requeued.status, JobStatus::Open);
        if slashed {
            assert!(requeued.refused_bidders.is_empty());
        } else {
            // The matcher may not hand it this job again.
            assert_eq!(requeued.refused_bidders, vec![pda::provider(&key)]);
            assert_error(
                assign(&mut m, &matcher, &key, &s.job),
                EscrowError::ProviderDeclined,
            );
        }
    }
}

#[test]
fn after_enough_declines_the_matcher_stops_and_providers_take_the_job() {
    let (mut m, matcher) = matched_market();
    let (_, address) = open_job(&mut m, batch_job(1, 1));
    for _ in 0..MAX_REFUSED_BIDDERS {
        let p = m.provider(1);
        assign(&mut m, &matcher, &p.pubkey(), &address).unwrap();
        decline(&mut m, &p.keypair, &p.pubkey(), &address).unwrap();
    }
    let j = job(&mut m, &address);
    assert_eq!(
        (j.refused_bidders.len(), j.attempts),
        (MAX_REFUSED_BIDDERS, 0)
    );
    let last = m.provider(1);
    assert_error(
        assign(&mut m, &matcher, &last.pubkey(), &address),
        EscrowError::MatcherExhausted,
    );
    // The window is long over: any eligible provider may still take it.
    m.chain.advance(MATCH_WINDOW).unwrap();
    m.send(
        registry::heartbeat(&last.pubkey(), &last.pubkey()),
        &last.keypair,
    )
    .unwrap();
    accept(&mut m, &last, &address).unwrap();
    assert_eq!(job(&mut m, &address).attempts, 1);
}

#[test]
fn a_requeued_job_gives_the_matcher_a_new_window() {
    let (mut m, matcher) = matched_market();
    let provider = m.provider(2);
    let s = Scenario::new(&mut m, 1, &[&provider], &[]);
    m.create_job(&s.client, batch_job(1, 2)).unwrap();
    assign(&mut m, &matcher, &provider.pubkey(), &s.job).unwrap();
    m.chain.advance(START_TIMEOUT + 1).unwrap();
    let cranker = m.wallet(0);
    m.payment_account(&cranker.pubkey());
    m.stake_mint_account(&s.client.pubkey());
    let keys = s.keys(&m, &cranker.pubkey(), &provider.pubkey());
    let slash = m.slash_keys();
    signed(&mut m, ix::expire_job(&keys, &slash), &cranker.keypair).unwrap();
    let now = m.chain.now().unwrap();
    let j = job(&mut m, &s.job);
    assert_eq!((j.status, j.attempts), (JobStatus::Open, 1));
    assert_eq!(j.match_deadline, now + MATCH_WINDOW);
    let other = m.provider(2);
    assert_error(accept(&mut m, &other, &s.job), EscrowError::MatchWindowOpen);
    assign(&mut m, &matcher, &other.pubkey(), &s.job).unwrap();
}

#[test]
fn the_match_window_is_bounded_and_needs_a_matcher() {
    let (mut m, _) = matched_market();
    let admin = m.admin.insecure_clone();
    let propose = |m: &mut Market, args: UpdateConfigArgs| {
        m.send(ix::propose_config_update(&admin.pubkey(), args), &admin)
    };
    let window = |matcher: Option<Pubkey>, window: i64, bid_window: Option<i64>| UpdateConfigArgs {
        matcher,
        match_window: Some(window),
        bid_window,
        ..Default::default()
    };
    for args in [
        // No matcher, no window.
        UpdateConfigArgs {
            matcher: Some(Pubkey::default()),
            ..Default::default()
        },
        // Providers get at least half the bid window.
        window(None, BID_WINDOW / 2 + 1, None),
        // At most 10 minutes, however long the bid window.
        window(None, MAX_MATCH_WINDOW + 1, Some(MAX_BID_WINDOW)),
        window(None, -1, None),
    ] {
        assert_error(propose(&mut m, args), EscrowError::InvalidMatchWindow);
    }
    // A bid window shortened under twice the current match window is refused too.
    assert_error(
        propose(
            &mut m,
            UpdateConfigArgs {
                bid_window: Some(2 * MATCH_WINDOW - 1),
                ..Default::default()
            },
        ),
        EscrowError::InvalidMatchWindow,
    );
    for args in [
        window(Some(Pubkey::default()), 0, None),
        window(None, BID_WINDOW / 2, None),
        window(None, MAX_MATCH_WINDOW, Some(MAX_BID_WINDOW)),
    ] {
        propose(&mut m, args).unwrap();
    }
    // The proposal is checked again when applied, and takes effect.
    m.chain
        .advance(job_escrow::constants::CONFIG_TIMELOCK)
        .unwrap();
    m.send(ix::apply_config_update(&admin.pubkey()), &admin)
        .unwrap();
    let config: MarketConfig = m.chain.fetch(&pda::market_config()).unwrap();
    assert_eq!(
        (config.match_window, config.bid_window),
        (MAX_MATCH_WINDOW, MAX_BID_WINDOW)
    );
}

/// The matcher may assign a provider the registry counts as live (a heartbeat within its
/// interval and grace), however long ago within that; not one past it.
#[test]
fn the_matcher_assigns_only_providers_live_for_the_registry() {
    let (mut m, matcher) = matched_market();
    let provider = m.provider(2);
    let key = provider.pubkey();
    // At the edge of the liveness window: still live.
    m.chain
        .advance(HEARTBEAT_INTERVAL + LIVENESS_GRACE)
        .unwrap();
    let (_, live_job) = open_job(&mut m, batch_job(1, 1));
    assign(&mut m, &matcher, &key, &live_job).unwrap();
    // One second past it: stale.
    m.chain.advance(1).unwrap();
    let (_, stale_job) = open_job(&mut m, batch_job(2, 1));
    assert_error(
        assign(&mut m, &matcher, &key, &stale_job),
        EscrowError::ProviderStale,
    );
    m.send(registry::heartbeat(&key, &key), &provider.keypair)
        .unwrap();
    assign(&mut m, &matcher, &key, &stale_job).unwrap();
}

#[test]
fn the_admin_removes_the_matcher_at_once() {
    let (mut m, matcher) = matched_market();
    let provider = m.provider(2);
    let (_, address) = open_job(&mut m, batch_job(1, 2));
    let stranger = m.wallet(0);
    assert_error(
        m.send(ix::remove_matcher(&stranger.pubkey()), &stranger.keypair),
        EscrowError::NotAdmin,
    );
    assert_error(
        signed(&mut m, ix::remove_matcher(&matcher.pubkey()), &matcher),
        EscrowError::NotAdmin,
    );
    let admin = m.admin.insecure_clone();
    let out = m.send(ix::remove_matcher(&admin.pubkey()), &admin).unwrap();
    let removed = &out.events::<job_escrow::events::MatcherRemoved>()[0];
    assert_eq!(
        (removed.admin, removed.matcher),
        (admin.pubkey(), matcher.pubkey())
    );
    let config: MarketConfig = m.chain.fetch(&pda::market_config()).unwrap();
    assert_eq!(
        (config.matcher, config.match_window),
        (Pubkey::default(), 0)
    );
    // The job created under it, still inside its window, is out of the matcher's reach and
    // open to providers at once.
    assert_error(
        assign(&mut m, &matcher, &provider.pubkey(), &address),
        EscrowError::NotMatcher,
    );
    accept(&mut m, &provider, &address).unwrap();
    // There is nothing left to remove.
    assert_error(
        m.send(ix::remove_matcher(&admin.pubkey()), &admin),
        EscrowError::NotMatcher,
    );
    // New jobs get no window.
    let (_, newer) = open_job(&mut m, batch_job(2, 2));
    let j = job(&mut m, &newer);
    assert_eq!(j.match_deadline, j.created_at);
}
