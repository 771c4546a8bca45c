//! Known-answer (canary) jobs: the client commits to the correct result hash at creation and
//! reveals it in the challenge window; a provider whose result differs is slashed without an
//! arbiter.

use gpu_market_client::{escrow as ix, Chain, Keypair, Pubkey, Signer};
use gpu_market_tests::{escrow::*, *};
use job_escrow::{
    error::EscrowError, events::CanaryRevealed, state::canary_commitment, state::JobStatus,
};

const SALT: [u8; 32] = [0x5A; 32];
/// What the provider submits in these tests.
const SUBMITTED: [u8; 32] = [4; 32];

/// A batch job committing to `expected`, taken and started by a fresh provider, with its
/// result `SUBMITTED` in after one hour on one GPU.
fn canary(m: &mut Market, expected: [u8; 32]) -> (Wallet, Scenario) {
    let p = m.provider(1);
    let s = Scenario::new(m, 1, &[&p], &[]);
    post_canary(m, &s, expected);
    let op = p.keypair.insecure_clone();
    take_and_start(m, &op, &s.job);
    submit_after_an_hour(m, &op, &s.job);
    (p, s)
}

/// Posts `s`'s job 1 as a canary committing to `expected`.
fn post_canary(m: &mut Market, s: &Scenario, expected: [u8; 32]) {
    let job = job_escrow::CreateJobArgs {
        verification: canary_commitment(&expected, &SALT),
        ..batch_job(1, 1)
    };
    m.create_job(&s.client, job).unwrap();
}

/// After an hour of running `job`, the node of `op` submits `SUBMITTED`.
fn submit_after_an_hour(m: &mut Market, op: &Keypair, job: &Pubkey) {
    m.chain.advance(3_600).unwrap();
    signed(
        m,
        ix::submit_result(&op.pubkey(), &op.pubkey(), job, SUBMITTED, "s3://d".into()),
        op,
    )
    .unwrap();
}

fn reveal(
    m: &mut Market,
    s: &Scenario,
    p: &Wallet,
    caller: &Wallet,
    expected: [u8; 32],
    salt: [u8; 32],
) -> Result<gpu_market_client::TxOutcome, gpu_market_client::ClientError> {
    let keys = s.keys(m, &caller.pubkey(), &p.pubkey());
    let (slash, treasury) = (m.slash_keys(), m.treasury);
    signed(
        m,
        ix::reveal_canary(&keys, &slash, &treasury, expected, salt),
        &caller.keypair,
    )
}

#[test]
fn a_lying_provider_is_caught_by_a_canary() {
    let mut m = Market::with_escrow();
    let expected = [9; 32];
    let (p, s) = canary(&mut m, expected);
    assert_eq!(m.balance(&s.vault), 6 * TOKEN + TIPS);
    let staking_treasury = m.treasury;
    let (treasury, owed) = (
        m.balance(&staking_treasury),
        m.staking_config().treasury_owed,
    );

    // The last second of the challenge window.
    m.chain.advance(CHALLENGE_WINDOW - 1).unwrap();
    let out = reveal(&mut m, &s, &p, &s.client, expected, SALT).unwrap();
    let event = &out.events::<CanaryRevealed>()[0];
    assert_eq!(
        (event.passed, event.expected, event.submitted),
        (false, expected, SUBMITTED)
    );
    assert_eq!(
        (event.refund, event.slash_requested),
        (6 * TOKEN + TIPS, SLASH.wrong_result)
    );

    // The client has its whole deposit back; the provider and the market treasury got no
    // payment. The whole slash went to the staking treasury: the harmed party's three
    // quarters to its token account, its own quarter owed in the staking vault. The client,
    // who lost nothing, gains no stake.
    assert_eq!(m.balance(&s.client.tokens), 100 * TOKEN);
    let p_tokens = m.payment_account(&p.pubkey());
    assert_eq!(m.balance(&p_tokens), 0);
    assert_eq!(m.balance(&s.treasury), 0);
    let client_stake = m.stake_mint_account(&s.client.pubkey());
    assert_eq!(m.balance(&client_stake), 0);
    assert_eq!(
        m.balance(&staking_treasury),
        treasury + SLASH.wrong_result * 3 / 4
    );
    assert_eq!(
        m.staking_config().treasury_owed,
        owed + SLASH.wrong_result / 4
    );
    let stake = m.stake_account(&p.pubkey());
    assert_eq!(
        (stake.active, stake.locked),
        (MIN_STAKE_PER_GPU - SLASH.wrong_result, 0)
    );
    // Marked as having failed a verification, its hold on the job ended.
    let node = m.provider_account(&p.pubkey());
    assert_eq!(
        (
            node.reputation.verifications_failed,
            node.reputation.jobs_completed,
            node.reputation.disputes_lost,
        ),
        (1, 0, 0)
    );
    assert_eq!((node.jobs_held, node.gpus_in_use), (0, 0));
    assert_eq!(node.reputation.completion_rate_bps(), 0);
    s.assert_closed_and_conserved(&mut m);
    // Once is all: the job is gone.
    assert_error(
        reveal(&mut m, &s, &p, &s.client, expected, SALT),
        anchor_lang::error::ErrorCode::AccountNotInitialized,
    );
}

