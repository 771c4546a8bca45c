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
    // The withdrawals' fees wait in the vault until the lease ends.
    assert_eq!(m.balance(&s.treasury), 0);

    serve(&mut m, &op, &op.pubkey(), &s.job, 300);
    let out = signed(&mut m, ix::close_lease(&keys), &s.client.keypair).unwrap();
    // 1500 s = 833_333 in total; 166_667 still due, fee 4_166.
    let settled = &out.events::<JobSettled>()[0];
    assert_eq!(
        (settled.to_provider, settled.fee, settled.fees_released),
        (162_501, 4_166, 16_666)
    );
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
fn withdrawal_fees_wait_in_the_vault_and_reach_the_treasury_when_the_attempt_ends() {
    use job_escrow::events::{EarningsWithdrawn, JobExpired};
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let cranker = m.wallet(0);
    let s = Scenario::new(&mut m, 1, &[&p], &[&cranker]);
    let provider_tokens = m.payment_account(&p.pubkey());
    m.create_job(&s.client, lease_job(1, 1, 2)).unwrap();
    let op = p.keypair.insecure_clone();
    take_and_start(&mut m, &op, &s.job);
    serve(&mut m, &op, &op.pubkey(), &s.job, 600);
    let keys = s.keys(&m, &cranker.pubkey(), &p.pubkey());
    // 600 s = 333_333 gross; the provider receives 325_000, the 8_333 fee stays in the vault.
    let out = signed(
        &mut m,
        ix::withdraw_earnings(&op.pubkey(), &keys, 333_333),
        &op,
    )
    .unwrap();
    let withdrawn = &out.events::<EarningsWithdrawn>()[0];
    assert_eq!((withdrawn.to_provider, withdrawn.fee), (325_000, 8_333));
    assert_eq!(m.balance(&provider_tokens), 325_000);
    assert_eq!(m.balance(&s.treasury), 0);
    assert_eq!(m.job(&s.client.pubkey(), 1).fees_held, 8_333);
    assert_eq!(
        m.balance(&s.vault),
        6 * TOKEN + TIPS - 325_000,
        "the fee is still in the vault"
    );

    // The provider vanishes; its expiry re-queues the lease and pays the held fee to the
    // treasury (the provider is paid up to its last heartbeat: nothing more).
    m.chain.advance(HEARTBEAT_GRACE + 1).unwrap();
    let slash = m.slash_keys();
    let out = signed(&mut m, ix::expire_job(&keys, &slash), &cranker.keypair).unwrap();
    let expired = &out.events::<JobExpired>()[0];
    assert!(expired.requeued);
    assert_eq!(
        (expired.to_provider, expired.fee, expired.fees_released),
        (0, 0, 8_333)
    );
    assert_eq!(m.balance(&s.treasury), 8_333);
    assert_eq!(m.job(&s.client.pubkey(), 1).fees_held, 0);

    // The client cancels the re-opened lease: it gets back all but what was billed and
    // the crank tip, and the treasury keeps its fee.
    let (mint, program) = (m.payment_mint, m.payment_token_program);
    signed(
        &mut m,
        ix::cancel_job(&s.client.pubkey(), 1, &mint, &program),
        &s.client.keypair,
    )
    .unwrap();
    assert_eq!(
        m.balance(&s.client.tokens),
        100 * TOKEN - 333_333 - CRANK_TIP
    );
    assert_eq!(m.balance(&s.treasury), 8_333);
    assert_eq!(m.balance(&provider_tokens), 325_000);
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

#[test]
fn a_withdrawal_pays_only_the_assigned_providers_own_token_account() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let thief = m.wallet(0);
    let s = Scenario::new(&mut m, 1, &[&p], &[&thief]);
    m.create_job(&s.client, lease_job(1, 1, 2)).unwrap();
    let op = p.keypair.insecure_clone();
    take_and_start(&mut m, &op, &s.job);
    serve(&mut m, &op, &op.pubkey(), &s.job, 600);
    let keys = s.keys(&m, &s.client.pubkey(), &p.pubkey());
    let theirs = m.payment_account_address(&thief.pubkey());
    let ours = m.payment_account_address(&p.pubkey());
    assert_error(
        signed(
            &mut m,
            swap_account(
                ix::withdraw_earnings(&op.pubkey(), &keys, 333_333),
                &ours,
                &theirs,
            ),
            &op,
        ),
        EscrowError::WrongTokenAccountOwner,
    );
    // The provider's own account takes it.
    signed(
        &mut m,
        ix::withdraw_earnings(&op.pubkey(), &keys, 333_333),
        &op,
    )
    .unwrap();
    assert_eq!(m.balance(&ours), 325_000);
    assert_eq!(m.balance(&theirs), 0);
}

