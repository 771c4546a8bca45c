use super::*;
use proptest::prelude::*;

fn lease(price: u64, gpus: u16, max_duration: i64) -> Job {
    let budget = math::max_cost(price, gpus, max_duration as u64).unwrap();
    Job {
        client: Pubkey::new_unique(),
        job_id: 1,
        requirements: Requirements {
            gpu_class: None,
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
        escrowed: budget,
        budget,
        crank_tip: 0,
        billed: 0,
        status: JobStatus::Running,
        bid_deadline: 0,
        best_bid: None,
        assignment: Some(Assignment {
            provider: Pubkey::new_unique(),
            authority: Pubkey::new_unique(),
            operator: Pubkey::new_unique(),
            price_per_gpu_hour: price,
            assigned_at: 0,
        }),
        created_at: 0,
        started_at: 1_000,
        last_heartbeat: 1_000,
        result: None,
        dispute: None,
        attempts: 1,
        bump: 255,
        vault_bump: 255,
    }
}

proptest! {
    /// Withdrawing at any moments, losing the provider (re-queue to a new one at any
    /// price up to the max) and settling at the end never bills past the budget, and
    /// within one provider's run bills exactly the per-second cost of the time served
    /// (rounded down once), with fee and provider shares adding up to what was billed.
    #[test]
    fn lease_billing_is_exact_and_bounded(
        price in 1..50_000_000u64,
        gpus in 1..16u16,
        max_duration in 1..200_000i64,
        steps in proptest::collection::vec((0..20_000i64, any::<bool>()), 1..12),
        requeue_at in proptest::option::of((0..12usize, 1..=100u64)),
        fee_bps in 0..=2_000u16,
    ) {
        let mut job = lease(price, gpus, max_duration);
        let (mut now, mut provider, mut fees) = (job.started_at, 0u64, 0u64);
        let mut requeued = false;
        for (i, (wait, heartbeat)) in steps.into_iter().enumerate() {
            now += wait;
            if heartbeat {
                job.heartbeat(now).unwrap();
            }
            let until = job.served_until(now, 120).unwrap();
            let payout = job.payout(until, fee_bps).unwrap();
            job.bill(&payout).unwrap();
            provider += payout.to_provider;
            fees += payout.fee;
            prop_assert_eq!(payout.to_provider + payout.fee, payout.gross);
            if let Some((at, percent)) = requeue_at {
                if at == i && job.max_duration > 0 {
                    // The provider is lost: paid to its last heartbeat, job re-opened.
                    let last = job.payout(job.last_heartbeat, fee_bps).unwrap();
                    job.bill(&last).unwrap();
                    provider += last.to_provider;
                    fees += last.fee;
                    let served = job.served_seconds(job.last_heartbeat).unwrap();
                    job.requeue(now, 600, served).unwrap();
                    job.assign(Assignment {
                        provider: Pubkey::new_unique(),
                        authority: Pubkey::new_unique(),
                        operator: Pubkey::new_unique(),
                        price_per_gpu_hour: (price * percent / 100).max(1),
                        assigned_at: now,
                    })
                    .unwrap();
                    job.start(now, 300).unwrap();
                    requeued = true;
                }
            }
        }
        let until = job.served_until(now, 120).unwrap();
        let last = job.payout(until, fee_bps).unwrap();
        job.bill(&last).unwrap();
        provider += last.to_provider;
        fees += last.fee;
        prop_assert_eq!(provider + fees, job.billed);
        prop_assert!(job.billed <= job.budget);
        if !requeued {
            // One provider throughout: billed exactly the cost of the time served.
            let served = job.served_seconds(until).unwrap();
            prop_assert!(served <= max_duration as u64);
            prop_assert_eq!(job.billed, math::cost(price, gpus, served).unwrap());
        }
    }
}
