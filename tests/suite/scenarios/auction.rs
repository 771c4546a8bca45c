//! A reverse auction with three bidders.

use gpu_market_client::{
    escrow::{self as ix, JobMode, JobStatus},
    registry, Chain, Signer,
};
use gpu_market_tests::{escrow::*, *};
use job_escrow::error::EscrowError;

#[test]
fn the_lowest_earliest_bid_wins_and_is_paid() {
    let mut m = Market::with_escrow();
    let (p1, p2, p3, p4) = (m.provider(1), m.provider(1), m.provider(1), m.provider(1));
    let s = Scenario::new(&mut m, 1, &[&p1, &p2, &p3], &[]);
    let mut args = batch_job(1, 1);
    args.mode = JobMode::Auction;
    m.create_job(&s.client, args).unwrap();
    let bid = |m: &mut Market, p: &Wallet, price: u64| {
        signed(
            m,
            ix::place_bid(&p.pubkey(), &p.pubkey(), &s.job, price),
            &p.keypair,
        )
    };

    bid(&mut m, &p1, 2_500_000).unwrap();
    bid(&mut m, &p2, 2_000_000).unwrap();
    // An equal later bid does not displace the earlier one.
    assert_error(bid(&mut m, &p3, 2_000_000), EscrowError::BidNotLower);
    // Above the client's max price.
    assert_error(bid(&mut m, &p3, 3 * TOKEN + 1), EscrowError::PriceAboveMax);
    // An ineligible (paused) provider.
    m.send(
        registry::pause_provider(&p4.pubkey(), &p4.pubkey()),
        &p4.keypair,
    )
    .unwrap();
    assert_error(bid(&mut m, &p4, TOKEN), EscrowError::ProviderPaused);
    // Instant acceptance does not apply to auctions.
    assert_error(
        signed(
            &mut m,
            ix::accept_job(&p3.pubkey(), &p3.pubkey(), &s.job),
            &p3.keypair,
        ),
        EscrowError::NotInstantMode,
    );

    let anyone = m.wallet(0);
    assert_error(
        signed(
            &mut m,
            ix::close_auction(&anyone.pubkey(), &s.job, &p2.pubkey()),
            &anyone.keypair,
        ),
        EscrowError::BidWindowOpen,
    );
    m.chain.advance(BID_WINDOW).unwrap();
    assert_error(bid(&mut m, &p3, TOKEN), EscrowError::BidWindowClosed);
    // The winner is still live when the auction closes.
    m.send(registry::heartbeat(&p2.pubkey(), &p2.pubkey()), &p2.keypair)
        .unwrap();
    signed(
        &mut m,
        ix::close_auction(&anyone.pubkey(), &s.job, &p2.pubkey()),
        &anyone.keypair,
    )
    .unwrap();
    let job = m.job(&s.client.pubkey(), 1);
    assert_eq!(job.status, JobStatus::Assigned);
    let a = job.assignment.unwrap();
    assert_eq!(
        (a.authority, a.price_per_gpu_hour),
        (p2.pubkey(), 2_000_000)
    );

    let op = p2.keypair.insecure_clone();
    signed(
        &mut m,
        ix::start_job(&op.pubkey(), &op.pubkey(), &s.job),
        &op,
    )
    .unwrap();
    m.chain.advance(3_600).unwrap();
    signed(
        &mut m,
        ix::submit_result(&op.pubkey(), &op.pubkey(), &s.job, [3; 32], "s3://a".into()),
        &op,
    )
    .unwrap();
    let keys = s.keys(&m, &s.client.pubkey(), &p2.pubkey());
    signed(&mut m, ix::approve_result(&keys), &s.client.keypair).unwrap();

    let p2_tokens = m.payment_account(&p2.pubkey());
    assert_eq!(m.balance(&p2_tokens), 1_950_000);
    assert_eq!(m.balance(&s.treasury), 50_000);
    s.assert_closed_and_conserved(&mut m);
}
