use anchor_lang::error::ErrorCode as AnchorError;
use gpu_market_client::{pda, staking as ix, token, Chain, Signer};
use gpu_market_tests::*;
use staking::{error::StakingError, events::StakeWithdrawn};

fn unbonding_owner(m: &mut Market) -> Wallet {
    let owner = m.wallet(100 * TOKEN);
    m.stake(&owner, 100 * TOKEN).unwrap();
    m.send(
        ix::request_unstake(&owner.pubkey(), 40 * TOKEN),
        &owner.keypair,
    )
    .unwrap();
    owner
}

fn withdraw_ix(m: &Market, owner: &Wallet) -> gpu_market_client::Instruction {
    ix::withdraw(
        &owner.pubkey(),
        &owner.tokens,
        &m.stake_mint,
        &token::TOKEN_PROGRAM,
    )
}

#[test]
fn withdraw_pays_out_after_the_cooldown() {
    let mut m = Market::new();
    let owner = unbonding_owner(&mut m);
    m.chain.advance(UNBONDING_PERIOD).unwrap();
    let out = m.send(withdraw_ix(&m, &owner), &owner.keypair).unwrap();

    assert_eq!(m.balance(&owner.tokens), 40 * TOKEN);
    assert_eq!(m.balance(&pda::staking_vault()), 60 * TOKEN);
    let stake = m.stake_account(&owner.pubkey());
    assert_eq!(
        (stake.active, stake.unbonding, stake.unbonding_ends_at),
        (60 * TOKEN, 0, 0)
    );
    assert_eq!(m.staking_config().total_unbonding, 0);
    let event = &out.events::<StakeWithdrawn>()[0];
    assert_eq!(
        (event.amount, event.vault_balance_after),
        (40 * TOKEN, 60 * TOKEN)
    );
}

#[test]
fn withdraw_before_the_cooldown_is_refused() {
    let mut m = Market::new();
    let owner = unbonding_owner(&mut m);
    m.chain.advance(UNBONDING_PERIOD - 1).unwrap();
    assert_error(
        m.send(withdraw_ix(&m, &owner), &owner.keypair),
        StakingError::CooldownNotElapsed,
    );
    assert_eq!(m.balance(&owner.tokens), 0);
}

#[test]
fn withdraw_with_nothing_unbonding_is_refused() {
    let mut m = Market::new();
    let owner = m.wallet(100 * TOKEN);
    m.stake(&owner, 100 * TOKEN).unwrap();
    assert_error(
        m.send(withdraw_ix(&m, &owner), &owner.keypair),
        StakingError::NothingUnbonding,
    );
}

#[test]
fn withdraw_from_a_vault_that_is_not_the_pooled_vault_is_refused() {
    let mut m = Market::new();
    let owner = unbonding_owner(&mut m);
    m.chain.advance(UNBONDING_PERIOD).unwrap();
    let decoy = m.wallet(0);
    let ix = swap_account(
        withdraw_ix(&m, &owner),
        &pda::staking_vault(),
        &decoy.tokens,
    );
    assert_error(m.send(ix, &owner.keypair), StakingError::WrongVault);
}

#[test]
fn withdraw_to_a_token_account_of_another_mint_is_refused() {
    let mut m = Market::new();
    let owner = unbonding_owner(&mut m);
    m.chain.advance(UNBONDING_PERIOD).unwrap();
    let admin = m.admin.pubkey();
    let other = token::create_mint(&mut m.chain, &admin, 6, &token::TOKEN_PROGRAM).unwrap();
    let foreign =
        token::create_token_account(&mut m.chain, &owner.pubkey(), &other, &token::TOKEN_PROGRAM)
            .unwrap();
    let ix = swap_account(withdraw_ix(&m, &owner), &owner.tokens, &foreign);
    assert_error(m.send(ix, &owner.keypair), AnchorError::ConstraintTokenMint);
}
