//! Providers that fail their jobs: slashed, recorded, and the job re-queued or refunded.

use gpu_market_client::{
    escrow::{self as ix, ExpiryReason, JobStatus},
    registry, Chain, Signer,
};
use gpu_market_tests::{escrow::*, *};
use job_escrow::{error::EscrowError, events::JobExpired};
use staking::events::StakeSlashed;

fn stake_tokens(m: &mut Market, owner: &gpu_market_client::Pubkey) -> u64 {
    let account = m.stake_mint_account(owner);
    m.balance(&account)
}

#[test]
fn a_provider_that_never_starts_is_slashed_and_the_job_goes_to_another() {
    let mut m = Market::with_escrow();
    let (p1, p2) = (m.provider(1), m.provider(1));
    let cranker = m.wallet(0);
    let s = Scenario::new(&mut m, 1, &[&p1, &p2], &[&cranker]);
    m.create_job(&s.client, batch_job(1, 1)).unwrap();
    let deposit = 6 * TOKEN + TIPS;
    signed(
        &mut m,
        ix::accept_job(&p1.pubkey(), &p1.pubkey(), &s.job),
        &p1.keypair,
    )
    .unwrap();

    let keys = s.keys(&m, &cranker.pubkey(), &p1.pubkey());
    let slash = m.slash_keys();
    m.chain.advance(START_TIMEOUT).unwrap();
    assert_error(
        signed(&mut m, ix::expire_job(&keys, &slash), &cranker.keypair),
        EscrowError::NothingToExpire,
    );
    m.chain.advance(1).unwrap();
    // The registry's and staking's event authorities are checked: neither can be swapped.
    for program in [provider_registry::ID, staking::ID] {
        let ix = swap_account(
            ix::expire_job(&keys, &slash),
            &gpu_market_client::pda::event_authority(&program),
            &gpu_market_client::Pubkey::new_unique(),
        );
        assert_error(
            signed(&mut m, ix, &cranker.keypair),
            anchor_lang::error::ErrorCode::ConstraintAddress,
        );
    }
    let out = signed(&mut m, ix::expire_job(&keys, &slash), &cranker.keypair).unwrap();
    let expired = &out.events::<JobExpired>()[0];
    assert_eq!(expired.reason, ExpiryReason::NoStart);
    assert_eq!(
        (expired.requeued, expired.tip, expired.to_provider),
        (true, CRANK_TIP, 0)
    );
    let slashed = &out.events::<StakeSlashed>()[0];
    assert_eq!(slashed.slashed, SLASH.no_start);
    // The harmed client receives the non-treasury share of the slash.
    assert_eq!(
        stake_tokens(&mut m, &s.client.pubkey()),
        SLASH.no_start * 3 / 4
    );
    assert_eq!(
        m.stake_account(&p1.pubkey()).active,
        MIN_STAKE_PER_GPU - SLASH.no_start
    );
    // The expiry released what the assignment reserved and locked.
    let node = m.provider_account(&p1.pubkey());
    assert_eq!(node.reputation.jobs_failed, 1);
    assert_eq!((node.gpus_in_use, node.jobs_held), (0, 0));
    assert_eq!(m.stake_account(&p1.pubkey()).locked, 0);
    let job = m.job(&s.client.pubkey(), 1);
    assert_eq!(
        (job.status, job.attempts, job.assignment),
        (JobStatus::Open, 1, None)
    );

    // A second provider takes the re-queued job and completes it.
    let op = p2.keypair.insecure_clone();
    m.send(registry::heartbeat(&op.pubkey(), &op.pubkey()), &op)
        .unwrap();
    take_and_start(&mut m, &op, &s.job);
    m.chain.advance(3_600).unwrap();
    signed(
        &mut m,
        ix::submit_result(&op.pubkey(), &op.pubkey(), &s.job, [1; 32], "s3://2".into()),
        &op,
    )
    .unwrap();
    let keys = s.keys(&m, &s.client.pubkey(), &p2.pubkey());
    signed(&mut m, ix::approve_result(&keys), &s.client.keypair).unwrap();

    let cranker_tokens = m.payment_account(&cranker.pubkey());
    assert_eq!(m.balance(&cranker_tokens), CRANK_TIP);
    let p2_tokens = m.payment_account(&p2.pubkey());
    assert_eq!(m.balance(&p2_tokens), 1_950_000);
    assert_eq!(
        m.balance(&s.client.tokens),
        100 * TOKEN - 2 * TOKEN - CRANK_TIP
    );
    assert_eq!(deposit - TIPS - 2 * TOKEN, 4 * TOKEN);
    assert_eq!(
        m.provider_account(&p2.pubkey()).reputation.jobs_completed,
        1
    );
    s.assert_closed_and_conserved(&mut m);
}

