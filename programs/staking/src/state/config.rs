use crate::{
    constants::{BPS_DENOMINATOR, MAX_SLASHERS, MAX_UNBONDING_PERIOD},
    error::StakingError,
    instructions::UpdateConfigArgs,
};
use anchor_lang::prelude::*;

/// Global staking parameters and the pooled vault that holds every provider's stake.
#[account]
#[derive(InitSpace, Debug)]
pub struct StakingConfig {
    pub admin: Pubkey,
    pub stake_mint: Pubkey,
    /// Token account PDA `["vault"]`, owned by this config PDA.
    pub vault: Pubkey,
    /// Token account (stake mint) that receives the treasury's share of slashes.
    pub treasury: Pubkey,
    pub unbonding_period: i64,
    /// Share of each slash that goes to the treasury; the rest goes to the harmed party.
    pub treasury_share_bps: u16,
    /// Authority PDAs of the programs allowed to slash through CPI.
    #[max_len(MAX_SLASHERS)]
    pub slashers: Vec<Pubkey>,
    pub total_active: u64,
    pub total_unbonding: u64,
    pub total_slashed: u64,
    /// The treasury's share of slashes, still in the vault until `collect_treasury`.
    pub treasury_owed: u64,
    /// Stake locked behind jobs, over every stake account: while any is, no slasher may be
    /// removed (the jobs behind the locks could then never release them).
    pub total_locked: u64,
    pub bump: u8,
    pub vault_bump: u8,
    /// A proposed change, waiting out its timelock.
    pub pending: Option<PendingConfigUpdate>,
}

/// A proposed change of staking parameters and when it may be applied.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Debug, PartialEq, Eq)]
pub struct PendingConfigUpdate {
    pub args: UpdateConfigArgs,
    /// The new treasury token account, when it changes.
    pub treasury: Option<Pubkey>,
    pub eta: i64,
}

impl StakingConfig {
    pub const SEED: &'static [u8] = b"config";
    pub const VAULT_SEED: &'static [u8] = b"vault";
    pub const SPACE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;

    /// Sets every parameter `args` names, and the treasury when given.
    pub fn apply(&mut self, args: &UpdateConfigArgs, treasury: Option<Pubkey>) {
        let a = args.clone();
        self.admin = a.new_admin.unwrap_or(self.admin);
        self.unbonding_period = a.unbonding_period.unwrap_or(self.unbonding_period);
        self.treasury_share_bps = a.treasury_share_bps.unwrap_or(self.treasury_share_bps);
        if let Some(slashers) = a.slashers {
            self.slashers = slashers;
        }
        self.treasury = treasury.unwrap_or(self.treasury);
    }

    pub fn is_slasher(&self, key: &Pubkey) -> bool {
        self.slashers.contains(key)
    }

    /// Checks the parameters an admin may set.
    pub fn invariant(&self) -> Result<()> {
        require!(
            self.unbonding_period > 0 && self.unbonding_period <= MAX_UNBONDING_PERIOD,
            StakingError::InvalidUnbondingPeriod
        );
        require!(
            u64::from(self.treasury_share_bps) <= BPS_DENOMINATOR,
            StakingError::InvalidBps
        );
        require!(
            self.slashers.len() <= MAX_SLASHERS,
            StakingError::TooManySlashers
        );
        Ok(())
    }
}
