//! Changes a provider's listing: endpoint, region, hardware, benchmark, price, payment mint.
//! The authority or the operator. A new spec voids the attestation (its hash no longer
//! matches) and must still be covered by stake.

use crate::{
    error::RegistryError,
    events::ProviderUpdated,
    state::{Hardware, Provider, ProviderStatus, RegistryConfig},
};
use anchor_lang::prelude::*;
use staking::state::StakeAccount;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default)]
pub struct UpdateProviderArgs {
    pub endpoint: Option<String>,
    pub region: Option<u16>,
    pub hardware: Option<Hardware>,
    pub benchmark_score: Option<u32>,
    pub price_per_gpu_hour: Option<u64>,
    pub payment_mint: Option<Pubkey>,
}

#[event_cpi]
#[derive(Accounts)]
pub struct UpdateProvider<'info> {
    pub signer: Signer<'info>,
    #[account(seeds = [RegistryConfig::SEED], bump = config.bump)]
    pub config: Account<'info, RegistryConfig>,
    #[account(
        mut,
        seeds = [Provider::SEED, provider.authority.as_ref()],
        bump = provider.bump,
    )]
    pub provider: Box<Account<'info, Provider>>,
    #[account(
        seeds = [StakeAccount::SEED, provider.authority.as_ref()],
        bump = stake_account.bump,
        seeds::program = staking::ID,
    )]
    pub stake_account: Account<'info, StakeAccount>,
}

impl UpdateProvider<'_> {
    fn validate(&self) -> Result<()> {
        require!(
            self.provider.is_key(&self.signer.key()),
            RegistryError::NotProviderKey
        );
        require!(
            self.provider.status != ProviderStatus::Retired,
            RegistryError::ProviderRetired
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: UpdateProviderArgs) -> Result<()> {
        ctx.accounts.validate()?;
        let accounts = ctx.accounts;
        let provider = &mut accounts.provider;
        if let Some(endpoint) = args.endpoint {
            provider.endpoint = endpoint;
        }
        if let Some(region) = args.region {
            provider.region = region;
        }
        if let Some(hardware) = args.hardware {
            require!(
                hardware.gpu_count >= provider.gpus_in_use,
                RegistryError::GpuCountBelowInUse
            );
            provider.hardware = hardware;
        }
        if let Some(score) = args.benchmark_score {
            require!(
                score <= accounts.config.max_benchmark_score,
                RegistryError::BenchmarkAboveCeiling
            );
            provider.benchmark_score = score;
        }
        if let Some(price) = args.price_per_gpu_hour {
            provider.price_per_gpu_hour = price;
        }
        if let Some(mint) = args.payment_mint {
            provider.payment_mint = mint;
        }
        provider.invariant()?;
        let required = provider.required_stake(accounts.config.min_stake_per_gpu)?;
        require!(
            accounts.stake_account.active >= required,
            RegistryError::StakeBelowMinimum
        );

        staking::emit_event!(
            authority = &accounts.event_authority,
            ProviderUpdated {
                provider: provider.key(),
                endpoint: provider.endpoint.clone(),
                region: provider.region,
                hardware: provider.hardware.clone(),
                benchmark_score: provider.benchmark_score,
                price_per_gpu_hour: provider.price_per_gpu_hour,
                payment_mint: provider.payment_mint,
                attested: provider.is_attested(&accounts.config.auditors),
            }
        );
        Ok(())
    }
}
