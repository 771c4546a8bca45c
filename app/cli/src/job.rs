//! `gpu-market job`: submit escrowed jobs, follow them, settle or cancel them.

use crate::{
    channel::{self, SecretArgs},
    output::{date, short, table},
    provider::ClassArg,
    units::{
        format_amount, format_duration, format_mib, format_region, Decimal, Digest, Duration,
        Region, Size,
    },
    CliError, Context,
};
use clap::{Args, Subcommand};
use gpu_market_agent::executor::{oci_workload, process_workload};
use gpu_market_client::{
    escrow::{self, Job, JobKind, JobMode, JobStatus, SettleAccounts},
    pda,
    registry::{GpuClass, Requirements},
    token, Chain, Instruction, Pubkey, TxOutcome,
};
use indicatif::{ProgressBar, ProgressStyle};
use job_escrow::CreateJobArgs;
use serde::Serialize;
use std::{fmt, path::PathBuf, time::Duration as StdDuration};

/// How long a job just seen closing may take to show its closing transaction in the
/// node's history.
const CLOSING_PATIENCE: StdDuration = StdDuration::from_secs(15);

/// How long the service token `job submit --wait` prints for a lease is valid.
const DEFAULT_TOKEN_VALIDITY: i64 = 86_400;

#[derive(Debug, Subcommand)]
pub enum JobCommand {
    /// Post a job and escrow its maximum cost (max price x GPUs x duration) plus the
    /// crank tip. What is not billed comes back.
    Submit(Box<SubmitArgs>),
    /// Show a job. For your own running manifest job, also what its node reports: the
    /// workload's state and the health of each service port.
    Show {
        /// The job's address.
        #[arg(value_parser = crate::parse_pubkey)]
        job: Pubkey,
    },
    /// List jobs.
    List {
        /// Only your jobs.
        #[arg(long)]
        mine: bool,
        /// Only jobs in this status.
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
    },
    /// Follow a job until it is settled (or `--until` a status), with a progress bar.
    Watch {
        /// The job's address.
        #[arg(value_parser = crate::parse_pubkey)]
        job: Pubkey,
        /// Stop once the job reaches this status.
        #[arg(long, value_enum)]
        until: Option<StatusArg>,
        /// Time between polls, e.g. 5s.
        #[arg(long, default_value = "2s")]
        interval: Duration,
    },
    /// Bid on an auction job as a provider's operator.
    Bid {
        /// The job's address.
        #[arg(value_parser = crate::parse_pubkey)]
        job: Pubkey,
        /// Price per GPU-hour, e.g. 1.80.
        #[arg(long, allow_negative_numbers = true)]
        price: Decimal,
        /// The node's authority (default: your keypair).
        #[arg(long, value_parser = crate::parse_pubkey)]
        authority: Option<Pubkey>,
    },
    /// Accept a batch result and settle: the provider is paid, the rest comes back.
    Approve {
        /// The job's address.
        #[arg(value_parser = crate::parse_pubkey)]
        job: Pubkey,
    },
    /// Challenge a batch result within the challenge window (posts the dispute bond).
    Dispute {
        /// The job's address.
        #[arg(value_parser = crate::parse_pubkey)]
        job: Pubkey,
    },
    /// Reveal the known answer of a job submitted with --known-answer whose result differs
    /// from it, inside the challenge window: the provider is slashed with no arbiter and
    /// the whole deposit comes back. A result that matches is not revealed (approve it with
    /// `job approve`). With --dry-run the printed instruction holds the answer and the salt:
    /// keep it private.
    Reveal {
        /// The job's address.
        #[arg(value_parser = crate::parse_pubkey)]
        job: Pubkey,
        /// The answer given to `job submit --known-answer`.
        #[arg(long)]
        known_answer: Digest,
    },
    /// Lengthen a job, escrowing the extra cost.
    Extend {
        /// The job's address.
        #[arg(value_parser = crate::parse_pubkey)]
        job: Pubkey,
        /// Extra time, e.g. 1h.
        #[arg(long = "by")]
        by: Duration,
    },
    /// End a running lease now, paying for the time served.
    Close {
        /// The job's address.
        #[arg(value_parser = crate::parse_pubkey)]
        job: Pubkey,
    },
    /// Cancel a job nobody took yet; the whole deposit comes back. A replica only while its
    /// group is incomplete.
    Cancel {
        /// The job's address.
        #[arg(value_parser = crate::parse_pubkey)]
        job: Pubkey,
    },
    /// Settle a committed replica (of `job submit --replicas`) once its group's reveals are
    /// final (every replica revealed, or the reveal deadline passed). Anyone may: its
    /// provider is paid if its result is the majority's; otherwise the whole deposit comes
    /// back to the client, and a provider that never revealed, or revealed another result
    /// while a majority exists, is slashed.
    Settle {
        /// The replica job's address.
        #[arg(value_parser = crate::parse_pubkey)]
        job: Pubkey,
    },
    /// Close a replica group once every one of its replica jobs is closed (settled,
    /// reclaimed, cancelled or refunded), its rent back to the client: the client, or
    /// anyone once the reveal deadline has passed. `job settle` and `job cancel` of the
    /// last replica do it by themselves.
    CloseGroup {
        /// The replica group's address (`job show` of a replica names it).
        #[arg(value_parser = crate::parse_pubkey)]
        group: Pubkey,
    },
    /// Upload a manifest job's manifest, inputs and sealed secrets to the node that took it,
    /// waiting for a node to take it first. `job submit --wait` does this by itself.
    Upload(UploadArgs),
    /// Print a job's log (stdout and stderr of its workload) from the node that runs it;
    /// --follow streams it until the workload ends. Signed with your key: only the job's
    /// client may read it. Served for the node's retention period after the job ends.
    Logs {
        /// The job's address.
        #[arg(value_parser = crate::parse_pubkey)]
        job: Pubkey,
        /// Keep streaming new lines until the workload ends.
        #[arg(long, short = 'f')]
        follow: bool,
    },
    /// Print the URL of a running lease's service at its node and a token for it: any HTTP
    /// client reaches the service with the token in the x-gpu-market-token header, until
    /// the token expires or the lease ends. Only the job's client can make a token.
    Endpoint {
        /// The job's address.
        #[arg(value_parser = crate::parse_pubkey)]
        job: Pubkey,
        /// Only this exposed port (default: every port the manifest exposes).
        #[arg(long)]
        port: Option<u16>,
        /// How long the token is valid, e.g. 8h (at most 30d).
        #[arg(long, default_value = "24h")]
        valid: Duration,
    },
    /// Download a batch job's result from its node, check its SHA-256 against the hash the
    /// chain holds before unpacking anything, and unpack it. On a mismatch nothing is kept
    /// and the job can be disputed.
    Results {
        /// The job's address.
        #[arg(value_parser = crate::parse_pubkey)]
        job: Pubkey,
        /// Directory to unpack the result into (created if missing).
        #[arg(long = "out", short = 'o')]
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The job's address.
    #[arg(value_parser = crate::parse_pubkey)]
    pub job: Pubkey,
    /// The manifest the job was submitted with.
    #[arg(long)]
    pub manifest: PathBuf,
    /// The extra inputs it was submitted with (--input).
    #[arg(long = "input")]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub secrets: SecretArgs,
}

/// The GPU class a job asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClassChoice {
    /// Any class.
    Any,
    Consumer,
    Workstation,
    Datacenter,
}

impl ClassChoice {
    /// The class, `None` for any.
    fn class(self) -> Option<GpuClass> {
        match self {
            ClassChoice::Any => None,
            ClassChoice::Consumer => Some(ClassArg::Consumer.into()),
            ClassChoice::Workstation => Some(ClassArg::Workstation.into()),
            ClassChoice::Datacenter => Some(ClassArg::Datacenter.into()),
        }
    }
}

/// Job status on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusArg {
    Open,
    Assigned,
    Running,
    ResultSubmitted,
    Disputed,
    /// The job is settled, cancelled or reclaimed: its account is closed (`job watch
    /// --until` only; `job list` lists open jobs).
    Closed,
}

impl StatusArg {
    /// The status on chain; `None` for `closed`, which no open job has.
    fn status(self) -> Option<JobStatus> {
        match self {
            StatusArg::Open => Some(JobStatus::Open),
            StatusArg::Assigned => Some(JobStatus::Assigned),
            StatusArg::Running => Some(JobStatus::Running),
            StatusArg::ResultSubmitted => Some(JobStatus::ResultSubmitted),
            StatusArg::Disputed => Some(JobStatus::Disputed),
            StatusArg::Closed => None,
        }
    }
}

