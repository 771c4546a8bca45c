use super::*;
use proptest::prelude::*;
use provider_registry::eligibility::ClassFilter;

fn terms(fee_bps: u16) -> JobTerms {
    JobTerms {
        protocol_fee_bps: fee_bps,
        arbiter: Pubkey::new_unique(),
        bid_window: 600,
        start_timeout: 300,
        heartbeat_grace: 120,
        challenge_window: 3_600,
        max_attempts: 10,
        slash: SlashAmounts {
            no_start: 1,
            heartbeat_lost: 2,
            no_result: 3,
            dispute_lost: 4,
            wrong_result: 5,
        },
        crank_tip: 0,
        dispute_bond: 0,
        max_job_duration: 400_000,
        matcher: Pubkey::new_from_array([9; 32]),
        match_window: 30,
    }
}

fn assignment(price: u64, at: i64) -> Assignment {
    Assignment {
        provider: Pubkey::new_unique(),
        authority: Pubkey::new_unique(),
        price_per_gpu_hour: price,
        assigned_at: at,
        by_matcher: false,
        slashable_start: true,
    }
}

fn lease(price: u64, gpus: u16, max_duration: i64, fee_bps: u16) -> Job {
    let budget = math::max_cost(price, gpus, max_duration as u64).unwrap();
    Job {
        client: Pubkey::new_unique(),
        job_id: 1,
        requirements: Requirements {
            gpu_class: ClassFilter::Any,
            gpu_count: gpus,
            min_vram_mib: 0,
            min_cpu_cores: 0,
            min_ram_mib: 0,
            region: 0,
            min_benchmark: 0,
            attested_only: false,
        },
        workload: Workload {
            content_hash: [0; 32],
            uri: String::new(),
        },
        kind: JobKind::Lease,
        mode: JobMode::Instant,
        max_price_per_gpu_hour: price,
        max_duration,
        payment_mint: Pubkey::new_unique(),
        terms: terms(fee_bps),
        escrowed: budget,
        budget,
        tip_reserve: 0,
        billed: 0,
        attempt_billed: 0,
        status: JobStatus::Open,
        bid_deadline: 0,
        match_deadline: 0,
        best_bid: None,
        assignment: None,
        created_at: 0,
        started_at: 0,
        last_heartbeat: 0,
        result: None,
        dispute: None,
        refused_bidders: Vec::new(),
        fees_held: 0,
        verification: [0; 32],
        replica_group: Pubkey::default(),
        attempts: 0,
        bump: 255,
        vault_bump: 255,
    }
}

/// One provider's run: its price (percent of the max), then (wait, heartbeat?, withdraw?)
/// steps.
type Attempt = (u64, Vec<(i64, bool, bool)>);

fn attempt() -> impl Strategy<Value = Attempt> {
    (
        1..=100u64,
        proptest::collection::vec((0..20_000i64, any::<bool>(), any::<bool>()), 0..8),
    )
}

