//! `gpu-market verify canary`: known-answer jobs that check providers with no arbiter.
//!
//! Each canary is a batch job whose workload is a seeded computation (a Lehmer generator
//! run for `--rounds` steps) whose output this command computes itself. The job commits to
//! `sha256(expected result hash || salt)`, which on chain looks like the random commitment
//! of any other job. When a result comes in, a matching one is approved like any paid job
//! (the commitment is never opened, so nobody learns that the job was a check); a result
//! that differs is answered with `reveal_canary` inside the challenge window: the provider
//! is slashed and the client refunded.
//!
//! Everything about canary `i` of a seed derives from the wallet's secret key, the seed and
//! `i` (its job id, its generator's start, its salt), so running the command again with the
//! same seed resumes the same canaries: jobs that exist are checked, jobs that ended are
//! reported from the cluster's history, and none is posted twice.

use crate::{
    job::{self, History},
    units::{format_amount, Decimal, Duration},
    CliError, Context,
};
use clap::{Args, Subcommand};
use gpu_market_agent::executor::process_workload;
use gpu_market_client::{
    escrow::{self, Job, JobKind, JobMode, JobStatus, SlashKeys, Workload},
    market::MarketSnapshot,
    pda,
    registry::{ClassFilter, Requirements},
    staking::StakingConfig,
    token, Chain, Keypair, Pubkey, Signer,
};
use job_escrow::CreateJobArgs;
use serde::Serialize;
use std::{collections::BTreeMap, fmt};

#[derive(Debug, Subcommand)]
pub enum VerifyCommand {
    /// Post known-answer (canary) jobs from your wallet, spread over the market's
    /// providers, and check their results: a wrong one is slashed on chain, with no
    /// arbiter. Reports per provider what it caught.
    ///
    /// Each canary is a batch job sized and priced like a real one (the requirements of a
    /// provider the seed draws: its GPU class, region, VRAM and benchmark, at its asking
    /// price) running a seeded computation whose answer this command computes itself. Its
    /// commitment on chain looks like any job's. A matching result is approved (the
    /// provider is paid, as for any job); a wrong one is revealed inside the challenge
    /// window: the provider loses the market's wrong-result slash and you get the whole
    /// deposit back. Run it again with the same --seed to resume; use a new seed for new
    /// canaries (an answer, once revealed, is public).
    Canary(CanaryArgs),
}

#[derive(Debug, Args)]
pub struct CanaryArgs {
    /// Seed of this set of canaries: with your key it fixes every job, workload and salt.
    #[arg(long)]
    pub seed: u64,
    /// How many canaries to post, 1 to 100 (run again, the first this many are checked).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub count: u16,
    /// GPUs each canary asks for (a provider with fewer is not drawn).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub gpus: u16,
    /// Longest run each canary pays for, e.g. 1h.
    #[arg(long, default_value = "1h")]
    pub duration: Duration,
    /// Most a canary pays per GPU-hour; providers asking more are not drawn (default:
    /// each drawn provider's asking price).
    #[arg(long)]
    pub max_price: Option<Decimal>,
    /// Mint to pay in (default: the market's first).
    #[arg(long, value_parser = crate::parse_pubkey)]
    pub payment_mint: Option<Pubkey>,
    /// Steps of the seeded generator each canary runs, 1 to 1,000,000,000 (about
    /// 10,000,000 a second on one core).
    #[arg(long, default_value_t = 2_000_000,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000_000))]
    pub rounds: u32,
    /// Check once and exit (after posting the canaries not posted yet), rather than until
    /// every canary has a verdict.
    #[arg(long)]
    pub once: bool,
    /// Time between checks, e.g. 10s.
    #[arg(long, default_value = "10s")]
    pub interval: Duration,
    /// Stop waiting after this long (the canaries stay; run again to resume), e.g. 6h.
    #[arg(long, default_value = "1d")]
    pub timeout: Duration,
}

/// The generator's modulus and multiplier (Park and Miller's minimal standard): every
/// product stays below 2^47, exact in the double-precision arithmetic of any `awk`.
const MODULUS: u64 = 2_147_483_647;
const MULTIPLIER: u64 = 48_271;

