//! Folding uptime into the shards and finalizing epochs: who may, when, with which
//! accounts, and what each weight earns.

use anchor_lang::error::ErrorCode as AnchorError;
use gpu_market_client::{
    pda,
    rewards::{self as ix, Epoch, UptimeShard, SHARDS},
    Chain, Instruction, Keypair, Pubkey, Signer,
};
use gpu_market_tests::{rewards::*, *};
use reward_emission::{
    constants::MAX_FOLD_BATCH,
    error::EmissionError,
    events::{EpochFinalized, RewardsClaimed, UptimeFolded},
};

fn record_of(p: &Wallet) -> Pubkey {
    pda::provider_rewards(&pda::provider(&p.pubkey()))
}

fn shard_of(p: &Wallet) -> u8 {
    ix::shard_of(&pda::provider(&p.pubkey()))
}

/// A stranger with lamports: folds and finalizations are permissionless.
fn stranger(m: &mut Market) -> Keypair {
    m.wallet(0).keypair
}

fn fold(payer: &Keypair, epoch: u64, shard: u8, records: &[Pubkey]) -> Instruction {
    ix::fold_uptime(&payer.pubkey(), epoch, shard, records)
}

#[test]
fn anyone_folds_a_finished_epoch_once_and_anyone_finalizes_it() {
    let mut m = Market::with_rewards(HARD_CAP);
    let p = m.provider(1);
    m.record_uptime(&p).unwrap();
    m.chain.advance(HEARTBEAT_INTERVAL).unwrap();
    m.record_uptime(&p).unwrap();
    let cranker = stranger(&mut m);
    let shard = shard_of(&p);

    // Not before the epoch ends.
    assert_error(
        m.send(fold(&cranker, 0, shard, &[record_of(&p)]), &cranker),
        EmissionError::EpochNotOver,
    );
    m.go_to_epoch(1);
    let out = m
        .send(fold(&cranker, 0, shard, &[record_of(&p)]), &cranker)
        .unwrap();
    let folded = &out.events::<UptimeFolded>()[0];
    assert_eq!(
        (folded.records, folded.weight, folded.shard_weight_after),
        (1, 2, 2)
    );
    assert!(m.provider_rewards(&p.pubkey()).unwrap().latest.folded);
    // Again: nothing left to fold, nothing counted twice.
    m.chain.advance(1).unwrap();
    let out = m
        .send(fold(&cranker, 0, shard, &[record_of(&p)]), &cranker)
        .unwrap();
    let folded = &out.events::<UptimeFolded>()[0];
    assert_eq!(
        (folded.records, folded.weight, folded.shard_weight_after),
        (0, 0, 2)
    );

    // Not finalized while the window is open.
    assert_error(
        m.send(ix::finalize_epoch(&cranker.pubkey(), 0), &cranker),
        EmissionError::FoldWindowOpen,
    );
    m.go_to_fold_close(0);
    // Nor folded once it has closed.
    assert_error(
        m.send(fold(&cranker, 0, shard, &[record_of(&p)]), &cranker),
        EmissionError::FoldWindowClosed,
    );
    let out = m
        .send(ix::finalize_epoch(&cranker.pubkey(), 0), &cranker)
        .unwrap();
    let finalized = &out.events::<EpochFinalized>()[0];
    assert_eq!(
        (
            finalized.emission,
            finalized.total_weight,
            finalized.providers
        ),
        (FIRST_EPOCH_EMISSION, 2, 1)
    );
    assert_eq!(m.emission_config().total_allocated, FIRST_EPOCH_EMISSION);
    let shard_account: UptimeShard = m.chain.fetch(&pda::uptime_shard(shard)).unwrap();
    assert!(shard_account.tallied);
    // Once only.
    m.chain.advance(1).unwrap();
    assert_error(
        m.send(ix::finalize_epoch(&cranker.pubkey(), 0), &cranker),
        EmissionError::EpochAlreadyFinalized,
    );
    assert_eq!(m.emission_config().total_allocated, FIRST_EPOCH_EMISSION);
    let out = m.claim(&p).unwrap();
    assert_eq!(
        out.events::<RewardsClaimed>()[0].amount,
        FIRST_EPOCH_EMISSION
    );
}