proptest! {
    /// A lease served by a random sequence of providers at different prices, each
    /// withdrawing at random moments and all but the last lost (expired: paid up to the
    /// last heartbeat, job re-queued with the unserved duration), the last one settled by
    /// the client. Every provider is paid exactly its own served seconds x its own price x
    /// GPUs / 3600, rounded down once over its run, nothing less because others were paid
    /// before it; fee and provider shares add up to each bill; the client never pays for a
    /// second twice and never more than the budget.
    #[test]
    fn each_attempt_is_billed_at_its_own_price(
        max_price in 1..50_000_000u64,
        gpus in 1..16u16,
        max_duration in 1..200_000i64,
        attempts in proptest::collection::vec(attempt(), 1..5),
        fee_bps in 0..=2_000u16,
    ) {
        let mut job = lease(max_price, gpus, max_duration, fee_bps);
        let mut now = 1_000i64;
        let mut served_total = 0u64;
        let count = attempts.len();
        for (n, (percent, steps)) in attempts.into_iter().enumerate() {
            if job.max_duration == 0 {
                break;
            }
            let price = (max_price * percent / 100).max(1);
            job.assign(assignment(price, now)).unwrap();
            // The largest slash of the terms: the wrong-result one.
            prop_assert_eq!(job.collateral_locked(), 5);
            job.start(now).unwrap();
            let (mut gross, mut to_provider, mut fees) = (0u64, 0u64, 0u64);
            for (wait, heartbeat, withdraw) in steps {
                now += wait;
                if heartbeat {
                    if job.heartbeat_lapsed(now).unwrap() {
                        // A lapsed lease cannot be revived: this provider is done.
                        prop_assert!(job.heartbeat(now).is_err());
                        break;
                    }
                    job.heartbeat(now).unwrap();
                }
                if withdraw {
                    // Withdrawals reach the last heartbeat, never into the grace.
                    let payout = job.payout(job.served_until(now, 0).unwrap()).unwrap();
                    job.bill(&payout).unwrap();
                    prop_assert_eq!(payout.to_provider + payout.fee, payout.gross);
                    gross += payout.gross;
                    to_provider += payout.to_provider;
                    fees += payout.fee;
                }
            }
            let last = n + 1 == count;
            let until = if last {
                job.served_until(now, job.terms.heartbeat_grace).unwrap()
            } else {
                job.last_heartbeat
            };
            let payout = job.payout(until).unwrap();
            job.bill(&payout).unwrap();
            gross += payout.gross;
            to_provider += payout.to_provider;
            fees += payout.fee;
            let served = job.served_seconds(until).unwrap();
            prop_assert_eq!(gross, math::cost(price, gpus, served).unwrap());
            prop_assert_eq!(to_provider + fees, gross);
            prop_assert!(fees <= math::bps_of(gross, fee_bps).unwrap() + 8);
            served_total += served;
            if !last {
                job.requeue(now, served, None).unwrap();
                prop_assert_eq!((job.attempt_billed, job.collateral_locked()), (0, 0));
            }
        }
        prop_assert!(served_total <= max_duration as u64);
        prop_assert!(job.billed <= job.budget);
    }
}

/// The job account's layout: each offset in [`layout`] is where its field is encoded, and
/// the header does not move whatever the fields of variable length hold.
mod account_layout {
    use super::*;
    use anchor_lang::AccountSerialize;

    fn bytes(job: &Job) -> Vec<u8> {
        let mut data = Vec::new();
        job.try_serialize(&mut data).unwrap();
        data
    }

    fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
        a.iter()
            .zip(b)
            .position(|(x, y)| x != y)
            .or((a.len() != b.len()).then(|| a.len().min(b.len())))
    }

    fn sample() -> Job {
        let mut job = lease(1_000, 2, 3_600, 250);
        job.client = Pubkey::new_from_array([1; 32]);
        job.payment_mint = Pubkey::new_from_array([2; 32]);
        job.terms.arbiter = Pubkey::new_from_array([3; 32]);
        job.assignment = Some(Assignment {
            provider: Pubkey::new_from_array([4; 32]),
            authority: Pubkey::new_from_array([5; 32]),
            price_per_gpu_hour: 1_000,
            assigned_at: 5,
            by_matcher: false,
            slashable_start: true,
        });
        job
    }

    type Change = fn(&mut Job);

    #[test]
    fn each_offset_is_where_its_field_is_encoded() {
        let cases: [(&str, usize, Change); 25] = [
            ("status", layout::STATUS, |j| j.status = JobStatus::Running),
            ("requirements", layout::REQUIREMENTS, |j| {
                j.requirements.gpu_class = ClassFilter::Consumer
            }),
            ("gpu_class", layout::GPU_CLASS, |j| {
                j.requirements.gpu_class = ClassFilter::Datacenter
            }),
            ("mode", layout::MODE, |j| j.mode = JobMode::Auction),
            ("kind", layout::KIND, |j| j.kind = JobKind::Batch),
            ("payment_mint", layout::PAYMENT_MINT, |j| {
                j.payment_mint = Pubkey::new_from_array([0xee; 32])
            }),
            ("client", layout::CLIENT, |j| {
                j.client = Pubkey::new_from_array([0xee; 32])
            }),
            ("job_id", layout::JOB_ID, |j| j.job_id += 1),
            ("max_price", layout::MAX_PRICE_PER_GPU_HOUR, |j| {
                j.max_price_per_gpu_hour += 1
            }),
            ("max_duration", layout::MAX_DURATION, |j| {
                j.max_duration += 1
            }),
            ("escrowed", layout::ESCROWED, |j| j.escrowed += 1),
            ("budget", layout::BUDGET, |j| j.budget += 1),
            ("tip_reserve", layout::TIP_RESERVE, |j| j.tip_reserve += 1),
            ("billed", layout::BILLED, |j| j.billed += 1),
            ("attempt_billed", layout::ATTEMPT_BILLED, |j| {
                j.attempt_billed += 1
            }),
            ("bid_deadline", layout::BID_DEADLINE, |j| {
                j.bid_deadline += 1
            }),
            ("match_deadline", layout::MATCH_DEADLINE, |j| {
                j.match_deadline += 1
            }),
            ("created_at", layout::CREATED_AT, |j| j.created_at += 1),
            ("started_at", layout::STARTED_AT, |j| j.started_at += 1),
            ("last_heartbeat", layout::LAST_HEARTBEAT, |j| {
                j.last_heartbeat += 1
            }),
            ("terms", layout::TERMS, |j| j.terms.protocol_fee_bps += 1),
            ("attempts", layout::ATTEMPTS, |j| j.attempts += 1),
            ("bump", layout::BUMP, |j| j.bump -= 1),
            ("vault_bump", layout::VAULT_BUMP, |j| j.vault_bump -= 1),
            ("assignment", layout::ASSIGNMENT, |j| j.assignment = None),
        ];
        let base = bytes(&sample());
        for (name, offset, change) in cases {
            let mut changed = sample();
            change(&mut changed);
            assert_eq!(
                first_difference(&base, &bytes(&changed)),
                Some(offset),
                "{name}"
            );
        }
        let mut other = sample();
        other.assignment = Some(Assignment {
            provider: Pubkey::new_from_array([0xee; 32]),
            ..sample().assignment.unwrap()
        });
        assert_eq!(
            first_difference(&base, &bytes(&other)),
            Some(layout::ASSIGNED_PROVIDER)
        );
        let assigned_to = &base[layout::ASSIGNMENT..layout::ASSIGNED_PROVIDER + 32];
        assert_eq!(assigned_to[0], 1, "Some");
        assert_eq!(
            &assigned_to[1..],
            sample().assignment.unwrap().provider.as_ref()
        );
    }

    #[test]
    fn the_header_does_not_move_with_the_fields_of_variable_length() {
        let short = sample();
        let mut long = sample();
        long.best_bid = Some(Bid {
            provider: Pubkey::new_from_array([3; 32]),
            authority: Pubkey::new_from_array([4; 32]),
            price_per_gpu_hour: 9,
            placed_at: 9,
        });
        long.result = Some(JobResult {
            hash: [5; 32],
            uri: "r".repeat(MAX_URI_LEN),
            submitted_at: 9,
        });
        long.dispute = Some(Dispute {
            bond: 9,
            opened_at: 9,
        });
        long.workload.uri = "w".repeat(MAX_URI_LEN);
        long.refused_bidders = vec![Pubkey::new_from_array([6; 32]); MAX_REFUSED_BIDDERS];
        let (short, long) = (bytes(&short), bytes(&long));
        // The assignment (present in both) is the last part at a fixed offset.
        assert_eq!(
            first_difference(&short, &long),
            Some(layout::ASSIGNED_PROVIDER + Assignment::INIT_SPACE)
        );
        assert_eq!(long.len(), Job::SPACE, "the longest job fills its space");
    }
}
