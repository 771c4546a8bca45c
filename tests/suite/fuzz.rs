//! A state-machine fuzz test of the whole market on the in-process chain. Random
//! sequences of every actor's instructions (clients posting, cancelling, extending,
//! approving, disputing and closing jobs; providers taking, bidding, starting,
//! heartbeating, submitting and withdrawing; a keeper cranking expiries, auctions,
//! settlements and reclaims; the arbiter ruling; the admin proposing and applying config
//! changes under the timelock; operator rotations, pauses, exits, retirements, unstakes;
//! clock jumps) run against the real programs. After every step it checks:
//!
//! - token conservation for both mints, over every account that can hold them;
//! - the staking vault backs every stake account exactly, and no stake has more locked
//!   than active;
//! - each provider holds exactly the jobs (and GPUs) assigned to it;
//! - no provider was paid for time it did not serve: its payment-mint balance stays under
//!   what its starts, heartbeats and results (plus the grace, plus dispute bonds) earn;
//!
//! and at the end of each sequence, that every job has a permissionless exit: with only the
//! keeper acting and the clock moving, every job account and vault closes.
//!
//! CI runs 1,000 sequences; `GPU_MARKET_FUZZ_SEQUENCES` sets another count and
//! `GPU_MARKET_FUZZ_SEED` the first seed. A failure prints the seed and the steps taken.

use gpu_market_client::{
    escrow::{self as ix, Job, JobKind, JobMode, JobStatus},
    pda,
    registry::{self, Provider},
    staking::{self as staking_ix, StakeAccount},
    token, Chain, Keypair, Pubkey, Signer,
};
use gpu_market_matcher::market_gen::Rng;
use gpu_market_tests::{escrow::*, *};
use std::collections::HashMap;

/// Steps per sequence, before the final drain.
const STEPS: usize = 24;
/// Sequences that share one market (a fresh chain costs more than a sequence).
const SEQUENCES_PER_MARKET: u64 = 50;

struct Node {
    authority: Wallet,
    /// The operator key in use now; rotations replace it.
    operator: Keypair,
    gpus: u16,
}

struct World {
    m: Market,
    nodes: Vec<Node>,
    clients: Vec<Wallet>,
    keeper: Wallet,
    arbiter: Keypair,
    /// Every job ever posted: (client index, job id).
    jobs: Vec<(usize, u64)>,
    /// The known answer and salt of each canary job, by job id: providers submit `[1; 32]`,
    /// so an answer of `[1; 32]` passes and any other catches them.
    canaries: std::collections::HashMap<u64, ([u8; 32], [u8; 32])>,
    next_job_id: u64,
    payment_accounts: Vec<Pubkey>,
    /// How many of `payment_accounts` are wallets (the rest are job vaults).
    base_payment_accounts: usize,
    payment_supply: u64,
    stake_accounts: Vec<Pubkey>,
    stake_supply: u64,
    /// Per provider authority: the most it may have earned, from what the chain confirmed
    /// of its service.
    earned_bound: HashMap<Pubkey, u128>,
    /// Per (job, provider): price, GPUs, start and last proof of service of the attempt.
    attempts: HashMap<(Pubkey, Pubkey), (u64, u16, i64, i64)>,
    log: Vec<String>,
    /// Landed transactions by kind, over the whole run.
    landed: std::collections::BTreeMap<String, usize>,
}

