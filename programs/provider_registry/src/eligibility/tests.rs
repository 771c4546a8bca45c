use super::*;
use crate::state::{spec_hash, Attestation, Hardware, Reputation};

const NOW: i64 = 1_000_000;
const AUDITOR: Pubkey = Pubkey::new_from_array([9; 32]);
const POLICY: EligibilityPolicy<'static> = EligibilityPolicy {
    min_stake_per_gpu: 100,
    liveness_window: 90,
    auditors: &[AUDITOR],
};

fn provider() -> Provider {
    Provider {
        authority: Pubkey::new_unique(),
        operator: Pubkey::new_unique(),
        endpoint: "https://node.example:8443".into(),
        region: 276,
        hardware: Hardware {
            gpu_model: "NVIDIA H100 80GB".into(),
            gpu_class: GpuClass::Datacenter,
            gpu_count: 8,
            vram_mib: 81_920,
            cpu_cores: 96,
            ram_mib: 1_048_576,
            disk_gib: 8_000,
            bandwidth_mbps: 25_000,
        },
        benchmark_score: 900,
        attestation: None,
        price_per_gpu_hour: 2_000_000,
        payment_mint: Pubkey::new_unique(),
        status: ProviderStatus::Active,
        gpus_in_use: 0,
        jobs_held: 0,
        reputation: Reputation::default(),
        last_heartbeat: NOW - 30,
        registered_at: NOW - 3_600,
        exit_notice_ends_at: 0,
        bump: 255,
    }
}

fn requirements() -> Requirements {
    Requirements {
        gpu_class: ClassFilter::Datacenter,
        gpu_count: 4,
        min_vram_mib: 40_960,
        min_cpu_cores: 32,
        min_ram_mib: 262_144,
        region: 276,
        min_benchmark: 800,
        attested_only: false,
    }
}

const STAKE: u64 = 800;

fn check(p: &Provider, r: &Requirements) -> core::result::Result<(), Ineligible> {
    satisfies(p, STAKE, r, &POLICY, NOW)
}

#[test]
fn a_matching_provider_is_eligible() {
    assert_eq!(check(&provider(), &requirements()), Ok(()));
}

#[test]
fn gpu_class_must_match_unless_any() {
    let mut r = requirements();
    r.gpu_class = ClassFilter::Consumer;
    assert_eq!(check(&provider(), &r), Err(Ineligible::GpuClassMismatch));
    r.gpu_class = ClassFilter::Any;
    assert_eq!(check(&provider(), &r), Ok(()));
}

/// A class filter accepts exactly its class, and encodes as the same byte, so a client can
/// put a provider's class byte into a job filter.
#[test]
fn a_class_filter_is_its_class() {
    let classes = [
        GpuClass::Consumer,
        GpuClass::Workstation,
        GpuClass::Datacenter,
    ];
    for class in classes {
        let filter = ClassFilter::from(class);
        assert_eq!(filter.class(), Some(class));
        assert_eq!(
            borsh::to_vec(&filter).unwrap(),
            borsh::to_vec(&class).unwrap()
        );
        for other in classes {
            assert_eq!(filter.accepts(other), other == class);
            assert!(ClassFilter::Any.accepts(other));
        }
    }
    assert_eq!(ClassFilter::from(None), ClassFilter::Any);
    assert_eq!(ClassFilter::Any.class(), None);
    assert_eq!(ClassFilter::default(), ClassFilter::Any);
}

#[test]
fn gpu_count_and_free_capacity() {
    let mut r = requirements();
    r.gpu_count = 9;
    assert_eq!(check(&provider(), &r), Err(Ineligible::TooFewGpus));
    r.gpu_count = 8;
    assert_eq!(check(&provider(), &r), Ok(()));
    let mut p = provider();
    p.gpus_in_use = 5;
    r.gpu_count = 4;
    assert_eq!(check(&p, &r), Err(Ineligible::NoFreeCapacity));
    r.gpu_count = 3;
    assert_eq!(check(&p, &r), Ok(()));
}

