use anchor_lang::error::ErrorCode as AnchorError;
use gpu_market_client::{registry as ix, Instruction};
use gpu_market_tests::{proxy, *};
use provider_registry::{error::RegistryError, events::CapacityReserved};

#[test]
fn the_escrow_authority_reserves_gpus() {
    let mut m = Market::new();
    let authority = m.provider(4);
    let out = m
        .send_as_escrow(ix::reserve_capacity(
            &proxy::authority(),
            &authority.pubkey(),
            3,
        ))
        .unwrap();
    let p = m.provider_account(&authority.pubkey());
    assert_eq!((p.gpus_in_use, p.free_gpus()), (3, 1));
    let event = &out.events::<CapacityReserved>()[0];
    assert_eq!((event.gpus, event.gpus_in_use_after), (3, 3));
}

#[test]
fn reserving_more_than_is_free_is_refused() {
    let mut m = Market::new();
    let authority = m.provider(4);
    m.send_as_escrow(ix::reserve_capacity(
        &proxy::authority(),
        &authority.pubkey(),
        3,
    ))
    .unwrap();
    assert_error(
        m.send_as_escrow(ix::reserve_capacity(
            &proxy::authority(),
            &authority.pubkey(),
            2,
        )),
        RegistryError::InsufficientCapacity,
    );
    assert_error(
        m.send_as_escrow(ix::reserve_capacity(
            &proxy::authority(),
            &authority.pubkey(),
            0,
        )),
        RegistryError::ZeroGpus,
    );
    assert_eq!(m.provider_account(&authority.pubkey()).gpus_in_use, 3);
}

#[test]
fn a_user_calling_reserve_directly_is_refused() {
    let mut m = Market::new();
    let authority = m.provider(4);
    // The provider signs as "escrow authority" with its own key.
    assert_error(
        m.send(
            ix::reserve_capacity(&authority.pubkey(), &authority.pubkey(), 1),
            &authority.keypair,
        ),
        RegistryError::NotEscrowAuthority,
    );
    // Naming the real escrow authority without its signature does not work either.
    let mut unsigned: Instruction =
        ix::reserve_capacity(&proxy::authority(), &authority.pubkey(), 1);
    unsigned.accounts[0].is_signer = false;
    assert_error(
        m.send(unsigned, &authority.keypair),
        AnchorError::AccountNotSigner,
    );
    assert_eq!(m.provider_account(&authority.pubkey()).gpus_in_use, 0);
}

#[test]
fn another_programs_authority_is_refused() {
    let mut m = Market::new();
    // Point the registry at a different escrow authority: the proxy's PDA no longer counts.
    m.update_registry(provider_registry::UpdateConfigArgs {
        escrow_authority: Some(gpu_market_client::Pubkey::new_unique()),
        ..Default::default()
    });
    let authority = m.provider(4);
    assert_error(
        m.send_as_escrow(ix::reserve_capacity(
            &proxy::authority(),
            &authority.pubkey(),
            1,
        )),
        RegistryError::NotEscrowAuthority,
    );
}
