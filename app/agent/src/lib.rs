//! The provider agent: what `gpu-market provider serve` runs on a GPU node.
//!
//! Each [`Agent::tick`] reads the market, then does whatever is due for its node: a registry
//! heartbeat, an uptime record for rewards, starting jobs assigned to it, running their
//! workloads through an [`executor::Executor`], heartbeating running jobs, submitting
//! batch results (the SHA-256 of the output; a replica commits to it, then reveals it once
//! its group opens the reveals), withdrawing lease earnings, settling its own finished jobs
//! (a replica once its group is decided), and finally taking new work: the instant jobs the matcher's round assigns
//! to it and bids on auctions it can win. Everything it needs is on chain or in the job's
//! work directory, so a restarted agent carries on where the last one stopped.

pub mod api;
pub mod executor;
pub mod gpu;

use gpu_market_client::{hex, serde_key};
use gpu_market_matcher as matcher;
use gpu_market_matcher::SnapshotRound as _;

use anchor_lang::solana_program::pubkey::Pubkey;
use api::JobBook;
use executor::{Executor, Launch, Progress};
use gpu_market_client::{
    driver::{self, Action},
    error::ClientError,
    escrow::{self, Job, JobKind, JobMode, JobStatus, Workload},
    manifest,
    market::{MarketSnapshot, Scope},
    node_api, pda,
    registry::{self, satisfies},
    rewards, Chain,
};
use job_escrow::constants::MAX_URI_LEN;
use serde::Serialize;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::{
    collections::{HashMap, HashSet},
    fmt,
    path::PathBuf,
    sync::Arc,
};

/// How an agent behaves.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// Where job work directories live (one per job, named by the job's address).
    pub work_dir: PathBuf,
    /// Seconds between withdrawals of a running lease's earnings: once they have passed,
    /// a withdrawal rides with the lease's next heartbeat.
    pub withdraw_every: i64,
}

/// Something the agent did (or failed to do) in a tick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AgentEvent {
    /// A registry heartbeat landed.
    Heartbeat,
    /// Uptime was recorded in a reward epoch.
    UptimeRecorded { epoch: u64 },
    /// An instant job was taken.
    Accepted {
        #[serde(with = "crate::serde_key")]
        job: Pubkey,
    },
    /// The market's matcher assigned a job this node cannot run (or it is stopping); it
    /// turned it down.
    Declined {
        #[serde(with = "crate::serde_key")]
        job: Pubkey,
    },
    /// A bid was placed on an auction.
    Bid {
        #[serde(with = "crate::serde_key")]
        job: Pubkey,
        price_per_gpu_hour: u64,
    },
    /// An auction this node won was closed in its favour.
    AuctionClosed {
        #[serde(with = "crate::serde_key")]
        job: Pubkey,
    },
    /// A job was started on chain.
    Started {
        #[serde(with = "crate::serde_key")]
        job: Pubkey,
    },
    /// A manifest job waits for its client's uploads before its workload can start.
    Waiting {
        #[serde(with = "crate::serde_key")]
        job: Pubkey,
        waiting_for: Vec<String>,
    },
    /// A workload was (re)launched by the executor.
    Launched {
        #[serde(with = "crate::serde_key")]
        job: Pubkey,
        executor: String,
    },
    /// A running job's liveness heartbeat landed.
    JobHeartbeat {
        #[serde(with = "crate::serde_key")]
        job: Pubkey,
    },
    /// A batch result was submitted.
    Submitted {
        #[serde(with = "crate::serde_key")]
        job: Pubkey,
        sha256: String,
        bytes: u64,
    },
    /// A replica's result was committed (its hash stays hidden until the reveal).
    Committed {
        #[serde(with = "crate::serde_key")]
        job: Pubkey,
        sha256: String,
        bytes: u64,
    },
    /// A replica's committed result was revealed.
    Revealed {
        #[serde(with = "crate::serde_key")]
        job: Pubkey,
        sha256: String,
    },
    /// A workload failed; its job gets no result from this node.
    WorkloadFailed {
        #[serde(with = "crate::serde_key")]
        job: Pubkey,
        reason: String,
    },
    /// Lease earnings were withdrawn (gross amount).
    Withdrew {
        #[serde(with = "crate::serde_key")]
        job: Pubkey,
        amount: u64,
    },
    /// One of this node's jobs was settled by this agent.
    Settled {
        #[serde(with = "crate::serde_key")]
        job: Pubkey,
    },
    /// A job this node was running is no longer its own (settled, expired or closed by
    /// someone else); its workload was stopped.
    Released {
        #[serde(with = "crate::serde_key")]
        job: Pubkey,
    },
    /// The chain refused a transaction; the agent goes on.
    Rejected { what: String, error: String },
}

impl fmt::Display for AgentEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Heartbeat => write!(f, "heartbeat"),
            Self::UptimeRecorded { epoch } => write!(f, "uptime recorded in epoch {epoch}"),
            Self::Accepted { job } => write!(f, "accepted job {job}"),
            Self::Declined { job } => {
                write!(
                    f,
                    "declined job {job}: the matcher assigned a workload this node cannot run"
                )
            }
            Self::Bid {
                job,
                price_per_gpu_hour,
            } => write!(f, "bid {price_per_gpu_hour} per GPU-hour on job {job}"),
            Self::AuctionClosed { job } => write!(f, "won the auction of job {job}"),
            Self::Started { job } => write!(f, "started job {job}"),
            Self::Launched { job, executor } => {
                write!(f, "launched the workload of job {job} ({executor})")
            }
            Self::Waiting { job, waiting_for } => write!(
                f,
                "job {job} waits for its client to upload: {}",
                waiting_for.join(", ")
            ),
            Self::JobHeartbeat { job } => write!(f, "heartbeat for job {job}"),
            Self::Submitted { job, sha256, bytes } => {
                write!(f, "submitted job {job}: {bytes} bytes, sha256 {sha256}")
            }
            Self::Committed { job, sha256, bytes } => write!(
                f,
                "committed replica {job}: {bytes} bytes, sha256 {sha256} (revealed once its group's commits are in)"
            ),
            Self::Revealed { job, sha256 } => write!(f, "revealed replica {job}: sha256 {sha256}"),
            Self::WorkloadFailed { job, reason } => {
                write!(f, "workload of job {job} failed: {reason}")
            }
            Self::Withdrew { job, amount } => write!(f, "withdrew {amount} from lease {job}"),
            Self::Settled { job } => write!(f, "settled job {job}"),
            Self::Released { job } => write!(f, "job {job} ended; its workload was stopped"),
            Self::Rejected { what, error } => write!(f, "{what} refused: {error}"),
        }
    }
}