impl World {
    fn new() -> Self {
        let mut m = Market::with_escrow();
        let nodes: Vec<Node> = (0..3)
            .map(|i| {
                let gpus = [2u16, 2, 4][i];
                if i == 2 {
                    let (authority, operator) = m.provider_with_operator(gpus);
                    Node {
                        authority,
                        operator: operator.keypair,
                        gpus,
                    }
                } else {
                    let authority = m.provider(gpus);
                    let operator = authority.keypair.insecure_clone();
                    Node {
                        authority,
                        operator,
                        gpus,
                    }
                }
            })
            .collect();
        // Stake beyond the registry minimum backs the jobs' collateral.
        let admin = m.admin.insecure_clone();
        for n in &nodes {
            let mint = m.stake_mint;
            token::mint_to(
                &mut m.chain,
                &mint,
                &admin,
                &n.authority.tokens,
                400 * TOKEN,
                &token::TOKEN_PROGRAM,
            )
            .unwrap();
            m.stake(&n.authority, 300 * TOKEN).unwrap();
        }
        let clients: Vec<Wallet> = (0..2).map(|_| m.client(1_000 * TOKEN)).collect();
        let keeper = m.wallet(0);
        let arbiter = m.auditor.insecure_clone();
        let treasury = m.payment_account(&treasury_wallet(&m));
        let mut payment_accounts = vec![treasury, m.payment_account(&keeper.pubkey())];
        let mut stake_accounts = vec![pda::staking_vault(), m.treasury];
        for n in &nodes {
            payment_accounts.push(m.payment_account(&n.authority.pubkey()));
            stake_accounts.push(n.authority.tokens);
        }
        for c in &clients {
            payment_accounts.push(c.tokens);
            stake_accounts.push(m.stake_mint_account(&c.pubkey()));
        }
        let payment_supply = m.total(&payment_accounts);
        let stake_supply = m.total(&stake_accounts);
        let earned_bound = nodes.iter().map(|n| (n.authority.pubkey(), 0)).collect();
        Self {
            m,
            nodes,
            clients,
            keeper,
            arbiter,
            jobs: Vec::new(),
            canaries: Default::default(),
            next_job_id: 1,
            base_payment_accounts: payment_accounts.len(),
            payment_accounts,
            payment_supply,
            stake_accounts,
            stake_supply,
            earned_bound,
            attempts: HashMap::new(),
            log: Vec::new(),
            landed: Default::default(),
        }
    }

    fn job_address(&self, (client, id): (usize, u64)) -> Pubkey {
        pda::job(&self.clients[client].pubkey(), id)
    }

    fn job(&mut self, key: (usize, u64)) -> Option<Job> {
        let address = self.job_address(key);
        self.m.chain.fetch::<Job>(&address).ok()
    }

    fn live_jobs(&mut self) -> Vec<((usize, u64), Job)> {
        let keys = self.jobs.clone();
        keys.into_iter()
            .filter_map(|k| self.job(k).map(|j| (k, j)))
            .collect()
    }

    fn send(
        &mut self,
        what: String,
        ixs: &[gpu_market_client::Instruction],
        signers: &[&Keypair],
    ) -> bool {
        let result = self.m.chain.send(ixs, signers);
        if std::env::var("GPU_MARKET_FUZZ_TRACE").is_ok() {
            if let Err(e) = &result {
                eprintln!("{what}: {e}");
            }
        }
        let ok = match &result {
            Ok(_) => true,
            // A refused transaction must be a clean program refusal, never anything else.
            Err(err) => {
                assert!(
                    err.instruction_error().is_some(),
                    "{what}: not a program refusal: {err}"
                );
                false
            }
        };
        if ok {
            let kind: String = what
                .split(' ')
                .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
                .collect::<Vec<_>>()
                .join(" ");
            *self.landed.entry(kind).or_default() += 1;
        }
        self.log
            .push(format!("{what}: {}", if ok { "ok" } else { "refused" }));
        ok
    }

    fn settle_keys(
        &self,
        caller: &Pubkey,
        job: &Job,
    ) -> Option<gpu_market_client::escrow::SettleAccounts> {
        let client = self.clients.iter().find(|c| c.pubkey() == job.client)?;
        let provider = job.assignment?.authority;
        Some(self.m.settle_keys(caller, client, job.job_id, &provider))
    }

    /// Records a confirmed proof of service (start, heartbeat or result) at `now`.
    fn proof(&mut self, job: &Pubkey, j: &Job, authority: Pubkey, now: i64) {
        let Some(a) = j.assignment else { return };
        let entry = self.attempts.entry((*job, authority)).or_insert((
            a.price_per_gpu_hour,
            j.requirements.gpu_count,
            now,
            now,
        ));
        entry.3 = entry.3.max(now);
    }

