use gpu_market_client::{
    pda,
    registry::{self as ix, Outcome, ProviderStatus, RecordOutcomeArgs, RegistryConfig},
    Chain,
};
use gpu_market_tests::{proxy, *};
use provider_registry::{error::RegistryError, events::ProviderRetired};

#[test]
fn retire_takes_the_provider_off_the_market_and_keeps_its_record() {
    let mut m = Market::new();
    let authority = m.provider(1);
    let address = pda::provider(&authority.pubkey());
    m.send(ix::begin_exit(&authority.pubkey()), &authority.keypair)
        .unwrap();
    m.chain.advance(EXIT_NOTICE).unwrap();
    let out = m
        .send(ix::retire_provider(&authority.pubkey()), &authority.keypair)
        .unwrap();

    let p = m.provider_account(&authority.pubkey());
    assert_eq!(p.status, ProviderStatus::Retired);
    assert!(m.chain.exists(&address).unwrap());
    assert_eq!(out.events::<ProviderRetired>()[0].provider, address);
    let config: RegistryConfig = m.chain.fetch(&pda::registry_config()).unwrap();
    assert_eq!(config.provider_count, 0);
    // A retired provider cannot exit again, nor be updated.
    assert_error(
        m.send(ix::begin_exit(&authority.pubkey()), &authority.keypair),
        RegistryError::ProviderRetired,
    );
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

/// A job held is counted from its assignment until its outcome is recorded: freeing its
/// GPUs (a batch result) is not enough to leave.
#[test]
fn retire_while_holding_a_job_is_refused_until_the_job_ends() {
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
        RegistryError::JobsHeld,
    );
    m.send_as_escrow(ix::release_capacity(
        &proxy::authority(),
        &authority.pubkey(),
        1,
    ))
    .unwrap();
    assert_error(
        m.send(ix::retire_provider(&authority.pubkey()), &authority.keypair),
        RegistryError::JobsHeld,
    );
    m.send_as_escrow(ix::record_outcome(
        &proxy::authority(),
        &authority.pubkey(),
        RecordOutcomeArgs {
            outcome: Outcome::Failed,
            release_gpus: 0,
        },
    ))
    .unwrap();
    assert_eq!(m.provider_account(&authority.pubkey()).jobs_held, 0);
    m.send(ix::retire_provider(&authority.pubkey()), &authority.keypair)
        .unwrap();
}

/// Finding 10: reputation is kept per authority, so retiring and registering again does
/// not wash out failures.
#[test]
fn registering_again_after_retiring_keeps_the_reputation() {
    let mut m = Market::new();
    let authority = m.provider(1);
    for _ in 0..2 {
        m.send_as_escrow(ix::record_outcome(
            &proxy::authority(),
            &authority.pubkey(),
            RecordOutcomeArgs {
                outcome: Outcome::Failed,
                release_gpus: 0,
            },
        ))
        .unwrap();
    }
    m.send(ix::begin_exit(&authority.pubkey()), &authority.keypair)
        .unwrap();
    m.chain.advance(EXIT_NOTICE).unwrap();
    m.send(ix::retire_provider(&authority.pubkey()), &authority.keypair)
        .unwrap();
    let args = listing(&authority.pubkey(), 1, &m.payment_mint);
    m.send(
        ix::register_provider(&authority.pubkey(), args),
        &authority.keypair,
    )
    .unwrap();
    let p = m.provider_account(&authority.pubkey());
    assert_eq!(p.status, ProviderStatus::Active);
    assert_eq!(p.reputation.jobs_failed, 2);
    let config: RegistryConfig = m.chain.fetch(&pda::registry_config()).unwrap();
    assert_eq!(config.provider_count, 1);
    // Registering again while active is still refused.
    let args = listing(&authority.pubkey(), 1, &m.payment_mint);
    assert_error(
        m.send(
            ix::register_provider(&authority.pubkey(), args),
            &authority.keypair,
        ),
        RegistryError::ProviderAlreadyRegistered,
    );
}
