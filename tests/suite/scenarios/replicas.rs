//! Replicated execution: N distinct providers run one batch job, commit to their results,
//! reveal them once nobody can commit any more, and the majority result is paid while
//! dissenters are slashed.

use gpu_market_client::{
    escrow as ix, pda, Chain, ClientError, Instruction, Keypair, Pubkey, Signer, TxOutcome,
};
use gpu_market_matcher::market_gen::Rng;
use gpu_market_tests::{escrow::*, *};
use job_escrow::{
    error::EscrowError,
    events::{ReplicaSettled, ReplicaVerdict},
    state::{replica_commitment, JobStatus},
};

const GROUP_ID: u64 = 7;
/// The commit deadline, from the group's creation: a two-hour replica can be taken for the
/// first 3,300 seconds (the start timeout and the max duration still fit).
const COMMIT_IN: i64 = 3 * 3_600;
/// What a replica on one GPU earns for an hour at the fixture providers' price (2 tokens
/// per GPU-hour), and the protocol fee on it.
const HOUR_GROSS: u64 = 2 * TOKEN;
const HOUR_FEE: u64 = HOUR_GROSS * PROTOCOL_FEE_BPS as u64 / 10_000;
/// What each replica's vault holds: the max cost (two hours at 3 tokens) and the tips.
const DEPOSIT: u64 = 6 * TOKEN + TIPS;

/// A client's replica group with one fresh provider per replica, and every account whose
/// balances must add up.
struct Replicas {
    client: Wallet,
    group: Pubkey,
    providers: Vec<Wallet>,
    jobs: Vec<Pubkey>,
    accounts: Vec<Pubkey>,
    supply: u64,
    stake_accounts: Vec<Pubkey>,
    stake_supply: u64,
    created_at: i64,
}

impl Replicas {
    /// Opens a group of `n` and creates its `n` replicas of `batch_job(_, 1)`.
    fn new(m: &mut Market, n: u8) -> Self {
        let providers: Vec<Wallet> = (0..n).map(|_| m.provider(1)).collect();
        let client = m.client(100 * TOKEN);
        let treasury = m.payment_account(&treasury_wallet(m));
        let client_stake = m.stake_mint_account(&client.pubkey());
        let stake_accounts = vec![pda::staking_vault(), client_stake, m.treasury];
        let created_at = m.chain.now().unwrap();
        signed(
            m,
            ix::create_replica_group(&client.pubkey(), GROUP_ID, n, created_at + COMMIT_IN),
            &client.keypair,
        )
        .unwrap();
        let group = pda::replica_group(&client.pubkey(), GROUP_ID);
        let mut jobs = Vec::new();
        let mut accounts = vec![client.tokens, treasury];
        for id in 1..=u64::from(n) {
            let ix = replica_ix(m, &client, batch_job(id, 1), &group);
            signed(m, ix, &client.keypair).unwrap();
            let job = pda::job(&client.pubkey(), id);
            jobs.push(job);
            accounts.push(pda::job_vault(&job));
        }
        for p in &providers {
            accounts.push(m.payment_account(&p.pubkey()));
        }
        let supply = m.total(&accounts);
        let stake_supply = m.total(&stake_accounts);
        Self {
            client,
            group,
            providers,
            jobs,
            accounts,
            supply,
            stake_accounts,
            stake_supply,
            created_at,
        }
    }

    fn provider(&self, i: usize) -> &Wallet {
        &self.providers[i]
    }

    /// Provider `i` takes replica `job` (by itself) and starts it.
    fn take(&self, m: &mut Market, i: usize, job: usize) -> Result<(), ClientError> {
        let op = self.provider(i).keypair.insecure_clone();
        let accept = ix::with_group(
            ix::accept_job(&op.pubkey(), &op.pubkey(), &self.jobs[job]),
            &self.group,
        );
        signed(m, accept, &op)?;
        signed(
            m,
            ix::start_job(&op.pubkey(), &op.pubkey(), &self.jobs[job]),
            &op,
        )?;
        Ok(())
    }

    /// Every provider `i` takes replica `i`.
    fn take_all(&self, m: &mut Market) {
        for i in 0..self.jobs.len() {
            self.take(m, i, i).unwrap();
        }
    }

    /// Provider `i`'s salt.
    fn salt(i: usize) -> [u8; 32] {
        [u8::try_from(i).unwrap() + 0x40; 32]
    }

    fn commitment(&self, i: usize, hash: [u8; 32]) -> [u8; 32] {
        replica_commitment(
            &hash,
            &pda::provider(&self.provider(i).pubkey()),
            &Self::salt(i),
        )
    }

    /// Provider `i` commits `commitment` for replica `i`.
    fn commit_raw(
        &self,
        m: &mut Market,
        i: usize,
        commitment: [u8; 32],
    ) -> Result<TxOutcome, ClientError> {
        let op = self.provider(i).keypair.insecure_clone();
        signed(
            m,
            ix::commit_result(
                &op.pubkey(),
                &op.pubkey(),
                &self.jobs[i],
                &self.group,
                commitment,
            ),
            &op,
        )
    }

    /// Provider `i` commits to `hash` for replica `i`.
    fn commit(&self, m: &mut Market, i: usize, hash: [u8; 32]) -> Result<TxOutcome, ClientError> {
        self.commit_raw(m, i, self.commitment(i, hash))
    }

    /// Provider `i` reveals replica `i` as `hash` with `salt`.
    fn reveal_with(
        &self,
        m: &mut Market,
        i: usize,
        hash: [u8; 32],
        salt: [u8; 32],
    ) -> Result<TxOutcome, ClientError> {
        let op = self.provider(i).keypair.insecure_clone();
        signed(
            m,
            ix::reveal_result(
                &op.pubkey(),
                &op.pubkey(),
                &self.jobs[i],
                &self.group,
                hash,
                salt,
                format!("s3://out/{i}"),
            ),
            &op,
        )
    }

    fn reveal(&self, m: &mut Market, i: usize, hash: [u8; 32]) -> Result<TxOutcome, ClientError> {
        self.reveal_with(m, i, hash, Self::salt(i))
    }

    fn settle_ix(&self, m: &Market, caller: &Pubkey, i: usize) -> Instruction {
        let keys = m.settle_keys(
            caller,
            &self.client,
            u64::try_from(i).unwrap() + 1,
            &self.provider(i).pubkey(),
        );
        ix::settle_replica(&keys, &m.slash_keys(), &m.treasury, &self.group)
    }

