use gpu_market_client::{
    pda,
    staking::{self as ix, SlashAccounts, SlashArgs, SlashReason},
    token, Instruction, Signer,
};
use gpu_market_tests::{proxy, *};
use staking::{error::StakingError, events::StakeSlashed};

fn slash_ix(
    m: &Market,
    slasher: &gpu_market_client::Pubkey,
    owner: &Wallet,
    victim: &Wallet,
    amount: u64,
) -> Instruction {
    slash_unlocking(m, slasher, owner, victim, amount, 0)
}

fn slash_unlocking(
    m: &Market,
    slasher: &gpu_market_client::Pubkey,
    owner: &Wallet,
    victim: &Wallet,
    amount: u64,
    unlock: u64,
) -> Instruction {
    ix::slash(
        slasher,
        SlashAccounts {
            owner: owner.pubkey(),
            stake_mint: m.stake_mint,
            recipient: victim.tokens,
            token_program: token::TOKEN_PROGRAM,
        },
        SlashArgs {
            amount,
            reason: SlashReason::NoStart,
            unlock,
        },
    )
}

fn staked(m: &mut Market, active: u64, unbonding: u64) -> Wallet {
    let owner = m.wallet(active + unbonding);
    m.stake(&owner, active + unbonding).unwrap();
    if unbonding > 0 {
        m.send(
            ix::request_unstake(&owner.pubkey(), unbonding),
            &owner.keypair,
        )
        .unwrap();
    }
    owner
}

#[test]
fn slash_splits_between_the_harmed_party_and_the_treasury() {
    let mut m = Market::new();
    let owner = staked(&mut m, 100 * TOKEN, 0);
    let victim = m.wallet(0);
    let amount = 30 * TOKEN + 3;
    let out = m
        .send_as_escrow(slash_ix(&m, &proxy::authority(), &owner, &victim, amount))
        .unwrap();

    // 25% to the treasury, rounded down, held in the vault until collected; the remainder
    // to the harmed party.
    let to_treasury = amount / 4;
    assert_eq!(m.balance(&m.treasury.clone()), 0);
    assert_eq!(m.balance(&victim.tokens), amount - to_treasury);
    assert_eq!(
        m.balance(&pda::staking_vault()),
        100 * TOKEN - amount + to_treasury
    );
    assert_eq!(m.staking_config().treasury_owed, to_treasury);
    // Anyone collects it for the treasury, once.
    let anyone = m.wallet(0);
    let (mint, treasury) = (m.stake_mint, m.treasury);
    let collect = ix::collect_treasury(&anyone.pubkey(), &mint, &treasury, &token::TOKEN_PROGRAM);
    m.send(collect.clone(), &anyone.keypair).unwrap();
    assert_eq!(m.balance(&m.treasury.clone()), to_treasury);
    assert_eq!(m.balance(&pda::staking_vault()), 100 * TOKEN - amount);
    assert_eq!(m.staking_config().treasury_owed, 0);
    assert_error(m.send(collect, &anyone.keypair), StakingError::ZeroAmount);
    let stake = m.stake_account(&owner.pubkey());
    assert_eq!(
        (stake.active, stake.total_slashed),
        (100 * TOKEN - amount, amount)
    );
    let config = m.staking_config();
    assert_eq!(
        (config.total_active, config.total_slashed),
        (100 * TOKEN - amount, amount)
    );

    let event = &out.events::<StakeSlashed>()[0];
    assert_eq!(event.reason, SlashReason::NoStart);
    assert_eq!((event.requested, event.slashed), (amount, amount));
    assert_eq!(
        (event.to_recipient, event.to_treasury),
        (amount - to_treasury, to_treasury)
    );
    assert_eq!(event.active_after, 100 * TOKEN - amount);
}

#[test]
fn slash_reaches_unbonding_stake_after_active() {
    let mut m = Market::new();
    let owner = staked(&mut m, 40 * TOKEN, 60 * TOKEN);
    let victim = m.wallet(0);
    let out = m
        .send_as_escrow(slash_ix(
            &m,
            &proxy::authority(),
            &owner,
            &victim,
            70 * TOKEN,
        ))
        .unwrap();

    let stake = m.stake_account(&owner.pubkey());
    assert_eq!((stake.active, stake.unbonding), (0, 30 * TOKEN));
    let event = &out.events::<StakeSlashed>()[0];
    assert_eq!(
        (event.from_active, event.from_unbonding),
        (40 * TOKEN, 30 * TOKEN)
    );
    let config = m.staking_config();
    assert_eq!(
        (config.total_active, config.total_unbonding),
        (0, 30 * TOKEN)
    );
}