#[test]
fn vram_is_per_gpu_minimum() {
    let mut r = requirements();
    r.min_vram_mib = 81_921;
    assert_eq!(check(&provider(), &r), Err(Ineligible::InsufficientVram));
    r.min_vram_mib = 81_920;
    assert_eq!(check(&provider(), &r), Ok(()));
}

#[test]
fn cpu_and_ram_floors() {
    let mut r = requirements();
    r.min_cpu_cores = 97;
    assert_eq!(check(&provider(), &r), Err(Ineligible::InsufficientCpu));
    let mut r = requirements();
    r.min_ram_mib = 1_048_577;
    assert_eq!(check(&provider(), &r), Err(Ineligible::InsufficientRam));
}

#[test]
fn region_zero_is_any_and_codes_compare_at_full_width() {
    let mut r = requirements();
    r.region = 0;
    assert_eq!(check(&provider(), &r), Ok(()));
    r.region = 840;
    assert_eq!(check(&provider(), &r), Err(Ineligible::RegionMismatch));
    // 999 and 231 are equal in their low byte.
    let mut p = provider();
    p.region = 999;
    r.region = 231;
    assert_eq!(999u16 as u8, 231u16 as u8);
    assert_eq!(check(&p, &r), Err(Ineligible::RegionMismatch));
    r.region = 999;
    assert_eq!(check(&p, &r), Ok(()));
}

#[test]
fn benchmark_floor() {
    let mut r = requirements();
    r.min_benchmark = 901;
    assert_eq!(check(&provider(), &r), Err(Ineligible::BenchmarkTooLow));
    r.min_benchmark = 900;
    assert_eq!(check(&provider(), &r), Ok(()));
}

#[test]
fn attested_only_needs_an_attestation_of_the_current_spec() {
    let mut r = requirements();
    r.attested_only = true;
    let mut p = provider();
    assert_eq!(check(&p, &r), Err(Ineligible::NotAttested));
    p.attestation = Some(Attestation {
        auditor: AUDITOR,
        attested_at: NOW - 10,
        spec_hash: spec_hash(&p.hardware, p.benchmark_score),
    });
    assert_eq!(check(&p, &r), Ok(()));
    // An auditor no longer configured vouches for nothing.
    let removed = EligibilityPolicy {
        auditors: &[],
        ..POLICY
    };
    assert_eq!(
        satisfies(&p, STAKE, &r, &removed, NOW),
        Err(Ineligible::NotAttested)
    );
    // Declaring different hardware voids the attestation.
    p.hardware.vram_mib = 98_304;
    assert_eq!(check(&p, &r), Err(Ineligible::NotAttested));
}

#[test]
fn only_active_providers() {
    let mut p = provider();
    p.status = ProviderStatus::Paused;
    assert_eq!(check(&p, &requirements()), Err(Ineligible::Paused));
    p.status = ProviderStatus::Exiting;
    p.exit_notice_ends_at = NOW + 10;
    assert_eq!(check(&p, &requirements()), Err(Ineligible::Exiting));
    p.status = ProviderStatus::Retired;
    assert_eq!(check(&p, &requirements()), Err(Ineligible::Retired));
}

#[test]
fn liveness_window_is_inclusive() {
    let mut p = provider();
    p.last_heartbeat = NOW - 90;
    assert_eq!(check(&p, &requirements()), Ok(()));
    p.last_heartbeat = NOW - 91;
    assert_eq!(check(&p, &requirements()), Err(Ineligible::Stale));
}

#[test]
fn stake_must_cover_every_declared_gpu() {
    let p = provider();
    let r = requirements();
    assert_eq!(satisfies(&p, 800, &r, &POLICY, NOW), Ok(()));
    assert_eq!(
        satisfies(&p, 799, &r, &POLICY, NOW),
        Err(Ineligible::InsufficientStake)
    );
    let huge = EligibilityPolicy {
        min_stake_per_gpu: u64::MAX,
        ..POLICY
    };
    assert_eq!(
        satisfies(&p, u64::MAX, &r, &huge, NOW),
        Err(Ineligible::InsufficientStake)
    );
}