/// Weight the crank never folded is not in the total and earns nothing; the folded
/// provider gets the whole emission, and the late one's record frees its slot.
#[test]
fn weight_never_folded_is_forfeited_and_the_rest_is_paid_in_full() {
    let mut m = Market::with_rewards(HARD_CAP);
    let (p, late) = (m.provider(1), m.provider(1));
    m.record_uptime(&p).unwrap();
    m.record_uptime(&late).unwrap();
    m.go_to_epoch(1);
    let cranker = stranger(&mut m);
    m.send(fold(&cranker, 0, shard_of(&p), &[record_of(&p)]), &cranker)
        .unwrap();
    m.go_to_fold_close(0);
    m.crank();
    let epoch: Epoch = m.chain.fetch(&pda::reward_epoch(0)).unwrap();
    assert_eq!(epoch.total_weight, 1);
    assert_eq!(
        m.claim(&p).unwrap().events::<RewardsClaimed>()[0].amount,
        FIRST_EPOCH_EMISSION
    );
    assert_error(m.claim(&late), EmissionError::NothingToClaim);
    // Its next record settles the epoch as forfeited and frees the slot.
    let out = m.record_uptime(&late).unwrap();
    let recorded = &out.events::<reward_emission::events::UptimeRecorded>()[0];
    assert_eq!((recorded.settled, recorded.forfeited), (0, 1));
    let record = m.provider_rewards(&late.pubkey()).unwrap();
    assert!(record.earlier.is_empty());
    assert_eq!((record.latest.epoch, record.latest.weight), (1, 1));
    assert_eq!(m.reward_supply(), FIRST_EPOCH_EMISSION);
}

#[test]
fn a_fold_names_only_records_of_its_shard_writable_and_a_bounded_batch() {
    let mut m = Market::with_rewards(HARD_CAP);
    let p = m.provider(1);
    // A provider in another shard.
    let other = loop {
        let q = m.provider(1);
        if shard_of(&q) != shard_of(&p) {
            break q;
        }
    };
    m.record_uptime(&p).unwrap();
    m.record_uptime(&other).unwrap();
    m.go_to_epoch(1);
    let cranker = stranger(&mut m);
    let shard = shard_of(&p);
    assert_error(
        m.send(
            fold(&cranker, 0, shard, &[record_of(&p), record_of(&other)]),
            &cranker,
        ),
        EmissionError::WrongShard,
    );
    assert_error(
        m.send(fold(&cranker, 0, SHARDS, &[record_of(&p)]), &cranker),
        EmissionError::WrongShard,
    );
    assert_error(
        m.send(fold(&cranker, 0, shard, &[]), &cranker),
        EmissionError::FoldBatchSize,
    );
    let too_many = vec![record_of(&p); MAX_FOLD_BATCH + 1];
    assert_error(
        m.send(fold(&cranker, 0, shard, &too_many), &cranker),
        EmissionError::FoldBatchSize,
    );
    let mut read_only = fold(&cranker, 0, shard, &[record_of(&p)]);
    read_only.accounts.last_mut().unwrap().is_writable = false;
    assert_error(
        m.send(read_only, &cranker),
        EmissionError::RecordNotWritable,
    );
    // Something that is not a reward record: the provider account itself.
    let mut stray = fold(&cranker, 0, shard, &[record_of(&p)]);
    stray.accounts.last_mut().unwrap().pubkey = pda::provider(&p.pubkey());
    assert_error(
        m.send(stray, &cranker),
        AnchorError::AccountOwnedByWrongProgram,
    );
    // Another shard's address in the shard's place.
    let wrong = swap_account(
        fold(&cranker, 0, shard, &[record_of(&p)]),
        &pda::uptime_shard(shard),
        &pda::uptime_shard(shard_of(&other)),
    );
    assert_error(m.send(wrong, &cranker), AnchorError::ConstraintSeeds);
    // Nothing was folded by any of these.
    assert!(!m.provider_rewards(&p.pubkey()).unwrap().latest.folded);
    assert!(!m.chain.exists(&pda::uptime_shard(shard)).unwrap());
}

