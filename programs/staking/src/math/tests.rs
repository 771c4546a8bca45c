use super::*;

#[test]
fn bps_rounds_down() {
    assert_eq!(bps_of(999, 5_000).unwrap(), 499);
    assert_eq!(bps_of(u64::MAX, 10_000).unwrap(), u64::MAX);
    assert_eq!(bps_of(1, 9_999).unwrap(), 0);
}
