//! The provider agent against the in-process chain: it serves jobs end to end with the
//! local-process executor, and a restarted agent picks up where the last one stopped.

use gpu_market_client::{
    agent::{
        executor::{process_workload, LocalProcessExecutor},
        Agent, AgentConfig, AgentEvent,
    },
    escrow::JobStatus,
    Chain, Keypair, Pubkey, Signer,
};
use gpu_market_tests::{escrow::*, fixtures::*};
use std::path::Path;

fn agent(provider: &Keypair, work_dir: &Path) -> Agent {
    Agent::new(
        provider.insecure_clone(),
        provider.pubkey(),
        Box::new(LocalProcessExecutor::new()),
        AgentConfig {
            work_dir: work_dir.to_path_buf(),
            withdraw_every: 600,
        },
    )
}

/// Ticks `agent` every `step` chain seconds (giving its processes a moment of wall time)
/// until `done` holds, collecting the events; panics after 400 passes.
fn serve_until(
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
