//! Finding 6: after an operator rotation the provider's current operator, and only it, acts
//! on the jobs the provider already holds.

use gpu_market_client::{escrow as ix, registry};
use gpu_market_tests::{escrow::*, *};
use job_escrow::error::EscrowError;

#[test]
fn a_rotated_out_key_can_do_nothing_and_the_new_key_everything() {
    let mut m = Market::with_escrow();
    let (authority, old) = m.provider_with_operator(1);
    let new = m.wallet(0);
    let s = Scenario::new(&mut m, 1, &[&authority], &[]);
    m.create_job(&s.client, lease_job(1, 1, 2)).unwrap();
    let a = authority.pubkey();
    signed(
        &mut m,
        ix::accept_job(&old.pubkey(), &a, &s.job),
        &old.keypair,
    )
    .unwrap();
    m.send(
        registry::set_operator(&a, &new.pubkey()),
        &authority.keypair,
    )
    .unwrap();

    // The revoked key can neither start nor heartbeat.
    assert_error(
        signed(
            &mut m,
            ix::start_job(&old.pubkey(), &a, &s.job),
            &old.keypair,
        ),
        EscrowError::NotAssignedProvider,
    );
    signed(
        &mut m,
        ix::start_job(&new.pubkey(), &a, &s.job),
        &new.keypair,
    )
    .unwrap();
    // The new key serves; the revoked one cannot heartbeat.
    serve(&mut m, &new.keypair, &a, &s.job, 600);
    assert_error(
        signed(
            &mut m,
            ix::heartbeat_job(&old.pubkey(), &a, &s.job),
            &old.keypair,
        ),
        EscrowError::NotAssignedProvider,
    );
    // Nor withdraw; the new key and the authority can.
    let keys = s.keys(&m, &new.pubkey(), &a);
    assert_error(
        signed(
            &mut m,
            ix::withdraw_earnings(&old.pubkey(), &keys, 1_000),
            &old.keypair,
        ),
        EscrowError::NotProviderKey,
    );
    signed(
        &mut m,
        ix::withdraw_earnings(&new.pubkey(), &keys, 1_000),
        &new.keypair,
    )
    .unwrap();
    signed(
        &mut m,
        ix::withdraw_earnings(&a, &keys, 1_000),
        &authority.keypair,
    )
    .unwrap();
    assert_eq!(m.job(&s.client.pubkey(), 1).billed, 2_000);
}
