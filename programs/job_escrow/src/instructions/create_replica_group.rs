//! Opens a replica group: N (2 to 5) distinct providers will run one batch job, each
//! replica an ordinary job created next with `create_job` and the group as its first
//! remaining account. Providers may take the replicas once all N exist, while a whole run
//! still fits before the commit deadline; the reveal deadline is the commit deadline plus
//! the market's challenge window, at most the longest a job may live from now. The
//! market's terms are copied into the group now and into each replica from it. The client
//! only, for itself.

use crate::{
    constants::{MAX_REPLICAS, MIN_REPLICAS},
    error::EscrowError,
    events::ReplicaGroupCreated,
    math,
    state::{JobTerms, MarketConfig, ReplicaGroup},
};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct CreateReplicaGroupArgs {
    /// Chosen by the client; unique per client among its open groups.
    pub group_id: u64,
    /// N: how many distinct providers run the job.
    pub replicas: u8,
    /// Until when replicas may commit their results.
    pub commit_deadline: i64,
}

#[event_cpi]
#[derive(Accounts)]
#[instruction(args: CreateReplicaGroupArgs)]
pub struct CreateReplicaGroup<'info> {
    #[account(mut)]
    pub client: Signer<'info>,
    #[account(seeds = [MarketConfig::SEED], bump = config.bump)]
    pub config: Box<Account<'info, MarketConfig>>,
    #[account(
        init,
        payer = client,
        space = ReplicaGroup::SPACE,
        seeds = [ReplicaGroup::SEED, client.key().as_ref(), &args.group_id.to_le_bytes()],
        bump,
    )]
    pub group: Box<Account<'info, ReplicaGroup>>,
    pub system_program: Program<'info, System>,
}

impl CreateReplicaGroup<'_> {
    fn validate(&self, args: &CreateReplicaGroupArgs, now: i64) -> Result<()> {
        require!(
            (MIN_REPLICAS..=MAX_REPLICAS).contains(&args.replicas),
            EscrowError::ReplicaCountOutOfRange
        );
        // Ahead, and the group's reveal deadline no further than the longest a job may
        // live (which the staking cooldown outlasts, so the stake behind a replica is
        // still there to slash when the group is decided).
        let furthest = math::add_secs(now, self.config.job_lifetime()?)?;
        let reveal_deadline = math::add_secs(args.commit_deadline, self.config.challenge_window)?;
        require!(
            args.commit_deadline > now && reveal_deadline <= furthest,
            EscrowError::ReplicaDeadlineOutOfRange
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: CreateReplicaGroupArgs) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        ctx.accounts.validate(&args, now)?;
        let accounts = ctx.accounts;
        let terms = JobTerms::from_config(&accounts.config);
        let reveal_deadline = math::add_secs(args.commit_deadline, terms.challenge_window)?;
        accounts.group.set_inner(ReplicaGroup {
            client: accounts.client.key(),
            group_id: args.group_id,
            replicas: args.replicas,
            commit_deadline: args.commit_deadline,
            reveal_deadline,
            spec: [0; 32],
            bump: ctx.bumps.group,
            terms,
            slots: Vec::new(),
        });
        staking::emit_event!(
            authority = &accounts.event_authority,
            ReplicaGroupCreated {
                group: accounts.group.key(),
                client: accounts.client.key(),
                group_id: args.group_id,
                replicas: args.replicas,
                commit_deadline: args.commit_deadline,
                reveal_deadline,
            }
        );
        Ok(())
    }
}
