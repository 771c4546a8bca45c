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
        current_epoch: u64::MAX,
        current_weight: u64::MAX,
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
}
