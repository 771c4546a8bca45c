use anchor_lang::{error::ErrorCode as AnchorError, AccountSerialize};
use gpu_market_client::{
    pda,
    registry::{
        self as ix, satisfies, ClassFilter, Ineligible, ProviderStatus, RegistryConfig,
        Requirements,
    },
    staking::StakeAccount,
    Chain,
};
use gpu_market_tests::*;
use provider_registry::{error::RegistryError, events::ProviderRegistered};
use solana_account::Account;

#[test]
fn register_provider_lists_the_node() {
    let mut m = Market::new();
    let authority = m.wallet(800 * TOKEN);
    m.stake(&authority, 800 * TOKEN).unwrap();
    let operator = m.wallet(0);
    let args = listing(&operator.pubkey(), 8, &m.stake_mint);
    let now = m.chain.now().unwrap();
    let out = m
        .send(
            ix::register_provider(&authority.pubkey(), args.clone()),
            &authority.keypair,
        )
        .unwrap();

    let p = m.provider_account(&authority.pubkey());
    assert_eq!(p.authority, authority.pubkey());
    assert_eq!(p.operator, operator.pubkey());
    assert_eq!(p.endpoint, args.endpoint);
    assert_eq!(p.region, REGION_DE);
    assert_eq!(p.hardware, h100_node(8));
    assert_eq!(p.benchmark_score, 1_000);
    assert_eq!(p.price_per_gpu_hour, 2 * TOKEN);
    assert_eq!(p.status, ProviderStatus::Active);
    assert_eq!((p.gpus_in_use, p.attestation), (0, None));
    assert_eq!((p.last_heartbeat, p.registered_at), (now, now));
    let config: RegistryConfig = m.chain.fetch(&pda::registry_config()).unwrap();
    assert_eq!(config.provider_count, 1);
    let event = &out.events::<ProviderRegistered>()[0];
    assert_eq!((event.active_stake, event.provider_count), (800 * TOKEN, 1));
}

#[test]
fn registration_with_insufficient_stake_is_refused() {
    let mut m = Market::new();
    let authority = m.wallet(800 * TOKEN);
    m.stake(&authority, 800 * TOKEN - 1).unwrap();
    let args = listing(&authority.pubkey(), 8, &m.stake_mint);
    assert_error(
        m.send(
            ix::register_provider(&authority.pubkey(), args),
            &authority.keypair,
        ),
        RegistryError::StakeBelowMinimum,
    );
    assert!(!m.chain.exists(&pda::provider(&authority.pubkey())).unwrap());
}

#[test]
fn registration_without_a_stake_account_is_refused() {
    let mut m = Market::new();
    let authority = m.wallet(0);
    let args = listing(&authority.pubkey(), 1, &m.stake_mint);
    assert_error(
        m.send(
            ix::register_provider(&authority.pubkey(), args),
            &authority.keypair,
        ),
        AnchorError::AccountNotInitialized,
    );
}

#[test]
fn registration_backed_by_someone_elses_stake_is_refused() {
    let mut m = Market::new();
    let rich = m.wallet(800 * TOKEN);
    m.stake(&rich, 800 * TOKEN).unwrap();
    let authority = m.wallet(0);
    let args = listing(&authority.pubkey(), 8, &m.stake_mint);
    let ix = swap_account(
        ix::register_provider(&authority.pubkey(), args),
        &pda::stake_account(&authority.pubkey()),
        &pda::stake_account(&rich.pubkey()),
    );
    assert_error(m.send(ix, &authority.keypair), AnchorError::ConstraintSeeds);
}

#[test]
fn registration_backed_by_a_forged_stake_account_is_refused() {
    let mut m = Market::new();
    let authority = m.wallet(0);
    // A well-formed StakeAccount at the right address, but not owned by staking.
    let forged = StakeAccount {
        owner: authority.pubkey(),
        active: u64::MAX,
        unbonding: 0,
        unbonding_ends_at: 0,
        total_slashed: 0,
        locked: 0,
        bump: 255,
    };
    let mut data = Vec::new();
    forged.try_serialize(&mut data).unwrap();
    m.chain.set_account(
        &pda::stake_account(&authority.pubkey()),
        Account {
            lamports: 10_000_000,
            data,
            owner: provider_registry::ID,
            executable: false,
            rent_epoch: 0,
        },
    );
    let args = listing(&authority.pubkey(), 1, &m.stake_mint);
    assert_error(
        m.send(
            ix::register_provider(&authority.pubkey(), args),
            &authority.keypair,
        ),
        AnchorError::AccountOwnedByWrongProgram,
    );
}