#[derive(Debug, Args)]
#[command(group(
    clap::ArgGroup::new("workload")
        .required(true)
        .args(["manifest", "image", "command"])
))]
pub struct SubmitArgs {
    /// GPUs needed on one node.
    #[arg(long, default_value_t = 1)]
    pub gpus: u16,
    /// Least VRAM per GPU, e.g. 24GiB.
    #[arg(long, default_value = "0MiB")]
    pub min_vram: Size,
    /// GPU class.
    #[arg(long, value_enum, default_value_t = ClassChoice::Any)]
    pub gpu_class: ClassChoice,
    /// Least CPU cores.
    #[arg(long, default_value_t = 0)]
    pub cpu_cores: u16,
    /// Least system memory, e.g. 64GiB.
    #[arg(long, default_value = "0MiB")]
    pub ram: Size,
    /// Country the node must be in (DE or 276), or any.
    #[arg(long)]
    pub region: Option<Region>,
    /// Least benchmark score.
    #[arg(long, default_value_t = 0)]
    pub min_benchmark: u32,
    /// Only nodes whose spec an auditor attested.
    #[arg(long)]
    pub attested_only: bool,
    /// Most you pay per GPU-hour, in whole tokens, e.g. 2.10.
    #[arg(long, allow_negative_numbers = true)]
    pub max_price: Decimal,
    /// Longest billable run, e.g. 2h.
    #[arg(long)]
    pub duration: Duration,
    /// A lease (a service billed per second while it runs) instead of a batch job.
    #[arg(long)]
    pub lease: bool,
    /// Reverse auction: providers bid during the bid window, the lowest wins.
    #[arg(long)]
    pub auction: bool,
    /// A workload manifest (job.toml: image and digest or a command, args, env, secret
    /// names, inputs, output directory, ports); its SHA-256 is what the chain pins. The
    /// other way to give a workload is --image with --digest, or --command.
    #[arg(long, conflicts_with_all = ["image", "command"])]
    pub manifest: Option<PathBuf>,
    /// A file or directory to pack into the job's input, besides the manifest's `inputs`.
    /// Repeatable.
    #[arg(long = "input", requires = "manifest")]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub secrets: SecretArgs,
    /// After posting: wait for a node to take the job, upload the manifest, inputs and
    /// secrets to it, and wait for the result (a lease: until it runs).
    #[arg(long)]
    pub wait: bool,
    /// With --wait: stream the workload's log while it runs.
    #[arg(long, requires = "wait")]
    pub follow: bool,
    /// With --wait: download the result into this directory and verify it against the chain.
    #[arg(long, requires = "wait", value_name = "DIR")]
    pub download: Option<PathBuf>,
    /// Time between polls of the chain while waiting, e.g. 5s.
    #[arg(long, default_value = "2s")]
    pub interval: Duration,
    /// Container image to run (with --digest).
    #[arg(long, conflicts_with = "command", requires = "digest")]
    pub image: Option<String>,
    /// The image's sha256 digest, which pins what runs.
    #[arg(long)]
    pub digest: Option<Digest>,
    /// A shell command to run (providers serving with --allow-local-process only).
    #[arg(long)]
    pub command: Option<String>,
    /// Payment mint (default: the market's first).
    #[arg(long, value_parser = crate::parse_pubkey)]
    pub payment_mint: Option<Pubkey>,
    /// Your id for the job (default: from the clock); unique per client.
    #[arg(long)]
    pub job_id: Option<u64>,
    /// Make it a known-answer (canary) job: the result hash an honest run gives (the
    /// SHA-256 of a command's or image's stdout, or of a manifest job's packed output, as a
    /// previous run's `job show` prints it; 64 hex characters), on a job id never used. The job commits to it with a salt drawn from your key and looks like any
    /// other; `gpu-market job reveal` then slashes a provider whose result differs.
    #[arg(long, conflicts_with = "lease")]
    pub known_answer: Option<Digest>,
    /// Run the batch job on this many distinct providers (2 to 5), each escrowing the max
    /// cost: each commits to its result, reveals it once all have committed, and the result
    /// more than half of them agree on is paid; the others are slashed. With no majority
    /// the deposits come back and nobody is paid. Job ids `--job-id`, +1, ...; the group id
    /// is the first. With --image or --command (a manifest job's files would have to reach
    /// every replica's node).
    #[arg(
        long,
        value_parser = clap::value_parser!(u8).range(2..=5),
        conflicts_with_all = ["lease", "auction", "known_answer", "wait", "manifest"]
    )]
    pub replicas: Option<u8>,
    /// With --replicas: how long from now the replicas may commit their results, e.g. 6h
    /// (default: twice the start timeout and the duration, within what the market
    /// allows). Providers may take a replica while a whole run still fits before it.
    #[arg(long, requires = "replicas")]
    pub commit_within: Option<Duration>,
}

/// A job as shown.
#[derive(Debug, Serialize)]
pub struct JobView {
    pub address: String,
    pub client: String,
    pub job_id: u64,
    pub kind: String,
    pub mode: String,
    pub status: String,
    pub workload: String,
    pub gpus: u16,
    pub gpu_class: String,
    pub min_vram: String,
    pub region: String,
    pub max_price_per_gpu_hour: String,
    pub max_duration: String,
    pub escrowed: String,
    pub billed: String,
    pub provider: Option<String>,
    pub price_per_gpu_hour: Option<String>,
    pub best_bid: Option<String>,
    /// When the job was posted.
    pub created_at: String,
    /// When the auction's bid window closes (auctions).
    pub bid_deadline: Option<String>,
    /// When the workload started (once it has).
    pub started_at: Option<String>,
    /// Until when the client may approve or dispute the submitted result.
    pub challenge_ends_at: Option<String>,
    pub result_sha256: Option<String>,
    pub result_uri: Option<String>,
    pub attempts: u8,
    /// The replica group this job is one replica of (`job submit --replicas`); until its
    /// reveal, a replica's result hash is its provider's commitment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replica_group: Option<String>,
    /// What the node reports, for the job's client: the workload's state (or why the node
    /// could not be asked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_state: Option<String>,
    /// The health of each service port, as the node checked it when asked.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub services: std::collections::BTreeMap<u16, String>,
}

impl JobView {
    pub fn new(address: Pubkey, job: &Job, decimals: u8) -> Self {
        let amount = |v: u64| format_amount(v, decimals);
        // A replica's result hash is its commitment until its reveal (which brings the URI).
        let result = job
            .result
            .as_ref()
            .filter(|r| !job.is_replica() || !r.uri.is_empty());
        Self {
            address: address.to_string(),
            client: job.client.to_string(),
            job_id: job.job_id,
            kind: format!("{:?}", job.kind).to_lowercase(),
            mode: format!("{:?}", job.mode).to_lowercase(),
            status: status_name(job.status).into(),
            workload: job.workload.uri.clone(),
            gpus: job.requirements.gpu_count,
            gpu_class: job
                .requirements
                .gpu_class
                .class()
                .map_or("any".into(), |c| format!("{c:?}")),
            min_vram: format_mib(u64::from(job.requirements.min_vram_mib)),
            region: format_region(job.requirements.region),
            max_price_per_gpu_hour: amount(job.max_price_per_gpu_hour),
            max_duration: format_duration(job.max_duration),
            escrowed: amount(job.escrowed),
            billed: amount(job.billed),
            provider: job.assignment.map(|a| a.provider.to_string()),
            price_per_gpu_hour: job.assignment.map(|a| amount(a.price_per_gpu_hour)),
            best_bid: job.best_bid.map(|b| amount(b.price_per_gpu_hour)),
            created_at: date(job.created_at),
            bid_deadline: (job.mode == JobMode::Auction && job.assignment.is_none())
                .then(|| date(job.bid_deadline)),
            started_at: (job.started_at > 0).then(|| date(job.started_at)),
            challenge_ends_at: challenge_ends_at(job)
                .filter(|_| !job.is_replica())
                .map(date),
            result_sha256: result.map(|r| gpu_market_client::hex::encode(&r.hash)),
            result_uri: result.map(|r| r.uri.clone()),
            attempts: job.attempts,
            replica_group: job.is_replica().then(|| job.replica_group.to_string()),
            node_state: None,
            services: std::collections::BTreeMap::new(),
        }
    }
}

