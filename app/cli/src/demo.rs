//! `gpu-market demo`: a whole market on an in-process chain, with no set-up.
//!
//! Thirty providers with varied GPUs, regions and prices stake and register; four startups
//! post batch jobs and leases, in instant and auction mode; every provider runs the real
//! agent with the local-process executor and serves the node's job API on loopback, so each
//! job's workload is an actual process. A batch job is a workload manifest: its client
//! uploads the manifest to the node that took the job, the node runs it and submits the
//! SHA-256 of its packed output directory, and the client downloads the result from the node,
//! checks it against the chain before unpacking it, and approves. A keeper runs the market's
//! upkeep. One provider
//! vanishes mid-job: its job expires, its stake is slashed, and the job is re-queued and
//! finished by another provider. A verifier posts known-answer (canary) jobs to three
//! providers; one of them makes its results up instead of running the work, and the
//! verifier's reveal slashes it on chain. The clock runs through a rewards epoch, providers
//! claim their uptime rewards, and the demo ends with a settlement report and a check that
//! no token was created or lost.

use crate::{
    output::QuietStdout,
    output::{table, OutputFormat},
    units::{format_amount, format_duration, format_region, Duration},
    verify::{self, Canary, CanaryView},
    CliError,
};
use clap::Args;
use gpu_market_agent::{
    api::{ApiServer, JobBook, Limits},
    executor::{self, AutoExecutor, ExecError, Executor, Launch, LocalProcessExecutor},
    Agent, AgentConfig, AgentEvent,
};
use gpu_market_client::{
    driver,
    escrow::{self, Job, JobKind, JobMode, JobStatus, SlashAmounts},
    manifest::{self, Manifest, Runner},
    market::MarketSnapshot,
    node_api::{NodeClient, NodeError},
    pda,
    registry::{self, GpuClass, Hardware, Provider, Requirements},
    rewards::{self, EmissionConfig},
    staking as staking_ix, token, Chain, Keypair, Pubkey, Signer,
};
use gpu_market_in_process::InProcessChain;
use indicatif::{ProgressBar, ProgressStyle};
use job_escrow::CreateJobArgs;
use provider_registry::RegisterProviderArgs;
use serde::Serialize;
use std::{
    collections::{HashMap, HashSet},
    fmt,
    io::Write,
    net::TcpListener,
    path::PathBuf,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Instant,
};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of providers, 8 to 200.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u16).range(8..=200))]
    pub providers: u16,
    /// Chain time each round moves the clock, 1s to 1m (a longer step would let live
    /// nodes overrun their heartbeat grace).
    #[arg(long, default_value = "30s", value_parser = parse_step)]
    pub step: Duration,
    /// Seed of the market: its nodes, prices, regions and keys. The same seed gives the
    /// same run, to the base unit.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Where the agents keep job outputs (default: a temporary directory, removed after).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
}

/// `--step`: a duration from 1s to 1m.
fn parse_step(s: &str) -> Result<Duration, String> {
    let step: Duration = s.parse()?;
    if step.seconds > 60 {
        return Err(format!(
            "{step} is longer than 1m: live nodes would overrun their heartbeat grace"
        ));
    }
    Ok(step)
}

/// The global options that address a cluster: the demo runs a chain of its own, so its
/// help hides them and [`refuse_cluster_options`] refuses them.
pub const CLUSTER_OPTIONS: [&str; 4] = ["url", "keypair", "commitment", "dry_run"];

/// Hides [`CLUSTER_OPTIONS`] from `demo --help`: the demo gets hidden copies of them,
/// which the global ones then do not replace.
pub fn hide_cluster_options(command: clap::Command) -> clap::Command {
    let hidden: Vec<clap::Arg> = command
        .get_arguments()
        .filter(|arg| CLUSTER_OPTIONS.contains(&arg.get_id().as_str()))
        .map(|arg| arg.clone().global(false).hide(true))
        .collect();
    command.mut_subcommand("demo", |demo| demo.args(hidden))
}

/// Refuses a cluster option given on the command line of `demo` (one from the environment,
/// meant for the other commands, is left alone).
pub fn refuse_cluster_options(matches: &clap::ArgMatches) -> Result<(), CliError> {
    use clap::parser::ValueSource;
    let given = |id: &str| {
        matches.value_source(id) == Some(ValueSource::CommandLine)
            || matches
                .subcommand_matches("demo")
                .is_some_and(|demo| demo.value_source(id) == Some(ValueSource::CommandLine))
    };
    if given("dry_run") {
        return Err(CliError::Usage(
            "the demo sends the transactions of a whole market as it runs and cannot honour --dry-run".into(),
        ));
    }
    match CLUSTER_OPTIONS.iter().find(|id| given(id)) {
        Some(id) => Err(CliError::Usage(format!(
            "the demo runs a chain of its own in this process: --{id} does not apply to it"
        ))),
        None => Ok(()),
    }
}

const DECIMALS: u8 = 6;
const TOKEN: u64 = 1_000_000;
const MIN_STAKE_PER_GPU: u64 = 100 * TOKEN;
const HEARTBEAT_INTERVAL: i64 = 300;
const EPOCH_LENGTH: i64 = 3_600;
/// Rounds after which the demo gives up (each round moves the clock `step` seconds).
const MAX_ROUNDS: usize = 1_000;
/// How long a node keeps a finished job's log and result for its client.
const RETENTION: i64 = 7 * 86_400;
/// How long a node waits for a client's uploads before it ends a batch job unrun.
const UPLOAD_TIMEOUT: i64 = 900;
/// Largest result a client downloads.
const MAX_RESULT_BYTES: u64 = 1 << 30;

/// A batch posting's manifest: its shell line runs with its stdout in the output directory.
fn batch_manifest(command: &str) -> Manifest {
    Manifest {
        version: manifest::VERSION,
        runner: Runner::Process {
            command: vec![
                "sh".into(),
                "-c".into(),
                format!("({command}) > \"$GPU_MARKET_OUTPUT_DIR/stdout.txt\""),
            ],
        },
        args: Vec::new(),
        env: Default::default(),
        secrets: Vec::new(),
        output_dir: manifest::DEFAULT_OUTPUT_DIR.into(),
        input_dir: manifest::DEFAULT_INPUT_DIR.into(),
        input: None,
        ports: Vec::new(),
    }
}

/// GPU models on offer: name, class, VRAM (MiB), GPUs per node, base price (in 1/100 of a
/// token per GPU-hour), benchmark.
const CATALOGUE: &[(&str, GpuClass, u32, u16, u64, u32)] = &[
    (
        "NVIDIA GeForce RTX 4090",
        GpuClass::Consumer,
        24_576,
        2,
        40,
        800,
    ),
    (
        "NVIDIA RTX A6000",
        GpuClass::Workstation,
        49_152,
        4,
        75,
        900,
    ),
    ("NVIDIA L40S", GpuClass::Workstation, 49_152, 4, 95, 1_100),
    (
        "NVIDIA A100-SXM4-80GB",
        GpuClass::Datacenter,
        81_920,
        8,
        165,
        1_500,
    ),
    (
        "NVIDIA H100 80GB HBM3",
        GpuClass::Datacenter,
        81_920,
        8,
        240,
        2_400,
    ),
    ("NVIDIA H200", GpuClass::Datacenter, 144_384, 8, 330, 2_900),
];
/// Regions: DE (first), US, FR, JP, SG, NL, SE.
const REGIONS: &[u16] = &[276, 840, 250, 392, 702, 528, 752];
const DE: u16 = 276;

