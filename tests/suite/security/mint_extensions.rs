//! Finding 14: Token-2022 mints whose extensions could later freeze, drain or block vaults
//! are refused when allow-listed, when a job is created in them and when they would back
//! stakes. Each test uses real Token-2022 mints carrying each extension.

use anchor_lang::{AccountDeserialize, AccountSerialize};
use gpu_market_client::{
    escrow as ix, pda, staking as staking_ix, token, Chain, Instruction, Keypair, Pubkey, Signer,
};
use gpu_market_in_process::InProcessChain;
use gpu_market_tests::{escrow::*, *};
use job_escrow::error::EscrowError;
use spl_token_2022_interface::{
    extension::{default_account_state, pausable, transfer_fee, transfer_hook, ExtensionType},
    instruction as t22,
    state::{AccountState, Mint},
};
use staking::error::StakingError;

const EXTENSIONS: [ExtensionType; 7] = [
    ExtensionType::PermanentDelegate,
    ExtensionType::TransferHook,
    ExtensionType::TransferFeeConfig,
    ExtensionType::Pausable,
    ExtensionType::DefaultAccountState,
    ExtensionType::MintCloseAuthority,
    ExtensionType::NonTransferable,
];

/// A Token-2022 mint of `authority` carrying `extension`.
fn mint_with(chain: &mut InProcessChain, authority: &Pubkey, extension: ExtensionType) -> Pubkey {
    let program = token::TOKEN_2022_PROGRAM;
    let mint = Keypair::new();
    let m = mint.pubkey();
    let space = ExtensionType::try_calculate_account_len::<Mint>(&[extension]).unwrap();
    let payer = chain.payer().pubkey();
    let create = solana_system_interface::instruction::create_account(
        &payer,
        &m,
        chain.minimum_balance(space).unwrap(),
        space as u64,
        &program,
    );
    let init_extension: Instruction = match extension {
        ExtensionType::PermanentDelegate => {
            t22::initialize_permanent_delegate(&program, &m, authority)
        }
        ExtensionType::TransferHook => transfer_hook::instruction::initialize(
            &program,
            &m,
            Some(*authority),
            Some(staking::ID),
        ),
        ExtensionType::TransferFeeConfig => {
            transfer_fee::instruction::initialize_transfer_fee_config(
                &program,
                &m,
                Some(authority),
                Some(authority),
                100,
                u64::MAX,
            )
        }
        ExtensionType::Pausable => pausable::instruction::initialize(&program, &m, authority),
        ExtensionType::DefaultAccountState => {
            default_account_state::instruction::initialize_default_account_state(
                &program,
                &m,
                &AccountState::Frozen,
            )
        }
        ExtensionType::MintCloseAuthority => {
            t22::initialize_mint_close_authority(&program, &m, Some(authority))
        }
        ExtensionType::NonTransferable => t22::initialize_non_transferable_mint(&program, &m),
        other => panic!("no set-up for {other:?}"),
    }
    .unwrap();
    let init = t22::initialize_mint2(&program, &m, authority, Some(authority), 6).unwrap();
    chain
        .send(&[create, init_extension, init], &[&mint])
        .unwrap_or_else(|e| panic!("{extension:?} mint: {e}"));
    m
}

#[test]
fn allow_listing_a_mint_with_a_dangerous_extension_is_refused() {
    let mut m = Market::with_escrow();
    let admin = m.admin.insecure_clone();
    // A plain Token-2022 mint passes.
    let plain =
        token::create_mint(&mut m.chain, &admin.pubkey(), 6, &token::TOKEN_2022_PROGRAM).unwrap();
    let propose = |mints: Vec<Pubkey>| {
        ix::propose_config_update(
            &admin.pubkey(),
            job_escrow::UpdateConfigArgs {
                allowed_mints: Some(mints),
                ..Default::default()
            },
        )
    };
    m.send(propose(vec![m.payment_mint, plain]), &admin)
        .unwrap();
    for extension in EXTENSIONS {
        let bad = mint_with(&mut m.chain, &admin.pubkey(), extension);
        let result = m.send(propose(vec![m.payment_mint, bad]), &admin);
        assert_eq!(
            result.unwrap_err().custom_code(),
            Some(u32::from(EscrowError::MintNotSupported)),
            "{extension:?}"
        );
    }
    // The mint's account must come along to be checked.
    let mut ix = propose(vec![m.payment_mint, plain]);
    ix.accounts.pop();
    assert_error(m.send(ix, &admin), EscrowError::MintAccountMissing);
}

#[test]
fn a_job_in_a_mint_with_a_dangerous_extension_is_refused() {
    let mut m = Market::with_escrow();
    let admin = m.admin.insecure_clone();
    let client = m.client(0);
    for (i, extension) in EXTENSIONS.into_iter().enumerate() {
        let bad = mint_with(&mut m.chain, &admin.pubkey(), extension);
        // Suppose the mint got onto the allow-list anyway (here written into the config):
        // creating a job in it is still refused.
        let address = pda::market_config();
        let mut account = m.chain.account(&address).unwrap().unwrap();
        let mut config = ix::MarketConfig::try_deserialize(&mut &account.data[..]).unwrap();
        config.allowed_mints.push(bad);
        let mut data = Vec::new();
        config.try_serialize(&mut data).unwrap();
        account.data[..data.len()].copy_from_slice(&data);
        m.chain.set_account(&address, account);
        token::create_token_account(
            &mut m.chain,
            &client.pubkey(),
            &bad,
            &token::TOKEN_2022_PROGRAM,
        )
        .unwrap();
        let args = batch_job(i as u64 + 1, 1);
        let result = m.chain.send(
            &[ix::create_job(
                &client.pubkey(),
                &bad,
                &token::TOKEN_2022_PROGRAM,
                args,
            )],
            &[&client.keypair],
        );
        assert_eq!(
            result.unwrap_err().custom_code(),
            Some(u32::from(EscrowError::MintNotSupported)),
            "{extension:?}"
        );
    }
}

#[test]
fn a_stake_mint_with_a_dangerous_extension_is_refused() {
    for extension in EXTENSIONS {
        let mut chain = InProcessChain::start().unwrap();
        let admin = Keypair::new();
        chain
            .transfer_lamports(&admin.pubkey(), WALLET_LAMPORTS)
            .unwrap();
        let mint = mint_with(&mut chain, &admin.pubkey(), extension);
        let treasury =
            token::associated_address(&admin.pubkey(), &mint, &token::TOKEN_2022_PROGRAM);
        let init = staking_ix::init_config(
            &admin.pubkey(),
            &mint,
            &treasury,
            &token::TOKEN_2022_PROGRAM,
            staking::InitConfigArgs {
                unbonding_period: UNBONDING_PERIOD,
                treasury_share_bps: TREASURY_SHARE_BPS,
                slashers: vec![],
            },
        );
        let create_treasury = token::create_associated_idempotent(
            &chain.payer().pubkey(),
            &admin.pubkey(),
            &mint,
            &token::TOKEN_2022_PROGRAM,
        );
        let result = chain.send(&[create_treasury, init], &[&admin]);
        assert_eq!(
            result.unwrap_err().custom_code(),
            Some(u32::from(StakingError::MintNotSupported)),
            "{extension:?}"
        );
    }
}