/// The salt of the known-answer job `job_id` of the wallet `keypair` (`job submit
/// --known-answer`, `job reveal`): drawn from its secret key, so that only it can open the
/// commitment, and recomputed rather than stored.
pub fn job_salt(keypair: &Keypair, job_id: u64) -> [u8; 32] {
    solana_sha256_hasher::hashv(&[
        b"gpu-market job salt v1",
        keypair.secret_bytes(),
        &job_id.to_le_bytes(),
    ])
    .to_bytes()
}

/// One known-answer job: where it lives and what it must answer.
#[derive(Debug, Clone)]
pub struct Canary {
    pub seed: u64,
    pub index: u16,
    pub job_id: u64,
    /// The generator's first state, 1 to `MODULUS - 1`.
    pub start: u64,
    pub rounds: u32,
    pub salt: [u8; 32],
}

impl Canary {
    /// Canary `index` of `seed` for the wallet `keypair`: derived from its secret key, so
    /// nobody else can tell its job id, workload or salt from the seed.
    pub fn new(keypair: &Keypair, seed: u64, index: u16, rounds: u32) -> Self {
        // The rounds too: another --rounds is another set of canaries, never a resume that
        // would judge the old jobs by the new answer.
        let derive = |what: &[u8]| {
            solana_sha256_hasher::hashv(&[
                b"gpu-market canary v1",
                what,
                keypair.secret_bytes(),
                &seed.to_le_bytes(),
                &index.to_le_bytes(),
                &rounds.to_le_bytes(),
            ])
            .to_bytes()
        };
        let word = |bytes: [u8; 32]| {
            let mut first = [0; 8];
            first.copy_from_slice(&bytes[..8]);
            u64::from_le_bytes(first)
        };
        Self {
            seed,
            index,
            job_id: word(derive(b"job id")),
            start: 1 + word(derive(b"start")) % (MODULUS - 1),
            rounds,
            salt: derive(b"salt"),
        }
    }

    /// The shell command the provider runs.
    pub fn command(&self) -> String {
        format!(
            "awk 'BEGIN{{x={};for(i=0;i<{};i++)x=(x*{MULTIPLIER})%{MODULUS};printf \"%d\\n\",x}}'",
            self.start, self.rounds
        )
    }

    pub fn workload(&self) -> Workload {
        process_workload(&self.command())
    }

    /// What the command prints, computed here.
    pub fn output(&self) -> String {
        let mut x = self.start;
        for _ in 0..self.rounds {
            x = x.saturating_mul(MULTIPLIER) % MODULUS;
        }
        format!("{x}\n")
    }

    /// The result hash an honest provider submits: the SHA-256 of the output.
    pub fn expected(&self) -> [u8; 32] {
        solana_sha256_hasher::hash(self.output().as_bytes()).to_bytes()
    }

    pub fn commitment(&self) -> [u8; 32] {
        escrow::canary_commitment(&self.expected(), &self.salt)
    }
}

/// Where one canary stands.
#[derive(Debug, Clone, Serialize)]
pub struct CanaryView {
    pub index: u16,
    pub job: String,
    /// The provider account that ran it (or holds it), once one did.
    pub provider: Option<String>,
    /// waiting, passed, caught, unserved (refunded or reclaimed with no result) or missed
    /// (a wrong result whose challenge window closed before it was checked).
    pub verdict: &'static str,
    /// Details: the job's status while waiting, how it ended otherwise.
    pub detail: String,
}

/// What the canaries found at one provider.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProviderTally {
    pub provider: String,
    pub canaries: u32,
    pub passed: u32,
    pub caught: u32,
    pub missed: u32,
    pub unserved: u32,
    pub waiting: u32,
}

#[derive(Debug, Serialize)]
pub struct CanaryReport {
    pub wallet: String,
    pub seed: u64,
    pub canaries: Vec<CanaryView>,
    pub providers: Vec<ProviderTally>,
    /// Every canary has a verdict.
    pub complete: bool,
}

