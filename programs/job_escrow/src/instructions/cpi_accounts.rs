//! Account groups for this program's CPIs, shared by the instructions that make them:
//! capacity, job holds and reputation in the registry; collateral locks and slashing in
//! staking. All are signed by the escrow authority PDA.

use crate::{
    error::EscrowError,
    state::{Job, MarketConfig},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use provider_registry::{
    eligibility::satisfies,
    program::ProviderRegistry,
    state::{Outcome, Provider, RegistryConfig},
};
use staking::{
    program::Staking,
    state::{SlashReason, StakeAccount, StakingConfig},
};

/// The escrow authority's signer seeds.
fn authority_seeds(bump: &[u8; 1]) -> [&[u8]; 2] {
    [MarketConfig::AUTHORITY_SEED, bump]
}

/// May `provider`, backed by `stake`, take `job` at `price` now? The registry's eligibility
/// predicate, the job's price cap and payment mint, and unlocked stake covering the job's
/// collateral.
pub fn check_candidate(
    provider: &Provider,
    stake: &StakeAccount,
    registry_config: &RegistryConfig,
    job: &Job,
    price: u64,
    now: i64,
) -> Result<()> {
    require!(
        provider.payment_mint == job.payment_mint,
        EscrowError::PaymentMintMismatch
    );
    require!(
        price <= job.max_price_per_gpu_hour,
        EscrowError::PriceAboveMax
    );
    satisfies(
        provider,
        stake.active,
        &job.requirements,
        &registry_config.policy(),
        now,
    )
    .map_err(EscrowError::from)?;
    require!(
        stake.unlocked() >= job.terms.collateral(),
        EscrowError::InsufficientCollateral
    );
    Ok(())
}

/// A provider and its stake, with what it takes to hold, release and slash them. The
/// provider account is read only while it exists: no ending of a job depends on it.
#[derive(Accounts)]
pub struct ProviderCpi<'info> {
    /// CHECK: this program's authority PDA; signs the registry and staking CPIs.
    #[account(seeds = [MarketConfig::AUTHORITY_SEED], bump)]
    pub escrow_authority: UncheckedAccount<'info>,
    #[account(
        seeds = [RegistryConfig::SEED],
        bump = registry_config.bump,
        seeds::program = provider_registry::ID,
    )]
    pub registry_config: Box<Account<'info, RegistryConfig>>,
    /// CHECK: the provider account (registry PDA). Each instruction checks its address
    /// against the job; it is deserialized only when owned by the registry, and the
    /// registry checks it again on every CPI.
    #[account(mut)]
    pub provider: UncheckedAccount<'info>,
    #[account(
        mut,
        seeds = [StakingConfig::SEED],
        bump = staking_config.bump,
        seeds::program = staking::ID,
    )]
    pub staking_config: Box<Account<'info, StakingConfig>>,
    #[account(
        mut,
        seeds = [StakeAccount::SEED, stake_account.owner.as_ref()],
        bump = stake_account.bump,
        seeds::program = staking::ID,
    )]
    pub stake_account: Box<Account<'info, StakeAccount>>,
    pub registry_program: Program<'info, ProviderRegistry>,
    pub staking_program: Program<'info, Staking>,
    /// CHECK: the registry's event authority, which signs the registry's events.
    #[account(address = provider_registry::EVENT_AUTHORITY_AND_BUMP.0)]
    pub registry_event_authority: UncheckedAccount<'info>,
    /// CHECK: staking's event authority, which signs staking's events.
    #[account(address = staking::EVENT_AUTHORITY_AND_BUMP.0)]
    pub staking_event_authority: UncheckedAccount<'info>,
}

impl<'info> ProviderCpi<'info> {
    /// The provider account, or `None` once it is gone (no lamports left, or handed back to
    /// the system program). Anything else must be a provider.
    pub fn provider(&self) -> Result<Option<Provider>> {
        if self.provider.lamports() == 0 || self.provider.owner == &anchor_lang::system_program::ID
        {
            return Ok(None);
        }
        require_keys_eq!(
            *self.provider.owner,
            provider_registry::ID,
            EscrowError::WrongProvider
        );
        let data = self.provider.try_borrow_data()?;
        Provider::try_deserialize(&mut &data[..]).map(Some)
    }

