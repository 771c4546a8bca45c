//! The emission schedule end to end: pro-rata splits, absences, decay and the cap.

use gpu_market_client::{
    pda,
    rewards::{self as ix, Epoch, UptimeShard, SHARDS},
    Chain, Signer,
};
use gpu_market_tests::{rewards::*, *};
use proptest::prelude::*;
use reward_emission::events::{EpochFinalized, RewardsClaimed};
use std::collections::BTreeMap;

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
    m.close_epoch(0);
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
        if epoch > 1 {
            m.close_epoch(epoch - 1);
        }
        m.record_uptime(&q).unwrap();
        if epoch != 2 {
            m.record_uptime(&p).unwrap();
        }
    }
    m.close_epoch(3);
    // Epoch 1 shared with q, epoch 2 missed, epoch 3 shared with q (one decay period on).
    let expected = scheduled_emission(1) / 2 + scheduled_emission(3) / 2;
    assert_eq!(claimed(&mut m, &p), expected);
    let q_expected = scheduled_emission(1) / 2 + scheduled_emission(2) + scheduled_emission(3) / 2;
    assert_eq!(claimed(&mut m, &q), q_expected);
    // Epoch 0 had no records: it was never finalized, nothing allocated for it.
    assert!(!m.chain.exists(&pda::reward_epoch(0)).unwrap());
}

#[test]
fn emission_decays_on_schedule() {
    let mut m = Market::with_rewards(HARD_CAP);
    let p = m.provider(1);
    for epoch in [0, 1, 2, 7, 20] {
        m.go_to_epoch(epoch);
        m.record_uptime(&p).unwrap();
        let (_, finalized) = m.close_epoch(epoch);
        assert_eq!(finalized.finalized, vec![epoch]);
        let account: Epoch = m.chain.fetch(&pda::reward_epoch(epoch)).unwrap();
        assert_eq!(account.emission, scheduled_emission(epoch), "epoch {epoch}");
    }
    // After 10 periods of 10%: 1_000_000_003 x 0.9^10 = 348_678_441.05, rounded down.
    assert_eq!(scheduled_emission(20), 348_678_441);
}

