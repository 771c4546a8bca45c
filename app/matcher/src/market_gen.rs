//! Synthetic markets with a realistic spread (GPU classes and models, regions, prices,
//! reputations, busy GPUs, job requirements), generated deterministically from a seed: for
//! benchmarking the matcher and for demos. No randomness crate: a xorshift generator keeps
//! the same seed producing the same market everywhere.

use crate::{
    escrow::{Job, JobKind, JobMode, JobStatus, JobTerms, SlashAmounts, Workload},
    market::{OpenJob, ProviderView},
    registry::{GpuClass, Hardware, Provider, ProviderStatus, Reputation, Requirements},
};
use anchor_lang::solana_program::pubkey::Pubkey;

/// A small deterministic pseudo-random generator (xorshift64*).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    pub fn pubkey(&mut self) -> Pubkey {
        let mut bytes = [0u8; 32];
        for chunk in bytes.chunks_mut(8) {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        Pubkey::new_from_array(bytes)
    }
}

/// GPU models offered: (name, class, VRAM MiB, benchmark, typical price in micro-units per
/// GPU-hour).
const MODELS: [(&str, GpuClass, u32, u32, u64); 8] = [
    ("RTX 3090", GpuClass::Consumer, 24_576, 350, 250_000),
    ("RTX 4090", GpuClass::Consumer, 24_576, 600, 450_000),
    ("RTX 5090", GpuClass::Consumer, 32_768, 800, 700_000),
    ("RTX A6000", GpuClass::Workstation, 49_152, 550, 800_000),
    ("L40S", GpuClass::Workstation, 49_152, 900, 1_100_000),
    ("A100 80GB", GpuClass::Datacenter, 81_920, 1_000, 1_600_000),
    ("H100 80GB", GpuClass::Datacenter, 81_920, 2_000, 2_600_000),
    ("H200", GpuClass::Datacenter, 143_360, 2_400, 3_500_000),
];

/// ISO-3166 numeric codes: US, CA, BR, DE, FR, NL, GB, SE, FI, PL, IN, SG, JP, KR, AU, ZA.
pub const REGIONS: [u16; 16] = [
    840, 124, 76, 276, 250, 528, 826, 752, 246, 616, 356, 702, 392, 410, 36, 710,
];

/// `count` active, staked, live providers paid in `mint`, at time `now`, with
/// `min_stake_per_gpu` of stake per GPU (a few percent under-staked).
pub fn providers(
    rng: &mut Rng,
    count: usize,
    mint: Pubkey,
    min_stake_per_gpu: u64,
    now: i64,
) -> Vec<ProviderView> {
    (0..count)
        .map(|_| {
            let (name, class, vram, bench, price) = *rng.pick(&MODELS);
            let gpus = *rng.pick(&[1u16, 1, 2, 4, 4, 8, 8, 8]);
            let in_use = u16::try_from(rng.below(u64::from(gpus) + 1)).unwrap_or(0);
            // Prices spread +-40% around the model's typical price.
            let price = price * (60 + rng.below(81)) / 100;
            let completed = rng.below(500);
            let failed = rng.below(completed / 10 + 2);
            let stake = if rng.below(25) == 0 {
                min_stake_per_gpu * u64::from(gpus) / 2
            } else {
                min_stake_per_gpu * u64::from(gpus)
            };
            let address = rng.pubkey();
            ProviderView {
                address,
                active_stake: stake,
                // A few providers have most of their stake locked behind running jobs.
                unlocked_stake: if rng.below(10) == 0 {
                    stake / 10
                } else {
                    stake
                },
                provider: Provider {
                    authority: rng.pubkey(),
                    operator: rng.pubkey(),
                    endpoint: String::new(),
                    region: *rng.pick(&REGIONS),
                    hardware: Hardware {
                        gpu_model: name.into(),
                        gpu_class: class,
                        gpu_count: gpus,
                        vram_mib: vram,
                        cpu_cores: 8 * gpus,
                        ram_mib: 65_536 * u32::from(gpus),
                        disk_gib: 1_000,
                        bandwidth_mbps: 10_000,
                    },
                    benchmark_score: bench + u32::try_from(rng.below(100)).unwrap_or(0),
                    attestation: None,
                    price_per_gpu_hour: price,
                    payment_mint: mint,
                    status: if rng.below(50) == 0 {
                        ProviderStatus::Paused
                    } else {
                        ProviderStatus::Active
                    },
                    gpus_in_use: in_use,
                    jobs_held: u16::from(in_use > 0),
                    reputation: Reputation {
                        jobs_completed: completed,
                        jobs_failed: failed,
                        disputes_lost: 0,
                        gpu_seconds_served: completed * 3_600,
                        time_to_start_sum: completed * 30,
                        verifications_failed: 0,
                    },
                    last_heartbeat: now - i64::try_from(rng.below(120)).unwrap_or(0),
                    registered_at: now - 86_400,
                    exit_notice_ends_at: 0,
                    bump: 255,
                },
            }
        })
        .collect()
}

