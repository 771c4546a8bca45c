use gpu_market_client::{
    escrow::{self as ix, JobStatus},
    pda,
    registry::{self, GpuClass},
    Chain, Signer,
};
use gpu_market_tests::{escrow::*, *};
use job_escrow::{error::EscrowError, events::JobAssigned};
use provider_registry::UpdateProviderArgs;

fn open_job(m: &mut Market, args: job_escrow::CreateJobArgs) -> gpu_market_client::Pubkey {
    let client = m.client(100 * TOKEN);
    let id = args.job_id;
    m.create_job(&client, args).unwrap();
    pda::job(&client.pubkey(), id)
}

fn accept(
    m: &mut Market,
    provider: &Wallet,
    job: &gpu_market_client::Pubkey,
) -> Result<gpu_market_client::TxOutcome, gpu_market_client::ClientError> {
    let op = provider.keypair.insecure_clone();
    signed(m, ix::accept_job(&op.pubkey(), &op.pubkey(), job), &op)
}

#[test]
fn an_eligible_provider_takes_the_job_at_its_price() {
    let mut m = Market::with_escrow();
    let provider = m.provider(2);
    let job = open_job(&mut m, batch_job(1, 2));
    let now = m.chain.now().unwrap();
    let out = accept(&mut m, &provider, &job).unwrap();
    let j: gpu_market_client::escrow::Job = m.chain.fetch(&job).unwrap();
    assert_eq!((j.status, j.attempts), (JobStatus::Assigned, 1));
    let a = j.assignment.unwrap();
    assert_eq!(a.provider, pda::provider(&provider.pubkey()));
    assert_eq!(a.authority, provider.pubkey());
    // Taking the job reserves its GPUs, counts it as held and locks its collateral.
    let p = m.provider_account(&provider.pubkey());
    assert_eq!((p.gpus_in_use, p.jobs_held), (2, 1));
    assert_eq!(j.collateral_locked(), SLASH.dispute_lost);
    assert_eq!(
        m.stake_account(&provider.pubkey()).locked,
        SLASH.dispute_lost
    );
    assert_eq!((a.price_per_gpu_hour, a.assigned_at), (2 * TOKEN, now));
    assert_eq!(out.events::<JobAssigned>()[0].price_per_gpu_hour, 2 * TOKEN);
    // A second provider is too late.
    let second = m.provider(2);
    assert_error(accept(&mut m, &second, &job), EscrowError::JobNotOpen);
}

#[test]
fn a_price_above_the_max_is_refused() {
    let mut m = Market::with_escrow();
    let provider = m.provider(2);
    m.send(
        registry::update_provider(
            &provider.pubkey(),
            &provider.pubkey(),
            UpdateProviderArgs {
                price_per_gpu_hour: Some(3 * TOKEN + 1),
                ..Default::default()
            },
        ),
        &provider.keypair,
    )
    .unwrap();
    let job = open_job(&mut m, batch_job(1, 2));
    assert_error(accept(&mut m, &provider, &job), EscrowError::PriceAboveMax);
}

#[test]
fn ineligible_providers_are_refused_with_the_rule_they_break() {
    let mut m = Market::with_escrow();
    let provider = m.provider(2);

    let mut vram = batch_job(1, 1);
    vram.requirements.min_vram_mib = 81_921;
    let job = open_job(&mut m, vram);
    assert_error(
        accept(&mut m, &provider, &job),
        EscrowError::InsufficientVram,
    );

    let mut region = batch_job(2, 1);
    region.requirements.region = 840;
    let job = open_job(&mut m, region);
    assert_error(accept(&mut m, &provider, &job), EscrowError::RegionMismatch);

    let mut attested = batch_job(3, 1);
    attested.requirements.attested_only = true;
    let job = open_job(&mut m, attested);
    assert_error(accept(&mut m, &provider, &job), EscrowError::NotAttested);

    let mut class = batch_job(4, 1);
    class.requirements.gpu_class = GpuClass::Consumer.into();
    let job = open_job(&mut m, class);
    assert_error(
        accept(&mut m, &provider, &job),
        EscrowError::GpuClassMismatch,
    );

    let job = open_job(&mut m, batch_job(5, 3));
    assert_error(accept(&mut m, &provider, &job), EscrowError::TooFewGpus);
}

#[test]
fn paused_exiting_stale_and_under_staked_providers_are_refused() {
    let mut m = Market::with_escrow();
    let job = open_job(&mut m, batch_job(1, 1));

    let paused = m.provider(1);
    m.send(
        registry::pause_provider(&paused.pubkey(), &paused.pubkey()),
        &paused.keypair,
    )
    .unwrap();
    assert_error(accept(&mut m, &paused, &job), EscrowError::ProviderPaused);

    let exiting = m.provider(1);
    m.send(registry::begin_exit(&exiting.pubkey()), &exiting.keypair)
        .unwrap();
    assert_error(accept(&mut m, &exiting, &job), EscrowError::ProviderExiting);

    let under = m.provider(1);
    m.send(
        gpu_market_client::staking::request_unstake(&under.pubkey(), 1),
        &under.keypair,
    )
    .unwrap();
    assert_error(
        accept(&mut m, &under, &job),
        EscrowError::ProviderUnderStaked,
    );

    let stale = m.provider(1);
    m.chain
        .advance(HEARTBEAT_INTERVAL + LIVENESS_GRACE + 1)
        .unwrap();
    assert_error(accept(&mut m, &stale, &job), EscrowError::ProviderStale);
}

#[test]
fn a_provider_without_free_capacity_is_refused() {
    let mut m = Market::with_escrow();
    let provider = m.provider(2);
    let first = open_job(&mut m, batch_job(1, 2));
    accept(&mut m, &provider, &first).unwrap();
    signed(
        &mut m,
        ix::start_job(&provider.pubkey(), &provider.pubkey(), &first),
        &provider.keypair,
    )
    .unwrap();
    let second = open_job(&mut m, batch_job(2, 1));
    assert_error(
        accept(&mut m, &provider, &second),
        EscrowError::NoFreeCapacity,
    );
}

#[test]
fn only_the_providers_operator_accepts() {
    let mut m = Market::with_escrow();
    let provider = m.provider(1);
    let stranger = m.wallet(0);
    let job = open_job(&mut m, batch_job(1, 1));
    assert_error(
        signed(
            &mut m,
            ix::accept_job(&stranger.pubkey(), &provider.pubkey(), &job),
            &stranger.keypair,
        ),
        EscrowError::NotAssignedProvider,
    );
}