    /// Settles replica `i` (anyone), returning what its event says.
    fn settle(&self, m: &mut Market, i: usize) -> Result<Settled, ClientError> {
        let anyone = m.wallet(0);
        let ix = self.settle_ix(m, &anyone.pubkey(), i);
        let out = signed(m, ix, &anyone.keypair)?;
        let e = &out.events::<ReplicaSettled>()[0];
        assert_eq!(e.job, self.jobs[i]);
        Ok(Settled {
            verdict: e.verdict,
            majority: e.majority,
            refund: e.refund,
            slash_requested: e.slash_requested,
        })
    }

    /// Closes the group once every replica job is closed: the client, or anyone once the
    /// reveal deadline has passed.
    fn close(&self, m: &mut Market, caller: &Wallet) -> Result<TxOutcome, ClientError> {
        signed(
            m,
            ix::close_replica_group(
                &caller.pubkey(),
                &self.client.pubkey(),
                GROUP_ID,
                &self.jobs,
            ),
            &caller.keypair,
        )
    }

    fn payment(&self, m: &mut Market, i: usize) -> u64 {
        let account = m.payment_account_address(&self.provider(i).pubkey());
        m.balance(&account)
    }

    /// Every job, vault and the group closed; no payment or stake token created or lost
    /// (counting the payment accounts `extra` too, empty when the group was created); no
    /// collateral left locked.
    fn assert_closed_and_conserved(&self, m: &mut Market, extra: &[Pubkey]) {
        for job in &self.jobs {
            assert!(!m.chain.exists(job).unwrap(), "replica job left open");
            assert!(
                !m.chain.exists(&pda::job_vault(job)).unwrap(),
                "vault left open"
            );
        }
        assert!(!m.chain.exists(&self.group).unwrap(), "group left open");
        let accounts: Vec<Pubkey> = self.accounts.iter().chain(extra).copied().collect();
        assert_eq!(m.total(&accounts), self.supply, "payment tokens");
        assert_eq!(m.total(&self.stake_accounts), self.stake_supply, "stake");
        for p in &self.providers {
            let node = m.provider_account(&p.pubkey());
            assert_eq!((node.jobs_held, node.gpus_in_use), (0, 0));
            assert_eq!(m.stake_account(&p.pubkey()).locked, 0);
        }
    }
}

/// What a `ReplicaSettled` event says.
#[derive(Debug)]
struct Settled {
    verdict: ReplicaVerdict,
    majority: Option<[u8; 32]>,
    refund: u64,
    slash_requested: u64,
}

fn replica_ix(
    m: &Market,
    client: &Wallet,
    args: job_escrow::CreateJobArgs,
    group: &Pubkey,
) -> Instruction {
    ix::create_replica(
        &client.pubkey(),
        &m.payment_mint,
        &m.payment_token_program,
        args,
        group,
    )
}

/// The verdicts of settling every replica in order.
fn settle_all(m: &mut Market, r: &Replicas) -> Vec<ReplicaVerdict> {
    (0..r.jobs.len())
        .map(|i| r.settle(m, i).unwrap().verdict)
        .collect()
}

#[test]
fn three_replicas_with_one_liar_pay_the_two_and_slash_the_liar() {
    let mut m = Market::with_escrow();
    let r = Replicas::new(&mut m, 3);
    assert_eq!(m.balance(&pda::job_vault(&r.jobs[0])), DEPOSIT);
    r.take_all(&mut m);
    m.chain.advance(3_600).unwrap();
    let (good, bad) = ([1; 32], [2; 32]);
    r.commit(&mut m, 0, good).unwrap();
    r.commit(&mut m, 1, good).unwrap();
    // Nothing opens before every replica has committed (or the deadline has passed).
    assert_error(r.reveal(&mut m, 0, good), EscrowError::RevealNotOpen);
    r.commit(&mut m, 2, bad).unwrap();
    r.reveal(&mut m, 0, good).unwrap();
    r.reveal(&mut m, 1, good).unwrap();
    // Not final while one reveal is missing and the reveal deadline is ahead.
    assert_error(r.settle(&mut m, 0), EscrowError::ReplicasUndecided);
    r.reveal(&mut m, 2, bad).unwrap();
    assert_error(r.reveal(&mut m, 2, bad), EscrowError::AlreadyRevealed);
    let staking_treasury = m.treasury;
    let (treasury_before, owed) = (
        m.balance(&staking_treasury),
        m.staking_config().treasury_owed,
    );

    let liar = r.settle(&mut m, 2).unwrap();
    assert_eq!(
        (
            liar.verdict,
            liar.majority,
            liar.refund,
            liar.slash_requested
        ),
        (
            ReplicaVerdict::Dissented,
            Some(good),
            DEPOSIT,
            SLASH.wrong_result
        )
    );
    assert_eq!(
        settle_all_but(&mut m, &r, 2),
        vec![ReplicaVerdict::Agreed, ReplicaVerdict::Agreed]
    );

    // The two are paid an hour each less the fee; the liar nothing, slashed whole to the
    // staking treasury; the client pays for two hours and gets everything else back.
    assert_eq!(r.payment(&mut m, 0), HOUR_GROSS - HOUR_FEE);
    assert_eq!(r.payment(&mut m, 1), HOUR_GROSS - HOUR_FEE);
    assert_eq!(r.payment(&mut m, 2), 0);
    let treasury = m.payment_account_address(&treasury_wallet(&m));
    assert_eq!(m.balance(&treasury), 2 * HOUR_FEE);
    assert_eq!(m.balance(&r.client.tokens), 100 * TOKEN - 2 * HOUR_GROSS);
    assert_eq!(
        m.stake_account(&r.provider(2).pubkey()).active,
        MIN_STAKE_PER_GPU - SLASH.wrong_result
    );
    for i in 0..2 {
        assert_eq!(
            m.stake_account(&r.provider(i).pubkey()).active,
            MIN_STAKE_PER_GPU
        );
    }
    assert_eq!(
        m.balance(&staking_treasury),
        treasury_before + SLASH.wrong_result * 3 / 4
    );
    assert_eq!(
        m.staking_config().treasury_owed,
        owed + SLASH.wrong_result / 4
    );
    let rep = |m: &mut Market, i: usize| {
        let r = m.provider_account(&r.provider(i).pubkey()).reputation;
        (
            r.jobs_completed,
            r.verifications_failed,
            r.gpu_seconds_served,
        )
    };
    assert_eq!(rep(&mut m, 0), (1, 0, 3_600));
    assert_eq!(rep(&mut m, 2), (0, 1, 0));

    // Before the reveal deadline only the client closes the group; after it anyone does,
    // and the rent goes to the client.
    let anyone = m.wallet(0);
    assert_error(r.close(&mut m, &anyone), EscrowError::NotClient);
    let reveal_deadline = r.created_at + COMMIT_IN + CHALLENGE_WINDOW;
    let now = m.chain.now().unwrap();
    m.chain.advance(reveal_deadline - now + 1).unwrap();
    let rent = m.chain.lamports(&r.group).unwrap();
    let before = m.chain.lamports(&r.client.pubkey()).unwrap();
    r.close(&mut m, &anyone).unwrap();
    assert_eq!(m.chain.lamports(&r.client.pubkey()).unwrap(), before + rent);
    r.assert_closed_and_conserved(&mut m, &[]);
}