/// The status as the command line writes it.
pub fn status_name(s: JobStatus) -> &'static str {
    match s {
        JobStatus::Open => "open",
        JobStatus::Assigned => "assigned",
        JobStatus::Running => "running",
        JobStatus::ResultSubmitted => "result-submitted",
        JobStatus::Disputed => "disputed",
    }
}

impl fmt::Display for JobView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "job       {} (#{} of {})",
            self.address, self.job_id, self.client
        )?;
        writeln!(
            f,
            "status    {} ({} {}, attempt {})",
            self.status, self.kind, self.mode, self.attempts
        )?;
        writeln!(f, "workload  {}", self.workload)?;
        if let Some(group) = &self.replica_group {
            writeln!(
                f,
                "replica   of group {group}: settles by the group's majority (`gpu-market job settle`)"
            )?;
        }
        writeln!(
            f,
            "needs     {} GPU(s), class {}, {} VRAM, region {}",
            self.gpus, self.gpu_class, self.min_vram, self.region
        )?;
        writeln!(
            f,
            "terms     at most {} per GPU-hour for {}; escrowed {}, billed {}",
            self.max_price_per_gpu_hour, self.max_duration, self.escrowed, self.billed
        )?;
        writeln!(f, "posted    {}", self.created_at)?;
        if let Some(deadline) = &self.bid_deadline {
            match &self.best_bid {
                Some(bid) => {
                    writeln!(f, "best bid  {bid} per GPU-hour (window closes {deadline})")?
                }
                None => writeln!(f, "bids      none yet (window closes {deadline})")?,
            }
        }
        if let Some(started) = &self.started_at {
            writeln!(f, "started   {started}")?;
        }
        if let (Some(p), Some(price)) = (&self.provider, &self.price_per_gpu_hour) {
            writeln!(f, "provider  {p} at {price} per GPU-hour")?;
        }
        if let (Some(hash), Some(uri)) = (&self.result_sha256, &self.result_uri) {
            writeln!(f, "result    sha256 {hash}\n          {uri}")?;
        }
        if let Some(ends) = &self.challenge_ends_at {
            writeln!(f, "approve or dispute the result before {ends}")?;
        }
        if let Some(state) = &self.node_state {
            writeln!(f, "node      {state}")?;
        }
        for (port, health) in &self.services {
            writeln!(f, "service   port {port}: {health}")?;
        }
        Ok(())
    }
}

/// A list of jobs.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct JobList(pub Vec<JobView>);

impl fmt::Display for JobList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<Vec<String>> = self
            .0
            .iter()
            .map(|j| {
                vec![
                    short(&j.address.parse().unwrap_or_default()),
                    j.status.clone(),
                    format!("{}/{}", j.kind, j.mode),
                    j.gpus.to_string(),
                    j.max_price_per_gpu_hour.clone(),
                    j.max_duration.clone(),
                    j.escrowed.clone(),
                    j.provider
                        .as_ref()
                        .map_or("-".into(), |p| short(&p.parse().unwrap_or_default())),
                ]
            })
            .collect();
        write!(
            f,
            "{}\n{} jobs",
            table(
                &[
                    "JOB",
                    "STATUS",
                    "KIND",
                    "GPUS",
                    "MAX PRICE",
                    "DURATION",
                    "ESCROWED",
                    "PROVIDER"
                ],
                &rows
            ),
            self.0.len()
        )
    }
}

/// What a job transaction did.
#[derive(Debug, Serialize)]
pub struct JobReceipt {
    pub done: &'static str,
    pub job: String,
    pub signature: String,
    /// Amount escrowed (submit, extend), when relevant.
    pub amount: Option<String>,
}

impl fmt::Display for JobReceipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} job {}", self.done, self.job)?;
        if let Some(amount) = &self.amount {
            write!(f, " ({amount} escrowed)")?;
        }
        write!(f, "\nsignature {}", self.signature)
    }
}

fn fetch_job<C: Chain>(ctx: &mut Context<C>, address: &Pubkey) -> Result<Job, CliError> {
    ctx.chain.fetch(address).map_err(|err| match err {
        gpu_market_client::ClientError::AccountNotFound(_) => CliError::input(format!(
            "no job at {address}: it was settled or never existed (see `gpu-market job list`)"
        )),
        other => other.into(),
    })
}

fn requirements(args: &SubmitArgs) -> Result<Requirements, CliError> {
    if args.gpus == 0 {
        return Err(CliError::input("--gpus must be at least 1"));
    }
    Ok(Requirements {
        gpu_class: args.gpu_class.class().into(),
        gpu_count: args.gpus,
        min_vram_mib: args.min_vram.mib_u32().map_err(CliError::Input)?,
        min_cpu_cores: args.cpu_cores,
        min_ram_mib: args.ram.mib_u32().map_err(CliError::Input)?,
        region: args.region.map_or(0, |r| r.0),
        min_benchmark: args.min_benchmark,
        attested_only: args.attested_only,
    })
}

fn settle_keys<C: Chain>(
    ctx: &mut Context<C>,
    job: &Job,
    program: Pubkey,
) -> Result<(SettleAccounts, Vec<Instruction>), CliError> {
    let treasury = ctx.market_config()?.treasury;
    let me = ctx.me()?;
    settle_keys_on(&mut ctx.chain, &me, job, program, &treasury)
}

/// The settlement accounts of `job` as `me` sends them (fees to the market's `treasury`
/// wallet), and the instructions to put first: the compute limit and the creation of any
/// payee's missing token account.
pub fn settle_keys_on(
    chain: &mut impl Chain,
    me: &Pubkey,
    job: &Job,
    program: Pubkey,
    treasury: &Pubkey,
) -> Result<(SettleAccounts, Vec<Instruction>), CliError> {
    let (me, treasury) = (*me, *treasury);
    let keys = SettleAccounts::for_job(job, &me, &program, &treasury)
        .ok_or_else(|| CliError::input("the job has no provider yet"))?;
    let mint = job.payment_mint;
    let created = token::missing_associated_accounts(
        chain,
        &me,
        &[
            (keys.provider_authority, mint, program),
            (treasury, mint, program),
            (job.client, mint, program),
        ],
    )?;
    let mut setup = vec![escrow::settlement_compute_limit(created.len())];
    setup.extend(created);
    Ok((keys, setup))
}

/// The staking accounts a slash touches, and the staking treasury a verification's
/// slash goes to.
fn staking_slash_keys<C: Chain>(
    ctx: &mut Context<C>,
) -> Result<(escrow::SlashKeys, Pubkey), CliError> {
    let staking: gpu_market_client::staking::StakingConfig =
        ctx.chain.fetch(&pda::staking_config())?;
    let (_, stake_token_program) = ctx.mint(&staking.stake_mint)?;
    let keys = escrow::SlashKeys {
        stake_mint: staking.stake_mint,
        stake_token_program,
    };
    Ok((keys, staking.treasury))
}

/// `close_replica_group` of `group` sent by this wallet, once no replica job of it but
/// `leaving` (closed in the same transaction) is open: by its client, or by anyone after
/// its reveal deadline. Otherwise why it cannot close yet.
fn group_closing<C: Chain>(
    ctx: &mut Context<C>,
    group: &escrow::ReplicaGroup,
    leaving: &Pubkey,
) -> Result<Result<Instruction, String>, CliError> {
    let jobs: Vec<Pubkey> = group.slots.iter().map(|s| s.job).collect();
    let mut open = Vec::new();
    for (job, account) in jobs.iter().zip(ctx.chain.accounts(&jobs)?) {
        // As the program counts them: lamports sent to a closed job's address do not.
        let is_job = account.is_some_and(|a| a.owner == job_escrow::ID && !a.data.is_empty());
        if is_job && job != leaving {
            open.push(job.to_string());
        }
    }
    if !open.is_empty() {
        return Ok(Err(format!(
            "still has open replica jobs: {} (settle, cancel or reclaim them first)",
            open.join(", ")
        )));
    }
    let me = ctx.me()?;
    if me != group.client && ctx.chain.now()? <= group.reveal_deadline {
        return Ok(Err(format!(
            "may be closed only by its client {} before its reveal deadline, {}",
            group.client,
            date(group.reveal_deadline)
        )));
    }
    Ok(Ok(escrow::close_replica_group(
        &me,
        &group.client,
        group.group_id,
        &jobs,
    )))
}

