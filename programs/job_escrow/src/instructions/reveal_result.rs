//! Opens a replica's commitment: the result hash and the salt, which must hash with the
//! replica's provider account to what it committed, and publishes the output's URI. Accepted once every replica of the
//! group has committed or the commit deadline has passed, until the reveal deadline; a
//! replica that committed nothing has nothing to reveal. Signed by the replica provider's
//! current operator, so nobody who sees the opening in flight can send it first with
//! another URI.

use crate::{
    constants::MAX_URI_LEN,
    error::EscrowError,
    events::ResultRevealed,
    state::{replica_commitment, Job, ReplicaGroup},
};
use anchor_lang::prelude::*;
use provider_registry::state::Provider;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RevealResultArgs {
    /// SHA-256 of the output.
    pub hash: [u8; 32],
    pub salt: [u8; 32],
    /// Where the output is.
    pub uri: String,
}

#[event_cpi]
#[derive(Accounts)]
pub struct RevealResult<'info> {
    pub operator: Signer<'info>,
    #[account(
        seeds = [Provider::SEED, provider.authority.as_ref()],
        bump = provider.bump,
        seeds::program = provider_registry::ID,
    )]
    pub provider: Box<Account<'info, Provider>>,
    #[account(
        mut,
        seeds = [Job::SEED, job.client.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,
    #[account(
        mut,
        seeds = [ReplicaGroup::SEED, group.client.as_ref(), &group.group_id.to_le_bytes()],
        bump = group.bump,
    )]
    pub group: Box<Account<'info, ReplicaGroup>>,
}

impl RevealResult<'_> {
    fn validate(&self, args: &RevealResultArgs, now: i64) -> Result<()> {
        self.job.require_replica_of(&self.group.key())?;
        require!(args.uri.len() <= MAX_URI_LEN, EscrowError::UriTooLong);
        let slot = self.group.slot(&self.job.key())?;
        let commitment = slot.commitment.ok_or(error!(EscrowError::NoCommitment))?;
        require_keys_eq!(
            self.provider.key(),
            self.job.assignment()?.provider,
            EscrowError::WrongProvider
        );
        require_keys_eq!(
            self.operator.key(),
            self.provider.operator,
            EscrowError::NotAssignedProvider
        );
        self.group.check_reveal_open(now)?;
        require!(slot.revealed.is_none(), EscrowError::AlreadyRevealed);
        let provider = self.job.assignment()?.provider;
        require!(
            replica_commitment(&args.hash, &provider, &args.salt) == commitment,
            EscrowError::CommitmentMismatch
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: RevealResultArgs) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        ctx.accounts.validate(&args, now)?;
        let accounts = ctx.accounts;
        let job_key = accounts.job.key();
        accounts.group.slot_mut(&job_key)?.revealed = Some(args.hash);
        if let Some(result) = accounts.job.result.as_mut() {
            result.hash = args.hash;
            result.uri.clone_from(&args.uri);
        }
        staking::emit_event!(
            authority = &accounts.event_authority,
            ResultRevealed {
                job: job_key,
                group: accounts.group.key(),
                provider: accounts.job.assignment()?.provider,
                hash: args.hash,
                uri: args.uri,
            }
        );
        Ok(())
    }
}
