//! approve_result and finalize_job.

use gpu_market_client::{escrow as ix, pda, Chain, Signer};
use gpu_market_tests::{escrow::*, *};
use job_escrow::{error::EscrowError, events::JobSettled};

struct Done {
    provider: Wallet,
    client: Wallet,
}

fn submitted(m: &mut Market, seconds: i64) -> Done {
    let provider = m.provider(1);
    m.payment_account(&provider.pubkey());
    let treasury = treasury_wallet(m);
    m.payment_account(&treasury);
    let client = m.client(100 * TOKEN);
    m.create_job(&client, batch_job(1, 1)).unwrap();
    let job = pda::job(&client.pubkey(), 1);
    let op = provider.keypair.insecure_clone();
    take_and_start(m, &op, &job);
    m.chain.advance(seconds).unwrap();
    signed(
        m,
        ix::submit_result(&op.pubkey(), &op.pubkey(), &job, [1; 32], "s3://r".into()),
        &op,
    )
    .unwrap();
    Done { provider, client }
}

#[test]
fn the_client_approves_and_settles_at_once() {
    let mut m = Market::with_escrow();
    let d = submitted(&mut m, 3_600);
    let keys = m.settle_keys(&d.client.pubkey(), &d.client, 1, &d.provider.pubkey());
    let out = signed(&mut m, ix::approve_result(&keys), &d.client.keypair).unwrap();
    let event = &out.events::<JobSettled>()[0];
    // 2 tokens for one GPU-hour; 2.5% fee.
    assert_eq!(
        (event.to_provider, event.fee, event.reason),
        (1_950_000, 50_000, ix::SettleReason::Approved)
    );
    assert_eq!(m.balance(&d.client.tokens), 98 * TOKEN);
    assert!(!m.chain.exists(&pda::job(&d.client.pubkey(), 1)).unwrap());
    // Approving or finalizing twice finds no job.
    assert_error(
        signed(&mut m, ix::approve_result(&keys), &d.client.keypair),
        anchor_lang::error::ErrorCode::AccountNotInitialized,
    );
    assert_error(
        signed(&mut m, ix::finalize_job(&keys), &d.client.keypair),
        anchor_lang::error::ErrorCode::AccountNotInitialized,
    );
}

#[test]
fn only_the_client_approves() {
    let mut m = Market::with_escrow();
    let d = submitted(&mut m, 60);
    let keys = m.settle_keys(&d.provider.pubkey(), &d.client, 1, &d.provider.pubkey());
    assert_error(
        signed(&mut m, ix::approve_result(&keys), &d.provider.keypair),
        EscrowError::NotClient,
    );
}

#[test]
fn finalize_before_the_window_ends_is_refused() {
    let mut m = Market::with_escrow();
    let d = submitted(&mut m, 60);
    let anyone = m.wallet(0);
    let keys = m.settle_keys(&anyone.pubkey(), &d.client, 1, &d.provider.pubkey());
    m.chain.advance(CHALLENGE_WINDOW - 1).unwrap();
    assert_error(
        signed(&mut m, ix::finalize_job(&keys), &anyone.keypair),
        EscrowError::ChallengeWindowOpen,
    );
}

#[test]
fn payment_to_someone_elses_account_is_refused() {
    let mut m = Market::with_escrow();
    let d = submitted(&mut m, 60);
    let thief = m.wallet(0);
    m.payment_account(&thief.pubkey());
    // Name the thief as the provider's payee.
    let mut keys = m.settle_keys(&d.client.pubkey(), &d.client, 1, &d.provider.pubkey());
    keys.provider_authority = thief.pubkey();
    let ix = swap_account(
        ix::approve_result(&keys),
        &pda::provider(&thief.pubkey()),
        &pda::provider(&d.provider.pubkey()),
    );
    let ix = swap_account(
        ix,
        &pda::stake_account(&thief.pubkey()),
        &pda::stake_account(&d.provider.pubkey()),
    );
    assert_error(
        signed(&mut m, ix, &d.client.keypair),
        EscrowError::WrongTokenAccountOwner,
    );
}

#[test]
fn approve_before_a_result_is_refused() {
    let mut m = Market::with_escrow();
    let provider = m.provider(1);
    m.payment_account(&provider.pubkey());
    let treasury = treasury_wallet(&m);
    m.payment_account(&treasury);
    let client = m.client(100 * TOKEN);
    m.create_job(&client, batch_job(1, 1)).unwrap();
    let keys = m.settle_keys(&client.pubkey(), &client, 1, &provider.pubkey());
    assert_error(
        signed(&mut m, ix::approve_result(&keys), &client.keypair),
        EscrowError::NoResultSubmitted,
    );
}
