use gpu_market_client::{staking as ix, Keypair, Signer};
use gpu_market_tests::{proxy, *};
use staking::{
    constants::CONFIG_TIMELOCK,
    error::StakingError,
    events::{StakeLockChange, StakeLockChanged},
    UpdateConfigArgs,
};

fn staked(m: &mut Market, amount: u64) -> Wallet {
    let owner = m.wallet(amount);
    m.stake(&owner, amount).unwrap();
    owner
}

#[test]
fn a_slasher_locks_and_unlocks_collateral() {
    let mut m = Market::new();
    let owner = staked(&mut m, 100 * TOKEN);
    let out = m
        .send_as_escrow(ix::lock_stake(
            &proxy::authority(),
            &owner.pubkey(),
            60 * TOKEN,
        ))
        .unwrap();
    let event = &out.events::<StakeLockChanged>()[0];
    assert_eq!(
        (event.change, event.amount, event.locked_after),
        (StakeLockChange::Locked, 60 * TOKEN, 60 * TOKEN)
    );
    assert_eq!(m.staking_config().total_locked, 60 * TOKEN);
    // More than what is unlocked is refused.
    assert_error(
        m.send_as_escrow(ix::lock_stake(
            &proxy::authority(),
            &owner.pubkey(),
            41 * TOKEN,
        )),
        StakingError::InsufficientUnlockedStake,
    );
    // Unlocking saturates at what is locked.
    let out = m
        .send_as_escrow(ix::unlock_stake(
            &proxy::authority(),
            &owner.pubkey(),
            u64::MAX,
        ))
        .unwrap();
    assert_eq!(out.events::<StakeLockChanged>()[0].amount, 60 * TOKEN);
    assert_eq!(m.stake_account(&owner.pubkey()).locked, 0);
    assert_eq!(m.staking_config().total_locked, 0);
}

#[test]
fn only_a_slasher_locks_or_unlocks() {
    let mut m = Market::new();
    let owner = staked(&mut m, 100 * TOKEN);
    let stranger = Keypair::new();
    for ixn in [
        ix::lock_stake(&stranger.pubkey(), &owner.pubkey(), TOKEN),
        ix::unlock_stake(&stranger.pubkey(), &owner.pubkey(), TOKEN),
    ] {
        assert_error(m.send(ixn, &stranger), StakingError::UnauthorizedSlasher);
    }
    // The owner cannot unlock its own stake either.
    m.send_as_escrow(ix::lock_stake(&proxy::authority(), &owner.pubkey(), TOKEN))
        .unwrap();
    assert_error(
        m.send(
            ix::unlock_stake(&owner.pubkey(), &owner.pubkey(), TOKEN),
            &owner.keypair,
        ),
        StakingError::UnauthorizedSlasher,
    );
}

/// Finding 5: removing the slasher that holds locks would leave them unreleasable.
#[test]
fn a_slasher_cannot_be_removed_while_stake_is_locked() {
    let mut m = Market::new();
    let owner = staked(&mut m, 100 * TOKEN);
    m.send_as_escrow(ix::lock_stake(&proxy::authority(), &owner.pubkey(), TOKEN))
        .unwrap();
    let admin = m.admin.insecure_clone();
    let keep_only_escrow = UpdateConfigArgs {
        slashers: Some(vec![gpu_market_client::pda::escrow_authority()]),
        ..Default::default()
    };
    m.send(
        ix::propose_config_update(&admin.pubkey(), None, keep_only_escrow.clone()),
        &admin,
    )
    .unwrap();
    gpu_market_client::Chain::advance(&mut m.chain, CONFIG_TIMELOCK + UNBONDING_PERIOD).unwrap();
    assert_error(
        m.send(ix::apply_config_update(&admin.pubkey()), &admin),
        StakingError::SlasherHoldsLocks,
    );
    // Once the lock is released the change goes through.
    m.send_as_escrow(ix::unlock_stake(
        &proxy::authority(),
        &owner.pubkey(),
        TOKEN,
    ))
    .unwrap();
    m.send(ix::apply_config_update(&admin.pubkey()), &admin)
        .unwrap();
    assert_eq!(
        m.staking_config().slashers,
        vec![gpu_market_client::pda::escrow_authority()]
    );
}
