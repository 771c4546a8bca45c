//! Review follow-ups on running jobs: a client cannot extend a held job without its
//! provider (nor after the run, to turn a lease served to its end into a missed
//! heartbeat), and a lease whose heartbeats lapsed cannot be revived to bill the silent
//! time.

use gpu_market_client::{escrow as ix, Chain};
use gpu_market_tests::{escrow::*, *};
use job_escrow::{error::EscrowError, events::JobSettled};

fn heartbeat(
    m: &mut Market,
    p: &Wallet,
    job: &gpu_market_client::Pubkey,
) -> Result<(), gpu_market_client::ClientError> {
    signed(
        m,
        ix::heartbeat_job(&p.pubkey(), &p.pubkey(), job),
        &p.keypair,
    )
    .map(|_| ())
}

#[test]
fn a_lease_served_to_its_end_cannot_be_extended_into_a_slash() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let s = Scenario::new(&mut m, 1, &[&p], &[]);
    m.create_job(&s.client, lease_job(1, 1, 1)).unwrap();
    take_and_start(&mut m, &p.keypair, &s.job);
    serve(&mut m, &p.keypair, &p.pubkey(), &s.job, 3_600);
    m.chain.advance(HEARTBEAT_GRACE).unwrap();
    let (mint, program) = (m.payment_mint, m.payment_token_program);
    // The client alone cannot lengthen a job the provider holds.
    assert_error(
        signed(
            &mut m,
            ix::extend_job(&s.client.pubkey(), 1, &mint, &program, 3_600, None),
            &s.client.keypair,
        ),
        EscrowError::ProviderConsentRequired,
    );
    // Nor with the provider's signature once the run is over.
    let extend = ix::extend_job(
        &s.client.pubkey(),
        1,
        &mint,
        &program,
        3_600,
        Some((&p.pubkey(), &p.pubkey())),
    );
    assert_error(
        m.chain.send(&[extend], &[&s.client.keypair, &p.keypair]),
        EscrowError::DurationExceeded,
    );
    // The lease settles as served: the whole hour, no slash.
    let keys = s.keys(&m, &s.client.pubkey(), &p.pubkey());
    let out = signed(&mut m, ix::finalize_job(&keys), &s.client.keypair).unwrap();
    assert_eq!(out.events::<JobSettled>()[0].billed_total, 2 * TOKEN);
    assert_eq!(m.stake_account(&p.pubkey()).active, MIN_STAKE_PER_GPU);
    s.assert_closed_and_conserved(&mut m);
}

#[test]
fn a_live_lease_is_extended_with_its_providers_consent() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let s = Scenario::new(&mut m, 1, &[&p], &[]);
    m.create_job(&s.client, lease_job(1, 1, 1)).unwrap();
    take_and_start(&mut m, &p.keypair, &s.job);
    serve(&mut m, &p.keypair, &p.pubkey(), &s.job, 600);
    let (mint, program) = (m.payment_mint, m.payment_token_program);
    let extend = ix::extend_job(
        &s.client.pubkey(),
        1,
        &mint,
        &program,
        1_800,
        Some((&p.pubkey(), &p.pubkey())),
    );
    m.chain
        .send(&[extend], &[&s.client.keypair, &p.keypair])
        .unwrap();
    assert_eq!(m.job(&s.client.pubkey(), 1).max_duration, 5_400);
}

#[test]
fn a_lapsed_lease_cannot_heartbeat_its_way_back_into_pay() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let cranker = m.wallet(0);
    let s = Scenario::new(&mut m, 1, &[&p], &[&cranker]);
    m.create_job(&s.client, lease_job(1, 1, 2)).unwrap();
    take_and_start(&mut m, &p.keypair, &s.job);
    serve(&mut m, &p.keypair, &p.pubkey(), &s.job, 600);
    // Silent for half an hour, well past the grace; then it comes back.
    m.chain.advance(1_800).unwrap();
    assert_error(heartbeat(&mut m, &p, &s.job), EscrowError::HeartbeatLapsed);
    // It can withdraw what it served up to its last heartbeat, and nothing of the gap.
    let keys = s.keys(&m, &p.pubkey(), &p.pubkey());
    assert_error(
        signed(
            &mut m,
            ix::withdraw_earnings(&p.pubkey(), &keys, 2 * TOKEN * 600 / 3_600 + 1),
            &p.keypair,
        ),
        EscrowError::WithdrawExceedsEarned,
    );
    // The expiry still finds the lapse.
    let slash = m.slash_keys();
    let keys = s.keys(&m, &cranker.pubkey(), &p.pubkey());
    signed(&mut m, ix::expire_job(&keys, &slash), &cranker.keypair).unwrap();
    assert_eq!(
        m.stake_account(&p.pubkey()).active,
        MIN_STAKE_PER_GPU - SLASH.heartbeat_lost
    );
}

#[test]
fn a_lapsed_lease_cannot_be_finalized_as_served() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let cranker = m.wallet(0);
    let s = Scenario::new(&mut m, 1, &[&p], &[&cranker]);
    m.create_job(&s.client, lease_job(1, 1, 1)).unwrap();
    take_and_start(&mut m, &p.keypair, &s.job);
    serve(&mut m, &p.keypair, &p.pubkey(), &s.job, 600);
    // Silent from 600 s on; the hour ends.
    m.chain.advance(3_600).unwrap();
    let keys = s.keys(&m, &p.pubkey(), &p.pubkey());
    assert_error(
        signed(&mut m, ix::finalize_job(&keys), &p.keypair),
        EscrowError::HeartbeatLapsed,
    );
    let slash = m.slash_keys();
    let keys = s.keys(&m, &cranker.pubkey(), &p.pubkey());
    signed(&mut m, ix::expire_job(&keys, &slash), &cranker.keypair).unwrap();
    assert_eq!(
        m.stake_account(&p.pubkey()).active,
        MIN_STAKE_PER_GPU - SLASH.heartbeat_lost
    );
}
