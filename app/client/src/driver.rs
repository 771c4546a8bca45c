//! Turns what the matcher decided, and what the clock says is due, into transactions.
//!
//! Matches become `accept_job` (instant mode) or `place_bid` (auction mode), which only the
//! matched provider's operator can sign: every agent runs the same deterministic round and
//! takes the jobs assigned to it, so providers do not race for the same job. In a market
//! with a matcher, an instant job's match within the matcher's window becomes `assign_job`,
//! which only the matcher signs; providers take it themselves only once the window closed. Upkeep
//! ([`plan_upkeep`]) is permissionless: closing auctions, expiring jobs whose provider
//! missed a deadline (slashing it and re-queuing the job), settling finished jobs (a
//! replica once its group is decided) and reclaiming jobs nobody took. Whoever sends an
//! expiry or a reclaim earns the crank tip.

use crate::{
    error::ClientError,
    escrow::{self, Job, JobKind, JobMode, JobStatus, SettleAccounts, SlashKeys},
    market::{MarketSnapshot, Match},
    token, Chain, TxOutcome,
};
use anchor_lang::solana_program::{instruction::Instruction, pubkey::Pubkey};
use job_escrow::constants::DISPUTE_TIMEOUT;
use serde::Serialize;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::fmt;

/// One transaction's worth of market work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// The provider takes an instant job (its operator signs).
    Accept {
        #[serde(with = "crate::serde_key")]
        job: Pubkey,
        #[serde(with = "crate::serde_key")]
        authority: Pubkey,
        #[serde(with = "crate::serde_key")]
        operator: Pubkey,
    },
    /// The market's matcher assigns an instant job to the provider (the matcher signs).
    Assign {
        #[serde(with = "crate::serde_key")]
        job: Pubkey,
        #[serde(with = "crate::serde_key")]
        authority: Pubkey,
        #[serde(with = "crate::serde_key")]
        matcher: Pubkey,
    },
    /// The provider bids on an auction (its operator signs).
    Bid {
        #[serde(with = "crate::serde_key")]
        job: Pubkey,
        #[serde(with = "crate::serde_key")]
        authority: Pubkey,
        #[serde(with = "crate::serde_key")]
        operator: Pubkey,
        price_per_gpu_hour: u64,
    },
    /// An auction's window closed with a bid: assign it to the best one (anyone).
    CloseAuction {
        #[serde(with = "crate::serde_key")]
        job: Pubkey,
    },
    /// The provider missed a deadline: slash it and re-queue or refund the job (anyone).
    Expire {
        #[serde(with = "crate::serde_key")]
        job: Pubkey,
    },
    /// A job is done and unchallenged, or a lease reached its end: settle it (anyone).
    Finalize {
        #[serde(with = "crate::serde_key")]
        job: Pubkey,
    },
    /// An open job nobody took: refund the client (anyone).
    Reclaim {
        #[serde(with = "crate::serde_key")]
        job: Pubkey,
    },
    /// A committed replica whose group's reveals are final: settle it by the majority
    /// (anyone). It depends on the group, not on the job alone: [`replica_due`] returns it
    /// from a snapshot's groups, and [`plan_upkeep`] with it.
    SettleReplica {
        #[serde(with = "crate::serde_key")]
        job: Pubkey,
    },
}

impl Action {
    /// The job the action is about.
    pub fn job(&self) -> Pubkey {
        match *self {
            Self::Accept { job, .. }
            | Self::Assign { job, .. }
            | Self::Bid { job, .. }
            | Self::CloseAuction { job }
            | Self::Expire { job }
            | Self::Finalize { job }
            | Self::Reclaim { job }
            | Self::SettleReplica { job } => job,
        }
    }