/// One node of the demo.
struct Node {
    keypair: Keypair,
    agent: Option<Agent>,
    /// The node's job API; stops with the node.
    api: Option<ApiServer>,
    label: String,
    /// Reports made-up results for command jobs (see [`MadeUp`]).
    liar: bool,
}

/// The executor of the demo's dishonest node: it runs every workload, but for a command
/// job (`process:`; the demo's batch jobs are manifests, so only the verifier's canaries
/// are commands) it reports a made-up output hash, as a node that skipped the work and
/// invented an answer would.
struct MadeUp {
    inner: AutoExecutor,
    commands: HashSet<Pubkey>,
}

impl Executor for MadeUp {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn supports(&self, workload: &escrow::Workload) -> bool {
        self.inner.supports(workload)
    }

    fn launch(&mut self, job: &Pubkey, launch: &Launch) -> Result<(), ExecError> {
        if launch.workload.uri.starts_with("process:") {
            self.commands.insert(*job);
        }
        self.inner.launch(job, launch)
    }

    fn poll(&mut self, job: &Pubkey) -> Result<executor::Progress, ExecError> {
        Ok(match self.inner.poll(job)? {
            executor::Progress::Finished(mut output) if self.commands.contains(job) => {
                output.sha256 = solana_sha256_hasher::hash(b"an answer nobody computed").to_bytes();
                executor::Progress::Finished(output)
            }
            other => other,
        })
    }

    fn stop(&mut self, job: &Pubkey) -> Result<(), ExecError> {
        self.inner.stop(job)
    }

    fn running(&self) -> Vec<Pubkey> {
        self.inner.running()
    }
}

/// The node that makes its results up, and its benchmark score (above the catalogue's, so
/// that the canary aimed at it is its alone). The other two canaries go to the first nodes
/// after it that differ from it in GPU class or region (so that it cannot take them).
const LIAR: usize = 3;
const LIAR_BENCHMARK: u32 = 9_500;
/// Steps of each canary's generator.
const CANARY_ROUNDS: u32 = 300_000;
const CANARY_NAMES: [&str; 3] = ["canary-1", "canary-2", "canary-3"];

/// One job of the demo: who posts it and what it asks for.
struct Posting {
    name: &'static str,
    client: usize,
    kind: JobKind,
    mode: JobMode,
    class: Option<GpuClass>,
    gpus: u16,
    min_vram_mib: u32,
    region: u16,
    max_price_cents: u64,
    minutes: i64,
    command: &'static str,
}

fn postings() -> Vec<Posting> {
    use GpuClass::*;
    use JobKind::*;
    use JobMode::*;
    let p =
        |name, client, kind, mode, class, gpus, vram_gib: u32, region, cents, minutes, command| {
            Posting {
                name,
                client,
                kind,
                mode,
                class,
                gpus,
                min_vram_mib: vram_gib * 1024,
                region,
                max_price_cents: cents,
                minutes,
                command,
            }
        };
    vec![
        // The first job goes to the cheapest H100 node in Germany: the one that vanishes.
        p("train-resnet", 0, Batch, Instant, Some(Datacenter), 4, 80, DE, 300, 120,
          "awk 'BEGIN{x=0;for(i=0;i<4000000;i++)x+=i%7;print \"loss\",x}'"),
        p("count-primes", 1, Batch, Instant, Some(Consumer), 1, 24, 0, 60, 60,
          "awk 'BEGIN{for(i=2;i<40000;i++){p=1;for(j=2;j*j<=i;j++)if(i%j==0){p=0;break};n+=p};print n}'"),
        p("sort-shards", 2, Batch, Instant, Some(Workstation), 2, 48, 0, 120, 60,
          "seq 300000 -1 1 | sort -n | sha256sum"),
        p("hash-dataset", 3, Batch, Instant, Some(Datacenter), 4, 80, 840, 200, 60,
          "head -c 50000000 /dev/zero | sha256sum"),
        p("render-frames", 0, Batch, Auction, None, 1, 24, 0, 100, 60,
          "seq 1 200000 | awk '{s+=$1*$1} END {print s}'"),
        p("tokenise-corpus", 1, Batch, Auction, None, 2, 40, 0, 200, 60,
          "seq 1 150000 | tr 0-9 a-j | sort | uniq -c | wc -l"),
        p("eval-suite", 2, Batch, Instant, Some(Datacenter), 2, 80, 0, 350, 90,
          "awk 'BEGIN{for(i=1;i<=300000;i++)s+=1/i;printf \"%.6f\\n\",s}'"),
        p("fine-tune", 3, Batch, Auction, Some(Datacenter), 8, 80, 0, 400, 120,
          "seq 1 400000 | sha256sum"),
        p("embed-docs", 0, Batch, Instant, Some(Workstation), 1, 48, 0, 110, 60,
          "seq 1 100000 | md5sum"),
        p("llm-endpoint", 1, Lease, Instant, Some(Datacenter), 2, 80, 0, 300, 30,
          "for i in 1 2 3; do echo serving request $i; sleep 0.1; done"),
        p("sd-endpoint", 2, Lease, Auction, Some(Consumer), 1, 24, 0, 70, 45,
          "for i in 1 2 3; do echo image $i; sleep 0.1; done"),
        p("asr-endpoint", 3, Lease, Instant, Some(Workstation), 1, 48, 0, 120, 40,
          "for i in 1 2 3; do echo transcript $i; sleep 0.1; done"),
    ]
}

/// What the demo reports.
#[derive(Debug, Serialize)]
pub struct DemoReport {
    pub providers: usize,
    /// How each job ended, from the transaction that closed it (amounts in whole payment
    /// tokens).
    pub jobs: Vec<JobRecord>,
    /// The verifier's known-answer jobs and what each found.
    pub canaries: Vec<CanaryView>,
    pub rounds: usize,
    pub chain_seconds: i64,
    pub wall_seconds: f64,
    /// Heartbeats, accepts, bids, starts, launches, submissions, withdrawals, settlements.
    pub agent_actions: usize,
    pub parties: Vec<Party>,
    pub protocol_fees: String,
    pub slashed: String,
    pub slash_to_clients: String,
    pub slash_to_treasury: String,
    pub rewards_minted: String,
    pub keeper_tips: String,
    pub gpu_seconds_delivered: u64,
    pub utilisation_percent: f64,
    pub story: Vec<String>,
    pub conservation: Vec<Check>,
    pub passed: bool,
}

/// One party's balances before and after.
#[derive(Debug, Serialize)]
pub struct Party {
    pub name: String,
    pub role: &'static str,
    /// Payment-token balance change (signed, whole tokens).
    pub payment_change: String,
    /// Stake-token balance change including stake, slashes and the slash share received.
    pub stake_change: String,
    pub rewards: String,
}

