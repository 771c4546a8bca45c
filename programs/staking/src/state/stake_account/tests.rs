use super::*;
use proptest::prelude::*;

fn account(active: u64, unbonding: u64) -> StakeAccount {
    StakeAccount {
        owner: Pubkey::new_unique(),
        active,
        unbonding,
        unbonding_ends_at: if unbonding > 0 { 100 } else { 0 },
        total_slashed: 0,
        locked: 0,
        bump: 255,
    }
}

#[test]
fn locked_stake_backs_jobs_and_cannot_be_unbonded() {
    let mut stake = account(100, 0);
    stake.lock(60).unwrap();
    assert_eq!(stake.unlocked(), 40);
    assert_eq!(
        stake.lock(41).unwrap_err(),
        error!(StakingError::InsufficientUnlockedStake)
    );
    assert_eq!(
        stake.begin_unbonding(41, 0, 10).unwrap_err(),
        error!(StakingError::StakeLocked)
    );
    stake.begin_unbonding(40, 0, 10).unwrap();
    assert_eq!((stake.active, stake.locked, stake.unbonding), (60, 60, 40));
    // Unlocking saturates: a job's ending is never blocked by its collateral's books.
    assert_eq!(stake.unlock(100), 60);
    assert_eq!(stake.locked, 0);
    stake.invariant().unwrap();
}

#[test]
fn a_slash_leaves_no_more_locked_than_active() {
    let mut stake = account(100, 0);
    stake.lock(80).unwrap();
    stake.slash(50).unwrap();
    assert_eq!((stake.active, stake.locked), (50, 50));
    stake.invariant().unwrap();
}

#[test]
fn slash_takes_active_then_unbonding() {
    let mut stake = account(50, 30);
    let taken = stake.slash(70).unwrap();
    assert_eq!(
        taken,
        SlashTaken {
            from_active: 50,
            from_unbonding: 20
        }
    );
    assert_eq!(
        (stake.active, stake.unbonding, stake.total_slashed),
        (0, 10, 70)
    );
    stake.invariant().unwrap();
}

#[test]
fn slash_clamps_at_the_stake() {
    let mut stake = account(5, 3);
    let taken = stake.slash(u64::MAX).unwrap();
    assert_eq!(taken.total().unwrap(), 8);
    assert_eq!(
        (stake.active, stake.unbonding, stake.unbonding_ends_at),
        (0, 0, 0)
    );
    stake.invariant().unwrap();
    assert_eq!(
        stake.slash(1).unwrap_err(),
        error!(StakingError::NothingToSlash)
    );
}

#[derive(Debug, Clone)]
enum Op {
    Deposit(u64),
    Unbond(u64),
    Cancel,
    Withdraw,
    Slash(u64),
    Wait(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1..1_000_000u64).prop_map(Op::Deposit),
        (0..1_500_000u64).prop_map(Op::Unbond),
        Just(Op::Cancel),
        Just(Op::Withdraw),
        (0..2_000_000u64).prop_map(Op::Slash),
        (0..200i64).prop_map(Op::Wait),
    ]
}

proptest! {
    /// Whatever the order of operations, every token deposited is still staked,
    /// unbonding, withdrawn or slashed: none is created or lost.
    #[test]
    fn tokens_are_conserved(ops in proptest::collection::vec(op(), 1..60)) {
        let mut stake = account(0, 0);
        let (mut now, mut deposited, mut withdrawn) = (0i64, 0u64, 0u64);
        for op in ops {
            // Rejected operations must leave the account as it was.
            let before = (stake.active, stake.unbonding, stake.unbonding_ends_at);
            let ok = match op {
                Op::Deposit(n) => stake.deposit(n).map(|_| deposited += n).is_ok(),
                Op::Unbond(n) => stake.begin_unbonding(n, now, 100).is_ok(),
                Op::Cancel => stake.cancel_unbonding().is_ok(),
                Op::Withdraw => stake.take_unbonded(now).map(|n| withdrawn += n).is_ok(),
                Op::Slash(n) => stake.slash(n).is_ok(),
                Op::Wait(s) => { now += s; true }
            };
            if !ok {
                prop_assert_eq!(before, (stake.active, stake.unbonding, stake.unbonding_ends_at));
            }
            stake.invariant().unwrap();
            prop_assert_eq!(
                u128::from(stake.active) + u128::from(stake.unbonding)
                    + u128::from(withdrawn) + u128::from(stake.total_slashed),
                u128::from(deposited)
            );
        }
    }
}

#[test]
fn unbonding_restarts_the_cooldown() {
    let mut stake = account(100, 0);
    stake.begin_unbonding(10, 1_000, 60).unwrap();
    stake.begin_unbonding(10, 1_030, 60).unwrap();
    assert_eq!(
        (stake.active, stake.unbonding, stake.unbonding_ends_at),
        (80, 20, 1_090)
    );
    assert_eq!(
        stake.take_unbonded(1_089).unwrap_err(),
        error!(StakingError::CooldownNotElapsed)
    );
    assert_eq!(stake.take_unbonded(1_090).unwrap(), 20);
    stake.invariant().unwrap();
}

#[test]
fn the_bump_is_the_last_byte_of_the_account() {
    // `utils::pda_bump` reads an existing stake account's bump from its last byte.
    let mut stake = account(1, 0);
    stake.bump = 0xA7;
    let mut data = Vec::new();
    stake.try_serialize(&mut data).unwrap();
    assert_eq!(data.len(), StakeAccount::SPACE);
    assert_eq!(data.last(), Some(&0xA7));
}