/// Settles every replica but `skip`, in order.
fn settle_all_but(m: &mut Market, r: &Replicas, skip: usize) -> Vec<ReplicaVerdict> {
    (0..r.jobs.len())
        .filter(|i| *i != skip)
        .map(|i| r.settle(m, i).unwrap().verdict)
        .collect()
}

#[test]
fn a_two_two_split_of_four_refunds_the_client_and_pays_nobody() {
    let mut m = Market::with_escrow();
    let r = Replicas::new(&mut m, 4);
    r.take_all(&mut m);
    m.chain.advance(3_600).unwrap();
    let hashes = [[1; 32], [1; 32], [2; 32], [2; 32]];
    for (i, hash) in hashes.iter().enumerate() {
        r.commit(&mut m, i, *hash).unwrap();
    }
    for (i, hash) in hashes.iter().enumerate() {
        r.reveal(&mut m, i, *hash).unwrap();
    }
    assert_eq!(
        settle_all(&mut m, &r),
        vec![ReplicaVerdict::Inconclusive; 4]
    );
    // The whole deposit of every replica back; nobody paid, nobody slashed, and nothing
    // counted against anyone's record.
    assert_eq!(m.balance(&r.client.tokens), 100 * TOKEN);
    let treasury = m.payment_account_address(&treasury_wallet(&m));
    assert_eq!(m.balance(&treasury), 0);
    for i in 0..4 {
        assert_eq!(r.payment(&mut m, i), 0);
        assert_eq!(
            m.stake_account(&r.provider(i).pubkey()).active,
            MIN_STAKE_PER_GPU
        );
        let rep = m.provider_account(&r.provider(i).pubkey()).reputation;
        assert_eq!(rep, Default::default());
    }
    r.close(&mut m, &r.client).unwrap();
    r.assert_closed_and_conserved(&mut m, &[]);
}

#[test]
fn a_provider_that_never_reveals_is_slashed_once_the_reveal_deadline_passes() {
    let mut m = Market::with_escrow();
    let r = Replicas::new(&mut m, 3);
    r.take_all(&mut m);
    m.chain.advance(3_600).unwrap();
    let good = [1; 32];
    for i in 0..3 {
        r.commit(&mut m, i, good).unwrap();
    }
    r.reveal(&mut m, 0, good).unwrap();
    r.reveal(&mut m, 1, good).unwrap();
    // The reveals are not final until the reveal deadline: the commit deadline plus the
    // challenge window.
    let reveal_deadline = r.created_at + COMMIT_IN + CHALLENGE_WINDOW;
    let now = m.chain.now().unwrap();
    m.chain.advance(reveal_deadline - now).unwrap();
    assert_error(r.settle(&mut m, 0), EscrowError::ReplicasUndecided);
    m.chain.advance(1).unwrap();
    // Too late to reveal now.
    assert_error(r.reveal(&mut m, 2, good), EscrowError::RevealWindowClosed);
    let silent = r.settle(&mut m, 2).unwrap();
    assert_eq!(
        (silent.verdict, silent.refund, silent.slash_requested),
        (ReplicaVerdict::Unrevealed, DEPOSIT, SLASH.wrong_result)
    );
    assert_eq!(
        settle_all_but(&mut m, &r, 2),
        vec![ReplicaVerdict::Agreed; 2]
    );
    assert_eq!(
        m.stake_account(&r.provider(2).pubkey()).active,
        MIN_STAKE_PER_GPU - SLASH.wrong_result
    );
    assert_eq!(r.payment(&mut m, 0), HOUR_GROSS - HOUR_FEE);
    assert_eq!(r.payment(&mut m, 2), 0);
    assert_eq!(m.balance(&r.client.tokens), 100 * TOKEN - 2 * HOUR_GROSS);
    r.close(&mut m, &r.client).unwrap();
    r.assert_closed_and_conserved(&mut m, &[]);
}