/// One conservation check.
#[derive(Debug, Serialize)]
pub struct Check {
    pub what: &'static str,
    pub expected: u64,
    pub found: u64,
    pub ok: bool,
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\nwhat happened")?;
        for line in &self.story {
            writeln!(f, "  {line}")?;
        }
        writeln!(f, "\njobs")?;
        let rows: Vec<Vec<String>> = self
            .jobs
            .iter()
            .map(|j| {
                vec![
                    j.name.to_string(),
                    j.client.to_string(),
                    j.ended.to_string(),
                    j.provider.clone().unwrap_or_else(|| "-".into()),
                    j.paid_to_provider.clone(),
                    j.protocol_fee.clone(),
                    j.refunded.clone(),
                ]
            })
            .collect();
        writeln!(
            f,
            "{}",
            table(
                &[
                    "JOB",
                    "CLIENT",
                    "ENDED",
                    "LAST PROVIDER",
                    "PAID",
                    "FEE",
                    "REFUNDED"
                ],
                &rows
            )
        )?;
        writeln!(f, "\ncanaries")?;
        let rows: Vec<Vec<String>> = self
            .canaries
            .iter()
            .map(|c| {
                vec![
                    CANARY_NAMES
                        .get(usize::from(c.index))
                        .copied()
                        .unwrap_or("canary")
                        .to_string(),
                    c.provider.clone().unwrap_or_else(|| "-".into()),
                    c.verdict.to_string(),
                ]
            })
            .collect();
        writeln!(f, "{}", table(&["JOB", "PROVIDER", "VERDICT"], &rows))?;
        writeln!(f, "\nsettlement")?;
        let rows: Vec<Vec<String>> = self
            .parties
            .iter()
            .map(|p| {
                vec![
                    p.name.clone(),
                    p.role.to_string(),
                    p.payment_change.clone(),
                    p.stake_change.clone(),
                    p.rewards.clone(),
                ]
            })
            .collect();
        writeln!(
            f,
            "{}",
            table(&["PARTY", "ROLE", "PAYMENT", "STAKE", "REWARDS"], &rows)
        )?;
        writeln!(f, "\nprotocol fees  {}", self.protocol_fees)?;
        writeln!(
            f,
            "slashed        {} ({} to clients, {} to the staking treasury)",
            self.slashed, self.slash_to_clients, self.slash_to_treasury
        )?;
        writeln!(f, "keeper tips    {}", self.keeper_tips)?;
        writeln!(f, "rewards minted {}", self.rewards_minted)?;
        writeln!(
            f,
            "utilisation    {} GPU-seconds delivered, {:.1}% of the GPUs over {}",
            self.gpu_seconds_delivered,
            self.utilisation_percent,
            format_duration(self.chain_seconds)
        )?;
        writeln!(
            f,
            "run            {} providers, {} jobs, {} rounds, {} agent actions, {:.1}s wall",
            self.providers,
            self.jobs.len(),
            self.rounds,
            self.agent_actions,
            self.wall_seconds
        )?;
        writeln!(f, "\nconservation check")?;
        for c in &self.conservation {
            writeln!(
                f,
                "  {} {}: expected {}, found {}",
                if c.ok { "ok  " } else { "FAIL" },
                c.what,
                c.expected,
                c.found
            )?;
        }
        write!(
            f,
            "conservation check: {}",
            if self.passed { "passed" } else { "FAILED" }
        )
    }
}

fn demo_err(err: impl fmt::Display) -> CliError {
    CliError::input(format!("demo: {err}"))
}

/// Progress lines: on a bar when stderr is a terminal, else plain lines on stderr.
struct Progress {
    bar: ProgressBar,
}

impl Progress {
    fn new(show_bar: bool) -> Self {
        let bar = if show_bar {
            ProgressBar::new_spinner()
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        Self { bar }
    }

    fn say(&self, line: impl AsRef<str>) {
        if self.bar.is_hidden() {
            eprintln!("{}", line.as_ref());
        } else {
            self.bar.println(line.as_ref());
        }
    }
}

pub fn run(args: DemoArgs, format: OutputFormat, out: &mut Box<dyn Write>) -> Result<(), CliError> {
    let quiet = QuietStdout::new()?;
    let report = market(args, format);
    drop(quiet);
    let report = report?;
    match format {
        OutputFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&report).map_err(demo_err)?
        )?,
        OutputFormat::Text => writeln!(out, "{report}")?,
    }
    if report.passed {
        Ok(())
    } else {
        Err(demo_err("the conservation check failed"))
    }
}

