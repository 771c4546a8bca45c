use gpu_market_client::{pda, staking::StakeAccount, Chain};
use gpu_market_tests::*;
use staking::events::Staked;

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
