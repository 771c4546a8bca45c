//! The localnet over its real JSON-RPC: the programs' token CPIs move balances, their
//! events reach the client, time travels, and the ledger survives a restart.

use gpu_market_client::{pda, token, Chain, Keypair, RpcChain, Signer};
use gpu_market_localnet::{fund, time_travel, Localnet, Options, Programs, LAMPORTS_PER_SOL};
use solana_commitment_config::CommitmentConfig;
use std::{net::TcpListener, path::Path, time::Duration};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn options(ledger: &Path) -> Result<Options> {
    Ok(Options {
        ledger: ledger.to_path_buf(),
        rpc_port: gpu_market_localnet::free_port()?,
        sbf_dir: None,
        ..Options::default()
    })
}

#[test]
fn a_localnet_serves_the_market_and_keeps_it_across_a_restart() -> Result {
    let dir = tempfile::tempdir()?;
    let ledger = dir.path().join("ledger");
    let localnet = Localnet::start(&options(&ledger)?)?;
    assert!(localnet.created_market());
    eprintln!(
        "localnet started in {:?} ({:?})",
        localnet.started_in(),
        localnet.programs()
    );
    let market = *localnet.market();
    let stake_mint = market.stake_mint;
    let payment_mint = market.payment_mint;

    // A developer wallet, funded through the faucet.
    let wallet = Keypair::new();
    let funded = fund(
        localnet.url(),
        &ledger,
        &wallet.pubkey(),
        5 * LAMPORTS_PER_SOL,
        2_000_000_000,
        300_000_000,
    )?;
    let mut chain = RpcChain::new(
        localnet.url(),
        wallet.insecure_clone(),
        CommitmentConfig::confirmed(),
    );
    let source = funded.stake_account;
    let payment = funded.payment_account;
    assert_eq!(chain.lamports(&wallet.pubkey())?, 5 * LAMPORTS_PER_SOL);
    assert_eq!(token::balance(&mut chain, &source)?, 2_000_000_000);
    assert_eq!(token::balance(&mut chain, &payment)?, 300_000_000);
    assert_eq!(
        token::read_mint(&mut chain, &payment_mint)?.decimals,
        gpu_market_localnet::PAYMENT_DECIMALS
    );

    // The staking program moves the tokens through its CPI into SPL Token: both balances
    // change by exactly the amount, and its event reaches the client.
    let vault = pda::staking_vault();
    let vault_before = token::balance(&mut chain, &vault)?;
    let landed = chain.send(
        &[gpu_market_client::staking::stake(
            &wallet.pubkey(),
            &source,
            &stake_mint,
            &token::TOKEN_PROGRAM,
            1_500_000_000,
        )],
        &[],
    )?;
    assert_eq!(token::balance(&mut chain, &source)?, 500_000_000);
    assert_eq!(
        token::balance(&mut chain, &vault)?,
        vault_before + 1_500_000_000
    );
    let staked: Vec<staking::events::Staked> = landed.events();
    assert_eq!(staked.len(), 1, "logs: {:#?}", landed.logs);
    assert_eq!(staked[0].owner, wallet.pubkey());
    assert_eq!(staked[0].amount, 1_500_000_000);

    // Time travels forward a day.
    let now = chain.clock()?.unix_timestamp;
    let later = time_travel(localnet.url(), now + 86_400)?;
    assert!(later >= now + 86_400, "{now} -> {later}");

    // Stopped and started again on the same ledger: the market, the stake and the clock
    // are as they were, and the programs still run.
    let port = localnet.rpc_port();
    localnet.stop()?;
    let mut again = options(&ledger)?;
    again.rpc_port = port;
    let localnet = Localnet::start(&again)?;
    assert!(!localnet.created_market());
    assert_eq!(localnet.market(), &market);
    let mut chain = RpcChain::new(
        localnet.url(),
        wallet.insecure_clone(),
        CommitmentConfig::confirmed(),
    );
    let stake: staking::state::StakeAccount = chain.fetch(&pda::stake_account(&wallet.pubkey()))?;
    assert_eq!(stake.active, 1_500_000_000);
    assert!(chain.clock()?.unix_timestamp >= later);
    chain.send(
        &[gpu_market_client::staking::stake(
            &wallet.pubkey(),
            &source,
            &stake_mint,
            &token::TOKEN_PROGRAM,
            500_000_000,
        )],
        &[],
    )?;
    assert_eq!(token::balance(&mut chain, &source)?, 0);
    let stake: staking::state::StakeAccount = chain.fetch(&pda::stake_account(&wallet.pubkey()))?;
    assert_eq!(stake.active, 2_000_000_000);
    if localnet.programs() == &Programs::Native {
        // Builtins, which the client recognises to read their events from the logs.
        let program = chain.account(&staking::ID)?.ok_or("no staking program")?;
        assert!(program.executable);
    }
    localnet.stop()?;
    Ok(())
}