    /// The key that must sign (a provider's operator, or the matcher), or `None` when anyone
    /// may send it.
    pub fn operator(&self) -> Option<Pubkey> {
        match *self {
            Self::Accept { operator, .. } | Self::Bid { operator, .. } => Some(operator),
            Self::Assign { matcher, .. } => Some(matcher),
            _ => None,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Accept { job, authority, .. } => write!(f, "accept {job} by {authority}"),
            Self::Assign { job, authority, .. } => write!(f, "assign {job} to {authority}"),
            Self::Bid {
                job,
                authority,
                price_per_gpu_hour,
                ..
            } => write!(f, "bid {price_per_gpu_hour}/GPU-h on {job} by {authority}"),
            Self::CloseAuction { job } => write!(f, "close auction {job}"),
            Self::Expire { job } => write!(f, "expire {job}"),
            Self::Finalize { job } => write!(f, "finalize {job}"),
            Self::Reclaim { job } => write!(f, "reclaim {job}"),
            Self::SettleReplica { job } => write!(f, "settle replica {job}"),
        }
    }
}

/// Seconds of heartbeat age a matcher keeps in hand below the registry's liveness window
/// (the chain's limit for an assignment), for the time an assignment takes to land.
pub const FRESHNESS_MARGIN: i64 = 15;

/// The transactions that carry out `matches`: for each instant match an assignment by the
/// market's matcher while its window on the job is open, else an accept by the provider; a
/// bid for each auction match that would beat the best bid so far.
pub fn plan_matches(snapshot: &MarketSnapshot, matches: &[Match]) -> Vec<Action> {
    matches
        .iter()
        .filter_map(|m| {
            let provider = &snapshot.provider(&m.provider)?.provider;
            let job = snapshot.job(&m.job)?;
            let (authority, operator) = (provider.authority, provider.operator);
            match m.mode {
                JobMode::Instant if snapshot.now < job.match_deadline => {
                    let matcher = job.terms.matcher;
                    let current = snapshot.escrow.matcher == matcher;
                    // Live for the registry with time in hand for the assignment to land;
                    // whether the node is up is asked of the node before it is sent.
                    let window = snapshot
                        .registry
                        .heartbeat_interval
                        .saturating_add(snapshot.registry.liveness_grace)
                        .saturating_sub(FRESHNESS_MARGIN);
                    let fresh = snapshot.now.saturating_sub(provider.last_heartbeat) <= window;
                    (current && fresh && matcher_may_assign(job, &m.provider)).then_some(
                        Action::Assign {
                            job: m.job,
                            authority,
                            matcher,
                        },
                    )
                }
                JobMode::Instant => Some(Action::Accept {
                    job: m.job,
                    authority,
                    operator,
                }),
                JobMode::Auction => {
                    beats_best_bid(job, m.price_per_gpu_hour).then_some(Action::Bid {
                        job: m.job,
                        authority,
                        operator,
                        price_per_gpu_hour: m.price_per_gpu_hour,
                    })
                }
            }
        })
        .collect()
}

/// How long after the matcher's window an agent that sees only its own part of the market
/// waits before taking an instant job at the job's max price; cheaper providers wait less,
/// in proportion to their price.
pub const TAKE_SPREAD: i64 = 10;

/// When a provider listed at `price` takes the open instant job `job` itself, seeing only
/// its own part of the market: `TAKE_SPREAD x price / max price` seconds after the
/// matcher's window closes.
pub fn take_after(job: &Job, price: u64) -> i64 {
    let spread = u128::from(price)
        .saturating_mul(TAKE_SPREAD.unsigned_abs().into())
        .checked_div(u128::from(job.max_price_per_gpu_hour))
        .unwrap_or(0)
        .min(TAKE_SPREAD.unsigned_abs().into());
    job.match_deadline
        .saturating_add(i64::try_from(spread).unwrap_or(TAKE_SPREAD))
}

/// Whether the matcher the job's terms name may assign it to the provider account
/// `provider`, its window apart: the job has a matcher, too few providers declined it, and
/// this one did not.
pub fn matcher_may_assign(job: &Job, provider: &Pubkey) -> bool {
    job.terms.matcher != Pubkey::default()
        && job.refused_bidders.len() < job_escrow::constants::MAX_REFUSED_BIDDERS
        && !job.refused_bidders.contains(provider)
}

