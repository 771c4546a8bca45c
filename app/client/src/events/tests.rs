use super::*;
use anchor_lang::Event;
use reward_emission::events::RewardsClaimed;

fn claimed(amount: u64) -> RewardsClaimed {
    RewardsClaimed {
        provider: Pubkey::new_from_array([7; 32]),
        amount,
        total_claimed_after: amount,
        total_minted_after: amount,
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn native_log_events_count_only_inside_a_market_program() {
    let stranger = Pubkey::new_from_array([9; 32]);
    let ours = crate::program_ids::reward_emission();
    let logs = vec![
        format!("Program {stranger} invoke [1]"),
        // A program that is not ours logs a forged event, before and after calling ours.
        format!("Program log: event: {}", b64(&claimed(666).data())),
        format!("Program {ours} invoke [2]"),
        format!("Program log: event: {}", b64(&claimed(1).data())),
        // Not an event line of the native programs.
        format!("Program data: {}", b64(&claimed(665).data())),
        format!("Program log: event: {}", b64(&claimed(2).data())),
        format!("Program {ours} consumed 100 of 200 compute units"),
        format!("Program {ours} success"),
        format!("Program log: event: {}", b64(&claimed(667).data())),
        format!("Program {stranger} success"),
        format!("Program log: event: {}", b64(&claimed(668).data())),
    ];
    let amounts: Vec<u64> = decode::<RewardsClaimed>(&collect(&logs, &[], true))
        .iter()
        .map(|e| e.amount)
        .collect();
    assert_eq!(amounts, vec![1, 2]);
}

#[test]
fn cpi_events_count_only_from_a_market_program_with_the_event_tag() {
    let event = claimed(5).data();
    let tagged: Vec<u8> = EVENT_IX_TAG_LE
        .iter()
        .copied()
        .chain(event.clone())
        .collect();
    assert_eq!(
        from_inner_instruction(&crate::program_ids::reward_emission(), &tagged),
        Some(event.clone())
    );
    // Another program's self-call, and one of our instructions that is not an event.
    assert_eq!(
        from_inner_instruction(&Pubkey::new_from_array([9; 32]), &tagged),
        None
    );
    assert_eq!(
        from_inner_instruction(&crate::program_ids::job_escrow(), &event),
        None
    );
    let decoded = decode::<RewardsClaimed>(&[tagged[8..].to_vec()]);
    assert_eq!(decoded[0].amount, 5);
}

#[test]
fn events_of_another_type_or_garbled_are_skipped() {
    let mut short = claimed(3).data();
    short.truncate(20);
    let other = reward_emission::events::EpochFinalized {
        epoch: 1,
        emission: 2,
        total_weight: 4,
        providers: 1,
        total_allocated_after: 3,
    }
    .data();
    assert!(decode::<RewardsClaimed>(&[short, other]).is_empty());
}

/// On SBF only the programs' signed self-calls are events, in the order they ran; log
/// lines are not, whoever wrote them.
#[test]
fn sbf_events_are_the_self_calls_in_order_and_never_log_lines() {
    let ours = crate::program_ids::reward_emission();
    let token = Pubkey::new_from_array([6; 32]);
    let tagged = |amount| -> Vec<u8> {
        EVENT_IX_TAG_LE
            .iter()
            .copied()
            .chain(claimed(amount).data())
            .collect()
    };
    let logs = vec![
        format!("Program {ours} invoke [1]"),
        format!("Program data: {}", b64(&claimed(666).data())),
        format!("Program log: event: {}", b64(&claimed(667).data())),
        format!("Program {token} invoke [2]"),
        format!("Program {token} success"),
        "Log truncated".to_owned(),
    ];
    let inner = vec![
        (ours, tagged(2)),
        (token, vec![3, 0, 0]),
        (Pubkey::default(), tagged(668)),
        (ours, tagged(4)),
        (ours, tagged(5)),
    ];
    let amounts: Vec<u64> = decode::<RewardsClaimed>(&collect(&logs, &inner, false))
        .iter()
        .map(|e| e.amount)
        .collect();
    assert_eq!(amounts, vec![2, 4, 5]);
}

#[test]
fn a_program_ours_calls_cannot_log_events_for_it() {
    let ours = crate::program_ids::job_escrow();
    let stranger = Pubkey::new_from_array([9; 32]);
    let logs = vec![
        format!("Program {ours} invoke [1]"),
        format!("Program {stranger} invoke [2]"),
        format!("Program data: {}", b64(&claimed(666).data())),
        format!("Program log: event: {}", b64(&claimed(667).data())),
        format!("Program {stranger} consumed 100 of 200 compute units"),
        format!("Program {stranger} success"),
        format!("Program log: event: {}", b64(&claimed(1).data())),
        format!("Program {ours} success"),
    ];
    let amounts: Vec<u64> = decode::<RewardsClaimed>(&collect(&logs, &[], true))
        .iter()
        .map(|e| e.amount)
        .collect();
    assert_eq!(amounts, vec![1]);
}

#[test]
fn native_event_lines_count_only_from_the_native_bank() {
    let ours = crate::program_ids::reward_emission();
    let logs = vec![
        format!("Program {ours} invoke [1]"),
        format!("Program log: event: {}", b64(&claimed(1).data())),
        format!("Program {ours} success"),
    ];
    assert_eq!(collect(&logs, &[], true).len(), 1);
    assert!(collect(&logs, &[], false).is_empty());
}
