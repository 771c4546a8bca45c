//! Finding 2: each attempt of a re-queued lease is billed on its own, at its provider's
//! price. (Finding 17, the heartbeat grace billed twice, is in `scenarios::expiry`.)

use gpu_market_client::{escrow as ix, registry, Chain};
use gpu_market_tests::{escrow::*, *};
use job_escrow::events::{JobExpired, JobSettled};
use provider_registry::UpdateProviderArgs;

#[test]
fn the_provider_after_a_requeue_is_paid_its_own_seconds_at_its_own_price() {
    let mut m = Market::with_escrow();
    let (p1, p2) = (m.provider(1), m.provider(1));
    let cranker = m.wallet(0);
    let s = Scenario::new(&mut m, 1, &[&p1, &p2], &[&cranker]);
    // The second node asks 2.5 tokens per GPU-hour; the first 2.
    m.send(
        registry::update_provider(
            &p2.pubkey(),
            &p2.pubkey(),
            UpdateProviderArgs {
                price_per_gpu_hour: Some(2_500_000),
                ..Default::default()
            },
        ),
        &p2.keypair,
    )
    .unwrap();
    m.create_job(&s.client, lease_job(1, 1, 2)).unwrap();

    // p1 serves half an hour, then vanishes.
    take_and_start(&mut m, &p1.keypair, &s.job);
    serve(&mut m, &p1.keypair, &p1.pubkey(), &s.job, 1_800);
    m.chain.advance(HEARTBEAT_GRACE + 1).unwrap();
    let slash = m.slash_keys();
    let keys = s.keys(&m, &cranker.pubkey(), &p1.pubkey());
    let out = signed(&mut m, ix::expire_job(&keys, &slash), &cranker.keypair).unwrap();
    let expired = &out.events::<JobExpired>()[0];
    // 1,800 s x 2 tokens / 3,600 = 1 token; fee 2.5%.
    assert_eq!((expired.to_provider, expired.fee), (975_000, 25_000));
    assert_eq!(m.job(&s.client.pubkey(), 1).max_duration, 5_400);

    // p2 serves all of the remaining 5,400 s.
    m.send(registry::heartbeat(&p2.pubkey(), &p2.pubkey()), &p2.keypair)
        .unwrap();
    take_and_start(&mut m, &p2.keypair, &s.job);
    serve(&mut m, &p2.keypair, &p2.pubkey(), &s.job, 5_400);
    let keys = s.keys(&m, &cranker.pubkey(), &p2.pubkey());
    let out = signed(&mut m, ix::finalize_job(&keys), &cranker.keypair).unwrap();
    let settled = &out.events::<JobSettled>()[0];
    // 5,400 s x 2.5 tokens / 3,600 = 3.75 tokens, none of it withheld for p1's pay.
    assert_eq!((settled.to_provider, settled.fee), (3_656_250, 93_750));
    assert_eq!(settled.billed_total, 1_000_000 + 3_750_000);

    let p1_tokens = m.payment_account(&p1.pubkey());
    let p2_tokens = m.payment_account(&p2.pubkey());
    assert_eq!(m.balance(&p1_tokens), 975_000);
    assert_eq!(m.balance(&p2_tokens), 3_656_250);
    assert_eq!(m.balance(&s.treasury), 25_000 + 93_750);
    let cranker_tokens = m.payment_account(&cranker.pubkey());
    assert_eq!(m.balance(&cranker_tokens), CRANK_TIP);
    // The client pays for 7,200 served seconds and one crank, nothing else.
    assert_eq!(
        m.balance(&s.client.tokens),
        100 * TOKEN - 4_750_000 - CRANK_TIP
    );
    s.assert_closed_and_conserved(&mut m);
}
