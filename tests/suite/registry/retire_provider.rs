use gpu_market_client::{
    pda,
    registry::{self as ix, RegistryConfig},
    Chain,
};
use gpu_market_tests::{proxy, *};
use provider_registry::{error::RegistryError, events::ProviderRetired};

#[test]
fn retire_closes_the_account_and_returns_the_rent() {
    let mut m = Market::new();
    let authority = m.provider(1);
    let address = pda::provider(&authority.pubkey());
    m.send(ix::begin_exit(&authority.pubkey()), &authority.keypair)
        .unwrap();
    m.chain.advance(EXIT_NOTICE).unwrap();
    let rent = m.chain.lamports(&address).unwrap();
    let before = m.chain.lamports(&authority.pubkey()).unwrap();
    let out = m
        .send(ix::retire_provider(&authority.pubkey()), &authority.keypair)
        .unwrap();

    assert!(!m.chain.exists(&address).unwrap());
    // The chain's payer pays the fee, so the authority gains exactly the rent.
    assert_eq!(
        m.chain.lamports(&authority.pubkey()).unwrap(),
        before + rent
    );
    assert_eq!(out.events::<ProviderRetired>()[0].rent_returned, rent);
    let config: RegistryConfig = m.chain.fetch(&pda::registry_config()).unwrap();
    assert_eq!(config.provider_count, 0);
}

#[test]
fn retire_before_the_notice_ends_is_refused() {
    let mut m = Market::new();
    let authority = m.provider(1);
    m.send(ix::begin_exit(&authority.pubkey()), &authority.keypair)
        .unwrap();
    m.chain.advance(EXIT_NOTICE - 1).unwrap();
    assert_error(
        m.send(ix::retire_provider(&authority.pubkey()), &authority.keypair),
        RegistryError::ExitNoticeNotElapsed,
    );
}

#[test]
fn retire_without_an_exit_is_refused() {
    let mut m = Market::new();
    let authority = m.provider(1);
    assert_error(
        m.send(ix::retire_provider(&authority.pubkey()), &authority.keypair),
        RegistryError::ProviderNotExiting,
    );
}

#[test]
fn retire_with_gpus_in_use_is_refused() {
    let mut m = Market::new();
    let authority = m.provider(2);
    m.send_as_escrow(ix::reserve_capacity(
        &proxy::authority(),
        &authority.pubkey(),
        1,
    ))
    .unwrap();
    m.send(ix::begin_exit(&authority.pubkey()), &authority.keypair)
        .unwrap();
    m.chain.advance(EXIT_NOTICE).unwrap();
    assert_error(
        m.send(ix::retire_provider(&authority.pubkey()), &authority.keypair),
        RegistryError::GpusInUse,
    );
    // Once the job releases its GPU the node can leave.
    m.send_as_escrow(ix::release_capacity(
        &proxy::authority(),
        &authority.pubkey(),
        1,
    ))
    .unwrap();
    m.send(ix::retire_provider(&authority.pubkey()), &authority.keypair)
        .unwrap();
}