#[test]
fn a_second_localnet_on_a_taken_port_fails_with_a_reason() -> Result {
    let taken = TcpListener::bind("127.0.0.1:0")?;
    let dir = tempfile::tempdir()?;
    let mut options = options(dir.path())?;
    options.rpc_port = taken.local_addr()?.port();
    let started = std::time::Instant::now();
    let err = Localnet::start(&options)
        .err()
        .ok_or("started on a taken port")?;
    assert!(started.elapsed() < Duration::from_secs(60));
    let port = options.rpc_port.to_string();
    assert!(
        err.to_string().contains("already in use") && err.to_string().contains(&port),
        "{err}"
    );
    Ok(())
}

#[test]
fn binaries_the_runtime_cannot_load_are_refused_with_the_reason() -> Result {
    let dir = tempfile::tempdir()?;
    let binaries = dir.path().join("deploy");
    std::fs::create_dir(&binaries)?;
    let mut options = options(&dir.path().join("ledger"))?;
    options.sbf_dir = Some(binaries.clone());
    let err = Localnet::start(&options)
        .err()
        .ok_or("started without binaries")?;
    assert!(err.to_string().contains("staking.so"), "{err}");
    assert!(err.to_string().contains("cargo xtask build-sbf"), "{err}");

    for (name, _) in gpu_market_client::PROGRAMS {
        std::fs::write(binaries.join(format!("{name}.so")), b"\x7fELF not really")?;
    }
    let err = Localnet::start(&options)
        .err()
        .ok_or("started with broken binaries")?;
    assert!(err.to_string().contains("does not load"), "{err}");
    assert!(err.to_string().contains("natively"), "{err}");
    Ok(())
}

/// A fast localnet (50 ms slots) and a wallet funded with 2 SOL and 1,000 stake tokens.
fn fast_localnet_with_wallet(
    dir: &Path,
) -> Result<(Localnet, Keypair, gpu_market_localnet::Funded)> {
    let ledger = dir.join("ledger");
    let mut options = options(&ledger)?;
    options.slot_time = Duration::from_millis(50);
    let localnet = Localnet::start(&options)?;
    let wallet = Keypair::new();
    let funded = fund(
        localnet.url(),
        &ledger,
        &wallet.pubkey(),
        2 * LAMPORTS_PER_SOL,
        1_000_000_000,
        0,
    )?;
    Ok((localnet, wallet, funded))
}

