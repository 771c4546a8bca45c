use anchor_lang::error::ErrorCode as AnchorError;
use gpu_market_client::{pda, registry, rewards as ix, rewards::Epoch, staking, Chain, Pubkey};
use gpu_market_tests::{rewards::*, *};
use reward_emission::{error::EmissionError, events::UptimeRecorded};
use std::collections::BTreeSet;

#[test]
fn a_record_writes_only_the_providers_own_record() {
    let mut m = Market::with_rewards(HARD_CAP);
    let p = m.provider(2);
    let out = m.record_uptime(&p).unwrap();
    let recorded = &out.events::<UptimeRecorded>()[0];
    // Weight 1: neither the declared 2 GPUs nor the benchmark count before an attestation.
    assert_eq!((recorded.epoch, recorded.weight), (0, 1));
    let rewards = m.provider_rewards(&p.pubkey()).unwrap();
    assert_eq!(
        (
            rewards.latest.epoch,
            rewards.latest.weight,
            rewards.latest.folded
        ),
        (0, 1, false)
    );
    assert!(rewards.earlier.is_empty());
    // Nothing shared is written: no epoch account, nothing allocated yet.
    assert!(!m.chain.exists(&pda::reward_epoch(0)).unwrap());
    assert_eq!(m.emission_config().total_allocated, 0);
    // The only accounts the instruction may write: the operator (it pays for the record
    // the first time) and the provider's own record, even when it settles two epochs.
    let settling = ix::record_uptime(&p.pubkey(), &p.pubkey(), 5, &[3, 4]);
    let writable: BTreeSet<Pubkey> = settling
        .accounts
        .iter()
        .filter(|a| a.is_writable)
        .map(|a| a.pubkey)
        .collect();
    let own = pda::provider_rewards(&pda::provider(&p.pubkey()));
    assert_eq!(writable, BTreeSet::from([p.pubkey(), own]));

    // One record per record interval.
    m.chain.advance(HEARTBEAT_INTERVAL - 1).unwrap();
    assert_error(m.record_uptime(&p), EmissionError::RecordedTooSoon);
    m.chain.advance(1).unwrap();
    m.record_uptime(&p).unwrap();
    assert_eq!(m.provider_rewards(&p.pubkey()).unwrap().latest.weight, 2);
}

#[test]
fn an_attested_benchmark_scales_the_weight() {
    let mut m = Market::with_rewards(HARD_CAP);
    let p = m.provider(2);
    let auditor = m.auditor.insecure_clone();
    let node = m.provider_account(&p.pubkey());
    let hash = registry::spec_hash(&node.hardware, node.benchmark_score);
    let attest = registry::attest_provider(
        &gpu_market_client::Signer::pubkey(&auditor),
        &p.pubkey(),
        hash,
    );
    m.send(attest, &auditor).unwrap();
    let out = m.record_uptime(&p).unwrap();
    // 2 GPUs x attested benchmark 1000.
    assert_eq!(out.events::<UptimeRecorded>()[0].weight, 2_000);
}

/// Finding 18: a node that inflates its declared GPU count gains nothing without an
/// attestation.
#[test]
fn an_unattested_node_weighs_one_gpu_whatever_it_declares() {
    let mut m = Market::with_rewards(HARD_CAP);
    let (small, large) = (m.provider(1), m.provider(8));
    let a = m.record_uptime(&small).unwrap();
    let b = m.record_uptime(&large).unwrap();
    assert_eq!(a.events::<UptimeRecorded>()[0].weight, 1);
    assert_eq!(b.events::<UptimeRecorded>()[0].weight, 1);
}

/// Finding 9: an attestation counts only while its auditor is configured, and a score
/// above the ceiling counts as the ceiling.
#[test]
fn an_attestation_outlives_neither_its_auditor_nor_the_ceiling() {
    let mut m = Market::with_rewards(HARD_CAP);
    let p = m.provider(2);
    m.attest(&p.pubkey());
    // The registry lowers the ceiling under the attested score of 1,000.
    m.update_registry(provider_registry::UpdateConfigArgs {
        max_benchmark_score: Some(400),
        ..Default::default()
    });
    let out = m.record_uptime(&p).unwrap();
    assert_eq!(out.events::<UptimeRecorded>()[0].weight, 2 * 400);
    // The auditor is removed: the attestation no longer counts.
    m.update_registry(provider_registry::UpdateConfigArgs {
        auditors: Some(vec![]),
        ..Default::default()
    });
    let out = m.record_uptime(&p).unwrap();
    assert_eq!(out.events::<UptimeRecorded>()[0].weight, 1);
}

