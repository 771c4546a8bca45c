//! An instant batch job from posting to settlement, paid to the base unit.

use gpu_market_client::{escrow as ix, pda, Chain, Signer};
use gpu_market_tests::{escrow::*, *};
use job_escrow::events::JobSettled;

#[test]
fn instant_batch_job_settles_exactly() {
    let mut m = Market::with_escrow();
    let provider = m.provider(4);
    let provider_tokens = m.payment_account(&provider.pubkey());
    let client = m.client(100 * TOKEN);
    let cranker = m.wallet(0);
    let treasury = m.payment_account(&treasury_wallet(&m));
    let job = pda::job(&client.pubkey(), 1);
    let vault = pda::job_vault(&job);
    let parties = [client.tokens, provider_tokens, treasury, vault];
    let supply = m.total(&parties);

    m.create_job(&client, batch_job(1, 4)).unwrap();
    // 3 tokens x 4 GPUs x 2 hours, plus the crank tip.
    let deposit = 24 * TOKEN + TIPS;
    assert_eq!(m.balance(&vault), deposit);
    assert_eq!(m.balance(&client.tokens), 100 * TOKEN - deposit);

    let op = provider.keypair.insecure_clone();
    take_and_start(&mut m, &op, &job);
    assert_eq!(m.provider_account(&provider.pubkey()).gpus_in_use, 4);
    m.chain.advance(1_800).unwrap();
    signed(
        &mut m,
        ix::heartbeat_job(&op.pubkey(), &op.pubkey(), &job),
        &op,
    )
    .unwrap();
    m.chain.advance(1_801).unwrap();
    signed(
        &mut m,
        ix::submit_result(
            &op.pubkey(),
            &op.pubkey(),
            &job,
            [9; 32],
            "s3://out/1".into(),
        ),
        &op,
    )
    .unwrap();

    let keys = m.settle_keys(&cranker.pubkey(), &client, 1, &provider.pubkey());
    m.chain.advance(CHALLENGE_WINDOW - 1).unwrap();
    assert_error(
        signed(&mut m, ix::finalize_job(&keys), &cranker.keypair),
        job_escrow::error::EscrowError::ChallengeWindowOpen,
    );
    m.chain.advance(1).unwrap();
    let out = signed(&mut m, ix::finalize_job(&keys), &cranker.keypair).unwrap();

    // 2 tokens/GPU-hour x 4 GPUs x 3601 s = 8_002_222.2 -> 8_002_222 (rounded down).
    let cost = 8_002_222;
    let fee = 200_055; // 2.5%, rounded down
    let settled = &out.events::<JobSettled>()[0];
    assert_eq!((settled.to_provider, settled.fee), (cost - fee, fee));
    assert_eq!(settled.refund, deposit - cost);
    assert_eq!(settled.gpu_seconds, 4 * 3_601);
    assert_eq!(m.balance(&provider_tokens), cost - fee);
    assert_eq!(m.balance(&treasury), fee);
    assert_eq!(m.balance(&client.tokens), 100 * TOKEN - cost);

    // Nothing left behind, nothing created or lost.
    assert!(!m.chain.exists(&job).unwrap());
    assert!(!m.chain.exists(&vault).unwrap());
    assert_eq!(m.total(&parties), supply);
    let p = m.provider_account(&provider.pubkey());
    assert_eq!(p.gpus_in_use, 0);
    assert_eq!(p.reputation.jobs_completed, 1);
    assert_eq!(p.reputation.gpu_seconds_served, 4 * 3_601);
}