#[test]
fn finalizing_needs_every_shard_in_order() {
    let mut m = Market::with_rewards(HARD_CAP);
    let p = m.provider(1);
    m.record_uptime(&p).unwrap();
    m.go_to_epoch(1);
    m.crank();
    m.go_to_fold_close(0);
    let cranker = stranger(&mut m);
    let finalize = ix::finalize_epoch(&cranker.pubkey(), 0);
    // One shard short: the one holding the weight could be the one left out.
    let mut short = finalize.clone();
    short.accounts.pop();
    assert_error(m.send(short, &cranker), EmissionError::WrongShard);
    // Two shards swapped.
    let mut swapped = finalize.clone();
    let n = swapped.accounts.len();
    swapped.accounts.swap(n - 1, n - 2);
    assert_error(m.send(swapped, &cranker), AnchorError::ConstraintSeeds);
    // The shard holding the weight passed read-only.
    let mut read_only = finalize.clone();
    let holding = pda::uptime_shard(shard_of(&p));
    for meta in read_only
        .accounts
        .iter_mut()
        .filter(|a| a.pubkey == holding)
    {
        meta.is_writable = false;
    }
    assert_error(
        m.send(read_only, &cranker),
        EmissionError::RecordNotWritable,
    );
    assert!(!m.chain.exists(&pda::reward_epoch(0)).unwrap());
    m.send(finalize, &cranker).unwrap();
    let epoch: Epoch = m.chain.fetch(&pda::reward_epoch(0)).unwrap();
    assert_eq!(epoch.total_weight, 1);
}

/// An epoch nobody folded weight into is finalized with no emission, so the records that
/// hold its weight can settle (forfeit) it and move on, and the cap keeps what it would
/// have allocated.
#[test]
fn an_epoch_with_nothing_folded_allocates_nothing() {
    let mut m = Market::with_rewards(HARD_CAP);
    let p = m.provider(1);
    m.record_uptime(&p).unwrap();
    m.go_to_fold_close(0);
    let cranker = stranger(&mut m);
    let out = m
        .send(ix::finalize_epoch(&cranker.pubkey(), 0), &cranker)
        .unwrap();
    let finalized = &out.events::<EpochFinalized>()[0];
    assert_eq!((finalized.emission, finalized.total_weight), (0, 0));
    assert_eq!(m.emission_config().total_allocated, 0);
    // The record in epoch 1 settles epoch 0: forfeited.
    let out = m.record_uptime(&p).unwrap();
    let recorded = &out.events::<reward_emission::events::UptimeRecorded>()[0];
    assert_eq!((recorded.settled, recorded.forfeited), (0, 1));
}

/// A shard carries one epoch at a time: weight of the next epoch waits until the one it
/// holds is finalized, and is then counted in its own epoch only.
#[test]
fn a_shard_takes_the_next_epoch_only_after_finalization() {
    let mut m = Market::with_rewards(HARD_CAP);
    let p = m.provider(1);
    m.record_uptime(&p).unwrap();
    m.go_to_epoch(1);
    m.crank();
    // Nobody finalizes epoch 0; p records in epoch 1.
    m.go_to_fold_close(0);
    m.send(
        ix::record_uptime(&p.pubkey(), &p.pubkey(), 1, &[]),
        &p.keypair,
    )
    .unwrap();
    m.go_to_epoch(2);
    let cranker = stranger(&mut m);
    let fold_1 = fold(&cranker, 1, shard_of(&p), &[record_of(&p)]);
    assert_error(
        m.send(fold_1.clone(), &cranker),
        EmissionError::EpochNotFinalized,
    );
    m.send(ix::finalize_epoch(&cranker.pubkey(), 0), &cranker)
        .unwrap();
    m.send(fold_1, &cranker).unwrap();
    m.go_to_fold_close(1);
    m.crank();
    let (zero, one): (Epoch, Epoch) = (
        m.chain.fetch(&pda::reward_epoch(0)).unwrap(),
        m.chain.fetch(&pda::reward_epoch(1)).unwrap(),
    );
    assert_eq!((zero.total_weight, one.total_weight), (1, 1));
    let expected = FIRST_EPOCH_EMISSION + scheduled_emission(1);
    assert_eq!(
        m.claim(&p).unwrap().events::<RewardsClaimed>()[0].amount,
        expected
    );
}