#[test]
fn paused_exiting_and_under_staked_providers_earn_nothing() {
    let mut m = Market::with_rewards(HARD_CAP);
    let paused = m.provider(1);
    m.send(
        registry::pause_provider(&paused.pubkey(), &paused.pubkey()),
        &paused.keypair,
    )
    .unwrap();
    assert_error(m.record_uptime(&paused), EmissionError::ProviderNotActive);

    let exiting = m.provider(1);
    m.send(registry::begin_exit(&exiting.pubkey()), &exiting.keypair)
        .unwrap();
    assert_error(m.record_uptime(&exiting), EmissionError::ProviderNotActive);

    let under = m.provider(1);
    m.send(staking::request_unstake(&under.pubkey(), 1), &under.keypair)
        .unwrap();
    assert_error(m.record_uptime(&under), EmissionError::UnderStaked);
}

#[test]
fn only_the_operator_records() {
    let mut m = Market::with_rewards(HARD_CAP);
    let (authority, _operator) = m.provider_with_operator(1);
    let epoch = m.current_epoch();
    // The cold wallet is not the node's operator.
    assert_error(
        m.send(
            ix::record_uptime(&authority.pubkey(), &authority.pubkey(), epoch, &[]),
            &authority.keypair,
        ),
        EmissionError::NotOperator,
    );
}

#[test]
fn a_record_for_another_epoch_is_refused() {
    let mut m = Market::with_rewards(HARD_CAP);
    let p = m.provider(1);
    assert_error(
        m.send(
            ix::record_uptime(&p.pubkey(), &p.pubkey(), 1, &[]),
            &p.keypair,
        ),
        EmissionError::WrongEpoch,
    );
}

/// A record holds two epochs: a third needs the oldest settled against its finalized
/// total first, and both settle in one record.
#[test]
fn a_record_makes_room_for_a_new_epoch_by_settling_the_oldest() {
    let mut m = Market::with_rewards(HARD_CAP);
    let (p, q) = (m.provider(1), m.provider(1));
    m.record_uptime(&p).unwrap();
    m.record_uptime(&q).unwrap();
    m.close_epoch(0);
    // Epoch 0 moves to the earlier slot without being settled.
    m.send(
        ix::record_uptime(&p.pubkey(), &p.pubkey(), 1, &[]),
        &p.keypair,
    )
    .unwrap();
    m.close_epoch(1);
    m.go_to_epoch(2);
    assert_error(
        m.send(
            ix::record_uptime(&p.pubkey(), &p.pubkey(), 2, &[]),
            &p.keypair,
        ),
        EmissionError::MissingEpoch,
    );
    // The same epoch twice: the second finds nothing left to settle.
    assert_error(
        m.send(
            ix::record_uptime(&p.pubkey(), &p.pubkey(), 2, &[1, 1]),
            &p.keypair,
        ),
        EmissionError::WrongEpoch,
    );
    let out = m
        .send(
            ix::record_uptime(&p.pubkey(), &p.pubkey(), 2, &[0, 1]),
            &p.keypair,
        )
        .unwrap();
    // Half of epoch 0 (shared with q), all of epoch 1.
    let expected = FIRST_EPOCH_EMISSION / 2 + scheduled_emission(1);
    assert_eq!(out.events::<UptimeRecorded>()[0].settled, expected);
    let record = m.provider_rewards(&p.pubkey()).unwrap();
    assert_eq!(record.unclaimed, expected);
    assert!(record.earlier.is_empty());
    assert_eq!((record.latest.epoch, record.latest.weight), (2, 1));
}

