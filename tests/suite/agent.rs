//! The provider agent against the in-process chain: it serves jobs end to end with the
//! local-process executor, and a restarted agent picks up where the last one stopped.

use gpu_market_agent::{
    executor::{process_workload, LocalProcessExecutor},
    Agent, AgentConfig, AgentEvent,
};
use gpu_market_client::{escrow::JobStatus, Chain, Keypair, Pubkey, Signer};
use gpu_market_matcher::SnapshotRound as _;
use gpu_market_tests::{escrow::*, fixtures::*};
use std::path::Path;

fn agent(provider: &Keypair, work_dir: &Path) -> Agent {
    withdrawing_every(provider, work_dir, 600)
}

/// An agent withdrawing its leases' earnings every `seconds`.
fn withdrawing_every(provider: &Keypair, work_dir: &Path, seconds: i64) -> Agent {
    Agent::new(
        provider.insecure_clone(),
        provider.pubkey(),
        Box::new(LocalProcessExecutor::new()),
        AgentConfig {
            work_dir: work_dir.to_path_buf(),
            withdraw_every: seconds,
        },
    )
}

/// Ticks `agent` every `step` chain seconds (giving its processes a moment of wall time)
/// until `done` holds, collecting the events; panics after 400 passes.
pub(crate) fn serve_until(
    m: &mut Market,
    agent: &mut Agent,
    step: i64,
    mut done: impl FnMut(&mut Market, &[AgentEvent]) -> bool,
) -> Vec<AgentEvent> {
    let mut events = Vec::new();
    for _ in 0..400 {
        let tick = agent.tick(&mut m.chain).expect("tick");
        events.extend(tick.events);
        if done(m, &events) {
            return events;
        }
        m.chain.advance(step).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("the agent did not get there: {events:#?}");
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    solana_sha256_hasher::hash(bytes).to_bytes()
}

fn status(m: &mut Market, job: &Pubkey) -> Option<JobStatus> {
    m.chain.exists(job).unwrap().then(|| {
        m.chain
            .fetch::<gpu_market_client::escrow::Job>(job)
            .unwrap()
            .status
    })
}

#[test]
fn serves_a_batch_job_end_to_end() {
    let mut m = Market::with_escrow();
    let provider = m.provider(1);
    let s = Scenario::new(&mut m, 1, &[&provider], &[]);
    let job = job_escrow::CreateJobArgs {
        workload: process_workload("printf 'hello from the gpu'"),
        ..batch_job(1, 1)
    };
    m.create_job(&s.client, job).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut agent = agent(&provider.keypair, dir.path());

    let events = serve_until(&mut m, &mut agent, 10, |m, _| {
        status(m, &s.job) == Some(JobStatus::ResultSubmitted)
    });

    assert!(events.contains(&AgentEvent::Accepted { job: s.job }));
    assert!(events.contains(&AgentEvent::Started { job: s.job }));
    let expected = sha256(b"hello from the gpu");
    assert!(events.iter().any(|e| matches!(e,
        AgentEvent::Submitted { job, sha256, bytes: 18 }
            if *job == s.job && *sha256 == gpu_market_client::hex::encode(&expected))));
    let on_chain = m.job(&s.client.pubkey(), 1);
    let result = on_chain.result.expect("a result");
    assert_eq!(result.hash, expected);
    let path = result.uri.strip_prefix("file://").expect("a file URI");
    assert_eq!(std::fs::read(path).unwrap(), b"hello from the gpu");

    // The client checks it and approves: paid, refunded, nothing stranded.
    let keys = s.keys(&m, &s.client.pubkey(), &provider.pubkey());
    signed(
        &mut m,
        gpu_market_client::escrow::approve_result(&keys),
        &s.client.keypair,
    )
    .unwrap();
    s.assert_closed_and_conserved(&mut m);
    assert!(m.balance(&m.payment_account_address(&provider.pubkey())) > 0);
}

#[test]
fn a_restarted_agent_resumes_a_running_job() {
    let mut m = Market::with_escrow();
    let provider = m.provider(1);
    let s = Scenario::new(&mut m, 1, &[&provider], &[]);
    let job = job_escrow::CreateJobArgs {
        workload: process_workload("sleep 1; printf resumed"),
        ..batch_job(1, 1)
    };
    m.create_job(&s.client, job).unwrap();
    let dir = tempfile::tempdir().unwrap();

    // The first agent takes and starts the job, then dies mid-run (its process with it).
    let mut first = agent(&provider.keypair, dir.path());
    serve_until(&mut m, &mut first, 10, |_, events| {
        events
            .iter()
            .any(|e| matches!(e, AgentEvent::Launched { .. }))
    });
    drop(first);
    assert_eq!(status(&mut m, &s.job), Some(JobStatus::Running));

    // A new agent on the same node reads the chain, relaunches the workload, keeps the job
    // alive and submits; the job never expired.
    let mut second = agent(&provider.keypair, dir.path());
    let events = serve_until(&mut m, &mut second, 10, |m, _| {
        status(m, &s.job) == Some(JobStatus::ResultSubmitted)
    });
    assert!(events.contains(&AgentEvent::Launched {
        job: s.job,
        executor: "local".into()
    }));
    assert!(!events
        .iter()
        .any(|e| matches!(e, AgentEvent::Accepted { .. } | AgentEvent::Started { .. })));
    let on_chain = m.job(&s.client.pubkey(), 1);
    assert_eq!(on_chain.attempts, 1);
    assert_eq!(on_chain.result.unwrap().hash, sha256(b"resumed"));
}

#[test]
fn serves_a_lease_and_withdraws_its_earnings() {
    let mut m = Market::with_escrow();
    let provider = m.provider(1);
    let s = Scenario::new(&mut m, 1, &[&provider], &[]);
    let job = job_escrow::CreateJobArgs {
        workload: process_workload("echo serving"),
        ..lease_job(1, 1, 1)
    };
    m.create_job(&s.client, job).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut agent = agent(&provider.keypair, dir.path());

    // Ten-minute withdrawals through a one-hour lease; the agent settles it at the end.
    let events = serve_until(&mut m, &mut agent, 30, |m, _| status(m, &s.job).is_none());
    let withdrawals = events
        .iter()
        .filter(|e| matches!(e, AgentEvent::Withdrew { job, .. } if *job == s.job))
        .count();
    assert!(
        withdrawals >= 4,
        "withdrew {withdrawals} times: {events:#?}"
    );
    assert!(events.contains(&AgentEvent::Settled { job: s.job }));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, AgentEvent::Rejected { .. })),
        "{events:#?}"
    );
    s.assert_closed_and_conserved(&mut m);
    // One GPU for the whole hour at 2 tokens: the provider got it less the 2.5% fee, each
    // withdrawal's fee rounded down, and the treasury the fees.
    let paid = m.balance(&m.payment_account_address(&provider.pubkey()));
    let fees = m.balance(&s.treasury);
    assert_eq!(paid + fees, 2 * TOKEN);
    assert!(paid >= 2 * TOKEN - 2 * TOKEN * 250 / 10_000, "paid {paid}");
}

