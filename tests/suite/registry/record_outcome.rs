use gpu_market_client::registry::{self as ix, Outcome, Reputation};
use gpu_market_tests::{proxy, *};
use provider_registry::{error::RegistryError, events::OutcomeRecorded};

#[test]
fn outcomes_accumulate_in_the_reputation() {
    let mut m = Market::new();
    let authority = m.provider(1);
    let outcomes = [
        Outcome::Completed {
            gpu_seconds: 3_600,
            time_to_start: 12,
        },
        Outcome::Completed {
            gpu_seconds: 600,
            time_to_start: 8,
        },
        Outcome::Failed,
        Outcome::DisputeLost,
    ];
    let mut last = None;
    for outcome in outcomes {
        last = Some(
            m.send_as_escrow(ix::record_outcome(
                &proxy::authority(),
                &authority.pubkey(),
                outcome,
            ))
            .unwrap(),
        );
    }
    let expected = Reputation {
        jobs_completed: 2,
        jobs_failed: 1,
        disputes_lost: 1,
        gpu_seconds_served: 4_200,
        time_to_start_sum: 20,
    };
    assert_eq!(m.provider_account(&authority.pubkey()).reputation, expected);
    assert_eq!(expected.completion_rate_bps(), 5_000);
    let event = &last.unwrap().events::<OutcomeRecorded>()[0];
    assert_eq!(event.reputation_after, expected);
}

#[test]
fn a_user_recording_an_outcome_is_refused() {
    let mut m = Market::new();
    let authority = m.provider(1);
    assert_error(
        m.send(
            ix::record_outcome(
                &authority.pubkey(),
                &authority.pubkey(),
                Outcome::Completed {
                    gpu_seconds: u64::MAX,
                    time_to_start: 0,
                },
            ),
            &authority.keypair,
        ),
        RegistryError::NotEscrowAuthority,
    );
    assert_eq!(
        m.provider_account(&authority.pubkey()).reputation,
        Reputation::default()
    );
}
