//! A stand-in for the job escrow in tests of CPI-only instructions: a program that forwards
//! any instruction to its target, signing with its `["escrow_authority"]` PDA, exactly as the
//! escrow does with its own authority. Tests run it natively, or as an SBF binary beside the
//! real programs (`cargo xtask build-sbf` builds it too).
#![allow(unexpected_cfgs)]

#[cfg(target_os = "solana")]
use solana_compiler_builtins as _;

use anchor_lang::solana_program::{
    account_info::AccountInfo,
    entrypoint::ProgramResult,
    instruction::{AccountMeta, Instruction},
    program::invoke_signed,
    program_error::ProgramError,
    pubkey::Pubkey,
};

/// The proxy's program id.
pub const PROGRAM_ID: Pubkey = anchor_lang::pubkey!("AKGioj3FiWuD8jYE4g4XxZHHWJoWGqoUhX84kUVJPxoz");
const SEED: &[u8] = b"escrow_authority";

/// The PDA the proxy signs with; configure it as the escrow authority and slasher.
pub fn authority() -> Pubkey {
    Pubkey::find_program_address(&[SEED], &PROGRAM_ID).0
}

/// Wraps `inner` so that the proxy invokes it with its PDA as signer.
pub fn wrap(inner: Instruction) -> Instruction {
    let pda = authority();
    let mut accounts = vec![AccountMeta::new_readonly(inner.program_id, false)];
    accounts.extend(inner.accounts.into_iter().map(|meta| AccountMeta {
        // The PDA cannot sign the outer transaction; the proxy signs for it in the CPI.
        is_signer: meta.is_signer && meta.pubkey != pda,
        ..meta
    }));
    Instruction {
        program_id: PROGRAM_ID,
        accounts,
        data: inner.data,
    }
}

/// The proxy's native entrypoint.
pub fn process(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> ProgramResult {
    let (target, rest) = accounts
        .split_first()
        .ok_or(ProgramError::NotEnoughAccountKeys)?;
    let (pda, bump) = Pubkey::find_program_address(&[SEED], program_id);
    let metas = rest
        .iter()
        .map(|info| AccountMeta {
            pubkey: *info.key,
            is_signer: info.is_signer || *info.key == pda,
            is_writable: info.is_writable,
        })
        .collect();
    let ix = Instruction {
        program_id: *target.key,
        accounts: metas,
        data: data.to_vec(),
    };
    invoke_signed(&ix, accounts, &[&[SEED, &[bump]]])
}

#[cfg(not(feature = "no-entrypoint"))]
anchor_lang::solana_program::entrypoint!(process);