/// Finding 15: finalizing an epoch after a gap of a million decay periods is one
/// closed-form computation, not a million steps.
#[test]
fn an_epoch_after_a_million_idle_periods_is_finalized() {
    let mut m = Market::with_rewards(HARD_CAP);
    let p = m.provider(1);
    m.record_uptime(&p).unwrap();
    m.close_epoch(0);
    let epoch = 1_000_000 * DECAY_PERIOD_EPOCHS;
    m.go_to_epoch(epoch);
    m.send(
        gpu_market_client::registry::heartbeat(&p.pubkey(), &p.pubkey()),
        &p.keypair,
    )
    .unwrap();
    m.record_uptime(&p).unwrap();
    m.go_to_epoch(epoch + 1);
    m.crank();
    m.go_to_fold_close(epoch);
    let payer = m.chain.payer().insecure_clone();
    let out = m
        .send(ix::finalize_epoch(&payer.pubkey(), epoch), &payer)
        .unwrap();
    let finalized = &out.events::<EpochFinalized>()[0];
    assert_eq!((finalized.epoch, finalized.emission), (epoch, 0));
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
            if epoch > 0 {
                m.close_epoch(epoch - 1);
            }
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
        m.close_epoch(plan.epochs.len() as u64 - 1);
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

#[derive(Debug, Clone)]
struct Provider {
    gpus: u16,
    attested: bool,
    records: u8,
    folded: bool,
}

#[derive(Debug, Clone)]
struct FoldPlan {
    providers: Vec<Provider>,
    /// Whether each shard's fold transaction is sent twice.
    twice: bool,
    /// Fold the records one transaction each rather than all of a shard at once.
    one_by_one: bool,
}

fn fold_plan() -> impl Strategy<Value = FoldPlan> {
    (
        proptest::collection::vec(
            (
                1..4u16,
                any::<bool>(),
                1..4u8,
                proptest::bool::weighted(0.8),
            )
                .prop_map(|(gpus, attested, records, folded)| Provider {
                    gpus,
                    attested,
                    records,
                    folded,
                }),
            2..9,
        ),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(providers, twice, one_by_one)| FoldPlan {
            providers,
            twice,
            one_by_one,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// Whatever the providers, their weights, how their records are batched into folds and
    /// how often a fold is repeated: the shards hold exactly the weight of the records
    /// folded, each counted once; the finalized total is their sum; each folded provider
    /// is paid exactly `weight * emission / total` rounded down; a record never folded is
    /// paid nothing; and the supply stays within the epoch's emission.
    #[test]
    fn sharded_sums_are_exact(plan in fold_plan()) {
        let mut m = Market::with_rewards(HARD_CAP);
        let wallets: Vec<Wallet> = plan.providers.iter().map(|p| m.provider(p.gpus)).collect();
        for (wallet, p) in wallets.iter().zip(&plan.providers) {
            if p.attested {
                m.attest(&wallet.pubkey());
            }
        }
        let mut weights = Vec::new();
        for round in 0..plan.providers.iter().map(|p| p.records).max().unwrap_or(0) {
            for (wallet, p) in wallets.iter().zip(&plan.providers) {
                if round < p.records {
                    m.record_uptime(wallet).unwrap();
                }
            }
            m.chain.advance(HEARTBEAT_INTERVAL).unwrap();
        }
        for (wallet, p) in wallets.iter().zip(&plan.providers) {
            let weight = if p.attested { u64::from(p.gpus) * 1_000 } else { 1 };
            weights.push(weight * u64::from(p.records));
            let record = m.provider_rewards(&wallet.pubkey()).unwrap();
            prop_assert_eq!(record.latest.weight, *weights.last().unwrap());
        }

        // Fold the chosen records, shard by shard.
        m.go_to_epoch(1);
        let payer = m.chain.payer().insecure_clone();
        let mut by_shard: BTreeMap<u8, Vec<gpu_market_client::Pubkey>> = BTreeMap::new();
        for (wallet, p) in wallets.iter().zip(&plan.providers) {
            if p.folded {
                let provider = pda::provider(&wallet.pubkey());
                by_shard
                    .entry(ix::shard_of(&provider))
                    .or_default()
                    .push(pda::provider_rewards(&provider));
            }
        }
        for (shard, records) in &by_shard {
            let batches: Vec<Vec<_>> = if plan.one_by_one {
                records.iter().map(|r| vec![*r]).collect()
            } else {
                vec![records.clone()]
            };
            for batch in batches {
                m.send(ix::fold_uptime(&payer.pubkey(), 0, *shard, &batch), &payer)
                    .unwrap();
                if plan.twice {
                    // Again, from someone else: nothing is counted twice.
                    let again = &wallets[0];
                    let fold = ix::fold_uptime(&again.pubkey(), 0, *shard, &batch);
                    m.send(fold, &again.keypair).unwrap();
                }
            }
        }
        m.go_to_fold_close(0);
        m.crank();

        let folded_total: u64 = weights
            .iter()
            .zip(&plan.providers)
            .filter(|(_, p)| p.folded)
            .map(|(w, _)| w)
            .sum();
        let (mut shard_total, mut shard_providers) = (0u128, 0u64);
        for index in 0..SHARDS {
            let address = pda::uptime_shard(index);
            if m.chain.exists(&address).unwrap() {
                let shard: UptimeShard = m.chain.fetch(&address).unwrap();
                prop_assert!(shard.tallied);
                prop_assert_eq!(shard.epoch, 0);
                shard_total += shard.weight;
                shard_providers += shard.providers;
            }
        }
        prop_assert_eq!(shard_total, u128::from(folded_total));
        prop_assert_eq!(
            shard_providers,
            plan.providers.iter().filter(|p| p.folded).count() as u64
        );
        let folded_any = folded_total > 0;
        if folded_any {
            let epoch: Epoch = m.chain.fetch(&pda::reward_epoch(0)).unwrap();
            prop_assert_eq!(epoch.total_weight, u128::from(folded_total));
            prop_assert_eq!(epoch.emission, FIRST_EPOCH_EMISSION);
        }
        for ((wallet, p), weight) in wallets.iter().zip(&plan.providers).zip(&weights) {
            if p.folded {
                let due = u128::from(*weight) * u128::from(FIRST_EPOCH_EMISSION)
                    / u128::from(folded_total);
                prop_assert_eq!(u128::from(claimed(&mut m, wallet)), due);
            } else {
                claim_if_any(&mut m, wallet);
                let destination = m.reward_account(&wallet.pubkey());
                prop_assert_eq!(m.balance(&destination), 0);
            }
        }
        prop_assert!(m.reward_supply() <= FIRST_EPOCH_EMISSION);
    }
}