#[test]
fn a_wrong_result_slash_cannot_be_routed_elsewhere() {
    let mut m = Market::with_escrow();
    let expected = [9; 32];
    let (p, s) = canary(&mut m, expected);
    let keys = s.keys(&m, &s.client.pubkey(), &p.pubkey());
    let slash = m.slash_keys();
    // Not to the client's own stake-mint account.
    let client_stake = m.stake_mint_account(&s.client.pubkey());
    assert_error(
        signed(
            &mut m,
            ix::reveal_canary(&keys, &slash, &client_stake, expected, SALT),
            &s.client.keypair,
        ),
        EscrowError::NotStakingTreasury,
    );
    // Not from a bystander's stake: another provider's stake account in place of the
    // assigned one.
    let staking_treasury = m.treasury;
    let bystander = m.provider(1);
    let mut ix = ix::reveal_canary(&keys, &slash, &staking_treasury, expected, SALT);
    let assigned = gpu_market_client::pda::stake_account(&p.pubkey());
    for meta in &mut ix.accounts {
        if meta.pubkey == assigned {
            meta.pubkey = gpu_market_client::pda::stake_account(&bystander.pubkey());
        }
    }
    assert_error(
        signed(&mut m, ix, &s.client.keypair),
        EscrowError::WrongStakeAccount,
    );
    assert_eq!(
        m.stake_account(&bystander.pubkey()).active,
        MIN_STAKE_PER_GPU
    );
    assert_eq!(m.stake_account(&p.pubkey()).active, MIN_STAKE_PER_GPU);
    assert_eq!(m.balance(&s.vault), 6 * TOKEN + TIPS);
}

#[test]
fn a_requeued_canary_checks_the_provider_that_submitted() {
    let mut m = Market::with_escrow();
    let expected = [9; 32];
    let (first, second) = (m.provider(1), m.provider(1));
    let keeper = m.wallet(0);
    let s = Scenario::new(&mut m, 1, &[&first, &second], &[&keeper]);
    post_canary(&mut m, &s, expected);
    // The first provider takes it and never starts; the keeper expires it and it re-opens.
    let op = first.keypair.insecure_clone();
    signed(
        &mut m,
        ix::accept_job(&op.pubkey(), &op.pubkey(), &s.job),
        &op,
    )
    .unwrap();
    m.chain.advance(START_TIMEOUT + 1).unwrap();
    let keys = s.keys(&m, &keeper.pubkey(), &first.pubkey());
    let slash = m.slash_keys();
    signed(&mut m, ix::expire_job(&keys, &slash), &keeper.keypair).unwrap();
    assert_eq!(m.job(&s.client.pubkey(), 1).status, JobStatus::Open);
    // The second one (its node alive) runs it and submits a wrong result.
    let op = second.keypair.insecure_clone();
    m.send(
        gpu_market_client::registry::heartbeat(&op.pubkey(), &op.pubkey()),
        &op,
    )
    .unwrap();
    take_and_start(&mut m, &op, &s.job);
    submit_after_an_hour(&mut m, &op, &s.job);
    reveal(&mut m, &s, &second, &s.client, expected, SALT).unwrap();
    // Only the second is marked and slashed for the wrong result; the first lost its no-start
    // slash alone.
    assert_eq!(
        m.stake_account(&second.pubkey()).active,
        MIN_STAKE_PER_GPU - SLASH.wrong_result
    );
    assert_eq!(
        m.stake_account(&first.pubkey()).active,
        MIN_STAKE_PER_GPU - SLASH.no_start
    );
    let (a, b) = (
        m.provider_account(&first.pubkey()).reputation,
        m.provider_account(&second.pubkey()).reputation,
    );
    assert_eq!((a.verifications_failed, a.jobs_failed), (0, 1));
    assert_eq!((b.verifications_failed, b.jobs_failed), (1, 0));
    // The client's deposit back less the one tip the keeper earned.
    assert_eq!(m.balance(&s.client.tokens), 100 * TOKEN - CRANK_TIP);
    let keeper_tokens = m.payment_account(&keeper.pubkey());
    assert_eq!(m.balance(&keeper_tokens), CRANK_TIP);
    s.assert_closed_and_conserved(&mut m);
}

