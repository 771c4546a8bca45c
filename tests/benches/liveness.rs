//! What liveness and uptime cost the chain and a provider: provider agents run a simulated
//! day on the in-process chain, in the default market (`gpu-market admin init` with no
//! flags), one idle and one serving a day-long lease. Counted from the chain's own history
//! of each operator's transactions: how many a node sends a day, by instruction, what they
//! cost in fees, and which writable accounts each periodic instruction locks, with those
//! that other nodes lock too (a shared writable account serialises every node that writes
//! it within a block). The market's reward crank runs beside them, as `market serve` runs
//! it. The per-node counts are then scaled to 10,000 and 200,000 nodes.
//!
//! `cargo bench -p gpu-market-tests --bench liveness 2>&1 >/dev/null` (the results go to
//! stderr; stdout carries the natively run programs' logs); `LIVENESS_TICK` (chain seconds
//! between agent passes, default 10) and `LIVENESS_HOURS` (default 24) change the run.

use clap::Parser;
use gpu_market_agent::{
    executor::{AutoExecutor, LocalProcessExecutor},
    Agent, AgentConfig,
};
use gpu_market_client::{
    escrow, pda, registry, rewards, staking, token, Chain, Instruction, Keypair, Pubkey, Signer,
};
use gpu_market_in_process::InProcessChain;
use std::collections::{BTreeMap, BTreeSet};

/// Lamports a signature costs (the base fee).
const FEE_PER_SIGNATURE: u64 = 5_000;
const LAMPORTS_PER_SOL: f64 = 1e9;
const TOKEN: u64 = 1_000_000;

#[derive(Parser)]
struct Deploy {
    #[command(flatten)]
    args: gpu_market_migrations::DeployArgs,
}

