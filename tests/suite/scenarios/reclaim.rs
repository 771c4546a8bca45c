//! Open jobs: cancelled by the client, or reclaimed when nobody took them.

use gpu_market_client::{escrow as ix, Chain};
use gpu_market_tests::{escrow::*, *};
use job_escrow::error::EscrowError;

#[test]
fn cancel_while_open_returns_everything() {
    let mut m = Market::with_escrow();
    let s = Scenario::new(&mut m, 1, &[], &[]);
    m.create_job(&s.client, batch_job(1, 2)).unwrap();
    let (mint, program) = (m.payment_mint, m.payment_token_program);
    signed(
        &mut m,
        ix::cancel_job(&s.client.pubkey(), 1, &mint, &program),
        &s.client.keypair,
    )
    .unwrap();
    assert_eq!(m.balance(&s.client.tokens), 100 * TOKEN);
    s.assert_closed_and_conserved(&mut m);
}

#[test]
fn no_provider_by_the_windows_end_then_reclaim() {
    let mut m = Market::with_escrow();
    let cranker = m.wallet(0);
    let s = Scenario::new(&mut m, 1, &[], &[&cranker]);
    m.create_job(&s.client, batch_job(1, 2)).unwrap();
    let (mint, program) = (m.payment_mint, m.payment_token_program);
    let reclaim = ix::reclaim_job(&cranker.pubkey(), &s.client.pubkey(), 1, &mint, &program);
    m.chain.advance(BID_WINDOW - 1).unwrap();
    assert_error(
        signed(&mut m, reclaim.clone(), &cranker.keypair),
        EscrowError::NotReclaimable,
    );
    m.chain.advance(1).unwrap();
    signed(&mut m, reclaim, &cranker.keypair).unwrap();
    let cranker_tokens = m.payment_account(&cranker.pubkey());
    assert_eq!(m.balance(&cranker_tokens), CRANK_TIP);
    assert_eq!(m.balance(&s.client.tokens), 100 * TOKEN - CRANK_TIP);
    s.assert_closed_and_conserved(&mut m);
}

#[test]
fn the_client_may_reclaim_its_own_job_and_keep_the_tip() {
    let mut m = Market::with_escrow();
    let s = Scenario::new(&mut m, 1, &[], &[]);
    m.create_job(&s.client, batch_job(1, 2)).unwrap();
    m.chain.advance(BID_WINDOW).unwrap();
    let (mint, program) = (m.payment_mint, m.payment_token_program);
    let c = s.client.pubkey();
    signed(
        &mut m,
        ix::reclaim_job(&c, &c, 1, &mint, &program),
        &s.client.keypair,
    )
    .unwrap();
    assert_eq!(m.balance(&s.client.tokens), 100 * TOKEN);
    s.assert_closed_and_conserved(&mut m);
}
