//! Finding 8: a client cannot hold a settlement hostage by moving its wallet out of the
//! system program; settlement accepts whatever account sits at `job.client`.

use gpu_market_client::{escrow as ix, Chain};
use gpu_market_tests::{escrow::*, *};

#[test]
fn a_client_wallet_assigned_to_another_program_still_settles() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let cranker = m.wallet(0);
    let s = Scenario::new(&mut m, 1, &[&p], &[&cranker]);
    m.create_job(&s.client, batch_job(1, 1)).unwrap();
    take_and_start(&mut m, &p.keypair, &s.job);
    m.chain.advance(3_600).unwrap();
    signed(
        &mut m,
        ix::submit_result(&p.pubkey(), &p.pubkey(), &s.job, [3; 32], "s3://r".into()),
        &p.keypair,
    )
    .unwrap();
    // The client hands its wallet to another program to block the settlement.
    let client = s.client.pubkey();
    m.send(
        solana_system_interface::instruction::assign(&client, &staking::ID),
        &s.client.keypair,
    )
    .unwrap();
    assert_eq!(
        m.chain.account(&client).unwrap().unwrap().owner,
        staking::ID
    );
    let lamports = m.chain.lamports(&client).unwrap();

    m.chain.advance(CHALLENGE_WINDOW).unwrap();
    let keys = s.keys(&m, &cranker.pubkey(), &p.pubkey());
    signed(&mut m, ix::finalize_job(&keys), &cranker.keypair).unwrap();
    let p_tokens = m.payment_account(&p.pubkey());
    assert_eq!(m.balance(&p_tokens), 1_950_000);
    assert_eq!(m.balance(&s.client.tokens), 100 * TOKEN - 2 * TOKEN);
    // The rent of the job and the vault still went back to the client's account.
    assert!(m.chain.lamports(&client).unwrap() > lamports);
    s.assert_closed_and_conserved(&mut m);
}