/// A job this node holds on chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldJob {
    pub job: Pubkey,
    pub status: String,
    /// When the chain expires the job (and slashes this node) unless the agent acts.
    pub deadline: i64,
}

/// What one pass of the agent did, and the jobs its node held when the pass began.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tick {
    pub events: Vec<AgentEvent>,
    pub held: Vec<HeldJob>,
}

/// The agent of one provider node.
pub struct Agent {
    operator: Keypair,
    authority: Pubkey,
    executor: Box<dyn Executor>,
    config: AgentConfig,
    draining: bool,
    last_withdraw: HashMap<Pubkey, i64>,
    failed: HashSet<Pubkey>,
    /// Manifest jobs whose uploads are not all in yet, with the chain time this agent
    /// first saw each one waiting (the upload timeout counts from there, so the time an
    /// agent was down, when clients could not upload, does not count).
    waiting: HashMap<Pubkey, Option<i64>>,
    /// Manifest jobs ended without running (their uploads never came), with their result.
    unrun: HashMap<Pubkey, executor::Output>,
    /// The jobs the node's API serves, when it serves one.
    book: Option<Arc<JobBook>>,
    /// Seconds a finished job's logs and results are kept.
    retention: i64,
    /// Seconds a started manifest job waits for its uploads.
    upload_timeout: i64,
    /// Transactions this agent sent that landed, and that the chain refused.
    landed: std::cell::Cell<u64>,
    refused: std::cell::Cell<u64>,
    /// Whether a transaction of this pass carried a registry heartbeat that landed.
    refreshed: std::cell::Cell<bool>,
}

/// A running job's heartbeat for the node's periodic transaction.
struct JobBeat {
    job: Pubkey,
    /// Silent long enough (`beat_due_after`): it goes now, with or without anything else.
    due: bool,
    ix: anchor_lang::solana_program::instruction::Instruction,
    /// The lease, when a withdrawal of its earnings may ride behind the heartbeat.
    withdraw: Option<Job>,
}

/// The file in a replica's work directory that keeps what its commitment opens to.
const REPLICA_OPENING: &str = "replica-opening.json";

/// What a replica's commitment opens to: the result hash, the salt and the output's URI.
#[derive(Debug, Serialize, serde::Deserialize)]
struct Opening {
    sha256: String,
    salt: String,
    uri: String,
}

/// Reads the opening kept at `path`: a regular file (not a link), of at most 4 KiB. What is
/// not one, or does not parse, is `InvalidData`.
fn read_opening(path: &std::path::Path) -> std::io::Result<Opening> {
    use std::io::{Error, ErrorKind, Read as _};
    if !std::fs::symlink_metadata(path)?.file_type().is_file() {
        return Err(Error::new(ErrorKind::InvalidData, "not a regular file"));
    }
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(4_096)
        .read_to_string(&mut text)?;
    serde_json::from_str(&text).map_err(|err| Error::new(ErrorKind::InvalidData, err))
}

impl Opening {
    fn parts(&self) -> Result<([u8; 32], [u8; 32]), ClientError> {
        let bad = || ClientError::Backend("a replica opening holds no 32-byte hex value".into());
        Ok((
            hex::decode_32(&self.sha256).ok_or_else(bad)?,
            hex::decode_32(&self.salt).ok_or_else(bad)?,
        ))
    }
}

/// Seconds before a job's grace runs out by which its heartbeat is due: room for a slow or
/// refused transaction to be sent again.
const BEAT_MARGIN: i64 = 300;

/// Seconds of silence after which a job's heartbeat is due: half its grace, or, if later,
/// `BEAT_MARGIN` before the grace runs out but no later than 30 minutes in. In the default
/// market (35 minutes) that is every 30 minutes, the uptime record's interval, so the two
/// go out together.
fn beat_due_after(grace: i64) -> i64 {
    (grace / 2)
        .max(grace.saturating_sub(BEAT_MARGIN).min(1_800))
        .max(1)
}

/// Seconds a withdrawal leaves unbilled behind the agent's clock, so that a chain clock a
/// little behind it (an RPC node that simulates on a lagging bank) still allows the amount.
const WITHDRAW_CLOCK_MARGIN: i64 = 30;

/// What one part of a periodic transaction is.
enum PartKind {
    Heartbeat,
    Record(u64),
    Beat(Pubkey),
    /// A withdrawal (gross amount) behind its lease's heartbeat, in the same transaction.
    Withdrawal(Pubkey, u64),
}

/// One part of a periodic transaction.
struct Part {
    kind: PartKind,
    due: bool,
    ixs: Vec<anchor_lang::solana_program::instruction::Instruction>,
}

impl Part {
    fn describe(&self) -> String {
        match &self.kind {
            PartKind::Heartbeat => "registry heartbeat".into(),
            PartKind::Record(_) => "uptime record".into(),
            PartKind::Beat(job) => format!("job heartbeat ({job})"),
            PartKind::Withdrawal(job, _) => format!("lease withdrawal ({job})"),
        }
    }
}