fn require_client<C: Chain>(ctx: &Context<C>, job: &Job, verb: &str) -> Result<(), CliError> {
    let me = ctx.me()?;
    if job.client != me {
        return Err(CliError::input(format!(
            "only the job's client {} can {verb} it; you are {me}",
            job.client,
        )));
    }
    Ok(())
}

pub fn run<C: Chain>(ctx: &mut Context<C>, cmd: JobCommand) -> Result<(), CliError> {
    let receipt = |done: &'static str, job: Pubkey, amount: Option<String>| {
        move |outcome: TxOutcome| JobReceipt {
            done,
            job: job.to_string(),
            signature: outcome.signature.to_string(),
            amount,
        }
    };
    match cmd {
        JobCommand::Submit(args) => submit(ctx, *args),
        JobCommand::Show { job } => {
            if ctx.chain.account(&job)?.is_none() {
                return print_ending(ctx, &job, StdDuration::ZERO);
            }
            let data = fetch_job(ctx, &job)?;
            let (decimals, _) = ctx.mint(&data.payment_mint)?;
            let mut view = JobView::new(job, &data, decimals);
            let mine = ctx.me().is_ok_and(|me| me == data.client);
            let at_node = matches!(
                data.status,
                JobStatus::Running | JobStatus::ResultSubmitted | JobStatus::Disputed
            );
            if mine && at_node && gpu_market_client::manifest::is_manifest(&data.workload) {
                match channel::node_status(ctx, &job, &data) {
                    Ok(status) => {
                        view.node_state = Some(if status.waiting_for.is_empty() {
                            status.state
                        } else {
                            format!("{} for {}", status.state, status.waiting_for.join(", "))
                        });
                        view.services = status.health;
                    }
                    Err(err) => view.node_state = Some(format!("not reachable: {err}")),
                }
            }
            ctx.print(&view)
        }
        JobCommand::List { mine, status } => {
            if status == Some(StatusArg::Closed) {
                return Err(CliError::input(
                    "a closed job has no account left to list: `gpu-market job show <JOB>` tells how one ended",
                ));
            }
            // Only --mine needs to know who you are.
            let me = if mine { Some(ctx.me()?) } else { None };
            let mut jobs = ctx
                .chain
                .fetch_all::<Job>(&gpu_market_client::program_ids::job_escrow())?;
            jobs.retain(|(_, j)| {
                me.is_none_or(|me| j.client == me)
                    && status.is_none_or(|s| s.status() == Some(j.status))
            });
            jobs.sort_by_key(|(a, j)| (j.created_at, *a));
            let mut views = Vec::new();
            for (address, job) in &jobs {
                let (decimals, _) = ctx.mint(&job.payment_mint)?;
                views.push(JobView::new(*address, job, decimals));
            }
            ctx.print(&JobList(views))
        }
        JobCommand::Watch {
            job,
            until,
            interval,
        } => watch(ctx, job, until, interval),
        JobCommand::Bid {
            job,
            price,
            authority,
        } => {
            let data = fetch_job(ctx, &job)?;
            if data.mode != JobMode::Auction {
                return Err(CliError::input(
                    "this job is not an auction: providers take instant jobs through `provider serve`",
                ));
            }
            let (decimals, _) = ctx.mint(&data.payment_mint)?;
            let price = price.to_base_units(decimals).map_err(CliError::Input)?;
            let me = ctx.me()?;
            let authority = authority.unwrap_or(me);
            let ix = escrow::place_bid(&me, &authority, &job, price);
            let sent = ctx.send(&[ix], &[])?;
            ctx.report(sent, receipt("bid on", job, None))
        }
        JobCommand::Approve { job } => {
            let data = fetch_job(ctx, &job)?;
            require_client(ctx, &data, "approve")?;
            let (_, program) = ctx.mint(&data.payment_mint)?;
            let (keys, mut ixs) = settle_keys(ctx, &data, program)?;
            ixs.push(escrow::approve_result(&keys));
            let sent = ctx.send(&ixs, &[])?;
            ctx.report(sent, receipt("approved and settled", job, None))
        }
        JobCommand::Dispute { job } => {
            let data = fetch_job(ctx, &job)?;
            require_client(ctx, &data, "dispute")?;
            let (_, program) = ctx.mint(&data.payment_mint)?;
            let ix = escrow::dispute_result(&ctx.me()?, data.job_id, &data.payment_mint, &program);
            let sent = ctx.send(&[ix], &[])?;
            ctx.report(sent, receipt("disputed", job, None))
        }
        JobCommand::Reveal { job, known_answer } => {
            let data = fetch_job(ctx, &job)?;
            require_client(ctx, &data, "reveal the known answer of")?;
            let salt = crate::verify::job_salt(ctx.signer()?, data.job_id);
            if escrow::canary_commitment(&known_answer.0, &salt) != data.verification {
                return Err(CliError::input(
                    "this answer does not open the job's commitment: it was submitted with another --known-answer, or without one (canaries of `verify canary` are checked by it)",
                ));
            }
            let Some(result) = data
                .result
                .as_ref()
                .filter(|_| data.status == JobStatus::ResultSubmitted)
            else {
                return Err(CliError::input(format!(
                    "the job is {}: a known answer is revealed while a result waits in its challenge window",
                    status_name(data.status)
                )));
            };
            let window_ends = result
                .submitted_at
                .saturating_add(data.terms.challenge_window);
            if ctx.chain.now()? >= window_ends {
                return Err(CliError::input(format!(
                    "the challenge window closed at {}: the result can no longer be revealed, and anyone may finalize the job",
                    date(window_ends)
                )));
            }
            if result.hash == known_answer.0 {
                return Err(CliError::input(format!(
                    "the result matches the known answer: nothing to reveal (approve it with `gpu-market job approve {job}`)"
                )));
            }
            let (_, program) = ctx.mint(&data.payment_mint)?;
            let (slash, staking_treasury) = staking_slash_keys(ctx)?;
            let (keys, mut ixs) = settle_keys(ctx, &data, program)?;
            ixs.push(escrow::reveal_canary(
                &keys,
                &slash,
                &staking_treasury,
                known_answer.0,
                salt,
            ));
            let sent = ctx.send(&ixs, &[])?;
            ctx.report(sent, receipt("revealed the known answer of", job, None))
        }
        JobCommand::Extend { job, by } => {
            let data = fetch_job(ctx, &job)?;
            require_client(ctx, &data, "extend")?;
            if data.assignment.is_some() {
                return Err(CliError::input(
                    "a provider holds this job: extending it needs its operator's signature \
                     as well, so agree the extension with the provider, or extend before it is \
                     taken",
                ));
            }
            let (decimals, program) = ctx.mint(&data.payment_mint)?;
            let extra = job_escrow::math::max_cost(
                data.max_price_per_gpu_hour,
                data.requirements.gpu_count,
                u64::try_from(by.seconds).unwrap_or(0),
            )
            .map_err(|_| {
                CliError::input("the extension costs more than a token amount can hold")
            })?;
            let ix = escrow::extend_job(
                &ctx.me()?,
                data.job_id,
                &data.payment_mint,
                &program,
                by.seconds,
                None,
            );
            let sent = ctx.send(&[ix], &[])?;
            ctx.report(
                sent,
                receipt("extended", job, Some(format_amount(extra, decimals))),
            )
        }
        JobCommand::Close { job } => {
            let data = fetch_job(ctx, &job)?;
            require_client(ctx, &data, "close")?;
            if data.kind != JobKind::Lease {
                return Err(CliError::input(
                    "only leases can be closed early; a batch job ends with its result (approve or dispute it)",
                ));
            }
            let (_, program) = ctx.mint(&data.payment_mint)?;
            let (keys, mut ixs) = settle_keys(ctx, &data, program)?;
            ixs.push(escrow::close_lease(&keys));
            let sent = ctx.send(&ixs, &[])?;
            ctx.report(sent, receipt("closed and settled", job, None))
        }
        JobCommand::Upload(args) => {
            let prepared = channel::prepare(&args.manifest, &args.inputs)?;
            let secrets = channel::read_secrets(&args.secrets, &prepared.manifest)?;
            let data = fetch_job(ctx, &args.job)?;
            require_client(ctx, &data, "upload to")?;
            let Some(data) = channel::wait_for(ctx, &args.job, StdDuration::from_secs(2), |j| {
                j.assignment.is_some()
            })?
            else {
                return Err(CliError::input(format!(
                    "job {} was closed before a node took it",
                    args.job
                )));
            };
            let uploaded = channel::upload(ctx, &args.job, &data, &prepared, &secrets)?;
            ctx.print(&uploaded)
        }
        JobCommand::Logs { job, follow } => {
            let data = fetch_job(ctx, &job)?;
            require_client(ctx, &data, "read the logs of")?;
            let mut out = std::mem::replace(&mut ctx.out, Box::new(std::io::sink()));
            let written = channel::logs(ctx, &job, &data, follow, &mut out);
            ctx.out = out;
            written.map(drop)
        }
        JobCommand::Endpoint { job, port, valid } => {
            let data = fetch_job(ctx, &job)?;
            require_client(ctx, &data, "reach the service of")?;
            if data.status != JobStatus::Running {
                return Err(CliError::input(format!(
                    "job {job} is {}: a service is reached only while its job runs",
                    status_name(data.status)
                )));
            }
            let endpoint = channel::endpoint(ctx, &job, &data, port, valid.seconds)?;
            ctx.print(&endpoint)
        }
        JobCommand::Results { job, out } => {
            let data = fetch_job(ctx, &job)?;
            require_client(ctx, &data, "download the result of")?;
            let downloaded = channel::download(ctx, &job, &data, &out)?;
            ctx.print(&downloaded)
        }
        JobCommand::Cancel { job } => {
            let data = fetch_job(ctx, &job)?;
            require_client(ctx, &data, "cancel")?;
            let (_, program) = ctx.mint(&data.payment_mint)?;
            let mut ix = escrow::cancel_job(&ctx.me()?, data.job_id, &data.payment_mint, &program);
            if data.is_replica() {
                let group: escrow::ReplicaGroup = ctx.chain.fetch(&data.replica_group)?;
                if group.is_complete() {
                    return Err(CliError::input(format!(
                        "job {job} is a replica of a complete group ({}): it stays open for providers while one may take it, and is reclaimable after that",
                        data.replica_group
                    )));
                }
                ix = escrow::with_group(ix, &data.replica_group);
                if group.slots.len() == 1 {
                    // The group's last replica: the group closes with it, its rent back.
                    let close =
                        escrow::close_replica_group(&ctx.me()?, &data.client, group.group_id, &[]);
                    let sent = ctx.send(&[ix, close], &[])?;
                    return ctx
                        .report(sent, receipt("cancelled (and closed its group)", job, None));
                }
            }
            let sent = ctx.send(&[ix], &[])?;
            ctx.report(sent, receipt("cancelled", job, None))
        }
        JobCommand::CloseGroup { group: address } => {
            let group: escrow::ReplicaGroup = ctx.chain.fetch(&address)?;
            let ix = group_closing(ctx, &group, &Pubkey::default())?
                .map_err(|why| CliError::input(format!("replica group {address} {why}")))?;
            let sent = ctx.send(&[ix], &[])?;
            ctx.report(sent, |outcome| GroupClosed {
                group: address.to_string(),
                client: group.client.to_string(),
                signature: outcome.signature.to_string(),
            })
        }
        JobCommand::Settle { job } => {
            let data = fetch_job(ctx, &job)?;
            if !data.is_replica() {
                return Err(CliError::input(format!(
                    "job {job} is not a replica: its client approves it (`job approve`), or anyone finalizes it once its challenge window has passed"
                )));
            }
            if data.status != JobStatus::ResultSubmitted {
                return Err(CliError::input(format!(
                    "replica {job} is {}: only a committed replica settles by its group (one that never committed is expired, or reclaimed)",
                    status_name(data.status)
                )));
            }
            let group: escrow::ReplicaGroup = ctx.chain.fetch(&data.replica_group)?;
            if !group.is_decided(ctx.chain.now()?) {
                return Err(CliError::input(format!(
                    "the group's reveals are not final yet: wait until every replica has revealed, or until {} (the reveal deadline)",
                    date(group.reveal_deadline)
                )));
            }
            let (_, program) = ctx.mint(&data.payment_mint)?;
            let (slash, staking_treasury) = staking_slash_keys(ctx)?;
            let (keys, mut ixs) = settle_keys(ctx, &data, program)?;
            ixs.push(escrow::settle_replica(
                &keys,
                &slash,
                &staking_treasury,
                &data.replica_group,
            ));
            // The last replica job of the group to close: the group closes with it, its
            // rent back.
            let close = group_closing(ctx, &group, &job)?;
            let done = if close.is_ok() {
                "settled replica (and closed its group)"
            } else {
                "settled replica"
            };
            ixs.extend(close.ok());
            let sent = ctx.send(&ixs, &[])?;
            ctx.report(sent, receipt(done, job, None))
        }
    }
}

