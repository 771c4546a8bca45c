use gpu_market_client::{
    pda,
    registry::{self as ix, RegistryConfig},
    Chain, Pubkey, Signer,
};
use gpu_market_tests::*;
use provider_registry::{error::RegistryError, UpdateConfigArgs};

#[test]
fn admin_updates_parameters() {
    let mut m = Market::new();
    let admin = m.admin.insecure_clone();
    let auditor = Pubkey::new_unique();
    let escrow = Pubkey::new_unique();
    m.send(
        ix::update_config(
            &admin.pubkey(),
            UpdateConfigArgs {
                min_stake_per_gpu: Some(5),
                heartbeat_interval: Some(120),
                liveness_grace: Some(0),
                exit_notice: Some(10),
                auditors: Some(vec![auditor]),
                escrow_authority: Some(escrow),
                max_benchmark_score: Some(500),
                new_admin: None,
            },
        ),
        &admin,
    )
    .unwrap();
    let config: RegistryConfig = m.chain.fetch(&pda::registry_config()).unwrap();
    assert_eq!(config.min_stake_per_gpu, 5);
    assert_eq!((config.heartbeat_interval, config.liveness_grace), (120, 0));
    assert_eq!(config.exit_notice, 10);
    assert_eq!(config.auditors, vec![auditor]);
    assert_eq!(config.escrow_authority, escrow);
}

#[test]
fn update_config_rejects_strangers_and_bad_values() {
    let mut m = Market::new();
    let stranger = m.wallet(0);
    assert_error(
        m.send(
            ix::update_config(&stranger.pubkey(), UpdateConfigArgs::default()),
            &stranger.keypair,
        ),
        RegistryError::NotAdmin,
    );
    let admin = m.admin.insecure_clone();
    let bad = |a: UpdateConfigArgs| ix::update_config(&admin.pubkey(), a);
    assert_error(
        m.send(
            bad(UpdateConfigArgs {
                heartbeat_interval: Some(0),
                ..Default::default()
            }),
            &admin,
        ),
        RegistryError::InvalidTiming,
    );
    assert_error(
        m.send(
            bad(UpdateConfigArgs {
                auditors: Some((0..9).map(|_| Pubkey::new_unique()).collect()),
                ..Default::default()
            }),
            &admin,
        ),
        RegistryError::TooManyAuditors,
    );
}
