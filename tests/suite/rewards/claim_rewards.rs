use anchor_lang::error::ErrorCode as AnchorError;
use gpu_market_client::{pda, rewards as ix, token, Instruction, InstructionError, Signer};
use gpu_market_tests::{rewards::*, *};
use reward_emission::{error::EmissionError, events::RewardsClaimed};

#[test]
fn claim_mints_the_settled_share() {
    let mut m = Market::with_rewards(HARD_CAP);
    let p = m.provider(1);
    m.record_uptime(&p).unwrap();
    // The epoch is not over: nothing is settled yet.
    assert_error(m.claim(&p), EmissionError::NothingToClaim);
    // Over, folded, but not finalized while its fold window is open: still nothing.
    m.go_to_epoch(1);
    m.crank();
    assert_error(m.claim(&p), EmissionError::NothingToClaim);
    m.close_epoch(0);
    let out = m.claim(&p).unwrap();
    let claimed = &out.events::<RewardsClaimed>()[0];
    assert_eq!(claimed.amount, FIRST_EPOCH_EMISSION);
    let account = m.reward_account(&p.pubkey());
    assert_eq!(m.balance(&account), FIRST_EPOCH_EMISSION);
    assert_eq!(m.emission_config().total_minted, FIRST_EPOCH_EMISSION);
    assert_eq!(m.reward_supply(), FIRST_EPOCH_EMISSION);
    assert_error(m.claim(&p), EmissionError::NothingToClaim);
}

#[test]
fn a_mint_that_is_not_the_reward_mint_is_refused() {
    let mut m = Market::with_rewards(HARD_CAP);
    let p = m.provider(1);
    m.record_uptime(&p).unwrap();
    m.close_epoch(0);
    let other = token::create_mint(
        &mut m.chain,
        &pda::reward_mint_authority(),
        6,
        &token::TOKEN_PROGRAM,
    )
    .unwrap();
    let destination =
        token::create_token_account(&mut m.chain, &p.pubkey(), &other, &token::TOKEN_PROGRAM)
            .unwrap();
    let ix = ix::claim_rewards(
        &p.pubkey(),
        &p.pubkey(),
        &other,
        &destination,
        &token::TOKEN_PROGRAM,
        &[0],
    );
    assert_error(m.send(ix, &p.keypair), EmissionError::WrongRewardMint);
}

#[test]
fn rewards_go_only_to_the_providers_authority() {
    let mut m = Market::with_rewards(HARD_CAP);
    let p = m.provider(1);
    m.record_uptime(&p).unwrap();
    m.close_epoch(0);
    let thief = m.wallet(0);
    let loot = m.reward_account(&thief.pubkey());
    let mint = m.emission_config().reward_mint;
    let ix = ix::claim_rewards(
        &p.pubkey(),
        &p.pubkey(),
        &mint,
        &loot,
        &token::TOKEN_PROGRAM,
        &[0],
    );
    assert_error(m.send(ix, &p.keypair), EmissionError::WrongDestination);
    let ix = ix::claim_rewards(
        &thief.pubkey(),
        &p.pubkey(),
        &mint,
        &loot,
        &token::TOKEN_PROGRAM,
        &[0],
    );
    assert_error(m.send(ix, &thief.keypair), EmissionError::NotProviderKey);
}

#[test]
fn the_mint_authority_cannot_be_used_from_outside_the_program() {
    let mut m = Market::with_rewards(HARD_CAP);
    let thief = m.wallet(0);
    let loot = m.reward_account(&thief.pubkey());
    let mint = m.emission_config().reward_mint;
    let mut mint_to: Instruction = gpu_market_client::token::mint_to_ix(
        &mint,
        &loot,
        &pda::reward_mint_authority(),
        1_000 * TOKEN,
        6,
        &token::TOKEN_PROGRAM,
    );
    // Nobody holds the PDA's key, so the best a caller can do is name it unsigned...
    mint_to.accounts[2].is_signer = false;
    let err = m.send(mint_to.clone(), &thief.keypair).unwrap_err();
    assert_eq!(
        err.instruction_error(),
        Some(&InstructionError::MissingRequiredSignature),
        "{err}"
    );
    // ...and a transaction that names it as a signer cannot be signed at all.
    mint_to.accounts[2].is_signer = true;
    let err = m.send(mint_to, &thief.keypair).unwrap_err();
    assert!(
        matches!(err, gpu_market_client::ClientError::Signing(_)),
        "{err}"
    );
    assert_eq!(m.reward_supply(), 0);
}

/// A provider cannot claim from another provider's reward record: the record's address is
/// checked against the signer's provider, and both balances stay as they were.
#[test]
fn another_providers_record_is_refused() {
    let mut m = Market::with_rewards(HARD_CAP);
    let (p, other) = (m.provider(1), m.provider(1));
    m.record_uptime(&p).unwrap();
    m.record_uptime(&other).unwrap();
    m.close_epoch(0);
    let mint = m.emission_config().reward_mint;
    let destination = m.reward_account(&p.pubkey());
    let claim = ix::claim_rewards(
        &p.pubkey(),
        &p.pubkey(),
        &mint,
        &destination,
        &token::TOKEN_PROGRAM,
        &[0],
    );
    let own = pda::provider_rewards(&pda::provider(&p.pubkey()));
    let theirs = pda::provider_rewards(&pda::provider(&other.pubkey()));
    let ix = swap_account(claim, &own, &theirs);
    assert_error(m.send(ix, &p.keypair), AnchorError::ConstraintSeeds);
    assert_eq!(m.balance(&destination), 0);
    assert_eq!(m.emission_config().total_minted, 0);
    // Each still claims its own half.
    let half = FIRST_EPOCH_EMISSION / 2;
    m.claim(&p).unwrap();
    m.claim(&other).unwrap();
    assert_eq!(m.balance(&destination), half);
    let theirs = m.reward_account(&other.pubkey());
    assert_eq!(m.balance(&theirs), half);
}

/// Events travel as calls of the program into itself, signed by its event authority: on
/// SBF they are read from the inner instructions and nothing is logged for them.
#[test]
fn events_come_from_the_programs_own_signed_calls() {
    let mut m = Market::with_rewards(HARD_CAP);
    let p = m.provider(1);
    m.record_uptime(&p).unwrap();
    m.close_epoch(0);
    let out = m.claim(&p).unwrap();
    assert_eq!(
        out.events::<RewardsClaimed>()[0].amount,
        FIRST_EPOCH_EMISSION
    );
    if m.chain.runs_sbf() {
        assert!(
            !out.logs.iter().any(|l| l.starts_with("Program data: ")),
            "events left in the logs: {:?}",
            out.logs
        );
    }

    // Another account in the event authority's place.
    let destination = m.reward_account(&p.pubkey());
    let update = ix::update_config(
        &m.admin.pubkey(),
        reward_emission::UpdateConfigArgs::default(),
    );
    let ix = swap_account(
        update,
        &pda::event_authority(&reward_emission::ID),
        &destination,
    );
    let admin = m.admin.insecure_clone();
    assert_error(m.send(ix, &admin), AnchorError::ConstraintAddress);

    // An event instruction from outside, unsigned by the event authority.
    let forged = forged_event(
        reward_emission::ID,
        &RewardsClaimed {
            provider: p.pubkey(),
            amount: 1,
            total_claimed_after: 1,
            total_minted_after: 1,
        },
    );
    assert_error(m.send(forged, &p.keypair), AnchorError::ConstraintSigner);
}
