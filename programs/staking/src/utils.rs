//! Account creation shared by the gpu-market programs.

use anchor_lang::{
    prelude::*,
    system_program::{self, Allocate, Assign, CreateAccount, Transfer},
};

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
