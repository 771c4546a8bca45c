use gpu_market_client::{pda, rewards as ix, token, Chain, Keypair, Signer};
use gpu_market_in_process::InProcessChain;
use gpu_market_tests::{rewards::*, *};
use reward_emission::{error::EmissionError, InitConfigArgs, UpdateConfigArgs};

fn args(hard_cap: u64) -> InitConfigArgs {
    InitConfigArgs {
        genesis_time: 1_700_000_000,
        epoch_length: EPOCH_LENGTH,
        record_interval: HEARTBEAT_INTERVAL,
        first_epoch_emission: FIRST_EPOCH_EMISSION,
        decay_bps: DECAY_BPS,
        decay_period_epochs: DECAY_PERIOD_EPOCHS,
        hard_cap,
    }
}

#[test]
fn init_config_fixes_the_schedule() {
    let mut m = Market::with_rewards(HARD_CAP);
    let config = m.emission_config();
    assert_eq!(config.admin, m.admin.pubkey());
    assert_eq!(
        (config.epoch_length, config.first_epoch_emission),
        (EPOCH_LENGTH, FIRST_EPOCH_EMISSION)
    );
    assert_eq!(
        (config.decay_bps, config.decay_period_epochs),
        (DECAY_BPS, DECAY_PERIOD_EPOCHS)
    );
    assert_eq!((config.initial_cap, config.hard_cap), (HARD_CAP, HARD_CAP));
    assert_eq!((config.total_allocated, config.total_minted), (0, 0));
}

#[test]
fn a_mint_the_program_cannot_mint_alone_is_refused() {
    let mut chain = InProcessChain::start().unwrap();
    let admin = Keypair::new();
    chain
        .transfer_lamports(&admin.pubkey(), WALLET_LAMPORTS)
        .unwrap();
    // The admin keeps the mint authority: it could mint past any cap.
    let mint = token::create_mint(&mut chain, &admin.pubkey(), 6, &token::TOKEN_PROGRAM).unwrap();
    let ix = ix::init_config(
        &admin.pubkey(),
        &mint,
        &token::TOKEN_PROGRAM,
        args(HARD_CAP),
    );
    assert_error(
        chain.send(&[ix], &[&admin]),
        EmissionError::WrongMintAuthority,
    );
}

#[test]
fn a_bad_schedule_is_refused() {
    let mut chain = InProcessChain::start().unwrap();
    let admin = Keypair::new();
    chain
        .transfer_lamports(&admin.pubkey(), WALLET_LAMPORTS)
        .unwrap();
    let mint = token::create_mint(
        &mut chain,
        &pda::reward_mint_authority(),
        6,
        &token::TOKEN_PROGRAM,
    )
    .unwrap();
    let mut bad = args(HARD_CAP);
    bad.epoch_length = 0;
    let ix = ix::init_config(&admin.pubkey(), &mint, &token::TOKEN_PROGRAM, bad);
    assert_error(chain.send(&[ix], &[&admin]), EmissionError::InvalidSchedule);
    for interval in [0, EPOCH_LENGTH + 1] {
        let mut bad = args(HARD_CAP);
        bad.record_interval = interval;
        let ix = ix::init_config(&admin.pubkey(), &mint, &token::TOKEN_PROGRAM, bad);
        assert_error(chain.send(&[ix], &[&admin]), EmissionError::InvalidSchedule);
    }
    let mut bad = args(HARD_CAP);
    bad.decay_bps = 10_001;
    let ix = ix::init_config(&admin.pubkey(), &mint, &token::TOKEN_PROGRAM, bad);
    assert_error(chain.send(&[ix], &[&admin]), EmissionError::InvalidSchedule);
}

#[test]
fn the_cap_can_only_come_down_to_what_is_allocated() {
    let mut m = Market::with_rewards(HARD_CAP);
    let p = m.provider(1);
    m.record_uptime(&p).unwrap();
    m.close_epoch(0);
    let admin = m.admin.insecure_clone();
    let set_cap = |cap: u64| {
        ix::update_config(
            &admin.pubkey(),
            UpdateConfigArgs {
                hard_cap: Some(cap),
                ..Default::default()
            },
        )
    };
    assert_error(
        m.send(set_cap(HARD_CAP + 1), &admin),
        EmissionError::InvalidCap,
    );
    assert_error(
        m.send(set_cap(FIRST_EPOCH_EMISSION - 1), &admin),
        EmissionError::InvalidCap,
    );
    m.send(set_cap(FIRST_EPOCH_EMISSION), &admin).unwrap();
    assert_eq!(m.emission_config().hard_cap, FIRST_EPOCH_EMISSION);
    let stranger = m.wallet(0);
    assert_error(
        m.send(
            ix::update_config(&stranger.pubkey(), UpdateConfigArgs::default()),
            &stranger.keypair,
        ),
        EmissionError::NotAdmin,
    );
}