#[test]
fn a_revealed_hash_cannot_be_copied_without_a_commit() {
    let mut m = Market::with_escrow();
    let keeper = m.wallet(0);
    // A provider that comes too late, registered (and staked) before the count starts.
    let late = m.provider(1);
    let r = Replicas::new(&mut m, 3);
    let keeper_tokens = m.payment_account(&keeper.pubkey());
    r.take_all(&mut m);
    m.chain.advance(3_600).unwrap();
    let good = [1; 32];
    r.commit(&mut m, 0, good).unwrap();
    // A commitment copied from another replica's event opens for nobody else: it binds
    // the provider account that committed it.
    let copied = r.commitment(0, good);
    r.commit_raw(&mut m, 1, copied).unwrap();
    // Provider 2 waits for the others' answers and never commits.
    let deadline = r.created_at + COMMIT_IN;
    let now = m.chain.now().unwrap();
    assert_error(r.reveal(&mut m, 0, good), EscrowError::RevealNotOpen);
    m.chain.advance(deadline - now + 1).unwrap();
    r.reveal(&mut m, 0, good).unwrap();
    assert_error(
        r.reveal_with(&mut m, 1, good, Replicas::salt(0)),
        EscrowError::CommitmentMismatch,
    );
    // The revealed answer is public now, but a replica that committed nothing has nothing
    // to reveal, and can no longer commit.
    assert_error(r.reveal(&mut m, 2, good), EscrowError::NoCommitment);
    assert_error(r.commit(&mut m, 2, good), EscrowError::CommitDeadlinePassed);

    // The silent replica expires (its heartbeats lapsed: slashed, re-opened), no provider
    // may take it any more, and it is reclaimed after another bid window.
    let keys = m.settle_keys(&keeper.pubkey(), &r.client, 3, &r.provider(2).pubkey());
    let expire = ix::expire_job(&keys, &m.slash_keys());
    signed(&mut m, expire, &keeper.keypair).unwrap();
    assert_eq!(m.job(&r.client.pubkey(), 3).status, JobStatus::Open);
    let op = late.keypair.insecure_clone();
    signed(
        &mut m,
        gpu_market_client::registry::heartbeat(&op.pubkey(), &op.pubkey()),
        &op,
    )
    .unwrap();
    assert_error(
        signed(
            &mut m,
            ix::with_group(
                ix::accept_job(&op.pubkey(), &op.pubkey(), &r.jobs[2]),
                &r.group,
            ),
            &op,
        ),
        EscrowError::ReplicaClaimClosed,
    );
    m.chain.advance(BID_WINDOW).unwrap();
    let reclaim = ix::reclaim_job(
        &keeper.pubkey(),
        &r.client.pubkey(),
        3,
        &m.payment_mint,
        &m.payment_token_program,
    );
    signed(&mut m, reclaim, &keeper.keypair).unwrap();

    // One of three revealed: no majority. The revealer is refunded unpaid; the copier,
    // which never opened its commitment, is slashed.
    m.chain.advance(CHALLENGE_WINDOW).unwrap();
    assert_error(r.close(&mut m, &r.client), EscrowError::ReplicaJobsOpen);
    assert_eq!(
        r.settle(&mut m, 0).unwrap().verdict,
        ReplicaVerdict::Inconclusive
    );
    assert_eq!(
        r.settle(&mut m, 1).unwrap().verdict,
        ReplicaVerdict::Unrevealed
    );
    assert_eq!(
        m.stake_account(&r.provider(1).pubkey()).active,
        MIN_STAKE_PER_GPU - SLASH.wrong_result
    );
    assert_eq!(
        m.stake_account(&r.provider(2).pubkey()).active,
        MIN_STAKE_PER_GPU - SLASH.heartbeat_lost
    );
    assert_eq!(
        m.stake_account(&r.provider(0).pubkey()).active,
        MIN_STAKE_PER_GPU
    );
    assert_eq!(r.payment(&mut m, 0), 0);
    // Everything back but the tips of the expiry and the reclaim.
    assert_eq!(m.balance(&r.client.tokens), 100 * TOKEN - 2 * CRANK_TIP);
    assert_eq!(m.balance(&keeper_tokens), 2 * CRANK_TIP);
    r.close(&mut m, &r.client).unwrap();
    r.assert_closed_and_conserved(&mut m, &[keeper_tokens]);
}

/// How a replica's provider behaves in [`random_replica_outcomes_pay_each_party_its_share`].
#[derive(Debug, Clone, Copy)]
enum Behaviour {
    /// Commits and reveals this result.
    Reveals([u8; 32]),
    /// Commits this result and never reveals it.
    Silent([u8; 32]),
}

/// The gross pay and fee of `seconds` on one GPU at the fixture providers' price.
fn pay_for(seconds: u64) -> (u64, u64) {
    let gross = HOUR_GROSS * seconds / 3_600;
    (gross, gross * PROTOCOL_FEE_BPS as u64 / 10_000)
}

#[test]
fn random_replica_outcomes_pay_each_party_its_share() {
    let mut seen = std::collections::HashSet::new();
    for seed in 0..24u64 {
        let mut rng = Rng::new(0x5EED_0000 + seed);
        let mut m = Market::with_escrow();
        let n = 2 + usize::try_from(rng.below(4)).unwrap();
        let r = Replicas::new(&mut m, u8::try_from(n).unwrap());
        let behaviours: Vec<Behaviour> = (0..n)
            .map(|_| {
                let hash = [1 + u8::try_from(rng.below(3)).unwrap(); 32];
                if rng.below(5) == 0 {
                    Behaviour::Silent(hash)
                } else {
                    Behaviour::Reveals(hash)
                }
            })
            .collect();
        let context = format!("seed {seed}: {n} replicas, {behaviours:?}");
        r.take_all(&mut m);
        let started = m.chain.now().unwrap();
        let mut served = vec![0u64; n];
        for (i, b) in behaviours.iter().enumerate() {
            m.chain
                .advance(300 + i64::try_from(rng.below(900)).unwrap())
                .unwrap();
            let (Behaviour::Reveals(hash) | Behaviour::Silent(hash)) = *b;
            r.commit(&mut m, i, hash).unwrap();
            served[i] = u64::try_from(m.chain.now().unwrap() - started).unwrap();
        }
        for (i, b) in behaviours.iter().enumerate() {
            if let Behaviour::Reveals(hash) = b {
                r.reveal(&mut m, i, *hash).unwrap();
            }
        }
        if behaviours.iter().any(|b| matches!(b, Behaviour::Silent(_))) {
            assert_error(r.settle(&mut m, 0), EscrowError::ReplicasUndecided);
            m.chain.advance(COMMIT_IN + CHALLENGE_WINDOW).unwrap();
        }
        let staking_treasury = m.treasury;
        let (treasury_before, owed_before) = (
            m.balance(&staking_treasury),
            m.staking_config().treasury_owed,
        );

        // The model: more than half of all n replicas revealed the same hash.
        let revealed: Vec<[u8; 32]> = behaviours
            .iter()
            .filter_map(|b| match b {
                Behaviour::Reveals(hash) => Some(*hash),
                Behaviour::Silent(_) => None,
            })
            .collect();
        let majority = revealed
            .iter()
            .find(|h| revealed.iter().filter(|o| o == h).count() * 2 > n)
            .copied();
        let expected: Vec<ReplicaVerdict> = behaviours
            .iter()
            .map(|b| match (b, majority) {
                (Behaviour::Silent(_), _) => ReplicaVerdict::Unrevealed,
                (Behaviour::Reveals(h), Some(m)) if *h == m => ReplicaVerdict::Agreed,
                (Behaviour::Reveals(_), Some(_)) => ReplicaVerdict::Dissented,
                (Behaviour::Reveals(_), None) => ReplicaVerdict::Inconclusive,
            })
            .collect();

        // Settled in a random order.
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            order.swap(i, usize::try_from(rng.below(i as u64 + 1)).unwrap());
        }
        let mut verdicts = vec![None; n];
        for i in order {
            let event = r.settle(&mut m, i).unwrap();
            assert_eq!(event.majority, majority, "{context}");
            verdicts[i] = Some(event.verdict);
        }
        let verdicts: Vec<ReplicaVerdict> = verdicts.into_iter().map(Option::unwrap).collect();
        assert_eq!(verdicts, expected, "{context}");
        seen.extend(verdicts.iter().map(|v| format!("{v:?}")));

        // Each party's share, to the base unit.
        let (mut client_paid, mut fees, mut slashes) = (0, 0, 0);
        for (i, verdict) in expected.iter().enumerate() {
            let (gross, fee) = pay_for(served[i]);
            let (paid, slashed) = match verdict {
                ReplicaVerdict::Agreed => (gross - fee, 0),
                ReplicaVerdict::Dissented | ReplicaVerdict::Unrevealed => (0, SLASH.wrong_result),
                ReplicaVerdict::Inconclusive => (0, 0),
            };
            if *verdict == ReplicaVerdict::Agreed {
                client_paid += gross;
                fees += fee;
            }
            slashes += slashed;
            assert_eq!(r.payment(&mut m, i), paid, "{context}: provider {i}");
            assert_eq!(
                m.stake_account(&r.provider(i).pubkey()).active,
                MIN_STAKE_PER_GPU - slashed,
                "{context}: stake of provider {i}"
            );
            let rep = m.provider_account(&r.provider(i).pubkey()).reputation;
            assert_eq!(
                (rep.jobs_completed, rep.verifications_failed),
                (
                    u64::from(*verdict == ReplicaVerdict::Agreed),
                    u64::from(slashed > 0)
                ),
                "{context}: record of provider {i}"
            );
        }
        assert_eq!(
            m.balance(&r.client.tokens),
            100 * TOKEN - client_paid,
            "{context}"
        );
        let treasury = m.payment_account_address(&treasury_wallet(&m));
        assert_eq!(m.balance(&treasury), fees, "{context}");
        assert_eq!(
            m.balance(&staking_treasury),
            treasury_before + slashes * 3 / 4,
            "{context}"
        );
        assert_eq!(
            m.staking_config().treasury_owed,
            owed_before + slashes / 4,
            "{context}"
        );
        r.close(&mut m, &r.client).unwrap();
        r.assert_closed_and_conserved(&mut m, &[]);
    }
    // The seeds reach every ending.
    assert_eq!(seen.len(), 4, "{seen:?}");
}