/// Runs the market and returns its report.
fn market(args: DemoArgs, format: OutputFormat) -> Result<DemoReport, CliError> {
    use std::io::IsTerminal;
    let started = Instant::now();
    // Ctrl-C stops the run at the next round; the work directory and the workloads go with
    // it. (A handler another command of this process set stays.)
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    let progress = Progress::new(std::io::stderr().is_terminal() && format == OutputFormat::Text);
    let temp = match &args.work_dir {
        Some(_) => None,
        None => Some(tempfile_dir()?),
    };
    let work_dir = args
        .work_dir
        .clone()
        .or_else(|| temp.as_ref().map(|t| t.path().to_path_buf()))
        .ok_or_else(|| demo_err("no work directory"))?;

    let mut chain = InProcessChain::start()?;
    // Every key and choice comes from the seed.
    let mut rng = gpu_market_matcher::market_gen::Rng::new(args.seed);
    let admin = seeded_keypair(&mut rng);
    let arbiter = seeded_keypair(&mut rng);
    let keeper = seeded_keypair(&mut rng);
    for who in [&admin, &keeper] {
        chain.transfer_lamports(&who.pubkey(), 100_000_000_000)?;
    }
    let payment_mint =
        token::create_mint(&mut chain, &admin.pubkey(), DECIMALS, &token::TOKEN_PROGRAM)?;
    let genesis = chain.now()?;
    let params = gpu_market_migrations::Params {
        stake_mint: None,
        stake_mint_decimals: DECIMALS,
        token_program: token::TOKEN_PROGRAM,
        treasury_owner: admin.pubkey(),
        unbonding_period: 28 * 86_400,
        treasury_share_bps: 2_500,
        slashers: vec![pda::escrow_authority()],
        min_stake_per_gpu: MIN_STAKE_PER_GPU,
        heartbeat_interval: HEARTBEAT_INTERVAL,
        liveness_grace: 120,
        exit_notice: 86_400,
        auditors: vec![arbiter.pubkey()],
        max_benchmark_score: 10_000,
        escrow_authority: pda::escrow_authority(),
        escrow: Some(job_escrow::InitConfigArgs {
            treasury: admin.pubkey(),
            arbiter: arbiter.pubkey(),
            protocol_fee_bps: 250,
            allowed_mints: vec![payment_mint],
            bid_window: 600,
            start_timeout: 300,
            heartbeat_grace: 180,
            challenge_window: 3_600,
            max_attempts: 3,
            slash: SlashAmounts {
                no_start: 20 * TOKEN,
                heartbeat_lost: 50 * TOKEN,
                no_result: 50 * TOKEN,
                dispute_lost: 100 * TOKEN,
                wrong_result: 100 * TOKEN,
            },
            crank_tip: TOKEN / 20,
            dispute_bond: 5 * TOKEN,
            max_job_duration: 7 * 86_400,
            matcher: Pubkey::default(),
            match_window: 0,
        }),
        emission: Some(gpu_market_migrations::EmissionParams {
            reward_mint: None,
            decimals: DECIMALS,
            token_program: token::TOKEN_PROGRAM,
            schedule: reward_emission::InitConfigArgs {
                genesis_time: genesis,
                epoch_length: EPOCH_LENGTH,
                record_interval: HEARTBEAT_INTERVAL,
                first_epoch_emission: 10_000 * TOKEN,
                decay_bps: 1_000,
                decay_period_epochs: 24,
                hard_cap: 1_000_000 * TOKEN,
            },
        }),
    };
    let deployment = gpu_market_migrations::initialise(&mut chain, &admin, &params)?;
    let stake_mint = deployment.stake_mint;
    let reward_mint = deployment
        .reward_mint
        .ok_or_else(|| demo_err("the emission was not set up"))?;
    progress.say(format!(
        "market initialised: stake mint {stake_mint}, payment mint {payment_mint}, reward mint {reward_mint}"
    ));

    // Providers.
    let mut nodes: Vec<Node> = Vec::new();
    let flaky = 0usize;
    for i in 0..usize::from(args.providers) {
        let (model, class, vram, gpus, base, mut bench) = if i == flaky {
            CATALOGUE[4]
        } else if i == 1 {
            // A second German H100 node, dearer: where the flaky node's job goes next.
            CATALOGUE[4]
        } else {
            *rng.pick(CATALOGUE)
        };
        if i == LIAR {
            bench = LIAR_BENCHMARK;
        }
        // Germany has just these two data-centre nodes, so the first job goes to node 0.
        let region = match i {
            0 | 1 => DE,
            _ => *rng.pick(&REGIONS[1..]),
        };
        let cents = match i {
            0 => base - 35,
            1 => base - 20,
            _ => base - 15 + rng.below(30),
        };
        let keypair = seeded_keypair(&mut rng);
        let me = keypair.pubkey();
        chain.transfer_lamports(&me, 5_000_000_000)?;
        let stake = MIN_STAKE_PER_GPU * u64::from(gpus);
        let source =
            token::create_token_account(&mut chain, &me, &stake_mint, &token::TOKEN_PROGRAM)?;
        token::mint_to(
            &mut chain,
            &stake_mint,
            &admin,
            &source,
            stake,
            &token::TOKEN_PROGRAM,
        )?;
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let node_dir = work_dir.join(format!("node-{i}"));
        let book = Arc::new(JobBook::open(
            &node_dir,
            keypair.insecure_clone(),
            Limits::default(),
        )?);
        let api = ApiServer::start(book.clone(), listener)?;
        let listing = RegisterProviderArgs {
            operator: me,
            endpoint,
            region,
            hardware: Hardware {
                gpu_model: model.into(),
                gpu_class: class,
                gpu_count: gpus,
                vram_mib: vram,
                cpu_cores: 16 * gpus,
                ram_mib: 65_536 * u32::from(gpus),
                disk_gib: 2_000,
                bandwidth_mbps: 10_000,
            },
            benchmark_score: bench,
            price_per_gpu_hour: cents * TOKEN / 100,
            payment_mint,
        };
        chain.send(
            &[
                staking_ix::stake(&me, &source, &stake_mint, &token::TOKEN_PROGRAM, stake),
                registry::register_provider(&me, listing),
            ],
            &[&keypair],
        )?;
        let agent = Agent::new(
            keypair.insecure_clone(),
            me,
            if i == LIAR {
                Box::new(MadeUp {
                    inner: AutoExecutor::new(None, Some(LocalProcessExecutor::new())),
                    commands: HashSet::new(),
                })
            } else {
                Box::new(AutoExecutor::new(None, Some(LocalProcessExecutor::new())))
            },
            AgentConfig {
                work_dir: node_dir,
                withdraw_every: 600,
            },
        )
        .with_api(book, RETENTION, UPLOAD_TIMEOUT);
        nodes.push(Node {
            keypair,
            agent: Some(agent),
            api: Some(api),
            label: format!(
                "node-{i:02} {gpus}x {} {} @{}",
                short_model(model),
                format_region(region),
                format_amount(cents * TOKEN / 100, DECIMALS)
            ),
            liar: i == LIAR,
        });
    }
    progress.say(format!("{} providers staked and registered", nodes.len()));

    // Clients.
    let clients: Vec<Keypair> = (0..4).map(|_| seeded_keypair(&mut rng)).collect();
    let client_names = ["acme-ai", "bitforge", "cortex-labs", "deepgrid"];
    // A startup's wallet: SOL for fees and rent, and `tokens` of the payment mint.
    let fund = |chain: &mut InProcessChain, owner: &Keypair, tokens: u64| {
        chain.transfer_lamports(&owner.pubkey(), 5_000_000_000)?;
        let account = token::create_token_account(
            chain,
            &owner.pubkey(),
            &payment_mint,
            &token::TOKEN_PROGRAM,
        )?;
        token::mint_to(
            chain,
            &payment_mint,
            &admin,
            &account,
            tokens,
            &token::TOKEN_PROGRAM,
        )
    };
    for client in &clients {
        fund(&mut chain, client, 10_000 * TOKEN)?;
        // Slashes of a provider pay the harmed client in the stake mint.
        token::create_token_account(
            &mut chain,
            &client.pubkey(),
            &stake_mint,
            &token::TOKEN_PROGRAM,
        )?;
    }
    for owner in [admin.pubkey(), keeper.pubkey()]
        .into_iter()
        .chain(nodes.iter().map(|n| n.keypair.pubkey()))
    {
        token::create_token_account(&mut chain, &owner, &payment_mint, &token::TOKEN_PROGRAM)?;
    }

    let mints = Mints {
        stake: stake_mint,
        payment: payment_mint,
        reward: reward_mint,
    };
    // The verifier: a startup's canary service, with keys of its own (drawn apart from the
    // market's, which the seed fixes as before).
    let verifier = seeded_keypair(&mut gpu_market_matcher::market_gen::Rng::new(
        args.seed ^ 0x5eed_c4a7,
    ));
    fund(&mut chain, &verifier, 1_000 * TOKEN)?;
    let others = [&keeper, &admin, &verifier];
    let balances_before = Balances::read(&mut chain, &nodes, &clients, &others, &mints)?;

    // Jobs.
    let postings = postings();
    let mut job_names: HashMap<Pubkey, &'static str> = HashMap::new();
    let mut manifests: HashMap<Pubkey, Manifest> = HashMap::new();
    for (id, posting) in postings.iter().enumerate() {
        let client = &clients[posting.client];
        let job_id = u64::try_from(id).unwrap_or(0) + 1;
        let address = pda::job(&client.pubkey(), job_id);
        // Batch jobs are manifests, served through the node's job API; leases run a
        // process whose output nobody downloads.
        let workload = if posting.kind == JobKind::Batch {
            let manifest = batch_manifest(posting.command);
            let workload = manifest.workload();
            manifests.insert(address, manifest);
            workload
        } else {
            gpu_market_agent::executor::process_workload(posting.command)
        };
        let ix = escrow::create_job(
            &client.pubkey(),
            &payment_mint,
            &token::TOKEN_PROGRAM,
            CreateJobArgs {
                job_id,
                requirements: Requirements {
                    gpu_class: posting.class.into(),
                    gpu_count: posting.gpus,
                    min_vram_mib: posting.min_vram_mib,
                    min_cpu_cores: 0,
                    min_ram_mib: 0,
                    region: posting.region,
                    min_benchmark: 0,
                    attested_only: false,
                },
                workload,
                kind: posting.kind,
                mode: posting.mode,
                max_price_per_gpu_hour: posting.max_price_cents * TOKEN / 100,
                max_duration: posting.minutes * 60,
                verification: escrow::random_commitment(),
            },
        );
        chain.send(&[ix], &[client])?;
        job_names.insert(address, posting.name);
    }
    progress.say(format!(
        "{} jobs posted by {} startups ({} leases, {} auctions)",
        postings.len(),
        clients.len(),
        postings.iter().filter(|p| p.kind == JobKind::Lease).count(),
        postings
            .iter()
            .filter(|p| p.mode == JobMode::Auction)
            .count()
    ));

    // The verifier's canaries: each asks for what one provider lists (its GPU class, region,
    // VRAM and benchmark) at its asking price, for an hour on one GPU, as `verify canary`
    // does; the one aimed at the liar asks for a benchmark only the liar has.
    let mut listings: Vec<Provider> = Vec::new();
    for node in &nodes {
        listings.push(chain.fetch(&pda::provider(&node.keypair.pubkey()))?);
    }
    let liar_listing = &listings[LIAR];
    let honest = (LIAR + 1..listings.len()).filter(|&i| {
        listings[i].hardware.gpu_class != liar_listing.hardware.gpu_class
            || listings[i].region != liar_listing.region
    });
    let mut canaries: Vec<(Canary, Pubkey)> = Vec::new();
    for (index, target) in (0u16..).zip(std::iter::once(LIAR).chain(honest.take(2))) {
        let canary = Canary::new(&verifier, args.seed, index, CANARY_ROUNDS);
        let listing = &listings[target];
        let address = pda::job(&verifier.pubkey(), canary.job_id);
        let ix = escrow::create_job(
            &verifier.pubkey(),
            &payment_mint,
            &token::TOKEN_PROGRAM,
            CreateJobArgs {
                job_id: canary.job_id,
                requirements: Requirements {
                    gpu_class: listing.hardware.gpu_class.into(),
                    gpu_count: 1,
                    min_vram_mib: listing.hardware.vram_mib,
                    min_cpu_cores: 0,
                    min_ram_mib: 0,
                    region: listing.region,
                    min_benchmark: listing.benchmark_score,
                    attested_only: false,
                },
                workload: canary.workload(),
                kind: JobKind::Batch,
                mode: JobMode::Instant,
                max_price_per_gpu_hour: listing.price_per_gpu_hour,
                max_duration: 3_600,
                verification: canary.commitment(),
            },
        );
        chain.send(&[ix], &[&verifier])?;
        job_names.insert(address, CANARY_NAMES[usize::from(index)]);
        canaries.push((canary, address));
    }
    progress.say(format!(
        "the verifier posted {} canaries (known-answer jobs that look like any other)",
        canaries.len()
    ));
    let mut canary_views: Vec<CanaryView> = Vec::new();

    // The market runs.
    let mut story: Vec<String> = Vec::new();
    let mut agent_txs = 0usize;
    let mut flaky_gone = false;
    // (job, provider) pairs whose manifest the client has sent: a re-queued job goes to a
    // node that needs it again.
    let mut uploaded: HashSet<(Pubkey, Pubkey)> = HashSet::new();
    let results_dir = work_dir.join("downloads");
    let mut rounds = 0usize;
    let name = |job: &Pubkey| job_names.get(job).copied().unwrap_or("?");
    let start_time = chain.now()?;
    loop {
        rounds += 1;
        if rounds > MAX_ROUNDS {
            return Err(demo_err(format!(
                "the market did not settle within {MAX_ROUNDS} rounds"
            )));
        }
        stopped()?;
        if rounds > 1 {
            // What each node reports next depends on the chain's time alone: every
            // workload started so far has finished before the clock moves.
            for node in &mut nodes {
                let Some(agent) = node.agent.as_mut() else {
                    continue;
                };
                let deadline = Instant::now() + WORKLOAD_WAIT;
                loop {
                    let running = agent.wait_for_workloads(std::time::Duration::from_millis(200));
                    if running.is_empty() {
                        break;
                    }
                    stopped()?;
                    if Instant::now() >= deadline {
                        return Err(demo_err(format!(
                            "{} workload(s) of {} still run after {}s",
                            running.len(),
                            node.label,
                            WORKLOAD_WAIT.as_secs()
                        )));
                    }
                }
            }
            chain.advance(args.step.seconds)?;
        }
        let snapshot = MarketSnapshot::load(&mut chain)?;
        for (i, node) in nodes.iter_mut().enumerate() {
            let Some(agent) = node.agent.as_mut() else {
                continue;
            };
            let tick = agent.tick_with(&mut chain, snapshot.clone())?;
            for event in &tick.events {
                if !matches!(event, AgentEvent::Rejected { .. }) {
                    agent_txs += 1;
                }
                let line = match event {
                    AgentEvent::Accepted { job } => {
                        Some(format!("{} took {}", node.label, name(job)))
                    }
                    AgentEvent::AuctionClosed { job } => {
                        Some(format!("{} won the auction of {}", node.label, name(job)))
                    }
                    AgentEvent::Submitted { job, sha256, bytes } => Some(format!(
                        "{} finished {}: {bytes} bytes of output, sha256 {}..",
                        node.label,
                        name(job),
                        &sha256[..16]
                    )),
                    AgentEvent::WorkloadFailed { job, reason } => Some(format!(
                        "{} could not run {}: {reason}",
                        node.label,
                        name(job)
                    )),
                    _ => None,
                };
                if let Some(line) = line {
                    tell(&progress, &mut story, line);
                }
            }
            // The flaky node vanishes once its job runs: the process dies with it.
            if i == flaky
                && !flaky_gone
                && tick
                    .events
                    .iter()
                    .any(|e| matches!(e, AgentEvent::Launched { .. }))
            {
                node.agent = None;
                node.api = None;
                flaky_gone = true;
                let line = format!("{} vanished mid-job (its process was killed)", node.label);
                tell(&progress, &mut story, line);
            }
        }

        // The keeper cranks what is due; clients verify and approve results.
        let snapshot = MarketSnapshot::load(&mut chain)?;
        for action in driver::plan_upkeep(&snapshot) {
            let job = action.job();
            let sent = driver::execute(&mut chain, &snapshot, &keeper, &action).is_ok();
            if sent && matches!(action, driver::Action::Expire { .. }) {
                let line = format!(
                    "keeper expired {}: its provider went silent past the heartbeat grace, was slashed, and the job was re-queued",
                    name(&job)
                );
                tell(&progress, &mut story, line);
            }
        }
        let crank = rewards::crank(&mut chain, &keeper, usize::MAX)?;
        for epoch in &crank.finalized {
            let line = format!("keeper finalized reward epoch {epoch}");
            tell(&progress, &mut story, line);
        }
        if let Some((epoch, _, _)) = crank.folded.first() {
            let records: usize = crank.folded.iter().map(|(_, _, n)| n).sum();
            let line = format!(
                "keeper folded the uptime of {records} nodes in reward epoch {epoch} into its total"
            );
            tell(&progress, &mut story, line);
        }
        for (address, job) in &snapshot.jobs {
            // The client sends its manifest to the node that started its job.
            let Some(client_index) = clients.iter().position(|c| c.pubkey() == job.client) else {
                continue;
            };
            if let (JobStatus::Running, Some(assignment), Some(manifest)) =
                (job.status, job.assignment, manifests.get(address))
            {
                if !uploaded.contains(&(*address, assignment.provider)) {
                    let node =
                        node_client(&snapshot, &assignment.provider, &clients[client_index])?;
                    match node.put_manifest(address, &manifest.canonical_bytes()) {
                        Ok(()) => {
                            uploaded.insert((*address, assignment.provider));
                            let line = format!(
                                "{} sent the manifest of {} to its node's job API",
                                client_names[client_index],
                                name(address)
                            );
                            tell(&progress, &mut story, line);
                        }
                        // A node that vanished answers nothing; the job is re-queued.
                        Err(NodeError::Unreachable { .. }) => {}
                        Err(err) => return Err(demo_err(err)),
                    }
                }
            }
            if job.status == JobStatus::ResultSubmitted && job.kind == JobKind::Batch {
                // Every client but the last downloads the output, checks it and approves at
                // once; the last lets the challenge window run out (the provider then
                // settles).
                if client_index == clients.len() - 1 {
                    continue;
                }
                let dest = results_dir
                    .join(client_names[client_index])
                    .join(name(address));
                if let Some(bytes) =
                    download(&snapshot, address, job, &clients[client_index], &dest)?
                {
                    let keys = driver::settle_accounts(&snapshot, &job.client, job)?;
                    chain.send(
                        &[
                            escrow::settlement_compute_limit(0),
                            escrow::approve_result(&keys),
                        ],
                        &[&clients[client_index]],
                    )?;
                    let line = format!(
                        "{} downloaded the output of {} ({bytes} bytes), checked it against the chain and approved it",
                        client_names[client_index],
                        name(address)
                    );
                    tell(&progress, &mut story, line);
                }
            }
        }
        // The verifier checks each canary whose result is in.
        for (canary, address) in &canaries {
            let Some(job) = snapshot.job(address) else {
                continue;
            };
            if job.status != JobStatus::ResultSubmitted {
                continue;
            }
            let mut view = verify::settle(&mut chain, &verifier, canary, address, job)?;
            let node = job
                .assignment
                .and_then(|a| {
                    nodes
                        .iter()
                        .find(|n| pda::provider(&n.keypair.pubkey()) == a.provider)
                })
                .map_or("?", |n| n.label.as_str());
            let line = match view.verdict {
                "caught" => format!(
                    "the verifier revealed the known answer of {}: {node} had made its result up, and was slashed on chain with no arbiter (the deposit came back)",
                    name(address)
                ),
                "passed" => format!(
                    "the verifier checked {} from {node} against the answer it had computed itself: it matched, and was approved like any job",
                    name(address)
                ),
                _ => format!("the verifier could not check {}: {}", name(address), view.detail),
            };
            tell(&progress, &mut story, line);
            view.provider = Some(node.to_string());
            canary_views.push(view);
        }
        progress.bar.set_message(format!(
            "round {rounds}: {} jobs open or running, clock +{}",
            snapshot.jobs.len(),
            format_duration(snapshot.now - start_time)
        ));
        let epoch_done = snapshot.reward_epoch().is_some_and(|e| e >= 1);
        if snapshot.jobs.is_empty() && epoch_done {
            break;
        }
        // Let the workloads' processes run.
        std::thread::sleep(std::time::Duration::from_millis(25));
    }

    // Rewards: epoch 0 is finalized once its fold window closes; each live node's next
    // uptime record settles it, then every node claims.
    let emission: EmissionConfig = chain.fetch(&pda::emission_config())?;
    chain.wait_until(emission.fold_closes(0).map_err(demo_err)?)?;
    let crank = rewards::crank(&mut chain, &keeper, usize::MAX)?;
    for epoch in &crank.finalized {
        let line = format!("keeper finalized reward epoch {epoch}");
        tell(&progress, &mut story, line);
    }
    let snapshot = MarketSnapshot::load(&mut chain)?;
    for node in nodes.iter_mut() {
        if let Some(agent) = node.agent.as_mut() {
            agent.tick_with(&mut chain, snapshot.clone())?;
        }
    }
    let epoch = emission.epoch_at(chain.now()?).map_err(demo_err)?;
    for node in &nodes {
        let me = node.keypair.pubkey();
        let Some(record) = rewards::record(&mut chain, &me)? else {
            continue;
        };
        let settle = rewards::settleable(&mut chain, &record, epoch)?;
        if record.unclaimed == 0 && settle.is_empty() {
            continue;
        }
        let destination = token::associated_address(&me, &reward_mint, &token::TOKEN_PROGRAM);
        chain.send(
            &[
                token::create_associated_idempotent(&me, &me, &reward_mint, &token::TOKEN_PROGRAM),
                rewards::claim_rewards(
                    &me,
                    &me,
                    &reward_mint,
                    &destination,
                    &token::TOKEN_PROGRAM,
                    &settle,
                ),
            ],
            &[&node.keypair],
        )?;
    }
    let line = "epoch 0 closed: live providers claimed their uptime rewards".to_string();
    tell(&progress, &mut story, line);
    progress.bar.finish_and_clear();
    // The treasury's share of slashes waits in the staking vault until anyone collects it.
    let staking_config: staking::state::StakingConfig = chain.fetch(&pda::staking_config())?;
    if staking_config.treasury_owed > 0 {
        let collect = staking_ix::collect_treasury(
            &keeper.pubkey(),
            &staking_config.stake_mint,
            &staking_config.treasury,
            &token::TOKEN_PROGRAM,
        );
        chain.send(&[collect], &[&keeper])?;
    }

    let after = Balances::read(&mut chain, &nodes, &clients, &others, &mints)?;
    let end_time = chain.now()?;
    let jobs = job_records(&mut chain, &postings, &clients, &client_names, &nodes)?;
    let report = settle_report(
        &mut chain,
        &nodes,
        &clients,
        &client_names,
        &keeper,
        &admin,
        &verifier,
        &balances_before,
        &after,
        Totals {
            chain_seconds: end_time - start_time,
            jobs,
            canaries: canary_views,
            rounds,
            agent_txs,
            story,
            wall_seconds: started.elapsed().as_secs_f64(),
        },
    )?;
    drop(temp);
    Ok(report)
}

