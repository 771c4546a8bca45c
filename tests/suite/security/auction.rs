//! Finding 7: an auction closes only on a winner that can still take the job; otherwise it
//! re-opens and never sticks. Finding 11: a zero bid is refused.

use gpu_market_client::{
    escrow::{self as ix, JobMode, JobStatus},
    registry, Chain,
};
use gpu_market_tests::{escrow::*, *};
use job_escrow::{
    error::EscrowError,
    events::{AuctionReopened, JobAssigned},
};

fn auction(m: &mut Market, s: &Scenario) {
    let mut args = batch_job(1, 1);
    args.mode = JobMode::Auction;
    m.create_job(&s.client, args).unwrap();
}

fn bid(m: &mut Market, p: &Wallet, job: &gpu_market_client::Pubkey, price: u64) {
    signed(
        m,
        ix::place_bid(&p.pubkey(), &p.pubkey(), job, price),
        &p.keypair,
    )
    .unwrap();
}

fn close(
    m: &mut Market,
    job: &gpu_market_client::Pubkey,
    winner: &Wallet,
) -> gpu_market_client::TxOutcome {
    let anyone = m.wallet(0);
    signed(
        m,
        ix::close_auction(&anyone.pubkey(), job, &winner.pubkey()),
        &anyone.keypair,
    )
    .unwrap()
}

#[test]
fn a_winner_that_paused_reopens_the_auction() {
    let mut m = Market::with_escrow();
    let (cheap, other) = (m.provider(1), m.provider(1));
    let s = Scenario::new(&mut m, 1, &[&cheap, &other], &[]);
    auction(&mut m, &s);
    bid(&mut m, &cheap, &s.job, TOKEN);
    m.send(
        registry::pause_provider(&cheap.pubkey(), &cheap.pubkey()),
        &cheap.keypair,
    )
    .unwrap();
    m.chain.advance(BID_WINDOW).unwrap();
    let out = close(&mut m, &s.job, &cheap);
    let reopened = &out.events::<AuctionReopened>()[0];
    assert_eq!(reopened.error_code, u32::from(EscrowError::ProviderPaused));
    let job = m.job(&s.client.pubkey(), 1);
    let now = m.chain.now().unwrap();
    assert_eq!(
        (job.status, job.best_bid, job.bid_deadline),
        (JobStatus::Open, None, now + BID_WINDOW)
    );
    // Another provider bids in the new window and wins.
    m.send(
        registry::heartbeat(&other.pubkey(), &other.pubkey()),
        &other.keypair,
    )
    .unwrap();
    bid(&mut m, &other, &s.job, 2 * TOKEN);
    m.chain.advance(BID_WINDOW).unwrap();
    m.send(
        registry::heartbeat(&other.pubkey(), &other.pubkey()),
        &other.keypair,
    )
    .unwrap();
    let out = close(&mut m, &s.job, &other);
    assert_eq!(out.events::<JobAssigned>()[0].price_per_gpu_hour, 2 * TOKEN);
    let node = m.provider_account(&other.pubkey());
    assert_eq!((node.gpus_in_use, node.jobs_held), (1, 1));
}

#[test]
fn a_winner_that_retired_reopens_the_auction() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let s = Scenario::new(&mut m, 1, &[&p], &[]);
    auction(&mut m, &s);
    bid(&mut m, &p, &s.job, TOKEN);
    // Bidding holds nothing, so the node can exit and retire before the auction closes.
    m.send(registry::begin_exit(&p.pubkey()), &p.keypair)
        .unwrap();
    m.chain.advance(EXIT_NOTICE).unwrap();
    m.send(registry::retire_provider(&p.pubkey()), &p.keypair)
        .unwrap();
    let out = close(&mut m, &s.job, &p);
    assert_eq!(
        out.events::<AuctionReopened>()[0].error_code,
        u32::from(EscrowError::ProviderRetired)
    );
    // The job never sticks: with no bids in the new window anyone may reclaim it.
    m.chain.advance(BID_WINDOW).unwrap();
    let cranker = m.wallet(0);
    let (mint, program) = (m.payment_mint, m.payment_token_program);
    m.payment_account(&cranker.pubkey());
    signed(
        &mut m,
        ix::reclaim_job(&cranker.pubkey(), &s.client.pubkey(), 1, &mint, &program),
        &cranker.keypair,
    )
    .unwrap();
    assert_eq!(m.balance(&s.client.tokens), 100 * TOKEN - CRANK_TIP);
}

