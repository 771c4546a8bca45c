//! The emission schedule end to end: pro-rata splits, absences, decay and the cap.

use gpu_market_client::{pda, rewards::Epoch, Chain};
use gpu_market_tests::{rewards::*, *};
use proptest::prelude::*;
use reward_emission::events::{EpochOpened, RewardsClaimed};

/// Claims what `p` has; an empty claim is fine, any other failure is not.
fn claim_if_any(m: &mut Market, p: &Wallet) {
    if let Err(err) = m.claim(p) {
        assert_eq!(
            err.custom_code(),
            Some(u32::from(
                reward_emission::error::EmissionError::NothingToClaim
            )),
            "{err}"
        );
    }
}

fn claimed(m: &mut Market, p: &Wallet) -> u64 {
    m.claim(p).unwrap().events::<RewardsClaimed>()[0].amount
}

#[test]
fn weights_one_to_three_split_one_to_three() {
    let mut m = Market::with_rewards(HARD_CAP);
    let (small, large) = (m.provider(1), m.provider(3));
    // Attested, each GPU weighs its benchmark.
    m.attest(&small.pubkey());
    m.attest(&large.pubkey());
    m.record_uptime(&small).unwrap();
    m.record_uptime(&large).unwrap();
    m.go_to_epoch(1);
    // 1_000_000_003 split 1:3, each share rounded down.
    assert_eq!(claimed(&mut m, &small), 250_000_000);
    assert_eq!(claimed(&mut m, &large), 750_000_002);
    assert!(m.reward_supply() <= FIRST_EPOCH_EMISSION);
}

#[test]
fn an_absent_epoch_earns_nothing() {
    let mut m = Market::with_rewards(HARD_CAP);
    let (p, q) = (m.provider(1), m.provider(1));
    for epoch in 1..=3 {
        m.go_to_epoch(epoch);
        m.record_uptime(&q).unwrap();
        if epoch != 2 {
            m.record_uptime(&p).unwrap();
        }
    }
    m.go_to_epoch(4);
    // Epoch 1 shared with q, epoch 2 missed, epoch 3 shared with q (one decay period on).
    let expected = scheduled_emission(1) / 2 + scheduled_emission(3) / 2;
    assert_eq!(claimed(&mut m, &p), expected);
    let q_expected = scheduled_emission(1) / 2 + scheduled_emission(2) + scheduled_emission(3) / 2;
    assert_eq!(claimed(&mut m, &q), q_expected);
    // Epoch 0 had no records: its account was never opened, nothing allocated for it.
    assert!(!m.chain.exists(&pda::reward_epoch(0)).unwrap());
}

#[test]
fn emission_decays_on_schedule() {
    let mut m = Market::with_rewards(HARD_CAP);
    let p = m.provider(1);
    for epoch in [0, 1, 2, 7, 20] {
        m.go_to_epoch(epoch);
        let out = m.record_uptime(&p).unwrap();
        let opened = &out.events::<EpochOpened>()[0];
        assert_eq!(opened.emission, scheduled_emission(epoch), "epoch {epoch}");
    }
    // After 10 periods of 10%: 1_000_000_003 x 0.9^10 = 348_678_441.05, rounded down.
    assert_eq!(scheduled_emission(20), 348_678_441);
}

/// Finding 15: opening an epoch after a gap of a million decay periods is one closed-form
/// computation, not a million steps.
#[test]
fn an_epoch_after_a_million_idle_periods_opens() {
    let mut m = Market::with_rewards(HARD_CAP);
    let p = m.provider(1);
    m.record_uptime(&p).unwrap();
    let epoch = 1_000_000 * DECAY_PERIOD_EPOCHS;
    m.go_to_epoch(epoch);
    m.send(
        gpu_market_client::registry::heartbeat(&p.pubkey(), &p.pubkey()),
        &p.keypair,
    )
    .unwrap();
    let out = m.record_uptime(&p).unwrap();
    let opened = &out.events::<EpochOpened>()[0];
    assert_eq!((opened.epoch, opened.emission), (epoch, 0));
    // The first epoch's share is still claimable.
    assert_eq!(claimed(&mut m, &p), FIRST_EPOCH_EMISSION);
}

#[derive(Debug, Clone)]
struct Plan {
    gpus: Vec<u16>,
    /// Per epoch: which providers record and which claim.
    epochs: Vec<(Vec<bool>, Vec<bool>)>,
    cap: u64,
}

fn plan() -> impl Strategy<Value = Plan> {
    (1..4usize).prop_flat_map(|n| {
        (
            proptest::collection::vec(1..5u16, n),
            proptest::collection::vec(
                (
                    proptest::collection::vec(any::<bool>(), n),
                    proptest::collection::vec(any::<bool>(), n),
                ),
                1..6,
            ),
            (FIRST_EPOCH_EMISSION / 2)..(4 * FIRST_EPOCH_EMISSION),
        )
            .prop_map(|(gpus, epochs, cap)| Plan { gpus, epochs, cap })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Whatever providers, weights and claim orders: the supply never passes the cap, the
    /// epochs' emissions add up to the schedule until the cap cuts it, and once everything
    /// is settled and claimed the supply is that total less at most one base unit of
    /// rounding per provider and epoch.
    #[test]
    fn minting_never_passes_the_cap(plan in plan()) {
        let mut m = Market::with_rewards(plan.cap);
        let providers: Vec<Wallet> = plan.gpus.iter().map(|g| m.provider(*g)).collect();
        let mut opened = Vec::new();
        for (epoch, (records, claims)) in plan.epochs.iter().enumerate() {
            let epoch = epoch as u64;
            m.go_to_epoch(epoch);
            for (p, record) in providers.iter().zip(records) {
                if *record {
                    m.record_uptime(p).unwrap();
                }
            }
            if records.iter().any(|r| *r) {
                opened.push(epoch);
            }
            for (p, claim) in providers.iter().zip(claims) {
                if *claim && m.provider_rewards(&p.pubkey()).is_some() {
                    claim_if_any(&mut m, p);
                }
                prop_assert!(m.reward_supply() <= plan.cap);
            }
        }
        // Settle and claim everything.
        m.go_to_epoch(plan.epochs.len() as u64);
        for p in &providers {
            if m.provider_rewards(&p.pubkey()).is_some() {
                claim_if_any(&mut m, p);
            }
        }
        let emissions: Vec<u64> = opened
            .iter()
            .map(|e| m.chain.fetch::<Epoch>(&pda::reward_epoch(*e)).unwrap().emission)
            .collect();
        let allocated: u64 = emissions.iter().sum();
        let scheduled: u64 = opened.iter().map(|e| scheduled_emission(*e)).sum();
        prop_assert_eq!(allocated, scheduled.min(plan.cap));
        prop_assert_eq!(m.emission_config().total_allocated, allocated);
        let supply = m.reward_supply();
        prop_assert!(supply <= allocated);
        let dust = (providers.len() * opened.len()) as u64;
        prop_assert!(allocated - supply <= dust, "{} unminted", allocated - supply);
        prop_assert_eq!(m.emission_config().total_minted, supply);
    }
}
