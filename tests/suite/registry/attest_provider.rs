use gpu_market_client::{
    registry::{self as ix, spec_hash},
    Chain, Signer,
};
use gpu_market_tests::*;
use provider_registry::{error::RegistryError, events::ProviderAttested};

#[test]
fn an_auditor_attests_the_declared_spec() {
    let mut m = Market::new();
    let authority = m.provider(1);
    let auditor = m.auditor.insecure_clone();
    let p = m.provider_account(&authority.pubkey());
    let hash = spec_hash(&p.hardware, p.benchmark_score);
    let now = m.chain.now().unwrap();
    let out = m
        .send(
            ix::attest_provider(&auditor.pubkey(), &authority.pubkey(), hash),
            &auditor,
        )
        .unwrap();
    let p = m.provider_account(&authority.pubkey());
    let attestation = p.attestation.unwrap();
    assert_eq!(attestation.auditor, auditor.pubkey());
    assert_eq!(
        (attestation.attested_at, attestation.spec_hash),
        (now, hash)
    );
    assert!(p.is_attested(&[m.auditor.pubkey()]));
    assert_eq!(out.events::<ProviderAttested>()[0].spec_hash, hash);
}

#[test]
fn attestation_by_a_non_auditor_is_refused() {
    let mut m = Market::new();
    let authority = m.provider(1);
    let p = m.provider_account(&authority.pubkey());
    let hash = spec_hash(&p.hardware, p.benchmark_score);
    // Not even the provider itself may attest.
    assert_error(
        m.send(
            ix::attest_provider(&authority.pubkey(), &authority.pubkey(), hash),
            &authority.keypair,
        ),
        RegistryError::NotAuditor,
    );
    assert_eq!(m.provider_account(&authority.pubkey()).attestation, None);
}

#[test]
fn attestation_of_another_spec_is_refused() {
    let mut m = Market::new();
    let authority = m.provider(1);
    let auditor = m.auditor.insecure_clone();
    let p = m.provider_account(&authority.pubkey());
    let other = spec_hash(&p.hardware, p.benchmark_score + 1);
    assert_error(
        m.send(
            ix::attest_provider(&auditor.pubkey(), &authority.pubkey(), other),
            &auditor,
        ),
        RegistryError::SpecHashMismatch,
    );
}
