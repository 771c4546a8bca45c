use gpu_market_client::{
    escrow::{self as ix, JobStatus},
    pda, Chain,
};
use gpu_market_tests::{escrow::*, *};
use job_escrow::{error::EscrowError, events::JobStarted};

fn assigned(m: &mut Market, gpus: u16) -> (Wallet, gpu_market_client::Pubkey) {
    let provider = m.provider(gpus);
    let client = m.client(100 * TOKEN);
    m.create_job(&client, batch_job(1, gpus)).unwrap();
    let job = pda::job(&client.pubkey(), 1);
    signed(
        m,
        ix::accept_job(&provider.pubkey(), &provider.pubkey(), &job),
        &provider.keypair,
    )
    .unwrap();
    (provider, job)
}

#[test]
fn start_reserves_the_gpus() {
    let mut m = Market::with_escrow();
    let (provider, job) = assigned(&mut m, 2);
    m.chain.advance(START_TIMEOUT).unwrap();
    let now = m.chain.now().unwrap();
    let out = signed(
        &mut m,
        ix::start_job(&provider.pubkey(), &provider.pubkey(), &job),
        &provider.keypair,
    )
    .unwrap();
    let j: gpu_market_client::escrow::Job = m.chain.fetch(&job).unwrap();
    assert_eq!(
        (j.status, j.started_at, j.last_heartbeat),
        (JobStatus::Running, now, now)
    );
    assert_eq!(m.provider_account(&provider.pubkey()).gpus_in_use, 2);
    assert_eq!(out.events::<JobStarted>()[0].time_to_start, START_TIMEOUT);
}

#[test]
fn start_after_the_timeout_is_refused() {
    let mut m = Market::with_escrow();
    let (provider, job) = assigned(&mut m, 1);
    m.chain.advance(START_TIMEOUT + 1).unwrap();
    assert_error(
        signed(
            &mut m,
            ix::start_job(&provider.pubkey(), &provider.pubkey(), &job),
            &provider.keypair,
        ),
        EscrowError::StartTimeoutPassed,
    );
}

#[test]
fn another_provider_cannot_start_it() {
    let mut m = Market::with_escrow();
    let (_provider, job) = assigned(&mut m, 1);
    let other = m.provider(1);
    assert_error(
        signed(
            &mut m,
            ix::start_job(&other.pubkey(), &other.pubkey(), &job),
            &other.keypair,
        ),
        EscrowError::WrongProvider,
    );
}

#[test]
fn heartbeats_come_from_the_assigned_operator_while_running() {
    let mut m = Market::with_escrow();
    let (provider, job) = assigned(&mut m, 1);
    assert_error(
        signed(
            &mut m,
            ix::heartbeat_job(&provider.pubkey(), &provider.pubkey(), &job),
            &provider.keypair,
        ),
        EscrowError::JobNotRunning,
    );
    signed(
        &mut m,
        ix::start_job(&provider.pubkey(), &provider.pubkey(), &job),
        &provider.keypair,
    )
    .unwrap();
    m.chain.advance(60).unwrap();
    signed(
        &mut m,
        ix::heartbeat_job(&provider.pubkey(), &provider.pubkey(), &job),
        &provider.keypair,
    )
    .unwrap();
    let j: gpu_market_client::escrow::Job = m.chain.fetch(&job).unwrap();
    assert_eq!(j.last_heartbeat, j.started_at + 60);
    let stranger = m.wallet(0);
    assert_error(
        signed(
            &mut m,
            ix::heartbeat_job(&stranger.pubkey(), &provider.pubkey(), &job),
            &stranger.keypair,
        ),
        EscrowError::NotAssignedProvider,
    );
}
