use super::*;

#[test]
fn cost_rounds_down_and_max_cost_up() {
    // 1 base unit per GPU-hour for 1 second on 1 GPU: 1/3600.
    assert_eq!(cost(1, 1, 1).unwrap(), 0);
    assert_eq!(max_cost(1, 1, 1).unwrap(), 1);
    assert_eq!(cost(2_000_000, 4, 5_400).unwrap(), 12_000_000);
    assert_eq!(max_cost(2_000_000, 4, 5_400).unwrap(), 12_000_000);
    assert_eq!(cost(1_000_001, 3, 7).unwrap(), 5_833);
    assert_eq!(max_cost(1_000_001, 3, 7).unwrap(), 5_834);
}

#[test]
fn overflow_is_an_error_not_a_wrap() {
    assert!(cost(u64::MAX, u16::MAX, u64::MAX).is_err());
    assert_eq!(
        max_cost(u64::MAX, 2, 3_600).unwrap_err(),
        error!(EscrowError::DepositTooLarge)
    );
}
