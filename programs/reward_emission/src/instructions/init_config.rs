//! Creates the emission schedule. Called once per cluster; the signer becomes the admin.
//! The reward mint must be empty and have this program's mint authority PDA as its only
//! minter, so that the hard cap bounds its whole supply.

use crate::{error::EmissionError, events::EmissionConfigInitialized, state::EmissionConfig};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenInterface};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct InitConfigArgs {
    pub genesis_time: i64,
    pub epoch_length: i64,
    /// The shortest time between two uptime records of one provider (at most an epoch).
    pub record_interval: i64,
    pub first_epoch_emission: u64,
    pub decay_bps: u16,
    pub decay_period_epochs: u64,
    pub hard_cap: u64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct InitConfig<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(
        init,
        payer = admin,
        space = EmissionConfig::SPACE,
        seeds = [EmissionConfig::SEED],
        bump,
    )]
    pub config: Account<'info, EmissionConfig>,
    /// CHECK: the mint authority PDA; only its address and bump are used.
    #[account(seeds = [EmissionConfig::MINT_AUTHORITY_SEED], bump)]
    pub mint_authority: UncheckedAccount<'info>,
    #[account(mint::token_program = token_program)]
    pub reward_mint: InterfaceAccount<'info, Mint>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl InitConfig<'_> {
    fn validate(&self) -> Result<()> {
        let mint = &self.reward_mint;
        require!(
            mint.mint_authority.contains(&self.mint_authority.key()),
            EmissionError::WrongMintAuthority
        );
        require!(mint.supply == 0, EmissionError::InvalidCap);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: InitConfigArgs) -> Result<()> {
        ctx.accounts.validate()?;
        let config = &mut ctx.accounts.config;
        config.set_inner(EmissionConfig {
            admin: ctx.accounts.admin.key(),
            reward_mint: ctx.accounts.reward_mint.key(),
            mint_authority_bump: ctx.bumps.mint_authority,
            genesis_time: args.genesis_time,
            epoch_length: args.epoch_length,
            record_interval: args.record_interval,
            first_epoch_emission: args.first_epoch_emission,
            decay_bps: args.decay_bps,
            decay_period_epochs: args.decay_period_epochs,
            initial_cap: args.hard_cap,
            hard_cap: args.hard_cap,
            total_allocated: 0,
            total_minted: 0,
            bump: ctx.bumps.config,
        });
        config.invariant()?;

        staking::emit_event!(
            authority = &ctx.accounts.event_authority,
            EmissionConfigInitialized {
                admin: config.admin,
                reward_mint: config.reward_mint,
                genesis_time: config.genesis_time,
                epoch_length: config.epoch_length,
                record_interval: config.record_interval,
                first_epoch_emission: config.first_epoch_emission,
                decay_bps: config.decay_bps,
                decay_period_epochs: config.decay_period_epochs,
                hard_cap: config.hard_cap,
            }
        );
        Ok(())
    }
}
