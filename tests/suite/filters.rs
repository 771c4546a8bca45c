//! Filtered reads: each filter of `gpu_market_client::filters` selects exactly the accounts
//! whose decoded fields match, through `Chain::fetch_where` on the in-process chain (the RPC
//! backend sends the same filters to the node; see its unit tests).

use gpu_market_client::{
    escrow::{self as ix, Job, JobStatus},
    filters, pda,
    program_ids::{JOB_ESCROW, PROVIDER_REGISTRY},
    registry::{self, ClassFilter, GpuClass, Provider, ProviderStatus},
    staking::StakeAccount,
    Chain, ClientError, Memcmp, Pubkey, MAX_FILTERS,
};
use gpu_market_tests::{escrow::*, *};

/// The addresses `filters` select, which must be those of `all` that `pred` accepts.
fn selects<T: anchor_lang::AccountDeserialize + anchor_lang::Discriminator>(
    m: &mut Market,
    program: &Pubkey,
    filters: &[Memcmp],
    all: &[(Pubkey, T)],
    pred: impl Fn(&T) -> bool,
) -> Vec<Pubkey> {
    let got: Vec<Pubkey> = m
        .chain
        .fetch_where::<T>(program, filters)
        .unwrap()
        .into_iter()
        .map(|(address, _)| address)
        .collect();
    let expected: Vec<Pubkey> = all
        .iter()
        .filter(|(_, account)| pred(account))
        .map(|(address, _)| *address)
        .collect();
    assert_eq!(got, expected);
    got
}

#[test]
fn provider_filters_select_exactly_the_matching_providers() {
    let mut m = Market::with_escrow();
    let (a, b, paused) = (m.provider(2), m.provider(1), m.provider(1));
    m.send(
        registry::pause_provider(&paused.pubkey(), &paused.pubkey()),
        &paused.keypair,
    )
    .unwrap();
    let all: Vec<(Pubkey, Provider)> = m.chain.fetch_all(&PROVIDER_REGISTRY).unwrap();
    assert_eq!(all.len(), 3);
    let mut active = vec![pda::provider(&a.pubkey()), pda::provider(&b.pubkey())];
    active.sort();

    let got = selects(
        &mut m,
        &PROVIDER_REGISTRY,
        &[filters::provider::active_in_class(GpuClass::Datacenter)],
        &all,
        |p| p.status == ProviderStatus::Active && p.hardware.gpu_class == GpuClass::Datacenter,
    );
    assert_eq!(got, active);
    let got = selects(
        &mut m,
        &PROVIDER_REGISTRY,
        &[filters::provider::active_in_class(GpuClass::Consumer)],
        &all,
        |p| p.status == ProviderStatus::Active && p.hardware.gpu_class == GpuClass::Consumer,
    );
    assert!(got.is_empty());
    let got = selects(
        &mut m,
        &PROVIDER_REGISTRY,
        &[filters::provider::with_status(ProviderStatus::Paused)],
        &all,
        |p| p.status == ProviderStatus::Paused,
    );
    assert_eq!(got, vec![pda::provider(&paused.pubkey())]);
    let mint = m.payment_mint;
    let got = selects(
        &mut m,
        &PROVIDER_REGISTRY,
        &[filters::provider::paid_in(&mint)],
        &all,
        |p| p.payment_mint == mint,
    );
    assert_eq!(got.len(), 3);
    let got = selects(
        &mut m,
        &PROVIDER_REGISTRY,
        &[filters::provider::of_authority(&a.pubkey())],
        &all,
        |p| p.authority == a.pubkey(),
    );
    assert_eq!(got, vec![pda::provider(&a.pubkey())]);
    let region = all[0].1.region;
    selects(
        &mut m,
        &PROVIDER_REGISTRY,
        &[
            filters::provider::in_region(region),
            filters::provider::paid_in(&mint),
        ],
        &all,
        |p| p.region == region && p.payment_mint == mint,
    );
}