#[test]
fn a_winner_that_lost_its_stake_reopens_the_auction() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let s = Scenario::new(&mut m, 1, &[&p], &[]);
    auction(&mut m, &s);
    bid(&mut m, &p, &s.job, TOKEN);
    m.send(
        gpu_market_client::staking::request_unstake(&p.pubkey(), MIN_STAKE_PER_GPU),
        &p.keypair,
    )
    .unwrap();
    m.chain.advance(BID_WINDOW).unwrap();
    m.send(registry::heartbeat(&p.pubkey(), &p.pubkey()), &p.keypair)
        .unwrap();
    let out = close(&mut m, &s.job, &p);
    assert_eq!(
        out.events::<AuctionReopened>()[0].error_code,
        u32::from(EscrowError::ProviderUnderStaked)
    );
}

#[test]
fn the_winners_accounts_must_be_the_bidders() {
    let mut m = Market::with_escrow();
    let (p, other) = (m.provider(1), m.provider(1));
    let s = Scenario::new(&mut m, 1, &[&p], &[]);
    auction(&mut m, &s);
    bid(&mut m, &p, &s.job, TOKEN);
    m.chain.advance(BID_WINDOW).unwrap();
    let anyone = m.wallet(0);
    assert_error(
        signed(
            &mut m,
            ix::close_auction(&anyone.pubkey(), &s.job, &other.pubkey()),
            &anyone.keypair,
        ),
        EscrowError::WrongProvider,
    );
}

#[test]
fn a_zero_bid_is_refused() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let s = Scenario::new(&mut m, 1, &[&p], &[]);
    auction(&mut m, &s);
    assert_error(
        signed(
            &mut m,
            ix::place_bid(&p.pubkey(), &p.pubkey(), &s.job, 0),
            &p.keypair,
        ),
        EscrowError::ZeroBid,
    );
}

/// One provider cannot keep an auction from ever being assigned by winning and then
/// making itself ineligible: it may not bid again, and after `MAX_REFUSED_BIDDERS`
/// refused winners the job stops taking bids and can be reclaimed at once.
#[test]
fn refused_winners_cannot_bid_again_and_the_auction_ends() {
    let mut m = Market::with_escrow();
    let bidders: Vec<Wallet> = (0..4).map(|_| m.provider(1)).collect();
    let s = Scenario::new(&mut m, 1, &[], &[]);
    auction(&mut m, &s);
    for (i, p) in bidders.iter().enumerate() {
        m.send(registry::heartbeat(&p.pubkey(), &p.pubkey()), &p.keypair)
            .unwrap();
        bid(&mut m, p, &s.job, 1);
        m.send(
            registry::pause_provider(&p.pubkey(), &p.pubkey()),
            &p.keypair,
        )
        .unwrap();
        m.chain.advance(BID_WINDOW).unwrap();
        close(&mut m, &s.job, p);
        let job = m.job(&s.client.pubkey(), 1);
        assert_eq!(job.refused_bidders.len(), i + 1);
        if i == 0 {
            // The refused winner is barred from this job.
            m.send(
                registry::resume_provider(&p.pubkey(), &p.pubkey()),
                &p.keypair,
            )
            .unwrap();
            m.send(registry::heartbeat(&p.pubkey(), &p.pubkey()), &p.keypair)
                .unwrap();
            assert_error(
                signed(
                    &mut m,
                    ix::place_bid(&p.pubkey(), &p.pubkey(), &s.job, 1),
                    &p.keypair,
                ),
                EscrowError::BidderRefused,
            );
        }
    }
    // Four refusals: no more bids, and the job is reclaimable now.
    let newcomer = m.provider(1);
    assert_error(
        signed(
            &mut m,
            ix::place_bid(&newcomer.pubkey(), &newcomer.pubkey(), &s.job, TOKEN),
            &newcomer.keypair,
        ),
        EscrowError::AuctionExhausted,
    );
    let cranker = m.wallet(0);
    m.payment_account(&cranker.pubkey());
    let (mint, program) = (m.payment_mint, m.payment_token_program);
    signed(
        &mut m,
        ix::reclaim_job(&cranker.pubkey(), &s.client.pubkey(), 1, &mint, &program),
        &cranker.keypair,
    )
    .unwrap();
    // Nobody profits from an auction run into the ground: no tip, everything back.
    assert_eq!(m.balance(&s.client.tokens), 100 * TOKEN);
}
