use gpu_market_client::{escrow as ix, pda, Chain, Pubkey, Signer};
use gpu_market_tests::{escrow::*, *};
use job_escrow::{error::EscrowError, UpdateConfigArgs};

#[test]
fn admin_updates_the_market() {
    let mut m = Market::with_escrow();
    let admin = m.admin.insecure_clone();
    let arbiter = Pubkey::new_unique();
    m.send(
        ix::update_config(
            &admin.pubkey(),
            UpdateConfigArgs {
                arbiter: Some(arbiter),
                protocol_fee_bps: Some(100),
                max_attempts: Some(5),
                ..Default::default()
            },
        ),
        &admin,
    )
    .unwrap();
    let config: ix::MarketConfig = m.chain.fetch(&pda::market_config()).unwrap();
    assert_eq!(
        (config.arbiter, config.protocol_fee_bps, config.max_attempts),
        (arbiter, 100, 5)
    );
    assert_eq!(config.crank_tip, CRANK_TIP);
}

#[test]
fn update_config_rejects_strangers_and_bad_values() {
    let mut m = Market::with_escrow();
    let stranger = m.wallet(0);
    assert_error(
        m.send(
            ix::update_config(&stranger.pubkey(), UpdateConfigArgs::default()),
            &stranger.keypair,
        ),
        EscrowError::NotAdmin,
    );
    let admin = m.admin.insecure_clone();
    assert_error(
        m.send(
            ix::update_config(
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
            ix::update_config(
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
