use anchor_lang::error::ErrorCode as AnchorError;
use gpu_market_client::{pda, staking as ix, token, Chain, Keypair, Pubkey, Signer};
use gpu_market_in_process::InProcessChain;
use gpu_market_tests::*;
use staking::{error::StakingError, InitConfigArgs};

#[test]
fn init_config_creates_the_config_and_pooled_vault() {
    let mut m = Market::new();
    let config = m.staking_config();
    assert_eq!(config.admin, m.admin.pubkey());
    assert_eq!(config.stake_mint, m.stake_mint);
    assert_eq!(config.vault, pda::staking_vault());
    assert_eq!(config.treasury, m.treasury);
    assert_eq!(config.unbonding_period, UNBONDING_PERIOD);
    assert_eq!(config.treasury_share_bps, TREASURY_SHARE_BPS);
    assert_eq!(
        config.slashers,
        vec![
            gpu_market_tests::proxy::authority(),
            pda::escrow_authority()
        ]
    );
    assert_eq!((config.total_active, config.total_unbonding), (0, 0));
    let vault = m.chain.account(&pda::staking_vault()).unwrap().unwrap();
    assert_eq!(vault.owner, token::TOKEN_PROGRAM);
    assert_eq!(m.balance(&pda::staking_vault()), 0);
}

#[test]
fn init_config_twice_is_refused() {
    let mut m = Market::new();
    let admin = m.admin.insecure_clone();
    let again = ix::init_config(
        &admin.pubkey(),
        &m.stake_mint,
        &m.treasury,
        &token::TOKEN_PROGRAM,
        InitConfigArgs {
            unbonding_period: 1,
            treasury_share_bps: 0,
            slashers: vec![],
        },
    );
    let err = m.send(again, &admin).unwrap_err();
    assert_eq!(
        err.instruction_error(),
        Some(&already_initialised(&m.chain)),
        "{err}"
    );
}

fn fresh_chain() -> (InProcessChain, Keypair, Pubkey) {
    let mut chain = InProcessChain::start().unwrap();
    let admin = Keypair::new();
    chain
        .transfer_lamports(&admin.pubkey(), WALLET_LAMPORTS)
        .unwrap();
    let mint = token::create_mint(&mut chain, &admin.pubkey(), 6, &token::TOKEN_PROGRAM).unwrap();
    (chain, admin, mint)
}

fn args(unbonding_period: i64, treasury_share_bps: u16, slashers: usize) -> InitConfigArgs {
    InitConfigArgs {
        unbonding_period,
        treasury_share_bps,
        slashers: (0..slashers).map(|_| Pubkey::new_unique()).collect(),
    }
}

#[test]
fn init_config_rejects_bad_parameters() {
    let (mut chain, admin, mint) = fresh_chain();
    let treasury =
        token::create_token_account(&mut chain, &admin.pubkey(), &mint, &token::TOKEN_PROGRAM)
            .unwrap();
    let mut init = |a: InitConfigArgs| {
        let ix = ix::init_config(&admin.pubkey(), &mint, &treasury, &token::TOKEN_PROGRAM, a);
        chain.send(&[ix], &[&admin])
    };
    assert_error(init(args(0, 0, 1)), StakingError::InvalidUnbondingPeriod);
    assert_error(init(args(60, 10_001, 1)), StakingError::InvalidBps);
    assert_error(init(args(60, 0, 5)), StakingError::TooManySlashers);
    init(args(60, 10_000, 4)).unwrap();
}

#[test]
fn init_config_rejects_a_treasury_of_another_mint() {
    let (mut chain, admin, mint) = fresh_chain();
    let other = token::create_mint(&mut chain, &admin.pubkey(), 6, &token::TOKEN_PROGRAM).unwrap();
    let treasury =
        token::create_token_account(&mut chain, &admin.pubkey(), &other, &token::TOKEN_PROGRAM)
            .unwrap();
    let ix = ix::init_config(
        &admin.pubkey(),
        &mint,
        &treasury,
        &token::TOKEN_PROGRAM,
        args(60, 0, 1),
    );
    assert_error(
        chain.send(&[ix], &[&admin]),
        AnchorError::ConstraintTokenMint,
    );
}