/// One job of the demo, as it ended.
#[derive(Debug, Serialize)]
pub struct JobRecord {
    pub name: &'static str,
    pub client: &'static str,
    pub kind: &'static str,
    pub mode: &'static str,
    /// How it ended (see `gpu-market job show`).
    pub ended: &'static str,
    /// The node that held it last.
    pub provider: Option<String>,
    /// What its providers earned over its life, lease withdrawals included, after fees.
    pub paid_to_provider: String,
    /// The protocol's fees on it.
    pub protocol_fee: String,
    pub refunded: String,
    /// Crank tips paid from its deposit.
    pub tips: String,
    /// Stake taken from its providers for failing it, in whole stake tokens (the other
    /// amounts are whole payment tokens).
    pub slashed_stake: String,
}

/// Each posting's [`JobRecord`], read from the chain's history of its job: every transaction
/// that paid out of its vault.
fn job_records(
    chain: &mut InProcessChain,
    postings: &[Posting],
    clients: &[Keypair],
    client_names: &[&'static str],
    nodes: &[Node],
) -> Result<Vec<JobRecord>, CliError> {
    use job_escrow::events::{EarningsWithdrawn, JobExpired};
    let labels: HashMap<Pubkey, &str> = nodes
        .iter()
        .map(|n| (pda::provider(&n.keypair.pubkey()), n.label.as_str()))
        .collect();
    let mut records = Vec::new();
    for (id, posting) in postings.iter().enumerate() {
        let job_id = u64::try_from(id).unwrap_or(0) + 1;
        let address = pda::job(&clients[posting.client].pubkey(), job_id);
        let crate::job::History::Ended(ending) = crate::job::ending(chain, &address)? else {
            return Err(demo_err(format!("{} did not end", posting.name)));
        };
        // Totals over its whole history: every payout of its vault (lease withdrawals,
        // expiries that paid a failed node for what it served and re-queued the job, the
        // closing transaction) and every slash of a node that failed it.
        let (mut paid, mut fee, mut refund, mut tips, mut slashed) = (0u64, 0u64, 0u64, 0u64, 0u64);
        for past in chain.signatures(&address, usize::MAX)? {
            let Some(tx) = chain.transaction(&past.signature)? else {
                continue;
            };
            for e in tx
                .events::<EarningsWithdrawn>()
                .iter()
                .filter(|e| e.job == address)
            {
                paid += e.to_provider;
                fee += e.fee;
            }
            let re_queued = tx
                .events::<JobExpired>()
                .into_iter()
                .find(|e| e.job == address && e.requeued);
            if let Some(e) = &re_queued {
                paid += e.to_provider;
                fee += e.fee;
                tips += e.tip;
            }
            let closed = crate::job::Closed::from_tx(&tx, &address);
            if let Some(c) = &closed {
                paid += c.to_provider.unwrap_or(0) + c.bond_to_provider.unwrap_or(0);
                fee += c.fee.unwrap_or(0);
                tips += c.tip.unwrap_or(0);
                refund += c.refund;
            }
            if re_queued.is_some() || closed.is_some() {
                slashed += tx
                    .events::<staking::events::StakeSlashed>()
                    .iter()
                    .map(|s| s.slashed)
                    .sum::<u64>();
            }
        }
        let provider = ending
            .provider
            .as_ref()
            .and_then(|p| p.parse::<Pubkey>().ok())
            .and_then(|p| labels.get(&p).map(|l| (*l).to_string()));
        records.push(JobRecord {
            name: posting.name,
            client: client_names[posting.client],
            kind: if posting.kind == JobKind::Lease {
                "lease"
            } else {
                "batch"
            },
            mode: if posting.mode == JobMode::Auction {
                "auction"
            } else {
                "instant"
            },
            ended: ending.ended,
            provider,
            paid_to_provider: format_amount(paid, DECIMALS),
            protocol_fee: format_amount(fee, DECIMALS),
            refunded: format_amount(refund, DECIMALS),
            tips: format_amount(tips, DECIMALS),
            slashed_stake: format_amount(slashed, DECIMALS),
        });
    }
    Ok(records)
}

/// Shows `line` as it happens and keeps it for the report.
fn tell(progress: &Progress, story: &mut Vec<String>, line: String) {
    progress.say(&line);
    story.push(line);
}

/// A client of the job API of `provider`'s node, signing as `client`.
fn node_client<'k>(
    snapshot: &MarketSnapshot,
    provider: &Pubkey,
    client: &'k Keypair,
) -> Result<NodeClient<'k>, CliError> {
    let endpoint = snapshot
        .provider(provider)
        .map(|view| view.provider.endpoint.as_str())
        .unwrap_or_default();
    Ok(NodeClient::new(endpoint, client)?)
}

