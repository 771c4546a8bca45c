//! Staking parameters, the slashers included, change only through a proposal that waits
//! the timelock plus the unbonding period (finding 5: an admin cannot make itself a slasher
//! and take stakes before their owners could leave).

use gpu_market_client::{staking as ix, token, Chain, Keypair, Pubkey, Signer};
use gpu_market_tests::*;
use staking::{
    constants::CONFIG_TIMELOCK, error::StakingError, events::StakingConfigUpdated, UpdateConfigArgs,
};

#[test]
fn a_proposal_takes_effect_after_the_timelock_and_the_cooldown() {
    let mut m = Market::new();
    let new_admin = Keypair::new();
    let new_treasury = token::create_token_account(
        &mut m.chain,
        &new_admin.pubkey(),
        &m.stake_mint,
        &token::TOKEN_PROGRAM,
    )
    .unwrap();
    let admin = m.admin.insecure_clone();
    m.send(
        ix::propose_config_update(
            &admin.pubkey(),
            Some(new_treasury),
            UpdateConfigArgs {
                new_admin: Some(new_admin.pubkey()),
                unbonding_period: Some(3_600),
                treasury_share_bps: Some(10_000),
                slashers: Some(vec![admin.pubkey()]),
            },
        ),
        &admin,
    )
    .unwrap();
    // The admin named itself slasher; stakers have the timelock plus a full cooldown to
    // leave before that counts.
    m.chain
        .advance(CONFIG_TIMELOCK + UNBONDING_PERIOD - 1)
        .unwrap();
    assert_error(
        m.send(ix::apply_config_update(&admin.pubkey()), &admin),
        StakingError::TimelockNotElapsed,
    );
    assert!(!m.staking_config().slashers.contains(&admin.pubkey()));
    m.chain.advance(1).unwrap();
    let out = m
        .send(ix::apply_config_update(&admin.pubkey()), &admin)
        .unwrap();
    let config = m.staking_config();
    assert_eq!(config.admin, new_admin.pubkey());
    assert_eq!(config.treasury, new_treasury);
    assert_eq!(config.unbonding_period, 3_600);
    assert_eq!(config.treasury_share_bps, 10_000);
    assert_eq!(config.slashers, vec![admin.pubkey()]);
    assert_eq!(
        out.events::<StakingConfigUpdated>()[0].treasury,
        new_treasury
    );
    // The old admin has lost its rights.
    assert_error(
        m.send(
            ix::propose_config_update(&admin.pubkey(), None, UpdateConfigArgs::default()),
            &admin,
        ),
        StakingError::NotAdmin,
    );
}

#[test]
fn proposals_reject_strangers_and_bad_values() {
    let mut m = Market::new();
    let stranger = m.wallet(0);
    assert_error(
        m.send(
            ix::propose_config_update(&stranger.pubkey(), None, UpdateConfigArgs::default()),
            &stranger.keypair,
        ),
        StakingError::NotAdmin,
    );
    let admin = m.admin.insecure_clone();
    let bad = |a: UpdateConfigArgs| ix::propose_config_update(&admin.pubkey(), None, a);
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
    assert_error(
        m.send(ix::apply_config_update(&admin.pubkey()), &admin),
        StakingError::NoPendingUpdate,
    );
}

#[test]
fn a_proposal_not_applied_in_time_lapses() {
    let mut m = Market::new();
    let admin = m.admin.insecure_clone();
    m.send(
        ix::propose_config_update(
            &admin.pubkey(),
            None,
            UpdateConfigArgs {
                treasury_share_bps: Some(0),
                ..Default::default()
            },
        ),
        &admin,
    )
    .unwrap();
    m.chain
        .advance(CONFIG_TIMELOCK + UNBONDING_PERIOD + staking::constants::PROPOSAL_LIFETIME + 1)
        .unwrap();
    assert_error(
        m.send(ix::apply_config_update(&admin.pubkey()), &admin),
        StakingError::ProposalLapsed,
    );
    assert_eq!(m.staking_config().treasury_share_bps, TREASURY_SHARE_BPS);
}

#[test]
fn the_admin_can_withdraw_a_proposal() {
    let mut m = Market::new();
    let admin = m.admin.insecure_clone();
    m.send(
        ix::propose_config_update(
            &admin.pubkey(),
            None,
            UpdateConfigArgs {
                unbonding_period: Some(3_600),
                ..Default::default()
            },
        ),
        &admin,
    )
    .unwrap();
    let stranger = m.wallet(0);
    assert_error(
        m.send(
            ix::cancel_config_update(&stranger.pubkey()),
            &stranger.keypair,
        ),
        StakingError::NotAdmin,
    );
    m.send(ix::cancel_config_update(&admin.pubkey()), &admin)
        .unwrap();
    assert!(m.staking_config().pending.is_none());
    m.chain.advance(CONFIG_TIMELOCK + UNBONDING_PERIOD).unwrap();
    assert_error(
        m.send(ix::apply_config_update(&admin.pubkey()), &admin),
        StakingError::NoPendingUpdate,
    );
    assert_eq!(m.staking_config().unbonding_period, UNBONDING_PERIOD);
}
