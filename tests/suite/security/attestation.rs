//! Finding 9: an attestation counts only while its auditor is configured, and the benchmark
//! score has a configured ceiling. (Reward weights: `rewards::record_uptime`.)

use gpu_market_client::{escrow as ix, pda, registry};
use gpu_market_tests::{escrow::*, *};
use job_escrow::error::EscrowError;
use provider_registry::{error::RegistryError, UpdateProviderArgs};

#[test]
fn an_attested_only_job_refuses_a_node_whose_auditor_was_removed() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    m.attest(&p.pubkey());
    let client = m.client(100 * TOKEN);
    let mut args = batch_job(1, 1);
    args.requirements.attested_only = true;
    m.create_job(&client, args).unwrap();
    m.update_registry(provider_registry::UpdateConfigArgs {
        auditors: Some(vec![]),
        ..Default::default()
    });
    m.send(registry::heartbeat(&p.pubkey(), &p.pubkey()), &p.keypair)
        .unwrap();
    let job = pda::job(&client.pubkey(), 1);
    assert_error(
        signed(
            &mut m,
            ix::accept_job(&p.pubkey(), &p.pubkey(), &job),
            &p.keypair,
        ),
        EscrowError::NotAttested,
    );
}

#[test]
fn a_benchmark_above_the_ceiling_is_refused() {
    let mut m = Market::new();
    let authority = m.wallet(MIN_STAKE_PER_GPU);
    m.stake(&authority, MIN_STAKE_PER_GPU).unwrap();
    let mut args = listing(&authority.pubkey(), 1, &m.payment_mint);
    args.benchmark_score = MAX_BENCHMARK_SCORE + 1;
    assert_error(
        m.send(
            registry::register_provider(&authority.pubkey(), args),
            &authority.keypair,
        ),
        RegistryError::BenchmarkAboveCeiling,
    );
    let p = m.provider(1);
    assert_error(
        m.send(
            registry::update_provider(
                &p.pubkey(),
                &p.pubkey(),
                UpdateProviderArgs {
                    benchmark_score: Some(MAX_BENCHMARK_SCORE + 1),
                    ..Default::default()
                },
            ),
            &p.keypair,
        ),
        RegistryError::BenchmarkAboveCeiling,
    );
}
