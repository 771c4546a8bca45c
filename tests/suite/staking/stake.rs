use anchor_lang::error::ErrorCode as AnchorError;
use gpu_market_client::{pda, staking::StakeAccount, token, Chain, Signer};
use gpu_market_tests::*;
use staking::{error::StakingError, events::Staked};

#[test]
fn stake_moves_tokens_into_the_pooled_vault() {
    let mut m = Market::new();
    let owner = m.wallet(500 * TOKEN);
    let out = m.stake(&owner, 300 * TOKEN).unwrap();

    let stake: StakeAccount = m.chain.fetch(&pda::stake_account(&owner.pubkey())).unwrap();
    assert_eq!(stake.owner, owner.pubkey());
    assert_eq!((stake.active, stake.unbonding), (300 * TOKEN, 0));
    assert_eq!(m.balance(&owner.tokens), 200 * TOKEN);
    assert_eq!(m.balance(&pda::staking_vault()), 300 * TOKEN);
    assert_eq!(m.staking_config().total_active, 300 * TOKEN);
    let events = out.events::<Staked>();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].active_after, 300 * TOKEN);
}

#[test]
fn stake_adds_to_an_existing_stake() {
    let mut m = Market::new();
    let owner = m.wallet(500 * TOKEN);
    m.stake(&owner, 100 * TOKEN).unwrap();
    m.stake(&owner, 50 * TOKEN).unwrap();
    assert_eq!(m.stake_account(&owner.pubkey()).active, 150 * TOKEN);
    assert_eq!(m.balance(&pda::staking_vault()), 150 * TOKEN);
}

#[test]
fn stake_of_zero_is_refused() {
    let mut m = Market::new();
    let owner = m.wallet(500 * TOKEN);
    assert_error(m.stake(&owner, 0), StakingError::ZeroAmount);
}

#[test]
fn stake_into_a_vault_that_is_not_the_pooled_vault_is_refused() {
    let mut m = Market::new();
    let owner = m.wallet(500 * TOKEN);
    let decoy = m.wallet(0);
    let ix = swap_account(
        m.stake_ix(&owner, TOKEN),
        &pda::staking_vault(),
        &decoy.tokens,
    );
    assert_error(m.send(ix, &owner.keypair), StakingError::WrongVault);
}

#[test]
fn stake_of_another_mint_is_refused() {
    let mut m = Market::new();
    let owner = m.wallet(500 * TOKEN);
    let admin = m.admin.pubkey();
    let other = token::create_mint(&mut m.chain, &admin, 6, &token::TOKEN_PROGRAM).unwrap();
    let ix = swap_account(m.stake_ix(&owner, TOKEN), &m.stake_mint, &other);
    assert_error(m.send(ix, &owner.keypair), StakingError::WrongStakeMint);
}

#[test]
fn stake_with_a_config_of_another_program_is_refused() {
    let mut m = Market::new();
    let owner = m.wallet(500 * TOKEN);
    // The registry's config lives at a PDA of the same seed under another program.
    let ix = swap_account(
        m.stake_ix(&owner, TOKEN),
        &pda::staking_config(),
        &pda::registry_config(),
    );
    assert_error(
        m.send(ix, &owner.keypair),
        AnchorError::AccountOwnedByWrongProgram,
    );
}

#[test]
fn stake_into_someone_elses_stake_account_is_refused() {
    let mut m = Market::new();
    let owner = m.wallet(500 * TOKEN);
    let other = m.wallet(500 * TOKEN);
    m.stake(&other, TOKEN).unwrap();
    let ix = swap_account(
        m.stake_ix(&owner, TOKEN),
        &pda::stake_account(&owner.pubkey()),
        &pda::stake_account(&other.pubkey()),
    );
    assert_error(m.send(ix, &owner.keypair), AnchorError::ConstraintSeeds);
    assert_eq!(m.stake_account(&other.pubkey()).active, TOKEN);
}

#[test]
fn stake_from_a_token_account_of_another_mint_is_refused() {
    let mut m = Market::new();
    let owner = m.wallet(500 * TOKEN);
    let admin = m.admin.pubkey();
    let other = token::create_mint(&mut m.chain, &admin, 6, &token::TOKEN_PROGRAM).unwrap();
    let foreign =
        token::create_token_account(&mut m.chain, &owner.pubkey(), &other, &token::TOKEN_PROGRAM)
            .unwrap();
    let ix = swap_account(m.stake_ix(&owner, TOKEN), &owner.tokens, &foreign);
    assert_error(m.send(ix, &owner.keypair), AnchorError::ConstraintTokenMint);
}

#[test]
fn stake_succeeds_when_the_stake_address_was_prefunded() {
    let mut m = Market::new();
    let owner = m.wallet(10 * TOKEN);
    // Anyone can send lamports to the stake address before the first stake.
    let lamports = m.chain.minimum_balance(0).unwrap();
    m.chain
        .transfer_lamports(&pda::stake_account(&owner.pubkey()), lamports)
        .unwrap();
    m.stake(&owner, 10 * TOKEN).unwrap();
    assert_eq!(m.stake_account(&owner.pubkey()).active, 10 * TOKEN);
}

#[test]
fn stake_into_a_forged_stake_account_is_refused() {
    let mut m = Market::new();
    let owner = m.wallet(10 * TOKEN);
    let forged = StakeAccount {
        owner: owner.pubkey(),
        active: u64::MAX / 2,
        unbonding: 0,
        unbonding_ends_at: 0,
        total_slashed: 0,
        locked: 0,
        bump: 255,
    };
    let mut data = Vec::new();
    anchor_lang::AccountSerialize::try_serialize(&forged, &mut data).unwrap();
    m.chain.set_account(
        &pda::stake_account(&owner.pubkey()),
        solana_account::Account {
            lamports: 10_000_000,
            data,
            owner: provider_registry::ID,
            executable: false,
            rent_epoch: 0,
        },
    );
    assert_error(
        m.stake(&owner, TOKEN),
        AnchorError::AccountOwnedByWrongProgram,
    );
}

#[test]
fn stake_with_a_forged_config_at_another_address_is_refused() {
    let mut m = Market::new();
    let owner = m.wallet(10 * TOKEN);
    // A copy of the real config, owned by staking, but not at the config PDA.
    let real = m.chain.account(&pda::staking_config()).unwrap().unwrap();
    let forged = gpu_market_client::Pubkey::new_unique();
    m.chain.set_account(&forged, real);
    let ix = swap_account(m.stake_ix(&owner, TOKEN), &pda::staking_config(), &forged);
    assert_error(m.send(ix, &owner.keypair), AnchorError::ConstraintSeeds);
}
