//! `gpu-market market serve`: the market's matcher as a long-running service.
//!
//! It subscribes to the accounts of the registry, staking and escrow programs, then reads
//! the market once (no older than the slot the subscriptions began at), and from then on
//! applies each pushed update, runs a round over what changed, sends `assign_job` for each
//! match as the market's matcher, and every so often sends the market's upkeep. When a
//! subscription drops it subscribes and reads the market again; every `--resnapshot-every`
//! it does so anyway, catching what a subscription cannot push (a closed account). What it
//! does goes to stdout, one line per event (JSON lines with `--output json`); its counters
//! and timings to a Prometheus text endpoint when `--metrics` names an address.

use crate::{output::OutputFormat, units::Duration, CliError, Context};
use clap::Args;
use gpu_market_client::{
    chain::feed::AccountFeed,
    driver::{self, Action},
    escrow, node_api, pda, rewards, serde_key, Chain, ClientError, Pubkey, RpcChain,
};
use gpu_market_matcher::live::{Applied, LiveMarket, LiveSize, Shards, Update};
use prometheus_client::{
    encoding::text::encode,
    metrics::{
        counter::Counter,
        gauge::Gauge,
        histogram::{exponential_buckets, Histogram},
    },
    registry::Registry,
};
use serde::Serialize;
use std::{
    collections::HashMap,
    fmt,
    io::Write,
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration as StdDuration, Instant},
};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The node's PubSub websocket URL [default: from --url, ws for http and wss for https,
    /// on the next port when the URL names one]
    #[arg(long)]
    pub ws_url: Option<String>,
    /// Read the market in 256 pages per account type (by the first byte of the provider's
    /// authority, the stake's owner and the job's client), for RPC nodes that refuse to
    /// return a whole program's accounts at once.
    #[arg(long)]
    pub sharded: bool,
    /// Serve Prometheus metrics (GET /metrics) on this address, e.g. 127.0.0.1:9464.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,
    /// How often to send the upkeep that is due (close auctions, expire, settle, reclaim).
    #[arg(long, default_value = "5s")]
    pub upkeep_every: Duration,
    /// Send assignments only, no upkeep.
    #[arg(long)]
    pub no_upkeep: bool,
    /// How often to subscribe and read the whole market again.
    #[arg(long, default_value = "10m")]
    pub resnapshot_every: Duration,
    /// Stop after this long (default: run until interrupted).
    #[arg(long)]
    pub stop_after: Option<Duration>,
}

/// Something the service did, printed as a line.
#[derive(Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Subscribed and read the market.
    Snapshot {
        slot: u64,
        pages: usize,
        providers: usize,
        stakes: usize,
        jobs: usize,
        assignable_jobs: usize,
        /// Reading the snapshot and building the index.
        millis: u128,
        /// Whether this key is the market's matcher (else it only sends upkeep).
        matcher: bool,
    },
    /// A round over what changed found matches.
    Round {
        matches: usize,
        micros: u128,
        #[serde(flatten)]
        size: SizeReport,
    },
    Assigned {
        #[serde(with = "serde_key")]
        job: Pubkey,
        #[serde(with = "serde_key")]
        provider: Pubkey,
        signature: String,
        /// From the service's first sight of the job to the assignment's confirmation.
        seen_to_assigned_ms: Option<u128>,
        /// From the job's creation to the assignment, in cluster time.
        created_to_assigned_s: i64,
    },
    AssignRefused {
        #[serde(with = "serde_key")]
        job: Pubkey,
        #[serde(with = "serde_key")]
        provider: Pubkey,
        error: String,
        /// Whether the job is offered to another provider (else it is left to the
        /// providers' agents after its window).
        retry: bool,
    },
    /// Sent, but whether it landed is unknown: the job's next update will tell.
    AssignUnconfirmed {
        #[serde(with = "serde_key")]
        job: Pubkey,
        #[serde(with = "serde_key")]
        provider: Pubkey,
        error: String,
    },
    Upkeep {
        action: Action,
        outcome: String,
    },
    /// The reward crank's pass: epochs finalized, and per fold transaction the epoch, the
    /// shard and the reward records folded.
    RewardsCrank {
        finalized_epochs: Vec<u64>,
        folds: Vec<(u64, u8, usize)>,
        refused: Vec<String>,
    },
    /// The subscriptions or the node failed: subscribing and reading again after a pause.
    Disconnected {
        error: String,
        retry_in_ms: u128,
    },
    Stopped {
        assigned: u64,
        upkeep: u64,
    },
}