/// The heaviest fold: a full batch of records of one shard in one transaction, each
/// counted once; the crank batches the same way.
#[test]
fn a_full_batch_folds_in_one_transaction() {
    let mut m = Market::with_rewards(HARD_CAP);
    let providers: Vec<Wallet> = (0..MAX_FOLD_BATCH)
        .map(|_| m.provider_in_shard(3))
        .collect();
    for p in &providers {
        m.record_uptime(p).unwrap();
    }
    m.go_to_epoch(1);
    let cranker = stranger(&mut m);
    let records: Vec<Pubkey> = providers.iter().map(record_of).collect();
    let out = m.send(fold(&cranker, 0, 3, &records), &cranker).unwrap();
    let folded = &out.events::<UptimeFolded>()[0];
    assert_eq!(
        (folded.records, folded.weight),
        (MAX_FOLD_BATCH as u64, MAX_FOLD_BATCH as u64)
    );
    // The crank finds nothing left to fold, then finalizes.
    assert!(m.crank().folded.is_empty());
    m.go_to_fold_close(0);
    assert_eq!(m.crank().finalized, vec![0]);
    let share = FIRST_EPOCH_EMISSION / MAX_FOLD_BATCH as u64;
    for p in &providers {
        assert_eq!(
            m.claim(p).unwrap().events::<RewardsClaimed>()[0].amount,
            share
        );
    }
}

/// The rest of the refusals: a record named twice in one batch folds once; the shard passed
/// read-only; an account of the program that is not a record; a finalization naming a
/// shard too many; an epoch whose end is past any clock; a claim settling an epoch the
/// record does not hold.
#[test]
fn duplicates_wrong_accounts_and_impossible_epochs() {
    let mut m = Market::with_rewards(HARD_CAP);
    let p = m.provider(1);
    m.record_uptime(&p).unwrap();
    m.go_to_epoch(1);
    let cranker = stranger(&mut m);
    let shard = shard_of(&p);

    let mut read_only_shard = fold(&cranker, 0, shard, &[record_of(&p)]);
    read_only_shard.accounts[2].is_writable = false;
    assert_error(
        m.send(read_only_shard, &cranker),
        AnchorError::ConstraintMut,
    );

    let out = m
        .send(
            fold(&cranker, 0, shard, &[record_of(&p), record_of(&p)]),
            &cranker,
        )
        .unwrap();
    let folded = &out.events::<UptimeFolded>()[0];
    assert_eq!((folded.records, folded.weight), (1, 1));

    // The shard itself in a record's place: the program's, but no reward record.
    m.chain.advance(1).unwrap();
    assert_error(
        m.send(
            fold(&cranker, 0, shard, &[pda::uptime_shard(shard)]),
            &cranker,
        ),
        AnchorError::AccountDiscriminatorMismatch,
    );

    m.go_to_fold_close(0);
    let mut extra = ix::finalize_epoch(&cranker.pubkey(), 0);
    extra
        .accounts
        .push(anchor_lang::solana_program::instruction::AccountMeta::new(
            Pubkey::new_unique(),
            false,
        ));
    assert_error(m.send(extra, &cranker), EmissionError::WrongShard);
    assert_error(
        m.send(ix::finalize_epoch(&cranker.pubkey(), u64::MAX), &cranker),
        EmissionError::MathOverflow,
    );
    m.send(ix::finalize_epoch(&cranker.pubkey(), 0), &cranker)
        .unwrap();

    // A claim naming a finalized epoch the record holds no weight in.
    let q = m.provider(1);
    m.record_uptime(&q).unwrap();
    m.go_to_epoch(2);
    m.crank();
    m.go_to_fold_close(1);
    m.crank();
    let mint = m.emission_config().reward_mint;
    let destination = m.reward_account(&p.pubkey());
    let wrong = ix::claim_rewards(
        &p.pubkey(),
        &p.pubkey(),
        &mint,
        &destination,
        &gpu_market_client::token::TOKEN_PROGRAM,
        &[1],
    );
    assert_error(m.send(wrong, &p.keypair), EmissionError::WrongEpoch);
    assert_eq!(
        m.claim(&p).unwrap().events::<RewardsClaimed>()[0].amount,
        FIRST_EPOCH_EMISSION
    );
}
