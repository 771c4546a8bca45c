use gpu_market_client::{registry as ix, Pubkey};
use gpu_market_tests::*;
use provider_registry::{error::RegistryError, events::OperatorChanged};

#[test]
fn the_authority_replaces_the_operator() {
    let mut m = Market::new();
    let (authority, operator) = m.provider_with_operator(1);
    let new_operator = Pubkey::new_unique();
    let out = m
        .send(
            ix::set_operator(&authority.pubkey(), &new_operator),
            &authority.keypair,
        )
        .unwrap();
    assert_eq!(
        m.provider_account(&authority.pubkey()).operator,
        new_operator
    );
    let event = &out.events::<OperatorChanged>()[0];
    assert_eq!(
        (event.old_operator, event.new_operator),
        (operator.pubkey(), new_operator)
    );
}

#[test]
fn the_operator_cannot_replace_itself() {
    let mut m = Market::new();
    let (authority, operator) = m.provider_with_operator(1);
    let ix = swap_account(
        ix::set_operator(&operator.pubkey(), &operator.pubkey()),
        &gpu_market_client::pda::provider(&operator.pubkey()),
        &gpu_market_client::pda::provider(&authority.pubkey()),
    );
    assert_error(
        m.send(ix, &operator.keypair),
        RegistryError::NotProviderAuthority,
    );
}
