//! `gpu-market market`: the matcher and the market's upkeep, and statistics.

use crate::{
    job::status_name,
    output::{short, table},
    units::format_amount,
    CliError, Context,
};
use clap::Subcommand;
use gpu_market_client::{
    driver::{self, Action},
    escrow::{JobKind, JobStatus},
    market::MarketSnapshot,
    node_api, pda,
    registry::satisfies,
    Chain,
};
use gpu_market_matcher::{SnapshotRound as _, ANY_JOB};
use serde::Serialize;
use std::fmt;

#[derive(Debug, Subcommand)]
pub enum MarketCommand {
    /// Run one matcher round and the market's upkeep: prints which provider each open job
    /// goes to (their agents accept instant jobs and bid on auctions). When your keypair is
    /// the market's matcher, sends the assignments of instant jobs still in its match
    /// window. Then closes ended auctions, expires jobs whose provider missed a deadline
    /// (slashing it, re-queuing the job), settles finished jobs and reclaims jobs nobody
    /// took. Your keypair signs the upkeep and earns the crank tips.
    Match {
        /// Only print the round, the assignments and the upkeep due; send nothing.
        #[arg(long)]
        no_upkeep: bool,
    },
    /// Providers, GPUs, utilisation and jobs by status.
    Stats,
    /// Run the market's matcher as a service: subscribe to the market's accounts, read it
    /// once, then assign each new instant job within its match window as soon as it (or a
    /// provider able to take it) appears, and send the market's upkeep as it falls due,
    /// the reward crank included (`rewards crank`, once a minute). Run it with the
    /// market's matcher key; any other key only sends upkeep. Reconnects
    /// and reads the market again when the node drops; prints one line per event (JSON
    /// lines with --output json); serves Prometheus metrics with --metrics.
    Serve(crate::serve::ServeArgs),
}

/// A matcher round and the upkeep it sent.
#[derive(Debug, Serialize)]
pub struct RoundReport {
    pub open_jobs: usize,
    pub matches: Vec<Action>,
    /// The assignments sent as the market's matcher.
    pub assigned: Vec<UpkeepResult>,
    pub upkeep: Vec<UpkeepResult>,
}

/// One upkeep transaction.
#[derive(Debug, Serialize)]
pub struct UpkeepResult {
    pub action: Action,
    /// The signature, or why it was refused (or "not sent").
    pub outcome: String,
}

impl fmt::Display for RoundReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} open jobs, {} matched",
            self.open_jobs,
            self.matches.len()
        )?;
        let rows: Vec<Vec<String>> = self
            .matches
            .iter()
            .map(|m| match m {
                Action::Accept { job, authority, .. } => {
                    vec![short(job), "accept".into(), short(authority), "-".into()]
                }
                Action::Assign { job, authority, .. } => {
                    vec![short(job), "assign".into(), short(authority), "-".into()]
                }
                Action::Bid {
                    job,
                    authority,
                    price_per_gpu_hour,
                    ..
                } => vec![
                    short(job),
                    "bid".into(),
                    short(authority),
                    price_per_gpu_hour.to_string(),
                ],
                other => vec![
                    short(&other.job()),
                    other.to_string(),
                    "-".into(),
                    "-".into(),
                ],
            })
            .collect();
        if !rows.is_empty() {
            writeln!(f, "{}", table(&["JOB", "ACTION", "PROVIDER", "BID"], &rows))?;
        }
        if !self.assigned.is_empty() {
            let rows: Vec<Vec<String>> = self
                .assigned
                .iter()
                .map(|u| vec![u.action.to_string(), u.outcome.clone()])
                .collect();
            writeln!(f, "{}", table(&["ASSIGNMENT", "OUTCOME"], &rows))?;
        }
        if self.upkeep.is_empty() {
            write!(f, "no upkeep due")
        } else {
            let rows: Vec<Vec<String>> = self
                .upkeep
                .iter()
                .map(|u| vec![u.action.to_string(), u.outcome.clone()])
                .collect();
            write!(f, "{}", table(&["UPKEEP", "OUTCOME"], &rows))
        }
    }
}

/// Market statistics.
#[derive(Debug, Serialize)]
pub struct Stats {
    pub providers: usize,
    pub live_providers: usize,
    pub gpus: u64,
    pub gpus_in_use: u64,
    pub utilisation_percent: f64,
    pub jobs_by_status: Vec<(String, usize)>,
    pub leases: usize,
    pub escrowed: Vec<(String, String)>,
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "providers {} ({} live), GPUs {} in use of {} ({:.1}%)",
            self.providers,
            self.live_providers,
            self.gpus_in_use,
            self.gpus,
            self.utilisation_percent
        )?;
        let jobs: Vec<String> = self
            .jobs_by_status
            .iter()
            .map(|(s, n)| format!("{n} {s}"))
            .collect();
        writeln!(f, "jobs      {} ({} leases)", jobs.join(", "), self.leases)?;
        for (mint, amount) in &self.escrowed {
            writeln!(f, "escrowed  {amount} of mint {mint}")?;
        }
        Ok(())
    }
}

/// How long a node's health check may take before the matcher passes it over.
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

