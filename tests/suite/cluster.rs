//! A whole job on whatever chain `GPU_MARKET_URL` selects (a validator with the four
//! programs deployed, or, unset, the in-process chain), and on a `gpu-market localnet`. Everything goes through
//! public instructions and the real agent, and time passes the way the chain's clock does,
//! so the same test runs unchanged against a validator.

use gpu_market_agent::{
    executor::{process_workload, LocalProcessExecutor},
    Agent, AgentConfig,
};
use gpu_market_client::{
    escrow::{self, JobStatus, MarketConfig, SettleAccounts},
    pda,
    registry::{self, RegistryConfig},
    staking as staking_ix, token, Chain, Keypair, Signer,
};
use gpu_market_tests::{any_chain::AnyChain, escrow::*, fixtures::*};

#[test]
fn a_provider_agent_serves_a_job_on_any_chain() {
    serve_a_job(AnyChain::from_env().expect("a chain"));
}

/// The same job on a `gpu-market localnet` started here, over its JSON-RPC, paid by the
/// localnet's admin (the mint authority of its stake and payment mints).
#[test]
fn a_provider_agent_serves_a_job_on_a_localnet() {
    let dir = tempfile::tempdir().unwrap();
    let localnet = gpu_market_localnet::Localnet::start(&gpu_market_localnet::Options {
        ledger: dir.path().join("ledger"),
        rpc_port: gpu_market_localnet::free_port().unwrap(),
        ..gpu_market_localnet::Options::default()
    })
    .expect("a localnet");
    let admin = gpu_market_client::cli_config::read_keypair(&localnet.admin_path()).unwrap();
    serve_a_job(AnyChain::Rpc(Box::new(gpu_market_client::RpcChain::new(
        localnet.url(),
        admin,
        solana_commitment_config::CommitmentConfig::confirmed(),
    ))));
    localnet.stop().unwrap();
}

fn serve_a_job(mut chain: AnyChain) {
    let admin = chain.payer().insecure_clone();
    let program = token::TOKEN_PROGRAM;

    // A market: the migrations leave an existing one as it is.
    let payment_mint = if chain.exists(&pda::market_config()).unwrap() {
        chain
            .fetch::<MarketConfig>(&pda::market_config())
            .unwrap()
            .allowed_mints[0]
    } else {
        token::create_mint(&mut chain, &admin.pubkey(), 6, &program).unwrap()
    };
    let auditor = Keypair::new();
    let mut params = params(&admin, &auditor);
    params.slashers = vec![pda::escrow_authority()];
    params.escrow_authority = pda::escrow_authority();
    params.escrow = Some(escrow_params(
        &admin.pubkey(),
        &admin.pubkey(),
        payment_mint,
    ));
    let deployment = gpu_market_migrations::initialise(&mut chain, &admin, &params).unwrap();
    let min_stake = chain
        .fetch::<RegistryConfig>(&pda::registry_config())
        .unwrap()
        .min_stake_per_gpu;

    // A provider node with one GPU, staked and registered.
    let provider = Keypair::new();
    let me = provider.pubkey();
    chain.transfer_lamports(&me, 1_000_000_000).unwrap();
    let stake_source =
        token::create_token_account(&mut chain, &me, &deployment.stake_mint, &program).unwrap();
    token::mint_to(
        &mut chain,
        &deployment.stake_mint,
        &admin,
        &stake_source,
        min_stake,
        &program,
    )
    .unwrap();
    chain
        .send(
            &[
                staking_ix::stake(
                    &me,
                    &stake_source,
                    &deployment.stake_mint,
                    &program,
                    min_stake,
                ),
                registry::register_provider(&me, listing(&me, 1, &payment_mint)),
            ],
            &[&provider],
        )
        .unwrap();
    let provider_tokens =
        token::create_token_account(&mut chain, &me, &payment_mint, &program).unwrap();

    // A client with a batch job.
    let client = Keypair::new();
    chain
        .transfer_lamports(&client.pubkey(), 1_000_000_000)
        .unwrap();
    let client_tokens =
        token::create_token_account(&mut chain, &client.pubkey(), &payment_mint, &program).unwrap();
    token::mint_to(
        &mut chain,
        &payment_mint,
        &admin,
        &client_tokens,
        10 * TOKEN,
        &program,
    )
    .unwrap();
    let treasury = chain
        .fetch::<MarketConfig>(&pda::market_config())
        .unwrap()
        .treasury;
    chain
        .send(
            &[token::create_associated_idempotent(
                &admin.pubkey(),
                &treasury,
                &payment_mint,
                &program,
            )],
            &[],
        )
        .unwrap();
    let job_id = 1;
    let job = pda::job(&client.pubkey(), job_id);
    let args = job_escrow::CreateJobArgs {
        workload: process_workload("printf 'served on any chain'"),
        ..batch_job(job_id, 1)
    };
    chain
        .send(
            &[escrow::create_job(
                &client.pubkey(),
                &payment_mint,
                &program,
                args,
            )],
            &[&client],
        )
        .unwrap();

    // The agent takes, runs and submits it, two chain seconds a pass.
    let dir = tempfile::tempdir().unwrap();
    let mut agent = Agent::new(
        provider.insecure_clone(),
        me,
        Box::new(LocalProcessExecutor::new()),
        AgentConfig {
            work_dir: dir.path().to_path_buf(),
            withdraw_every: 600,
        },
    );
    let mut submitted = false;
    for _ in 0..200 {
        agent.tick(&mut chain).expect("tick");
        let status = chain.fetch::<escrow::Job>(&job).unwrap().status;
        if status == JobStatus::ResultSubmitted {
            submitted = true;
            break;
        }
        chain.advance(2).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(submitted, "the agent did not submit a result");
    let result = chain.fetch::<escrow::Job>(&job).unwrap().result.unwrap();
    assert_eq!(
        result.hash,
        solana_sha256_hasher::hash(b"served on any chain").to_bytes()
    );

    // The client approves: the provider is paid, the job and its vault are closed.
    let keys = SettleAccounts {
        caller: client.pubkey(),
        client: client.pubkey(),
        job_id,
        payment_mint,
        token_program: program,
        provider_authority: me,
        treasury,
    };
    chain
        .send(&[escrow::approve_result(&keys)], &[&client])
        .unwrap();
    assert!(!chain.exists(&job).unwrap());
    assert!(!chain.exists(&pda::job_vault(&job)).unwrap());
    assert!(token::balance(&mut chain, &provider_tokens).unwrap() > 0);
}
