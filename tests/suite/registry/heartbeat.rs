use anchor_lang::error::ErrorCode as AnchorError;
use gpu_market_client::{pda, registry as ix, Chain};
use gpu_market_tests::*;
use provider_registry::{error::RegistryError, events::HeartbeatRecorded};

#[test]
fn the_operator_heartbeats() {
    let mut m = Market::new();
    let (authority, operator) = m.provider_with_operator(1);
    let registered = m.provider_account(&authority.pubkey()).last_heartbeat;
    m.chain.advance(45).unwrap();
    let out = m
        .send(
            ix::heartbeat(&operator.pubkey(), &authority.pubkey()),
            &operator.keypair,
        )
        .unwrap();
    assert_eq!(
        m.provider_account(&authority.pubkey()).last_heartbeat,
        registered + 45
    );
    let event = &out.events::<HeartbeatRecorded>()[0];
    assert_eq!((event.previous, event.at), (registered, registered + 45));
}

#[test]
fn heartbeat_by_a_stranger_or_the_authority_is_refused() {
    let mut m = Market::new();
    let (authority, _operator) = m.provider_with_operator(1);
    let stranger = m.wallet(0);
    assert_error(
        m.send(
            ix::heartbeat(&stranger.pubkey(), &authority.pubkey()),
            &stranger.keypair,
        ),
        RegistryError::NotProviderOperator,
    );
    // The cold wallet is not the node's hot key.
    assert_error(
        m.send(
            ix::heartbeat(&authority.pubkey(), &authority.pubkey()),
            &authority.keypair,
        ),
        RegistryError::NotProviderOperator,
    );
}

/// The registry's events are its own signed self-calls: another account in the event
/// authority's place is refused, and so is an event instruction nobody signed.
#[test]
fn the_event_authority_is_checked_and_events_cannot_be_forged() {
    let mut m = Market::new();
    let (authority, operator) = m.provider_with_operator(1);
    m.chain.advance(45).unwrap();
    let events = pda::event_authority(&provider_registry::ID);
    for stand_in in [
        gpu_market_client::Pubkey::new_unique(),
        pda::event_authority(&staking::ID),
    ] {
        let ix = swap_account(
            ix::heartbeat(&operator.pubkey(), &authority.pubkey()),
            &events,
            &stand_in,
        );
        assert_error(
            m.send(ix, &operator.keypair),
            AnchorError::ConstraintAddress,
        );
    }
    let forged = forged_event(
        provider_registry::ID,
        &HeartbeatRecorded {
            provider: authority.pubkey(),
            at: 1,
            previous: 0,
        },
    );
    assert_error(
        m.send(forged, &operator.keypair),
        AnchorError::ConstraintSigner,
    );
}