impl CanaryReport {
    fn new(wallet: Pubkey, seed: u64, canaries: Vec<CanaryView>) -> Self {
        let mut tally: BTreeMap<String, ProviderTally> = BTreeMap::new();
        for c in &canaries {
            let name = c
                .provider
                .clone()
                .unwrap_or_else(|| "(not taken yet)".into());
            let t = tally.entry(name.clone()).or_insert_with(|| ProviderTally {
                provider: name,
                ..Default::default()
            });
            t.canaries = t.canaries.saturating_add(1);
            let counter = match c.verdict {
                "passed" => &mut t.passed,
                "caught" => &mut t.caught,
                "missed" => &mut t.missed,
                "unserved" => &mut t.unserved,
                _ => &mut t.waiting,
            };
            *counter = counter.saturating_add(1);
        }
        Self {
            wallet: wallet.to_string(),
            seed,
            complete: canaries.iter().all(|c| c.verdict != "waiting"),
            canaries,
            providers: tally.into_values().collect(),
        }
    }
}

impl fmt::Display for CanaryReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<Vec<String>> = self
            .providers
            .iter()
            .map(|t| {
                vec![
                    t.provider.clone(),
                    t.canaries.to_string(),
                    t.passed.to_string(),
                    t.caught.to_string(),
                    t.missed.to_string(),
                    t.unserved.to_string(),
                    t.waiting.to_string(),
                ]
            })
            .collect();
        write!(
            f,
            "{}",
            crate::output::table(
                &["provider", "canaries", "passed", "caught", "missed", "unserved", "waiting"],
                &rows
            )
        )?;
        let caught = self.providers.iter().map(|t| t.caught).sum::<u32>();
        write!(
            f,
            "\n{} canaries of seed {}: {} caught, {}",
            self.canaries.len(),
            self.seed,
            caught,
            if self.complete {
                "all checked"
            } else {
                "some still waiting (run again with the same --seed to resume)"
            }
        )
    }
}

/// What happened to one canary in one pass, in words, when something did.
fn line(c: &CanaryView) -> String {
    format!(
        "canary {} (job {}) {}: {}",
        c.index, c.job, c.verdict, c.detail
    )
}

pub fn run<C: Chain>(ctx: &mut Context<C>, cmd: VerifyCommand) -> Result<(), CliError> {
    match cmd {
        VerifyCommand::Canary(args) => canary(ctx, &args),
    }
}

fn canary<C: Chain>(ctx: &mut Context<C>, args: &CanaryArgs) -> Result<(), CliError> {
    if ctx.dry_run {
        return Err(CliError::input(
            "`verify canary` posts and settles jobs over time: it has no dry run",
        ));
    }
    // A node runs about 10,000,000 steps a second; a tenth of that leaves slow nodes room.
    let needs = i64::from(args.rounds / 1_000_000).saturating_add(1);
    if args.duration.seconds < needs {
        return Err(CliError::input(format!(
            "--rounds {} can take a slow node up to {needs} s: give a --duration of at least {needs}s, or fewer rounds",
            args.rounds
        )));
    }
    let keypair = ctx.signer()?.insecure_clone();
    let me = keypair.pubkey();
    let canaries: Vec<Canary> = (0..args.count)
        .map(|i| Canary::new(&keypair, args.seed, i, args.rounds))
        .collect();
    post_missing(ctx, args, &canaries)?;
    let started = std::time::Instant::now();
    let mut said: BTreeMap<u16, &'static str> = BTreeMap::new();
    // Verdicts are final: a canary that has one is not read again.
    let mut settled: BTreeMap<u16, CanaryView> = BTreeMap::new();
    loop {
        let views = check(ctx, &canaries, &settled)?;
        for v in views.iter().filter(|v| v.verdict != "waiting") {
            settled.insert(v.index, v.clone());
        }
        if ctx.format == crate::output::OutputFormat::Text && !args.once {
            use std::io::Write as _;
            for v in &views {
                if said.get(&v.index) != Some(&v.verdict) && v.verdict != "waiting" {
                    writeln!(ctx.out, "{}", line(v))?;
                }
                said.insert(v.index, v.verdict);
            }
        }
        let report = CanaryReport::new(me, args.seed, views);
        if report.complete || args.once || started.elapsed() >= args.timeout.std() {
            return ctx.print(&report);
        }
        std::thread::sleep(args.interval.std());
    }
}

