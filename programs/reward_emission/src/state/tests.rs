use super::*;
use anchor_lang::prelude::*;

fn serialized<T: AccountSerialize>(value: &T) -> Vec<u8> {
    let mut data = Vec::new();
    value.try_serialize(&mut data).unwrap();
    data
}

#[test]
fn records_and_epochs_keep_their_bump_in_their_last_byte() {
    // `staking::utils::pda_bump` reads an existing account's bump from its last byte.
    let rewards = ProviderRewards {
        provider: Pubkey::new_unique(),
        earlier: EpochWeight {
            epoch: u64::MAX,
            weight: u64::MAX,
            folded: true,
        },
        latest: EpochWeight {
            epoch: u64::MAX,
            weight: u64::MAX,
            folded: true,
        },
        unclaimed: u64::MAX,
        total_claimed: u64::MAX,
        last_recorded_at: i64::MAX,
        bump: 0xA7,
    };
    let data = serialized(&rewards);
    assert_eq!(data.len(), ProviderRewards::SPACE);
    assert_eq!(data.last(), Some(&0xA7));

    let epoch = Epoch {
        epoch: u64::MAX,
        emission: u64::MAX,
        total_weight: u128::MAX,
        bump: 0xB3,
    };
    let data = serialized(&epoch);
    assert_eq!(data.len(), Epoch::SPACE);
    assert_eq!(data.last(), Some(&0xB3));

    let shard = UptimeShard {
        index: u8::MAX,
        epoch: u64::MAX,
        weight: u128::MAX,
        providers: u64::MAX,
        tallied: true,
        bump: 0xC5,
    };
    let data = serialized(&shard);
    assert_eq!(data.len(), UptimeShard::SPACE);
    assert_eq!(data.last(), Some(&0xC5));
}

fn record(earlier: (u64, u64, bool), latest: (u64, u64, bool)) -> ProviderRewards {
    let slot = |(epoch, weight, folded)| EpochWeight {
        epoch,
        weight,
        folded,
    };
    ProviderRewards {
        provider: Pubkey::new_unique(),
        earlier: slot(earlier),
        latest: slot(latest),
        unclaimed: 0,
        total_claimed: 0,
        last_recorded_at: 1,
        bump: 1,
    }
}

fn finalized(epoch: u64, emission: u64, total_weight: u128) -> Epoch {
    Epoch {
        epoch,
        emission,
        total_weight,
        bump: 1,
    }
}

#[test]
fn a_record_rolls_into_its_earlier_slot_only_when_that_is_settled() {
    let mut r = record((0, 0, false), (3, 5, true));
    r.roll(4).unwrap();
    assert_eq!(
        (r.earlier.epoch, r.earlier.weight, r.earlier.folded),
        (3, 5, true)
    );
    assert_eq!((r.latest.epoch, r.latest.weight), (4, 0));
    // Epoch 4 is recorded in and over, epoch 3 still unsettled: no room for epoch 5.
    r.latest.weight = 2;
    assert_eq!(
        r.roll(5).unwrap_err(),
        error!(crate::error::EmissionError::MissingEpoch)
    );
    assert_eq!(r.unsettled(5), vec![3, 4]);
    // Settling epoch 3 makes room; a record never rolls back.
    r.settle(&finalized(3, 1_000, 20), 5).unwrap();
    assert_eq!(r.unclaimed, 250);
    r.roll(5).unwrap();
    assert_eq!((r.earlier.epoch, r.earlier.weight), (4, 2));
    assert!(r.roll(4).is_err());
}

#[test]
fn only_folded_weight_earns_and_each_slot_settles_once() {
    let mut r = record((1, 3, false), (2, 4, false));
    assert_eq!(r.fold(2), Some(4));
    assert_eq!(r.fold(2), None);
    assert_eq!(r.fold(7), None);
    // Epoch 1 was never folded: its weight is forfeited, nothing paid.
    let settled = r.settle(&finalized(1, 1_000, 10), 3).unwrap();
    assert_eq!((settled.paid, settled.forfeited), (0, 3));
    // Epoch 2: 4 of 9 of 1,000, rounded down.
    let settled = r.settle(&finalized(2, 1_000, 9), 3).unwrap();
    assert_eq!((settled.paid, settled.forfeited), (444, 0));
    assert_eq!(r.unclaimed, 444);
    assert!(r.settle(&finalized(2, 1_000, 9), 3).is_err());
    // An epoch that is not over is never settled.
    let mut r = record((0, 0, false), (5, 1, true));
    assert!(r.settle(&finalized(5, 1_000, 1), 5).is_err());
}

#[test]
fn a_shard_takes_a_new_epoch_only_once_its_last_is_tallied() {
    let mut shard = UptimeShard {
        index: 0,
        epoch: 3,
        weight: 10,
        providers: 1,
        tallied: false,
        bump: 1,
    };
    assert!(shard.accepts(3));
    assert!(!shard.accepts(4));
    assert!(!shard.accepts(2));
    shard.tallied = true;
    assert!(!shard.accepts(3));
    assert!(shard.accepts(4));
    assert!(!shard.accepts(2));
    assert!(shard_of(&Pubkey::new_unique()) < crate::constants::SHARDS);
}