#[test]
fn registration_with_a_config_of_another_program_is_refused() {
    let mut m = Market::new();
    let authority = m.wallet(100 * TOKEN);
    m.stake(&authority, 100 * TOKEN).unwrap();
    let args = listing(&authority.pubkey(), 1, &m.stake_mint);
    let ix = swap_account(
        ix::register_provider(&authority.pubkey(), args),
        &pda::registry_config(),
        &pda::staking_config(),
    );
    assert_error(
        m.send(ix, &authority.keypair),
        AnchorError::AccountOwnedByWrongProgram,
    );
}

#[test]
fn re_registering_is_refused() {
    let mut m = Market::new();
    let authority = m.provider(1);
    let args = listing(&authority.pubkey(), 1, &m.stake_mint);
    assert_error(
        m.send(
            ix::register_provider(&authority.pubkey(), args),
            &authority.keypair,
        ),
        RegistryError::ProviderAlreadyRegistered,
    );
}

#[test]
fn registration_succeeds_when_the_address_was_prefunded() {
    let mut m = Market::new();
    let authority = m.wallet(100 * TOKEN);
    m.stake(&authority, 100 * TOKEN).unwrap();
    // Anyone can send lamports to the provider's address before it registers.
    let lamports = m.chain.minimum_balance(0).unwrap();
    m.chain
        .transfer_lamports(&pda::provider(&authority.pubkey()), lamports)
        .unwrap();
    let args = listing(&authority.pubkey(), 1, &m.stake_mint);
    m.send(
        ix::register_provider(&authority.pubkey(), args),
        &authority.keypair,
    )
    .unwrap();
    assert_eq!(
        m.provider_account(&authority.pubkey()).hardware.gpu_count,
        1
    );
}

#[test]
fn invalid_listings_are_refused() {
    let mut m = Market::new();
    let authority = m.wallet(100 * TOKEN);
    m.stake(&authority, 100 * TOKEN).unwrap();
    let base = listing(&authority.pubkey(), 1, &m.stake_mint);
    let cases = [
        (
            {
                let mut a = base.clone();
                a.region = 1_000;
                a
            },
            RegistryError::InvalidRegion,
        ),
        (
            {
                let mut a = base.clone();
                a.region = 0;
                a
            },
            RegistryError::InvalidRegion,
        ),
        (
            {
                let mut a = base.clone();
                a.hardware.gpu_count = 0;
                a
            },
            RegistryError::InvalidGpuCount,
        ),
        (
            {
                let mut a = base.clone();
                a.hardware.vram_mib = 0;
                a
            },
            RegistryError::InvalidHardware,
        ),
        (
            {
                let mut a = base.clone();
                a.hardware.gpu_model = String::new();
                a
            },
            RegistryError::InvalidGpuModel,
        ),
        (
            {
                let mut a = base.clone();
                a.endpoint = "x".repeat(129);
                a
            },
            RegistryError::EndpointTooLong,
        ),
        (
            {
                let mut a = base.clone();
                a.price_per_gpu_hour = 0;
                a
            },
            RegistryError::InvalidPrice,
        ),
    ];
    for (args, expected) in cases {
        assert_error(
            m.send(
                ix::register_provider(&authority.pubkey(), args),
                &authority.keypair,
            ),
            expected,
        );
    }
}

#[test]
fn region_codes_above_255_are_stored_and_compared_at_full_width() {
    let mut m = Market::new();
    let authority = m.wallet(100 * TOKEN);
    m.stake(&authority, 100 * TOKEN).unwrap();
    let mut args = listing(&authority.pubkey(), 1, &m.stake_mint);
    args.region = 999;
    m.send(
        ix::register_provider(&authority.pubkey(), args),
        &authority.keypair,
    )
    .unwrap();
    let provider = m.provider_account(&authority.pubkey());
    assert_eq!(provider.region, 999);

    let config: RegistryConfig = m.chain.fetch(&pda::registry_config()).unwrap();
    let stake = m.stake_account(&authority.pubkey()).active;
    let now = m.chain.now().unwrap();
    let mut wants = Requirements {
        gpu_class: ClassFilter::Any,
        gpu_count: 1,
        min_vram_mib: 0,
        min_cpu_cores: 0,
        min_ram_mib: 0,
        region: 231,
        min_benchmark: 0,
        attested_only: false,
    };
    // 999 and 231 share their low byte.
    assert_eq!(
        satisfies(&provider, stake, &wants, &config.policy(), now),
        Err(Ineligible::RegionMismatch)
    );
    wants.region = 999;
    assert_eq!(
        satisfies(&provider, stake, &wants, &config.policy(), now),
        Ok(())
    );
}