/// Posts the canaries whose job neither exists nor existed, each on a provider drawn by
/// the seed.
fn post_missing<C: Chain>(
    ctx: &mut Context<C>,
    args: &CanaryArgs,
    canaries: &[Canary],
) -> Result<(), CliError> {
    let me = ctx.me()?;
    let mut missing = Vec::new();
    for c in canaries {
        let address = pda::job(&me, c.job_id);
        if ctx.chain.exists(&address)? {
            continue;
        }
        if !matches!(job::ending(&mut ctx.chain, &address)?, History::Empty) {
            continue;
        }
        missing.push(c);
    }
    if missing.is_empty() {
        return Ok(());
    }
    let mint = ctx.payment_mint(args.payment_mint)?;
    let (decimals, program) = ctx.mint(&mint)?;
    let cap = args
        .max_price
        .as_ref()
        .map(|p| p.to_base_units(decimals))
        .transpose()
        .map_err(CliError::Input)?;
    let snapshot = MarketSnapshot::load(&mut ctx.chain)?;
    let policy = snapshot.policy();
    // The providers a canary can go to now, each with the requirements that describe it.
    let mut targets: Vec<(Requirements, u64)> = snapshot
        .providers
        .iter()
        .filter(|p| p.provider.payment_mint == mint)
        .filter(|p| cap.is_none_or(|cap| p.provider.price_per_gpu_hour <= cap))
        .filter_map(|p| {
            let hw = &p.provider.hardware;
            let requirements = Requirements {
                gpu_class: ClassFilter::from(hw.gpu_class),
                gpu_count: args.gpus,
                min_vram_mib: hw.vram_mib,
                min_cpu_cores: 0,
                min_ram_mib: 0,
                region: p.provider.region,
                min_benchmark: p.provider.benchmark_score,
                attested_only: false,
            };
            provider_registry::eligibility::satisfies(
                &p.provider,
                p.active_stake,
                &requirements,
                &policy,
                snapshot.now,
            )
            .is_ok()
            .then_some((requirements, p.provider.price_per_gpu_hour))
        })
        .collect();
    if targets.is_empty() {
        return Err(CliError::input(
            "no provider can take a canary now (active, live, paid in this mint, with the GPUs free and asking at most --max-price)",
        ));
    }
    // The seed orders the providers; canaries go round them.
    let mut rng = gpu_market_matcher::market_gen::Rng::new(args.seed);
    for i in (1..targets.len()).rev() {
        let j = usize::try_from(rng.below(u64::try_from(i + 1).unwrap_or(1))).unwrap_or(0);
        targets.swap(i, j);
    }
    let config = ctx.market_config()?;
    if args.duration.seconds > config.max_job_duration {
        return Err(CliError::input(format!(
            "--duration is longer than the {} s this market allows a job",
            config.max_job_duration
        )));
    }
    let mut deposits = 0u64;
    let mut posts = Vec::new();
    for (n, c) in missing.iter().enumerate() {
        let (requirements, price) = targets[n % targets.len()];
        let budget = job_escrow::math::max_cost(
            price,
            args.gpus,
            u64::try_from(args.duration.seconds).unwrap_or(0),
        )
        .map_err(|_| {
            CliError::input("a canary's maximum cost is more than a token amount can hold")
        })?;
        let tips = config
            .crank_tip
            .saturating_mul(u64::from(config.max_attempts));
        deposits = deposits.saturating_add(budget).saturating_add(tips);
        posts.push(escrow::create_job(
            &me,
            &mint,
            &program,
            CreateJobArgs {
                job_id: c.job_id,
                requirements,
                workload: c.workload(),
                kind: JobKind::Batch,
                mode: JobMode::Instant,
                max_price_per_gpu_hour: price,
                max_duration: args.duration.seconds,
                verification: c.commitment(),
            },
        ));
    }
    let source = token::associated_address(&me, &mint, &program);
    let held = if ctx.chain.exists(&source)? {
        token::balance(&mut ctx.chain, &source)?
    } else {
        0
    };
    if held < deposits {
        return Err(CliError::input(format!(
            "{} canaries escrow {} together but your token account {source} holds {}",
            posts.len(),
            format_amount(deposits, decimals),
            format_amount(held, decimals)
        )));
    }
    for ix in posts {
        ctx.send(&[ix], &[])?;
    }
    Ok(())
}

