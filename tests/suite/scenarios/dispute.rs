//! Disputed batch results, ruled by the arbiter.

use gpu_market_client::{escrow as ix, Chain, Signer};
use gpu_market_tests::{escrow::*, *};
use job_escrow::{error::EscrowError, events::JobSettled};

/// A batch job with a submitted result after one hour on one GPU.
fn submitted(m: &mut Market) -> (Wallet, Scenario) {
    let p = m.provider(1);
    let s = Scenario::new(m, 1, &[&p], &[]);
    m.create_job(&s.client, batch_job(1, 1)).unwrap();
    let op = p.keypair.insecure_clone();
    take_and_start(m, &op, &s.job);
    m.chain.advance(3_600).unwrap();
    signed(
        m,
        ix::submit_result(&op.pubkey(), &op.pubkey(), &s.job, [4; 32], "s3://d".into()),
        &op,
    )
    .unwrap();
    (p, s)
}

fn dispute(
    m: &mut Market,
    s: &Scenario,
) -> Result<gpu_market_client::TxOutcome, gpu_market_client::ClientError> {
    let (mint, program) = (m.payment_mint, m.payment_token_program);
    signed(
        m,
        ix::dispute_result(&s.client.pubkey(), 1, &mint, &program),
        &s.client.keypair,
    )
}

#[test]
fn a_dispute_won_by_the_client() {
    let mut m = Market::with_escrow();
    let (p, s) = submitted(&mut m);
    dispute(&mut m, &s).unwrap();
    assert_eq!(m.balance(&s.vault), 6 * TOKEN + TIPS + DISPUTE_BOND);

    let arbiter = m.auditor.insecure_clone();
    let slash = m.slash_keys();
    let keys = s.keys(&m, &arbiter.pubkey(), &p.pubkey());
    // Nobody but the arbiter rules.
    let client_keys = s.keys(&m, &s.client.pubkey(), &p.pubkey());
    assert_error(
        signed(
            &mut m,
            ix::resolve_dispute(&client_keys, &slash, true),
            &s.client.keypair,
        ),
        EscrowError::NotArbiter,
    );
    signed(&mut m, ix::resolve_dispute(&keys, &slash, true), &arbiter).unwrap();

    // Deposit and bond back in full; the provider slashed and marked.
    assert_eq!(m.balance(&s.client.tokens), 100 * TOKEN);
    let stake_account = m.stake_mint_account(&s.client.pubkey());
    assert_eq!(m.balance(&stake_account), SLASH.dispute_lost * 3 / 4);
    let provider = m.provider_account(&p.pubkey());
    assert_eq!(
        (provider.reputation.disputes_lost, provider.gpus_in_use),
        (1, 0)
    );
    assert_eq!(
        m.stake_account(&p.pubkey()).active,
        MIN_STAKE_PER_GPU - SLASH.dispute_lost
    );
    s.assert_closed_and_conserved(&mut m);
}

#[test]
fn a_dispute_won_by_the_provider() {
    let mut m = Market::with_escrow();
    let (p, s) = submitted(&mut m);
    dispute(&mut m, &s).unwrap();
    let arbiter = m.auditor.insecure_clone();
    let slash = m.slash_keys();
    let keys = s.keys(&m, &arbiter.pubkey(), &p.pubkey());
    signed(&mut m, ix::resolve_dispute(&keys, &slash, false), &arbiter).unwrap();

    // Paid as if approved, plus the client's bond.
    let p_tokens = m.payment_account(&p.pubkey());
    assert_eq!(m.balance(&p_tokens), 1_950_000 + DISPUTE_BOND);
    assert_eq!(m.balance(&s.treasury), 50_000);
    assert_eq!(
        m.balance(&s.client.tokens),
        100 * TOKEN - 2 * TOKEN - DISPUTE_BOND
    );
    let provider = m.provider_account(&p.pubkey());
    assert_eq!(
        (
            provider.reputation.jobs_completed,
            provider.reputation.disputes_lost
        ),
        (1, 0)
    );
    assert_eq!(m.stake_account(&p.pubkey()).active, MIN_STAKE_PER_GPU);
    s.assert_closed_and_conserved(&mut m);
}

#[test]
fn a_dispute_after_the_window_is_refused() {
    let mut m = Market::with_escrow();
    let (_p, s) = submitted(&mut m);
    m.chain.advance(CHALLENGE_WINDOW).unwrap();
    assert_error(dispute(&mut m, &s), EscrowError::ChallengeWindowClosed);
}

#[test]
fn resolving_an_undisputed_job_is_refused() {
    let mut m = Market::with_escrow();
    let (p, s) = submitted(&mut m);
    let arbiter = m.auditor.insecure_clone();
    let slash = m.slash_keys();
    let keys = s.keys(&m, &arbiter.pubkey(), &p.pubkey());
    assert_error(
        signed(&mut m, ix::resolve_dispute(&keys, &slash, true), &arbiter),
        EscrowError::NotDisputed,
    );
}

#[test]
fn a_dispute_the_arbiter_never_rules_on_settles_after_the_timeout() {
    let mut m = Market::with_escrow();
    let (p, s) = submitted(&mut m);
    dispute(&mut m, &s).unwrap();
    let anyone = m.wallet(0);
    let keys = s.keys(&m, &anyone.pubkey(), &p.pubkey());
    m.chain
        .advance(job_escrow::constants::DISPUTE_TIMEOUT - 1)
        .unwrap();
    assert_error(
        signed(&mut m, ix::finalize_job(&keys), &anyone.keypair),
        EscrowError::DisputePending,
    );
    m.chain.advance(1).unwrap();
    let out = signed(&mut m, ix::finalize_job(&keys), &anyone.keypair).unwrap();
    // Finding 13: settled as a ruling for the provider. It is paid as if approved and
    // receives the bond: a dispute nobody upholds is not free for the client.
    let settled = &out.events::<JobSettled>()[0];
    assert_eq!(settled.bond_to_provider, DISPUTE_BOND);
    let p_tokens = m.payment_account(&p.pubkey());
    assert_eq!(m.balance(&p_tokens), 1_950_000 + DISPUTE_BOND);
    assert_eq!(m.balance(&s.client.tokens), 98 * TOKEN - DISPUTE_BOND);
    // Its hold on the job ended and its collateral is free again.
    let node = m.provider_account(&p.pubkey());
    assert_eq!((node.jobs_held, node.gpus_in_use), (0, 0));
    assert_eq!(m.stake_account(&p.pubkey()).locked, 0);
    s.assert_closed_and_conserved(&mut m);
}
