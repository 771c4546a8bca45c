//! Finding 5: a job's economic terms are copied into it when it is created, so an admin
//! change, even once its timelock has passed, never reaches a job that exists; parameters
//! have hard bounds. (The timelock itself: `escrow::update_config`.)

use gpu_market_client::{escrow as ix, registry, Chain, Keypair, Signer};
use gpu_market_tests::{escrow::*, *};
use job_escrow::{error::EscrowError, events::JobSettled, UpdateConfigArgs};

#[test]
fn a_config_change_mid_job_does_not_reach_the_job() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let s = Scenario::new(&mut m, 1, &[&p], &[]);
    m.create_job(&s.client, batch_job(1, 1)).unwrap();

    // The admin turns every knob against the provider and the client, and the change
    // takes effect while the job is still open.
    let new_arbiter = Keypair::new();
    m.update_escrow(UpdateConfigArgs {
        protocol_fee_bps: Some(2_000),
        start_timeout: Some(10),
        challenge_window: Some(60),
        arbiter: Some(new_arbiter.pubkey()),
        dispute_bond: Some(50 * TOKEN),
        slash: Some(job_escrow::state::SlashAmounts {
            no_start: 90 * TOKEN,
            heartbeat_lost: 90 * TOKEN,
            no_result: 90 * TOKEN,
            dispute_lost: 90 * TOKEN,
            wrong_result: 90 * TOKEN,
        }),
        ..Default::default()
    });
    m.send(registry::heartbeat(&p.pubkey(), &p.pubkey()), &p.keypair)
        .unwrap();

    signed(
        &mut m,
        ix::accept_job(&p.pubkey(), &p.pubkey(), &s.job),
        &p.keypair,
    )
    .unwrap();
    // The collateral is the job's own largest slash, not the new one.
    assert_eq!(m.stake_account(&p.pubkey()).locked, SLASH.dispute_lost);
    // Started after 100 s: inside the job's 300 s, past the new 10 s.
    m.chain.advance(100).unwrap();
    signed(
        &mut m,
        ix::start_job(&p.pubkey(), &p.pubkey(), &s.job),
        &p.keypair,
    )
    .unwrap();
    m.chain.advance(3_600).unwrap();
    signed(
        &mut m,
        ix::submit_result(&p.pubkey(), &p.pubkey(), &s.job, [4; 32], "s3://r".into()),
        &p.keypair,
    )
    .unwrap();
    // Disputed after 30 minutes: inside the job's hour, past the new minute; the bond is
    // the job's 5 tokens, not the new 50.
    m.chain.advance(1_800).unwrap();
    let (mint, program) = (m.payment_mint, m.payment_token_program);
    signed(
        &mut m,
        ix::dispute_result(&s.client.pubkey(), 1, &mint, &program),
        &s.client.keypair,
    )
    .unwrap();
    assert_eq!(
        m.balance(&s.client.tokens),
        100 * TOKEN - 6 * TOKEN - TIPS - DISPUTE_BOND
    );
    // The new arbiter has no say over this job; the job's arbiter rules.
    let slash = m.slash_keys();
    let keys = s.keys(&m, &new_arbiter.pubkey(), &p.pubkey());
    assert_error(
        signed(
            &mut m,
            ix::resolve_dispute(&keys, &slash, false),
            &new_arbiter,
        ),
        EscrowError::NotArbiter,
    );
    let arbiter = m.auditor.insecure_clone();
    let keys = s.keys(&m, &arbiter.pubkey(), &p.pubkey());
    let out = signed(&mut m, ix::resolve_dispute(&keys, &slash, false), &arbiter).unwrap();
    // Paid at the job's 2.5% fee, not the new 20%.
    let settled = &out.events::<JobSettled>()[0];
    assert_eq!((settled.to_provider, settled.fee), (1_950_000, 50_000));
    s.assert_closed_and_conserved(&mut m);
}

#[test]
fn parameters_outside_their_hard_bounds_are_refused() {
    let mut m = Market::with_escrow();
    let admin = m.admin.insecure_clone();
    let day = 24 * 3_600;
    for args in [
        UpdateConfigArgs {
            challenge_window: Some(7 * day + 1),
            ..Default::default()
        },
        UpdateConfigArgs {
            start_timeout: Some(day + 1),
            ..Default::default()
        },
        UpdateConfigArgs {
            heartbeat_grace: Some(0),
            ..Default::default()
        },
        UpdateConfigArgs {
            max_attempts: Some(11),
            ..Default::default()
        },
    ] {
        assert_error(
            m.send(ix::propose_config_update(&admin.pubkey(), args), &admin),
            EscrowError::InvalidTiming,
        );
    }
    assert_error(
        m.send(
            ix::propose_config_update(
                &admin.pubkey(),
                UpdateConfigArgs {
                    protocol_fee_bps: Some(2_001),
                    ..Default::default()
                },
            ),
            &admin,
        ),
        EscrowError::InvalidFee,
    );
    // A slash below the crank tip would let a provider profit from cranking its own
    // expiry; a free dispute would let a client delay payment at no cost.
    for args in [
        UpdateConfigArgs {
            crank_tip: Some(SLASH.no_start + 1),
            ..Default::default()
        },
        UpdateConfigArgs {
            dispute_bond: Some(0),
            ..Default::default()
        },
    ] {
        assert_error(
            m.send(ix::propose_config_update(&admin.pubkey(), args), &admin),
            EscrowError::InvalidSlashOrBond,
        );
    }
}