/// One pass over the canaries: approves the results that match, reveals the ones that do
/// not, and says where each stands.
fn check<C: Chain>(
    ctx: &mut Context<C>,
    canaries: &[Canary],
    settled: &BTreeMap<u16, CanaryView>,
) -> Result<Vec<CanaryView>, CliError> {
    let me = ctx.me()?;
    let mut views = Vec::with_capacity(canaries.len());
    for c in canaries {
        if let Some(view) = settled.get(&c.index) {
            views.push(view.clone());
            continue;
        }
        let address = pda::job(&me, c.job_id);
        let view = |provider: Option<Pubkey>, verdict, detail: String| CanaryView {
            index: c.index,
            job: address.to_string(),
            provider: provider.map(|p| p.to_string()),
            verdict,
            detail,
        };
        if !ctx.chain.exists(&address)? {
            views.push(match job::ending(&mut ctx.chain, &address)? {
                History::Ended(ending) => {
                    let verdict = match ending.ended {
                        "canary-failed" | "dispute-upheld" => "caught",
                        // Settled for the provider, by this command or by anyone once the
                        // window closed: right only if its result was.
                        "approved" | "finalized" | "dispute-rejected" | "dispute-timed-out" => {
                            match submitted_hash(&mut ctx.chain, &address)? {
                                Some(hash) if hash == c.expected() => "passed",
                                Some(_) => "missed",
                                None => "unserved",
                            }
                        }
                        _ => "unserved",
                    };
                    CanaryView {
                        index: c.index,
                        job: address.to_string(),
                        provider: ending.provider.clone(),
                        verdict,
                        detail: ending.how.clone(),
                    }
                }
                History::Unclosed | History::Empty => {
                    view(None, "waiting", "not on the cluster yet".into())
                }
            });
            continue;
        }
        let data: Job = ctx.chain.fetch(&address)?;
        if data.verification != c.commitment() {
            return Err(CliError::input(format!(
                "job {address} (canary {} of seed {}) does not commit to this canary's answer: it is not one of these canaries",
                c.index, c.seed
            )));
        } else if data.status == JobStatus::ResultSubmitted {
            let keypair = ctx.signer()?.insecure_clone();
            // A failure (a settlement racing another, a cluster that did not answer) is
            // this canary's alone: the others are still checked, and the next pass tries it
            // again.
            views.push(match settle(&mut ctx.chain, &keypair, c, &address, &data) {
                Ok(view) => view,
                Err(err) => view(
                    data.assignment.map(|a| a.provider),
                    "waiting",
                    format!("result in, but checking it failed: {err}"),
                ),
            });
        } else {
            let provider = data.assignment.map(|a| a.provider);
            views.push(view(
                provider,
                "waiting",
                job::status_name(data.status).into(),
            ));
        }
    }
    Ok(views)
}