    /// The attempt of `authority` on `job` ended: add what it can have earned.
    fn attempt_ended(&mut self, job: &Pubkey, authority: &Pubkey, grace: i64, bond: u64) {
        if let Some((price, gpus, start, last)) = self.attempts.remove(&(*job, *authority)) {
            let seconds = (last + grace - start).max(0) as u128;
            let bound = u128::from(price) * u128::from(gpus) * seconds / 3_600;
            *self.earned_bound.entry(*authority).or_default() += bound + u128::from(bond);
        }
    }

    fn step(&mut self, rng: &mut Rng) {
        let now = self.m.chain.now().unwrap();
        let pick_node = rng.below(self.nodes.len() as u64) as usize;
        let live = self.live_jobs();
        let target =
            (!live.is_empty()).then(|| live[rng.below(live.len() as u64) as usize].clone());
        match rng.below(32) {
            0..=2 => {
                let client = rng.below(self.clients.len() as u64) as usize;
                let id = self.next_job_id;
                self.next_job_id += 1;
                let mut args = if rng.below(2) == 0 {
                    batch_job(id, 1 + rng.below(2) as u16)
                } else {
                    lease_job(id, 1 + rng.below(2) as u16, 1 + rng.below(2) as i64)
                };
                if rng.below(3) == 0 {
                    args.mode = JobMode::Auction;
                }
                if args.kind == JobKind::Batch && rng.below(2) == 0 {
                    let expected = [*rng.pick(&[1u8, 1, 2]); 32];
                    let salt = [rng.below(256) as u8; 32];
                    args.verification = job_escrow::state::canary_commitment(&expected, &salt);
                    self.canaries.insert(id, (expected, salt));
                }
                let ix = self.m.create_job_ix(&self.clients[client], args);
                let signer = self.clients[client].keypair.insecure_clone();
                if self.send(format!("create job {id}"), &[ix], &[&signer]) {
                    self.jobs.push((client, id));
                    let vault = pda::job_vault(&pda::job(&self.clients[client].pubkey(), id));
                    self.payment_accounts.push(vault);
                }
            }
            3..=8 => {
                let Some((_, j)) = pick(rng, &live, |j| j.status == JobStatus::Open) else {
                    return;
                };
                let node = &self.nodes[pick_node];
                let (op, auth) = (node.operator.insecure_clone(), node.authority.pubkey());
                let job = pda::job(&j.client, j.job_id);
                let ix = if j.mode == JobMode::Instant {
                    ix::accept_job(&op.pubkey(), &auth, &job)
                } else {
                    ix::place_bid(&op.pubkey(), &auth, &job, 1 + rng.below(3 * TOKEN))
                };
                let taken = self.send(
                    format!("node {pick_node} takes/bids {}", j.job_id),
                    &[registry::heartbeat(&op.pubkey(), &auth), ix],
                    &[&op],
                );
                // Most nodes start what they took right away, as an agent does.
                if taken && j.mode == JobMode::Instant && rng.below(3) > 0 {
                    let start = ix::start_job(&op.pubkey(), &auth, &job);
                    if self.send(format!("start {}", j.job_id), &[start], &[&op]) {
                        let started = self.m.chain.fetch::<Job>(&job).unwrap();
                        self.proof(&job, &started, auth, now);
                    }
                }
            }
            9..=15 => {
                // The holder of a job acts on it: start, heartbeat, result, withdrawal.
                let Some((_, j)) = pick(rng, &live, |j| {
                    j.assignment.is_some()
                        && matches!(j.status, JobStatus::Assigned | JobStatus::Running)
                }) else {
                    return;
                };
                let Some(a) = j.assignment else { return };
                let Some(node) = self
                    .nodes
                    .iter()
                    .find(|n| n.authority.pubkey() == a.authority)
                else {
                    return;
                };
                let (op, auth) = (node.operator.insecure_clone(), a.authority);
                let job = pda::job(&j.client, j.job_id);
                let (what, ix) = match (j.status, j.kind, rng.below(3)) {
                    (JobStatus::Assigned, _, _) => {
                        ("start", ix::start_job(&op.pubkey(), &auth, &job))
                    }
                    (JobStatus::Running, JobKind::Batch, 0 | 1) => (
                        "submit",
                        ix::submit_result(&op.pubkey(), &auth, &job, [1; 32], "s3://r".into()),
                    ),
                    (JobStatus::Running, JobKind::Lease, 0) => {
                        let keys = self.settle_keys(&op.pubkey(), &j).unwrap();
                        (
                            "withdraw",
                            ix::withdraw_earnings(&op.pubkey(), &keys, 1 + rng.below(20_000)),
                        )
                    }
                    (JobStatus::Running, _, _) => {
                        ("heartbeat", ix::heartbeat_job(&op.pubkey(), &auth, &job))
                    }
                    _ => return,
                };
                if self.send(format!("{what} {}", j.job_id), &[ix], &[&op]) && what != "withdraw" {
                    let j = self.m.chain.fetch::<Job>(&job).unwrap();
                    self.proof(&job, &j, auth, now);
                }
            }
            16..=18 => {
                // The client acts: approve, dispute, close a lease, cancel, extend an open job.
                let submitted = |j: &Job| j.status == JobStatus::ResultSubmitted;
                let target = if rng.below(3) > 0 && live.iter().any(|(_, j)| submitted(j)) {
                    pick(rng, &live, submitted)
                } else {
                    pick(rng, &live, |j| j.status != JobStatus::Assigned)
                };
                let Some((key, j)) = target else {
                    return;
                };
                let client = self.clients[key.0].keypair.insecure_clone();
                let (mint, program) = (self.m.payment_mint, self.m.payment_token_program);
                let canary = self.canaries.get(&j.job_id).copied();
                let (what, ix) = match (j.status, rng.below(2)) {
                    (JobStatus::ResultSubmitted, _) if canary.is_some() && rng.below(3) > 0 => {
                        let (expected, mut salt) = canary.unwrap();
                        // Now and then an opening that does not match, refused.
                        if rng.below(4) == 0 {
                            salt[0] ^= 1;
                        }
                        let keys = self.settle_keys(&client.pubkey(), &j).unwrap();
                        (
                            if expected == [1; 32] {
                                "reveal canary"
                            } else {
                                "catch canary"
                            },
                            ix::reveal_canary(
                                &keys,
                                &self.m.slash_keys(),
                                &self.m.treasury,
                                expected,
                                salt,
                            ),
                        )
                    }
                    (JobStatus::ResultSubmitted, 0) if rng.below(2) == 0 => (
                        "approve",
                        ix::approve_result(&self.settle_keys(&client.pubkey(), &j).unwrap()),
                    ),
                    (JobStatus::ResultSubmitted, _) => (
                        "dispute",
                        ix::dispute_result(&client.pubkey(), j.job_id, &mint, &program),
                    ),
                    (JobStatus::Running, _) if j.kind == JobKind::Lease => (
                        "close lease",
                        ix::close_lease(&self.settle_keys(&client.pubkey(), &j).unwrap()),
                    ),
                    (JobStatus::Open, 0) => (
                        "cancel",
                        ix::cancel_job(&client.pubkey(), j.job_id, &mint, &program),
                    ),
                    (JobStatus::Open, _) => (
                        "extend",
                        ix::extend_job(&client.pubkey(), j.job_id, &mint, &program, 600, None),
                    ),
                    _ => return,
                };
                let before = self.job_address(key);
                if self.send(format!("{what} {}", j.job_id), &[ix], &[&client]) {
                    self.after_ending(&before, &j, what == "close lease");
                }
            }
            19 | 20 => {
                let Some((key, j)) = pick(rng, &live, |j| j.status == JobStatus::Disputed) else {
                    return;
                };
                if j.status != JobStatus::Disputed {
                    return;
                }
                let arbiter = self.arbiter.insecure_clone();
                let keys = self.settle_keys(&arbiter.pubkey(), &j).unwrap();
                let ix = ix::resolve_dispute(&keys, &self.m.slash_keys(), rng.below(2) == 0);
                let address = self.job_address(key);
                if self.send(format!("resolve {}", j.job_id), &[ix], &[&arbiter]) {
                    self.after_ending(&address, &j, false);
                }
            }
            21 | 22 => {
                self.crank_one(target);
            }
            23 => {
                let node = &self.nodes[pick_node];
                let (op, auth) = (node.operator.insecure_clone(), node.authority.pubkey());
                self.send(
                    format!("node {pick_node} heartbeat"),
                    &[registry::heartbeat(&op.pubkey(), &auth)],
                    &[&op],
                );
            }
            24 => {
                // Operator rotation.
                let new = Keypair::new();
                self.m
                    .chain
                    .transfer_lamports(&new.pubkey(), WALLET_LAMPORTS)
                    .unwrap();
                let auth = self.nodes[pick_node].authority.keypair.insecure_clone();
                if self.send(
                    format!("node {pick_node} rotates"),
                    &[registry::set_operator(&auth.pubkey(), &new.pubkey())],
                    &[&auth],
                ) {
                    self.nodes[pick_node].operator = new;
                }
            }
            25 => {
                let auth = self.nodes[pick_node].authority.keypair.insecure_clone();
                let a = auth.pubkey();
                // Exits are rare: a node that exits takes no job until it retires and returns.
                let ix = match rng.below(10) {
                    0 | 5 | 6 => registry::pause_provider(&a, &a),
                    1 | 7 | 8 => registry::resume_provider(&a, &a),
                    2 => registry::begin_exit(&a),
                    3 => registry::retire_provider(&a),
                    _ => {
                        let listing = listing(
                            &self.nodes[pick_node].operator.pubkey(),
                            self.nodes[pick_node].gpus,
                            &self.m.payment_mint,
                        );
                        registry::register_provider(&a, listing)
                    }
                };
                self.send(format!("node {pick_node} status change"), &[ix], &[&auth]);
            }
            26 => {
                let auth = self.nodes[pick_node].authority.keypair.insecure_clone();
                let a = auth.pubkey();
                let tokens = self.nodes[pick_node].authority.tokens;
                let ix = match rng.below(4) {
                    0 => staking_ix::request_unstake(&a, 1 + rng.below(60 * TOKEN)),
                    1 => staking_ix::cancel_unstake(&a),
                    2 => {
                        staking_ix::withdraw(&a, &tokens, &self.m.stake_mint, &token::TOKEN_PROGRAM)
                    }
                    _ => self
                        .m
                        .stake_ix(&self.nodes[pick_node].authority, 1 + rng.below(10 * TOKEN)),
                };
                self.send(format!("node {pick_node} stake change"), &[ix], &[&auth]);
            }
            27 => {
                // The admin proposes a change (any values, bounds decide) or anyone applies.
                let admin = self.m.admin.insecure_clone();
                let ix = if rng.below(2) == 0 {
                    ix::propose_config_update(
                        &admin.pubkey(),
                        job_escrow::UpdateConfigArgs {
                            protocol_fee_bps: Some(rng.below(2_500) as u16),
                            heartbeat_grace: Some(1 + rng.below(600) as i64),
                            slash: Some(job_escrow::state::SlashAmounts {
                                no_start: CRANK_TIP + rng.below(80 * TOKEN),
                                heartbeat_lost: CRANK_TIP + rng.below(80 * TOKEN),
                                no_result: CRANK_TIP + rng.below(80 * TOKEN),
                                dispute_lost: CRANK_TIP + rng.below(80 * TOKEN),
                                wrong_result: CRANK_TIP + rng.below(80 * TOKEN),
                            }),
                            ..Default::default()
                        },
                    )
                } else {
                    ix::apply_config_update(&admin.pubkey())
                };
                self.send("admin config".into(), &[ix], &[&admin]);
            }
            _ => {
                let seconds = *rng.pick(&[30i64, 60, 60, 90, 130, 400, 3_700, 90_000]);
                self.m.chain.advance(seconds).unwrap();
                self.log.push(format!("advance {seconds}"));
            }
        }
    }

