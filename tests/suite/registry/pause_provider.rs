use gpu_market_client::registry::{self as ix, ProviderStatus};
use gpu_market_tests::*;
use provider_registry::{error::RegistryError, events::ProviderStatusChanged};

#[test]
fn the_operator_pauses_the_node() {
    let mut m = Market::new();
    let (authority, operator) = m.provider_with_operator(1);
    let out = m
        .send(
            ix::pause_provider(&operator.pubkey(), &authority.pubkey()),
            &operator.keypair,
        )
        .unwrap();
    assert_eq!(
        m.provider_account(&authority.pubkey()).status,
        ProviderStatus::Paused
    );
    assert_eq!(
        out.events::<ProviderStatusChanged>()[0].new_status,
        ProviderStatus::Paused
    );
    assert_error(
        m.send(
            ix::pause_provider(&authority.pubkey(), &authority.pubkey()),
            &authority.keypair,
        ),
        RegistryError::ProviderNotActive,
    );
}

#[test]
fn pause_by_a_stranger_is_refused() {
    let mut m = Market::new();
    let authority = m.provider(1);
    let stranger = m.wallet(0);
    assert_error(
        m.send(
            ix::pause_provider(&stranger.pubkey(), &authority.pubkey()),
            &stranger.keypair,
        ),
        RegistryError::NotProviderKey,
    );
}