#[test]
fn a_replica_group_refuses_bad_terms_and_every_other_ending() {
    let mut m = Market::with_escrow();
    let (a, b) = (m.provider(2), m.provider(1));
    let client = m.client(100 * TOKEN);
    let now = m.chain.now().unwrap();
    let group = pda::replica_group(&client.pubkey(), GROUP_ID);
    let open = |m: &mut Market, n: u8, deadline: i64| {
        let ix = ix::create_replica_group(&client.pubkey(), GROUP_ID, n, deadline);
        signed(m, ix, &client.keypair)
    };
    // 2 to 5 replicas; a deadline ahead, at most two of the market's longest jobs away.
    assert_error(
        open(&mut m, 1, now + COMMIT_IN),
        EscrowError::ReplicaCountOutOfRange,
    );
    assert_error(
        open(&mut m, 6, now + COMMIT_IN),
        EscrowError::ReplicaCountOutOfRange,
    );
    assert_error(open(&mut m, 2, now), EscrowError::ReplicaDeadlineOutOfRange);
    // The reveal deadline (the commit deadline plus the challenge window) at most the
    // longest a job may live away: its run, start timeout, grace, challenge window and
    // dispute timeout.
    let lifetime = MAX_JOB_DURATION + START_TIMEOUT + HEARTBEAT_GRACE + 14 * 24 * 3_600;
    assert_error(
        open(&mut m, 2, now + lifetime + 1),
        EscrowError::ReplicaDeadlineOutOfRange,
    );
    open(&mut m, 2, now + COMMIT_IN).unwrap();
    let create = |m: &mut Market, args: job_escrow::CreateJobArgs| {
        let ix = replica_ix(m, &client, args, &group);
        signed(m, ix, &client.keypair)
    };
    // Instant-mode batch jobs only, whose whole run fits before the commit deadline.
    assert_error(
        create(&mut m, lease_job(1, 1, 1)),
        EscrowError::ReplicaNotInstantBatch,
    );
    let auction = job_escrow::CreateJobArgs {
        mode: gpu_market_client::escrow::JobMode::Auction,
        ..batch_job(1, 1)
    };
    assert_error(create(&mut m, auction), EscrowError::ReplicaNotInstantBatch);
    let long = job_escrow::CreateJobArgs {
        max_duration: 3 * 3_600,
        ..batch_job(1, 1)
    };
    assert_error(create(&mut m, long), EscrowError::ReplicaDeadlineOutOfRange);
    create(&mut m, batch_job(1, 1)).unwrap();
    // Every replica on the same terms.
    let dearer = job_escrow::CreateJobArgs {
        max_price_per_gpu_hour: 4 * TOKEN,
        ..batch_job(2, 1)
    };
    assert_error(create(&mut m, dearer), EscrowError::ReplicaTermsDiffer);
    // Nobody takes a replica before the group is complete.
    let job1 = pda::job(&client.pubkey(), 1);
    let job2 = pda::job(&client.pubkey(), 2);
    let accept = |m: &mut Market, p: &Wallet, job: &Pubkey, group: Option<&Pubkey>| {
        let op = p.keypair.insecure_clone();
        let mut ix = ix::accept_job(&op.pubkey(), &op.pubkey(), job);
        if let Some(group) = group {
            ix = ix::with_group(ix, group);
        }
        signed(m, ix, &op)
    };
    assert_error(
        accept(&mut m, &a, &job1, Some(&group)),
        EscrowError::ReplicaGroupIncomplete,
    );
    create(&mut m, batch_job(2, 1)).unwrap();
    assert_error(
        create(&mut m, batch_job(3, 1)),
        EscrowError::ReplicaGroupFull,
    );
    // Another client cannot add to this group.
    let other = m.client(100 * TOKEN);
    let ix = replica_ix(&m, &other, batch_job(1, 1), &group);
    assert_error(
        signed(&mut m, ix, &other.keypair),
        EscrowError::WrongReplicaGroup,
    );

    // A replica is taken with its own group only, and by one authority once.
    assert_error(
        accept(&mut m, &a, &job1, None),
        EscrowError::ReplicaGroupMissing,
    );
    let foreign = pda::replica_group(&other.pubkey(), GROUP_ID);
    let ix = ix::create_replica_group(&other.pubkey(), GROUP_ID, 2, now + COMMIT_IN);
    signed(&mut m, ix, &other.keypair).unwrap();
    assert_error(
        accept(&mut m, &a, &job1, Some(&foreign)),
        EscrowError::WrongReplicaGroup,
    );
    accept(&mut m, &a, &job1, Some(&group)).unwrap();
    assert_error(
        accept(&mut m, &a, &job2, Some(&group)),
        EscrowError::ReplicaAuthorityTaken,
    );
    // An open replica of a complete group can be neither cancelled nor extended.
    let (mint, token_program) = (m.payment_mint, m.payment_token_program);
    let cancel = ix::cancel_replica(&client.pubkey(), 2, &mint, &token_program, &group);
    assert_error(
        signed(&mut m, cancel, &client.keypair),
        EscrowError::ReplicaJob,
    );
    let extend = ix::extend_job(&client.pubkey(), 2, &mint, &token_program, 600, None);
    assert_error(
        signed(&mut m, extend, &client.keypair),
        EscrowError::ReplicaJob,
    );
    accept(&mut m, &b, &job2, Some(&group)).unwrap();

    // A running replica commits; it does not submit a plain result.
    let op = a.keypair.insecure_clone();
    signed(
        &mut m,
        ix::start_job(&op.pubkey(), &op.pubkey(), &job1),
        &op,
    )
    .unwrap();
    m.chain.advance(3_600).unwrap();
    let submit = ix::submit_result(&op.pubkey(), &op.pubkey(), &job1, [1; 32], "s3://x".into());
    assert_error(signed(&mut m, submit, &op), EscrowError::ReplicaJob);
    let commit = |m: &mut Market, job: &Pubkey, group: &Pubkey| {
        let ix = ix::commit_result(&op.pubkey(), &op.pubkey(), job, group, [1; 32]);
        signed(m, ix, &op)
    };
    assert_error(
        commit(&mut m, &job1, &foreign),
        EscrowError::WrongReplicaGroup,
    );
    commit(&mut m, &job1, &group).unwrap();

    // A committed replica is settled by its group only: no approval, finalization,
    // dispute or canary reveal.
    m.payment_account(&a.pubkey());
    let treasury = treasury_wallet(&m);
    m.payment_account(&treasury);
    let keys = m.settle_keys(&client.pubkey(), &client, 1, &a.pubkey());
    assert_error(
        signed(&mut m, ix::approve_result(&keys), &client.keypair),
        EscrowError::ReplicaJob,
    );
    m.chain.advance(CHALLENGE_WINDOW).unwrap();
    assert_error(
        signed(&mut m, ix::finalize_job(&keys), &client.keypair),
        EscrowError::ReplicaJob,
    );
    let dispute = ix::dispute_result(&client.pubkey(), 1, &mint, &token_program);
    assert_error(
        signed(&mut m, dispute, &client.keypair),
        EscrowError::ReplicaJob,
    );
    let (slash, staking_treasury) = (m.slash_keys(), m.treasury);
    let canary = ix::reveal_canary(&keys, &slash, &staking_treasury, [1; 32], [0; 32]);
    assert_error(
        signed(&mut m, canary, &client.keypair),
        EscrowError::ReplicaJob,
    );
    // Nor through another group, nor with the slash routed to the client.
    let settle = ix::settle_replica(&keys, &slash, &staking_treasury, &foreign);
    assert_error(
        signed(&mut m, settle, &client.keypair),
        EscrowError::WrongReplicaGroup,
    );
    let client_stake = m.stake_mint_account(&client.pubkey());
    let settle = ix::settle_replica(&keys, &slash, &client_stake, &group);
    assert_error(
        signed(&mut m, settle, &client.keypair),
        EscrowError::NotStakingTreasury,
    );
    // Not before the reveals are final; and the group stays while its jobs do.
    let settle = ix::settle_replica(&keys, &slash, &staking_treasury, &group);
    assert_error(
        signed(&mut m, settle, &client.keypair),
        EscrowError::ReplicasUndecided,
    );
    let close =
        ix::close_replica_group(&client.pubkey(), &client.pubkey(), GROUP_ID, &[job1, job2]);
    assert_error(
        signed(&mut m, close, &client.keypair),
        EscrowError::ReplicaJobsOpen,
    );

    // An ordinary job has no commitment to make.
    let c = m.provider(1);
    let plain = m.create_job_ix(&other, batch_job(9, 1));
    signed(&mut m, plain, &other.keypair).unwrap();
    let job9 = pda::job(&other.pubkey(), 9);
    let cop = c.keypair.insecure_clone();
    take_and_start(&mut m, &cop, &job9);
    let ix = ix::commit_result(&cop.pubkey(), &cop.pubkey(), &job9, &group, [1; 32]);
    assert_error(signed(&mut m, ix, &cop), EscrowError::NotReplicaJob);
}

