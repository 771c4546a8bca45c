use gpu_market_client::{pda, registry::RegistryConfig, Chain, Signer};
use gpu_market_tests::{proxy, *};

#[test]
fn init_config_records_the_parameters_and_the_stake_mint() {
    let mut m = Market::new();
    let config: RegistryConfig = m.chain.fetch(&pda::registry_config()).unwrap();
    assert_eq!(config.admin, m.admin.pubkey());
    assert_eq!(config.staking_program, staking::ID);
    assert_eq!(config.stake_mint, m.stake_mint);
    assert_eq!(config.min_stake_per_gpu, MIN_STAKE_PER_GPU);
    assert_eq!(config.heartbeat_interval, HEARTBEAT_INTERVAL);
    assert_eq!(config.liveness_grace, LIVENESS_GRACE);
    assert_eq!(config.exit_notice, EXIT_NOTICE);
    assert_eq!(config.auditors, vec![m.auditor.pubkey()]);
    assert_eq!(config.escrow_authority, proxy::authority());
    assert_eq!(config.provider_count, 0);
}

#[test]
fn init_config_twice_is_refused() {
    let mut m = Market::new();
    let admin = m.admin.insecure_clone();
    let again = gpu_market_client::registry::init_config(
        &admin.pubkey(),
        provider_registry::InitConfigArgs {
            min_stake_per_gpu: 1,
            heartbeat_interval: 1,
            liveness_grace: 0,
            exit_notice: 0,
            auditors: vec![],
            escrow_authority: admin.pubkey(),
            max_benchmark_score: 1,
        },
    );
    let err = m.send(again, &admin).unwrap_err();
    assert_eq!(
        err.instruction_error(),
        Some(&already_initialised(&m.chain)),
        "{err}"
    );
}
