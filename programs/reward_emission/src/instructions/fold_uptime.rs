//! Folds the uptime providers recorded in a finished epoch into one uptime shard, while the
//! epoch's fold window is open. Permissionless: a crank (the market's upkeep) folds every
//! record, and a node may fold its own when nobody did. The reward records to fold follow
//! the named accounts, writable, all of providers that [`shard_of`] maps to this shard; a
//! record with nothing left to fold in the epoch is skipped, so a batch that races another
//! still lands. Each record's weight is counted once, and only folded weight earns.

use crate::{
    constants::{MAX_FOLD_BATCH, SHARDS},
    error::EmissionError,
    events::UptimeFolded,
    instructions::{is_unallocated, load, store},
    state::{shard_of, EmissionConfig, ProviderRewards, UptimeShard},
};
use anchor_lang::prelude::*;
use staking::utils::{create_pda_account, pda_bump};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct FoldUptimeArgs {
    /// The finished epoch whose weight is folded.
    pub epoch: u64,
    /// The shard, below [`SHARDS`].
    pub shard: u8,
}

#[event_cpi]
#[derive(Accounts)]
pub struct FoldUptime<'info> {
    /// Pays for the shard the first time it is used.
    #[account(mut)]
    pub payer: Signer<'info>,
    #[account(seeds = [EmissionConfig::SEED], bump = config.bump)]
    pub config: Box<Account<'info, EmissionConfig>>,
    /// CHECK: the shard, created by its first fold (address checked by `pda_bump`, owner
    /// and type by `load`).
    #[account(mut)]
    pub shard: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl FoldUptime<'_> {
    fn validate(&self, args: &FoldUptimeArgs, now: i64, records: usize) -> Result<()> {
        require!(args.shard < SHARDS, EmissionError::WrongShard);
        require!(
            args.epoch < self.config.epoch_at(now)?,
            EmissionError::EpochNotOver
        );
        require!(
            now < self.config.fold_closes(args.epoch)?,
            EmissionError::FoldWindowClosed
        );
        require!(
            (1..=MAX_FOLD_BATCH).contains(&records),
            EmissionError::FoldBatchSize
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: FoldUptimeArgs) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        ctx.accounts
            .validate(&args, now, ctx.remaining_accounts.len())?;
        let accounts = ctx.accounts;

        let shard_info = accounts.shard.to_account_info();
        let index = [args.shard];
        let bump = pda_bump(
            "shard",
            &shard_info,
            &[UptimeShard::SEED, &index],
            &crate::ID,
        )?;
        let mut shard = if is_unallocated(&shard_info) {
            create_pda_account(
                &accounts.payer.to_account_info(),
                &shard_info,
                &accounts.system_program.to_account_info(),
                UptimeShard::SPACE,
                &crate::ID,
                &[UptimeShard::SEED, &index, &[bump]],
            )?;
            UptimeShard {
                index: args.shard,
                epoch: args.epoch,
                weight: 0,
                providers: 0,
                tallied: false,
                bump,
            }
        } else {
            load::<UptimeShard>(&shard_info)?
        };
        require!(shard.accepts(args.epoch), EmissionError::EpochNotFinalized);
        if shard.epoch != args.epoch {
            shard.epoch = args.epoch;
            shard.weight = 0;
            shard.providers = 0;
            shard.tallied = false;
        }

        let (mut folded, mut weight) = (0u64, 0u64);
        for info in ctx.remaining_accounts {
            require!(info.is_writable, EmissionError::RecordNotWritable);
            let mut record = load::<ProviderRewards>(info)?;
            require!(
                shard_of(&record.provider) == args.shard,
                EmissionError::WrongShard
            );
            let Some(added) = record.fold(args.epoch) else {
                continue;
            };
            store(info, &record)?;
            folded = folded
                .checked_add(1)
                .ok_or(error!(EmissionError::MathOverflow))?;
            weight = weight
                .checked_add(added)
                .ok_or(error!(EmissionError::MathOverflow))?;
        }
        shard.weight = shard
            .weight
            .checked_add(u128::from(weight))
            .ok_or(error!(EmissionError::MathOverflow))?;
        shard.providers = shard
            .providers
            .checked_add(folded)
            .ok_or(error!(EmissionError::MathOverflow))?;
        store(&shard_info, &shard)?;

        staking::emit_event!(
            authority = &accounts.event_authority,
            UptimeFolded {
                epoch: args.epoch,
                shard: args.shard,
                records: folded,
                weight,
                shard_weight_after: shard.weight,
            }
        );
        Ok(())
    }
}