/// A replica group closed by `job close-group`.
#[derive(Debug, Serialize)]
pub struct GroupClosed {
    pub group: String,
    pub client: String,
    pub signature: String,
}

impl fmt::Display for GroupClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "closed replica group {} (its rent back to {})\nsignature {}",
            self.group, self.client, self.signature
        )
    }
}

/// What `job submit --replicas` posted.
#[derive(Debug, Serialize)]
pub struct ReplicaReceipt {
    pub group: String,
    pub jobs: Vec<String>,
    pub commit_deadline: i64,
    pub reveal_deadline: i64,
    /// Escrowed in all.
    pub amount: String,
    pub signatures: Vec<String>,
}

impl fmt::Display for ReplicaReceipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "submitted replica group {} ({} escrowed): {} replicas, commits by {}, reveals by {}",
            self.group,
            self.amount,
            self.jobs.len(),
            date(self.commit_deadline),
            date(self.reveal_deadline)
        )?;
        for job in &self.jobs {
            writeln!(f, "replica {job}")?;
        }
        write!(
            f,
            "each settles by the majority once the reveals are final: `gpu-market job settle <REPLICA>`"
        )
    }
}

/// Seconds `job submit --replicas` leaves, beyond a run and the match window, for the
/// replicas to be posted and taken.
const REPLICA_TAKE_ROOM: i64 = 120;

/// Opens the replica group `spec.job_id` and creates its `replicas` replicas of `spec`
/// (job ids from `spec.job_id` on), each with a random verification commitment; one
/// transaction each; `amount` is what they escrow in all, as shown. The commit deadline is
/// `commit_within` from now, or twice the start timeout and the duration, within what the
/// market allows.
fn submit_replicas<C: Chain>(
    ctx: &mut Context<C>,
    config: &escrow::MarketConfig,
    spec: CreateJobArgs,
    replicas: u8,
    commit_within: Option<Duration>,
    mint: &Pubkey,
    amount: String,
) -> Result<ReplicaReceipt, CliError> {
    let me = ctx.me()?;
    let (_, program) = ctx.mint(mint)?;
    let now = ctx.chain.now()?;
    let run = config.start_timeout.saturating_add(spec.max_duration);
    // The reveal deadline (commit deadline plus challenge window) at most the longest a
    // job may live away.
    let furthest = config
        .job_lifetime()
        .map_err(|_| CliError::input("the market's job lifetime overflows"))?
        .saturating_sub(config.challenge_window);
    if spec.max_duration <= 0 || spec.max_duration > config.max_job_duration {
        return Err(CliError::input(format!(
            "--duration must be more than 0 and at most the market's longest job ({} s)",
            config.max_job_duration
        )));
    }
    if spec.max_price_per_gpu_hour == 0 || !config.allows(mint) {
        return Err(CliError::input(
            "--max-price must be above 0, in a mint the market allows",
        ));
    }
    // Room for a whole run after the providers may take a replica: the match window, the
    // agents' spread and the posting itself.
    let least = run
        .saturating_add(config.match_window)
        .saturating_add(REPLICA_TAKE_ROOM);
    let within = match commit_within {
        Some(d) => d.seconds,
        None => run.saturating_mul(2).max(least).min(furthest),
    };
    if within < least {
        return Err(CliError::input(format!(
            "the commit deadline must leave room for providers to take the replicas and for a whole run: at least {least} s from now (the start timeout and the duration, the match window and {REPLICA_TAKE_ROOM} s){}",
            if commit_within.is_none() { format!("; this market's reveals must end within {furthest} s, so the job is too long to replicate") } else { String::new() }
        )));
    }
    if within > furthest {
        return Err(CliError::input(format!(
            "--commit-within may be at most {furthest} s in this market (the reveals must end within the longest a job may live)"
        )));
    }
    let group_id = spec.job_id;
    let ids: Vec<u64> = (0..u64::from(replicas))
        .map(|i| group_id.checked_add(i))
        .collect::<Option<_>>()
        .ok_or_else(|| CliError::input("--job-id is too large for the replicas' ids"))?;
    let group = pda::replica_group(&me, group_id);
    if ctx.chain.exists(&group)? {
        return Err(CliError::input(format!(
            "you already have replica group {group_id} ({group}): choose another --job-id"
        )));
    }
    for id in &ids {
        let address = pda::job(&me, *id);
        if ctx.chain.exists(&address)? {
            return Err(CliError::input(format!(
                "you already have job {id} ({address}): choose another --job-id"
            )));
        }
    }
    let commit_deadline = now.saturating_add(within);
    let mut signatures = Vec::new();
    let open = escrow::create_replica_group(&me, group_id, replicas, commit_deadline);
    signatures.extend(ctx.send(&[open], &[])?.map(|out| out.signature.to_string()));
    let mut jobs = Vec::new();
    for id in ids {
        let args = CreateJobArgs {
            job_id: id,
            verification: escrow::random_commitment(),
            ..spec.clone()
        };
        let ix = escrow::create_replica(&me, mint, &program, args, &group);
        let sent = ctx.send(&[ix], &[]).map_err(|err| {
            CliError::input(if jobs.is_empty() {
                format!(
                    "replica {id} was not created ({err}); the group {group} holds no replica: `gpu-market job close-group {group}` returns its rent"
                )
            } else {
                format!(
                    "replica {id} was not created ({err}); the group {group} is incomplete (replicas created: {}): `gpu-market job cancel` each of them (the last cancel closes the group)",
                    jobs.join(", ")
                )
            })
        })?;
        signatures.extend(sent.map(|out| out.signature.to_string()));
        jobs.push(pda::job(&me, id).to_string());
    }
    Ok(ReplicaReceipt {
        group: group.to_string(),
        jobs,
        commit_deadline,
        reveal_deadline: commit_deadline.saturating_add(config.challenge_window),
        amount,
        signatures,
    })
}