#[test]
fn slash_larger_than_the_stake_clamps() {
    let mut m = Market::new();
    let owner = staked(&mut m, 10 * TOKEN, 5 * TOKEN);
    let victim = m.wallet(0);
    let out = m
        .send_as_escrow(slash_ix(&m, &proxy::authority(), &owner, &victim, u64::MAX))
        .unwrap();

    let stake = m.stake_account(&owner.pubkey());
    assert_eq!(
        (stake.active, stake.unbonding, stake.unbonding_ends_at),
        (0, 0, 0)
    );
    assert_eq!(stake.total_slashed, 15 * TOKEN);
    let event = &out.events::<StakeSlashed>()[0];
    assert_eq!((event.requested, event.slashed), (u64::MAX, 15 * TOKEN));
    // Only the treasury's share, not yet collected, is left in the vault.
    let owed = m.staking_config().treasury_owed;
    assert_eq!(m.balance(&pda::staking_vault()), owed);
    assert_eq!(m.balance(&victim.tokens) + owed, 15 * TOKEN);
    // Nothing is left to take.
    assert_error(
        m.send_as_escrow(slash_ix(&m, &proxy::authority(), &owner, &victim, 1)),
        StakingError::NothingToSlash,
    );
}

#[test]
fn slash_by_an_unauthorised_signer_is_refused() {
    let mut m = Market::new();
    let owner = staked(&mut m, 100 * TOKEN, 0);
    let victim = m.wallet(0);
    // The victim signs as slasher itself.
    let ix = slash_ix(&m, &victim.pubkey(), &owner, &victim, TOKEN);
    assert_error(
        m.send(ix, &victim.keypair),
        StakingError::UnauthorizedSlasher,
    );
    // So does the admin: configuring slashers does not make it one.
    let admin = m.admin.insecure_clone();
    let ix = slash_ix(&m, &admin.pubkey(), &owner, &victim, TOKEN);
    assert_error(m.send(ix, &admin), StakingError::UnauthorizedSlasher);
    assert_eq!(m.stake_account(&owner.pubkey()).active, 100 * TOKEN);
}

#[test]
fn the_treasury_share_goes_only_to_the_configured_treasury() {
    let mut m = Market::new();
    let owner = staked(&mut m, 100 * TOKEN, 0);
    let victim = m.wallet(0);
    m.send_as_escrow(slash_ix(&m, &proxy::authority(), &owner, &victim, TOKEN))
        .unwrap();
    let accomplice = m.wallet(0);
    let mint = m.stake_mint;
    let collect = ix::collect_treasury(
        &accomplice.pubkey(),
        &mint,
        &accomplice.tokens,
        &token::TOKEN_PROGRAM,
    );
    assert_error(
        m.send(collect, &accomplice.keypair),
        StakingError::WrongTreasury,
    );
}

#[test]
fn slash_of_zero_is_refused() {
    let mut m = Market::new();
    let owner = staked(&mut m, 100 * TOKEN, 0);
    let victim = m.wallet(0);
    assert_error(
        m.send_as_escrow(slash_ix(&m, &proxy::authority(), &owner, &victim, 0)),
        StakingError::ZeroAmount,
    );
}

/// A slashing job ending releases the job's lock in the same call: first the lock (up to
/// what is locked), then the slash, which also trims the other jobs' locks to what stays
/// active. The totals follow each step.
#[test]
fn slash_releases_the_job_lock_first() {
    let mut m = Market::new();
    let owner = staked(&mut m, 100 * TOKEN, 0);
    let victim = m.wallet(0);
    for amount in [30 * TOKEN, 50 * TOKEN] {
        m.send_as_escrow(ix::lock_stake(&proxy::authority(), &owner.pubkey(), amount))
            .unwrap();
    }
    // The 30-token job fails and is slashed 60: its lock goes, 40 stays active, so the
    // other job's 50-token lock is trimmed to 40.
    let out = m
        .send_as_escrow(slash_unlocking(
            &m,
            &proxy::authority(),
            &owner,
            &victim,
            60 * TOKEN,
            30 * TOKEN,
        ))
        .unwrap();
    let stake = m.stake_account(&owner.pubkey());
    assert_eq!((stake.active, stake.locked), (40 * TOKEN, 40 * TOKEN));
    assert_eq!(m.staking_config().total_locked, 40 * TOKEN);
    let event = &out.events::<StakeSlashed>()[0];
    assert_eq!(
        (event.slashed, event.lock_released, event.locked_after),
        (60 * TOKEN, 30 * TOKEN, 40 * TOKEN)
    );
    // Releasing more than is locked saturates and never fails the slash.
    m.send_as_escrow(slash_unlocking(
        &m,
        &proxy::authority(),
        &owner,
        &victim,
        TOKEN,
        u64::MAX,
    ))
    .unwrap();
    let stake = m.stake_account(&owner.pubkey());
    assert_eq!((stake.active, stake.locked), (39 * TOKEN, 0));
    assert_eq!(m.staking_config().total_locked, 0);
    assert_eq!(m.balance(&victim.tokens), (61 * TOKEN) - (61 * TOKEN) / 4);
}