#[test]
fn a_lease_whose_heartbeats_stop_is_paid_only_up_to_the_last_one() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let cranker = m.wallet(0);
    let s = Scenario::new(&mut m, 1, &[&p], &[&cranker]);
    m.create_job(&s.client, lease_job(1, 1, 2)).unwrap();
    let op = p.keypair.insecure_clone();
    take_and_start(&mut m, &op, &s.job);
    serve(&mut m, &op, &op.pubkey(), &s.job, 900);
    // Silence: the grace is 120 s.
    m.chain.advance(HEARTBEAT_GRACE).unwrap();
    let keys = s.keys(&m, &cranker.pubkey(), &p.pubkey());
    let slash = m.slash_keys();
    assert_error(
        signed(&mut m, ix::expire_job(&keys, &slash), &cranker.keypair),
        EscrowError::NothingToExpire,
    );
    m.chain.advance(500).unwrap();
    let out = signed(&mut m, ix::expire_job(&keys, &slash), &cranker.keypair).unwrap();
    let expired = &out.events::<JobExpired>()[0];
    assert_eq!(expired.reason, ExpiryReason::HeartbeatLost);
    // 900 s at 2 tokens/GPU-hour = 500_000; 2.5% fee.
    assert_eq!((expired.to_provider, expired.fee), (487_500, 12_500));
    let p_tokens = m.payment_account(&p.pubkey());
    assert_eq!(m.balance(&p_tokens), 487_500);
    assert_eq!(m.provider_account(&p.pubkey()).gpus_in_use, 0);
    assert_eq!(
        m.stake_account(&p.pubkey()).active,
        MIN_STAKE_PER_GPU - SLASH.heartbeat_lost
    );
    // Re-queued with only the unserved time left.
    let job = m.job(&s.client.pubkey(), 1);
    assert_eq!(
        (job.status, job.max_duration, job.billed),
        (JobStatus::Open, 6_300, 500_000)
    );

    // The client gives up on it; everything left comes back.
    let mint = m.payment_mint;
    let program = m.payment_token_program;
    signed(
        &mut m,
        ix::cancel_job(&s.client.pubkey(), 1, &mint, &program),
        &s.client.keypair,
    )
    .unwrap();
    assert_eq!(
        m.balance(&s.client.tokens),
        100 * TOKEN - 500_000 - CRANK_TIP
    );
    s.assert_closed_and_conserved(&mut m);
}

#[test]
fn no_result_by_the_deadline_with_retries_exhausted_refunds_the_client() {
    let mut m = Market::with_escrow();
    let (p1, p2) = (m.provider(1), m.provider(1));
    let cranker = m.wallet(0);
    let s = Scenario::new(&mut m, 1, &[&p1, &p2], &[&cranker]);
    m.create_job(&s.client, batch_job(1, 1)).unwrap();
    let slash = m.slash_keys();

    // First provider: starts, then goes silent.
    take_and_start(&mut m, &p1.keypair, &s.job);
    m.chain.advance(HEARTBEAT_GRACE + 1).unwrap();
    let keys = s.keys(&m, &cranker.pubkey(), &p1.pubkey());
    signed(&mut m, ix::expire_job(&keys, &slash), &cranker.keypair).unwrap();

    // Second provider: heartbeats faithfully but never delivers a result.
    m.send(registry::heartbeat(&p2.pubkey(), &p2.pubkey()), &p2.keypair)
        .unwrap();
    take_and_start(&mut m, &p2.keypair, &s.job);
    let keys = s.keys(&m, &cranker.pubkey(), &p2.pubkey());
    let deadline = m.job(&s.client.pubkey(), 1).started_at + 2 * 3_600 + HEARTBEAT_GRACE;
    while m.chain.now().unwrap() < deadline {
        m.chain.advance(100).unwrap();
        signed(
            &mut m,
            ix::heartbeat_job(&p2.pubkey(), &p2.pubkey(), &s.job),
            &p2.keypair,
        )
        .unwrap();
    }
    m.chain.wait_until(deadline + 1).unwrap();
    signed(
        &mut m,
        ix::heartbeat_job(&p2.pubkey(), &p2.pubkey(), &s.job),
        &p2.keypair,
    )
    .unwrap();
    let out = signed(&mut m, ix::expire_job(&keys, &slash), &cranker.keypair).unwrap();
    let expired = &out.events::<JobExpired>()[0];
    assert_eq!(expired.reason, ExpiryReason::NoResult);
    // Finding 16: each attempt funded its own crank tip, so the second expiry pays one too.
    assert_eq!(
        (expired.requeued, expired.attempts, expired.tip),
        (false, 2, CRANK_TIP)
    );
    let cranker_tokens = m.payment_account(&cranker.pubkey());
    assert_eq!(m.balance(&cranker_tokens), 2 * CRANK_TIP);

    // Everything but the two tips is back with the client.
    assert_eq!(m.balance(&s.client.tokens), 100 * TOKEN - 2 * CRANK_TIP);
    assert_eq!(expired.refund, 6 * TOKEN);
    assert_eq!(
        stake_tokens(&mut m, &s.client.pubkey()),
        (SLASH.heartbeat_lost + SLASH.no_result) * 3 / 4
    );
    assert_eq!(m.provider_account(&p2.pubkey()).reputation.jobs_failed, 1);
    assert_eq!(m.provider_account(&p2.pubkey()).gpus_in_use, 0);
    s.assert_closed_and_conserved(&mut m);
}

