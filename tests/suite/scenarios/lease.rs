//! Leases: billed per second while running, withdrawn as they go.

use gpu_market_client::{escrow as ix, Chain, Signer};
use gpu_market_tests::{escrow::*, *};
use job_escrow::{error::EscrowError, events::JobSettled};

#[test]
fn two_withdrawals_then_the_client_closes_early() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let s = Scenario::new(&mut m, 1, &[&p], &[]);
    let provider_tokens = m.payment_account(&p.pubkey());
    m.create_job(&s.client, lease_job(1, 1, 2)).unwrap();
    let deposit = 6 * TOKEN + TIPS;
    let op = p.keypair.insecure_clone();
    take_and_start(&mut m, &op, &s.job);
    let keys = s.keys(&m, &s.client.pubkey(), &p.pubkey());

    serve(&mut m, &op, &op.pubkey(), &s.job, 600);
    // 600 s at 2 tokens/GPU-hour = 333_333.3 -> 333_333 earned.
    assert_error(
        signed(
            &mut m,
            ix::withdraw_earnings(&op.pubkey(), &keys, 333_334),
            &op,
        ),
        EscrowError::WithdrawExceedsEarned,
    );
    signed(
        &mut m,
        ix::withdraw_earnings(&op.pubkey(), &keys, 333_333),
        &op,
    )
    .unwrap();
    assert_eq!(m.balance(&provider_tokens), 325_000); // less 8_333 fee

    serve(&mut m, &op, &op.pubkey(), &s.job, 600);
    // 1200 s = 666_666 in total, 333_333 of it new.
    signed(
        &mut m,
        ix::withdraw_earnings(&op.pubkey(), &keys, 333_333),
        &op,
    )
    .unwrap();
    assert_eq!(m.balance(&provider_tokens), 650_000);

    serve(&mut m, &op, &op.pubkey(), &s.job, 300);
    let out = signed(&mut m, ix::close_lease(&keys), &s.client.keypair).unwrap();
    // 1500 s = 833_333 in total; 166_667 still due, fee 4_166.
    let settled = &out.events::<JobSettled>()[0];
    assert_eq!((settled.to_provider, settled.fee), (162_501, 4_166));
    assert_eq!(settled.billed_total, 833_333);
    assert_eq!(m.balance(&provider_tokens), 812_501);
    assert_eq!(m.balance(&s.treasury), 20_832);
    assert_eq!(m.balance(&s.client.tokens), 100 * TOKEN - 833_333);
    assert_eq!(settled.refund, deposit - 833_333);
    assert_eq!(m.provider_account(&p.pubkey()).gpus_in_use, 0);
    s.assert_closed_and_conserved(&mut m);
}

#[test]
fn a_lease_that_runs_to_its_end() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let cranker = m.wallet(0);
    let s = Scenario::new(&mut m, 1, &[&p], &[&cranker]);
    m.create_job(&s.client, lease_job(1, 1, 1)).unwrap();
    let op = p.keypair.insecure_clone();
    take_and_start(&mut m, &op, &s.job);
    let keys = s.keys(&m, &cranker.pubkey(), &p.pubkey());
    for _ in 0..3 {
        serve(&mut m, &op, &op.pubkey(), &s.job, 1_200);
    }
    // The client alone may close a lease early; anyone may finalize one that ended.
    assert_error(
        signed(&mut m, ix::close_lease(&keys), &cranker.keypair),
        EscrowError::NotClient,
    );
    // Quiet after the lease ended is not a fault: nothing to expire, and no slash.
    m.chain.advance(HEARTBEAT_GRACE + 10).unwrap();
    let slash = m.slash_keys();
    assert_error(
        signed(&mut m, ix::expire_job(&keys, &slash), &cranker.keypair),
        EscrowError::NothingToExpire,
    );
    let out = signed(&mut m, ix::finalize_job(&keys), &cranker.keypair).unwrap();
    let settled = &out.events::<JobSettled>()[0];
    assert_eq!(settled.reason, ix::SettleReason::LeaseEnded);
    assert_eq!((settled.to_provider, settled.fee), (1_950_000, 50_000));
    assert_eq!(m.balance(&s.client.tokens), 98 * TOKEN);
    s.assert_closed_and_conserved(&mut m);
}

#[test]
fn finalizing_a_lease_before_its_end_is_refused() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let s = Scenario::new(&mut m, 1, &[&p], &[]);
    m.create_job(&s.client, lease_job(1, 1, 1)).unwrap();
    let op = p.keypair.insecure_clone();
    take_and_start(&mut m, &op, &s.job);
    let keys = s.keys(&m, &s.client.pubkey(), &p.pubkey());
    assert_error(
        signed(&mut m, ix::finalize_job(&keys), &s.client.keypair),
        EscrowError::LeaseNotEnded,
    );
}

#[test]
fn extending_a_lease_tops_up_the_deposit() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let s = Scenario::new(&mut m, 1, &[&p], &[]);
    m.create_job(&s.client, lease_job(1, 1, 1)).unwrap();
    let (mint, program) = (m.payment_mint, m.payment_token_program);
    signed(
        &mut m,
        ix::extend_job(&s.client.pubkey(), 1, &mint, &program, 1_800, None),
        &s.client.keypair,
    )
    .unwrap();
    let job = m.job(&s.client.pubkey(), 1);
    assert_eq!(job.max_duration, 5_400);
    assert_eq!(job.escrowed, 3 * TOKEN + 1_500_000 + TIPS);
    assert_eq!(m.balance(&s.vault), job.escrowed);
}
