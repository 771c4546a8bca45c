//! Instruction builders for the reward emission program.

use crate::{chain::Chain, pda, ClientError, Memcmp};
use anchor_lang::{
    solana_program::{
        instruction::{AccountMeta, Instruction},
        pubkey::Pubkey,
        system_program,
    },
    InstructionData, ToAccountMetas,
};
use reward_emission::{
    accounts, constants::MAX_FOLD_BATCH, instruction, FinalizeEpochArgs, FoldUptimeArgs,
    InitConfigArgs, RecordUptimeArgs, UpdateConfigArgs,
};
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::collections::{BTreeMap, BTreeSet};

pub use reward_emission::constants::SHARDS;
pub use reward_emission::state::{
    shard_of, EmissionConfig, Epoch, EpochWeight, ProviderRewards, UptimeShard,
};

/// Where a reward record's `earlier.epoch` and `latest.epoch` lie in its data.
pub const EARLIER_EPOCH_OFFSET: usize = 8 + 32;
pub const LATEST_EPOCH_OFFSET: usize = EARLIER_EPOCH_OFFSET + 17;

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: crate::program_ids::reward_emission(),
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

/// Creates the emission schedule for `reward_mint`, whose mint authority must already be
/// [`pda::reward_mint_authority`] and whose supply must be zero.
pub fn init_config(
    admin: &Pubkey,
    reward_mint: &Pubkey,
    token_program: &Pubkey,
    args: InitConfigArgs,
) -> Instruction {
    build(
        accounts::InitConfig {
            admin: *admin,
            config: pda::emission_config(),
            mint_authority: pda::reward_mint_authority(),
            reward_mint: *reward_mint,
            token_program: *token_program,
            system_program: system_program::ID,
            event_authority: pda::event_authority(&crate::program_ids::reward_emission()),
            program: crate::program_ids::reward_emission(),
        },
        instruction::InitConfig { args },
    )
}

/// Hands over the admin role or lowers the cap.
pub fn update_config(admin: &Pubkey, args: UpdateConfigArgs) -> Instruction {
    build(
        accounts::UpdateConfig {
            admin: *admin,
            config: pda::emission_config(),
            event_authority: pda::event_authority(&crate::program_ids::reward_emission()),
            program: crate::program_ids::reward_emission(),
        },
        instruction::UpdateConfig { args },
    )
}

/// Records uptime in `epoch` (the current one) for the node of `provider_authority`, signed
/// by its operator. `settle` names at most two finalized epochs its record holds weight in
/// ([`settleable`] reads them).
pub fn record_uptime(
    operator: &Pubkey,
    provider_authority: &Pubkey,
    epoch: u64,
    settle: &[u64],
) -> Instruction {
    let provider = pda::provider(provider_authority);
    build(
        accounts::RecordUptime {
            operator: *operator,
            config: pda::emission_config(),
            registry_config: pda::registry_config(),
            provider,
            stake_account: pda::stake_account(provider_authority),
            rewards: pda::provider_rewards(&provider),
            earlier_epoch: settle.first().copied().map(pda::reward_epoch),
            latest_epoch: settle.get(1).copied().map(pda::reward_epoch),
            system_program: system_program::ID,
            event_authority: pda::event_authority(&crate::program_ids::reward_emission()),
            program: crate::program_ids::reward_emission(),
        },
        instruction::RecordUptime {
            args: RecordUptimeArgs { epoch },
        },
    )
}

/// Mints the unclaimed rewards of `provider_authority`'s node to `destination` (a token
/// account of the reward mint owned by that authority); `signer` is its authority or
/// operator. `settle` as for [`record_uptime`].
pub fn claim_rewards(
    signer: &Pubkey,
    provider_authority: &Pubkey,
    reward_mint: &Pubkey,
    destination: &Pubkey,
    token_program: &Pubkey,
    settle: &[u64],
) -> Instruction {
    let provider = pda::provider(provider_authority);
    build(
        accounts::ClaimRewards {
            signer: *signer,
            config: pda::emission_config(),
            provider,
            rewards: pda::provider_rewards(&provider),
            earlier_epoch: settle.first().copied().map(pda::reward_epoch),
            latest_epoch: settle.get(1).copied().map(pda::reward_epoch),
            reward_mint: *reward_mint,
            mint_authority: pda::reward_mint_authority(),
            destination: *destination,
            token_program: *token_program,
            event_authority: pda::event_authority(&crate::program_ids::reward_emission()),
            program: crate::program_ids::reward_emission(),
        },
        instruction::ClaimRewards {},
    )
}