    /// A job that may have ended: settle the bound of its last attempt.
    fn after_ending(&mut self, address: &Pubkey, before: &Job, lease_grace: bool) {
        let Some(a) = before.assignment else { return };
        if self.m.chain.exists(address).unwrap() {
            let still = self.m.chain.fetch::<Job>(address).unwrap();
            if still.assignment.is_some_and(|b| b.authority == a.authority) {
                return;
            }
        }
        let grace = if lease_grace || before.kind == JobKind::Lease {
            before.terms.heartbeat_grace
        } else {
            0
        };
        let bond = before.dispute.map_or(0, |d| d.bond);
        self.attempt_ended(address, &a.authority, grace, bond);
    }

    /// The keeper cranks whatever is due on `target` (if anything).
    fn crank_one(&mut self, target: Option<((usize, u64), Job)>) -> bool {
        let Some((key, j)) = target else { return false };
        let keeper = self.keeper.keypair.insecure_clone();
        let k = keeper.pubkey();
        let address = self.job_address(key);
        let (mint, program) = (self.m.payment_mint, self.m.payment_token_program);
        let ixs = match j.status {
            JobStatus::Open => match j.best_bid {
                Some(bid) => vec![ix::close_auction(&k, &address, &bid.authority)],
                None => vec![ix::reclaim_job(&k, &j.client, j.job_id, &mint, &program)],
            },
            JobStatus::Assigned => vec![ix::expire_job(
                &self.settle_keys(&k, &j).unwrap(),
                &self.m.slash_keys(),
            )],
            JobStatus::Running | JobStatus::ResultSubmitted | JobStatus::Disputed => {
                let keys = self.settle_keys(&k, &j).unwrap();
                vec![
                    ix::expire_job(&keys, &self.m.slash_keys()),
                    ix::finalize_job(&keys),
                ]
            }
        };
        let mut ok = false;
        for ix in ixs {
            if self.send(format!("keeper cranks {}", j.job_id), &[ix], &[&keeper]) {
                self.after_ending(&address, &j, true);
                ok = true;
                break;
            }
        }
        ok
    }