/// A client's download of a batch result from the node that submitted it, checked against
/// the hash on chain before it is unpacked into `dest`. `None` if the result does not
/// verify (the client does not approve it).
fn download(
    snapshot: &MarketSnapshot,
    address: &Pubkey,
    job: &Job,
    client: &Keypair,
    dest: &std::path::Path,
) -> Result<Option<u64>, CliError> {
    let (Some(result), Some(assignment)) = (&job.result, job.assignment) else {
        return Ok(None);
    };
    let node = node_client(snapshot, &assignment.provider, client)?;
    match node.download_verified(
        address,
        &result.uri,
        &result.hash,
        dest,
        MAX_RESULT_BYTES,
        |_, _| {},
    ) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(NodeError::ResultMismatch { .. }) => Ok(None),
        Err(err) => Err(demo_err(err)),
    }
}

fn short_model(model: &str) -> String {
    model
        .trim_start_matches("NVIDIA ")
        .trim_start_matches("GeForce ")
        .split_whitespace()
        .next()
        .unwrap_or(model)
        .trim_end_matches("-SXM4-80GB")
        .to_string()
}

/// A temporary directory removed on drop.
fn tempfile_dir() -> Result<tempfile::TempDir, CliError> {
    Ok(tempfile::Builder::new()
        .prefix("gpu-market-demo-")
        .tempdir()?)
}