/// Folds the weight that the reward records `records` (all of providers in shard `shard`)
/// hold in the finished epoch `epoch` into that shard; `payer` pays for the shard's first
/// use.
pub fn fold_uptime(payer: &Pubkey, epoch: u64, shard: u8, records: &[Pubkey]) -> Instruction {
    let mut ix = build(
        accounts::FoldUptime {
            payer: *payer,
            config: pda::emission_config(),
            shard: pda::uptime_shard(shard),
            system_program: system_program::ID,
            event_authority: pda::event_authority(&crate::program_ids::reward_emission()),
            program: crate::program_ids::reward_emission(),
        },
        instruction::FoldUptime {
            args: FoldUptimeArgs { epoch, shard },
        },
    );
    ix.accounts
        .extend(records.iter().map(|r| AccountMeta::new(*r, false)));
    ix
}

/// Finalizes the finished epoch `epoch` once its fold window has closed, from every shard.
pub fn finalize_epoch(payer: &Pubkey, epoch: u64) -> Instruction {
    let mut ix = build(
        accounts::FinalizeEpoch {
            payer: *payer,
            config: pda::emission_config(),
            epoch: pda::reward_epoch(epoch),
            system_program: system_program::ID,
            event_authority: pda::event_authority(&crate::program_ids::reward_emission()),
            program: crate::program_ids::reward_emission(),
        },
        instruction::FinalizeEpoch {
            args: FinalizeEpochArgs { epoch },
        },
    );
    ix.accounts
        .extend((0..SHARDS).map(|i| AccountMeta::new(pda::uptime_shard(i), false)));
    ix
}

/// The reward record of the node of `provider_authority`, if it has recorded uptime. An
/// address that only holds lamports someone sent it counts as no record.
pub fn record(
    chain: &mut impl Chain,
    provider_authority: &Pubkey,
) -> Result<Option<ProviderRewards>, ClientError> {
    let address = pda::provider_rewards(&pda::provider(provider_authority));
    match chain.account(&address)? {
        Some(account) if account.owner == crate::program_ids::reward_emission() => {
            crate::market::decode(&address, &account).map(Some)
        }
        _ => Ok(None),
    }
}

/// Whether epoch `epoch` is finalized: its account exists, made by this program (anyone
/// may send lamports to its address before).
pub fn is_finalized(chain: &mut impl Chain, epoch: u64) -> Result<bool, ClientError> {
    Ok(chain
        .account(&pda::reward_epoch(epoch))?
        .is_some_and(|a| a.owner == crate::program_ids::reward_emission() && !a.data.is_empty()))
}

/// The finished epochs `record` holds weight in that are finalized, so that a record or a
/// claim can settle them: at most two, oldest first.
pub fn settleable(
    chain: &mut impl Chain,
    record: &ProviderRewards,
    now_epoch: u64,
) -> Result<Vec<u64>, ClientError> {
    let mut epochs = Vec::new();
    for epoch in record.unsettled(now_epoch) {
        if is_finalized(chain, epoch)? {
            epochs.push(epoch);
        }
    }
    Ok(epochs)
}

/// What one pass of the reward crank did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CrankReport {
    /// Epochs finalized.
    pub finalized: Vec<u64>,
    /// Per fold transaction sent: the epoch, the shard and the records named.
    pub folded: Vec<(u64, u8, usize)>,
    /// Transactions refused, with why.
    pub refused: Vec<String>,
}

impl CrankReport {
    pub fn is_empty(&self) -> bool {
        self.finalized.is_empty() && self.folded.is_empty() && self.refused.is_empty()
    }

    /// Transactions sent, landed or refused.
    pub fn sent(&self) -> usize {
        self.finalized
            .len()
            .saturating_add(self.folded.len())
            .saturating_add(self.refused.len())
    }
}