/// Whether a bid at `price` would be recorded on `job` (the chain keeps strictly lower
/// bids only).
pub fn beats_best_bid(job: &Job, price: u64) -> bool {
    job.best_bid.is_none_or(|b| price < b.price_per_gpu_hour)
}

/// What is due on `job` at `now` that anyone may crank, if anything.
pub fn due(now: i64, address: &Pubkey, job: &Job) -> Option<Action> {
    let job_address = *address;
    match job.status {
        JobStatus::Open if now >= job.bid_deadline => Some(match job.best_bid {
            Some(_) => Action::CloseAuction { job: job_address },
            None => Action::Reclaim { job: job_address },
        }),
        JobStatus::Open => None,
        JobStatus::Assigned => {
            let deadline = job.start_deadline().ok()?;
            (now > deadline).then_some(Action::Expire { job: job_address })
        }
        JobStatus::Running => {
            let run_deadline = job.run_deadline().ok()?;
            let silent_since = job.last_heartbeat.saturating_add(job.terms.heartbeat_grace);
            if now > silent_since && silent_since < run_deadline {
                return Some(Action::Expire { job: job_address });
            }
            match job.kind {
                JobKind::Lease => {
                    (now >= run_deadline).then_some(Action::Finalize { job: job_address })
                }
                JobKind::Batch => (now > run_deadline.saturating_add(job.terms.heartbeat_grace))
                    .then_some(Action::Expire { job: job_address }),
            }
        }
        // A committed replica settles by its group's majority (`settle_replica`), not by a
        // finalization.
        JobStatus::ResultSubmitted if job.is_replica() => None,
        JobStatus::ResultSubmitted => {
            let submitted_at = job.result.as_ref()?.submitted_at;
            (now >= submitted_at.saturating_add(job.terms.challenge_window))
                .then_some(Action::Finalize { job: job_address })
        }
        JobStatus::Disputed => {
            let opened_at = job.dispute?.opened_at;
            (now >= opened_at.saturating_add(DISPUTE_TIMEOUT))
                .then_some(Action::Finalize { job: job_address })
        }
    }
}

/// The settlement due on the committed replica `job` at the snapshot's time: once its
/// group (as the snapshot read it) is decided. None for any other job, or a replica whose
/// group the snapshot does not hold.
pub fn replica_due(snapshot: &MarketSnapshot, address: &Pubkey, job: &Job) -> Option<Action> {
    let group = snapshot.replica_groups.get(&job.replica_group)?;
    (job.is_replica() && job.status == JobStatus::ResultSubmitted && group.is_decided(snapshot.now))
        .then_some(Action::SettleReplica { job: *address })
}

/// Every permissionless action due at the snapshot's time, in job address order: committed
/// replicas settled too, once their groups are decided.
pub fn plan_upkeep(snapshot: &MarketSnapshot) -> Vec<Action> {
    snapshot
        .jobs
        .iter()
        .filter_map(|(address, job)| {
            due(snapshot.now, address, job).or_else(|| replica_due(snapshot, address, job))
        })
        .collect()
}

/// The settlement accounts of `job` as seen by `caller`.
pub fn settle_accounts(
    snapshot: &MarketSnapshot,
    caller: &Pubkey,
    job: &Job,
) -> Result<SettleAccounts, ClientError> {
    SettleAccounts::for_job(
        job,
        caller,
        &snapshot.token_program(&job.payment_mint),
        &snapshot.escrow.treasury,
    )
    .ok_or_else(|| ClientError::Backend(format!("job {} has no provider", job.job_id)))
}

/// The staking accounts a slash touches.
pub fn slash_keys(snapshot: &MarketSnapshot) -> SlashKeys {
    SlashKeys {
        stake_mint: snapshot.staking.stake_mint,
        stake_token_program: snapshot.token_program(&snapshot.staking.stake_mint),
    }
}

