//! Registry parameters, the escrow authority included, change only through a timelocked
//! proposal (finding 5).

use gpu_market_client::{
    pda,
    registry::{self as ix, RegistryConfig},
    Chain, Pubkey, Signer,
};
use gpu_market_tests::*;
use provider_registry::{constants::CONFIG_TIMELOCK, error::RegistryError, UpdateConfigArgs};

#[test]
fn a_proposal_takes_effect_only_after_the_timelock() {
    let mut m = Market::new();
    let admin = m.admin.insecure_clone();
    let auditor = Pubkey::new_unique();
    let escrow = Pubkey::new_unique();
    m.send(
        ix::propose_config_update(
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
    let before: RegistryConfig = m.chain.fetch(&pda::registry_config()).unwrap();
    assert_eq!(before.escrow_authority, proxy::authority());
    m.chain.advance(CONFIG_TIMELOCK - 1).unwrap();
    let anyone = m.wallet(0);
    assert_error(
        m.send(ix::apply_config_update(&anyone.pubkey()), &anyone.keypair),
        RegistryError::TimelockNotElapsed,
    );
    m.chain.advance(1).unwrap();
    m.send(ix::apply_config_update(&anyone.pubkey()), &anyone.keypair)
        .unwrap();
    let config: RegistryConfig = m.chain.fetch(&pda::registry_config()).unwrap();
    assert_eq!(config.min_stake_per_gpu, 5);
    assert_eq!((config.heartbeat_interval, config.liveness_grace), (120, 0));
    assert_eq!(config.exit_notice, 10);
    assert_eq!(config.auditors, vec![auditor]);
    assert_eq!(config.escrow_authority, escrow);
    assert_eq!((config.max_benchmark_score, config.pending), (500, None));
}

#[test]
fn proposals_reject_strangers_and_bad_values() {
    let mut m = Market::new();
    let stranger = m.wallet(0);
    assert_error(
        m.send(
            ix::propose_config_update(&stranger.pubkey(), UpdateConfigArgs::default()),
            &stranger.keypair,
        ),
        RegistryError::NotAdmin,
    );
    assert_error(
        m.send(
            ix::cancel_config_update(&stranger.pubkey()),
            &stranger.keypair,
        ),
        RegistryError::NotAdmin,
    );
    let admin = m.admin.insecure_clone();
    let bad = |a: UpdateConfigArgs| ix::propose_config_update(&admin.pubkey(), a);
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
    assert_error(
        m.send(ix::cancel_config_update(&admin.pubkey()), &admin),
        RegistryError::NoPendingUpdate,
    );
}

/// Finding 5: the escrow authority that providers' jobs answer to cannot change under them.
#[test]
fn the_escrow_authority_is_fixed_once_providers_registered() {
    let mut m = Market::new();
    m.provider(1);
    let admin = m.admin.insecure_clone();
    m.send(
        ix::propose_config_update(
            &admin.pubkey(),
            UpdateConfigArgs {
                escrow_authority: Some(Pubkey::new_unique()),
                ..Default::default()
            },
        ),
        &admin,
    )
    .unwrap();
    m.chain.advance(CONFIG_TIMELOCK).unwrap();
    assert_error(
        m.send(ix::apply_config_update(&admin.pubkey()), &admin),
        RegistryError::EscrowAuthorityInUse,
    );
}

#[test]
fn a_proposal_not_applied_in_time_lapses() {
    let mut m = Market::new();
    let admin = m.admin.insecure_clone();
    m.send(
        ix::propose_config_update(
            &admin.pubkey(),
            UpdateConfigArgs {
                min_stake_per_gpu: Some(5),
                ..Default::default()
            },
        ),
        &admin,
    )
    .unwrap();
    m.chain
        .advance(CONFIG_TIMELOCK + provider_registry::constants::PROPOSAL_LIFETIME + 1)
        .unwrap();
    assert_error(
        m.send(ix::apply_config_update(&admin.pubkey()), &admin),
        RegistryError::ProposalLapsed,
    );
}

#[test]
fn the_admin_can_withdraw_a_proposal() {
    let mut m = Market::new();
    let admin = m.admin.insecure_clone();
    m.send(
        ix::propose_config_update(
            &admin.pubkey(),
            UpdateConfigArgs {
                min_stake_per_gpu: Some(5),
                ..Default::default()
            },
        ),
        &admin,
    )
    .unwrap();
    let stranger = m.wallet(0);
    assert_error(
        m.send(
            ix::cancel_config_update(&stranger.pubkey()),
            &stranger.keypair,
        ),
        RegistryError::NotAdmin,
    );
    m.send(ix::cancel_config_update(&admin.pubkey()), &admin)
        .unwrap();
    let config: RegistryConfig = m.chain.fetch(&pda::registry_config()).unwrap();
    assert_eq!(config.pending, None);
    m.chain.advance(CONFIG_TIMELOCK).unwrap();
    assert_error(
        m.send(ix::apply_config_update(&admin.pubkey()), &admin),
        RegistryError::NoPendingUpdate,
    );
    let config: RegistryConfig = m.chain.fetch(&pda::registry_config()).unwrap();
    assert_eq!(config.min_stake_per_gpu, MIN_STAKE_PER_GPU);
}