/// Settles canary `c`, whose job at `address` holds a result, as its `client`: a result
/// that matches the known answer is approved (finalized once the challenge window has
/// closed) and the commitment stays closed; a wrong one is revealed while the window is
/// open.
pub fn settle(
    chain: &mut impl Chain,
    client: &Keypair,
    c: &Canary,
    address: &Pubkey,
    data: &Job,
) -> Result<CanaryView, CliError> {
    let me = client.pubkey();
    let provider = data.assignment.map(|a| a.provider.to_string());
    let result = data
        .result
        .as_ref()
        .filter(|_| data.status == JobStatus::ResultSubmitted)
        .ok_or_else(|| CliError::input(format!("job {address} holds no result to check")))?;
    let view = |verdict, detail: String| CanaryView {
        index: c.index,
        job: address.to_string(),
        provider: provider.clone(),
        verdict,
        detail,
    };
    let expected = c.expected();
    let window_ends = result
        .submitted_at
        .saturating_add(data.terms.challenge_window);
    let now = chain.now()?;
    let treasury = chain
        .fetch::<escrow::MarketConfig>(&pda::market_config())?
        .treasury;
    let program = token_program(chain, &data.payment_mint)?;
    if result.hash == expected {
        let (keys, mut ixs) = job::settle_keys_on(chain, &me, data, program, &treasury)?;
        ixs.push(if now < window_ends {
            escrow::approve_result(&keys)
        } else {
            escrow::finalize_job(&keys)
        });
        chain.send(&ixs, &[client])?;
        return Ok(view(
            "passed",
            "its result matched the known answer: approved and paid".into(),
        ));
    }
    if now >= window_ends {
        return Ok(view(
            "missed",
            "a wrong result whose challenge window closed before it was checked".into(),
        ));
    }
    let staking: StakingConfig = chain.fetch(&pda::staking_config())?;
    let stake_program = token_program(chain, &staking.stake_mint)?;
    let decimals = token::read_mint(chain, &staking.stake_mint)?.decimals;
    let (keys, mut ixs) = job::settle_keys_on(chain, &me, data, program, &treasury)?;
    ixs.push(escrow::reveal_canary(
        &keys,
        &SlashKeys {
            stake_mint: staking.stake_mint,
            stake_token_program: stake_program,
        },
        &staking.treasury,
        expected,
        c.salt,
    ));
    chain.send(&ixs, &[client])?;
    Ok(view(
        "caught",
        format!(
            "its result {} is not the known answer {}: revealed, the provider slashed {} stake tokens and the deposit refunded",
            gpu_market_client::hex::encode(&result.hash),
            gpu_market_client::hex::encode(&expected),
            format_amount(data.terms.slash.wrong_result, decimals)
        ),
    ))
}

/// The result hash submitted for the job at `address`, from its history (the latest
/// submission, of its last attempt).
fn submitted_hash(chain: &mut impl Chain, address: &Pubkey) -> Result<Option<[u8; 32]>, CliError> {
    for past in chain
        .signatures(address, job::HISTORY_LIMIT)?
        .iter()
        .filter(|s| !s.failed)
    {
        if let Some(tx) = chain.transaction(&past.signature)? {
            if let Some(e) = tx
                .events::<job_escrow::events::ResultSubmitted>()
                .into_iter()
                .find(|e| e.job == *address)
            {
                return Ok(Some(e.hash));
            }
        }
    }
    Ok(None)
}

fn token_program(chain: &mut impl Chain, mint: &Pubkey) -> Result<Pubkey, CliError> {
    chain
        .account(mint)?
        .map(|account| account.owner)
        .ok_or_else(|| CliError::input(format!("mint {mint} does not exist on this cluster")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_what_the_generator_gives() {
        // Park and Miller: 10,000 steps from 1 give 399,268,537 with multiplier 48,271.
        let c = Canary {
            seed: 0,
            index: 0,
            job_id: 1,
            start: 1,
            rounds: 10_000,
            salt: [0; 32],
        };
        assert_eq!(c.output(), "399268537\n");
        assert!(c
            .command()
            .contains("x=1;for(i=0;i<10000;i++)x=(x*48271)%2147483647"));
    }

    #[test]
    fn canaries_differ_by_index_seed_and_wallet() {
        let (a, b) = (Keypair::new(), Keypair::new());
        let c = |k: &Keypair, seed, i| Canary::new(k, seed, i, 10);
        let ids = [
            c(&a, 1, 0).job_id,
            c(&a, 1, 1).job_id,
            c(&a, 2, 0).job_id,
            c(&b, 1, 0).job_id,
        ];
        for (i, x) in ids.iter().enumerate() {
            for y in &ids[i + 1..] {
                assert_ne!(x, y);
            }
        }
        // Other rounds, other canaries.
        assert_ne!(c(&a, 1, 0).job_id, Canary::new(&a, 1, 0, 11).job_id);
        // The same inputs, the same canary: a run resumes.
        let (x, y) = (c(&a, 1, 0), c(&a, 1, 0));
        assert_eq!((x.job_id, x.start, x.salt), (y.job_id, y.start, y.salt));
        assert!((1..MODULUS).contains(&x.start));
        assert_eq!(
            x.commitment(),
            escrow::canary_commitment(&x.expected(), &x.salt)
        );
    }
}