#[test]
fn an_honest_provider_passes_a_canary_and_nothing_changes() {
    let mut m = Market::with_escrow();
    let (p, s) = canary(&mut m, SUBMITTED);
    // Everything a reveal could move.
    let state = |m: &mut Market| {
        (
            m.balance(&s.vault),
            m.balance(&s.client.tokens),
            m.stake_account(&p.pubkey()).active,
            m.stake_account(&p.pubkey()).locked,
            m.provider_account(&p.pubkey()).reputation,
            m.job(&s.client.pubkey(), 1).status,
        )
    };
    let before = state(&mut m);

    let out = reveal(&mut m, &s, &p, &s.client, SUBMITTED, SALT).unwrap();
    let event = &out.events::<CanaryRevealed>()[0];
    assert_eq!(
        (event.passed, event.refund, event.slash_requested),
        (true, 0, 0)
    );
    let after = state(&mut m);
    assert_eq!(after, before);
    assert_eq!(after.5, JobStatus::ResultSubmitted);

    // The job settles as any other once the window closes: the provider paid in full.
    m.chain.advance(CHALLENGE_WINDOW).unwrap();
    let anyone = m.wallet(0);
    let keys = s.keys(&m, &anyone.pubkey(), &p.pubkey());
    signed(&mut m, ix::finalize_job(&keys), &anyone.keypair).unwrap();
    let p_tokens = m.payment_account(&p.pubkey());
    assert_eq!(m.balance(&p_tokens), 1_950_000);
    assert_eq!(m.balance(&s.treasury), 50_000);
    assert_eq!(m.balance(&s.client.tokens), 98 * TOKEN);
    assert_eq!(m.stake_account(&p.pubkey()).active, MIN_STAKE_PER_GPU);
    s.assert_closed_and_conserved(&mut m);
}

#[test]
fn a_reveal_that_does_not_open_the_commitment_is_refused() {
    let mut m = Market::with_escrow();
    let expected = [9; 32];
    let (p, s) = canary(&mut m, expected);
    // A different salt, or a different answer: the client cannot change its mind once it
    // has seen the result.
    assert_error(
        reveal(&mut m, &s, &p, &s.client, expected, [0x5B; 32]),
        EscrowError::VerificationMismatch,
    );
    assert_error(
        reveal(&mut m, &s, &p, &s.client, [8; 32], SALT),
        EscrowError::VerificationMismatch,
    );
    // Nothing moved.
    assert_eq!(m.balance(&s.vault), 6 * TOKEN + TIPS);
    assert_eq!(m.stake_account(&p.pubkey()).active, MIN_STAKE_PER_GPU);
    assert_eq!(
        m.job(&s.client.pubkey(), 1).status,
        JobStatus::ResultSubmitted
    );
}

