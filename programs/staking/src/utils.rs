//! Account creation and mint checks shared by the gpu-market programs.

use anchor_lang::{
    prelude::*,
    system_program::{self, Allocate, Assign, CreateAccount, Transfer},
};
use anchor_spl::token_2022::spl_token_2022::{
    extension::{BaseStateWithExtensions, ExtensionType, StateWithExtensions},
    state::Mint as Token2022Mint,
};

/// The bump of `info`, the PDA that `seeds` derive under `program_id`, for an account a
/// handler creates on first use and that keeps its bump in its last byte.
///
/// While nothing is allocated there, the canonical bump is searched. Once the account
/// exists, the stored bump is checked with one derivation instead: a search costs 1,500
/// compute units per bump it tries, and how many it tries depends on the address, so an
/// existing account would cost a different amount for every owner. An existing account
/// owned by another program fails with `AccountOwnedByWrongProgram`; one at another address
/// fails with `ConstraintSeeds`, as Anchor's `seeds` constraint does.
///
/// Only for fixed-size accounts whose last field is `bump: u8` (each such type has a test
/// that its serialization ends with the bump), created only with the bump this returns and
/// never reallocated: then the stored bump is the canonical one.
pub fn pda_bump(
    name: &str,
    info: &AccountInfo,
    seeds: &[&[u8]],
    program_id: &Pubkey,
) -> Result<u8> {
    let wrong = || Error::from(ErrorCode::ConstraintSeeds).with_account_name(name);
    if info.owner == &system_program::ID && info.data_is_empty() {
        let (address, bump) = Pubkey::find_program_address(seeds, program_id);
        return if address == *info.key {
            Ok(bump)
        } else {
            Err(wrong())
        };
    }
    require_keys_eq!(
        *info.owner,
        *program_id,
        ErrorCode::AccountOwnedByWrongProgram
    );
    let bump = info.try_borrow_data()?.last().copied().ok_or_else(wrong)?;
    let mut signer: Vec<&[u8]> = seeds.to_vec();
    let bump_seed = [bump];
    signer.push(&bump_seed);
    match Pubkey::create_program_address(&signer, program_id) {
        Ok(address) if address == *info.key => Ok(bump),
        _ => Err(wrong()),
    }
}

/// Creates a rent-exempt account of `space` bytes owned by `owner` at the PDA that `seeds`
/// (with bump) sign for, paid by `payer`.
///
/// Unlike Anchor 1.2's `init`, it also works where someone already sent lamports to the
/// address (top up, allocate, assign), using system instructions every cluster has, so
/// nobody can block an account at a predictable address by pre-funding it.
pub fn create_pda_account<'info>(
    payer: &AccountInfo<'info>,
    target: &AccountInfo<'info>,
    system: &AccountInfo<'info>,
    space: usize,
    owner: &Pubkey,
    seeds: &[&[u8]],
) -> Result<()> {
    let rent = Rent::get()?.minimum_balance(space);
    // usize is 64 bits on every target this runs on.
    let space = space as u64;
    let current = target.lamports();
    if current == 0 {
        return system_program::create_account(
            CpiContext::new_with_signer(
                system.key(),
                CreateAccount {
                    from: payer.clone(),
                    to: target.clone(),
                },
                &[seeds],
            ),
            rent,
            space,
            owner,
        );
    }
    let top_up = rent.saturating_sub(current);
    if top_up > 0 {
        system_program::transfer(
            CpiContext::new(
                system.key(),
                Transfer {
                    from: payer.clone(),
                    to: target.clone(),
                },
            ),
            top_up,
        )?;
    }
    system_program::allocate(
        CpiContext::new_with_signer(
            system.key(),
            Allocate {
                account_to_allocate: target.clone(),
            },
            &[seeds],
        ),
        space,
    )?;
    system_program::assign(
        CpiContext::new_with_signer(
            system.key(),
            Assign {
                account_to_assign: target.clone(),
            },
            &[seeds],
        ),
        owner,
    )
}

/// Token-2022 mint extensions that could later freeze, drain or brick a vault holding the
/// mint, or make its transfers fail or arrive short: a permanent delegate can move any
/// balance, a transfer hook runs foreign code (and can refuse) on every transfer, a
/// transfer fee makes deposits arrive short, a pausable mint can stop every transfer, a
/// default account state can create vaults frozen, a close authority can close the mint
/// under open vaults, and non-transferable tokens cannot be paid out at all.
pub const FORBIDDEN_MINT_EXTENSIONS: [ExtensionType; 7] = [
    ExtensionType::PermanentDelegate,
    ExtensionType::TransferHook,
    ExtensionType::TransferFeeConfig,
    ExtensionType::Pausable,
    ExtensionType::DefaultAccountState,
    ExtensionType::MintCloseAuthority,
    ExtensionType::NonTransferable,
];

/// Why a mint may not back vaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MintRefusal {
    /// Not a mint of SPL Token or Token-2022.
    NotAMint,
    /// It carries one of [`FORBIDDEN_MINT_EXTENSIONS`].
    Extension(ExtensionType),
}

/// Checks that `mint` is an SPL Token mint, or a Token-2022 mint without any of the
/// [`FORBIDDEN_MINT_EXTENSIONS`].
pub fn check_mint(mint: &AccountInfo) -> core::result::Result<(), MintRefusal> {
    if mint.owner == &anchor_spl::token::ID {
        return Ok(());
    }
    if mint.owner != &anchor_spl::token_2022::ID {
        return Err(MintRefusal::NotAMint);
    }
    let data = mint.try_borrow_data().map_err(|_| MintRefusal::NotAMint)?;
    let state =
        StateWithExtensions::<Token2022Mint>::unpack(&data).map_err(|_| MintRefusal::NotAMint)?;
    let extensions = state
        .get_extension_types()
        .map_err(|_| MintRefusal::NotAMint)?;
    match extensions
        .into_iter()
        .find(|e| FORBIDDEN_MINT_EXTENSIONS.contains(e))
    {
        Some(extension) => Err(MintRefusal::Extension(extension)),
        None => Ok(()),
    }
}
