//! Closes a replica group once every replica it registered is closed (settled, reclaimed,
//! cancelled or refunded after its last attempt), its rent back to the client, passing the
//! group's replica jobs in order as remaining accounts. The client, or anyone once the
//! reveal deadline has passed (before, a group whose replicas are not all created yet
//! could be closed under its client).

use crate::{error::EscrowError, events::ReplicaGroupClosed, state::ReplicaGroup};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct CloseReplicaGroup<'info> {
    pub caller: Signer<'info>,
    #[account(
        mut,
        seeds = [ReplicaGroup::SEED, group.client.as_ref(), &group.group_id.to_le_bytes()],
        bump = group.bump,
        has_one = client @ EscrowError::NotClient,
        close = client,
    )]
    pub group: Box<Account<'info, ReplicaGroup>>,
    /// CHECK: the group's client (`has_one` above), whatever account it is now: receives
    /// the rent.
    #[account(mut)]
    pub client: UncheckedAccount<'info>,
}

impl CloseReplicaGroup<'_> {
    /// `jobs` must be the group's replicas, each closed: no longer this program's account
    /// (lamports sent to a closed address later do not make it one again).
    fn validate(&self, jobs: &[AccountInfo], now: i64) -> Result<()> {
        require!(
            self.caller.key() == self.group.client || now > self.group.reveal_deadline,
            EscrowError::NotClient
        );
        let slots = &self.group.slots;
        require!(jobs.len() == slots.len(), EscrowError::ReplicaJobsOpen);
        for (slot, info) in slots.iter().zip(jobs) {
            require!(
                *info.key == slot.job && (info.owner != &crate::ID || info.data_is_empty()),
                EscrowError::ReplicaJobsOpen
            );
        }
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        ctx.accounts.validate(ctx.remaining_accounts, now)?;
        let accounts = ctx.accounts;
        staking::emit_event!(
            authority = &accounts.event_authority,
            ReplicaGroupClosed {
                group: accounts.group.key(),
                client: accounts.client.key(),
            }
        );
        Ok(())
    }
}