    /// Every invariant that must hold after any step.
    fn check(&mut self) {
        assert_eq!(
            self.m.total(&self.payment_accounts.clone()),
            self.payment_supply,
            "payment tokens not conserved"
        );
        assert_eq!(
            self.m.total(&self.stake_accounts.clone()),
            self.stake_supply,
            "stake tokens not conserved"
        );
        let stakes = self
            .m
            .chain
            .fetch_all::<StakeAccount>(&staking::ID)
            .unwrap();
        // Stakes, plus the treasury's share of slashes not yet collected.
        let owed = self.m.staking_config().treasury_owed;
        let staked: u64 = stakes
            .iter()
            .map(|(_, s)| s.active + s.unbonding)
            .sum::<u64>()
            + owed;
        assert_eq!(
            self.m.balance(&pda::staking_vault()),
            staked,
            "vault does not back the stakes"
        );
        for (_, s) in &stakes {
            assert!(s.locked <= s.active, "more locked than active: {s:?}");
        }
        let locked: u64 = stakes.iter().map(|(_, s)| s.locked).sum();
        assert_eq!(self.m.staking_config().total_locked, locked, "total locked");
        let live = self.live_jobs();
        let providers = self
            .m
            .chain
            .fetch_all::<Provider>(&provider_registry::ID)
            .unwrap();
        for (address, p) in &providers {
            let held: Vec<&Job> = live
                .iter()
                .map(|(_, j)| j)
                .filter(|j| j.assignment.is_some_and(|a| a.provider == *address))
                .collect();
            assert_eq!(
                usize::from(p.jobs_held),
                held.len(),
                "jobs held by {address}"
            );
            let gpus: u16 = held
                .iter()
                .filter(|j| j.holds_gpus())
                .map(|j| j.requirements.gpu_count)
                .sum();
            assert_eq!(p.gpus_in_use, gpus, "GPUs in use by {address}");
            let locked: u64 = held.iter().map(|j| j.collateral_locked()).sum();
            let stake = stakes
                .iter()
                .find(|(_, s)| s.owner == p.authority)
                .unwrap()
                .1
                .locked;
            assert!(
                stake <= locked,
                "{address} has {stake} locked for {locked} of jobs"
            );
        }
        for n in &self.nodes {
            let account = self.m.payment_account_address(&n.authority.pubkey());
            let paid = u128::from(self.m.balance(&account));
            // Open attempts may be paid up to their last proof (withdrawals).
            let open: u128 = self
                .attempts
                .iter()
                .filter(|((_, a), _)| *a == n.authority.pubkey())
                .map(|(_, (price, gpus, start, last))| {
                    u128::from(*price) * u128::from(*gpus) * ((last - start).max(0) as u128) / 3_600
                })
                .sum();
            let bound = self.earned_bound[&n.authority.pubkey()] + open;
            assert!(
                paid <= bound,
                "provider {} paid {paid}, earned at most {bound}",
                n.authority.pubkey()
            );
        }
    }

