//! The instant batch job paid in a Token-2022 mint.

use gpu_market_client::{escrow as ix, registry, token, Chain, Signer};
use gpu_market_tests::{escrow::*, *};
use provider_registry::UpdateProviderArgs;

#[test]
fn instant_batch_job_in_a_token_2022_mint() {
    let mut m = Market::with_escrow();
    let admin = m.admin.insecure_clone();
    let mint =
        token::create_mint(&mut m.chain, &admin.pubkey(), 6, &token::TOKEN_2022_PROGRAM).unwrap();
    let mut allowed = m
        .chain
        .fetch::<ix::MarketConfig>(&gpu_market_client::pda::market_config())
        .unwrap()
        .allowed_mints;
    allowed.push(mint);
    m.update_escrow(job_escrow::UpdateConfigArgs {
        allowed_mints: Some(allowed),
        ..Default::default()
    });
    m.payment_mint = mint;
    m.payment_token_program = token::TOKEN_2022_PROGRAM;

    let p = m.provider(2);
    m.send(
        registry::update_provider(
            &p.pubkey(),
            &p.pubkey(),
            UpdateProviderArgs {
                payment_mint: Some(mint),
                ..Default::default()
            },
        ),
        &p.keypair,
    )
    .unwrap();
    let s = Scenario::new(&mut m, 1, &[&p], &[]);
    m.create_job(&s.client, batch_job(1, 2)).unwrap();
    let vault = m.chain.account(&s.vault).unwrap().unwrap();
    assert_eq!(vault.owner, token::TOKEN_2022_PROGRAM);

    let op = p.keypair.insecure_clone();
    take_and_start(&mut m, &op, &s.job);
    m.chain.advance(1_800).unwrap();
    signed(
        &mut m,
        ix::submit_result(
            &op.pubkey(),
            &op.pubkey(),
            &s.job,
            [2; 32],
            "s3://t22".into(),
        ),
        &op,
    )
    .unwrap();
    let keys = s.keys(&m, &s.client.pubkey(), &p.pubkey());
    signed(&mut m, ix::approve_result(&keys), &s.client.keypair).unwrap();

    // 2 tokens x 2 GPUs x half an hour = 2 tokens; 2.5% fee.
    let p_tokens = m.payment_account(&p.pubkey());
    assert_eq!(m.balance(&p_tokens), 1_950_000);
    assert_eq!(m.balance(&s.treasury), 50_000);
    assert_eq!(m.balance(&s.client.tokens), 98 * TOKEN);
    s.assert_closed_and_conserved(&mut m);
}