#[derive(Debug, Serialize)]
pub struct SizeReport {
    providers: usize,
    indexed_providers: usize,
    jobs: usize,
    assignable_jobs: usize,
    waiting_jobs: usize,
    held: usize,
}

impl From<LiveSize> for SizeReport {
    fn from(s: LiveSize) -> Self {
        Self {
            providers: s.providers,
            indexed_providers: s.index.indexed_providers,
            jobs: s.jobs,
            assignable_jobs: s.assignable_jobs,
            waiting_jobs: s.index.waiting_jobs,
            held: s.held,
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Snapshot {
                slot,
                pages,
                providers,
                stakes,
                jobs,
                assignable_jobs,
                millis,
                matcher,
            } => write!(
                f,
                "snapshot at slot {slot}: {providers} providers, {stakes} stakes, {jobs} jobs \
                 ({assignable_jobs} to assign) in {pages} reads, {millis} ms{}",
                if *matcher {
                    ""
                } else {
                    "; this key is not the market's matcher: upkeep only"
                }
            ),
            Self::Round {
                matches,
                micros,
                size,
            } => write!(
                f,
                "round: {matches} matches in {micros} us ({} waiting, {} held)",
                size.waiting_jobs, size.held
            ),
            Self::Assigned {
                job,
                provider,
                signature,
                seen_to_assigned_ms,
                created_to_assigned_s,
            } => write!(
                f,
                "assigned job {job} to provider {provider} ({signature}), {created_to_assigned_s} s after creation{}",
                seen_to_assigned_ms
                    .map(|ms| format!(", {ms} ms after it was seen"))
                    .unwrap_or_default()
            ),
            Self::AssignRefused {
                job,
                provider,
                error,
                retry,
            } => write!(
                f,
                "assignment of job {job} to provider {provider} refused: {error}{}",
                if *retry {
                    "; offering it to another provider"
                } else {
                    "; leaving it to the providers"
                }
            ),
            Self::AssignUnconfirmed {
                job,
                provider,
                error,
            } => write!(
                f,
                "assignment of job {job} to provider {provider} unconfirmed: {error}"
            ),
            Self::Upkeep { action, outcome } => write!(f, "upkeep {action}: {outcome}"),
            Self::RewardsCrank {
                finalized_epochs,
                folds,
                refused,
            } => {
                let records: usize = folds.iter().map(|(_, _, n)| n).sum();
                write!(
                    f,
                    "rewards crank: finalized epochs {finalized_epochs:?}, folded {records} reward records in {} transactions",
                    folds.len()
                )?;
                for refusal in refused {
                    write!(f, "; refused: {refusal}")?;
                }
                Ok(())
            }
            Self::Disconnected { error, retry_in_ms } => {
                write!(f, "disconnected ({error}); reconnecting in {retry_in_ms} ms")
            }
            Self::Stopped { assigned, upkeep } => write!(
                f,
                "stopped after {assigned} assignments and {upkeep} upkeep transactions"
            ),
        }
    }
}

/// The service's counters and timings, as the Prometheus endpoint shows them.
#[derive(Clone)]
struct Metrics {
    providers: Gauge,
    indexed_providers: Gauge,
    jobs: Gauge,
    assignable_jobs: Gauge,
    waiting_jobs: Gauge,
    held: Gauge,
    updates: Counter,
    stale_updates: Counter,
    rounds: Histogram,
    assignments: Counter,
    assign_refusals: Counter,
    seen_to_assigned: Histogram,
    created_to_assigned: Histogram,
    upkeep: Counter,
    upkeep_refusals: Counter,
    snapshots: Counter,
    snapshot_seconds: Histogram,
    disconnects: Counter,
}