/// What a periodic transaction carries, for the event of a refusal.
fn describe(parts: &[Part]) -> String {
    parts
        .iter()
        .map(Part::describe)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The transactions an agent has sent since it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sent {
    /// Landed (each paid its fee).
    pub landed: u64,
    /// Refused by the chain or the RPC node.
    pub refused: u64,
}

impl Agent {
    /// An agent for the node registered by `authority`, signing with its `operator` key and
    /// running workloads with `executor`.
    pub fn new(
        operator: Keypair,
        authority: Pubkey,
        executor: Box<dyn Executor>,
        config: AgentConfig,
    ) -> Self {
        Self {
            operator,
            authority,
            executor,
            config,
            draining: false,
            landed: std::cell::Cell::new(0),
            refused: std::cell::Cell::new(0),
            refreshed: std::cell::Cell::new(false),
            last_withdraw: HashMap::new(),
            failed: HashSet::new(),
            waiting: HashMap::new(),
            unrun: HashMap::new(),
            book: None,
            retention: 0,
            upload_timeout: 0,
        }
    }

    /// Serves the node's job API from `book`: the agent records there which jobs the chain
    /// gives this node and to which client, runs manifest jobs once their uploads are in,
    /// commits results at the provider's endpoint (`<endpoint>/v1/jobs/<job>/result`), and
    /// removes a job's files `retention` seconds after it ended. A batch job whose uploads
    /// have not all come `upload_timeout` seconds after it started is ended without running:
    /// its result is an empty output directory, and its log says why. Without a book the
    /// agent does not take manifest jobs.
    pub fn with_api(mut self, book: Arc<JobBook>, retention: i64, upload_timeout: i64) -> Self {
        self.book = Some(book);
        self.retention = retention;
        self.upload_timeout = upload_timeout;
        self
    }

    /// Whether this agent can run `workload`.
    fn can_run(&self, workload: &Workload) -> bool {
        self.executor.supports(workload)
            && (self.book.is_some() || !manifest::is_manifest(workload))
    }

    /// The node's provider account.
    pub fn provider(&self) -> Pubkey {
        pda::provider(&self.authority)
    }

    /// The transactions this agent has sent since it started.
    pub fn sent(&self) -> Sent {
        Sent {
            landed: self.landed.get(),
            refused: self.refused.get(),
        }
    }

    /// Stops taking new jobs; jobs already held still run to their end.
    pub fn drain(&mut self) {
        self.draining = true;
    }

    /// Whether the agent stopped taking new jobs.
    pub fn is_draining(&self) -> bool {
        self.draining
    }

    /// The jobs this node holds on chain (assigned, running, or a committed replica not yet
    /// revealed), with the deadline by which the agent must act on each.
    pub fn held_jobs(&self, snapshot: &MarketSnapshot) -> Vec<HeldJob> {
        let me = self.provider();
        snapshot
            .jobs
            .iter()
            .filter(|(_, job)| job.assignment.is_some_and(|a| a.provider == me))
            .filter_map(|(address, job)| {
                let (status, deadline) = match job.status {
                    JobStatus::Assigned => ("Assigned", job.start_deadline().ok()?),
                    JobStatus::Running => (
                        "Running",
                        job.last_heartbeat
                            .saturating_add(job.terms.heartbeat_grace)
                            .min(job.run_deadline().ok()?),
                    ),
                    // Slashed as unrevealed unless revealed by the group's reveal deadline.
                    JobStatus::ResultSubmitted if job.is_replica() => {
                        let group = snapshot.replica_groups.get(&job.replica_group)?;
                        group.slot(address).ok()?.revealed.is_none().then_some(())?;
                        ("Committed (not revealed)", group.reveal_deadline)
                    }
                    _ => return None,
                };
                Some(HeldJob {
                    job: *address,
                    status: status.into(),
                    deadline,
                })
            })
            .collect()
    }

    /// Waits, at most `timeout`, until no workload of this node is still running (a
    /// finished one is left for the next tick to report), and returns those still running.
    /// For a node whose clock is simulated (the demo): what a tick reports then depends on
    /// the chain's time, not on how fast the machine ran the processes.
    pub fn wait_for_workloads(&mut self, timeout: std::time::Duration) -> Vec<Pubkey> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let running: Vec<Pubkey> = self
                .executor
                .running()
                .into_iter()
                .filter(|job| matches!(self.executor.poll(job), Ok(Progress::Running)))
                .collect();
            if running.is_empty() || std::time::Instant::now() >= deadline {
                return running;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// One pass: does everything due for this node now, from a read of only its own part
    /// of the market (`MarketSnapshot::for_provider`: the same six reads whatever the
    /// market's size).
    pub fn tick(&mut self, chain: &mut impl Chain) -> Result<Tick, ClientError> {
        let snapshot = MarketSnapshot::for_provider(chain, &self.authority)?;
        self.tick_with(chain, snapshot)
    }

    /// [`Agent::tick`] from a snapshot already loaded (several agents sharing one read
    /// of the market; the chain still has the last word on every transaction).
    pub fn tick_with(
        &mut self,
        chain: &mut impl Chain,
        mut snapshot: MarketSnapshot,
    ) -> Result<Tick, ClientError> {
        let mut events = Vec::new();
        let held = self.held_jobs(&snapshot);
        let me = self.provider();
        let Some(view) = snapshot.provider(&me).cloned() else {
            return Err(ClientError::Backend(format!(
                "no provider is registered for authority {}: run `gpu-market provider register` first",
                self.authority
            )));
        };
        if view.provider.operator != self.operator.pubkey() {
            return Err(ClientError::Backend(format!(
                "{} is not the operator of provider {me} (its operator is {}): run with the operator keypair, or set it with `gpu-market provider update --operator`",
                self.operator.pubkey(),
                view.provider.operator
            )));
        }

        // The node's own job transactions carry its registry heartbeat; the periodic
        // transaction comes last and goes only when something in it is due.
        self.refreshed.set(false);
        let beats = self.serve_held_jobs(chain, &snapshot, &mut events)?;
        self.release_finished(&snapshot, &mut events);
        // New work never costs the held jobs their heartbeats: an error taking it is
        // returned once the periodic transaction has gone.
        let taken = if self.draining {
            Ok(())
        } else {
            self.take_new_jobs(chain, &snapshot, &mut events)
        };
        self.periodic(chain, &mut snapshot, beats, &mut events)?;
        taken?;
        Ok(Tick { events, held })
    }

    /// [`Agent::send`] with the node's registry heartbeat added to the same transaction,
    /// so that every transaction of its own refreshes its liveness at no extra fee; left
    /// out where the transaction sets its own compute limit or would not fit.
    fn send_live(
        &self,
        chain: &mut impl Chain,
        what: &str,
        ixs: &[anchor_lang::solana_program::instruction::Instruction],
        events: &mut Vec<AgentEvent>,
    ) -> bool {
        let budgeted = ixs
            .iter()
            .any(|ix| ix.program_id == solana_compute_budget_interface::ID);
        let mut live = ixs.to_vec();
        live.push(registry::heartbeat(
            &self.operator.pubkey(),
            &self.authority,
        ));
        let payer = solana_signer::Signer::pubkey(chain.payer());
        if budgeted || !gpu_market_client::chain::fits_in_one_transaction(&live, &payer) {
            return self.send(chain, what, ixs, events);
        }
        let landed = self.send(chain, what, &live, events);
        if landed {
            self.refreshed.set(true);
        }
        landed
    }

    /// Sends `ixs` signed by the operator; a refusal becomes an event, not an error.
    fn send(
        &self,
        chain: &mut impl Chain,
        what: &str,
        ixs: &[anchor_lang::solana_program::instruction::Instruction],
        events: &mut Vec<AgentEvent>,
    ) -> bool {
        match chain.send(ixs, &[&self.operator]) {
            Ok(_) => {
                self.landed.set(self.landed.get().saturating_add(1));
                true
            }
            Err(err) => {
                self.refused.set(self.refused.get().saturating_add(1));
                events.push(AgentEvent::Rejected {
                    what: what.to_string(),
                    error: err.to_string(),
                });
                false
            }
        }
    }

    /// The node's periodic transaction, sent only when something in it is due: a registry
    /// heartbeat (due once the registry's interval has passed, unless a transaction of
    /// this pass carried one), an uptime record (due once per record interval) and each
    /// running job's heartbeat (`beat_due_after`). Whatever goes, everything
    /// else that may go rides along in the same transaction at no extra fee: the job
    /// heartbeats not yet due (which keeps them in step with the uptime records) and the
    /// lease withdrawals, each behind its lease's heartbeat. What does not fit in one
    /// transaction goes in more, each only if it holds something due. When the chain
    /// refuses a transaction of several parts, each due part is sent again alone, so a
    /// part the chain refuses (a lease its client just closed, a frozen token account)
    /// costs the node none of the others; a withdrawal waits for the next one.
    fn periodic(
        &mut self,
        chain: &mut impl Chain,
        snapshot: &mut MarketSnapshot,
        beats: Vec<JobBeat>,
        events: &mut Vec<AgentEvent>,
    ) -> Result<(), ClientError> {
        let me = self.provider();
        let now = snapshot.now;
        let last = snapshot
            .provider(&me)
            .map_or(0, |view| view.provider.last_heartbeat);
        let interval = snapshot.registry.heartbeat_interval;
        // Due once an interval has passed since the last one: the liveness window adds the
        // registry's grace for the time a transaction takes to land.
        let heartbeat_due = !self.refreshed.get() && now.saturating_sub(last) >= interval.max(1);
        // A failed read of the reward accounts costs the record, never the heartbeat.
        let record = self
            .uptime_record(chain, snapshot, events)
            .unwrap_or_else(|err| {
                events.push(AgentEvent::Rejected {
                    what: "uptime record".into(),
                    error: err.to_string(),
                });
                None
            });
        if !heartbeat_due && record.is_none() && !beats.iter().any(|beat| beat.due) {
            return Ok(());
        }
        let operator = self.operator.pubkey();
        let mut parts = vec![Part {
            kind: PartKind::Heartbeat,
            due: heartbeat_due,
            ixs: vec![registry::heartbeat(&operator, &self.authority)],
        }];
        if let Some((epoch, ix)) = record {
            parts.push(Part {
                kind: PartKind::Record(epoch),
                due: true,
                ixs: vec![ix],
            });
        }
        // Due heartbeats first, so that what is due fills the first transaction.
        let (due, early): (Vec<JobBeat>, Vec<JobBeat>) = beats.into_iter().partition(|b| b.due);
        for beat in due.into_iter().chain(early) {
            parts.push(Part {
                kind: PartKind::Beat(beat.job),
                due: beat.due,
                ixs: vec![beat.ix],
            });
            if let Some(job) = &beat.withdraw {
                match self.withdrawal(chain, snapshot, job) {
                    Ok(Some((ixs, amount))) => parts.push(Part {
                        kind: PartKind::Withdrawal(beat.job, amount),
                        due: false,
                        ixs,
                    }),
                    Ok(None) => {}
                    Err(err) => events.push(AgentEvent::Rejected {
                        what: format!("lease withdrawal ({})", beat.job),
                        error: err.to_string(),
                    }),
                }
            }
        }
        let payer = solana_signer::Signer::pubkey(chain.payer());
        let mut transactions: Vec<Vec<Part>> = Vec::new();
        for part in parts {
            let fits = transactions.last().is_some_and(|tx| {
                let ixs: Vec<_> = tx
                    .iter()
                    .chain([&part])
                    .flat_map(|p| p.ixs.clone())
                    .collect();
                gpu_market_client::chain::fits_in_one_transaction(&ixs, &payer)
            });
            match (transactions.last_mut(), &part.kind) {
                (Some(tx), _) if fits => tx.push(part),
                // A withdrawal goes only behind its own lease's heartbeat.
                (_, PartKind::Withdrawal(..)) => {}
                _ => transactions.push(vec![part]),
            }
        }
        let mut heartbeat_landed = false;
        for tx in transactions {
            if !tx.iter().any(|part| part.due) {
                continue;
            }
            let ixs: Vec<_> = tx.iter().flat_map(|part| part.ixs.clone()).collect();
            let landed: Vec<Part> = if self.send(chain, &describe(&tx), &ixs, events) {
                tx
            } else if tx.len() > 1 {
                tx.into_iter()
                    .filter(|part| part.due)
                    .filter(|part| self.send(chain, &part.describe(), &part.ixs, events))
                    .collect()
            } else {
                Vec::new()
            };
            for part in landed {
                match part.kind {
                    PartKind::Heartbeat => {
                        heartbeat_landed = true;
                        events.push(AgentEvent::Heartbeat);
                    }
                    PartKind::Record(epoch) => {
                        events.push(AgentEvent::UptimeRecorded { epoch });
                    }
                    PartKind::Beat(job) => events.push(AgentEvent::JobHeartbeat { job }),
                    PartKind::Withdrawal(job, amount) => {
                        self.last_withdraw.insert(job, now);
                        events.push(AgentEvent::Withdrew { job, amount });
                    }
                }
            }
        }
        if heartbeat_landed {
            if let Some(p) = snapshot.providers.iter_mut().find(|p| p.address == me) {
                p.provider.last_heartbeat = now;
            }
        }
        Ok(())
    }

    /// The uptime record due now, if any, with the epoch it records in. On the way it
    /// makes sure the record can land: an older finished epoch its reward record still
    /// holds is finalized when nobody did, and weight the market's crank has not folded in
    /// the second half of the fold window is folded by the node itself.
    fn uptime_record(
        &self,
        chain: &mut impl Chain,
        snapshot: &MarketSnapshot,
        events: &mut Vec<AgentEvent>,
    ) -> Result<Option<(u64, anchor_lang::solana_program::instruction::Instruction)>, ClientError>
    {
        let (Some(epoch), Some(config)) = (snapshot.reward_epoch(), snapshot.emission.as_ref())
        else {
            return Ok(None);
        };
        let Some(view) = snapshot.provider(&self.provider()) else {
            return Ok(None);
        };
        let policy = snapshot.policy();
        let staked = view
            .provider
            .required_stake(policy.min_stake_per_gpu)
            .is_ok_and(|required| view.active_stake >= required);
        if view.provider.status != registry::ProviderStatus::Active || !staked {
            return Ok(None);
        }
        let rewards_address = pda::provider_rewards(&self.provider());
        let record = rewards::record(chain, &self.authority)?;
        let now = snapshot.now;
        let operator = self.operator.pubkey();
        if let Some(record) = &record {
            for slot in [record.earlier, record.latest] {
                if slot.is_empty() || slot.folded || slot.epoch >= epoch {
                    continue;
                }
                let (Ok(end), Ok(closes)) =
                    (config.epoch_end(slot.epoch), config.fold_closes(slot.epoch))
                else {
                    continue;
                };
                let late = end.saturating_add(config.fold_window() / 2);
                if now >= late && now < closes {
                    let shard = rewards::shard_of(&self.provider());
                    let ix = rewards::fold_uptime(&operator, slot.epoch, shard, &[rewards_address]);
                    self.send(chain, "uptime fold", &[ix], events);
                }
            }
            // A new epoch needs room: the older finished epoch must be settled first.
            let rolls = record.latest.epoch < epoch && !record.latest.is_empty();
            let earlier = record.earlier;
            if rolls
                && !earlier.is_empty()
                && !rewards::is_finalized(chain, earlier.epoch)?
                && config.fold_closes(earlier.epoch).is_ok_and(|c| now >= c)
            {
                let ix = rewards::finalize_epoch(&operator, earlier.epoch);
                self.send(chain, "epoch finalize", &[ix], events);
            }
        }
        let due = record.as_ref().is_none_or(|r| {
            r.last_recorded_at == 0
                || now >= r.last_recorded_at.saturating_add(config.record_interval)
        });
        if !due {
            return Ok(None);
        }
        let settle = match &record {
            Some(record) => rewards::settleable(chain, record, epoch)?,
            None => Vec::new(),
        };
        let ix = rewards::record_uptime(&operator, &self.authority, epoch, &settle);
        Ok(Some((epoch, ix)))
    }

    fn workdir(&self, job: &Pubkey) -> PathBuf {
        self.config.work_dir.join(job.to_string())
    }

    /// Starts, runs and settles the jobs assigned to this node; returns the heartbeats of
    /// its running jobs, for [`Agent::periodic`] to send.
    fn serve_held_jobs(
        &mut self,
        chain: &mut impl Chain,
        snapshot: &MarketSnapshot,
        events: &mut Vec<AgentEvent>,
    ) -> Result<Vec<JobBeat>, ClientError> {
        let mut beats = Vec::new();
        let me = self.provider();
        let operator = self.operator.pubkey();
        let mine: Vec<(Pubkey, Job)> = snapshot
            .jobs
            .iter()
            .filter(|(_, job)| job.assignment.is_some_and(|a| a.provider == me))
            .cloned()
            .collect();
        for (address, job) in &mine {
            self.record(address, job, events);
        }
        let live: Vec<Pubkey> = mine.iter().map(|(address, _)| *address).collect();
        // What the agent noted of a job ends with its hold: a job that comes back to this
        // node later starts afresh.
        self.waiting.retain(|job, _| live.contains(job));
        self.unrun.retain(|job, _| live.contains(job));
        self.failed.retain(|job| live.contains(job));
        if let Some(book) = &self.book {
            book.end_all_but(&live, snapshot.now);
            book.prune(snapshot.now, self.retention);
        }
        let endpoint = snapshot
            .provider(&me)
            .map(|view| view.provider.endpoint.clone())
            .unwrap_or_default();
        for (address, job) in mine {
            match job.status {
                // A matcher's assignment this node cannot run, or would not finish before it
                // stops, is turned down while it still may be.
                JobStatus::Assigned
                    if job.assignment.is_some_and(|a| {
                        a.by_matcher
                            && snapshot.now
                                <= a.assigned_at
                                    .saturating_add(job_escrow::constants::DECLINE_WINDOW)
                    }) && (self.draining || !self.can_run(&job.workload)) =>
                {
                    let ix = escrow::decline_job(&operator, &self.authority, &address);
                    if self.send(chain, "job decline", &[ix], events) {
                        events.push(AgentEvent::Declined { job: address });
                    }
                }
                JobStatus::Assigned if self.start(chain, &address, &job, events) => {
                    self.launch(&address, &job, events);
                }
                JobStatus::Running => {
                    if !self.failed.contains(&address)
                        && !self.executor.running().contains(&address)
                    {
                        self.launch(&address, &job, events);
                    }
                    let waited_since = self
                        .waiting
                        .get_mut(&address)
                        .map(|since| *since.get_or_insert(snapshot.now));
                    if waited_since.is_some_and(|since| {
                        snapshot.now.saturating_sub(since) > self.upload_timeout
                    }) && job.kind == JobKind::Batch
                    {
                        let reason = format!(
                            "the client's uploads did not arrive within {} s of the start; nothing ran, and the result is empty",
                            self.upload_timeout
                        );
                        self.end_unrun(&address, &job, reason, events);
                    }
                    // A result that lands ends the job's heartbeats; otherwise its heartbeat
                    // (and a lease's withdrawal) goes with the node's periodic transaction.
                    // A failed read costs the result this pass, never the heartbeat.
                    let submitted = job.kind == JobKind::Batch
                        && self
                            .submit_if_done(chain, &address, &job, &endpoint, events)
                            .unwrap_or_else(|err| {
                                events.push(AgentEvent::Rejected {
                                    what: format!("result submission ({address})"),
                                    error: err.to_string(),
                                });
                                false
                            });
                    if !submitted {
                        beats.extend(self.job_beat(snapshot, &address, &job));
                    }
                }
                JobStatus::ResultSubmitted if job.is_replica() => {
                    if let Err(err) = self.reveal_or_settle(chain, snapshot, &address, &job, events)
                    {
                        events.push(AgentEvent::Rejected {
                            what: format!("replica reveal or settlement ({address})"),
                            error: err.to_string(),
                        });
                    }
                }
                _ => {}
            }
            // This node is the party most interested in its own settlement.
            if let Some(action @ Action::Finalize { .. }) =
                driver::due(snapshot.now, &address, &job)
            {
                match driver::instructions(chain, snapshot, &operator, &action) {
                    Ok(ixs) => {
                        if self.send(chain, "settlement", &ixs, events) {
                            beats.retain(|beat| beat.job != address);
                            events.push(AgentEvent::Settled { job: address });
                        }
                    }
                    Err(err) => events.push(AgentEvent::Rejected {
                        what: format!("settlement ({address})"),
                        error: err.to_string(),
                    }),
                }
            }
        }
        Ok(beats)
    }

    /// Tells the node API that the chain gives `job` to this node, and who its client is.
    fn record(&self, address: &Pubkey, job: &Job, events: &mut Vec<AgentEvent>) {
        // Only manifest jobs use the API; the directories of the older workloads are
        // written by their containers and are not served.
        if !manifest::is_manifest(&job.workload) {
            return;
        }
        if let Some(book) = &self.book {
            if let Err(err) = book.hold(address, &job.client, &job.workload) {
                events.push(AgentEvent::Rejected {
                    what: format!("recording job {address} for the node API"),
                    error: err.to_string(),
                });
            }
        }
    }

    fn start(
        &mut self,
        chain: &mut impl Chain,
        address: &Pubkey,
        job: &Job,
        events: &mut Vec<AgentEvent>,
    ) -> bool {
        if job.status != JobStatus::Assigned {
            return false;
        }
        // Before the start lands, so the client's first upload finds the job.
        self.record(address, job, events);
        let ix = escrow::start_job(&self.operator.pubkey(), &self.authority, address);
        let started = self.send_live(chain, "job start", &[ix], events);
        if started {
            events.push(AgentEvent::Started { job: *address });
        }
        started
    }

    fn launch(&mut self, address: &Pubkey, job: &Job, events: &mut Vec<AgentEvent>) {
        if self.unrun.contains_key(address) {
            return;
        }
        let workdir = self.workdir(address);
        let secrets = self
            .book
            .as_ref()
            .and_then(|book| book.secrets(address))
            .unwrap_or_default();
        let waiting = executor::waiting_for(&job.workload, &workdir, !secrets.is_empty());
        if !waiting.is_empty() {
            if !self.waiting.contains_key(address) {
                self.waiting.insert(*address, None);
                events.push(AgentEvent::Waiting {
                    job: *address,
                    waiting_for: waiting.iter().map(|w| (*w).to_owned()).collect(),
                });
            }
            return;
        }
        self.waiting.remove(address);
        let launch = Launch {
            workload: &job.workload,
            workdir: &workdir,
            gpus: job.requirements.gpu_count,
            cpu_cores: job.requirements.min_cpu_cores,
            ram_mib: job.requirements.min_ram_mib,
            secrets: &secrets,
        };
        match self.executor.launch(address, &launch) {
            Ok(()) => events.push(AgentEvent::Launched {
                job: *address,
                executor: self.executor.name().to_string(),
            }),
            // A manifest the client sent that cannot run is the client's doing; the node's
            // own failures (no engine, no free GPU, I/O) are not turned into a result.
            Err(err @ executor::ExecError::Manifest { .. }) if job.kind == JobKind::Batch => {
                self.end_unrun(
                    address,
                    job,
                    format!("the workload could not start: {err}; the result is empty"),
                    events,
                );
            }
            Err(err) => {
                self.failed.insert(*address);
                events.push(AgentEvent::WorkloadFailed {
                    job: *address,
                    reason: err.to_string(),
                });
            }
        }
    }

    /// Ends a manifest batch job that cannot run through its client's doing (its uploads
    /// never came, or its manifest does not run) with an empty result the agent submits,
    /// the reason in its log.
    fn end_unrun(
        &mut self,
        address: &Pubkey,
        job: &Job,
        reason: String,
        events: &mut Vec<AgentEvent>,
    ) {
        match executor::end_unrun(&job.workload, &self.workdir(address), &reason) {
            Ok(Progress::Finished(output)) => {
                self.waiting.remove(address);
                self.unrun.insert(*address, output);
                events.push(AgentEvent::WorkloadFailed {
                    job: *address,
                    reason,
                });
            }
            Ok(_) => {}
            Err(err) => {
                self.waiting.remove(address);
                self.failed.insert(*address);
                events.push(AgentEvent::WorkloadFailed {
                    job: *address,
                    reason: err.to_string(),
                });
            }
        }
    }

    /// Submits a finished batch job's result; whether one landed.
    fn submit_if_done(
        &mut self,
        chain: &mut impl Chain,
        address: &Pubkey,
        job: &Job,
        endpoint: &str,
        events: &mut Vec<AgentEvent>,
    ) -> Result<bool, ClientError> {
        if self.failed.contains(address) || self.waiting.contains_key(address) {
            return Ok(false);
        }
        let progress = match self.unrun.get(address) {
            Some(output) => Progress::Finished(output.clone()),
            None => match self.executor.poll(address) {
                Ok(progress) => progress,
                Err(err) => Progress::Failed(err.to_string()),
            },
        };
        match progress {
            Progress::Running => {}
            Progress::Failed(reason) => {
                self.failed.insert(*address);
                events.push(AgentEvent::WorkloadFailed {
                    job: *address,
                    reason,
                });
            }
            Progress::Finished(output) => {
                let uri = if self.book.is_some() && manifest::is_manifest(&job.workload) {
                    node_api::result_url(endpoint, address)
                } else {
                    format!("file://{}", output.path.display())
                };
                if uri.len() > MAX_URI_LEN {
                    self.failed.insert(*address);
                    events.push(AgentEvent::WorkloadFailed {
                        job: *address,
                        reason: format!(
                            "result URI {uri} is longer than {MAX_URI_LEN} bytes: use a shorter --work-dir or endpoint"
                        ),
                    });
                    return Ok(false);
                }
                if job.is_replica() {
                    return self.commit(chain, address, job, &output, uri, events);
                }
                let ix = escrow::submit_result(
                    &self.operator.pubkey(),
                    &job.assignment
                        .map(|a| a.authority)
                        .unwrap_or(self.authority),
                    address,
                    output.sha256,
                    uri,
                );
                if self.send_live(chain, "result submission", &[ix], events) {
                    events.push(AgentEvent::Submitted {
                        job: *address,
                        sha256: crate::hex::encode(&output.sha256),
                        bytes: output.bytes,
                    });
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// Where a replica's committed result is kept until it is revealed: in the job's work
    /// directory, written before the commitment is sent, so an agent restarted in between
    /// still reveals it.
    fn opening_path(&self, address: &Pubkey) -> PathBuf {
        self.workdir(address).join(REPLICA_OPENING)
    }

    /// Commits a finished replica's result: a fresh salt, the opening written to the
    /// job's work directory, then `commit_result`. Whether it landed.
    fn commit(
        &mut self,
        chain: &mut impl Chain,
        address: &Pubkey,
        job: &Job,
        output: &executor::Output,
        uri: String,
        events: &mut Vec<AgentEvent>,
    ) -> Result<bool, ClientError> {
        let Some(assignment) = job.assignment else {
            return Ok(false);
        };
        let path = self.opening_path(address);
        let sha256 = hex::encode(&output.sha256);
        // The salt of an earlier try of the same result is kept (the URI is not part of
        // the commitment): that commitment may have landed unseen.
        let earlier = read_opening(&path)
            .ok()
            .filter(|o| o.sha256 == sha256 && o.parts().is_ok());
        let opening = Opening {
            sha256,
            salt: earlier
                .as_ref()
                .map_or_else(|| hex::encode(&escrow::random_salt()), |o| o.salt.clone()),
            uri,
        };
        if earlier.as_ref().map(|o| (&o.salt, &o.uri)) != Some((&opening.salt, &opening.uri)) {
            // Synced to disk before the commitment goes: a crash after it lands must not
            // lose what opens it. A failed write is tried again next pass.
            let written = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| {
                    let text = serde_json::to_vec(&opening).map_err(std::io::Error::other)?;
                    api::write_atomic(&path, &text)
                });
            if let Err(err) = written {
                events.push(AgentEvent::Rejected {
                    what: format!("result commitment ({address})"),
                    error: format!(
                        "could not keep the replica's opening at {}: {err}",
                        path.display()
                    ),
                });
                return Ok(false);
            }
        }
        let (hash, salt) = opening.parts()?;
        let commitment = escrow::replica_commitment(&hash, &assignment.provider, &salt);
        let ix = escrow::commit_result(
            &self.operator.pubkey(),
            &assignment.authority,
            address,
            &job.replica_group,
            commitment,
        );
        if self.send_live(chain, "result commitment", &[ix], events) {
            events.push(AgentEvent::Committed {
                job: *address,
                sha256: opening.sha256,
                bytes: output.bytes,
            });
            return Ok(true);
        }
        Ok(false)
    }

    /// A committed replica of this node: its result revealed once the group opens the
    /// reveals, and the replica settled once the group's reveals are final.
    fn reveal_or_settle(
        &mut self,
        chain: &mut impl Chain,
        snapshot: &MarketSnapshot,
        address: &Pubkey,
        job: &Job,
        events: &mut Vec<AgentEvent>,
    ) -> Result<(), ClientError> {
        // Whatever the verdict: the node's collateral is locked until it settles.
        if let Some(action) = driver::replica_due(snapshot, address, job) {
            let ixs = driver::instructions(chain, snapshot, &self.operator.pubkey(), &action)?;
            if self.send(chain, "replica settlement", &ixs, events) {
                events.push(AgentEvent::Settled { job: *address });
            }
            return Ok(());
        }
        let Some(group) = snapshot.replica_groups.get(&job.replica_group) else {
            return Err(ClientError::AccountNotFound(job.replica_group));
        };
        let slot = group
            .slot(address)
            .map_err(|_| ClientError::Backend(format!("replica {address} is not in its group")))?;
        // No commitment in the group: it was read before the commitment landed.
        let Some(commitment) = slot.commitment else {
            return Ok(());
        };
        if slot.revealed.is_some()
            || group.check_reveal_open(snapshot.now).is_err()
            || self.failed.contains(address)
        {
            return Ok(());
        }
        // Checked here against the commitment on chain: an opening lost, unreadable as
        // one, or not the committed one stays so and is reported once; any other failure
        // to read it is tried again next pass.
        let path = self.opening_path(address);
        let provider = job.assignment.map(|a| a.provider).unwrap_or_default();
        let opened = read_opening(&path).and_then(|opening| {
            let (hash, salt) = opening
                .parts()
                .map_err(|err| std::io::Error::new(std::io::ErrorKind::InvalidData, err))?;
            if escrow::replica_commitment(&hash, &provider, &salt) != commitment {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "it does not open the commitment on chain",
                ));
            }
            Ok((opening, hash, salt))
        });
        let (opening, hash, salt) = match opened {
            Ok(opened) => opened,
            Err(err) => {
                use std::io::ErrorKind::{InvalidData, NotFound};
                let lost = matches!(err.kind(), NotFound | InvalidData);
                if lost {
                    self.failed.insert(*address);
                }
                events.push(AgentEvent::Rejected {
                    what: format!("result reveal ({address})"),
                    error: format!(
                        "replica {address} cannot be revealed from {} ({err}){}",
                        path.display(),
                        if lost {
                            "; it will be slashed as unrevealed once its group is decided"
                        } else {
                            "; tried again next pass"
                        }
                    ),
                });
                return Ok(());
            }
        };
        let authority = job.assignment.map_or(self.authority, |a| a.authority);
        let ix = escrow::reveal_result(
            &self.operator.pubkey(),
            &authority,
            address,
            &job.replica_group,
            hash,
            salt,
            opening.uri,
        );
        if self.send_live(chain, "result reveal", &[ix], events) {
            events.push(AgentEvent::Revealed {
                job: *address,
                sha256: opening.sha256,
            });
        }
        Ok(())
    }

    /// A running job's heartbeat, with its lease for a withdrawal once `withdraw_every`
    /// has passed since the last; none where a heartbeat cannot land or is pointless (a
    /// lapsed lease, a run past its end, a job refreshed this second).
    fn job_beat(&self, snapshot: &MarketSnapshot, address: &Pubkey, job: &Job) -> Option<JobBeat> {
        let now = snapshot.now;
        let silent = now.saturating_sub(job.last_heartbeat);
        let (Ok(end), Ok(lapsed)) = (job.run_deadline(), job.heartbeat_lapsed(now)) else {
            return None;
        };
        if silent <= 0 || now >= end || (lapsed && job.kind == JobKind::Lease) {
            return None;
        }
        let last = self
            .last_withdraw
            .get(address)
            .copied()
            .unwrap_or(job.started_at);
        let withdraw = (job.kind == JobKind::Lease
            && now.saturating_sub(last) >= self.config.withdraw_every)
            .then(|| job.clone());
        Some(JobBeat {
            job: *address,
            due: silent >= beat_due_after(job.terms.heartbeat_grace),
            ix: escrow::heartbeat_job(&self.operator.pubkey(), &self.authority, address),
            withdraw,
        })
    }

    /// A withdrawal of what `job` (a lease) served until a little before now, to ride
    /// behind its heartbeat (which makes that time withdrawable), with the provider's
    /// token account created first if it is missing; none when nothing is due.
    fn withdrawal(
        &self,
        chain: &mut impl Chain,
        snapshot: &MarketSnapshot,
        job: &Job,
    ) -> Result<
        Option<(
            Vec<anchor_lang::solana_program::instruction::Instruction>,
            u64,
        )>,
        ClientError,
    > {
        let until = snapshot.now.saturating_sub(WITHDRAW_CLOCK_MARGIN);
        let Ok(earned) = job.payout(until.max(job.last_heartbeat)) else {
            return Ok(None);
        };
        if earned.gross == 0 {
            return Ok(None);
        }
        let operator = self.operator.pubkey();
        let keys = driver::settle_accounts(snapshot, &operator, job)?;
        let mut ixs = driver::missing_token_accounts(
            chain,
            snapshot,
            &operator,
            &[(keys.provider_authority, job.payment_mint)],
        )?;
        ixs.push(escrow::withdraw_earnings(&operator, &keys, earned.gross));
        Ok(Some((ixs, earned.gross)))
    }

    /// Stops the workloads of jobs that are no longer this node's running jobs.
    fn release_finished(&mut self, snapshot: &MarketSnapshot, events: &mut Vec<AgentEvent>) {
        let me = self.provider();
        for address in self.executor.running() {
            let still_mine = snapshot.job(&address).is_some_and(|job| {
                job.status == JobStatus::Running && job.assignment.is_some_and(|a| a.provider == me)
            });
            if !still_mine && self.executor.stop(&address).is_ok() {
                events.push(AgentEvent::Released { job: address });
            }
        }
    }

    /// Takes the instant jobs the round assigns to this node, bids on auctions it can win
    /// and closes the auctions it won.
    fn take_new_jobs(
        &mut self,
        chain: &mut impl Chain,
        snapshot: &MarketSnapshot,
        events: &mut Vec<AgentEvent>,
    ) -> Result<(), ClientError> {
        let me = self.provider();
        let operator = self.operator.pubkey();
        let Some(view) = snapshot.provider(&me).cloned() else {
            return Ok(());
        };
        for (address, job) in &snapshot.jobs {
            let won = job.status == JobStatus::Open
                && snapshot.now >= job.bid_deadline
                && job.best_bid.is_some_and(|b| b.provider == me);
            if won {
                let ix = escrow::close_auction(&operator, address, &self.authority);
                if self.send(chain, "auction close", &[ix], events) {
                    events.push(AgentEvent::AuctionClosed { job: *address });
                    let mut assigned = job.clone();
                    assigned.status = JobStatus::Assigned;
                    if self.start(chain, address, &assigned, events) {
                        self.launch(address, &assigned, events);
                    }
                }
            }
        }
        let policy = snapshot.policy();
        let authority = self.authority;
        let round = match snapshot.scope {
            Scope::Market => snapshot.match_round(),
            // Seeing only itself, the node cannot know whether a cheaper provider will take
            // a job: it takes the instant jobs it can run, each once its delay past the
            // matcher's window is over (the cheaper the node, the sooner), so that providers
            // rarely race for the same job and the cheapest is usually first.
            Scope::Provider(_) => {
                let price = view.provider.price_per_gpu_hour;
                let jobs: Vec<_> = snapshot
                    .open_jobs()
                    .into_iter()
                    .filter(|open| {
                        open.job.mode == JobMode::Instant
                            && self.can_run(&open.job.workload)
                            && snapshot.now >= driver::take_after(&open.job, price)
                    })
                    .collect();
                matcher::match_round(&jobs, &snapshot.providers, &policy, snapshot.now)
            }
        };
        let mine: Vec<Action> = driver::plan_matches(snapshot, &round)
            .into_iter()
            .filter(
                |action| matches!(action, Action::Accept { authority: a, .. } if *a == authority),
            )
            .collect();
        // One replica of a group per authority: a round may match two to this node.
        let mut groups_taken = HashSet::new();
        for action in mine {
            let address = action.job();
            let Some(job) = snapshot.job(&address) else {
                continue;
            };
            if !self.can_run(&job.workload)
                || (job.is_replica() && !groups_taken.insert(job.replica_group))
            {
                continue;
            }
            let ixs = driver::instructions(chain, snapshot, &operator, &action)?;
            if self.send_live(chain, "job accept", &ixs, events) {
                events.push(AgentEvent::Accepted { job: address });
                let mut assigned = job.clone();
                assigned.status = JobStatus::Assigned;
                if self.start(chain, &address, &assigned, events) {
                    self.launch(&address, &assigned, events);
                }
            }
        }
        let price = view.provider.price_per_gpu_hour;
        for (address, job) in &snapshot.jobs {
            let biddable = job.status == JobStatus::Open
                && job.mode == JobMode::Auction
                && snapshot.now < job.bid_deadline
                && job.payment_mint == view.provider.payment_mint
                && price <= job.max_price_per_gpu_hour
                && driver::beats_best_bid(job, price)
                && self.can_run(&job.workload)
                && satisfies(
                    &view.provider,
                    view.active_stake,
                    &job.requirements,
                    &policy,
                    snapshot.now,
                )
                .is_ok();
            if biddable {
                let ix = escrow::place_bid(&operator, &self.authority, address, price);
                if self.send_live(chain, "bid", &[ix], events) {
                    events.push(AgentEvent::Bid {
                        job: *address,
                        price_per_gpu_hour: price,
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::beat_due_after;

    #[test]
    fn a_jobs_heartbeat_is_due_at_half_its_grace_or_five_minutes_before_it_runs_out() {
        // Half the grace up to ten minutes.
        assert_eq!(beat_due_after(1), 1);
        assert_eq!(beat_due_after(2), 1);
        assert_eq!(beat_due_after(120), 60);
        assert_eq!(beat_due_after(600), 300);
        // Then five minutes before its end, with the uptime record every 30 minutes at most.
        assert_eq!(beat_due_after(35 * 60), 30 * 60);
        assert_eq!(beat_due_after(60 * 60), 30 * 60);
        // A long grace: half of it.
        assert_eq!(beat_due_after(86_400), 43_200);
    }
}
