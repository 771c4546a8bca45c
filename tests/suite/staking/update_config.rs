use gpu_market_client::{staking as ix, token, Keypair, Pubkey, Signer};
use gpu_market_tests::*;
use staking::{error::StakingError, events::StakingConfigUpdated, UpdateConfigArgs};

#[test]
fn admin_updates_parameters_and_treasury() {
    let mut m = Market::new();
    let new_admin = Keypair::new();
    let new_treasury = token::create_token_account(
        &mut m.chain,
        &new_admin.pubkey(),
        &m.stake_mint,
        &token::TOKEN_PROGRAM,
    )
    .unwrap();
    let slasher = Pubkey::new_unique();
    let admin = m.admin.insecure_clone();
    let out = m
        .send(
            ix::update_config(
                &admin.pubkey(),
                Some(new_treasury),
                UpdateConfigArgs {
                    new_admin: Some(new_admin.pubkey()),
                    unbonding_period: Some(3_600),
                    treasury_share_bps: Some(10_000),
                    slashers: Some(vec![slasher]),
                },
            ),
            &admin,
        )
        .unwrap();
    let config = m.staking_config();
    assert_eq!(config.admin, new_admin.pubkey());
    assert_eq!(config.treasury, new_treasury);
    assert_eq!(config.unbonding_period, 3_600);
    assert_eq!(config.treasury_share_bps, 10_000);
    assert_eq!(config.slashers, vec![slasher]);
    assert_eq!(
        out.events::<StakingConfigUpdated>()[0].treasury,
        new_treasury
    );
    // The old admin has lost its rights.
    assert_error(
        m.send(
            ix::update_config(&admin.pubkey(), None, UpdateConfigArgs::default()),
            &admin,
        ),
        StakingError::NotAdmin,
    );
}

#[test]
fn update_config_rejects_strangers_and_bad_values() {
    let mut m = Market::new();
    let stranger = m.wallet(0);
    assert_error(
        m.send(
            ix::update_config(&stranger.pubkey(), None, UpdateConfigArgs::default()),
            &stranger.keypair,
        ),
        StakingError::NotAdmin,
    );
    let admin = m.admin.insecure_clone();
    let bad = |a: UpdateConfigArgs| ix::update_config(&admin.pubkey(), None, a);
    assert_error(
        m.send(
            bad(UpdateConfigArgs {
                treasury_share_bps: Some(10_001),
                ..Default::default()
            }),
            &admin,
        ),
        StakingError::InvalidBps,
    );
    assert_error(
        m.send(
            bad(UpdateConfigArgs {
                unbonding_period: Some(-1),
                ..Default::default()
            }),
            &admin,
        ),
        StakingError::InvalidUnbondingPeriod,
    );
    assert_error(
        m.send(
            bad(UpdateConfigArgs {
                slashers: Some((0..5).map(|_| Pubkey::new_unique()).collect()),
                ..Default::default()
            }),
            &admin,
        ),
        StakingError::TooManySlashers,
    );
}