fn submit<C: Chain>(ctx: &mut Context<C>, args: SubmitArgs) -> Result<(), CliError> {
    let me = ctx.me()?;
    let requirements = requirements(&args)?;
    if args.wait && ctx.dry_run {
        return Err(CliError::input(
            "--wait sends nothing in a dry run: drop one of --wait and --dry-run",
        ));
    }
    let prepared = args
        .manifest
        .as_deref()
        .map(|path| channel::prepare(path, &args.inputs))
        .transpose()?;
    let secrets = match &prepared {
        Some(prepared) => channel::read_secrets(&args.secrets, &prepared.manifest)?,
        None if !args.secrets.secrets.is_empty() || args.secrets.secret_file.is_some() => {
            return Err(CliError::input(
                "secrets go with a manifest job: give --manifest, whose `secrets` names them",
            ))
        }
        None => Default::default(),
    };
    let workload =
        match (&prepared, &args.image, &args.digest, &args.command) {
            (Some(prepared), ..) => prepared.manifest.workload(),
            (None, Some(image), Some(digest), _) => {
                // Refused before anything is escrowed: no provider would run it.
                gpu_market_client::manifest::check_image(image).map_err(|e| {
                    let reason = match e {
                        gpu_market_client::manifest::ManifestError::Invalid(reason) => {
                            reason.replace("as `digest`", "with --digest")
                        }
                        other => other.to_string(),
                    };
                    CliError::input(format!(
                        "--image {image:?} cannot run on any node: {reason}"
                    ))
                })?;
                oci_workload(image, digest.0)
            }
            (None, None, _, Some(command)) => process_workload(command),
            _ => return Err(CliError::input(
                "give the workload as --manifest job.toml, or --image with --digest, or --command",
            )),
        };
    if workload.uri.len() > job_escrow::constants::MAX_URI_LEN {
        return Err(CliError::input(format!(
            "the workload reference is {} bytes; at most {} fit on chain",
            workload.uri.len(),
            job_escrow::constants::MAX_URI_LEN
        )));
    }
    let mint = ctx.payment_mint(args.payment_mint)?;
    let (decimals, program) = ctx.mint(&mint)?;
    let max_price = args
        .max_price
        .to_base_units(decimals)
        .map_err(CliError::Input)?;
    let config = ctx.market_config()?;
    let budget = job_escrow::math::max_cost(
        max_price,
        args.gpus,
        u64::try_from(args.duration.seconds).unwrap_or(0),
    )
    .map_err(|_| CliError::input("the job's maximum cost is more than a token amount can hold"))?;
    // The program escrows a crank tip for each attempt the job may take.
    let tips = config
        .crank_tip
        .saturating_mul(u64::from(config.max_attempts));
    let copies = u64::from(args.replicas.unwrap_or(1));
    let deposit = budget.saturating_add(tips).saturating_mul(copies);
    let source = token::associated_address(&me, &mint, &program);
    let held = if ctx.chain.exists(&source)? {
        token::balance(&mut ctx.chain, &source)?
    } else {
        0
    };
    if held < deposit {
        return Err(CliError::input(format!(
            "the job escrows {} ({}max price x GPUs x duration, plus a {} crank tip for each of its {} attempts) but your token account {source} holds {}",
            format_amount(deposit, decimals),
            if copies > 1 { format!("{copies} replicas x ") } else { String::new() },
            format_amount(config.crank_tip, decimals),
            config.max_attempts,
            format_amount(held, decimals)
        )));
    }
    let job_id = match args.job_id {
        Some(id) => id,
        None => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0);
            u64::try_from(now).unwrap_or(0)
        }
    };
    if let Some(replicas) = args.replicas {
        let spec = CreateJobArgs {
            job_id,
            requirements,
            workload,
            kind: JobKind::Batch,
            mode: JobMode::Instant,
            max_price_per_gpu_hour: max_price,
            max_duration: args.duration.seconds,
            verification: [0; 32],
        };
        let amount = format_amount(deposit, decimals);
        let receipt = submit_replicas(
            ctx,
            &config,
            spec,
            replicas,
            args.commit_within,
            &mint,
            amount,
        )?;
        if ctx.dry_run {
            return Ok(());
        }
        return ctx.print(&receipt);
    }
    let address = pda::job(&me, job_id);
    // A known-answer job's commitment is fixed by the answer and the job id: on an id used
    // before it would repeat, and show.
    if args.known_answer.is_some() && !ctx.chain.signatures(&address, 1)?.is_empty() {
        return Err(CliError::input(format!(
            "job id {job_id} was used before: a known-answer job needs an id never used (its commitment would repeat the earlier one's)"
        )));
    }
    if ctx.chain.exists(&address)? {
        return Err(CliError::input(format!(
            "you already have job {job_id} ({address}): choose another --job-id"
        )));
    }
    let ix = escrow::create_job(
        &me,
        &mint,
        &program,
        CreateJobArgs {
            job_id,
            requirements,
            workload,
            kind: if args.lease {
                JobKind::Lease
            } else {
                JobKind::Batch
            },
            mode: if args.auction {
                JobMode::Auction
            } else {
                JobMode::Instant
            },
            max_price_per_gpu_hour: max_price,
            max_duration: args.duration.seconds,
            verification: match args.known_answer {
                Some(answer) => escrow::canary_commitment(
                    &answer.0,
                    &crate::verify::job_salt(ctx.signer()?, job_id),
                ),
                None => escrow::random_commitment(),
            },
        },
    );
    let sent = ctx.send(&[ix], &[])?;
    ctx.report(sent, |outcome| JobReceipt {
        done: "submitted",
        job: address.to_string(),
        signature: outcome.signature.to_string(),
        amount: Some(format_amount(deposit, decimals)),
    })?;
    if !args.wait {
        if prepared.is_some() {
            eprintln!(
                "once a node takes it, upload the job's files with: gpu-market job upload {address} --manifest {}{}",
                args.manifest.as_deref().map(|p| p.display().to_string()).unwrap_or_default(),
                if secrets.is_empty() { "" } else { " and its --secret values" }
            );
        }
        return Ok(());
    }
    let interval = args.interval.std();
    let Some(job) = channel::wait_for(ctx, &address, interval, |job| job.assignment.is_some())?
    else {
        return Err(CliError::input(format!(
            "job {address} was closed before a node took it"
        )));
    };
    if let Some(prepared) = &prepared {
        let uploaded = channel::upload(ctx, &address, &job, prepared, &secrets)?;
        ctx.print(&uploaded)?;
    }
    if args.follow {
        let mut stderr = std::io::stderr();
        channel::logs(ctx, &address, &job, true, &mut stderr)?;
    }
    let done = |job: &Job| match job.kind {
        JobKind::Batch => {
            matches!(job.status, JobStatus::ResultSubmitted | JobStatus::Disputed)
                || job.assignment.is_none()
        }
        JobKind::Lease => job.status == JobStatus::Running || job.assignment.is_none(),
    };
    let Some(job) = channel::wait_for(ctx, &address, interval, done)? else {
        return print_ending(ctx, &address, CLOSING_PATIENCE);
    };
    if job.assignment.is_none() {
        return Err(CliError::input(format!(
            "job {address} went back to {} (its node failed it); it waits for another node: run `gpu-market job upload {address}` once one takes it",
            status_name(job.status)
        )));
    }
    if let Some(dir) = &args.download {
        let downloaded = channel::download(ctx, &address, &job, dir)?;
        ctx.print(&downloaded)?;
    }
    let serves = prepared
        .as_ref()
        .is_some_and(|p| !p.manifest.ports.is_empty());
    if job.kind == JobKind::Lease && serves {
        let endpoint = channel::endpoint(ctx, &address, &job, None, DEFAULT_TOKEN_VALIDITY)?;
        ctx.print(&endpoint)?;
    }
    if let Some(deadline) = challenge_ends_at(&job) {
        let matches = |answer: &Digest| job.result.as_ref().map(|r| r.hash) == Some(answer.0);
        match &args.known_answer {
            Some(answer) if !matches(answer) => eprintln!(
                "the result differs from your known answer: reveal it with `gpu-market job reveal {address} --known-answer {}` before {}",
                gpu_market_client::hex::encode(&answer.0),
                date(deadline)
            ),
            Some(_) => eprintln!(
                "the result matches your known answer: approve it with `gpu-market job approve {address}`"
            ),
            None => eprintln!(
                "approve the result with `gpu-market job approve {address}`, or dispute it with `gpu-market job dispute {address}` before {}",
                date(deadline)
            ),
        }
    }
    Ok(())
}