#[test]
fn an_ordinary_job_cannot_be_turned_into_a_canary() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let s = Scenario::new(&mut m, 1, &[&p], &[]);
    // `batch_job` carries an arbitrary commitment nobody can open.
    m.create_job(&s.client, batch_job(1, 1)).unwrap();
    let op = p.keypair.insecure_clone();
    take_and_start(&mut m, &op, &s.job);
    submit_after_an_hour(&mut m, &op, &s.job);
    assert_error(
        reveal(&mut m, &s, &p, &s.client, [9; 32], SALT),
        EscrowError::VerificationMismatch,
    );
}

#[test]
fn only_the_client_reveals_and_only_inside_the_challenge_window() {
    let mut m = Market::with_escrow();
    let expected = [9; 32];
    let p = m.provider(1);
    let s = Scenario::new(&mut m, 1, &[&p], &[]);
    post_canary(&mut m, &s, expected);
    let op = p.keypair.insecure_clone();
    take_and_start(&mut m, &op, &s.job);
    // Before a result there is nothing to check.
    assert_error(
        reveal(&mut m, &s, &p, &s.client, expected, SALT),
        EscrowError::NoResultSubmitted,
    );
    submit_after_an_hour(&mut m, &op, &s.job);
    // Anyone else holding the opening (the provider included) is refused.
    let stranger = m.wallet(0);
    assert_error(
        reveal(&mut m, &s, &p, &stranger, expected, SALT),
        EscrowError::NotClient,
    );
    assert_error(
        reveal(&mut m, &s, &p, &p, expected, SALT),
        EscrowError::NotClient,
    );
    // Once the window has closed it is too late.
    m.chain.advance(CHALLENGE_WINDOW).unwrap();
    assert_error(
        reveal(&mut m, &s, &p, &s.client, expected, SALT),
        EscrowError::ChallengeWindowClosed,
    );
    assert_eq!(m.stake_account(&p.pubkey()).active, MIN_STAKE_PER_GPU);
}

#[test]
fn a_disputed_result_is_left_to_the_arbiter() {
    let mut m = Market::with_escrow();
    let expected = [9; 32];
    let (p, s) = canary(&mut m, expected);
    let (mint, program) = (m.payment_mint, m.payment_token_program);
    signed(
        &mut m,
        ix::dispute_result(&s.client.pubkey(), 1, &mint, &program),
        &s.client.keypair,
    )
    .unwrap();
    assert_error(
        reveal(&mut m, &s, &p, &s.client, expected, SALT),
        EscrowError::NoResultSubmitted,
    );
}

#[test]
fn a_canary_slashes_what_its_own_terms_say_whatever_the_market_changed_since() {
    let mut m = Market::with_escrow();
    let expected = [9; 32];
    let p = m.provider(1);
    let s = Scenario::new(&mut m, 1, &[&p], &[]);
    post_canary(&mut m, &s, expected);
    // After the job was posted the admin makes a wrong result cost 90 tokens.
    m.update_escrow(job_escrow::UpdateConfigArgs {
        slash: Some(job_escrow::state::SlashAmounts {
            wrong_result: 90 * TOKEN,
            ..SLASH
        }),
        ..Default::default()
    });
    m.send(
        gpu_market_client::registry::heartbeat(&p.pubkey(), &p.pubkey()),
        &p.keypair,
    )
    .unwrap();
    let op = p.keypair.insecure_clone();
    take_and_start(&mut m, &op, &s.job);
    // The collateral locked is the job's own largest slash.
    assert_eq!(m.stake_account(&p.pubkey()).locked, SLASH.dispute_lost);
    submit_after_an_hour(&mut m, &op, &s.job);
    let out = reveal(&mut m, &s, &p, &s.client, expected, SALT).unwrap();
    assert_eq!(
        out.events::<CanaryRevealed>()[0].slash_requested,
        SLASH.wrong_result
    );
    assert_eq!(
        m.stake_account(&p.pubkey()).active,
        MIN_STAKE_PER_GPU - SLASH.wrong_result
    );
    assert_eq!(m.balance(&s.client.tokens), 100 * TOKEN);
    s.assert_closed_and_conserved(&mut m);
}
