//! SPL Token and Token-2022 helpers: mints, token accounts, balances.

use crate::{chain::Chain, error::ClientError};
use anchor_lang::solana_program::{
    instruction::{AccountMeta, Instruction},
    pubkey::Pubkey,
};
use solana_keypair::Keypair;
use solana_program_pack::Pack;
use solana_signer::Signer;
use spl_token_2022_interface::{instruction as token_ix, state};

/// The SPL Token program id.
pub const TOKEN_PROGRAM: Pubkey = spl_token_2022_interface::inline_spl_token::ID;
/// The Token-2022 program id.
pub const TOKEN_2022_PROGRAM: Pubkey = spl_token_2022_interface::ID;

/// The associated token account of `owner` for `mint` under `token_program`.
pub fn associated_address(owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    spl_associated_token_account_interface::address::get_associated_token_address_with_program_id(
        owner,
        mint,
        token_program,
    )
}

/// Creates `owner`'s associated token account for `mint` if it does not exist yet.
pub fn create_associated_idempotent(
    payer: &Pubkey,
    owner: &Pubkey,
    mint: &Pubkey,
    token_program: &Pubkey,
) -> Instruction {
    spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
        payer,
        owner,
        mint,
        token_program,
    )
}

/// Instructions creating whichever of the associated token accounts `(owner, mint, token
/// program)` do not exist yet, each once, paid by `payer`.
pub fn missing_associated_accounts(
    chain: &mut impl Chain,
    payer: &Pubkey,
    accounts: &[(Pubkey, Pubkey, Pubkey)],
) -> Result<Vec<Instruction>, ClientError> {
    let mut ixs = Vec::new();
    let mut seen = Vec::new();
    for (owner, mint, program) in accounts {
        let address = associated_address(owner, mint, program);
        if seen.contains(&address) || chain.exists(&address)? {
            continue;
        }
        seen.push(address);
        ixs.push(create_associated_idempotent(payer, owner, mint, program));
    }
    Ok(ixs)
}

/// Creates a new mint with `authority` as mint authority and no freeze authority; returns
/// its address.
pub fn create_mint(
    chain: &mut impl Chain,
    authority: &Pubkey,
    decimals: u8,
    token_program: &Pubkey,
) -> Result<Pubkey, ClientError> {
    let mint = Keypair::new();
    let lamports = chain.minimum_balance(state::Mint::LEN)?;
    let payer = chain.payer().pubkey();
    let create = solana_system_interface::instruction::create_account(
        &payer,
        &mint.pubkey(),
        lamports,
        state::Mint::LEN as u64,
        token_program,
    );
    let init = token_ix::initialize_mint2(token_program, &mint.pubkey(), authority, None, decimals)
        .map_err(|err| ClientError::Backend(err.to_string()))?;
    chain.send(&[create, init], &[&mint])?;
    Ok(mint.pubkey())
}

/// Creates (if needed) `owner`'s associated token account for `mint`; returns its address.
pub fn create_token_account(
    chain: &mut impl Chain,
    owner: &Pubkey,
    mint: &Pubkey,
    token_program: &Pubkey,
) -> Result<Pubkey, ClientError> {
    let payer = chain.payer().pubkey();
    let ix = create_associated_idempotent(&payer, owner, mint, token_program);
    chain.send(&[ix], &[])?;
    Ok(associated_address(owner, mint, token_program))
}

/// A `mint_to_checked` instruction (SPL Token or Token-2022).
pub fn mint_to_ix(
    mint: &Pubkey,
    destination: &Pubkey,
    authority: &Pubkey,
    amount: u64,
    decimals: u8,
    token_program: &Pubkey,
) -> Instruction {
    Instruction {
        program_id: *token_program,
        accounts: vec![
            AccountMeta::new(*mint, false),
            AccountMeta::new(*destination, false),
            AccountMeta::new_readonly(*authority, true),
        ],
        data: token_ix::TokenInstruction::MintToChecked { amount, decimals }.pack(),
    }
}

/// Mints `amount` of `mint` to `destination`, signed by the mint authority.
pub fn mint_to(
    chain: &mut impl Chain,
    mint: &Pubkey,
    authority: &Keypair,
    destination: &Pubkey,
    amount: u64,
    token_program: &Pubkey,
) -> Result<(), ClientError> {
    let decimals = read_mint(chain, mint)?.decimals;
    let ix = mint_to_ix(
        mint,
        destination,
        &authority.pubkey(),
        amount,
        decimals,
        token_program,
    );
    chain.send(&[ix], &[authority])?;
    Ok(())
}

/// The base state of the mint at `mint` (SPL Token or Token-2022).
pub fn read_mint(chain: &mut impl Chain, mint: &Pubkey) -> Result<state::Mint, ClientError> {
    let account = chain
        .account(mint)?
        .ok_or(ClientError::AccountNotFound(*mint))?;
    let base = account.data.get(..state::Mint::LEN).unwrap_or_default();
    state::Mint::unpack(base).map_err(|err| ClientError::Decode {
        address: *mint,
        expected: "SPL mint",
        reason: err.to_string(),
    })
}

/// The balance of the token account at `address`; zero when it does not exist.
pub fn balance(chain: &mut impl Chain, address: &Pubkey) -> Result<u64, ClientError> {
    let Some(account) = chain.account(address)? else {
        return Ok(0);
    };
    let base = account.data.get(..state::Account::LEN).unwrap_or_default();
    state::Account::unpack(base)
        .map(|a| a.amount)
        .map_err(|err| ClientError::Decode {
            address: *address,
            expected: "SPL token account",
            reason: err.to_string(),
        })
}