impl Metrics {
    fn new() -> (Self, Registry) {
        let seconds = || Histogram::new(exponential_buckets(0.000_01, 4.0, 12));
        let metrics = Self {
            providers: Gauge::default(),
            indexed_providers: Gauge::default(),
            jobs: Gauge::default(),
            assignable_jobs: Gauge::default(),
            waiting_jobs: Gauge::default(),
            held: Gauge::default(),
            updates: Counter::default(),
            stale_updates: Counter::default(),
            rounds: seconds(),
            assignments: Counter::default(),
            assign_refusals: Counter::default(),
            seen_to_assigned: seconds(),
            created_to_assigned: Histogram::new(exponential_buckets(1.0, 2.0, 10)),
            upkeep: Counter::default(),
            upkeep_refusals: Counter::default(),
            snapshots: Counter::default(),
            snapshot_seconds: Histogram::new(exponential_buckets(0.01, 4.0, 10)),
            disconnects: Counter::default(),
        };
        let mut registry = Registry::with_prefix("gpu_market_matcher");
        let m = metrics.clone();
        registry.register("providers", "Providers held", m.providers);
        registry.register(
            "indexed_providers",
            "Providers that could take a job (active, fully staked)",
            m.indexed_providers,
        );
        registry.register("jobs", "Jobs held (every status)", m.jobs);
        registry.register(
            "assignable_jobs",
            "Open instant jobs in this matcher's window",
            m.assignable_jobs,
        );
        registry.register(
            "waiting_jobs",
            "Assignable jobs without a provider",
            m.waiting_jobs,
        );
        registry.register(
            "held_reservations",
            "Assignments confirmed whose provider update has not arrived",
            m.held,
        );
        registry.register("updates", "Account updates applied", m.updates);
        registry.register(
            "stale_updates",
            "Account updates older than the state held",
            m.stale_updates,
        );
        registry.register_with_unit(
            "round",
            "Time of a round over what changed",
            prometheus_client::registry::Unit::Seconds,
            m.rounds,
        );
        registry.register("assignments", "Assignments confirmed", m.assignments);
        registry.register(
            "assignment_refusals",
            "Assignments refused or not sent",
            m.assign_refusals,
        );
        registry.register_with_unit(
            "seen_to_assigned",
            "From the service's first sight of a job to its assignment",
            prometheus_client::registry::Unit::Seconds,
            m.seen_to_assigned,
        );
        registry.register_with_unit(
            "created_to_assigned",
            "From a job's creation to its assignment, in cluster time",
            prometheus_client::registry::Unit::Seconds,
            m.created_to_assigned,
        );
        registry.register("upkeep", "Upkeep transactions confirmed", m.upkeep);
        registry.register(
            "upkeep_refusals",
            "Upkeep transactions refused",
            m.upkeep_refusals,
        );
        registry.register("snapshots", "Whole-market reads", m.snapshots);
        registry.register_with_unit(
            "snapshot",
            "Time to read the market and build the index",
            prometheus_client::registry::Unit::Seconds,
            m.snapshot_seconds,
        );
        registry.register(
            "disconnects",
            "Subscriptions or reads that failed",
            m.disconnects,
        );
        (metrics, registry)
    }

    fn size(&self, size: LiveSize) {
        let set = |g: &Gauge, n: usize| {
            g.set(i64::try_from(n).unwrap_or(i64::MAX));
        };
        set(&self.providers, size.providers);
        set(&self.indexed_providers, size.index.indexed_providers);
        set(&self.jobs, size.jobs);
        set(&self.assignable_jobs, size.assignable_jobs);
        set(&self.waiting_jobs, size.index.waiting_jobs);
        set(&self.held, size.held);
    }
}

