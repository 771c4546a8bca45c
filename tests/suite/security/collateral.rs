//! Finding 3: GPUs are reserved and collateral locked from assignment to the end of the
//! job, so one stake cannot back unlimited jobs. Finding 4: locked stake cannot be unbonded,
//! and a market whose jobs could outlive the staking cooldown cannot be configured.

use ::staking::error::StakingError;
use gpu_market_client::{escrow as ix, pda, staking as staking_ix, token, Chain, Signer};
use gpu_market_tests::{escrow::*, *};
use job_escrow::error::EscrowError;

fn accept(
    m: &mut Market,
    p: &Wallet,
    job: &gpu_market_client::Pubkey,
) -> Result<(), gpu_market_client::ClientError> {
    signed(m, ix::accept_job(&p.pubkey(), &p.pubkey(), job), &p.keypair).map(|_| ())
}

fn post(m: &mut Market, client: &Wallet, id: u64) -> gpu_market_client::Pubkey {
    m.create_job(client, batch_job(id, 1)).unwrap();
    pda::job(&client.pubkey(), id)
}

#[test]
fn a_one_gpu_node_cannot_hold_two_jobs_at_once() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let client = m.client(100 * TOKEN);
    let (a, b) = (post(&mut m, &client, 1), post(&mut m, &client, 2));
    accept(&mut m, &p, &a).unwrap();
    // Its only GPU is reserved from assignment, not from start.
    assert_eq!(m.provider_account(&p.pubkey()).gpus_in_use, 1);
    assert_error(accept(&mut m, &p, &b), EscrowError::NoFreeCapacity);
}

#[test]
fn assignment_needs_unlocked_stake_for_the_jobs_collateral() {
    let mut m = Market::with_escrow();
    // Jobs posted from now on can cost up to 150 tokens of slash each.
    let slash = job_escrow::state::SlashAmounts {
        dispute_lost: 150 * TOKEN,
        ..SLASH
    };
    m.update_escrow(job_escrow::UpdateConfigArgs {
        slash: Some(slash),
        ..Default::default()
    });
    // Two GPUs and the 200 tokens of stake they require.
    let p = m.provider(2);
    let client = m.client(100 * TOKEN);
    let (a, b) = (post(&mut m, &client, 1), post(&mut m, &client, 2));
    accept(&mut m, &p, &a).unwrap();
    let stake = m.stake_account(&p.pubkey());
    assert_eq!((stake.active, stake.locked), (200 * TOKEN, 150 * TOKEN));
    // A free GPU, but only 50 tokens unlocked for a job that can cost 150.
    assert_error(accept(&mut m, &p, &b), EscrowError::InsufficientCollateral);
    // Topping up the stake covers it.
    let (mint, admin) = (m.stake_mint, m.admin.insecure_clone());
    token::mint_to(
        &mut m.chain,
        &mint,
        &admin,
        &p.tokens,
        100 * TOKEN,
        &token::TOKEN_PROGRAM,
    )
    .unwrap();
    m.stake(&p, 100 * TOKEN).unwrap();
    accept(&mut m, &p, &b).unwrap();
    assert_eq!(m.stake_account(&p.pubkey()).locked, 300 * TOKEN);
}

#[test]
fn locked_stake_cannot_be_unbonded_until_the_job_ends() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let s = Scenario::new(&mut m, 1, &[&p], &[]);
    m.create_job(&s.client, batch_job(1, 1)).unwrap();
    take_and_start(&mut m, &p.keypair, &s.job);
    // The whole stake: refused, the job's 50 tokens are locked.
    assert_error(
        m.send(
            staking_ix::request_unstake(&p.pubkey(), MIN_STAKE_PER_GPU),
            &p.keypair,
        ),
        StakingError::StakeLocked,
    );
    // The unlocked part may leave (the node is then under-staked for new jobs).
    m.send(
        staking_ix::request_unstake(&p.pubkey(), MIN_STAKE_PER_GPU - SLASH.dispute_lost),
        &p.keypair,
    )
    .unwrap();
    // It delivers nothing: the no-result slash still finds its collateral.
    let deadline = m.job(&s.client.pubkey(), 1).started_at + 2 * 3_600 + HEARTBEAT_GRACE;
    let mut last = m.chain.now().unwrap();
    while last < deadline {
        m.chain.advance(100).unwrap();
        last = m.chain.now().unwrap();
        signed(
            &mut m,
            ix::heartbeat_job(&p.pubkey(), &p.pubkey(), &s.job),
            &p.keypair,
        )
        .unwrap();
    }
    m.chain.advance(1).unwrap();
    let slash = m.slash_keys();
    let keys = s.keys(&m, &s.client.pubkey(), &p.pubkey());
    signed(&mut m, ix::expire_job(&keys, &slash), &s.client.keypair).unwrap();
    let stake = m.stake_account(&p.pubkey());
    assert_eq!(
        (stake.active, stake.locked),
        (SLASH.dispute_lost - SLASH.no_result, 0)
    );
}

#[test]
fn a_market_whose_jobs_outlive_the_staking_cooldown_is_refused() {
    let mut m = Market::with_escrow();
    let admin = m.admin.insecure_clone();
    // 21 days of cooldown; 8 days of run + 14 days of dispute timeout would outlive it.
    assert_error(
        m.send(
            ix::propose_config_update(
                &admin.pubkey(),
                job_escrow::UpdateConfigArgs {
                    max_job_duration: Some(8 * 24 * 3_600),
                    ..Default::default()
                },
            ),
            &admin,
        ),
        EscrowError::CooldownShorterThanJobLifetime,
    );
    // A job longer than the market allows is refused.
    let client = m.client(1_000 * TOKEN);
    let mut args = lease_job(1, 1, 1);
    args.max_duration = MAX_JOB_DURATION + 1;
    assert_error(m.create_job(&client, args), EscrowError::DurationAboveMax);
    // So is an extension past it.
    m.create_job(&client, lease_job(2, 1, 1)).unwrap();
    let (mint, program) = (m.payment_mint, m.payment_token_program);
    assert_error(
        signed(
            &mut m,
            ix::extend_job(&client.pubkey(), 2, &mint, &program, MAX_JOB_DURATION, None),
            &client.keypair,
        ),
        EscrowError::DurationAboveMax,
    );
}