/// The RPC backend against the real server: confirmation at each commitment, a program's
/// refusal caught in preflight with its logs (and no fee paid), a transaction sent twice
/// landing once, and `getProgramAccounts` filtered by account type.
#[test]
fn the_rpc_backend_against_a_real_server() -> Result {
    let dir = tempfile::tempdir()?;
    let (localnet, wallet, _) = fast_localnet_with_wallet(dir.path())?;

    // Each commitment confirms a transfer, and a read at it sees the transfer.
    for commitment in [
        CommitmentConfig::processed(),
        CommitmentConfig::confirmed(),
        CommitmentConfig::finalized(),
    ] {
        let mut chain = RpcChain::new(localnet.url(), wallet.insecure_clone(), commitment);
        let to = Keypair::new().pubkey();
        chain.transfer_lamports(&to, 1_000_000)?;
        assert_eq!(chain.lamports(&to)?, 1_000_000, "{commitment:?}");
    }

    // A refusal comes back from the preflight simulation with the program's logs, and
    // nothing is sent: no fee is charged.
    let mut chain = RpcChain::new(
        localnet.url(),
        wallet.insecure_clone(),
        CommitmentConfig::confirmed(),
    );
    let before = chain.lamports(&wallet.pubkey())?;
    let refused = chain
        .send(
            &[gpu_market_client::staking::request_unstake(
                &wallet.pubkey(),
                1,
            )],
            &[],
        )
        .err()
        .ok_or("unstaking without a stake succeeded")?;
    match &refused {
        gpu_market_client::ClientError::Transaction { error, logs } => {
            assert_eq!(
                error,
                &solana_transaction_error::TransactionError::InstructionError(
                    0,
                    gpu_market_client::InstructionError::Custom(3012)
                ),
                "{refused}"
            );
            assert!(
                logs.iter()
                    .any(|line| line.starts_with(&format!("Program {} invoke", staking::ID))),
                "{logs:#?}"
            );
        }
        other => return Err(format!("unexpected error {other}").into()),
    }
    assert!(
        refused.to_string().contains("AccountNotInitialized"),
        "{refused}"
    );
    assert_eq!(chain.lamports(&wallet.pubkey())?, before);

    // The same signed transaction sent twice lands once.
    let rpc = solana_rpc_client::rpc_client::RpcClient::new_with_commitment(
        localnet.url().to_owned(),
        CommitmentConfig::confirmed(),
    );
    let to = Keypair::new().pubkey();
    let tx = solana_transaction::Transaction::new_signed_with_payer(
        &[solana_system_interface::instruction::transfer(
            &wallet.pubkey(),
            &to,
            5_000_000,
        )],
        Some(&wallet.pubkey()),
        &[&wallet],
        rpc.get_latest_blockhash()?,
    );
    rpc.send_and_confirm_transaction(&tx)?;
    let _ = rpc.send_transaction(&tx);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(chain.lamports(&to)?, 5_000_000);

    // getProgramAccounts filtered on the account type: the one stake account there is.
    chain.send(
        &[gpu_market_client::staking::stake(
            &wallet.pubkey(),
            &gpu_market_client::token::associated_address(
                &wallet.pubkey(),
                &localnet.market().stake_mint,
                &token::TOKEN_PROGRAM,
            ),
            &localnet.market().stake_mint,
            &token::TOKEN_PROGRAM,
            400_000_000,
        )],
        &[],
    )?;
    let stakes = chain.program_accounts(
        &staking::ID,
        &[gpu_market_client::Memcmp::new(
            0,
            <staking::state::StakeAccount as anchor_lang::Discriminator>::DISCRIMINATOR,
        )],
    )?;
    assert_eq!(
        stakes
            .iter()
            .map(|(address, _)| *address)
            .collect::<Vec<_>>(),
        vec![pda::stake_account(&wallet.pubkey())]
    );
    localnet.stop()?;
    Ok(())
}

/// Surfpool rebuilds its in-memory SVM every 9,000 slots, which drops the builtins' code:
/// the localnet loads the programs again, and they keep moving tokens and emitting events.
#[test]
fn the_programs_survive_the_runtime_rebuilding_its_svm() -> Result {
    let dir = tempfile::tempdir()?;
    let (localnet, wallet, funded) = fast_localnet_with_wallet(dir.path())?;
    assert_eq!(localnet.program_reloads(), 0);

    // Just before a slot that is a multiple of 9,000, then past it.
    let rpc = solana_rpc_client::rpc_client::RpcClient::new(localnet.url().to_owned());
    rpc.send::<serde_json::Value>(
        solana_rpc_client_api::request::RpcRequest::Custom {
            method: "surfnet_timeTravel",
        },
        serde_json::json!([{ "absoluteSlot": 8_990 }]),
    )?;
    let waiting = std::time::Instant::now();
    while localnet.program_reloads() == 0 {
        assert!(
            waiting.elapsed() < Duration::from_secs(30),
            "no rebuild by slot {}",
            rpc.get_slot()?
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let mut chain = RpcChain::new(
        localnet.url(),
        wallet.insecure_clone(),
        CommitmentConfig::confirmed(),
    );
    let landed = chain.send(
        &[gpu_market_client::staking::stake(
            &wallet.pubkey(),
            &funded.stake_account,
            &localnet.market().stake_mint,
            &token::TOKEN_PROGRAM,
            250_000_000,
        )],
        &[],
    )?;
    assert_eq!(
        token::balance(&mut chain, &funded.stake_account)?,
        750_000_000
    );
    let staked: Vec<staking::events::Staked> = landed.events();
    assert_eq!(staked.len(), 1, "logs: {:#?}", landed.logs);
    localnet.stop()?;
    Ok(())
}
