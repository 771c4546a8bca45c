use gpu_market_client::registry::{self as ix, Outcome, RecordOutcomeArgs, Reputation};
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
        Outcome::WrongResult,
    ];
    let mut last = None;
    for outcome in outcomes {
        last = Some(
            m.send_as_escrow(ix::record_outcome(
                &proxy::authority(),
                &authority.pubkey(),
                RecordOutcomeArgs {
                    outcome,
                    release_gpus: 0,
                },
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
        verifications_failed: 1,
    };
    assert_eq!(m.provider_account(&authority.pubkey()).reputation, expected);
    assert_eq!(expected.completion_rate_bps(), 4_000);
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
                RecordOutcomeArgs {
                    outcome: Outcome::Completed {
                        gpu_seconds: u64::MAX,
                        time_to_start: 0,
                    },
                    release_gpus: 0,
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

/// An ending job frees the GPUs it still held in the same call that records its outcome.
/// Freeing more than are in use saturates, as the unlock of its stake does: the ending of
/// a job is never blocked by the bookkeeping of its GPUs.
#[test]
fn an_outcome_frees_the_gpus_the_job_held() {
    let mut m = Market::new();
    let authority = m.provider(4);
    for gpus in [2, 1] {
        m.send_as_escrow(ix::reserve_capacity(
            &proxy::authority(),
            &authority.pubkey(),
            gpus,
        ))
        .unwrap();
    }
    let record = |gpus| {
        ix::record_outcome(
            &proxy::authority(),
            &authority.pubkey(),
            RecordOutcomeArgs {
                outcome: Outcome::Failed,
                release_gpus: gpus,
            },
        )
    };
    let out = m.send_as_escrow(record(2)).unwrap();
    let provider = m.provider_account(&authority.pubkey());
    assert_eq!((provider.gpus_in_use, provider.jobs_held), (1, 1));
    assert_eq!(provider.reputation.jobs_failed, 1);
    let event = &out.events::<OutcomeRecorded>()[0];
    assert_eq!((event.gpus_released, event.gpus_in_use_after), (2, 1));

    let out = m.send_as_escrow(record(3)).unwrap();
    let provider = m.provider_account(&authority.pubkey());
    assert_eq!((provider.gpus_in_use, provider.jobs_held), (0, 0));
    assert_eq!(provider.reputation.jobs_failed, 2);
    let event = &out.events::<OutcomeRecorded>()[0];
    assert_eq!((event.gpus_released, event.gpus_in_use_after), (1, 0));
}