#[test]
fn the_matcher_assigns_replicas_to_distinct_authorities() {
    let (mut m, matcher) = Market::with_matcher(60);
    // A node with room for both replicas.
    let big = m.provider(2).pubkey();
    let r = Replicas::new(&mut m, 2);
    let assign = |m: &mut Market, p: &Pubkey, job: usize| {
        let ix = ix::with_group(ix::assign_job(&matcher.pubkey(), p, &r.jobs[job]), &r.group);
        signed(m, ix, &matcher)
    };
    assign(&mut m, &big, 0).unwrap();
    assert_error(assign(&mut m, &big, 1), EscrowError::ReplicaAuthorityTaken);
    let small = r.provider(1).pubkey();
    assign(&mut m, &small, 1).unwrap();
    let group: job_escrow::state::ReplicaGroup = m.chain.fetch(&r.group).unwrap();
    let holders: Vec<Pubkey> = group.slots.iter().map(|s| s.authority).collect();
    assert_eq!(holders, vec![big, small]);
}

#[test]
fn an_incomplete_group_can_be_cancelled_and_closed_by_its_client_only() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let client = m.client(100 * TOKEN);
    let stranger = m.wallet(0);
    m.payment_account(&stranger.pubkey());
    let now = m.chain.now().unwrap();
    let group = pda::replica_group(&client.pubkey(), GROUP_ID);
    let ix = ix::create_replica_group(&client.pubkey(), GROUP_ID, 3, now + COMMIT_IN);
    signed(&mut m, ix, &client.keypair).unwrap();
    // Nobody else closes it under its client (it has no replica yet).
    let close = |m: &mut Market, caller: &Wallet, jobs: &[Pubkey]| {
        let ix = ix::close_replica_group(&caller.pubkey(), &client.pubkey(), GROUP_ID, jobs);
        signed(m, ix, &caller.keypair)
    };
    assert_error(close(&mut m, &stranger, &[]), EscrowError::NotClient);
    // A group passed read-only is refused.
    let mut ix = replica_ix(&m, &client, batch_job(1, 1), &group);
    ix.accounts.last_mut().unwrap().is_writable = false;
    assert_error(
        signed(&mut m, ix, &client.keypair),
        EscrowError::ReplicaGroupMissing,
    );
    for id in 1..=2 {
        let ix = replica_ix(&m, &client, batch_job(id, 1), &group);
        signed(&mut m, ix, &client.keypair).unwrap();
    }
    let (mint, token_program) = (m.payment_mint, m.payment_token_program);
    // A replica of an incomplete group is cancelled with its group, and leaves it.
    let plain = ix::cancel_job(&client.pubkey(), 2, &mint, &token_program);
    assert_error(
        signed(&mut m, plain, &client.keypair),
        EscrowError::ReplicaGroupMissing,
    );
    let cancel = ix::cancel_replica(&client.pubkey(), 2, &mint, &token_program, &group);
    signed(&mut m, cancel, &client.keypair).unwrap();
    let state: job_escrow::state::ReplicaGroup = m.chain.fetch(&group).unwrap();
    assert_eq!(state.slots.len(), 1);
    assert_eq!(m.balance(&client.tokens), 100 * TOKEN - DEPOSIT);
    // Its place is taken again, and the group completes: from then on no replica is
    // cancelled, and none is reclaimable while a provider may still take it.
    for id in [4, 5] {
        let ix = replica_ix(&m, &client, batch_job(id, 1), &group);
        signed(&mut m, ix, &client.keypair).unwrap();
    }
    let cancel = ix::cancel_replica(&client.pubkey(), 4, &mint, &token_program, &group);
    assert_error(
        signed(&mut m, cancel, &client.keypair),
        EscrowError::ReplicaJob,
    );
    // The client's own provider may not run a replica of its job.
    let own = m.provider_of(client.keypair.insecure_clone(), 1);
    let op = own.keypair.insecure_clone();
    let job1 = pda::job(&client.pubkey(), 1);
    let accept = ix::with_group(ix::accept_job(&op.pubkey(), &op.pubkey(), &job1), &group);
    assert_error(
        signed(&mut m, accept, &op),
        EscrowError::ClientCannotRunReplica,
    );
    let reclaim = |m: &mut Market, id: u64| {
        let ix = ix::reclaim_job(
            &stranger.pubkey(),
            &client.pubkey(),
            id,
            &mint,
            &token_program,
        );
        signed(m, ix, &stranger.keypair)
    };
    // The last moment a two-hour run still ends by the commit deadline.
    let last_claim = now + COMMIT_IN - START_TIMEOUT - 2 * 3_600;
    let at = m.chain.now().unwrap();
    m.chain.advance(last_claim - at - 1).unwrap();
    assert_error(reclaim(&mut m, 1), EscrowError::NotReclaimable);
    let op = p.keypair.insecure_clone();
    signed(
        &mut m,
        gpu_market_client::registry::heartbeat(&op.pubkey(), &op.pubkey()),
        &op,
    )
    .unwrap();
    let accept = ix::with_group(ix::accept_job(&op.pubkey(), &op.pubkey(), &job1), &group);
    signed(&mut m, accept, &op).unwrap();
    m.chain.advance(1).unwrap();
    // From the last moment on, nobody takes one.
    let late = m.provider(1);
    let lop = late.keypair.insecure_clone();
    let job4 = pda::job(&client.pubkey(), 4);
    let accept = ix::with_group(ix::accept_job(&lop.pubkey(), &lop.pubkey(), &job4), &group);
    assert_error(
        signed(&mut m, accept, &lop),
        EscrowError::ReplicaClaimClosed,
    );
    // Nobody may take one now, and the open ones are reclaimed.
    for id in [4, 5] {
        reclaim(&mut m, id).unwrap();
    }
    // The replica taken at the last moment runs, commits and reveals: one of three is no
    // majority, so it is refunded unpaid and unslashed.
    signed(
        &mut m,
        ix::start_job(&op.pubkey(), &op.pubkey(), &job1),
        &op,
    )
    .unwrap();
    m.chain.advance(3_600).unwrap();
    let salt = [3; 32];
    let commitment = replica_commitment(&[1; 32], &pda::provider(&op.pubkey()), &salt);
    let commit = ix::commit_result(&op.pubkey(), &op.pubkey(), &job1, &group, commitment);
    signed(&mut m, commit, &op).unwrap();
    // Revealing through a closed job is refused.
    let reveal = |m: &mut Market, job: &Pubkey| {
        let ix = ix::reveal_result(
            &op.pubkey(),
            &op.pubkey(),
            job,
            &group,
            [1; 32],
            salt,
            "s3://r".into(),
        );
        signed(m, ix, &op)
    };
    assert_error(
        reveal(&mut m, &job4),
        anchor_lang::error::ErrorCode::AccountNotInitialized,
    );
    let at = m.chain.now().unwrap();
    m.chain.advance(now + COMMIT_IN - at + 1).unwrap();
    reveal(&mut m, &job1).unwrap();
    let revealed = m.job(&client.pubkey(), 1).result.unwrap();
    assert_eq!((revealed.hash, revealed.uri.as_str()), ([1; 32], "s3://r"));
    m.payment_account(&p.pubkey());
    let treasury = treasury_wallet(&m);
    m.payment_account(&treasury);
    m.stake_mint_account(&client.pubkey());
    m.chain.advance(CHALLENGE_WINDOW).unwrap();
    let keys = m.settle_keys(&stranger.pubkey(), &client, 1, &p.pubkey());
    let settle = ix::settle_replica(&keys, &m.slash_keys(), &m.treasury, &group);
    let out = signed(&mut m, settle, &stranger.keypair).unwrap();
    let event = &out.events::<ReplicaSettled>()[0];
    assert_eq!(
        (event.verdict, event.refund, event.slash_requested),
        (ReplicaVerdict::Inconclusive, DEPOSIT, 0)
    );
    assert_eq!(m.stake_account(&p.pubkey()).locked, 0);
    // Past the reveal deadline anyone may close it; the jobs must be the group's, in order.
    let (job5, job1) = (pda::job(&client.pubkey(), 5), job1);
    assert_error(
        close(&mut m, &stranger, &[job4, job1, job5]),
        EscrowError::ReplicaJobsOpen,
    );
    assert_error(
        close(&mut m, &stranger, &[job1, job4]),
        EscrowError::ReplicaJobsOpen,
    );
    close(&mut m, &stranger, &[job1, job4, job5]).unwrap();
    assert!(!m.chain.exists(&group).unwrap());
    // Stranger's tips aside, the client has all its tokens back.
    let tips = m.balance(&m.payment_account_address(&stranger.pubkey()));
    assert_eq!(tips, 2 * CRANK_TIP);
    assert_eq!(m.balance(&client.tokens), 100 * TOKEN - tips);
}

