use gpu_market_client::staking as ix;
use gpu_market_tests::*;
use staking::{error::StakingError, events::UnstakeCancelled};

#[test]
fn cancel_unstake_returns_unbonding_to_active() {
    let mut m = Market::new();
    let owner = m.wallet(100 * TOKEN);
    m.stake(&owner, 100 * TOKEN).unwrap();
    m.send(
        ix::request_unstake(&owner.pubkey(), 40 * TOKEN),
        &owner.keypair,
    )
    .unwrap();
    let out = m
        .send(ix::cancel_unstake(&owner.pubkey()), &owner.keypair)
        .unwrap();

    let stake = m.stake_account(&owner.pubkey());
    assert_eq!(
        (stake.active, stake.unbonding, stake.unbonding_ends_at),
        (100 * TOKEN, 0, 0)
    );
    let config = m.staking_config();
    assert_eq!(
        (config.total_active, config.total_unbonding),
        (100 * TOKEN, 0)
    );
    assert_eq!(out.events::<UnstakeCancelled>()[0].amount, 40 * TOKEN);
}

#[test]
fn cancel_with_nothing_unbonding_is_refused() {
    let mut m = Market::new();
    let owner = m.wallet(100 * TOKEN);
    m.stake(&owner, 100 * TOKEN).unwrap();
    assert_error(
        m.send(ix::cancel_unstake(&owner.pubkey()), &owner.keypair),
        StakingError::NothingUnbonding,
    );
}
