use gpu_market_client::{pda, Chain, Pubkey};
use gpu_market_tests::{escrow, rewards, *};

fn snapshot(m: &mut Market, addresses: &[Pubkey]) -> Vec<Option<solana_account::Account>> {
    addresses
        .iter()
        .map(|a| m.chain.account(a).unwrap())
        .collect()
}

#[test]
fn initialise_is_idempotent() {
    let mut m = Market::new();
    let addresses = [
        pda::staking_config(),
        pda::staking_vault(),
        pda::registry_config(),
        m.stake_mint,
        m.treasury,
    ];
    let before = snapshot(&mut m, &addresses);
    assert!(before.iter().all(Option::is_some));

    let admin = m.admin.insecure_clone();
    let auditor = m.auditor.insecure_clone();
    let again =
        gpu_market_migrations::initialise(&mut m.chain, &admin, &params(&admin, &auditor)).unwrap();
    assert_eq!(again.created, Vec::<&str>::new());
    assert_eq!(
        (again.stake_mint, again.treasury),
        (m.stake_mint, m.treasury)
    );
    assert_eq!(snapshot(&mut m, &addresses), before);
}

#[test]
fn a_first_run_creates_everything() {
    let mut chain = gpu_market_in_process::InProcessChain::start().unwrap();
    let admin = gpu_market_client::Keypair::new();
    let auditor = gpu_market_client::Keypair::new();
    chain
        .transfer_lamports(&gpu_market_client::Signer::pubkey(&admin), WALLET_LAMPORTS)
        .unwrap();
    let now = chain.now().unwrap();
    let mut everything = params(&admin, &auditor);
    // The allow-listed payment mint must be a real mint: its extensions are checked.
    let payment_mint = gpu_market_client::token::create_mint(
        &mut chain,
        &gpu_market_client::Signer::pubkey(&admin),
        6,
        &gpu_market_client::token::TOKEN_PROGRAM,
    )
    .unwrap();
    everything.escrow = Some(escrow::escrow_params(
        &gpu_market_client::Signer::pubkey(&admin),
        &gpu_market_client::Signer::pubkey(&auditor),
        payment_mint,
    ));
    everything.emission = Some(rewards::emission_params(now, 1_000_000 * TOKEN));
    let deployment = gpu_market_migrations::initialise(&mut chain, &admin, &everything).unwrap();
    assert_eq!(
        deployment.created,
        vec![
            "stake mint",
            "treasury token account",
            "staking config",
            "registry config",
            "market config",
            "reward mint",
            "emission config",
        ]
    );
    // A second run changes nothing and finds the same mints.
    let again = gpu_market_migrations::initialise(&mut chain, &admin, &everything).unwrap();
    assert_eq!(again.created, Vec::<&str>::new());
    assert_eq!(
        (again.stake_mint, again.reward_mint),
        (deployment.stake_mint, deployment.reward_mint)
    );
}