#[test]
fn in_a_matched_market_the_agent_waits_for_the_matcher_and_declines_what_it_cannot_run() {
    use gpu_market_client::{driver, market::MarketSnapshot};
    const WINDOW: i64 = 30;
    let (mut m, matcher) = Market::with_matcher(WINDOW);
    let provider = m.provider(2);
    let s = Scenario::new(&mut m, 1, &[&provider], &[]);
    let runnable = job_escrow::CreateJobArgs {
        workload: process_workload("printf 'matched'"),
        ..batch_job(1, 1)
    };
    m.create_job(&s.client, runnable).unwrap();
    // A container job: the local-process executor cannot run it.
    m.create_job(&s.client, batch_job(2, 1)).unwrap();
    let container = gpu_market_client::pda::job(&s.client.pubkey(), 2);
    let dir = tempfile::tempdir().unwrap();
    let mut agent = agent(&provider.keypair, dir.path());

    // Within the match window the agent takes nothing itself.
    let tick = agent.tick(&mut m.chain).unwrap();
    assert!(
        !tick
            .events
            .iter()
            .any(|e| matches!(e, AgentEvent::Accepted { .. })),
        "{:?}",
        tick.events
    );
    assert_eq!(status(&mut m, &s.job), Some(JobStatus::Open));

    // The matcher's round assigns both jobs to the only provider.
    let snapshot = MarketSnapshot::load(&mut m.chain).unwrap();
    let actions = driver::plan_matches(&snapshot, &snapshot.match_round());
    let mut assigned: Vec<Pubkey> = actions.iter().map(|a| a.job()).collect();
    assigned.sort();
    let mut expected = vec![s.job, container];
    expected.sort();
    assert_eq!(assigned, expected);
    for action in &actions {
        assert_eq!(action.operator(), Some(matcher.pubkey()), "{action}");
        let ixs = driver::instructions(&mut m.chain, &snapshot, &matcher.pubkey(), action).unwrap();
        m.chain.send(&ixs, &[&matcher]).unwrap();
    }

    // The agent starts what it can run and turns down the rest, losing nothing.
    let tick = agent.tick(&mut m.chain).unwrap();
    assert!(tick.events.contains(&AgentEvent::Started { job: s.job }));
    assert!(tick
        .events
        .contains(&AgentEvent::Declined { job: container }));
    let declined = m.job(&s.client.pubkey(), 2);
    assert_eq!(declined.status, JobStatus::Open);
    assert_eq!(
        declined.refused_bidders,
        vec![gpu_market_client::pda::provider(&provider.pubkey())]
    );
    let node = m.provider_account(&provider.pubkey());
    assert_eq!((node.gpus_in_use, node.jobs_held), (1, 1));
    assert_eq!(
        m.stake_account(&provider.pubkey()).locked,
        SLASH.dispute_lost
    );
    // The matcher's next round does not offer the declined job to the same provider.
    let snapshot = MarketSnapshot::load(&mut m.chain).unwrap();
    let again = driver::plan_matches(&snapshot, &snapshot.match_round());
    assert!(again.iter().all(|a| a.job() != container), "{again:?}");

    serve_until(&mut m, &mut agent, 10, |m, _| {
        status(m, &s.job) == Some(JobStatus::ResultSubmitted)
    });
}