/// Instructions creating whichever of the associated token accounts `(owner, mint)` do not
/// exist yet (settlements pay into them), paid by `payer`.
pub fn missing_token_accounts(
    chain: &mut impl Chain,
    snapshot: &MarketSnapshot,
    payer: &Pubkey,
    owners: &[(Pubkey, Pubkey)],
) -> Result<Vec<Instruction>, ClientError> {
    let accounts: Vec<(Pubkey, Pubkey, Pubkey)> = owners
        .iter()
        .map(|&(owner, mint)| (owner, mint, snapshot.token_program(&mint)))
        .collect();
    token::missing_associated_accounts(chain, payer, &accounts)
}

/// The instructions of `action`, sent by `caller` (who pays, and for an accept or a bid
/// must be the provider's operator), including the creation of any token account it pays
/// into that does not exist yet.
pub fn instructions(
    chain: &mut impl Chain,
    snapshot: &MarketSnapshot,
    caller: &Pubkey,
    action: &Action,
) -> Result<Vec<Instruction>, ClientError> {
    let address = action.job();
    let job = snapshot
        .job(&address)
        .ok_or(ClientError::AccountNotFound(address))?;
    Ok(match *action {
        Action::Accept {
            authority,
            operator,
            ..
        } => vec![escrow::taking(
            escrow::accept_job(&operator, &authority, &address),
            job,
        )],
        Action::Assign {
            authority, matcher, ..
        } => vec![escrow::taking(
            escrow::assign_job(&matcher, &authority, &address),
            job,
        )],
        Action::Bid {
            authority,
            operator,
            price_per_gpu_hour,
            ..
        } => vec![escrow::place_bid(
            &operator,
            &authority,
            &address,
            price_per_gpu_hour,
        )],
        Action::CloseAuction { .. } => match job.best_bid {
            Some(bid) => vec![escrow::close_auction(caller, &address, &bid.authority)],
            None => Vec::new(),
        },
        Action::Reclaim { .. } => {
            let mint = job.payment_mint;
            let mut ixs = missing_token_accounts(
                chain,
                snapshot,
                caller,
                &[(*caller, mint), (job.client, mint)],
            )?;
            ixs.push(escrow::reclaim_job(
                caller,
                &job.client,
                job.job_id,
                &mint,
                &snapshot.token_program(&mint),
            ));
            ixs
        }
        Action::Expire { .. } | Action::Finalize { .. } | Action::SettleReplica { .. } => {
            let keys = settle_accounts(snapshot, caller, job)?;
            let mint = job.payment_mint;
            let mut owners = vec![
                (keys.provider_authority, mint),
                (keys.treasury, mint),
                (keys.client, mint),
            ];
            if matches!(action, Action::Expire { .. }) {
                owners.push((*caller, mint));
                owners.push((keys.client, snapshot.staking.stake_mint));
            }
            let created = missing_token_accounts(chain, snapshot, caller, &owners)?;
            let mut ixs = vec![escrow::settlement_compute_limit(created.len())];
            ixs.extend(created);
            ixs.push(match action {
                Action::Expire { .. } => escrow::expire_job(&keys, &slash_keys(snapshot)),
                // A dissent's slash goes whole to the staking treasury.
                Action::SettleReplica { .. } => escrow::settle_replica(
                    &keys,
                    &slash_keys(snapshot),
                    &snapshot.staking.treasury,
                    &job.replica_group,
                ),
                _ => escrow::finalize_job(&keys),
            });
            ixs
        }
    })
}

/// Sends `action` signed by `caller`.
pub fn execute(
    chain: &mut impl Chain,
    snapshot: &MarketSnapshot,
    caller: &Keypair,
    action: &Action,
) -> Result<TxOutcome, ClientError> {
    let ixs = instructions(chain, snapshot, &caller.pubkey(), action)?;
    chain.send(&ixs, &[caller])
}
