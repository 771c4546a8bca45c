use gpu_market_client::{
    escrow::{self as ix, JobStatus},
    pda, Chain,
};
use gpu_market_tests::{escrow::*, *};
use job_escrow::{error::EscrowError, events::ResultSubmitted};

fn running(m: &mut Market) -> (Wallet, gpu_market_client::Pubkey) {
    let provider = m.provider(1);
    let client = m.client(100 * TOKEN);
    m.create_job(&client, batch_job(1, 1)).unwrap();
    let job = pda::job(&client.pubkey(), 1);
    take_and_start(m, &provider.keypair, &job);
    (provider, job)
}

#[test]
fn the_assigned_operator_submits_a_result() {
    let mut m = Market::with_escrow();
    let (provider, job) = running(&mut m);
    m.chain.advance(900).unwrap();
    let out = signed(
        &mut m,
        ix::submit_result(
            &provider.pubkey(),
            &provider.pubkey(),
            &job,
            [5; 32],
            "s3://out".into(),
        ),
        &provider.keypair,
    )
    .unwrap();
    let j: gpu_market_client::escrow::Job = m.chain.fetch(&job).unwrap();
    assert_eq!(j.status, JobStatus::ResultSubmitted);
    let result = j.result.unwrap();
    assert_eq!((result.hash, result.uri.as_str()), ([5; 32], "s3://out"));
    assert_eq!(out.events::<ResultSubmitted>()[0].billable_seconds, 900);
    // The GPUs are free for other work while the challenge window runs.
    assert_eq!(m.provider_account(&provider.pubkey()).gpus_in_use, 0);
}

#[test]
fn a_result_from_a_provider_not_assigned_is_refused() {
    let mut m = Market::with_escrow();
    let (provider, job) = running(&mut m);
    let other = m.provider(1);
    assert_error(
        signed(
            &mut m,
            ix::submit_result(
                &other.pubkey(),
                &other.pubkey(),
                &job,
                [5; 32],
                "s3://x".into(),
            ),
            &other.keypair,
        ),
        EscrowError::WrongProvider,
    );
    // Nor by naming the assigned provider's accounts.
    assert_error(
        signed(
            &mut m,
            ix::submit_result(
                &other.pubkey(),
                &provider.pubkey(),
                &job,
                [5; 32],
                "s3://x".into(),
            ),
            &other.keypair,
        ),
        EscrowError::NotAssignedProvider,
    );
}

#[test]
fn a_result_after_the_max_duration_is_refused() {
    let mut m = Market::with_escrow();
    let (provider, job) = running(&mut m);
    m.chain.advance(2 * 3_600 + 1).unwrap();
    assert_error(
        signed(
            &mut m,
            ix::submit_result(
                &provider.pubkey(),
                &provider.pubkey(),
                &job,
                [5; 32],
                "s3://x".into(),
            ),
            &provider.keypair,
        ),
        EscrowError::DurationExceeded,
    );
}