/// What one steady tick of an agent with a running job reads, in a market with `others`
/// more providers of its class, each holding a job, and as many open jobs for another class.
fn steady_tick_reads(others: usize) -> (gpu_market_client::Reads, gpu_market_client::Reads) {
    use gpu_market_client::{
        market::MarketSnapshot,
        registry::{ClassFilter, GpuClass},
        Counting,
    };
    let mut m = Market::with_escrow();
    let provider = m.provider(1);
    let client = m.client(1_000 * TOKEN);
    let running = job_escrow::CreateJobArgs {
        workload: process_workload("sleep 30"),
        ..lease_job(1, 1, 1)
    };
    m.create_job(&client, running).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut agent = agent(&provider.keypair, dir.path());
    serve_until(&mut m, &mut agent, 1, |_, events| {
        events
            .iter()
            .any(|e| matches!(e, AgentEvent::Launched { .. }))
    });
    for i in 0..others {
        let other = m.provider(1);
        let id = 100 + i as u64;
        m.create_job(&client, batch_job(id, 1)).unwrap();
        let job = gpu_market_client::pda::job(&client.pubkey(), id);
        take_and_start(&mut m, &other.keypair, &job);
        let mut consumer = batch_job(1_000 + i as u64, 1);
        consumer.requirements.gpu_class = ClassFilter::from(GpuClass::Consumer);
        m.create_job(&client, consumer).unwrap();
    }
    // A tick with nothing new due but the running job's upkeep.
    agent.tick(&mut m.chain).unwrap();
    let mut counting = Counting::new(&mut m.chain);
    agent.tick(&mut counting).unwrap();
    let tick = counting.take();
    MarketSnapshot::load(&mut counting).unwrap();
    (tick, counting.take())
}

#[test]
fn an_agents_reads_do_not_grow_with_the_market() {
    let (small, small_market) = steady_tick_reads(1);
    let (large, large_market) = steady_tick_reads(12);
    // The same calls and the same accounts, whatever else the market holds: the clock,
    // the configs with the provider and its stake, its jobs, the open jobs of its class and
    // of any class, the mints' token programs.
    assert_eq!(small, large);
    assert_eq!(
        (small.clock, small.by_address, small.program_accounts),
        (1, 2, 3)
    );
    // The whole market, for comparison, grows with it.
    assert!(
        large_market.accounts_returned > small_market.accounts_returned + 3 * 11,
        "{small_market:?} {large_market:?}"
    );
}