#[test]
fn expiry_must_slash_the_assigned_providers_stake() {
    let mut m = Market::with_escrow();
    let (p1, other) = (m.provider(1), m.provider(1));
    let cranker = m.wallet(0);
    let s = Scenario::new(&mut m, 1, &[&p1], &[&cranker]);
    m.create_job(&s.client, batch_job(1, 1)).unwrap();
    signed(
        &mut m,
        ix::accept_job(&p1.pubkey(), &p1.pubkey(), &s.job),
        &p1.keypair,
    )
    .unwrap();
    m.chain.advance(START_TIMEOUT + 1).unwrap();
    let keys = s.keys(&m, &cranker.pubkey(), &p1.pubkey());
    let slash = m.slash_keys();
    let ix = swap_account(
        ix::expire_job(&keys, &slash),
        &gpu_market_client::pda::stake_account(&p1.pubkey()),
        &gpu_market_client::pda::stake_account(&other.pubkey()),
    );
    assert_error(
        signed(&mut m, ix, &cranker.keypair),
        EscrowError::WrongStakeAccount,
    );
}

/// Finding 17: a lease cannot withdraw into its heartbeat grace, so the seconds an expiry
/// hands to the next provider were never billed before: the client never pays twice.
#[test]
fn a_lease_cannot_withdraw_into_its_grace_so_a_requeue_never_bills_twice() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let cranker = m.wallet(0);
    let s = Scenario::new(&mut m, 1, &[&p], &[&cranker]);
    m.create_job(&s.client, lease_job(1, 1, 2)).unwrap();
    take_and_start(&mut m, &p.keypair, &s.job);
    serve(&mut m, &p.keypair, &p.pubkey(), &s.job, 600);
    // 100 s into the grace the provider tries to bill 700 s of service: refused.
    m.chain.advance(100).unwrap();
    let keys = s.keys(&m, &cranker.pubkey(), &p.pubkey());
    assert_error(
        signed(
            &mut m,
            ix::withdraw_earnings(&p.pubkey(), &keys, 2 * TOKEN * 700 / 3_600),
            &p.keypair,
        ),
        EscrowError::WithdrawExceedsEarned,
    );
    // Up to its last heartbeat is fine.
    let earned = 2 * TOKEN * 600 / 3_600;
    signed(
        &mut m,
        ix::withdraw_earnings(&p.pubkey(), &keys, earned),
        &p.keypair,
    )
    .unwrap();
    // ...and is never heard from again. Expiry pays up to the last heartbeat: nothing more.
    m.chain.advance(HEARTBEAT_GRACE).unwrap();
    let slash = m.slash_keys();
    let out = signed(&mut m, ix::expire_job(&keys, &slash), &cranker.keypair);
    let expired = &out.unwrap().events::<JobExpired>()[0];
    assert_eq!((expired.to_provider, expired.requeued), (0, true));
    // The next provider gets exactly the unbilled remainder of the lease.
    assert_eq!(m.job(&s.client.pubkey(), 1).max_duration, 2 * 3_600 - 600);
    let (mint, program) = (m.payment_mint, m.payment_token_program);
    signed(
        &mut m,
        ix::cancel_job(&s.client.pubkey(), 1, &mint, &program),
        &s.client.keypair,
    )
    .unwrap();
    assert_eq!(
        m.balance(&s.client.tokens),
        100 * TOKEN - earned - CRANK_TIP
    );
    s.assert_closed_and_conserved(&mut m);
}
