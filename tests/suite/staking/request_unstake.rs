use anchor_lang::error::ErrorCode as AnchorError;
use gpu_market_client::{pda, staking as ix, Chain};
use gpu_market_tests::*;
use staking::{error::StakingError, events::UnstakeRequested};

#[test]
fn request_unstake_starts_the_cooldown() {
    let mut m = Market::new();
    let owner = m.wallet(100 * TOKEN);
    m.stake(&owner, 100 * TOKEN).unwrap();
    let now = m.chain.now().unwrap();
    let out = m
        .send(
            ix::request_unstake(&owner.pubkey(), 40 * TOKEN),
            &owner.keypair,
        )
        .unwrap();

    let stake = m.stake_account(&owner.pubkey());
    assert_eq!((stake.active, stake.unbonding), (60 * TOKEN, 40 * TOKEN));
    assert_eq!(stake.unbonding_ends_at, now + UNBONDING_PERIOD);
    let config = m.staking_config();
    assert_eq!(
        (config.total_active, config.total_unbonding),
        (60 * TOKEN, 40 * TOKEN)
    );
    // Tokens stay in the vault until withdrawn.
    assert_eq!(m.balance(&pda::staking_vault()), 100 * TOKEN);
    assert_eq!(
        out.events::<UnstakeRequested>()[0].unbonding_ends_at,
        now + UNBONDING_PERIOD
    );
}

#[test]
fn unstaking_more_than_active_is_refused() {
    let mut m = Market::new();
    let owner = m.wallet(100 * TOKEN);
    m.stake(&owner, 100 * TOKEN).unwrap();
    m.send(
        ix::request_unstake(&owner.pubkey(), 30 * TOKEN),
        &owner.keypair,
    )
    .unwrap();
    // 70 active remain; the 30 unbonding do not count.
    assert_error(
        m.send(
            ix::request_unstake(&owner.pubkey(), 70 * TOKEN + 1),
            &owner.keypair,
        ),
        StakingError::InsufficientActiveStake,
    );
    assert_error(
        m.send(ix::request_unstake(&owner.pubkey(), 0), &owner.keypair),
        StakingError::ZeroAmount,
    );
}

#[test]
fn unstaking_someone_elses_stake_is_refused() {
    let mut m = Market::new();
    let owner = m.wallet(100 * TOKEN);
    let thief = m.wallet(0);
    m.stake(&owner, 100 * TOKEN).unwrap();
    let ix = swap_account(
        ix::request_unstake(&thief.pubkey(), TOKEN),
        &pda::stake_account(&thief.pubkey()),
        &pda::stake_account(&owner.pubkey()),
    );
    assert_error(m.send(ix, &thief.keypair), AnchorError::ConstraintSeeds);
}

/// Staking's events are its own signed self-calls: another account in the event
/// authority's place is refused, and so is an event instruction nobody signed.
#[test]
fn the_event_authority_is_checked_and_events_cannot_be_forged() {
    let mut m = Market::new();
    let owner = m.wallet(100 * TOKEN);
    m.stake(&owner, 100 * TOKEN).unwrap();
    let authority = pda::event_authority(&staking::ID);
    for stand_in in [
        gpu_market_client::Pubkey::new_unique(),
        pda::event_authority(&provider_registry::ID),
    ] {
        let ix = swap_account(
            ix::request_unstake(&owner.pubkey(), TOKEN),
            &authority,
            &stand_in,
        );
        assert_error(m.send(ix, &owner.keypair), AnchorError::ConstraintAddress);
    }
    let forged = forged_event(
        staking::ID,
        &UnstakeRequested {
            owner: owner.pubkey(),
            amount: 1,
            active_after: 0,
            unbonding_after: 1,
            unbonding_ends_at: 0,
        },
    );
    assert_error(
        m.send(forged, &owner.keypair),
        AnchorError::ConstraintSigner,
    );
    assert_eq!(m.stake_account(&owner.pubkey()).active, 100 * TOKEN);
}
