use anchor_lang::error::ErrorCode as AnchorError;
use gpu_market_client::{escrow::JobStatus, pda, token, Chain, Signer};
use gpu_market_tests::{escrow::*, *};
use job_escrow::{error::EscrowError, events::JobCreated};

#[test]
fn create_job_escrows_the_max_cost_and_the_tip() {
    let mut m = Market::with_escrow();
    let client = m.client(100 * TOKEN);
    let now = m.chain.now().unwrap();
    let out = m.create_job(&client, batch_job(7, 2)).unwrap();
    let job = m.job(&client.pubkey(), 7);
    assert_eq!(job.client, client.pubkey());
    assert_eq!(
        (job.job_id, job.status, job.attempts),
        (7, JobStatus::Open, 0)
    );
    // One crank tip per possible attempt.
    let tips = CRANK_TIP * u64::from(MAX_ATTEMPTS);
    assert_eq!(job.escrowed, 12 * TOKEN + tips);
    assert_eq!((job.tip_reserve, job.created_at), (tips, now));
    // The market's terms are the job's own from now on.
    assert_eq!(
        (
            job.terms.protocol_fee_bps,
            job.terms.slash,
            job.terms.crank_tip
        ),
        (PROTOCOL_FEE_BPS, SLASH, CRANK_TIP)
    );
    assert_eq!(
        (
            job.terms.start_timeout,
            job.terms.heartbeat_grace,
            job.terms.challenge_window
        ),
        (START_TIMEOUT, HEARTBEAT_GRACE, CHALLENGE_WINDOW)
    );
    assert_eq!(job.payment_mint, m.payment_mint);
    let vault = pda::job_vault(&pda::job(&client.pubkey(), 7));
    assert_eq!(m.balance(&vault), 12 * TOKEN + tips);
    assert_eq!(out.events::<JobCreated>()[0].escrowed, 12 * TOKEN + tips);
}

#[test]
fn a_mint_off_the_allow_list_is_refused() {
    let mut m = Market::with_escrow();
    let client = m.client(0);
    let admin = m.admin.insecure_clone();
    let other =
        token::create_mint(&mut m.chain, &admin.pubkey(), 6, &token::TOKEN_PROGRAM).unwrap();
    let account = token::create_token_account(
        &mut m.chain,
        &client.pubkey(),
        &other,
        &token::TOKEN_PROGRAM,
    )
    .unwrap();
    token::mint_to(
        &mut m.chain,
        &other,
        &admin,
        &account,
        100 * TOKEN,
        &token::TOKEN_PROGRAM,
    )
    .unwrap();
    let ix = gpu_market_client::escrow::create_job(
        &client.pubkey(),
        &other,
        &token::TOKEN_PROGRAM,
        batch_job(1, 1),
    );
    assert_error(
        signed(&mut m, ix, &client.keypair),
        EscrowError::MintNotAllowed,
    );
    assert_eq!(m.balance(&account), 100 * TOKEN);
}

#[test]
fn bad_terms_are_refused() {
    let mut m = Market::with_escrow();
    let client = m.client(100 * TOKEN);
    let mut zero_gpus = batch_job(1, 1);
    zero_gpus.requirements.gpu_count = 0;
    assert_error(
        m.create_job(&client, zero_gpus),
        EscrowError::InvalidJobTerms,
    );
    let mut zero_price = batch_job(1, 1);
    zero_price.max_price_per_gpu_hour = 0;
    assert_error(
        m.create_job(&client, zero_price),
        EscrowError::InvalidJobTerms,
    );
    let mut long_uri = batch_job(1, 1);
    long_uri.workload.uri = "x".repeat(129);
    assert_error(m.create_job(&client, long_uri), EscrowError::UriTooLong);
    let mut huge = batch_job(1, 1);
    huge.max_price_per_gpu_hour = u64::MAX;
    assert_error(m.create_job(&client, huge), EscrowError::DepositTooLarge);
}

#[test]
fn a_job_id_is_used_once() {
    let mut m = Market::with_escrow();
    let client = m.client(100 * TOKEN);
    m.create_job(&client, batch_job(1, 1)).unwrap();
    let err = m.create_job(&client, batch_job(1, 1)).unwrap_err();
    assert_eq!(
        err.instruction_error(),
        Some(&already_initialised(&m.chain)),
        "{err}"
    );
}

#[test]
fn a_vault_of_the_wrong_seeds_is_refused() {
    let mut m = Market::with_escrow();
    let client = m.client(100 * TOKEN);
    let other_vault = pda::job_vault(&pda::job(&client.pubkey(), 99));
    let ix = swap_account(
        m.create_job_ix(&client, batch_job(1, 1)),
        &pda::job_vault(&pda::job(&client.pubkey(), 1)),
        &other_vault,
    );
    assert_error(
        signed(&mut m, ix, &client.keypair),
        AnchorError::ConstraintSeeds,
    );
}