#[test]
fn held_fees_of_two_attempts_reach_the_treasury_and_an_exhausted_lease_refunds_the_rest() {
    use job_escrow::events::JobExpired;
    let mut m = Market::with_escrow();
    let first = m.provider(1);
    let second = m.provider(1);
    let cranker = m.wallet(0);
    let s = Scenario::new(&mut m, 1, &[&first, &second], &[&cranker]);
    m.create_job(&s.client, lease_job(1, 1, 2)).unwrap();
    let mut paid = 0;
    for (attempt, p) in [&first, &second].into_iter().enumerate() {
        let op = p.keypair.insecure_clone();
        // Live in the registry when it takes the job.
        let key = op.pubkey();
        signed(
            &mut m,
            gpu_market_client::registry::heartbeat(&key, &key),
            &op,
        )
        .unwrap();
        take_and_start(&mut m, &op, &s.job);
        serve(&mut m, &op, &op.pubkey(), &s.job, 600);
        let keys = s.keys(&m, &cranker.pubkey(), &p.pubkey());
        // 600 s at 2 tokens an hour: 333_333 gross, 8_333 of it the fee, held.
        signed(
            &mut m,
            ix::withdraw_earnings(&op.pubkey(), &keys, 333_333),
            &op,
        )
        .unwrap();
        assert_eq!(m.job(&s.client.pubkey(), 1).fees_held, 8_333);
        assert_eq!(m.balance(&s.treasury), 8_333 * attempt as u64);
        m.chain.advance(HEARTBEAT_GRACE + 1).unwrap();
        let slash = m.slash_keys();
        let out = signed(&mut m, ix::expire_job(&keys, &slash), &cranker.keypair).unwrap();
        let expired = &out.events::<JobExpired>()[0];
        assert_eq!(expired.fees_released, 8_333);
        assert_eq!(expired.requeued, attempt == 0);
        assert_eq!(m.balance(&s.treasury), 8_333 * (attempt as u64 + 1));
        assert_eq!(m.balance(&m.payment_account_address(&p.pubkey())), 325_000);
        paid += 333_333;
    }
    // The second expiry exhausted the attempts: the client got back everything but the
    // two attempts' billing and their two crank tips.
    assert_eq!(
        m.balance(&s.client.tokens),
        100 * TOKEN - paid - 2 * CRANK_TIP
    );
    assert_eq!(
        m.balance(&m.payment_account_address(&cranker.pubkey())),
        2 * CRANK_TIP
    );
    s.assert_closed_and_conserved(&mut m);
}

#[test]
fn a_fully_withdrawn_lease_pays_only_its_held_fees_when_finalized() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let cranker = m.wallet(0);
    let s = Scenario::new(&mut m, 1, &[&p], &[&cranker]);
    m.create_job(&s.client, lease_job(1, 1, 1)).unwrap();
    let op = p.keypair.insecure_clone();
    take_and_start(&mut m, &op, &s.job);
    serve(&mut m, &op, &op.pubkey(), &s.job, 3_600);
    let keys = s.keys(&m, &cranker.pubkey(), &p.pubkey());
    // The whole hour, 2 tokens, withdrawn: 1.95 to the provider, the 0.05 fee held.
    signed(
        &mut m,
        ix::withdraw_earnings(&op.pubkey(), &keys, 2 * TOKEN),
        &op,
    )
    .unwrap();
    assert_eq!(m.balance(&s.treasury), 0);
    let out = signed(&mut m, ix::finalize_job(&keys), &cranker.keypair).unwrap();
    let settled = &out.events::<JobSettled>()[0];
    assert_eq!(
        (settled.to_provider, settled.fee, settled.fees_released),
        (0, 0, 50_000)
    );
    assert_eq!(m.balance(&s.treasury), 50_000);
    assert_eq!(
        m.balance(&m.payment_account_address(&p.pubkey())),
        1_950_000
    );
    assert_eq!(m.balance(&s.client.tokens), 98 * TOKEN);
    s.assert_closed_and_conserved(&mut m);
}
