use anchor_lang::error::ErrorCode as AnchorError;
use gpu_market_client::{pda, registry, rewards as ix, rewards::Epoch, staking, Chain, Pubkey};
use gpu_market_tests::{rewards::*, *};
use reward_emission::{
    error::EmissionError,
    events::{EpochOpened, UptimeRecorded},
};

#[test]
fn the_first_record_opens_the_epoch() {
    let mut m = Market::with_rewards(HARD_CAP);
    let p = m.provider(2);
    let out = m.record_uptime(&p).unwrap();
    assert_eq!(
        out.events::<EpochOpened>()[0].emission,
        FIRST_EPOCH_EMISSION
    );
    let recorded = &out.events::<UptimeRecorded>()[0];
    // Weight 1: neither the declared 2 GPUs nor the benchmark count before an attestation.
    assert_eq!((recorded.epoch, recorded.weight), (0, 1));
    let epoch: Epoch = m.chain.fetch(&pda::reward_epoch(0)).unwrap();
    assert_eq!(
        (epoch.emission, epoch.total_weight),
        (FIRST_EPOCH_EMISSION, 1)
    );
    let rewards = m.provider_rewards(&p.pubkey()).unwrap();
    assert_eq!((rewards.current_epoch, rewards.current_weight), (0, 1));
    assert_eq!(m.emission_config().total_allocated, FIRST_EPOCH_EMISSION);

    // One record per heartbeat interval.
    m.chain.advance(HEARTBEAT_INTERVAL - 1).unwrap();
    assert_error(m.record_uptime(&p), EmissionError::RecordedTooSoon);
    m.chain.advance(1).unwrap();
    m.record_uptime(&p).unwrap();
    assert_eq!(m.provider_rewards(&p.pubkey()).unwrap().current_weight, 2);
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
            ix::record_uptime(&authority.pubkey(), &authority.pubkey(), epoch, None),
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
            ix::record_uptime(&p.pubkey(), &p.pubkey(), 1, None),
            &p.keypair,
        ),
        EmissionError::WrongEpoch,
    );
}

#[test]
fn settling_needs_the_finished_epoch() {
    let mut m = Market::with_rewards(HARD_CAP);
    let p = m.provider(1);
    m.record_uptime(&p).unwrap();
    m.go_to_epoch(1);
    assert_error(
        m.send(
            ix::record_uptime(&p.pubkey(), &p.pubkey(), 1, None),
            &p.keypair,
        ),
        EmissionError::MissingEpoch,
    );
}

/// The reward record and the epoch are checked against their addresses in the handler
/// (by the stored bump once they exist): another provider's record, another epoch or an
/// address nothing derives from is refused, and nothing is written.
#[test]
fn a_record_or_epoch_at_another_address_is_refused() {
    let mut m = Market::with_rewards(HARD_CAP);
    let (p, other) = (m.provider(1), m.provider(1));
    m.record_uptime(&other).unwrap();
    // The other record may record again: only its address stands in the way.
    m.chain.advance(HEARTBEAT_INTERVAL).unwrap();
    let epoch = m.current_epoch();
    let record = ix::record_uptime(&p.pubkey(), &p.pubkey(), epoch, None);
    let own = pda::provider_rewards(&pda::provider(&p.pubkey()));
    let theirs = pda::provider_rewards(&pda::provider(&other.pubkey()));
    let stray = Pubkey::new_unique();
    for to in [theirs, stray] {
        let ix = swap_account(record.clone(), &own, &to);
        assert_error(m.send(ix, &p.keypair), AnchorError::ConstraintSeeds);
    }
    // An existing epoch account, but not the current one.
    m.go_to_epoch(1);
    m.record_uptime(&other).unwrap();
    let current = ix::record_uptime(&p.pubkey(), &p.pubkey(), 1, None);
    let ix = swap_account(current, &pda::reward_epoch(1), &pda::reward_epoch(0));
    assert_error(m.send(ix, &p.keypair), AnchorError::ConstraintSeeds);
    assert!(m.provider_rewards(&p.pubkey()).is_none());
    let theirs = m.provider_rewards(&other.pubkey()).unwrap();
    assert_eq!((theirs.current_epoch, theirs.current_weight), (1, 1));
    let epoch: Epoch = m.chain.fetch(&pda::reward_epoch(0)).unwrap();
    assert_eq!(epoch.total_weight, 1);
}

/// Anyone can send lamports to the next epoch's address or to a provider's record before
/// it exists; the first record still creates both.
#[test]
fn a_record_and_an_epoch_that_were_prefunded_still_open() {
    let mut m = Market::with_rewards(HARD_CAP);
    let p = m.provider(1);
    let lamports = m.chain.minimum_balance(0).unwrap();
    let record = pda::provider_rewards(&pda::provider(&p.pubkey()));
    for address in [record, pda::reward_epoch(0)] {
        m.chain.transfer_lamports(&address, lamports).unwrap();
    }
    let record_ix = ix::record_uptime(&p.pubkey(), &p.pubkey(), 0, None);
    m.send(record_ix, &p.keypair).unwrap();
    assert_eq!(m.provider_rewards(&p.pubkey()).unwrap().current_weight, 1);
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