    /// The provider account, which must exist.
    pub fn existing_provider(&self) -> Result<Provider> {
        self.provider()?
            .ok_or(error!(EscrowError::ProviderNotFound))
    }

    /// The provider account, which must exist at its registry address, with its own stake
    /// account.
    pub fn listed_provider(&self) -> Result<Provider> {
        let provider = self.existing_provider()?;
        let address = Pubkey::create_program_address(
            &[
                Provider::SEED,
                provider.authority.as_ref(),
                &[provider.bump],
            ],
            &provider_registry::ID,
        )
        .map_err(|_| error!(EscrowError::WrongProvider))?;
        self.check_keys(&address, &provider.authority)?;
        Ok(provider)
    }

    /// The accounts must be those of the provider `job` is assigned to, and `operator` its
    /// current operator.
    pub fn check_assigned_operator(&self, job: &Job, operator: &Pubkey) -> Result<()> {
        let assignment = job.assignment()?;
        self.check_keys(&assignment.provider, &assignment.authority)?;
        let provider = self.existing_provider()?;
        require_keys_eq!(
            *operator,
            provider.operator,
            EscrowError::NotAssignedProvider
        );
        Ok(())
    }

    /// The accounts must be those of the provider `provider` with authority `authority`.
    pub fn check_keys(&self, provider: &Pubkey, authority: &Pubkey) -> Result<()> {
        require_keys_eq!(self.provider.key(), *provider, EscrowError::WrongProvider);
        require_keys_eq!(
            self.stake_account.owner,
            *authority,
            EscrowError::WrongStakeAccount
        );
        Ok(())
    }

    fn registry_accounts<T>(&self, build: impl FnOnce(RegistryAccounts<'info>) -> T) -> T {
        build(RegistryAccounts {
            escrow_authority: self.escrow_authority.to_account_info(),
            config: self.registry_config.to_account_info(),
            provider: self.provider.to_account_info(),
            event_authority: self.registry_event_authority.to_account_info(),
            program: self.registry_program.to_account_info(),
        })
    }

    fn lock_accounts(&self) -> staking::cpi::accounts::LockStake<'info> {
        staking::cpi::accounts::LockStake {
            slasher: self.escrow_authority.to_account_info(),
            config: self.staking_config.to_account_info(),
            stake_account: self.stake_account.to_account_info(),
            event_authority: self.staking_event_authority.to_account_info(),
            program: self.staking_program.to_account_info(),
        }
    }

    /// Takes on a job just assigned: reserves its GPUs, counts it as held and locks its
    /// collateral.
    pub fn hold(&self, job: &Job, bump: u8) -> Result<()> {
        let (gpus, collateral) = (job.requirements.gpu_count, job.collateral_locked());
        let bump = [bump];
        let seeds = authority_seeds(&bump);
        provider_registry::cpi::reserve_capacity(
            CpiContext::new_with_signer(
                provider_registry::ID,
                self.registry_accounts(|a| provider_registry::cpi::accounts::ReserveCapacity {
                    escrow_authority: a.escrow_authority,
                    config: a.config,
                    provider: a.provider,
                    event_authority: a.event_authority,
                    program: a.program,
                }),
                &[&seeds],
            ),
            provider_registry::CapacityArgs { gpus },
        )?;
        if collateral > 0 {
            staking::cpi::lock_stake(
                CpiContext::new_with_signer(staking::ID, self.lock_accounts(), &[&seeds]),
                staking::LockStakeArgs { amount: collateral },
            )?;
        }
        Ok(())
    }

    /// Frees the job's GPUs, if the provider account still exists.
    pub fn release(&self, gpus: u16, bump: u8) -> Result<()> {
        if self.provider()?.is_none() {
            return Ok(());
        }
        let bump = [bump];
        let seeds = authority_seeds(&bump);
        provider_registry::cpi::release_capacity(
            CpiContext::new_with_signer(
                provider_registry::ID,
                self.registry_accounts(|a| provider_registry::cpi::accounts::ReleaseCapacity {
                    escrow_authority: a.escrow_authority,
                    config: a.config,
                    provider: a.provider,
                    event_authority: a.event_authority,
                    program: a.program,
                }),
                &[&seeds],
            ),
            provider_registry::CapacityArgs { gpus },
        )
    }