#[test]
fn job_filters_select_exactly_the_matching_jobs() {
    let mut m = Market::with_escrow();
    let (a, b) = (m.provider(2), m.provider(1));
    let client = m.client(100 * TOKEN);
    let other = m.client(100 * TOKEN);
    m.create_job(&client, batch_job(1, 1)).unwrap();
    let mut datacenter = batch_job(2, 1);
    datacenter.requirements.gpu_class = GpuClass::Datacenter.into();
    m.create_job(&client, datacenter).unwrap();
    let mut consumer = batch_job(3, 1);
    consumer.requirements.gpu_class = GpuClass::Consumer.into();
    m.create_job(&other, consumer).unwrap();
    m.create_job(&client, batch_job(4, 1)).unwrap();
    let taken = pda::job(&client.pubkey(), 4);
    signed(
        &mut m,
        ix::accept_job(&a.pubkey(), &a.pubkey(), &taken),
        &a.keypair,
    )
    .unwrap();
    let all: Vec<(Pubkey, Job)> = m.chain.fetch_all(&JOB_ESCROW).unwrap();
    assert_eq!(all.len(), 4);

    for (class, job) in [
        (ClassFilter::Any, pda::job(&client.pubkey(), 1)),
        (ClassFilter::Datacenter, pda::job(&client.pubkey(), 2)),
        (ClassFilter::Consumer, pda::job(&other.pubkey(), 3)),
    ] {
        let got = selects(
            &mut m,
            &JOB_ESCROW,
            &[filters::job::open_for(class)],
            &all,
            |j| j.status == JobStatus::Open && j.requirements.gpu_class == class,
        );
        assert_eq!(got, vec![job], "{class:?}");
    }
    let got = selects(
        &mut m,
        &JOB_ESCROW,
        &[filters::job::assigned_to(&pda::provider(&a.pubkey()))],
        &all,
        |j| {
            j.assignment
                .is_some_and(|x| x.provider == pda::provider(&a.pubkey()))
        },
    );
    assert_eq!(got, vec![taken]);
    let got = selects(
        &mut m,
        &JOB_ESCROW,
        &[filters::job::assigned_to(&pda::provider(&b.pubkey()))],
        &all,
        |j| {
            j.assignment
                .is_some_and(|x| x.provider == pda::provider(&b.pubkey()))
        },
    );
    assert!(got.is_empty());
    let got = selects(
        &mut m,
        &JOB_ESCROW,
        &[filters::job::with_status(JobStatus::Assigned)],
        &all,
        |j| j.status == JobStatus::Assigned,
    );
    assert_eq!(got, vec![taken]);
    let got = selects(
        &mut m,
        &JOB_ESCROW,
        &[filters::job::of_client(&client.pubkey())],
        &all,
        |j| j.client == client.pubkey(),
    );
    assert_eq!(got.len(), 3);
    let mint = m.payment_mint;
    let got = selects(
        &mut m,
        &JOB_ESCROW,
        &[
            filters::job::open_for(ClassFilter::Datacenter),
            filters::job::paid_in(&mint),
            filters::job::with_mode(gpu_market_client::escrow::JobMode::Instant),
        ],
        &all,
        |j| {
            j.status == JobStatus::Open
                && j.requirements.gpu_class == ClassFilter::Datacenter
                && j.payment_mint == mint
        },
    );
    assert_eq!(got, vec![pda::job(&client.pubkey(), 2)]);
}

#[test]
fn stake_filters_select_by_owner_and_by_its_first_byte() {
    let mut m = Market::with_escrow();
    let wallets = [m.provider(1), m.provider(1), m.provider(2)];
    let all: Vec<(Pubkey, StakeAccount)> = m.chain.fetch_all(&staking::ID).unwrap();
    assert_eq!(all.len(), 3);
    for wallet in &wallets {
        let owner = wallet.pubkey();
        let got = selects(
            &mut m,
            &staking::ID,
            &[filters::stake::of_owner(&owner)],
            &all,
            |s| s.owner == owner,
        );
        assert_eq!(got, vec![pda::stake_account(&owner)]);
        // The matcher service's shard of this owner: the owner's first byte.
        let first = owner.to_bytes()[0];
        selects(
            &mut m,
            &staking::ID,
            &[Memcmp::new(filters::stake::OWNER, [first])],
            &all,
            |s| s.owner.to_bytes()[0] == first,
        );
    }
}

#[test]
fn more_filters_than_a_node_takes_are_refused() {
    let mut m = Market::with_escrow();
    let mint = m.payment_mint;
    let too_many = vec![filters::job::paid_in(&mint); MAX_FILTERS];
    let err = m
        .chain
        .fetch_where::<Job>(&JOB_ESCROW, &too_many)
        .err()
        .unwrap();
    assert!(matches!(err, ClientError::Backend(_)), "{err}");
    assert_eq!(
        err.to_string(),
        format!("chain backend: getProgramAccounts takes at most {MAX_FILTERS} filters, 5 given")
    );
}
