use gpu_market_client::{
    registry::{self as ix, ProviderStatus},
    Chain,
};
use gpu_market_tests::*;
use provider_registry::error::RegistryError;

#[test]
fn begin_exit_starts_the_notice() {
    let mut m = Market::new();
    let authority = m.provider(1);
    let now = m.chain.now().unwrap();
    m.send(ix::begin_exit(&authority.pubkey()), &authority.keypair)
        .unwrap();
    let provider = m.provider_account(&authority.pubkey());
    assert_eq!(
        (provider.status, provider.exit_notice_ends_at),
        (ProviderStatus::Exiting, now + EXIT_NOTICE)
    );
    assert_error(
        m.send(ix::begin_exit(&authority.pubkey()), &authority.keypair),
        RegistryError::ProviderExiting,
    );
}

#[test]
fn only_the_authority_begins_an_exit() {
    let mut m = Market::new();
    let (authority, operator) = m.provider_with_operator(1);
    let ix = swap_account(
        ix::begin_exit(&operator.pubkey()),
        &gpu_market_client::pda::provider(&operator.pubkey()),
        &gpu_market_client::pda::provider(&authority.pubkey()),
    );
    assert_error(
        m.send(ix, &operator.keypair),
        RegistryError::NotProviderAuthority,
    );
}
