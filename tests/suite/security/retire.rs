//! Finding 1: a provider holding a job cannot retire, and no ending of a job depends on the
//! provider account. Finding 12: a retired provider's rewards stay claimable.

use gpu_market_client::{
    escrow::{self as ix, JobStatus},
    pda, registry, Chain, Signer,
};
use gpu_market_tests::{escrow::*, rewards::*, *};
use provider_registry::error::RegistryError;

fn exit_and_wait(m: &mut Market, p: &Wallet) {
    m.send(registry::begin_exit(&p.pubkey()), &p.keypair)
        .unwrap();
    m.chain.advance(EXIT_NOTICE).unwrap();
}

#[test]
fn a_provider_holding_an_assigned_job_cannot_retire() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let s = Scenario::new(&mut m, 1, &[&p], &[]);
    m.create_job(&s.client, batch_job(1, 1)).unwrap();
    signed(
        &mut m,
        ix::accept_job(&p.pubkey(), &p.pubkey(), &s.job),
        &p.keypair,
    )
    .unwrap();
    exit_and_wait(&mut m, &p);
    assert_error(
        m.send(registry::retire_provider(&p.pubkey()), &p.keypair),
        RegistryError::JobsHeld,
    );
}

/// The README's own `provider exit && provider retire` after a batch result: the result
/// freed the GPUs, but the job (and a possible dispute slash) is still open.
#[test]
fn a_provider_whose_batch_result_awaits_the_challenge_window_cannot_retire() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let s = Scenario::new(&mut m, 1, &[&p], &[]);
    m.create_job(&s.client, batch_job(1, 1)).unwrap();
    take_and_start(&mut m, &p.keypair, &s.job);
    signed(
        &mut m,
        ix::submit_result(&p.pubkey(), &p.pubkey(), &s.job, [1; 32], "s3://r".into()),
        &p.keypair,
    )
    .unwrap();
    let node = m.provider_account(&p.pubkey());
    assert_eq!((node.gpus_in_use, node.jobs_held), (0, 1));
    m.send(registry::begin_exit(&p.pubkey()), &p.keypair)
        .unwrap();
    // The client disputes inside the window; the notice runs out meanwhile.
    let (mint, program) = (m.payment_mint, m.payment_token_program);
    signed(
        &mut m,
        ix::dispute_result(&s.client.pubkey(), 1, &mint, &program),
        &s.client.keypair,
    )
    .unwrap();
    m.chain.advance(EXIT_NOTICE).unwrap();
    assert_error(
        m.send(registry::retire_provider(&p.pubkey()), &p.keypair),
        RegistryError::JobsHeld,
    );
    // The dispute slash cannot be escaped: the arbiter rules, then the provider may go.
    let arbiter = m.auditor.insecure_clone();
    let slash = m.slash_keys();
    let keys = s.keys(&m, &arbiter.pubkey(), &p.pubkey());
    signed(&mut m, ix::resolve_dispute(&keys, &slash, true), &arbiter).unwrap();
    assert_eq!(
        m.stake_account(&p.pubkey()).active,
        MIN_STAKE_PER_GPU - SLASH.dispute_lost
    );
    m.send(registry::retire_provider(&p.pubkey()), &p.keypair)
        .unwrap();
    s.assert_closed_and_conserved(&mut m);
}

/// Defence in depth: even with the provider account gone (here erased from the ledger),
/// every ending of a job still runs and pays each party its due.
#[test]
fn endings_do_not_need_the_provider_account() {
    let mut m = Market::with_escrow();
    let (p1, p2) = (m.provider(1), m.provider(1));
    let cranker = m.wallet(0);
    let s = Scenario::new(&mut m, 1, &[&p1, &p2], &[&cranker]);
    m.create_job(&s.client, batch_job(1, 1)).unwrap();
    signed(
        &mut m,
        ix::accept_job(&p1.pubkey(), &p1.pubkey(), &s.job),
        &p1.keypair,
    )
    .unwrap();
    let gone = solana_account::Account::default();
    m.chain
        .set_account(&pda::provider(&p1.pubkey()), gone.clone());
    // Expiry: slashed and re-queued without the provider account.
    m.chain.advance(START_TIMEOUT + 1).unwrap();
    let slash = m.slash_keys();
    let keys = s.keys(&m, &cranker.pubkey(), &p1.pubkey());
    signed(&mut m, ix::expire_job(&keys, &slash), &cranker.keypair).unwrap();
    assert_eq!(m.job(&s.client.pubkey(), 1).status, JobStatus::Open);
    assert_eq!(
        m.stake_account(&p1.pubkey()).active,
        MIN_STAKE_PER_GPU - SLASH.no_start
    );
    assert_eq!(m.stake_account(&p1.pubkey()).locked, 0);

    // The second provider delivers, then vanishes too: the challenge window still ends.
    m.send(registry::heartbeat(&p2.pubkey(), &p2.pubkey()), &p2.keypair)
        .unwrap();
    take_and_start(&mut m, &p2.keypair, &s.job);
    m.chain.advance(1_800).unwrap();
    signed(
        &mut m,
        ix::submit_result(&p2.pubkey(), &p2.pubkey(), &s.job, [2; 32], "s3://2".into()),
        &p2.keypair,
    )
    .unwrap();
    m.chain.set_account(&pda::provider(&p2.pubkey()), gone);
    m.chain.advance(CHALLENGE_WINDOW).unwrap();
    let keys = s.keys(&m, &cranker.pubkey(), &p2.pubkey());
    signed(&mut m, ix::finalize_job(&keys), &cranker.keypair).unwrap();
    // Half an hour at 2 tokens: 1 token, less the 2.5% fee.
    let p2_tokens = m.payment_account(&p2.pubkey());
    assert_eq!(m.balance(&p2_tokens), 975_000);
    assert_eq!(m.balance(&s.treasury), 25_000);
    assert_eq!(m.stake_account(&p2.pubkey()).locked, 0);
    s.assert_closed_and_conserved(&mut m);
}

#[test]
fn a_retired_provider_still_claims_its_rewards() {
    let mut m = Market::with_rewards(HARD_CAP);
    let p = m.provider(1);
    m.record_uptime(&p).unwrap();
    // The node leaves as epoch 0 ends: its weight is folded and finalized all the same.
    m.go_to_epoch(1);
    m.send(registry::begin_exit(&p.pubkey()), &p.keypair)
        .unwrap();
    m.close_epoch(0);
    m.chain.advance(EXIT_NOTICE).unwrap();
    m.send(registry::retire_provider(&p.pubkey()), &p.keypair)
        .unwrap();
    let out = m.claim(&p).unwrap();
    let claimed = out.events::<reward_emission::events::RewardsClaimed>()[0].amount;
    assert_eq!(claimed, FIRST_EPOCH_EMISSION);
}

/// A job can only be taken by a provider that exists: an erased account is refused with
/// its own error rather than treated as a provider.
#[test]
fn a_provider_account_that_is_gone_cannot_take_a_job() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let client = m.client(100 * TOKEN);
    m.create_job(&client, batch_job(1, 1)).unwrap();
    m.chain.set_account(
        &pda::provider(&p.pubkey()),
        solana_account::Account::default(),
    );
    let job = pda::job(&client.pubkey(), 1);
    assert_error(
        signed(
            &mut m,
            ix::accept_job(&p.pubkey(), &p.pubkey(), &job),
            &p.keypair,
        ),
        job_escrow::error::EscrowError::ProviderNotFound,
    );
}