/// The reward record and the epochs to settle are checked against their addresses in the
/// handler (by the stored bump once they exist): another provider's record, another epoch
/// or an address nothing derives from is refused, and nothing is written.
#[test]
fn a_record_or_epoch_at_another_address_is_refused() {
    let mut m = Market::with_rewards(HARD_CAP);
    let (p, other) = (m.provider(1), m.provider(1));
    m.record_uptime(&other).unwrap();
    // The other record may record again: only its address stands in the way.
    m.chain.advance(HEARTBEAT_INTERVAL).unwrap();
    let epoch = m.current_epoch();
    let record = ix::record_uptime(&p.pubkey(), &p.pubkey(), epoch, &[]);
    let own = pda::provider_rewards(&pda::provider(&p.pubkey()));
    let theirs = pda::provider_rewards(&pda::provider(&other.pubkey()));
    let stray = Pubkey::new_unique();
    for to in [theirs, stray] {
        let ix = swap_account(record.clone(), &own, &to);
        assert_error(m.send(ix, &p.keypair), AnchorError::ConstraintSeeds);
    }
    assert!(m.provider_rewards(&p.pubkey()).is_none());
    // A finalized epoch, but not the one the record holds.
    m.record_uptime(&p).unwrap();
    m.close_epoch(0);
    m.record_uptime(&other).unwrap();
    m.close_epoch(1);
    m.go_to_epoch(2);
    let settle = ix::record_uptime(&p.pubkey(), &p.pubkey(), 2, &[0]);
    let ix = swap_account(settle.clone(), &pda::reward_epoch(0), &pda::reward_epoch(1));
    assert_error(m.send(ix, &p.keypair), EmissionError::WrongEpoch);
    // An account of the program that is not an epoch: the other's record.
    let ix = swap_account(settle, &pda::reward_epoch(0), &theirs);
    assert_error(
        m.send(ix, &p.keypair),
        AnchorError::AccountDiscriminatorMismatch,
    );
    let record = m.provider_rewards(&p.pubkey()).unwrap();
    assert_eq!((record.latest.epoch, record.latest.weight), (0, 1));
    assert_eq!(record.unclaimed, 0);
}

/// Anyone can send lamports to a provider's record, a shard or an epoch before it exists;
/// the record, the fold and the finalization still create them.
#[test]
fn a_record_a_shard_and_an_epoch_that_were_prefunded_still_open() {
    let mut m = Market::with_rewards(HARD_CAP);
    let p = m.provider(1);
    let lamports = m.chain.minimum_balance(0).unwrap();
    let record = pda::provider_rewards(&pda::provider(&p.pubkey()));
    let shard = pda::uptime_shard(ix::shard_of(&pda::provider(&p.pubkey())));
    for address in [record, shard, pda::reward_epoch(0)] {
        m.chain.transfer_lamports(&address, lamports).unwrap();
    }
    let record_ix = ix::record_uptime(&p.pubkey(), &p.pubkey(), 0, &[]);
    m.send(record_ix, &p.keypair).unwrap();
    assert_eq!(m.provider_rewards(&p.pubkey()).unwrap().latest.weight, 1);
    // The lamports at epoch 0's address do not make it look finalized: the next record
    // does not try to settle it.
    m.go_to_epoch(1);
    assert!(m.to_settle(&p.pubkey()).is_empty());
    m.record_uptime(&p).unwrap();
    m.close_epoch(0);
    let epoch: Epoch = m.chain.fetch(&pda::reward_epoch(0)).unwrap();
    assert_eq!(
        (epoch.emission, epoch.total_weight),
        (FIRST_EPOCH_EMISSION, 1)
    );
}

/// A record at the right address that reward_emission does not own is refused.
#[test]
fn a_record_owned_by_another_program_is_refused() {
    let mut m = Market::with_rewards(HARD_CAP);
    let p = m.provider(1);
    m.record_uptime(&p).unwrap();
    m.chain.advance(HEARTBEAT_INTERVAL).unwrap();
    let record = pda::provider_rewards(&pda::provider(&p.pubkey()));
    let mut forged = m.chain.account(&record).unwrap().unwrap();
    forged.owner = ::staking::ID;
    m.chain.set_account(&record, forged);
    assert_error(m.record_uptime(&p), AnchorError::AccountOwnedByWrongProgram);
}