#[test]
fn replicas_keep_their_groups_terms_through_a_config_change() {
    let mut m = Market::with_escrow();
    let client = m.client(100 * TOKEN);
    // The admin proposes a higher wrong-result slash; its timelock passes.
    let admin = m.admin.insecure_clone();
    let raise = job_escrow::UpdateConfigArgs {
        slash: Some(job_escrow::state::SlashAmounts {
            wrong_result: 90 * TOKEN,
            ..SLASH
        }),
        ..Default::default()
    };
    signed(
        &mut m,
        ix::propose_config_update(&admin.pubkey(), raise),
        &admin,
    )
    .unwrap();
    m.chain
        .advance(job_escrow::constants::CONFIG_TIMELOCK)
        .unwrap();
    let now = m.chain.now().unwrap();
    let group = pda::replica_group(&client.pubkey(), GROUP_ID);
    let ix = ix::create_replica_group(&client.pubkey(), GROUP_ID, 2, now + COMMIT_IN);
    signed(&mut m, ix, &client.keypair).unwrap();
    let ix = replica_ix(&m, &client, batch_job(1, 1), &group);
    signed(&mut m, ix, &client.keypair).unwrap();
    // Anyone applies it between the two replicas: the second still matches the first.
    let anyone = m.wallet(0);
    signed(
        &mut m,
        ix::apply_config_update(&anyone.pubkey()),
        &anyone.keypair,
    )
    .unwrap();
    let ix = replica_ix(&m, &client, batch_job(2, 1), &group);
    signed(&mut m, ix, &client.keypair).unwrap();
    for id in 1..=2 {
        assert_eq!(
            m.job(&client.pubkey(), id).terms.slash.wrong_result,
            SLASH.wrong_result
        );
    }
    // An ordinary job created now has the new terms.
    let ix = m.create_job_ix(&client, batch_job(3, 1));
    signed(&mut m, ix, &client.keypair).unwrap();
    assert_eq!(
        m.job(&client.pubkey(), 3).terms.slash.wrong_result,
        90 * TOKEN
    );
}