/// Until when the client may approve or dispute a submitted result.
fn challenge_ends_at(job: &Job) -> Option<i64> {
    match (&job.result, job.status) {
        (Some(result), JobStatus::ResultSubmitted) => Some(
            result
                .submitted_at
                .saturating_add(job.terms.challenge_window),
        ),
        _ => None,
    }
}

/// Where `job watch` stopped while the job is still open.
#[derive(Debug, Serialize)]
pub struct WatchEnd {
    pub job: String,
    pub status: String,
    /// What the client must do now, when anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Until when it can.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
}

impl fmt::Display for WatchEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job {}: {}", self.job, self.status)?;
        if let (Some(action), Some(deadline)) = (&self.action, &self.deadline) {
            write!(f, "\n{action} before {deadline}")?;
        }
        Ok(())
    }
}

/// How far back a closed job's history is read: every transaction of a week-long lease.
pub(crate) const HISTORY_LIMIT: usize = 100_000;

/// How a job ended, from the transaction that closed its account.
#[derive(Debug, Serialize)]
pub struct JobEnding {
    pub job: String,
    /// approved, finalized, lease-closed, lease-ended, dispute-rejected,
    /// dispute-timed-out, dispute-upheld, canary-failed, replicas-agreed, replica-dissented,
    /// replica-unrevealed, replica-inconclusive, refunded, cancelled or reclaimed.
    pub ended: &'static str,
    /// The same, in words.
    pub how: String,
    /// When the closing transaction landed.
    pub at: Option<String>,
    pub signature: String,
    /// The provider account of the node that held it last, when one did.
    pub provider: Option<String>,
    /// Paid to the provider by the closing transaction (a lease's earlier withdrawals
    /// not included), in the payment mint.
    pub to_provider: Option<String>,
    pub fee: Option<String>,
    /// The client's dispute bond, paid to the provider.
    pub bond_to_provider: Option<String>,
    pub refund: String,
    /// The crank tip paid to whoever closed it (expiries and reclaims).
    pub tip: Option<String>,
    /// Stake taken from the provider (what the staking program slashed, which may be less
    /// than the fault's amount), in the stake mint.
    pub slashed: Option<String>,
}

impl fmt::Display for JobEnding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job {} ended: {}", self.job, self.how)?;
        if let Some(at) = &self.at {
            write!(f, " at {at}")?;
        }
        if let (Some(provider), Some(paid)) = (&self.provider, &self.to_provider) {
            write!(f, "\nprovider  {provider} paid {paid}")?;
            if let Some(fee) = &self.fee {
                write!(f, " (protocol fee {fee})")?;
            }
            if let Some(bond) = &self.bond_to_provider {
                write!(f, ", and the client's dispute bond {bond}")?;
            }
        }
        if let Some(slashed) = &self.slashed {
            write!(f, "\nslashed   {slashed} stake tokens of the provider")?;
        }
        write!(f, "\nrefunded  {} to the client", self.refund)?;
        if let Some(tip) = &self.tip {
            write!(f, "\ntip       {tip} to whoever closed it")?;
        }
        write!(f, "\nsignature {}", self.signature)
    }
}

/// What the closing transaction's events say, in base units.
pub struct Closed {
    pub ended: &'static str,
    pub how: String,
    pub provider: Option<Pubkey>,
    pub to_provider: Option<u64>,
    /// Protocol fee the treasury received in this transaction (a lease's withdrawal fees
    /// held until its end included).
    pub fee: Option<u64>,
    pub bond_to_provider: Option<u64>,
    pub refund: u64,
    pub tip: Option<u64>,
    /// Stake the staking program took from the job's provider in this transaction.
    pub slashed: Option<u64>,
}

impl Closed {
    /// The end of job `address` in `tx`, if `tx` closed it.
    pub fn from_tx(tx: &TxOutcome, address: &Pubkey) -> Option<Self> {
        use job_escrow::events::{
            CanaryRevealed, DisputeResolved, JobCancelled, JobExpired, JobReclaimed, JobSettled,
            ReplicaSettled, ReplicaVerdict, SettleReason,
        };
        let none = |ended, how: &str, refund| Closed {
            ended,
            how: how.to_string(),
            provider: None,
            to_provider: None,
            fee: None,
            bond_to_provider: None,
            refund,
            tip: None,
            slashed: None,
        };
        // One job closes per transaction the agent and keeper send; a slash in it is its
        // provider's (the staking program's own event says what was taken).
        let slash = tx
            .events::<staking::events::StakeSlashed>()
            .into_iter()
            .next();
        let slashed = slash.as_ref().map(|s| s.slashed);
        let slashed_provider = slash.map(|s| pda::provider(&s.owner));
        if let Some(e) = tx
            .events::<JobSettled>()
            .into_iter()
            .find(|e| e.job == *address)
        {
            let (ended, how) = match e.reason {
                SettleReason::Approved => ("approved", "its client approved the result"),
                SettleReason::ChallengeWindowPassed => (
                    "finalized",
                    "finalized: nobody disputed the result within the challenge window",
                ),
                SettleReason::LeaseClosed => ("lease-closed", "its client ended the lease"),
                SettleReason::LeaseEnded => ("lease-ended", "the lease ran to its end"),
                SettleReason::DisputeRejected => (
                    "dispute-rejected",
                    "the arbiter rejected the dispute: the provider is paid and receives the client's bond",
                ),
                SettleReason::DisputeTimedOut => (
                    "dispute-timed-out",
                    "the arbiter did not rule in time: the provider is paid and receives the client's bond",
                ),
                SettleReason::ReplicasAgreed => (
                    "replicas-agreed",
                    "its result is its replica group's majority: the provider is paid",
                ),
            };
            return Some(Closed {
                provider: Some(e.provider),
                to_provider: Some(e.to_provider),
                fee: Some(e.fee.saturating_add(e.fees_released)),
                bond_to_provider: (e.bond_to_provider > 0).then_some(e.bond_to_provider),
                ..none(ended, how, e.refund)
            });
        }
        if let Some(e) = tx
            .events::<DisputeResolved>()
            .into_iter()
            .find(|e| e.job == *address && e.for_client)
        {
            return Some(Closed {
                provider: slashed_provider,
                slashed,
                ..none(
                    "dispute-upheld",
                    "the arbiter upheld the dispute: the client is refunded",
                    e.refund,
                )
            });
        }
        if let Some(e) = tx
            .events::<ReplicaSettled>()
            .into_iter()
            .find(|e| e.job == *address && e.verdict != ReplicaVerdict::Agreed)
        {
            let (ended, how) = match e.verdict {
                ReplicaVerdict::Dissented => (
                    "replica-dissented",
                    "its result differed from its replica group's majority: the provider is slashed and the client refunded",
                ),
                ReplicaVerdict::Unrevealed => (
                    "replica-unrevealed",
                    "its provider never revealed its committed result: the provider is slashed and the client refunded",
                ),
                _ => (
                    "replica-inconclusive",
                    "its replica group reached no majority: the client is refunded and nobody is paid",
                ),
            };
            return Some(Closed {
                provider: Some(e.provider),
                slashed,
                ..none(ended, how, e.refund)
            });
        }
        if let Some(e) = tx
            .events::<CanaryRevealed>()
            .into_iter()
            .find(|e| e.job == *address && !e.passed)
        {
            return Some(Closed {
                provider: Some(e.provider),
                slashed,
                ..none(
                    "canary-failed",
                    "its result differed from the known answer its client committed to: the provider is slashed and the client refunded",
                    e.refund,
                )
            });
        }
        if let Some(e) = tx
            .events::<JobExpired>()
            .into_iter()
            .find(|e| e.job == *address && !e.requeued)
        {
            return Some(Closed {
                provider: Some(e.provider),
                to_provider: Some(e.to_provider),
                fee: Some(e.fee.saturating_add(e.fees_released)),
                tip: Some(e.tip),
                slashed,
                ..none(
                    "refunded",
                    &format!(
                        "refunded after {} failed attempt(s) (the last: {:?})",
                        e.attempts, e.reason
                    ),
                    e.refund,
                )
            });
        }
        if let Some(e) = tx
            .events::<JobCancelled>()
            .into_iter()
            .find(|e| e.job == *address)
        {
            return Some(none("cancelled", "its client cancelled it", e.refunded));
        }
        if let Some(e) = tx
            .events::<JobReclaimed>()
            .into_iter()
            .find(|e| e.job == *address)
        {
            return Some(Closed {
                tip: Some(e.tip),
                ..none(
                    "reclaimed",
                    "reclaimed: no node took it in time, the client is refunded",
                    e.refund,
                )
            });
        }
        None
    }
}