    /// Ends the provider's hold on a job: records the outcome and frees the `gpus` the job
    /// still held in one registry call (if the provider account still exists), then unlocks
    /// the job's collateral.
    pub fn end(&self, outcome: Outcome, gpus: u16, collateral: u64, bump: u8) -> Result<()> {
        self.record(outcome, gpus, bump)?;
        self.unlock(collateral, bump)
    }

    /// Records the outcome and frees `gpus`, if the provider account still exists.
    pub fn record(&self, outcome: Outcome, gpus: u16, bump: u8) -> Result<()> {
        if self.provider()?.is_none() {
            return Ok(());
        }
        let bump = [bump];
        let seeds = authority_seeds(&bump);
        provider_registry::cpi::record_outcome(
            CpiContext::new_with_signer(
                provider_registry::ID,
                self.registry_accounts(|a| provider_registry::cpi::accounts::RecordOutcome {
                    escrow_authority: a.escrow_authority,
                    config: a.config,
                    provider: a.provider,
                    event_authority: a.event_authority,
                    program: a.program,
                }),
                &[&seeds],
            ),
            provider_registry::RecordOutcomeArgs {
                outcome,
                release_gpus: gpus,
            },
        )
    }

    /// Releases `collateral` of the stake's lock.
    pub fn unlock(&self, collateral: u64, bump: u8) -> Result<()> {
        if collateral == 0 {
            return Ok(());
        }
        let bump = [bump];
        let seeds = authority_seeds(&bump);
        staking::cpi::unlock_stake(
            CpiContext::new_with_signer(staking::ID, self.lock_accounts(), &[&seeds]),
            staking::LockStakeArgs { amount: collateral },
        )
    }
}

/// The registry accounts of a capacity or outcome CPI.
struct RegistryAccounts<'info> {
    escrow_authority: AccountInfo<'info>,
    config: AccountInfo<'info>,
    provider: AccountInfo<'info>,
    event_authority: AccountInfo<'info>,
    program: AccountInfo<'info>,
}

/// What slashing a provider's stake takes beyond its `ProviderCpi`. Staking itself checks
/// the vault and mint against its config (the treasury's share stays in the vault until
/// collected); the caller checks who is paid.
#[derive(Accounts)]
pub struct SlashCpi<'info> {
    pub stake_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut)]
    pub staking_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The harmed client's token account of the stake mint.
    #[account(mut)]
    pub slash_recipient: Box<InterfaceAccount<'info, TokenAccount>>,
    pub stake_token_program: Interface<'info, TokenInterface>,
}

impl<'info> SlashCpi<'info> {
    /// A slash with no harmed party to pay (a wrong result the client is refunded for in
    /// full) goes whole to the staking treasury: the recipient must be its token account.
    pub fn require_staking_treasury(&self, stake: &ProviderCpi<'info>) -> Result<()> {
        require_keys_eq!(
            self.slash_recipient.key(),
            stake.staking_config.treasury,
            EscrowError::NotStakingTreasury
        );
        Ok(())
    }

    /// Releases the job's `collateral` lock and slashes up to `amount` from `stake`, in one
    /// staking call. A provider with nothing left at stake (or a zero amount) is not
    /// slashed, only unlocked, so that a permissionless expiry can never be blocked.
    pub fn slash(
        &self,
        stake: &ProviderCpi<'info>,
        amount: u64,
        reason: SlashReason,
        collateral: u64,
        bump: u8,
    ) -> Result<()> {
        let account = &stake.stake_account;
        let at_stake = account.active.saturating_add(account.unbonding);
        if amount == 0 || at_stake == 0 {
            return stake.unlock(collateral, bump);
        }
        let bump = [bump];
        let seeds = authority_seeds(&bump);
        staking::cpi::slash(
            CpiContext::new_with_signer(
                staking::ID,
                staking::cpi::accounts::Slash {
                    slasher: stake.escrow_authority.to_account_info(),
                    config: stake.staking_config.to_account_info(),
                    stake_account: stake.stake_account.to_account_info(),
                    stake_mint: self.stake_mint.to_account_info(),
                    vault: self.staking_vault.to_account_info(),
                    recipient: self.slash_recipient.to_account_info(),
                    token_program: self.stake_token_program.to_account_info(),
                    event_authority: stake.staking_event_authority.to_account_info(),
                    program: stake.staking_program.to_account_info(),
                },
                &[&seeds],
            ),
            staking::SlashArgs {
                amount,
                reason,
                unlock: collateral,
            },
        )
    }
}