    /// Only the keeper acts and the clock moves: every job must end.
    fn drain(&mut self) {
        for _ in 0..12 {
            let live = self.live_jobs();
            if live.is_empty() {
                return;
            }
            for target in live {
                self.crank_one(Some(target));
                self.check();
            }
            self.m.chain.advance(3 * 86_400).unwrap();
            self.log.push("advance 3 days".into());
        }
        let left: Vec<_> = self
            .live_jobs()
            .into_iter()
            .map(|(_, j)| (j.job_id, j.status))
            .collect();
        assert!(
            left.is_empty(),
            "jobs without a permissionless exit: {left:?}"
        );
    }

    /// Forgets the jobs of a drained sequence: their accounts and vaults are closed.
    fn forget_closed_jobs(&mut self) {
        assert!(self.live_jobs().is_empty());
        self.jobs.clear();
        self.payment_accounts.truncate(self.base_payment_accounts);
    }
}

/// A random job among `live` that `wanted` accepts.
fn pick(
    rng: &mut Rng,
    live: &[((usize, u64), Job)],
    wanted: impl Fn(&Job) -> bool,
) -> Option<((usize, u64), Job)> {
    let matching: Vec<_> = live.iter().filter(|(_, j)| wanted(j)).collect();
    (!matching.is_empty()).then(|| matching[rng.below(matching.len() as u64) as usize].clone())
}

