//! The provider account's layout: each offset in [`layout`] is where its field is encoded,
//! and the header does not move whatever the fields of variable length hold.

use super::*;
use anchor_lang::AccountSerialize;

fn sample() -> Provider {
    Provider {
        authority: Pubkey::new_from_array([1; 32]),
        operator: Pubkey::new_from_array([2; 32]),
        payment_mint: Pubkey::new_from_array([3; 32]),
        price_per_gpu_hour: 2_000_000,
        region: 276,
        gpus_in_use: 2,
        jobs_held: 1,
        benchmark_score: 900,
        reputation: Reputation {
            jobs_completed: 5,
            jobs_failed: 1,
            disputes_lost: 0,
            gpu_seconds_served: 36_000,
            time_to_start_sum: 50,
            verifications_failed: 0,
        },
        last_heartbeat: 1_000,
        registered_at: 500,
        exit_notice_ends_at: 0,
        bump: 254,
        status: ProviderStatus::Active,
        hardware: Hardware {
            gpu_class: GpuClass::Datacenter,
            gpu_count: 8,
            vram_mib: 81_920,
            cpu_cores: 96,
            ram_mib: 1_048_576,
            disk_gib: 8_000,
            bandwidth_mbps: 25_000,
            gpu_model: "H100".into(),
        },
        endpoint: String::new(),
        attestation: None,
    }
}

fn bytes(provider: &Provider) -> Vec<u8> {
    let mut data = Vec::new();
    provider.try_serialize(&mut data).unwrap();
    data
}

fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .or((a.len() != b.len()).then(|| a.len().min(b.len())))
}

type Change = fn(&mut Provider);

#[test]
fn each_offset_is_where_its_field_is_encoded() {
    let cases: [(&str, usize, Change); 22] = [
        ("authority", layout::AUTHORITY, |p| {
            p.authority = Pubkey::new_from_array([0xee; 32])
        }),
        ("operator", layout::OPERATOR, |p| {
            p.operator = Pubkey::new_from_array([0xee; 32])
        }),
        ("payment_mint", layout::PAYMENT_MINT, |p| {
            p.payment_mint = Pubkey::new_from_array([0xee; 32])
        }),
        ("price", layout::PRICE_PER_GPU_HOUR, |p| {
            p.price_per_gpu_hour += 1
        }),
        ("region", layout::REGION, |p| p.region += 1),
        ("gpus_in_use", layout::GPUS_IN_USE, |p| p.gpus_in_use += 1),
        ("jobs_held", layout::JOBS_HELD, |p| p.jobs_held += 1),
        ("benchmark_score", layout::BENCHMARK_SCORE, |p| {
            p.benchmark_score += 1
        }),
        ("reputation", layout::REPUTATION, |p| {
            p.reputation.jobs_completed += 1
        }),
        ("last_heartbeat", layout::LAST_HEARTBEAT, |p| {
            p.last_heartbeat += 1
        }),
        ("registered_at", layout::REGISTERED_AT, |p| {
            p.registered_at += 1
        }),
        ("exit_notice_ends_at", layout::EXIT_NOTICE_ENDS_AT, |p| {
            p.exit_notice_ends_at += 1
        }),
        ("bump", layout::BUMP, |p| p.bump -= 1),
        ("status", layout::STATUS, |p| {
            p.status = ProviderStatus::Exiting
        }),
        ("gpu_class", layout::GPU_CLASS, |p| {
            p.hardware.gpu_class = GpuClass::Consumer
        }),
        ("gpu_count", layout::GPU_COUNT, |p| {
            p.hardware.gpu_count += 1
        }),
        ("vram", layout::VRAM_MIB, |p| p.hardware.vram_mib += 1),
        ("cpu", layout::CPU_CORES, |p| p.hardware.cpu_cores += 1),
        ("ram", layout::RAM_MIB, |p| p.hardware.ram_mib += 1),
        ("disk", layout::DISK_GIB, |p| p.hardware.disk_gib += 1),
        ("bandwidth", layout::BANDWIDTH_MBPS, |p| {
            p.hardware.bandwidth_mbps += 1
        }),
        ("gpu_model", layout::GPU_MODEL, |p| {
            p.hardware.gpu_model.push('!')
        }),
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
}

#[test]
fn the_header_does_not_move_with_the_fields_of_variable_length() {
    let short = sample();
    let mut long = sample();
    long.hardware.gpu_model = "m".repeat(MAX_GPU_MODEL_LEN);
    long.endpoint = "e".repeat(MAX_ENDPOINT_LEN);
    long.attestation = Some(Attestation {
        auditor: Pubkey::new_from_array([4; 32]),
        attested_at: 7,
        spec_hash: [5; 32],
    });
    let (short, long) = (bytes(&short), bytes(&long));
    assert_eq!(first_difference(&short, &long), Some(layout::GPU_MODEL));
    assert_eq!(
        long.len(),
        Provider::SPACE,
        "the longest provider fills its space"
    );
}
