use super::*;
use proptest::prelude::*;

/// The schedule in floating point, for comparison.
fn reference(first: u64, decay_bps: u16, period: u64) -> f64 {
    let keep = (10_000.0 - f64::from(decay_bps)) / 10_000.0;
    first as f64 * keep.powf(period as f64)
}

#[test]
fn edge_cases() {
    assert_eq!(period_emission(1_000, 0, 1_000_000).unwrap(), 1_000);
    assert_eq!(period_emission(1_000, 500, 0).unwrap(), 1_000);
    assert_eq!(period_emission(1_000, 10_000, 1).unwrap(), 0);
    // One period: the exact floor of first x 9999 / 10000 here...
    assert_eq!(
        period_emission(u64::MAX, 1, 1).unwrap(),
        (u128::from(u64::MAX) * 9_999 / 10_000) as u64
    );
    // ...and one base unit under it where 0.9 has no exact binary fraction.
    assert_eq!(period_emission(1_000, 1_000, 1).unwrap(), 899);
}

#[test]
fn a_million_idle_periods_cost_a_few_dozen_steps() {
    // 0.01% decay per period over a million periods: e^-100 of the first emission.
    assert_eq!(period_emission(u64::MAX, 1, 1_000_000).unwrap(), 0);
    // Ten thousand periods: about 1/e.
    let got = period_emission(1_000_000_000_000_000_000, 1, 10_000).unwrap();
    let want = reference(1_000_000_000_000_000_000, 1, 10_000);
    assert!((got as f64 - want).abs() / want < 1e-12, "{got} vs {want}");
    // The largest period there is still answers.
    assert_eq!(period_emission(u64::MAX, 1, u64::MAX).unwrap(), 0);
}

proptest! {
    /// Within a relative 1e-12 (plus rounding) of the real schedule, and never increasing.
    #[test]
    fn follows_the_schedule_and_never_increases(
        first in 1..u64::MAX,
        decay_bps in 1..10_000u16,
        period in 0..100_000u64,
    ) {
        let got = period_emission(first, decay_bps, period).unwrap();
        let want = reference(first, decay_bps, period);
        prop_assert!((got as f64 - want).abs() <= want * 1e-12 + 2.0, "{} vs {}", got, want);
        prop_assert!(period_emission(first, decay_bps, period + 1).unwrap() <= got);
    }
}