/// Serves `registry` as Prometheus text on `addr` (GET /metrics) from a thread of its own.
/// Fails at once if the address cannot be bound.
fn serve_metrics(addr: SocketAddr, registry: Registry) -> Result<SocketAddr, CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(|e| CliError::input(format!("cannot start the metrics server: {e}")))?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(addr))
        .map_err(|e| CliError::input(format!("cannot listen on --metrics {addr}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| CliError::input(format!("--metrics {addr}: {e}")))?;
    let registry = Arc::new(registry);
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let registry = registry.clone();
            async move {
                let mut body = String::new();
                match encode(&mut body, &registry) {
                    Ok(()) => (
                        axum::http::StatusCode::OK,
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8",
                        )],
                        body,
                    ),
                    Err(err) => (
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                        [(axum::http::header::CONTENT_TYPE, "text/plain")],
                        format!("cannot encode the metrics: {err}"),
                    ),
                }
            }
        }),
    );
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            let _ = runtime.block_on(async move { axum::serve(listener, app).await });
        })
        .map_err(|e| CliError::input(format!("cannot start the metrics server: {e}")))?;
    Ok(bound)
}

static STOP: AtomicBool = AtomicBool::new(false);

/// How long a sent upkeep action waits before it is tried again (it is normally gone from
/// the due list by then); a refused one waits this long doubled per refusal, up to
/// [`MAX_UPKEEP_RETRY`].
const UPKEEP_RETRY: StdDuration = StdDuration::from_secs(30);
const MAX_UPKEEP_RETRY: StdDuration = StdDuration::from_secs(600);
/// The most upkeep transactions one pass sends, so that matching never waits long on them.
const UPKEEP_BATCH: usize = 16;
/// How long a node's health check may take.
const PROBE_TIMEOUT: StdDuration = StdDuration::from_secs(2);
/// How long a node whose health check failed is passed over.
const PROBE_BACKOFF: StdDuration = StdDuration::from_secs(60);
/// How often the reward crank looks for epochs to fold or finalize.
const CRANK_EVERY: StdDuration = StdDuration::from_secs(60);
/// The longest pause between reconnection attempts.
const MAX_BACKOFF: StdDuration = StdDuration::from_secs(30);
/// How long one wait for updates lasts before the service looks at the clock.
const POLL: StdDuration = StdDuration::from_millis(200);
/// How often the cluster's clock is read.
const CLOCK_EVERY: StdDuration = StdDuration::from_secs(1);
/// How long the service waits for the websocket's first slot after subscribing.
const FIRST_SLOT: StdDuration = StdDuration::from_secs(5);
/// The most updates applied before a round runs.
const DRAIN: usize = 10_000;
/// How long one tick may spend sending assignments; the matches left go back to the index
/// for the next tick, so updates, upkeep and Ctrl-C are never kept waiting long.
const SEND_BUDGET: StdDuration = StdDuration::from_secs(5);
/// How long the service waits for the RPC node to reach the websocket's slot.
const CATCH_UP: StdDuration = StdDuration::from_secs(30);

fn seconds(d: Duration) -> StdDuration {
    StdDuration::from_secs(d.seconds.max(0).unsigned_abs())
}

/// Why a connection ended.
enum Ended {
    /// A re-read is due, or the service stops.
    Done,
    /// The node or the feed failed: try again after a pause.
    Failed(String),
    /// Nothing to serve (no market on this cluster): stop with this error.
    Fatal(CliError),
}

/// When an upkeep action may be tried again, and how often it was refused.
#[derive(Clone, Copy)]
struct Tried {
    again_at: Instant,
    refusals: u32,
}

struct Service<'a> {
    ctx: &'a mut Context<RpcChain>,
    args: &'a ServeArgs,
    me: Pubkey,
    metrics: Metrics,
    /// When each job was first seen open.
    seen: HashMap<Pubkey, Instant>,
    tried: HashMap<Action, Tried>,
    assigned: u64,
    upkept: u64,
    /// When the reward crank next runs.
    next_crank: Instant,
    /// Providers whose endpoint failed its health check, until when they are not tried.
    unreachable: HashMap<Pubkey, Instant>,
}

pub fn run(ctx: &mut Context<RpcChain>, args: ServeArgs) -> Result<(), CliError> {
    if ctx.dry_run {
        return Err(CliError::Usage(
            "market serve sends transactions as it goes and cannot honour --dry-run: use `market match --no-upkeep` to see a round without sending".into(),
        ));
    }
    let me = ctx.me()?;
    let ws_url = match &args.ws_url {
        Some(url) => url.clone(),
        None => ctx.chain.websocket_url()?,
    };
    let (metrics, registry) = Metrics::new();
    if let Some(addr) = args.metrics {
        let bound = serve_metrics(addr, registry)?;
        eprintln!("metrics on http://{bound}/metrics");
    }
    let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst));
    let mut service = Service {
        ctx,
        args: &args,
        me,
        metrics,
        seen: HashMap::new(),
        tried: HashMap::new(),
        assigned: 0,
        upkept: 0,
        next_crank: Instant::now(),
        unreachable: HashMap::new(),
    };
    service.run(&ws_url)
}