#[test]
fn random_market_sequences_keep_every_invariant() {
    let sequences: u64 = std::env::var("GPU_MARKET_FUZZ_SEQUENCES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let first_seed: u64 = std::env::var("GPU_MARKET_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let started = std::time::Instant::now();
    let mut world = World::new();
    let mut steps = 0usize;
    let mut landed: std::collections::BTreeMap<String, usize> = Default::default();
    for seed in first_seed..first_seed + sequences {
        if (seed - first_seed).is_multiple_of(SEQUENCES_PER_MARKET) && seed != first_seed {
            for (kind, n) in std::mem::take(&mut world.landed) {
                *landed.entry(kind).or_default() += n;
            }
            world = World::new();
        }
        world.log.clear();
        let mut rng = Rng::new(seed);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            for _ in 0..STEPS {
                world.step(&mut rng);
                world.check();
            }
            world.drain();
            world.forget_closed_jobs();
        }));
        steps += world.log.len();
        if let Err(panic) = outcome {
            eprintln!(
                "sequence with seed {seed} failed after:\n{}",
                world.log.join("\n")
            );
            std::panic::resume_unwind(panic);
        }
    }
    for (kind, n) in world.landed {
        *landed.entry(kind).or_default() += n;
    }
    println!(
        "fuzz: {sequences} sequences, {steps} transactions and clock moves, {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!("fuzz: landed {landed:?}");
    // The sequences reach every part of the market, not just refusals (asserted at the
    // full count: a short run may miss the rarer paths).
    let kinds = if sequences >= 1_000 {
        &COVERED[..]
    } else {
        &[]
    };
    for kind in kinds {
        assert!(
            landed.get(*kind).copied().unwrap_or(0) > 0,
            "no {kind} ever landed"
        );
    }
}

/// Transaction kinds a full run must land at least once.
const COVERED: [&str; 13] = [
    "create job",
    "reveal canary",
    "catch canary",
    "node takes/bids",
    "start",
    "submit",
    "approve",
    "dispute",
    "resolve",
    "keeper cranks",
    "withdraw",
    "close lease",
    "node rotates",
];
