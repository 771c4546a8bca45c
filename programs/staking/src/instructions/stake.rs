//! Deposits stake-mint tokens into the pooled vault as active stake. Any owner, for itself.

use crate::{
    error::StakingError,
    events::Staked,
    math,
    state::{StakeAccount, StakingConfig},
    utils::{create_pda_account, pda_bump},
};
use anchor_lang::{prelude::*, system_program};
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct StakeArgs {
    pub amount: u64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct Stake<'info> {
    #[account(mut)]
    pub owner: Signer<'info>,
    #[account(
        mut,
        seeds = [StakingConfig::SEED],
        bump = config.bump,
        has_one = stake_mint @ StakingError::WrongStakeMint,
        has_one = vault @ StakingError::WrongVault,
    )]
    pub config: Account<'info, StakingConfig>,
    /// CHECK: the owner's stake PDA: created on the first stake, else read and written back
    /// by the handler (address, owner and discriminator checked there).
    #[account(mut)]
    pub stake_account: UncheckedAccount<'info>,
    #[account(mint::token_program = token_program)]
    pub stake_mint: InterfaceAccount<'info, Mint>,
    #[account(mut)]
    pub vault: InterfaceAccount<'info, TokenAccount>,
    /// The owner's token account the stake comes from.
    #[account(
        mut,
        token::mint = stake_mint,
        token::token_program = token_program,
    )]
    pub source: InterfaceAccount<'info, TokenAccount>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl Stake<'_> {
    fn validate(&self, args: &StakeArgs) -> Result<()> {
        require!(args.amount > 0, StakingError::ZeroAmount);
        crate::utils::check_mint(&self.stake_mint.to_account_info())
            .map_err(|_| error!(StakingError::MintNotSupported))?;
        Ok(())
    }

    /// The owner's stake account, created empty on the first stake.
    fn load_or_create(&self, bump: u8) -> Result<StakeAccount> {
        let info = self.stake_account.to_account_info();
        if info.owner == &system_program::ID {
            let owner = self.owner.key();
            create_pda_account(
                &self.owner.to_account_info(),
                &info,
                &self.system_program.to_account_info(),
                StakeAccount::SPACE,
                &crate::ID,
                &[StakeAccount::SEED, owner.as_ref(), &[bump]],
            )?;
            return Ok(StakeAccount {
                owner,
                active: 0,
                unbonding: 0,
                unbonding_ends_at: 0,
                total_slashed: 0,
                locked: 0,
                bump,
            });
        }
        require_keys_eq!(
            *info.owner,
            crate::ID,
            ErrorCode::AccountOwnedByWrongProgram
        );
        let data = info.try_borrow_data()?;
        StakeAccount::try_deserialize(&mut &data[..])
    }

    pub fn handler(ctx: Context<Self>, args: StakeArgs) -> Result<()> {
        ctx.accounts.validate(&args)?;
        let accounts = ctx.accounts;
        let bump = pda_bump(
            "stake_account",
            &accounts.stake_account,
            &[StakeAccount::SEED, accounts.owner.key().as_ref()],
            &crate::ID,
        )?;
        let mut stake = accounts.load_or_create(bump)?;

        let before = accounts.vault.amount;
        token_interface::transfer_checked(
            CpiContext::new(
                accounts.token_program.key(),
                TransferChecked {
                    from: accounts.source.to_account_info(),
                    mint: accounts.stake_mint.to_account_info(),
                    to: accounts.vault.to_account_info(),
                    authority: accounts.owner.to_account_info(),
                },
            ),
            args.amount,
            accounts.stake_mint.decimals,
        )?;
        // Credit what the vault received: a Token-2022 transfer fee would make it less.
        accounts.vault.reload()?;
        let received = math::sub(accounts.vault.amount, before)?;

        stake.deposit(received)?;
        stake.invariant()?;
        {
            let info = accounts.stake_account.to_account_info();
            let mut data = info.try_borrow_mut_data()?;
            stake.try_serialize(&mut &mut data[..])?;
        }
        let config = &mut accounts.config;
        config.total_active = math::add(config.total_active, received)?;

        crate::emit_event!(
            authority = &accounts.event_authority,
            Staked {
                owner: stake.owner,
                amount: received,
                active_after: stake.active,
                unbonding_after: stake.unbonding,
                total_active_after: config.total_active,
            }
        );
        Ok(())
    }
}