/// What the cluster's history says of a job whose account is gone.
pub enum History {
    /// How it ended.
    Ended(Box<JobEnding>),
    /// Transactions of it, but not (yet) the one that closed it.
    Unclosed,
    /// No transaction at all.
    Empty,
}

/// How job `address`, whose account is gone, ended: read from the cluster's transaction
/// history (the newest transaction that closed it; amounts in the payment mint of the one
/// that created it, slashes in the stake mint).
pub fn ending(chain: &mut impl Chain, address: &Pubkey) -> Result<History, CliError> {
    let signatures = chain.signatures(address, HISTORY_LIMIT)?;
    if signatures.is_empty() {
        return Ok(History::Empty);
    }
    let mut found = None;
    for past in signatures.iter().filter(|s| !s.failed) {
        if let Some(tx) = chain.transaction(&past.signature)? {
            if let Some(closed) = Closed::from_tx(&tx, address) {
                found = Some((closed, past));
                break;
            }
        }
    }
    let Some((closed, past)) = found else {
        return Ok(History::Unclosed);
    };
    let created = match signatures.last() {
        Some(first) => chain.transaction(&first.signature)?.and_then(|tx| {
            tx.events::<job_escrow::events::JobCreated>()
                .into_iter()
                .find(|e| e.job == *address)
        }),
        None => None,
    };
    let decimals = |chain: &mut _, mint: Option<Pubkey>| -> Result<Option<u8>, CliError> {
        Ok(match mint {
            Some(mint) => Some(token::read_mint(chain, &mint)?.decimals),
            None => None,
        })
    };
    let payment = decimals(chain, created.map(|c| c.payment_mint))?;
    let stake_mint = match closed.slashed {
        Some(_) => chain
            .fetch::<gpu_market_client::staking::StakingConfig>(&pda::staking_config())
            .ok()
            .map(|config| config.stake_mint),
        None => None,
    };
    let stake = decimals(chain, stake_mint)?;
    let amount = |v: u64, decimals: Option<u8>| match decimals {
        Some(decimals) => format_amount(v, decimals),
        None => format!("{v} base units"),
    };
    Ok(History::Ended(Box::new(JobEnding {
        job: address.to_string(),
        ended: closed.ended,
        how: closed.how,
        at: past.block_time.map(date),
        signature: past.signature.to_string(),
        provider: closed.provider.map(|p| p.to_string()),
        to_provider: closed.to_provider.map(|v| amount(v, payment)),
        fee: closed.fee.map(|v| amount(v, payment)),
        bond_to_provider: closed.bond_to_provider.map(|v| amount(v, payment)),
        refund: amount(closed.refund, payment),
        tip: closed.tip.map(|v| amount(v, payment)),
        slashed: closed.slashed.map(|v| amount(v, stake)),
    })))
}

/// Prints how job `address` ended, or says why that cannot be told. `patience`: how long
/// to wait for the closing transaction to reach the node's history (a job just seen
/// closing), zero to look once.
fn print_ending<C: Chain>(
    ctx: &mut Context<C>,
    address: &Pubkey,
    patience: StdDuration,
) -> Result<(), CliError> {
    let deadline = std::time::Instant::now() + patience;
    loop {
        let history = match ending(&mut ctx.chain, address) {
            Ok(history) => history,
            // Still a failure of the cluster, said in the terms of the job.
            Err(CliError::Client(gpu_market_client::ClientError::Backend(why))) => {
                return Err(gpu_market_client::ClientError::Backend(format!(
                    "no job at {address}, and its history cannot be read to tell how it ended: {why}"
                ))
                .into())
            }
            Err(err) => return Err(err),
        };
        match history {
            History::Ended(ending) => return ctx.print(ending.as_ref()),
            _ if std::time::Instant::now() < deadline => {
                std::thread::sleep(StdDuration::from_millis(500));
            }
            History::Unclosed => {
                return Err(CliError::input(format!(
                    "job {address} no longer exists, but the transaction that closed it is not in this node's history yet: try again in a moment"
                )))
            }
            History::Empty => {
                return Err(CliError::input(format!(
                    "no job at {address}, and no transaction in this cluster's history created or closed one there: check the address and --url"
                )))
            }
        }
    }
}

fn watch<C: Chain>(
    ctx: &mut Context<C>,
    address: Pubkey,
    until: Option<StatusArg>,
    interval: Duration,
) -> Result<(), CliError> {
    let first = match ctx.chain.account(&address)? {
        Some(_) => fetch_job(ctx, &address)?,
        // Closed already: how it ended.
        None => return print_ending(ctx, &address, StdDuration::ZERO),
    };
    let bar = if ctx.progress {
        ProgressBar::new(u64::try_from(first.max_duration).unwrap_or(0))
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{msg:30} [{bar:40}] {pos}/{len}s")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut last = None;
    loop {
        let Some(job) = ctx
            .chain
            .account(&address)?
            .map(|_| fetch_job(ctx, &address))
            .transpose()?
        else {
            bar.finish_and_clear();
            // Just seen closing: its closing transaction may still be on its way into
            // the node's history.
            return print_ending(ctx, &address, CLOSING_PATIENCE);
        };
        if last != Some(job.status) {
            if bar.is_hidden() && ctx.format == crate::output::OutputFormat::Text {
                use std::io::Write;
                writeln!(ctx.out, "{}", status_name(job.status))?;
            }
            last = Some(job.status);
        }
        let now = ctx.chain.now()?;
        if job.status == JobStatus::Running {
            bar.set_position(u64::try_from(now.saturating_sub(job.started_at)).unwrap_or(0));
        }
        bar.set_message(status_name(job.status).to_string());
        let reached = until.is_some_and(|u| u.status() == Some(job.status));
        // Without --until, a result waiting for its client's verdict ends the watch.
        let to_act = until.is_none() && job.status == JobStatus::ResultSubmitted;
        if reached || to_act {
            bar.finish_and_clear();
            let deadline = challenge_ends_at(&job).map(date);
            return ctx.print(&WatchEnd {
                job: address.to_string(),
                status: status_name(job.status).into(),
                action: deadline.as_ref().map(|_| {
                    format!(
                        "approve the result with `gpu-market job approve {address}` or dispute it with `gpu-market job dispute {address}`"
                    )
                }),
                deadline,
            });
        }
        std::thread::sleep(interval.std());
    }
}