/// The reward crank, permissionless, signed and paid by `payer`: finalizes every epoch whose
/// fold window has closed and that holds folded weight in a shard, then folds the weight
/// every reward record holds in the epoch just ended while its fold window is open, sending
/// at most `max_transactions` (a later pass goes on where this one stopped). Cheap when
/// nothing is due (the emission config and the shards are read); a fold pass reads the
/// records of the ended epoch by a filtered scan.
pub fn crank(
    chain: &mut impl Chain,
    payer: &Keypair,
    max_transactions: usize,
) -> Result<CrankReport, ClientError> {
    let mut report = CrankReport::default();
    if !chain.exists(&pda::emission_config())? {
        return Ok(report);
    }
    let config: EmissionConfig = chain.fetch(&pda::emission_config())?;
    let now = chain.now()?;
    let Ok(now_epoch) = config.epoch_at(now) else {
        return Ok(report);
    };
    let closes = |epoch: u64| config.fold_closes(epoch).unwrap_or(i64::MAX);

    // Finalize: the shards name the epochs waiting for their totals.
    let addresses: Vec<Pubkey> = (0..SHARDS).map(pda::uptime_shard).collect();
    let mut waiting: Vec<u64> = Vec::new();
    for (address, account) in addresses.iter().zip(chain.accounts(&addresses)?) {
        // Anyone may send lamports to a shard's address before it is first used.
        let Some(account) = account.filter(|a| a.owner == crate::program_ids::reward_emission())
        else {
            continue;
        };
        let shard: UptimeShard = crate::market::decode(address, &account)?;
        if !shard.tallied && shard.weight > 0 && now >= closes(shard.epoch) {
            waiting.push(shard.epoch);
        }
    }
    waiting.sort_unstable();
    waiting.dedup();
    for epoch in waiting {
        if report.sent() >= max_transactions {
            return Ok(report);
        }
        if is_finalized(chain, epoch)? {
            continue;
        }
        match chain.send(&[finalize_epoch(&payer.pubkey(), epoch)], &[payer]) {
            Ok(_) => report.finalized.push(epoch),
            Err(err) => report
                .refused
                .push(format!("finalize epoch {epoch}: {err}")),
        }
    }

    // Fold the epoch just ended while its window is open.
    let Some(ended) = now_epoch.checked_sub(1) else {
        return Ok(report);
    };
    if now >= closes(ended) {
        return Ok(report);
    }
    // A record matches both scans when its empty slot reads as the ended epoch (epoch 0).
    let mut by_shard: BTreeMap<u8, BTreeSet<Pubkey>> = BTreeMap::new();
    for offset in [EARLIER_EPOCH_OFFSET, LATEST_EPOCH_OFFSET] {
        let filter = [Memcmp::new(offset, ended.to_le_bytes())];
        let records: Vec<(Pubkey, ProviderRewards)> =
            chain.fetch_where(&crate::program_ids::reward_emission(), &filter)?;
        for (address, mut record) in records {
            if record.fold(ended).is_some() {
                by_shard
                    .entry(shard_of(&record.provider))
                    .or_default()
                    .insert(address);
            }
        }
    }
    for (shard, records) in by_shard {
        let records: Vec<Pubkey> = records.into_iter().collect();
        for batch in records.chunks(MAX_FOLD_BATCH) {
            if report.sent() >= max_transactions {
                return Ok(report);
            }
            let ix = fold_uptime(&payer.pubkey(), ended, shard, batch);
            match chain.send(&[ix], &[payer]) {
                Ok(_) => report.folded.push((ended, shard, batch.len())),
                Err(err) => report
                    .refused
                    .push(format!("fold epoch {ended} shard {shard}: {err}")),
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::AccountSerialize;

    /// The largest transaction the crank sends still fits in a packet: a fold of a full
    /// batch, and a finalization naming every shard.
    #[test]
    fn a_full_fold_and_a_finalization_fit_in_one_packet() {
        let payer = Keypair::new();
        let records: Vec<Pubkey> = (0..MAX_FOLD_BATCH).map(|_| Pubkey::new_unique()).collect();
        for ix in [
            fold_uptime(&payer.pubkey(), u64::MAX, 0, &records),
            finalize_epoch(&payer.pubkey(), u64::MAX),
        ] {
            assert!(crate::chain::fits_in_one_transaction(
                &[ix],
                &payer.pubkey()
            ));
        }
    }

    #[test]
    fn the_epoch_offsets_point_at_the_slots_epochs() {
        let record = ProviderRewards {
            provider: Pubkey::new_unique(),
            earlier: EpochWeight {
                epoch: 0x0102_0304_0506_0708,
                weight: 9,
                folded: true,
            },
            latest: EpochWeight {
                epoch: 0x1112_1314_1516_1718,
                weight: 9,
                folded: false,
            },
            unclaimed: 0,
            total_claimed: 0,
            last_recorded_at: 0,
            bump: 0,
        };
        let mut data = Vec::new();
        record.try_serialize(&mut data).unwrap();
        let at = |offset: usize| &data[offset..offset + 8];
        assert_eq!(at(EARLIER_EPOCH_OFFSET), record.earlier.epoch.to_le_bytes());
        assert_eq!(at(LATEST_EPOCH_OFFSET), record.latest.epoch.to_le_bytes());
    }
}
