use gpu_market_client::{
    registry::{self as ix, spec_hash, GpuClass, Hardware},
    Signer,
};
use gpu_market_tests::*;
use provider_registry::{error::RegistryError, events::ProviderUpdated, UpdateProviderArgs};

#[test]
fn the_operator_updates_price_and_endpoint() {
    let mut m = Market::new();
    let (authority, operator) = m.provider_with_operator(2);
    let out = m
        .send(
            ix::update_provider(
                &operator.pubkey(),
                &authority.pubkey(),
                UpdateProviderArgs {
                    endpoint: Some("https://new.example".into()),
                    price_per_gpu_hour: Some(3 * TOKEN),
                    region: Some(840),
                    ..Default::default()
                },
            ),
            &operator.keypair,
        )
        .unwrap();
    let p = m.provider_account(&authority.pubkey());
    assert_eq!(p.endpoint, "https://new.example");
    assert_eq!(p.price_per_gpu_hour, 3 * TOKEN);
    assert_eq!(p.region, 840);
    assert_eq!(
        out.events::<ProviderUpdated>()[0].price_per_gpu_hour,
        3 * TOKEN
    );
}

#[test]
fn new_hardware_voids_the_attestation() {
    let mut m = Market::new();
    let authority = m.provider(2);
    let auditor = m.auditor.insecure_clone();
    let p = m.provider_account(&authority.pubkey());
    m.send(
        ix::attest_provider(
            &auditor.pubkey(),
            &authority.pubkey(),
            spec_hash(&p.hardware, p.benchmark_score),
        ),
        &auditor,
    )
    .unwrap();
    let auditors = [m.auditor.pubkey()];
    assert!(m
        .provider_account(&authority.pubkey())
        .is_attested(&auditors));
    let hardware = Hardware {
        gpu_class: GpuClass::Workstation,
        gpu_model: "NVIDIA L40S".into(),
        ..h100_node(2)
    };
    m.send(
        ix::update_provider(
            &authority.pubkey(),
            &authority.pubkey(),
            UpdateProviderArgs {
                hardware: Some(hardware.clone()),
                ..Default::default()
            },
        ),
        &authority.keypair,
    )
    .unwrap();
    let p = m.provider_account(&authority.pubkey());
    assert_eq!(p.hardware, hardware);
    assert!(!p.is_attested(&[m.auditor.pubkey()]));
}

#[test]
fn update_by_a_stranger_is_refused() {
    let mut m = Market::new();
    let authority = m.provider(1);
    let stranger = m.wallet(0);
    assert_error(
        m.send(
            ix::update_provider(
                &stranger.pubkey(),
                &authority.pubkey(),
                UpdateProviderArgs {
                    price_per_gpu_hour: Some(1),
                    ..Default::default()
                },
            ),
            &stranger.keypair,
        ),
        RegistryError::NotProviderKey,
    );
    assert_eq!(
        m.provider_account(&authority.pubkey()).price_per_gpu_hour,
        2 * TOKEN
    );
}

#[test]
fn more_gpus_than_the_stake_covers_are_refused() {
    let mut m = Market::new();
    let authority = m.provider(2);
    assert_error(
        m.send(
            ix::update_provider(
                &authority.pubkey(),
                &authority.pubkey(),
                UpdateProviderArgs {
                    hardware: Some(h100_node(3)),
                    ..Default::default()
                },
            ),
            &authority.keypair,
        ),
        RegistryError::StakeBelowMinimum,
    );
}

#[test]
fn fewer_gpus_than_are_in_use_are_refused() {
    let mut m = Market::new();
    let authority = m.provider(2);
    m.send_as_escrow(ix::reserve_capacity(
        &gpu_market_tests::proxy::authority(),
        &authority.pubkey(),
        2,
    ))
    .unwrap();
    assert_error(
        m.send(
            ix::update_provider(
                &authority.pubkey(),
                &authority.pubkey(),
                UpdateProviderArgs {
                    hardware: Some(h100_node(1)),
                    ..Default::default()
                },
            ),
            &authority.keypair,
        ),
        RegistryError::GpuCountBelowInUse,
    );
}
