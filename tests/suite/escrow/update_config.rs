//! Market parameters change only through a timelocked proposal (finding 5).

use gpu_market_client::{escrow as ix, pda, Chain, Pubkey, Signer};
use gpu_market_tests::{escrow::*, *};
use job_escrow::{
    constants::CONFIG_TIMELOCK,
    error::EscrowError,
    events::{MarketConfigUpdateProposed, MarketConfigUpdated},
    UpdateConfigArgs,
};

fn config(m: &mut Market) -> ix::MarketConfig {
    m.chain.fetch(&pda::market_config()).unwrap()
}

#[test]
fn a_proposal_takes_effect_only_after_the_timelock() {
    let mut m = Market::with_escrow();
    let admin = m.admin.insecure_clone();
    let arbiter = Pubkey::new_unique();
    let args = UpdateConfigArgs {
        arbiter: Some(arbiter),
        protocol_fee_bps: Some(100),
        max_attempts: Some(5),
        ..Default::default()
    };
    let now = m.chain.now().unwrap();
    let out = m
        .send(
            ix::propose_config_update(&admin.pubkey(), args.clone()),
            &admin,
        )
        .unwrap();
    let proposed = &out.events::<MarketConfigUpdateProposed>()[0];
    assert_eq!(
        (&proposed.args, proposed.eta),
        (&args, now + CONFIG_TIMELOCK)
    );
    // Nothing changed yet, and nobody can apply it early.
    assert_eq!(config(&mut m).protocol_fee_bps, PROTOCOL_FEE_BPS);
    let anyone = m.wallet(0);
    m.chain.advance(CONFIG_TIMELOCK - 1).unwrap();
    assert_error(
        m.send(ix::apply_config_update(&anyone.pubkey()), &anyone.keypair),
        EscrowError::TimelockNotElapsed,
    );
    m.chain.advance(1).unwrap();
    let out = m
        .send(ix::apply_config_update(&anyone.pubkey()), &anyone.keypair)
        .unwrap();
    assert_eq!(out.events::<MarketConfigUpdated>()[0].args, args);
    let c = config(&mut m);
    assert_eq!(
        (c.arbiter, c.protocol_fee_bps, c.max_attempts, c.pending),
        (arbiter, 100, 5, None)
    );
    assert_eq!(c.crank_tip, CRANK_TIP);
    // Applied once only.
    assert_error(
        m.send(ix::apply_config_update(&anyone.pubkey()), &anyone.keypair),
        EscrowError::NoPendingUpdate,
    );
}

#[test]
fn a_proposal_not_applied_in_time_lapses() {
    let mut m = Market::with_escrow();
    let admin = m.admin.insecure_clone();
    let args = UpdateConfigArgs {
        protocol_fee_bps: Some(100),
        ..Default::default()
    };
    m.send(ix::propose_config_update(&admin.pubkey(), args), &admin)
        .unwrap();
    m.chain
        .advance(CONFIG_TIMELOCK + job_escrow::constants::PROPOSAL_LIFETIME + 1)
        .unwrap();
    assert_error(
        m.send(ix::apply_config_update(&admin.pubkey()), &admin),
        EscrowError::ProposalLapsed,
    );
    assert_eq!(config(&mut m).protocol_fee_bps, PROTOCOL_FEE_BPS);
}

#[test]
fn the_admin_can_withdraw_a_proposal() {
    let mut m = Market::with_escrow();
    let admin = m.admin.insecure_clone();
    let args = UpdateConfigArgs {
        protocol_fee_bps: Some(2_000),
        ..Default::default()
    };
    m.send(ix::propose_config_update(&admin.pubkey(), args), &admin)
        .unwrap();
    let stranger = m.wallet(0);
    assert_error(
        m.send(
            ix::cancel_config_update(&stranger.pubkey()),
            &stranger.keypair,
        ),
        EscrowError::NotAdmin,
    );
    m.send(ix::cancel_config_update(&admin.pubkey()), &admin)
        .unwrap();
    m.chain.advance(CONFIG_TIMELOCK).unwrap();
    assert_error(
        m.send(ix::apply_config_update(&admin.pubkey()), &admin),
        EscrowError::NoPendingUpdate,
    );
    assert_eq!(config(&mut m).protocol_fee_bps, PROTOCOL_FEE_BPS);
}

#[test]
fn proposals_reject_strangers_and_bad_values() {
    let mut m = Market::with_escrow();
    let stranger = m.wallet(0);
    assert_error(
        m.send(
            ix::propose_config_update(&stranger.pubkey(), UpdateConfigArgs::default()),
            &stranger.keypair,
        ),
        EscrowError::NotAdmin,
    );
    let admin = m.admin.insecure_clone();
    assert_error(
        m.send(
            ix::propose_config_update(
                &admin.pubkey(),
                UpdateConfigArgs {
                    protocol_fee_bps: Some(2_001),
                    ..Default::default()
                },
            ),
            &admin,
        ),
        EscrowError::InvalidFee,
    );
    assert_error(
        m.send(
            ix::propose_config_update(
                &admin.pubkey(),
                UpdateConfigArgs {
                    max_attempts: Some(0),
                    ..Default::default()
                },
            ),
            &admin,
        ),
        EscrowError::InvalidTiming,
    );
}

#[test]
fn a_job_account_of_the_wrong_seeds_is_refused() {
    let mut m = Market::with_escrow();
    let p = m.provider(1);
    let client = m.client(100 * TOKEN);
    m.create_job(&client, batch_job(1, 1)).unwrap();
    // A byte-for-byte copy of a real job, owned by the escrow, at an address that is not
    // the job's PDA.
    let real = pda::job(&client.pubkey(), 1);
    let copy = m.chain.account(&real).unwrap().unwrap();
    let forged = Pubkey::new_unique();
    m.chain.set_account(&forged, copy);
    assert_error(
        signed(
            &mut m,
            ix::accept_job(&p.pubkey(), &p.pubkey(), &forged),
            &p.keypair,
        ),
        anchor_lang::error::ErrorCode::ConstraintSeeds,
    );
}
