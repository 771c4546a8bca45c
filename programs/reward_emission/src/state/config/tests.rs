use super::*;
use proptest::prelude::*;

fn config(first: u64, decay_bps: u16, period: u64, cap: u64) -> EmissionConfig {
    EmissionConfig {
        admin: Pubkey::new_unique(),
        reward_mint: Pubkey::new_unique(),
        mint_authority_bump: 255,
        genesis_time: 1_000,
        epoch_length: 100,
        record_interval: 10,
        first_epoch_emission: first,
        decay_bps,
        decay_period_epochs: period,
        initial_cap: cap,
        hard_cap: cap,
        total_allocated: 0,
        total_minted: 0,
        bump: 255,
    }
}

fn schedule(first: u64, decay_bps: u16, period: u64, epoch: u64) -> u64 {
    crate::math::period_emission(first, decay_bps, epoch / period).unwrap()
}

#[test]
fn epochs_map_from_time() {
    let c = config(10, 0, 1, 100);
    assert_eq!(c.epoch_at(1_000).unwrap(), 0);
    assert_eq!(c.epoch_at(1_099).unwrap(), 0);
    assert_eq!(c.epoch_at(1_100).unwrap(), 1);
    assert_eq!(
        c.epoch_at(999).unwrap_err(),
        error!(EmissionError::BeforeGenesis)
    );
}

proptest! {
    /// Opening any increasing sequence of epochs allocates exactly the schedule until
    /// the cap, and never more than the cap.
    #[test]
    fn allocation_follows_the_schedule_up_to_the_cap(
        first in 1..1_000_000_000_000u64,
        decay_bps in 0..=10_000u16,
        period in 1..10u64,
        cap in 0..10_000_000_000_000u64,
        gaps in proptest::collection::vec(0..50u64, 1..40),
    ) {
        let mut c = config(first, decay_bps, period, cap);
        let (mut epoch, mut scheduled) = (0u64, 0u128);
        for gap in gaps {
            epoch += gap;
            let emission = c.open_epoch(epoch).unwrap();
            let expected = schedule(first, decay_bps, period, epoch);
            prop_assert!(emission <= expected);
            scheduled += u128::from(expected);
            prop_assert_eq!(u128::from(c.total_allocated), scheduled.min(u128::from(cap)));
            prop_assert!(c.total_allocated <= cap);
            epoch += 1;
        }
    }
}

#[test]
fn an_epochs_fold_window_is_the_first_quarter_of_the_next() {
    let c = config(1_000, 0, 1, 10_000);
    assert_eq!(c.epoch_end(0).unwrap(), 1_100);
    assert_eq!(c.epoch_end(4).unwrap(), 1_500);
    assert_eq!(c.fold_window(), 25);
    assert_eq!(c.fold_closes(4).unwrap(), 1_525);
    assert!(c.epoch_end(u64::MAX).is_err());
    // A record interval longer than an epoch is refused.
    let mut c = c;
    c.record_interval = 101;
    assert!(c.invariant().is_err());
    c.record_interval = 0;
    assert!(c.invariant().is_err());
}