/// The kinds of gpu-market events of each transaction `signer` sent after the first
/// `before` of its history, oldest first.
fn sent_events(m: &mut Market, signer: &Pubkey, before: usize) -> Vec<Vec<&'static str>> {
    use job_escrow::events as e;
    use provider_registry::events as r;
    use reward_emission::events as u;
    let mut history = m.chain.signatures(signer, usize::MAX).unwrap();
    history.reverse();
    history
        .iter()
        .skip(before)
        .map(|past| {
            let tx = m.chain.transaction(&past.signature).unwrap().unwrap();
            [
                ("heartbeat", tx.events::<r::HeartbeatRecorded>().len()),
                ("uptime record", tx.events::<u::UptimeRecorded>().len()),
                ("job heartbeat", tx.events::<e::JobHeartbeat>().len()),
                ("withdrawal", tx.events::<e::EarningsWithdrawn>().len()),
                ("start", tx.events::<e::JobStarted>().len()),
                ("accept", tx.events::<e::JobAssigned>().len()),
            ]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(kind, _)| kind)
            .collect()
        })
        .collect()
}

#[test]
fn a_busy_nodes_job_heartbeats_and_withdrawals_ride_with_its_uptime_records() {
    // The test market's job heartbeat is due after 60 s of silence (half its 120-s grace),
    // its uptime record interval, as in the default market (30 of 35 minutes; 30).
    let mut m = Market::with_escrow();
    m.add_rewards(gpu_market_tests::rewards::HARD_CAP);
    let provider = m.provider(1);
    let s = Scenario::new(&mut m, 1, &[&provider], &[]);
    let lease = job_escrow::CreateJobArgs {
        workload: process_workload("echo serving"),
        ..lease_job(1, 1, 2)
    };
    m.create_job(&s.client, lease).unwrap();
    let before = m
        .chain
        .signatures(&provider.pubkey(), usize::MAX)
        .unwrap()
        .len();
    let dir = tempfile::tempdir().unwrap();
    let mut agent = agent(&provider.keypair, dir.path());
    let end = m.chain.now().unwrap() + 3_600;
    let events = serve_until(&mut m, &mut agent, 10, |m, _| m.chain.now().unwrap() >= end);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, AgentEvent::Rejected { .. })),
        "{events:#?}"
    );

    let sent = sent_events(&mut m, &provider.pubkey(), before);
    // The node records its uptime and accepts the lease (in either order), then starts it.
    let mut first: Vec<_> = sent[..2].to_vec();
    first.sort();
    assert_eq!(
        first,
        [
            vec!["heartbeat", "accept"],
            vec!["heartbeat", "uptime record"]
        ],
        "{sent:?}"
    );
    assert_eq!(sent[2], ["heartbeat", "start"], "{sent:?}");
    // From then on one transaction per record interval, each carrying the registry
    // heartbeat, the uptime record and the lease's heartbeat, and every 600 s (the agent's
    // withdrawal interval) the lease's withdrawal.
    let periodic = &sent[3..];
    // An hour of 10-second passes after the first record: 60 records, 60 transactions.
    assert_eq!(periodic.len(), 60, "{sent:?}");
    for kinds in periodic {
        assert!(
            kinds == &["heartbeat", "uptime record", "job heartbeat"]
                || kinds == &["heartbeat", "uptime record", "job heartbeat", "withdrawal"],
            "{sent:?}"
        );
    }
    let withdrawals = periodic.iter().filter(|k| k.len() == 4).count();
    assert_eq!(withdrawals, 5, "{sent:?}");
    // The lease never came near its grace, and each withdrawal billed what was served
    // until 30 s (the agent's clock margin) before the heartbeat it rode behind.
    let job = m.job(&s.client.pubkey(), 1);
    let now = m.chain.now().unwrap();
    assert!(now - job.last_heartbeat <= HEARTBEAT_GRACE / 2, "{job:?}");
    assert_eq!(job.status, JobStatus::Running);
    let withdrawn: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Withdrew { amount, .. } => Some(*amount),
            _ => None,
        })
        .collect();
    assert_eq!(withdrawn.iter().sum::<u64>(), job.billed);
    // Their fees wait in the vault for the lease's end: no withdrawal wrote the treasury.
    let fees: u64 = withdrawn
        .iter()
        .map(|gross| gross * u64::from(PROTOCOL_FEE_BPS) / 10_000)
        .sum();
    assert_eq!(job.fees_held, fees);
    assert_eq!(m.balance(&s.treasury), 0);
}