#[test]
fn a_replica_commits_and_reveals_only_through_its_provider() {
    let mut m = Market::with_escrow();
    let r = Replicas::new(&mut m, 2);
    r.take_all(&mut m);
    let (p0, p1) = (
        r.provider(0).keypair.insecure_clone(),
        r.provider(1).keypair.insecure_clone(),
    );
    let (job0, good) = (r.jobs[0], [1; 32]);
    // Not settled while it runs.
    assert_error(r.settle(&mut m, 0), EscrowError::NoResultSubmitted);
    m.chain.advance(3_600).unwrap();
    // Another node's operator commits for nobody else's replica.
    let commitment = r.commitment(0, good);
    let ix = ix::commit_result(&p1.pubkey(), &p0.pubkey(), &job0, &r.group, commitment);
    assert_error(signed(&mut m, ix, &p1), EscrowError::NotAssignedProvider);
    r.commit(&mut m, 0, good).unwrap();
    // Once only.
    assert_error(r.commit(&mut m, 0, good), EscrowError::JobNotRunning);
    r.commit(&mut m, 1, good).unwrap();
    let reveal = |m: &mut Market, signer: &Keypair, authority: &Pubkey, job: &Pubkey, uri: &str| {
        let ix = ix::reveal_result(
            &signer.pubkey(),
            authority,
            job,
            &r.group,
            good,
            Replicas::salt(0),
            uri.into(),
        );
        signed(m, ix, signer)
    };
    // Only the replica's operator reveals it, with the replica's provider account: nobody
    // who sees the opening in flight sends it first with another URI.
    assert_error(
        reveal(&mut m, &p1, &p0.pubkey(), &job0, "s3://fake"),
        EscrowError::NotAssignedProvider,
    );
    assert_error(
        reveal(&mut m, &p1, &p1.pubkey(), &job0, "s3://fake"),
        EscrowError::WrongProvider,
    );
    let long = "s3://".to_string() + &"x".repeat(124);
    assert_error(
        reveal(&mut m, &p0, &p0.pubkey(), &job0, &long),
        EscrowError::UriTooLong,
    );
    // An ordinary job has nothing to reveal or settle by a group.
    let ix = m.create_job_ix(&r.client, batch_job(9, 1));
    signed(&mut m, ix, &r.client.keypair).unwrap();
    let other = m.provider(1);
    let op = other.keypair.insecure_clone();
    let job9 = pda::job(&r.client.pubkey(), 9);
    take_and_start(&mut m, &op, &job9);
    assert_error(
        reveal(&mut m, &op, &op.pubkey(), &job9, "s3://x"),
        EscrowError::NotReplicaJob,
    );
    m.payment_account(&op.pubkey());
    let keys = m.settle_keys(&op.pubkey(), &r.client, 9, &op.pubkey());
    let settle = ix::settle_replica(&keys, &m.slash_keys(), &m.treasury, &r.group);
    assert_error(signed(&mut m, settle, &op), EscrowError::NotReplicaJob);
    reveal(&mut m, &p0, &p0.pubkey(), &job0, "s3://out/0").unwrap();
    let result = m.job(&r.client.pubkey(), 1).result.unwrap();
    assert_eq!((result.hash, result.uri.as_str()), (good, "s3://out/0"));
}