/// `count` open jobs paid in `mint`, created over the last hour before `now`.
pub fn jobs(rng: &mut Rng, count: usize, mint: Pubkey, now: i64) -> Vec<OpenJob> {
    (0..count)
        .map(|i| {
            let (_, class, vram, bench, price) = *rng.pick(&MODELS);
            let gpus = *rng.pick(&[1u16, 1, 1, 2, 4, 8]);
            // Collateral in the range of one GPU's minimum stake (100 in the tests).
            let min_collateral = 50;
            let requirements = Requirements {
                gpu_class: (rng.below(2) == 0).then_some(class).into(),
                gpu_count: gpus,
                min_vram_mib: if rng.below(2) == 0 { vram } else { 0 },
                min_cpu_cores: 4 * gpus,
                min_ram_mib: 16_384 * u32::from(gpus),
                region: if rng.below(3) == 0 {
                    *rng.pick(&REGIONS)
                } else {
                    0
                },
                min_benchmark: if rng.below(4) == 0 { bench / 2 } else { 0 },
                attested_only: false,
            };
            let client = rng.pubkey();
            OpenJob {
                address: rng.pubkey(),
                job: Job {
                    client,
                    job_id: i as u64,
                    requirements,
                    workload: Workload {
                        content_hash: [0; 32],
                        uri: String::new(),
                    },
                    kind: if rng.below(3) == 0 {
                        JobKind::Lease
                    } else {
                        JobKind::Batch
                    },
                    mode: if rng.below(4) == 0 {
                        JobMode::Auction
                    } else {
                        JobMode::Instant
                    },
                    max_price_per_gpu_hour: price * (80 + rng.below(61)) / 100,
                    max_duration: 3_600,
                    payment_mint: mint,
                    terms: JobTerms {
                        protocol_fee_bps: 250,
                        arbiter: Pubkey::default(),
                        bid_window: 600,
                        start_timeout: 300,
                        heartbeat_grace: 120,
                        challenge_window: 3_600,
                        max_attempts: 3,
                        slash: SlashAmounts {
                            no_start: min_collateral,
                            heartbeat_lost: min_collateral,
                            no_result: min_collateral,
                            dispute_lost: min_collateral * (1 + rng.below(2)),
                            wrong_result: min_collateral,
                        },
                        crank_tip: 0,
                        dispute_bond: 0,
                        max_job_duration: 30 * 86_400,
                        matcher: Pubkey::default(),
                        match_window: 0,
                    },
                    escrowed: 0,
                    budget: 0,
                    tip_reserve: 0,
                    billed: 0,
                    attempt_billed: 0,
                    status: JobStatus::Open,
                    bid_deadline: now + 600,
                    match_deadline: now,
                    best_bid: None,
                    assignment: None,
                    created_at: now - i64::try_from(rng.below(3_600)).unwrap_or(0),
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
                },
            }
        })
        .collect()
}
