//! Records that an auditor verified the provider's declared hardware and benchmark. A
//! configured auditor only; the hash it signs must match the spec on chain now.

use crate::{
    error::RegistryError,
    events::ProviderAttested,
    state::{spec_hash, Attestation, Provider, RegistryConfig},
};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct AttestProviderArgs {
    /// `spec_hash(hardware, benchmark_score)` of what the auditor measured.
    pub spec_hash: [u8; 32],
}

#[event_cpi]
#[derive(Accounts)]
pub struct AttestProvider<'info> {
    pub auditor: Signer<'info>,
    #[account(seeds = [RegistryConfig::SEED], bump = config.bump)]
    pub config: Account<'info, RegistryConfig>,
    #[account(
        mut,
        seeds = [Provider::SEED, provider.authority.as_ref()],
        bump = provider.bump,
    )]
    pub provider: Box<Account<'info, Provider>>,
}

impl AttestProvider<'_> {
    fn validate(&self, args: &AttestProviderArgs) -> Result<()> {
        require!(
            self.config.is_auditor(&self.auditor.key()),
            RegistryError::NotAuditor
        );
        require!(
            args.spec_hash == spec_hash(&self.provider.hardware, self.provider.benchmark_score),
            RegistryError::SpecHashMismatch
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: AttestProviderArgs) -> Result<()> {
        ctx.accounts.validate(&args)?;
        let now = Clock::get()?.unix_timestamp;
        let provider = &mut ctx.accounts.provider;
        provider.attestation = Some(Attestation {
            auditor: ctx.accounts.auditor.key(),
            attested_at: now,
            spec_hash: args.spec_hash,
        });

        staking::emit_event!(
            authority = &ctx.accounts.event_authority,
            ProviderAttested {
                provider: provider.key(),
                auditor: ctx.accounts.auditor.key(),
                spec_hash: args.spec_hash,
                at: now,
            }
        );
        Ok(())
    }
}