/// A keypair drawn from the demo's seed.
fn seeded_keypair(rng: &mut gpu_market_matcher::market_gen::Rng) -> Keypair {
    let mut secret = [0u8; 32];
    for chunk in secret.chunks_mut(8) {
        chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
    }
    Keypair::new_from_array(secret)
}

/// How long a round waits for the workloads started so far to finish.
const WORKLOAD_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Set by Ctrl-C: the demo stops at the next round, or while it waits for workloads; a
/// second Ctrl-C ends the process at once.
static STOP: AtomicBool = AtomicBool::new(false);

/// The error that ends the demo once Ctrl-C was pressed.
fn stopped() -> Result<(), CliError> {
    if STOP.load(Ordering::SeqCst) {
        return Err(CliError::Interrupted(
            "the demo stopped its workloads and removed its work directory".into(),
        ));
    }
    Ok(())
}

/// The demo's three mints.
struct Mints {
    stake: Pubkey,
    payment: Pubkey,
    reward: Pubkey,
}

/// Every balance the report compares.
struct Balances {
    payment: HashMap<Pubkey, u64>,
    stake: HashMap<Pubkey, u64>,
    reward: HashMap<Pubkey, u64>,
    staked: HashMap<Pubkey, u64>,
    payment_supply: u64,
    stake_supply: u64,
    reward_supply: u64,
    staking_vault: u64,
    staking_treasury: u64,
}