#[test]
fn a_part_the_chain_refuses_costs_the_node_none_of_the_others() {
    let mut m = Market::with_escrow();
    m.add_rewards(gpu_market_tests::rewards::HARD_CAP);
    let provider = m.provider(2);
    let first = Scenario::new(&mut m, 1, &[&provider], &[]);
    let second = Scenario::new(&mut m, 2, &[&provider], &[]);
    for s in [&first, &second] {
        let lease = job_escrow::CreateJobArgs {
            workload: process_workload("echo serving"),
            ..lease_job(s.job_id, 1, 2)
        };
        m.create_job(&s.client, lease).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    // Withdrawing behind every heartbeat.
    let mut agent = withdrawing_every(&provider.keypair, dir.path(), 1);
    serve_until(&mut m, &mut agent, 10, |m, _| {
        [&first, &second]
            .iter()
            .all(|s| status(m, &s.job) == Some(JobStatus::Running))
    });

    // Everything is due; the agent reads the market, then the first lease's client closes
    // it before the agent's transaction lands.
    m.chain.advance(HEARTBEAT_GRACE / 2).unwrap();
    let snapshot =
        gpu_market_client::market::MarketSnapshot::for_provider(&mut m.chain, &provider.pubkey())
            .unwrap();
    let keys = first.keys(&m, &first.client.pubkey(), &provider.pubkey());
    signed(
        &mut m,
        gpu_market_client::escrow::close_lease(&keys),
        &first.client.keypair,
    )
    .unwrap();
    let tick = agent.tick_with(&mut m.chain, snapshot).unwrap();
    // The whole transaction was refused, then each part sent alone: only the closed
    // lease's heartbeat was refused again.
    let refused: Vec<&str> = tick
        .events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Rejected { what, .. } => Some(what.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(refused.len(), 2, "{:#?}", tick.events);
    assert!(
        refused[0].contains(&format!("job heartbeat ({})", first.job))
            && refused[0].contains(&format!("job heartbeat ({})", second.job))
            && refused[0].contains("uptime record"),
        "{refused:?}"
    );
    assert_eq!(refused[1], format!("job heartbeat ({})", first.job));
    assert!(tick.events.contains(&AgentEvent::Heartbeat));
    assert!(tick
        .events
        .iter()
        .any(|e| matches!(e, AgentEvent::UptimeRecorded { .. })));
    assert!(tick
        .events
        .contains(&AgentEvent::JobHeartbeat { job: second.job }));
    let now = m.chain.now().unwrap();
    assert_eq!(m.job(&second.client.pubkey(), 2).last_heartbeat, now);
    // Withdrawals are never due: none went, and the next periodic transaction carries the
    // second lease's.
    assert!(
        !tick
            .events
            .iter()
            .any(|e| matches!(e, AgentEvent::Withdrew { .. })),
        "{:#?}",
        tick.events
    );
    let billed = m.job(&second.client.pubkey(), 2).billed;
    m.chain.advance(HEARTBEAT_GRACE / 2).unwrap();
    let tick = agent.tick(&mut m.chain).unwrap();
    assert!(
        tick.events
            .iter()
            .any(|e| matches!(e, AgentEvent::Withdrew { job, .. } if *job == second.job)),
        "{:#?}",
        tick.events
    );
    assert!(m.job(&second.client.pubkey(), 2).billed > billed);
}

/// An executor that runs every workload but reports a made-up output hash: a node that
/// skipped the work and invented an answer.
struct Liar(LocalProcessExecutor);

impl gpu_market_agent::executor::Executor for Liar {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn supports(&self, workload: &gpu_market_client::escrow::Workload) -> bool {
        self.0.supports(workload)
    }

    fn launch(
        &mut self,
        job: &Pubkey,
        launch: &gpu_market_agent::executor::Launch,
    ) -> Result<(), gpu_market_agent::executor::ExecError> {
        self.0.launch(job, launch)
    }

    fn poll(
        &mut self,
        job: &Pubkey,
    ) -> Result<gpu_market_agent::executor::Progress, gpu_market_agent::executor::ExecError> {
        use gpu_market_agent::executor::Progress;
        Ok(match self.0.poll(job)? {
            Progress::Finished(mut output) => {
                output.sha256 = sha256(b"an answer nobody computed");
                Progress::Finished(output)
            }
            other => other,
        })
    }

    fn stop(&mut self, job: &Pubkey) -> Result<(), gpu_market_agent::executor::ExecError> {
        self.0.stop(job)
    }

    fn running(&self) -> Vec<Pubkey> {
        self.0.running()
    }
}

/// A market with three one-GPU providers, a client holding 100 tokens and its replica
/// group 1 of three replicas (jobs 1 to 3) of one deterministic batch job.
struct Replicas {
    m: Market,
    nodes: [Wallet; 3],
    client: Wallet,
    treasury: Pubkey,
    group: Pubkey,
    jobs: Vec<Pubkey>,
}

fn three_replicas() -> Replicas {
    use gpu_market_client::{escrow as ix, pda};
    let mut m = Market::with_escrow();
    let nodes = [m.provider(1), m.provider(1), m.provider(1)];
    let client = m.client(100 * TOKEN);
    for node in &nodes {
        m.payment_account(&node.pubkey());
    }
    let treasury = treasury_wallet(&m);
    m.payment_account(&treasury);
    let now = m.chain.now().unwrap();
    let group = pda::replica_group(&client.pubkey(), 1);
    let open = ix::create_replica_group(&client.pubkey(), 1, 3, now + 3 * 3_600);
    signed(&mut m, open, &client.keypair).unwrap();
    let jobs: Vec<Pubkey> = (1..=3)
        .map(|id| {
            let args = job_escrow::CreateJobArgs {
                workload: process_workload("printf 'replicated'"),
                ..batch_job(id, 1)
            };
            let create = ix::create_replica(
                &client.pubkey(),
                &m.payment_mint,
                &m.payment_token_program,
                args,
                &group,
            );
            signed(&mut m, create, &client.keypair).unwrap();
            pda::job(&client.pubkey(), id)
        })
        .collect();
    Replicas {
        m,
        nodes,
        client,
        treasury,
        group,
        jobs,
    }
}

/// Once the replicas of [`three_replicas`] settled: the first two nodes paid, the third
/// paid nothing and slashed `wrong_result`, and the client charged the two runs and the
/// fees only.
fn assert_two_paid_and_the_third_slashed(
    m: &mut Market,
    nodes: &[Wallet; 3],
    client: &Wallet,
    treasury: &Pubkey,
) {
    let paid: Vec<u64> = nodes
        .iter()
        .map(|n| m.balance(&m.payment_account_address(&n.pubkey())))
        .collect();
    assert!(paid[0] > 0 && paid[1] > 0, "{paid:?}");
    assert_eq!(paid[2], 0);
    assert_eq!(
        m.stake_account(&nodes[2].pubkey()).active,
        MIN_STAKE_PER_GPU - SLASH.wrong_result
    );
    let fees = m.balance(&m.payment_account_address(treasury));
    assert_eq!(
        m.balance(&client.tokens),
        100 * TOKEN - paid[0] - paid[1] - fees
    );
}

#[test]
fn three_agents_run_a_replicated_job_and_the_upkeep_slashes_the_liar_that_vanished() {
    use gpu_market_client::{
        driver::{self, Action},
        escrow as ix,
        market::MarketSnapshot,
    };
    let Replicas {
        mut m,
        nodes,
        client,
        treasury,
        group,
        jobs,
    } = three_replicas();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut agents: Vec<Agent> = nodes
        .iter()
        .zip(&dirs)
        .take(2)
        .map(|(node, dir)| agent(&node.keypair, dir.path()))
        .collect();
    agents.push(Agent::new(
        nodes[2].keypair.insecure_clone(),
        nodes[2].pubkey(),
        Box::new(Liar(LocalProcessExecutor::new())),
        AgentConfig {
            work_dir: dirs[2].path().to_path_buf(),
            withdraw_every: 600,
        },
    ));

    // Each agent takes one replica (never two of a group), runs it, commits, reveals once
    // all three have committed, and settles its own once all three have revealed; the liar
    // vanishes once it has revealed, leaving its replica to the market's upkeep.
    let mut events = Vec::new();
    let mut restarted = false;
    let mut liar_gone = false;
    let honest_settled = |events: &[AgentEvent]| {
        events
            .iter()
            .filter(|e| matches!(e, AgentEvent::Settled { .. }))
            .count()
    };
    for _ in 0..200 {
        for (i, agent) in agents.iter_mut().enumerate() {
            if i == 2 && liar_gone {
                continue;
            }
            let tick = agent.tick(&mut m.chain).expect("tick").events;
            liar_gone |= i == 2
                && tick
                    .iter()
                    .any(|e| matches!(e, AgentEvent::Revealed { .. }));
            events.extend(tick);
        }
        // An agent restarted between its commitment and its reveal reveals all the same,
        // from the opening kept in the job's work directory.
        let committed = events
            .iter()
            .filter(|e| matches!(e, AgentEvent::Committed { .. }))
            .count();
        if committed == 3 && !restarted {
            // Restarted draining: its committed replica still counts as held (a stop now
            // would leave it unrevealed, and slashed), until the group's reveal deadline.
            agents[0] = agent(&nodes[0].keypair, dirs[0].path());
            agents[0].drain();
            let snapshot = MarketSnapshot::for_provider(&mut m.chain, &nodes[0].pubkey()).unwrap();
            let held = agents[0].held_jobs(&snapshot);
            let deadline = m
                .chain
                .fetch::<ix::ReplicaGroup>(&group)
                .unwrap()
                .reveal_deadline;
            assert_eq!(held.len(), 1, "{held:?}");
            assert_eq!(
                (held[0].status.as_str(), held[0].deadline),
                ("Committed (not revealed)", deadline)
            );
            restarted = true;
        }
        if honest_settled(&events) == 2 {
            break;
        }
        m.chain.advance(10).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(liar_gone && honest_settled(&events) == 2, "{events:#?}");
    // Revealed and settled, the draining agent holds nothing: it may stop.
    let snapshot = MarketSnapshot::for_provider(&mut m.chain, &nodes[0].pubkey()).unwrap();
    assert!(agents[0].held_jobs(&snapshot).is_empty());
    let count = |what: fn(&AgentEvent) -> bool| events.iter().filter(|e| what(e)).count();
    assert_eq!(count(|e| matches!(e, AgentEvent::Accepted { .. })), 3);
    assert_eq!(count(|e| matches!(e, AgentEvent::Committed { .. })), 3);
    assert_eq!(count(|e| matches!(e, AgentEvent::Revealed { .. })), 3);
    assert_eq!(count(|e| matches!(e, AgentEvent::Submitted { .. })), 0);
    // No agent tried a replica it may not take, nor sent anything the chain refused.
    assert_eq!(
        count(|e| matches!(e, AgentEvent::Rejected { .. })),
        0,
        "{events:#?}"
    );

    // The liar's replica is the one left, and the market's upkeep (anyone: the client
    // here) settles it, slashing the liar.
    let open: Vec<Pubkey> = jobs
        .iter()
        .copied()
        .filter(|job| m.chain.exists(job).unwrap())
        .collect();
    assert_eq!(open.len(), 1);
    let snapshot = MarketSnapshot::load(&mut m.chain).unwrap();
    let planned = driver::plan_upkeep(&snapshot);
    assert_eq!(planned, vec![Action::SettleReplica { job: open[0] }]);
    driver::execute(&mut m.chain, &snapshot, &client.keypair, &planned[0]).unwrap();
    assert!(!m.chain.exists(&open[0]).unwrap());
    let snapshot = MarketSnapshot::load(&mut m.chain).unwrap();
    assert_eq!(driver::plan_upkeep(&snapshot), vec![]);

    // The two honest nodes are paid, the liar is slashed and paid nothing, and the client
    // paid for two runs.
    assert_two_paid_and_the_third_slashed(&mut m, &nodes, &client, &treasury);
    for node in &nodes {
        let account = m.provider_account(&node.pubkey());
        assert_eq!((account.jobs_held, account.gpus_in_use), (0, 0));
        assert_eq!(m.stake_account(&node.pubkey()).locked, 0);
    }
    let close = ix::close_replica_group(&client.pubkey(), &client.pubkey(), 1, &jobs);
    signed(&mut m, close, &client.keypair).unwrap();
}

#[test]
fn an_agent_that_lost_its_opening_says_so_once_and_its_replica_is_slashed_unrevealed() {
    use gpu_market_client::escrow as ix;
    let Replicas {
        mut m,
        nodes,
        client,
        treasury,
        group,
        jobs,
    } = three_replicas();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut agents: Vec<Agent> = nodes
        .iter()
        .zip(&dirs)
        .map(|(node, dir)| agent(&node.keypair, dir.path()))
        .collect();
    // Ticks every agent until `done`, keeping each one's events apart.
    let mut events: Vec<Vec<AgentEvent>> = vec![Vec::new(); 3];
    let until = |m: &mut Market,
                 agents: &mut [Agent],
                 events: &mut Vec<Vec<AgentEvent>>,
                 done: &dyn Fn(&[Vec<AgentEvent>]) -> bool| {
        for _ in 0..200 {
            for (i, agent) in agents.iter_mut().enumerate() {
                events[i].extend(agent.tick(&mut m.chain).expect("tick").events);
            }
            if done(events) {
                return;
            }
            m.chain.advance(10).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("{events:#?}");
    };
    let committed = |e: &AgentEvent| matches!(e, AgentEvent::Committed { .. });
    until(&mut m, &mut agents, &mut events, &|events| {
        events.iter().all(|e| e.iter().any(committed))
    });

    // The third node loses its opening before the reveals open.
    let lost = *jobs
        .iter()
        .find(|job| {
            let job: ix::Job = m.chain.fetch(job).unwrap();
            job.assignment.unwrap().authority == nodes[2].pubkey()
        })
        .unwrap();
    let opening = dirs[2]
        .path()
        .join(lost.to_string())
        .join("replica-opening.json");
    std::fs::remove_file(&opening).unwrap();
    let revealed = |e: &AgentEvent| matches!(e, AgentEvent::Revealed { .. });
    until(&mut m, &mut agents, &mut events, &|events| {
        events[..2].iter().all(|e| e.iter().any(revealed))
    });
    // A few more passes while the reveals are still open: the third says nothing again.
    for _ in 0..3 {
        for (i, agent) in agents.iter_mut().enumerate() {
            events[i].extend(agent.tick(&mut m.chain).expect("tick").events);
        }
        m.chain.advance(10).unwrap();
    }
    // Past the reveal deadline the group is decided: the two agree, the third is
    // unrevealed; each agent settles its own.
    let deadline = m
        .chain
        .fetch::<ix::ReplicaGroup>(&group)
        .unwrap()
        .reveal_deadline;
    let now = m.chain.now().unwrap();
    m.chain.advance(deadline - now + 1).unwrap();
    let settled = |e: &AgentEvent| matches!(e, AgentEvent::Settled { .. });
    until(&mut m, &mut agents, &mut events, &|events| {
        events.iter().all(|e| e.iter().any(settled))
    });

    // The lost opening was said once, however many passes followed, and nothing else was
    // refused; the third node never revealed.
    let rejected: Vec<&AgentEvent> = events
        .iter()
        .flatten()
        .filter(|e| matches!(e, AgentEvent::Rejected { .. }))
        .collect();
    let AgentEvent::Rejected { what, error } = rejected[0] else {
        unreachable!()
    };
    assert_eq!(rejected.len(), 1, "{rejected:#?}");
    assert_eq!(what, &format!("result reveal ({lost})"));
    assert!(
        error.starts_with(&format!(
            "replica {lost} cannot be revealed from {} (",
            opening.display()
        )) && error.ends_with("; it will be slashed as unrevealed once its group is decided"),
        "{error}"
    );
    assert!(!events[2].iter().any(revealed));

    // The two honest nodes are paid; the third is slashed and its deposit refunded.
    assert_two_paid_and_the_third_slashed(&mut m, &nodes, &client, &treasury);
    assert!(jobs.iter().all(|job| !m.chain.exists(job).unwrap()));
}