impl Service<'_> {
    fn emit(&mut self, event: Event) {
        let line = match self.ctx.format {
            OutputFormat::Json => serde_json::to_string(&event).unwrap_or_default(),
            OutputFormat::Text => event.to_string(),
        };
        let _ = writeln!(self.ctx.out, "{line}");
        let _ = self.ctx.out.flush();
    }

    fn run(&mut self, ws_url: &str) -> Result<(), CliError> {
        let started = Instant::now();
        let deadline = self.args.stop_after.map(|d| started + seconds(d));
        let over = |deadline: Option<Instant>| {
            STOP.load(Ordering::SeqCst) || deadline.is_some_and(|d| Instant::now() >= d)
        };
        let mut backoff = StdDuration::from_secs(1);
        while !over(deadline) {
            let error = match self.connected(ws_url, deadline, &over, &mut backoff) {
                Ended::Done => continue,
                Ended::Fatal(err) => return Err(err),
                Ended::Failed(error) => error,
            };
            self.metrics.disconnects.inc();
            self.emit(Event::Disconnected {
                error,
                retry_in_ms: backoff.as_millis(),
            });
            let until = Instant::now() + backoff;
            while Instant::now() < until && !over(deadline) {
                std::thread::sleep(StdDuration::from_millis(50));
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        self.emit(Event::Stopped {
            assigned: self.assigned,
            upkeep: self.upkept,
        });
        Ok(())
    }

    /// Subscribes, reads the market and serves it until a re-read is due or the service
    /// stops ([`Ended::Done`]), or the node fails.
    fn connected(
        &mut self,
        ws_url: &str,
        deadline: Option<Instant>,
        over: &dyn Fn(Option<Instant>) -> bool,
        backoff: &mut StdDuration,
    ) -> Ended {
        let failed = |e: &dyn std::fmt::Display| Ended::Failed(e.to_string());
        let began = Instant::now();
        // The slot first: the subscriptions then push nothing older. The snapshot is read
        // no older than the newest slot either side has seen, so it misses nothing they do
        // not push.
        let slot = match self.ctx.chain.slot() {
            Ok(slot) => slot,
            Err(e) => return failed(&e),
        };
        let mut feed = match AccountFeed::subscribe(
            ws_url,
            &[
                gpu_market_client::program_ids::provider_registry(),
                gpu_market_client::program_ids::staking(),
                gpu_market_client::program_ids::job_escrow(),
            ],
            self.ctx.chain.commitment(),
        ) {
            Ok(feed) => feed,
            Err(e) => return failed(&e),
        };
        let since = match feed.wait_for_slot(FIRST_SLOT) {
            Ok(ws_slot) => ws_slot.unwrap_or(slot).max(slot),
            Err(e) => return failed(&e),
        };
        // The websocket announces the newest slot; the node reads at the chosen
        // commitment, which may take a while to get there.
        let catching_up = Instant::now();
        loop {
            match self.ctx.chain.slot() {
                Ok(at) if at >= since => break,
                Ok(_) if catching_up.elapsed() < CATCH_UP && !over(deadline) => {
                    std::thread::sleep(StdDuration::from_millis(200));
                }
                Ok(at) => {
                    return Ended::Failed(format!(
                        "the RPC node is at slot {at}, behind the websocket's {since}"
                    ))
                }
                Err(e) => return failed(&e),
            }
        }
        let shards = if self.args.sharded {
            Shards::ByFirstByte
        } else {
            Shards::Whole
        };
        self.ctx.chain.set_min_context_slot(Some(since));
        let loaded = LiveMarket::load(&mut self.ctx.chain, self.me, shards, slot);
        self.ctx.chain.set_min_context_slot(None);
        let (mut live, read) = match loaded {
            Ok(loaded) => loaded,
            Err(ClientError::AccountNotFound(address)) if is_config(&address) => {
                return Ended::Fatal(CliError::input(format!(
                    "this cluster has no gpu-market (no account at {address}): check --url, or run `gpu-market admin init`"
                )))
            }
            Err(e) => return failed(&e),
        };
        let mut now = match live_now(&mut self.ctx.chain) {
            Ok(now) => now,
            Err(e) => return failed(&e),
        };
        let elapsed = began.elapsed();
        self.metrics.snapshots.inc();
        self.metrics.snapshot_seconds.observe(elapsed.as_secs_f64());
        self.metrics.size(live.size());
        let is_matcher = live.escrow.matcher == self.me;
        self.emit(Event::Snapshot {
            slot: since,
            pages: read.pages,
            providers: read.providers,
            stakes: read.stakes,
            jobs: read.jobs,
            assignable_jobs: live.size().assignable_jobs,
            millis: elapsed.as_millis(),
            matcher: is_matcher,
        });
        // Jobs the snapshot found open count as seen now.
        let at = Instant::now();
        self.seen.retain(|job, _| live.job(job).is_some());
        for job in live.open_jobs() {
            self.seen.entry(job).or_insert(at);
        }
        self.tried.clear();
        let mut last_upkeep: Option<Instant> = None;
        // The next re-read is due a full period after this one ended.
        let serving = Instant::now();
        let resnapshot_at = serving + seconds(self.args.resnapshot_every);
        let mut first = true;
        loop {
            if over(deadline) || Instant::now() >= resnapshot_at {
                return Ended::Done;
            }
            // A connection that served a while is a good one: the next failure starts the
            // pauses over.
            if serving.elapsed() >= MAX_BACKOFF {
                *backoff = StdDuration::from_secs(1);
            }
            let mut updates = Vec::new();
            match feed.next(POLL) {
                Ok(Some(update)) => updates.push(update),
                Ok(None) => {}
                Err(err) => return failed(&err),
            }
            match feed.drain(DRAIN) {
                Ok(more) => updates.extend(more),
                Err(err) => return failed(&err),
            }
            let busy = !updates.is_empty();
            for update in updates {
                self.apply(&mut live, update);
            }
            if now.1.elapsed() >= CLOCK_EVERY {
                now = match live_now(&mut self.ctx.chain) {
                    Ok(now) => now,
                    Err(e) => return failed(&e),
                };
            }
            let round = Instant::now();
            let matches = live.tick(now.0);
            let took = round.elapsed();
            if busy || !matches.is_empty() || first {
                self.metrics.rounds.observe(took.as_secs_f64());
            }
            if !matches.is_empty() || first {
                first = false;
                self.emit(Event::Round {
                    matches: matches.len(),
                    micros: took.as_micros(),
                    size: live.size().into(),
                });
            }
            let sending = Instant::now();
            let mut matches = matches.into_iter();
            for m in matches.by_ref() {
                self.assign(&mut live, m.job, m.provider, now.0);
                if over(deadline) || sending.elapsed() >= SEND_BUDGET {
                    break;
                }
            }
            for m in matches {
                live.unsent(&m.job);
            }
            let upkeep_due =
                last_upkeep.is_none_or(|at| at.elapsed() >= seconds(self.args.upkeep_every));
            if !self.args.no_upkeep && upkeep_due {
                last_upkeep = Some(Instant::now());
                self.upkeep(&mut live, now.0);
            }
            self.metrics.size(live.size());
        }
    }

    fn apply(&mut self, live: &mut LiveMarket, update: Update) {
        let address = update.address;
        match live.apply(update) {
            Applied::Stale => {
                self.metrics.stale_updates.inc();
            }
            applied => {
                self.metrics.updates.inc();
                if applied == Applied::Job {
                    if live
                        .job(&address)
                        .is_some_and(|j| j.status == escrow::JobStatus::Open)
                    {
                        self.seen.entry(address).or_insert_with(Instant::now);
                    } else {
                        self.seen.remove(&address);
                    }
                }
            }
        };
    }

    /// The job's account is read again after what was sent on it, from a node no older than
    /// the state held: a closed account is something no subscription pushes.
    fn closed_since(&mut self, live: &mut LiveMarket, job: &Pubkey) {
        let slot = live.slot_of(job).unwrap_or_default();
        self.ctx.chain.set_min_context_slot(Some(slot));
        let read = self.ctx.chain.account(job);
        self.ctx.chain.set_min_context_slot(None);
        if let Ok(None) = read {
            self.apply(
                live,
                Update {
                    address: *job,
                    slot,
                    account: None,
                },
            );
        }
    }

    fn signer(&self) -> Result<solana_keypair::Keypair, ClientError> {
        self.ctx
            .keypair
            .as_ref()
            .map(solana_keypair::Keypair::insecure_clone)
            .map_err(|why| ClientError::Backend(why.clone()))
    }

    fn assign(&mut self, live: &mut LiveMarket, job: Pubkey, provider: Pubkey, now: i64) {
        let Some((authority, endpoint, operator)) = live
            .provider(&provider)
            .map(|p| (p.authority, p.endpoint.clone(), p.operator))
        else {
            live.failed(&job, &provider);
            return;
        };
        // The chain counts a node live for its heartbeat interval and grace; before handing
        // it a start it would be slashed for missing, ask the node itself.
        let recent = self
            .unreachable
            .get(&provider)
            .is_some_and(|until| Instant::now() < *until);
        let checked = if recent {
            Err("it failed one less than a minute ago".to_string())
        } else {
            node_api::probe(&endpoint, &operator, PROBE_TIMEOUT).map_err(|e| e.to_string())
        };
        if let Err(why) = checked {
            if !recent {
                self.unreachable
                    .insert(provider, Instant::now() + PROBE_BACKOFF);
            }
            self.metrics.assign_refusals.inc();
            let retry = live.failed(&job, &provider);
            self.emit(Event::AssignRefused {
                job,
                provider,
                error: format!(
                    "not sent: the node at {endpoint} did not answer its health check: {why}"
                ),
                retry,
            });
            return;
        }
        self.unreachable.remove(&provider);
        let mut ix = escrow::assign_job(&self.me, &authority, &job);
        if let Some(account) = live.job(&job) {
            ix = escrow::taking(ix, account);
        }
        let result = self
            .signer()
            .and_then(|me| self.ctx.chain.send(&[ix], &[&me]));
        match result {
            Ok(sent) => {
                self.assigned = self.assigned.saturating_add(1);
                self.metrics.assignments.inc();
                let seen = self.seen.remove(&job).map(|at| at.elapsed());
                if let Some(seen) = seen {
                    self.metrics.seen_to_assigned.observe(seen.as_secs_f64());
                }
                let created = live.job(&job).map_or(now, |j| j.created_at);
                let created_to_assigned_s = now.saturating_sub(created).max(0);
                self.metrics
                    .created_to_assigned
                    .observe(created_to_assigned_s as f64);
                self.emit(Event::Assigned {
                    job,
                    provider,
                    signature: sent.signature.to_string(),
                    seen_to_assigned_ms: seen.map(|s| s.as_millis()),
                    created_to_assigned_s,
                });
            }
            Err(ClientError::OutcomeUnknown(why)) => {
                // It may have landed: the match stays reserved until the job's update (or
                // the end of its window) settles it.
                self.metrics.assign_refusals.inc();
                self.emit(Event::AssignUnconfirmed {
                    job,
                    provider,
                    error: why,
                });
            }
            Err(err) => {
                self.metrics.assign_refusals.inc();
                let retry = live.failed(&job, &provider);
                self.emit(Event::AssignRefused {
                    job,
                    provider,
                    error: err.to_string(),
                    retry,
                });
                self.closed_since(live, &job);
            }
        }
    }

    /// The reward crank, once a minute, at most [`UPKEEP_BATCH`] transactions a pass (at
    /// every upkeep while more is due), so that matching never waits long on it: it reads
    /// the emission config and the shards, and the ended epoch's reward records while that
    /// epoch's fold window is open.
    fn rewards_crank(&mut self) {
        if Instant::now() < self.next_crank {
            return;
        }
        self.next_crank = Instant::now() + CRANK_EVERY;
        let report = self
            .signer()
            .and_then(|me| rewards::crank(&mut self.ctx.chain, &me, UPKEEP_BATCH));
        let event = match report {
            Ok(report) if report.is_empty() => return,
            Ok(report) => {
                if report.sent() >= UPKEEP_BATCH && report.refused.is_empty() {
                    // More is due: go on at the next upkeep rather than in a minute (after
                    // a refusal, in a minute as usual).
                    self.next_crank = Instant::now();
                }
                let sent = report.finalized.len().saturating_add(report.folded.len());
                self.upkept = self.upkept.saturating_add(sent as u64);
                Event::RewardsCrank {
                    finalized_epochs: report.finalized,
                    folds: report.folded,
                    refused: report.refused,
                }
            }
            Err(err) => Event::RewardsCrank {
                finalized_epochs: Vec::new(),
                folds: Vec::new(),
                refused: vec![err.to_string()],
            },
        };
        self.emit(event);
    }

    fn upkeep(&mut self, live: &mut LiveMarket, now: i64) {
        self.rewards_crank();
        let due = live.upkeep(now);
        let at = Instant::now();
        self.tried.retain(|action, _| due.contains(action));
        let mut sent = 0;
        for action in due {
            if sent >= UPKEEP_BATCH {
                break;
            }
            let tried = self.tried.get(&action).copied();
            if tried.is_some_and(|t| t.again_at > at) {
                continue;
            }
            sent += 1;
            let job = action.job();
            let provider: Vec<Pubkey> = live
                .job(&job)
                .and_then(|j| j.assignment.as_ref())
                .map(|a| vec![a.provider])
                .unwrap_or_default();
            let outcome = self.signer().and_then(|me| {
                let snapshot = live.snapshot_for(&mut self.ctx.chain, &[job], &provider)?;
                driver::execute(&mut self.ctx.chain, &snapshot, &me, &action)
            });
            let refusals = tried.map_or(0, |t| t.refusals);
            let (outcome, refusals) = match outcome {
                Ok(sent) => {
                    self.upkept = self.upkept.saturating_add(1);
                    self.metrics.upkeep.inc();
                    (sent.signature.to_string(), refusals)
                }
                Err(err) => {
                    self.metrics.upkeep_refusals.inc();
                    (format!("refused: {err}"), refusals.saturating_add(1))
                }
            };
            let wait = UPKEEP_RETRY
                .saturating_mul(1u32 << refusals.min(5))
                .min(MAX_UPKEEP_RETRY);
            self.tried.insert(
                action,
                Tried {
                    again_at: Instant::now() + wait,
                    refusals,
                },
            );
            self.emit(Event::Upkeep { action, outcome });
            self.closed_since(live, &job);
        }
    }
}

/// Whether `address` is one of the configs a market cannot run without.
fn is_config(address: &Pubkey) -> bool {
    [
        pda::staking_config(),
        pda::registry_config(),
        pda::market_config(),
    ]
    .contains(address)
}

/// The cluster's time and when it was read.
fn live_now(chain: &mut RpcChain) -> Result<(i64, Instant), String> {
    let now = chain.now().map_err(|e| e.to_string())?;
    Ok((now, Instant::now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_print_as_one_json_line_each() {
        let job = Pubkey::new_unique();
        let event = Event::Upkeep {
            action: Action::Reclaim { job },
            outcome: "sig".into(),
        };
        let line = serde_json::to_string(&event).unwrap();
        assert!(!line.contains('\n'));
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["event"], "upkeep");
        assert_eq!(value["outcome"], "sig");
    }

    #[test]
    fn the_metrics_encode_as_prometheus_text() {
        let (metrics, registry) = Metrics::new();
        metrics.assignments.inc();
        metrics.rounds.observe(0.000_2);
        let mut text = String::new();
        encode(&mut text, &registry).unwrap();
        assert!(
            text.contains("gpu_market_matcher_assignments_total 1"),
            "{text}"
        );
        assert!(
            text.contains("gpu_market_matcher_round_seconds_count 1"),
            "{text}"
        );
    }
}