impl Balances {
    fn read(
        chain: &mut InProcessChain,
        nodes: &[Node],
        clients: &[Keypair],
        others: &[&Keypair],
        mints: &Mints,
    ) -> Result<Self, CliError> {
        let owners: Vec<Pubkey> = nodes
            .iter()
            .map(|n| n.keypair.pubkey())
            .chain(clients.iter().map(|c| c.pubkey()))
            .chain(others.iter().map(|k| k.pubkey()))
            .collect();
        let mut read = |mint: &Pubkey| -> Result<HashMap<Pubkey, u64>, CliError> {
            let mut map = HashMap::new();
            for owner in &owners {
                let address = token::associated_address(owner, mint, &token::TOKEN_PROGRAM);
                let amount = if chain.exists(&address)? {
                    token::balance(chain, &address)?
                } else {
                    0
                };
                map.insert(*owner, amount);
            }
            Ok(map)
        };
        let payment = read(&mints.payment)?;
        let stake = read(&mints.stake)?;
        let reward = read(&mints.reward)?;
        let mut staked = HashMap::new();
        for node in nodes {
            let me = node.keypair.pubkey();
            let address = pda::stake_account(&me);
            let active = if chain.exists(&address)? {
                let account: staking::state::StakeAccount = chain.fetch(&address)?;
                account.active.saturating_add(account.unbonding)
            } else {
                0
            };
            staked.insert(me, active);
        }
        let config: staking::state::StakingConfig = chain.fetch(&pda::staking_config())?;
        Ok(Self {
            payment,
            stake,
            reward,
            staked,
            payment_supply: token::read_mint(chain, &mints.payment)?.supply,
            stake_supply: token::read_mint(chain, &mints.stake)?.supply,
            reward_supply: token::read_mint(chain, &mints.reward)?.supply,
            staking_vault: token::balance(chain, &pda::staking_vault())?,
            staking_treasury: token::balance(chain, &config.treasury)?,
        })
    }
}

struct Totals {
    chain_seconds: i64,
    jobs: Vec<JobRecord>,
    canaries: Vec<CanaryView>,
    rounds: usize,
    agent_txs: usize,
    story: Vec<String>,
    wall_seconds: f64,
}

fn signed(after: u64, before: u64) -> String {
    if after >= before {
        format!("+{}", format_amount(after - before, DECIMALS))
    } else {
        format!("-{}", format_amount(before - after, DECIMALS))
    }
}

#[allow(clippy::too_many_arguments)]
fn settle_report(
    chain: &mut InProcessChain,
    nodes: &[Node],
    clients: &[Keypair],
    client_names: &[&str],
    keeper: &Keypair,
    admin: &Keypair,
    verifier: &Keypair,
    before: &Balances,
    after: &Balances,
    totals: Totals,
) -> Result<DemoReport, CliError> {
    let held = |b: &Balances, who: &Pubkey| {
        b.stake.get(who).copied().unwrap_or(0) + b.staked.get(who).copied().unwrap_or(0)
    };
    let change = |b: &HashMap<Pubkey, u64>, a: &HashMap<Pubkey, u64>, who: &Pubkey| {
        signed(
            a.get(who).copied().unwrap_or(0),
            b.get(who).copied().unwrap_or(0),
        )
    };
    let mut parties = Vec::new();
    let (mut gpu_seconds, mut total_gpus) = (0u64, 0u64);
    for node in nodes {
        let me = node.keypair.pubkey();
        let provider: Provider = chain.fetch(&pda::provider(&me))?;
        gpu_seconds += provider.reputation.gpu_seconds_served;
        total_gpus += u64::from(provider.hardware.gpu_count);
        parties.push(Party {
            name: node.label.clone(),
            role: if node.liar {
                "provider (made results up)"
            } else if node.agent.is_some() {
                "provider"
            } else {
                "provider (vanished)"
            },
            payment_change: change(&before.payment, &after.payment, &me),
            stake_change: signed(held(after, &me), held(before, &me)),
            rewards: format_amount(after.reward.get(&me).copied().unwrap_or(0), DECIMALS),
        });
    }
    for (client, name) in clients.iter().zip(client_names) {
        let me = client.pubkey();
        parties.push(Party {
            name: (*name).to_string(),
            role: "client",
            payment_change: change(&before.payment, &after.payment, &me),
            stake_change: change(&before.stake, &after.stake, &me),
            rewards: "-".into(),
        });
    }
    parties.push(Party {
        name: "verifier".into(),
        role: "client (canaries)",
        payment_change: change(&before.payment, &after.payment, &verifier.pubkey()),
        stake_change: change(&before.stake, &after.stake, &verifier.pubkey()),
        rewards: "-".into(),
    });
    let fees = after.payment[&admin.pubkey()].saturating_sub(before.payment[&admin.pubkey()]);
    let tips = after.payment[&keeper.pubkey()].saturating_sub(before.payment[&keeper.pubkey()]);
    parties.push(Party {
        name: "keeper".into(),
        role: "upkeep",
        payment_change: change(&before.payment, &after.payment, &keeper.pubkey()),
        stake_change: "-".into(),
        rewards: "-".into(),
    });
    parties.push(Party {
        name: "treasury".into(),
        role: "protocol",
        payment_change: change(&before.payment, &after.payment, &admin.pubkey()),
        stake_change: signed(after.staking_treasury, before.staking_treasury),
        rewards: "-".into(),
    });

    let sum = |m: &HashMap<Pubkey, u64>| m.values().sum::<u64>();
    // The staking treasury is the admin's associated account, already among the wallets.
    let in_wallets = sum(&after.stake) + after.staking_vault;
    let conservation = vec![
        Check {
            what: "payment tokens: supply unchanged",
            expected: before.payment_supply,
            found: after.payment_supply,
            ok: before.payment_supply == after.payment_supply,
        },
        Check {
            what: "payment tokens: all in wallets, no vault left open",
            expected: after.payment_supply,
            found: sum(&after.payment),
            ok: after.payment_supply == sum(&after.payment),
        },
        Check {
            what: "stake tokens: supply unchanged",
            expected: before.stake_supply,
            found: after.stake_supply,
            ok: before.stake_supply == after.stake_supply,
        },
        Check {
            what: "stake tokens: wallets (treasury included) + staking vault",
            expected: after.stake_supply,
            found: in_wallets,
            ok: after.stake_supply == in_wallets,
        },
        Check {
            what: "stake tokens: staking vault backs every stake account",
            expected: sum(&after.staked),
            found: after.staking_vault,
            ok: after.staking_vault == sum(&after.staked),
        },
        Check {
            what: "reward tokens: every token minted was claimed by a provider",
            expected: after.reward_supply,
            found: sum(&after.reward),
            ok: after.reward_supply == sum(&after.reward),
        },
    ];
    let passed = conservation.iter().all(|c| c.ok);
    let slashed = sum(&before.staked).saturating_sub(sum(&after.staked));
    let to_treasury = after
        .staking_treasury
        .saturating_sub(before.staking_treasury);
    let utilisation = if total_gpus == 0 || totals.chain_seconds <= 0 {
        0.0
    } else {
        gpu_seconds as f64 * 100.0 / (total_gpus as f64 * totals.chain_seconds as f64)
    };
    Ok(DemoReport {
        providers: nodes.len(),
        jobs: totals.jobs,
        canaries: totals.canaries,
        rounds: totals.rounds,
        chain_seconds: totals.chain_seconds,
        wall_seconds: totals.wall_seconds,
        agent_actions: totals.agent_txs,
        parties,
        protocol_fees: format_amount(fees, DECIMALS),
        slashed: format_amount(slashed, DECIMALS),
        slash_to_clients: format_amount(slashed.saturating_sub(to_treasury), DECIMALS),
        slash_to_treasury: format_amount(to_treasury, DECIMALS),
        rewards_minted: format_amount(after.reward_supply, DECIMALS),
        keeper_tips: format_amount(tips, DECIMALS),
        gpu_seconds_delivered: gpu_seconds,
        utilisation_percent: utilisation,
        story: totals.story,
        conservation,
        passed,
    })
}
