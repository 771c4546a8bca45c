use gpu_market_client::registry::{self as ix, ProviderStatus};
use gpu_market_tests::*;
use provider_registry::error::RegistryError;

#[test]
fn a_paused_node_resumes() {
    let mut m = Market::new();
    let authority = m.provider(1);
    m.send(
        ix::pause_provider(&authority.pubkey(), &authority.pubkey()),
        &authority.keypair,
    )
    .unwrap();
    m.send(
        ix::resume_provider(&authority.pubkey(), &authority.pubkey()),
        &authority.keypair,
    )
    .unwrap();
    assert_eq!(
        m.provider_account(&authority.pubkey()).status,
        ProviderStatus::Active
    );
}

#[test]
fn resume_needs_a_pause_and_a_provider_key() {
    let mut m = Market::new();
    let authority = m.provider(1);
    assert_error(
        m.send(
            ix::resume_provider(&authority.pubkey(), &authority.pubkey()),
            &authority.keypair,
        ),
        RegistryError::ProviderNotPaused,
    );
    m.send(
        ix::pause_provider(&authority.pubkey(), &authority.pubkey()),
        &authority.keypair,
    )
    .unwrap();
    let stranger = m.wallet(0);
    assert_error(
        m.send(
            ix::resume_provider(&stranger.pubkey(), &authority.pubkey()),
            &stranger.keypair,
        ),
        RegistryError::NotProviderKey,
    );
    // An exiting node cannot come back by resuming.
    m.send(ix::begin_exit(&authority.pubkey()), &authority.keypair)
        .unwrap();
    assert_error(
        m.send(
            ix::resume_provider(&authority.pubkey(), &authority.pubkey()),
            &authority.keypair,
        ),
        RegistryError::ProviderNotPaused,
    );
}
