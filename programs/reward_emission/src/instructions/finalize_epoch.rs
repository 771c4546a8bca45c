//! Finalizes a finished epoch once its fold window has closed: sums the weight folded into
//! the uptime shards, fixes the epoch's emission (booked against the cap, nothing when no
//! weight was folded) and creates the epoch account that providers settle against.
//! Permissionless, once per epoch. All [`SHARDS`] shard addresses follow the named accounts
//! in index order; a shard never used is passed as its empty address.

use crate::{
    constants::SHARDS,
    error::EmissionError,
    events::EpochFinalized,
    instructions::{is_unallocated, load, store},
    state::{EmissionConfig, Epoch, UptimeShard},
};
use anchor_lang::prelude::*;
use staking::utils::{create_pda_account, pda_bump};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct FinalizeEpochArgs {
    pub epoch: u64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct FinalizeEpoch<'info> {
    /// Pays for the epoch account.
    #[account(mut)]
    pub payer: Signer<'info>,
    #[account(mut, seeds = [EmissionConfig::SEED], bump = config.bump)]
    pub config: Box<Account<'info, EmissionConfig>>,
    /// CHECK: the epoch account, created here (address checked by `pda_bump`; it must not
    /// exist yet).
    #[account(mut)]
    pub epoch: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl FinalizeEpoch<'_> {
    pub fn handler(ctx: Context<Self>, args: FinalizeEpochArgs) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let accounts = ctx.accounts;
        require!(
            now >= accounts.config.fold_closes(args.epoch)?,
            EmissionError::FoldWindowOpen
        );
        let epoch_info = accounts.epoch.to_account_info();
        let epoch_seed = args.epoch.to_le_bytes();
        let epoch_bump = pda_bump(
            "epoch",
            &epoch_info,
            &[Epoch::SEED, &epoch_seed],
            &crate::ID,
        )?;
        require!(
            is_unallocated(&epoch_info),
            EmissionError::EpochAlreadyFinalized
        );
        require!(
            ctx.remaining_accounts.len() == usize::from(SHARDS),
            EmissionError::WrongShard
        );

        let mut total_weight: u128 = 0;
        let mut providers: u64 = 0;
        for (index, info) in (0..SHARDS).zip(ctx.remaining_accounts) {
            let seed = [index];
            pda_bump("shard", info, &[UptimeShard::SEED, &seed], &crate::ID)?;
            if is_unallocated(info) {
                continue;
            }
            let mut shard = load::<UptimeShard>(info)?;
            if shard.epoch != args.epoch {
                continue;
            }
            require!(!shard.tallied, EmissionError::EpochAlreadyFinalized);
            require!(info.is_writable, EmissionError::RecordNotWritable);
            shard.tallied = true;
            total_weight = total_weight
                .checked_add(shard.weight)
                .ok_or(error!(EmissionError::MathOverflow))?;
            providers = providers
                .checked_add(shard.providers)
                .ok_or(error!(EmissionError::MathOverflow))?;
            store(info, &shard)?;
        }

        // An epoch nobody folded weight into allocates nothing.
        let emission = if total_weight > 0 {
            accounts.config.open_epoch(args.epoch)?
        } else {
            0
        };
        accounts.config.invariant()?;
        create_pda_account(
            &accounts.payer.to_account_info(),
            &epoch_info,
            &accounts.system_program.to_account_info(),
            Epoch::SPACE,
            &crate::ID,
            &[Epoch::SEED, &epoch_seed, &[epoch_bump]],
        )?;
        store(
            &epoch_info,
            &Epoch {
                epoch: args.epoch,
                emission,
                total_weight,
                bump: epoch_bump,
            },
        )?;

        staking::emit_event!(
            authority = &accounts.event_authority,
            EpochFinalized {
                epoch: args.epoch,
                emission,
                total_weight,
                providers,
                total_allocated_after: accounts.config.total_allocated,
            }
        );
        Ok(())
    }
}