fn env(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A registered, staked node with its agent.
struct Node {
    name: &'static str,
    operator: Keypair,
    agent: Agent,
}

fn node(
    chain: &mut InProcessChain,
    admin: &Keypair,
    stake_mint: &Pubkey,
    name: &'static str,
    work: &std::path::Path,
) -> Node {
    let keypair = Keypair::new();
    let me = keypair.pubkey();
    chain
        .transfer_lamports(&me, 10_000_000_000)
        .expect("fund node");
    let registry: registry::RegistryConfig =
        chain.fetch(&pda::registry_config()).expect("registry");
    let stake = registry.min_stake_per_gpu;
    let source = token::create_token_account(chain, &me, stake_mint, &token::TOKEN_PROGRAM)
        .expect("stake account");
    token::mint_to(
        chain,
        stake_mint,
        admin,
        &source,
        stake,
        &token::TOKEN_PROGRAM,
    )
    .expect("mint stake");
    let listing = provider_registry::RegisterProviderArgs {
        operator: me,
        endpoint: "https://node.example:8443".into(),
        region: 276,
        hardware: registry::Hardware {
            gpu_model: "NVIDIA GeForce RTX 4090".into(),
            gpu_class: registry::GpuClass::Consumer,
            gpu_count: 1,
            vram_mib: 24_576,
            cpu_cores: 16,
            ram_mib: 65_536,
            disk_gib: 2_000,
            bandwidth_mbps: 1_000,
        },
        benchmark_score: 800,
        price_per_gpu_hour: 40 * TOKEN / 100,
        payment_mint: *stake_mint,
    };
    chain
        .send(
            &[
                staking::stake(&me, &source, stake_mint, &token::TOKEN_PROGRAM, stake),
                registry::register_provider(&me, listing),
            ],
            &[&keypair],
        )
        .expect("stake and register");
    let agent = Agent::new(
        keypair.insecure_clone(),
        me,
        Box::new(AutoExecutor::new(None, Some(LocalProcessExecutor::new()))),
        AgentConfig {
            work_dir: work.join(name),
            withdraw_every: 3_600,
        },
    );
    Node {
        name,
        operator: keypair,
        agent,
    }
}

/// Each periodic transaction of a node, as the agent sends it, with the writable accounts
/// it locks.
fn periodic(
    operator: &Pubkey,
    client: &Pubkey,
    payment_mint: &Pubkey,
    treasury: &Pubkey,
    epoch: u64,
) -> Vec<(&'static str, Vec<Instruction>)> {
    let job = &pda::job(client, 1);
    let keys = escrow::SettleAccounts {
        caller: *operator,
        client: *client,
        job_id: 1,
        payment_mint: *payment_mint,
        token_program: token::TOKEN_PROGRAM,
        provider_authority: *operator,
        treasury: *treasury,
    };
    let heartbeat = registry::heartbeat(operator, operator);
    let record = rewards::record_uptime(
        operator,
        operator,
        epoch,
        &[epoch.saturating_sub(2), epoch.saturating_sub(1)],
    );
    let job_heartbeat = escrow::heartbeat_job(operator, operator, job);
    vec![
        ("registry heartbeat", vec![heartbeat.clone()]),
        (
            "uptime record + heartbeat",
            vec![heartbeat.clone(), record.clone()],
        ),
        (
            "uptime record + job heartbeat + heartbeat",
            vec![heartbeat.clone(), record.clone(), job_heartbeat.clone()],
        ),
        (
            "uptime record + job heartbeat + withdrawal + heartbeat",
            vec![
                heartbeat.clone(),
                record,
                job_heartbeat.clone(),
                escrow::withdraw_earnings(operator, &keys, 1),
            ],
        ),
        ("job heartbeat + heartbeat", vec![heartbeat, job_heartbeat]),
    ]
}

fn writable(ixs: &[Instruction]) -> BTreeSet<Pubkey> {
    ixs.iter()
        .flat_map(|ix| &ix.accounts)
        .filter(|a| a.is_writable)
        .map(|a| a.pubkey)
        .collect()
}

fn main() {
    let tick = env("LIVENESS_TICK", 10);
    let hours = env("LIVENESS_HOURS", 24);
    let mut chain = InProcessChain::start().expect("chain");
    let admin = Keypair::new();
    chain
        .transfer_lamports(&admin.pubkey(), 100_000_000_000)
        .expect("fund admin");
    // Reward epoch 0 began half a day ago: the simulated day sees epoch 0 end, its fold
    // window open and close, and the epoch finalized and settled.
    let genesis = gpu_market_client::units::format_date(chain.now().expect("clock") - 12 * 3_600);
    let deploy = Deploy::parse_from(["admin-init", "--genesis-time", &genesis]).args;
    let deployment = deploy.deploy(&mut chain, &admin).expect("admin init");
    let stake_mint = deployment.stake_mint;
    let registry_config: registry::RegistryConfig =
        chain.fetch(&pda::registry_config()).expect("registry");
    let market: escrow::MarketConfig = chain.fetch(&pda::market_config()).expect("market");
    eprintln!(
        "default market: registry heartbeat interval {}s, job heartbeat grace {}s, reward epoch {}",
        registry_config.heartbeat_interval, market.heartbeat_grace, deploy.epoch_length
    );

    let work = tempfile::tempdir().expect("work dir");
    let mut busy = node(&mut chain, &admin, &stake_mint, "busy", work.path());
    let mut idle = node(&mut chain, &admin, &stake_mint, "idle", work.path());

    // A startup's day-long lease, which the busy node (ticking first) takes.
    let client = Keypair::new();
    chain
        .transfer_lamports(&client.pubkey(), 10_000_000_000)
        .expect("fund client");
    let tokens = token::create_token_account(
        &mut chain,
        &client.pubkey(),
        &stake_mint,
        &token::TOKEN_PROGRAM,
    )
    .expect("client tokens");
    token::mint_to(
        &mut chain,
        &stake_mint,
        &admin,
        &tokens,
        1_000 * TOKEN,
        &token::TOKEN_PROGRAM,
    )
    .expect("mint payment");
    let lease = escrow::create_job(
        &client.pubkey(),
        &stake_mint,
        &token::TOKEN_PROGRAM,
        job_escrow::CreateJobArgs {
            job_id: 1,
            requirements: registry::Requirements {
                gpu_class: registry::ClassFilter::Any,
                gpu_count: 1,
                min_vram_mib: 0,
                min_cpu_cores: 0,
                min_ram_mib: 0,
                region: 0,
                min_benchmark: 0,
                attested_only: false,
            },
            workload: gpu_market_agent::executor::process_workload("sleep 1000000"),
            kind: escrow::JobKind::Lease,
            mode: escrow::JobMode::Instant,
            max_price_per_gpu_hour: TOKEN,
            max_duration: (hours + 1) * 3_600,
            verification: escrow::random_commitment(),
        },
    );
    chain.send(&[lease], &[&client]).expect("post the lease");

    let start = chain.now().expect("clock");
    // The set-up's transactions (funding, staking, registering) are not the day's.
    let set_up: std::collections::HashSet<gpu_market_client::Signature> = [&busy, &idle]
        .iter()
        .flat_map(|n| {
            chain
                .signatures(&n.operator.pubkey(), usize::MAX)
                .expect("history")
        })
        .map(|past| past.signature)
        .collect();
    // The market's reward crank (`market serve` runs it every minute), from its own key.
    let keeper = Keypair::new();
    chain
        .transfer_lamports(&keeper.pubkey(), 10_000_000_000)
        .expect("fund keeper");
    let mut crank_txs = 0usize;
    let mut next_crank = start;
    let started = std::time::Instant::now();
    let end = start + hours * 3_600;
    while chain.now().expect("clock") < end {
        for node in [&mut busy, &mut idle] {
            node.agent.tick(&mut chain).expect("tick");
        }
        let now = chain.now().expect("clock");
        if now >= next_crank {
            let report = rewards::crank(&mut chain, &keeper, usize::MAX).expect("crank");
            assert!(report.refused.is_empty(), "{:?}", report.refused);
            crank_txs += report.finalized.len() + report.folded.len();
            next_crank = now + 60;
        }
        chain.advance(tick).expect("clock");
    }
    eprintln!(
        "simulated {hours}h in {tick}s passes: {:.0}s of wall time",
        started.elapsed().as_secs_f64()
    );
    let days = hours as f64 / 24.0;

    let mut per_day = BTreeMap::new();
    let mut job_heartbeats = 0.0;
    for node in [&busy, &idle] {
        let me = node.operator.pubkey();
        let history = chain.signatures(&me, usize::MAX).expect("history");
        let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
        for past in &history {
            if set_up.contains(&past.signature) {
                continue;
            }
            let tx = chain
                .transaction(&past.signature)
                .expect("transaction")
                .expect("kept");
            let kind = event_kind(&tx);
            *kinds.entry(kind).or_default() += 1;
        }
        let total: u64 = kinds.values().sum();
        // On a cluster the operator signs and pays each: one signature, the base fee.
        let fees = total * FEE_PER_SIGNATURE;
        eprintln!(
            "{} node: {:.0} transactions a day ({}), fees {:.6} SOL a day",
            node.name,
            total as f64 / days,
            kinds
                .iter()
                .map(|(k, n)| format!("{k} {:.0}", *n as f64 / days))
                .collect::<Vec<_>>()
                .join(", "),
            fees as f64 / LAMPORTS_PER_SOL / days,
        );
        per_day.insert(node.name, total as f64 / days);
        if node.name == "busy" {
            job_heartbeats = kinds
                .iter()
                .filter(|(k, _)| k.contains("job heartbeat"))
                .map(|(_, n)| *n as f64)
                .sum::<f64>()
                / days;
        }
    }
    // The crank folds up to MAX_FOLD_BATCH records a transaction, one shard at a time, and
    // finalizes once an epoch: per node and day, at most one record in a fold.
    let epochs_per_day = 86_400.0 / deploy.epoch_length.seconds as f64;
    eprintln!(
        "reward crank: {crank_txs} transactions for these 2 nodes in {hours}h; at scale one fold per {} records and one finalization per epoch",
        reward_emission::constants::MAX_FOLD_BATCH
    );
    for nodes in [10_000u64, 200_000] {
        let batches = (nodes as f64 / reward_emission::constants::MAX_FOLD_BATCH as f64).ceil()
            + f64::from(reward_emission::constants::SHARDS);
        let crank = (batches + 1.0) * epochs_per_day / 86_400.0;
        eprintln!(
            "{nodes} nodes: {:.1} tx/s of liveness and uptime if all idle, {:.1} tx/s if all busy ({:.1} of them carrying a job heartbeat), plus the crank's {crank:.2} tx/s",
            per_day["idle"] * nodes as f64 / 86_400.0,
            per_day["busy"] * nodes as f64 / 86_400.0,
            job_heartbeats * nodes as f64 / 86_400.0,
        );
    }

    // Which writable accounts each periodic instruction locks, and which of them another
    // node's same instruction locks too.
    let epoch = 1;
    let other = Keypair::new().pubkey();
    let treasury = market.treasury;
    let treasury_tokens = token::associated_address(&treasury, &stake_mint, &token::TOKEN_PROGRAM);
    let mine = periodic(
        &busy.operator.pubkey(),
        &client.pubkey(),
        &stake_mint,
        &treasury,
        epoch,
    );
    let theirs = periodic(
        &other,
        &Keypair::new().pubkey(),
        &stake_mint,
        &treasury,
        epoch,
    );
    for ((what, ix), (_, their_ix)) in mine.iter().zip(&theirs) {
        let locked = writable(ix);
        let shared: Vec<String> = locked
            .intersection(&writable(their_ix))
            .map(|key| name_account(key, &treasury_tokens))
            .collect();
        eprintln!(
            "{what}: locks {} writable account(s); shared with every other node: {}",
            locked.len(),
            if shared.is_empty() {
                "none".to_string()
            } else {
                shared.join(", ")
            }
        );
    }
}

/// What kind of transaction `tx` was, by the gpu-market events it emitted: each kind other
/// than a registry heartbeat, joined by " + ", with "+ heartbeat" when one rode along.
fn event_kind(tx: &gpu_market_client::TxOutcome) -> String {
    use job_escrow::events as e;
    use provider_registry::events as r;
    use reward_emission::events as u;
    let kinds: [(&str, usize); 9] = [
        ("uptime record", tx.events::<u::UptimeRecorded>().len()),
        ("job heartbeat", tx.events::<e::JobHeartbeat>().len()),
        ("withdrawal", tx.events::<e::EarningsWithdrawn>().len()),
        ("accept", tx.events::<e::JobAssigned>().len()),
        ("start", tx.events::<e::JobStarted>().len()),
        ("settlement", tx.events::<e::JobSettled>().len()),
        ("uptime fold", tx.events::<u::UptimeFolded>().len()),
        ("epoch finalization", tx.events::<u::EpochFinalized>().len()),
        (
            "registry heartbeat",
            tx.events::<r::HeartbeatRecorded>().len(),
        ),
    ];
    let with_heartbeat = !tx.events::<r::HeartbeatRecorded>().is_empty();
    let mut carried: Vec<&str> = kinds
        .iter()
        .filter(|(kind, n)| *n > 0 && *kind != "registry heartbeat")
        .map(|(kind, _)| *kind)
        .collect();
    match (carried.is_empty(), with_heartbeat) {
        (true, true) => "registry heartbeat".to_string(),
        (true, false) => "other".to_string(),
        (false, with) => {
            if with {
                carried.push("heartbeat");
            }
            carried.join(" + ")
        }
    }
}

/// A shared account's name.
fn name_account(key: &Pubkey, treasury_tokens: &Pubkey) -> String {
    if key == treasury_tokens {
        return "the market treasury's token account".into();
    }
    let reward_config = pda::emission_config();
    if *key == reward_config {
        return "the emission config".into();
    }
    if (0..1_000).any(|e| pda::reward_epoch(e) == *key) {
        return "the epoch account".into();
    }
    if (0..rewards::SHARDS).any(|s| pda::uptime_shard(s) == *key) {
        return "an uptime shard".into();
    }
    key.to_string()
}
