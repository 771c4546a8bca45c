use gpu_market_client::registry as ix;
use gpu_market_tests::{proxy, *};
use provider_registry::{error::RegistryError, events::CapacityReleased};

#[test]
fn the_escrow_authority_releases_gpus() {
    let mut m = Market::new();
    let authority = m.provider(4);
    m.send_as_escrow(ix::reserve_capacity(
        &proxy::authority(),
        &authority.pubkey(),
        3,
    ))
    .unwrap();
    let out = m
        .send_as_escrow(ix::release_capacity(
            &proxy::authority(),
            &authority.pubkey(),
            2,
        ))
        .unwrap();
    assert_eq!(m.provider_account(&authority.pubkey()).gpus_in_use, 1);
    assert_eq!(out.events::<CapacityReleased>()[0].gpus_in_use_after, 1);
}

#[test]
fn releasing_more_than_reserved_is_refused() {
    let mut m = Market::new();
    let authority = m.provider(4);
    m.send_as_escrow(ix::reserve_capacity(
        &proxy::authority(),
        &authority.pubkey(),
        1,
    ))
    .unwrap();
    assert_error(
        m.send_as_escrow(ix::release_capacity(
            &proxy::authority(),
            &authority.pubkey(),
            2,
        )),
        RegistryError::ReleaseExceedsReserved,
    );
}

#[test]
fn a_user_calling_release_directly_is_refused() {
    let mut m = Market::new();
    let authority = m.provider(4);
    m.send_as_escrow(ix::reserve_capacity(
        &proxy::authority(),
        &authority.pubkey(),
        2,
    ))
    .unwrap();
    assert_error(
        m.send(
            ix::release_capacity(&authority.pubkey(), &authority.pubkey(), 2),
            &authority.keypair,
        ),
        RegistryError::NotEscrowAuthority,
    );
    assert_eq!(m.provider_account(&authority.pubkey()).gpus_in_use, 2);
}