pub fn run<C: Chain>(ctx: &mut Context<C>, cmd: MarketCommand) -> Result<(), CliError> {
    if let MarketCommand::Serve(_) = cmd {
        return Err(CliError::input(
            "market serve needs an RPC node with a PubSub websocket: pass --url",
        ));
    }
    let snapshot = MarketSnapshot::load(&mut ctx.chain).map_err(|err| match err {
        gpu_market_client::ClientError::AccountNotFound(_) => CliError::input(
            "this cluster has no gpu-market: check --url, or run `gpu-market admin init`",
        ),
        other => other.into(),
    })?;
    match cmd {
        MarketCommand::Match { no_upkeep } => {
            let open_jobs = snapshot.open_jobs().len();
            let matches = driver::plan_matches(&snapshot, &snapshot.match_round());
            // Without a keypair this wallet is nobody's matcher, and sends nothing.
            let me = if no_upkeep { None } else { ctx.me().ok() };
            let send = |ctx: &mut Context<C>, action: Action| -> Result<_, CliError> {
                let outcome = match me {
                    None => "not sent".to_string(),
                    Some(me) => {
                        let ixs = driver::instructions(&mut ctx.chain, &snapshot, &me, &action)?;
                        match ctx.send(&ixs, &[]) {
                            Ok(Some(sent)) => sent.signature.to_string(),
                            Ok(None) => "dry run".to_string(),
                            Err(err) => format!("refused: {err}"),
                        }
                    }
                };
                Ok(UpkeepResult { action, outcome })
            };
            let mut assigned = Vec::new();
            for action in &matches {
                let Action::Assign {
                    matcher, authority, ..
                } = action
                else {
                    continue;
                };
                if me != Some(*matcher) {
                    continue;
                }
                // The chain counts a node live for its heartbeat interval and grace: before
                // handing it a start it would be slashed for missing, ask the node itself.
                let node = snapshot.provider(&pda::provider(authority));
                let checked = node.map_or(Err("it is not in the market".to_string()), |n| {
                    node_api::probe(&n.provider.endpoint, &n.provider.operator, PROBE_TIMEOUT)
                        .map_err(|e| e.to_string())
                });
                match checked {
                    Ok(()) => assigned.push(send(ctx, *action)?),
                    Err(why) => assigned.push(UpkeepResult {
                        action: *action,
                        outcome: format!(
                            "not sent: the node did not answer its health check: {why}"
                        ),
                    }),
                }
            }
            let mut upkeep = Vec::new();
            for action in driver::plan_upkeep(&snapshot) {
                if me.is_none() && !no_upkeep {
                    // Upkeep is due and needs a keypair to sign: say which is missing.
                    ctx.me()?;
                }
                upkeep.push(send(ctx, action)?);
            }
            ctx.print(&RoundReport {
                open_jobs,
                matches,
                assigned,
                upkeep,
            })
        }
        MarketCommand::Serve(_) => Ok(()),
        MarketCommand::Stats => {
            let policy = snapshot.policy();
            let live = snapshot
                .providers
                .iter()
                .filter(|p| {
                    // Live and staked: ready for a job, setting its free GPUs aside.
                    let mut idle = p.provider.clone();
                    idle.gpus_in_use = 0;
                    satisfies(&idle, p.active_stake, &ANY_JOB, &policy, snapshot.now).is_ok()
                })
                .count();
            let gpus: u64 = snapshot
                .providers
                .iter()
                .map(|p| u64::from(p.provider.hardware.gpu_count))
                .sum();
            let in_use: u64 = snapshot
                .providers
                .iter()
                .map(|p| u64::from(p.provider.gpus_in_use.min(p.provider.hardware.gpu_count)))
                .sum();
            let statuses = [
                JobStatus::Open,
                JobStatus::Assigned,
                JobStatus::Running,
                JobStatus::ResultSubmitted,
                JobStatus::Disputed,
            ];
            let jobs_by_status = statuses
                .iter()
                .map(|s| {
                    (
                        status_name(*s).to_string(),
                        snapshot.jobs.iter().filter(|(_, j)| j.status == *s).count(),
                    )
                })
                .collect();
            let mut escrowed = Vec::new();
            for mint in &snapshot.escrow.allowed_mints {
                let total: u64 = snapshot
                    .jobs
                    .iter()
                    .filter(|(_, j)| j.payment_mint == *mint)
                    .map(|(_, j)| {
                        j.escrowed
                            .saturating_sub(j.billed)
                            .saturating_add(j.fees_held)
                    })
                    .sum();
                let (decimals, _) = ctx.mint(mint)?;
                escrowed.push((mint.to_string(), format_amount(total, decimals)));
            }
            ctx.print(&Stats {
                providers: snapshot.providers.len(),
                live_providers: live,
                gpus,
                gpus_in_use: in_use,
                utilisation_percent: if gpus == 0 {
                    0.0
                } else {
                    in_use as f64 * 100.0 / gpus as f64
                },
                jobs_by_status,
                leases: snapshot
                    .jobs
                    .iter()
                    .filter(|(_, j)| j.kind == JobKind::Lease)
                    .count(),
                escrowed,
            })
        }
    }
}
