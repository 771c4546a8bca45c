//! Lists a GPU node. Signed by the provider's authority (cold wallet), whose active stake in
//! the staking program must cover gpu_count x min_stake_per_gpu. An authority whose provider
//! retired registers again into the same account and keeps its reputation.

use crate::{
    error::RegistryError,
    events::ProviderRegistered,
    state::{Hardware, Provider, ProviderStatus, RegistryConfig, Reputation},
};
use anchor_lang::{prelude::*, system_program};
use staking::{state::StakeAccount, utils::create_pda_account};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RegisterProviderArgs {
    pub operator: Pubkey,
    pub endpoint: String,
    pub region: u16,
    pub hardware: Hardware,
    pub benchmark_score: u32,
    pub price_per_gpu_hour: u64,
    pub payment_mint: Pubkey,
}

#[event_cpi]
#[derive(Accounts)]
pub struct RegisterProvider<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(mut, seeds = [RegistryConfig::SEED], bump = config.bump)]
    pub config: Account<'info, RegistryConfig>,
    /// CHECK: the provider PDA, created by the handler (`staking::utils::create_pda_account`).
    #[account(mut, seeds = [Provider::SEED, authority.key().as_ref()], bump)]
    pub provider: UncheckedAccount<'info>,
    #[account(
        seeds = [StakeAccount::SEED, authority.key().as_ref()],
        bump = stake_account.bump,
        seeds::program = staking::ID,
    )]
    pub stake_account: Account<'info, StakeAccount>,
    pub system_program: Program<'info, System>,
}

impl RegisterProvider<'_> {
    /// The reputation a retired provider of this authority earned; `None` for a new one.
    fn returning(&self) -> Result<Option<Reputation>> {
        if self.provider.owner == &system_program::ID && self.provider.data_is_empty() {
            return Ok(None);
        }
        require_keys_eq!(
            *self.provider.owner,
            crate::ID,
            RegistryError::ProviderAlreadyRegistered
        );
        let data = self.provider.try_borrow_data()?;
        let previous = Provider::try_deserialize(&mut &data[..])?;
        require!(
            previous.status == ProviderStatus::Retired,
            RegistryError::ProviderAlreadyRegistered
        );
        Ok(Some(previous.reputation))
    }

    pub fn handler(ctx: Context<Self>, args: RegisterProviderArgs) -> Result<()> {
        let returning = ctx.accounts.returning()?;
        let now = Clock::get()?.unix_timestamp;
        let accounts = ctx.accounts;
        let provider = Provider {
            authority: accounts.authority.key(),
            operator: args.operator,
            endpoint: args.endpoint,
            region: args.region,
            hardware: args.hardware,
            benchmark_score: args.benchmark_score,
            attestation: None,
            price_per_gpu_hour: args.price_per_gpu_hour,
            payment_mint: args.payment_mint,
            status: ProviderStatus::Active,
            gpus_in_use: 0,
            jobs_held: 0,
            reputation: returning.unwrap_or_default(),
            last_heartbeat: now,
            registered_at: now,
            exit_notice_ends_at: 0,
            bump: ctx.bumps.provider,
        };
        provider.invariant()?;
        require!(
            provider.benchmark_score <= accounts.config.max_benchmark_score,
            RegistryError::BenchmarkAboveCeiling
        );
        let required = provider.required_stake(accounts.config.min_stake_per_gpu)?;
        require!(
            accounts.stake_account.active >= required,
            RegistryError::StakeBelowMinimum
        );
        let config = &mut accounts.config;
        config.provider_count = config
            .provider_count
            .checked_add(1)
            .ok_or(error!(RegistryError::MathOverflow))?;

        if returning.is_none() {
            let authority_key = accounts.authority.key();
            create_pda_account(
                &accounts.authority.to_account_info(),
                &accounts.provider.to_account_info(),
                &accounts.system_program.to_account_info(),
                Provider::SPACE,
                &crate::ID,
                &[Provider::SEED, authority_key.as_ref(), &[provider.bump]],
            )?;
        }
        let info = accounts.provider.to_account_info();
        let mut data = info.try_borrow_mut_data()?;
        provider.try_serialize(&mut &mut data[..])?;

        staking::emit_event!(
            authority = &accounts.event_authority,
            ProviderRegistered {
                provider: accounts.provider.key(),
                authority: provider.authority,
                operator: provider.operator,
                region: provider.region,
                hardware: provider.hardware.clone(),
                benchmark_score: provider.benchmark_score,
                price_per_gpu_hour: provider.price_per_gpu_hour,
                payment_mint: provider.payment_mint,
                active_stake: accounts.stake_account.active,
                provider_count: config.provider_count,
            }
        );
        Ok(())
    }
}
