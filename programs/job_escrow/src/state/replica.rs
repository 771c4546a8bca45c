//! Replicated execution: one batch job run by several distinct providers, each replica an
//! ordinary job with its own vault, linked to a group that collects their commitments and
//! reveals and decides the majority result.

use crate::{
    constants::MAX_REPLICAS,
    error::EscrowError,
    state::{Job, JobKind, JobMode, JobTerms},
};
use anchor_lang::prelude::*;

/// One replica's place in its group.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicaSlot {
    /// The replica's job account.
    pub job: Pubkey,
    /// The authority of the provider that last took the replica; `Pubkey::default()` until
    /// one does. No authority holds two slots of a group.
    pub authority: Pubkey,
    /// `replica_commitment(result_hash, provider, salt)`, posted with `commit_result`.
    pub commitment: Option<[u8; 32]>,
    /// The result hash that opened the commitment (`reveal_result`).
    pub revealed: Option<[u8; 32]>,
}

/// N replicas of one batch job (`["replicas", client, group_id]`). Providers take the
/// replicas while the group is complete and a whole run still fits before the commit
/// deadline; each commits to its result, and reveals once every replica has committed or
/// the commit deadline has passed, until the reveal deadline. The result more than half of
/// the N replicas revealed is the group's; without one, nobody is paid.
#[account]
#[derive(InitSpace, Debug)]
pub struct ReplicaGroup {
    pub client: Pubkey,
    pub group_id: u64,
    /// N: how many replicas the group runs.
    pub replicas: u8,
    /// Commitments are accepted until this moment.
    pub commit_deadline: i64,
    /// Reveals are accepted until this moment: the commit deadline plus the market's
    /// challenge window when the group was created.
    pub reveal_deadline: i64,
    /// [`replica_spec`] of the first replica: every other one must have the same.
    pub spec: [u8; 32],
    pub bump: u8,
    /// The market terms every replica runs under, copied from the config when the group
    /// was created: a config change between two replicas' creations reaches none of them.
    pub terms: JobTerms,
    /// One per replica created so far, in creation order.
    #[max_len(MAX_REPLICAS)]
    pub slots: Vec<ReplicaSlot>,
}

/// What a provider commits to for a replica: `sha256(result_hash || provider || salt)`.
/// The provider account is part of it, so a commitment copied from another replica opens
/// for nobody else.
pub fn replica_commitment(result_hash: &[u8; 32], provider: &Pubkey, salt: &[u8; 32]) -> [u8; 32] {
    solana_sha256_hasher::hashv(&[result_hash, provider.as_ref(), salt]).to_bytes()
}

/// The terms every replica of a group must share: what runs, where, for how long, at which
/// price, in which mint, and under which market terms.
pub fn replica_spec(job: &Job) -> Result<[u8; 32]> {
    let serialized = |value: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        value(&mut bytes).map_err(|_| error!(EscrowError::ReplicaTermsDiffer))?;
        Ok(bytes)
    };
    let requirements = serialized(&|w| job.requirements.serialize(w))?;
    let workload = serialized(&|w| job.workload.serialize(w))?;
    let terms = serialized(&|w| job.terms.serialize(w))?;
    Ok(solana_sha256_hasher::hashv(&[
        &requirements,
        &workload,
        &terms,
        job.payment_mint.as_ref(),
        &job.max_price_per_gpu_hour.to_le_bytes(),
        &job.max_duration.to_le_bytes(),
    ])
    .to_bytes())
}

impl ReplicaGroup {
    pub const SEED: &'static [u8] = b"replicas";
    pub const SPACE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;

    pub fn is_complete(&self) -> bool {
        self.slots.len() == usize::from(self.replicas)
    }

    /// The last moment a provider may take `job`: one whole run (the start timeout and the
    /// max duration) still ends by the commit deadline.
    pub fn last_claim_at(&self, job: &Job) -> Result<i64> {
        self.commit_deadline
            .checked_sub(job.terms.start_timeout)
            .and_then(|t| t.checked_sub(job.max_duration))
            .ok_or(error!(EscrowError::MathOverflow))
    }

    /// Adds the newly created `job` (key `key`) as the next replica, at `now`: a provider
    /// must still be able to take it then.
    pub fn register(&mut self, key: Pubkey, job: &Job, now: i64) -> Result<()> {
        require!(!self.is_complete(), EscrowError::ReplicaGroupFull);
        require!(
            !self.slots.iter().any(|s| s.job == key),
            EscrowError::WrongReplicaGroup
        );
        require!(
            job.kind == JobKind::Batch && job.mode == JobMode::Instant,
            EscrowError::ReplicaNotInstantBatch
        );
        require!(
            now < self.last_claim_at(job)?,
            EscrowError::ReplicaDeadlineOutOfRange
        );
        let spec = replica_spec(job)?;
        if self.slots.is_empty() {
            self.spec = spec;
        } else {
            require!(spec == self.spec, EscrowError::ReplicaTermsDiffer);
        }
        self.slots.push(ReplicaSlot {
            job: key,
            authority: Pubkey::default(),
            commitment: None,
            revealed: None,
        });
        Ok(())
    }

    pub fn slot_mut(&mut self, job: &Pubkey) -> Result<&mut ReplicaSlot> {
        self.slots
            .iter_mut()
            .find(|s| s.job == *job)
            .ok_or(error!(EscrowError::WrongReplicaGroup))
    }

    pub fn slot(&self, job: &Pubkey) -> Result<&ReplicaSlot> {
        self.slots
            .iter()
            .find(|s| s.job == *job)
            .ok_or(error!(EscrowError::WrongReplicaGroup))
    }

    /// A provider of `authority` takes replica `job` (key `key`) at `now`: the group is
    /// complete, a whole run still fits before the commit deadline (the replica becomes
    /// reclaimable at `last_claim_at`), the authority is not the client's, and it holds no
    /// other replica of the group. An authority stays recorded on its slot after its
    /// attempt ended (a decline, an expiry) until another takes the slot: one that held a
    /// replica of a group never takes a second.
    pub fn claim(&mut self, key: &Pubkey, job: &Job, authority: Pubkey, now: i64) -> Result<()> {
        require!(self.is_complete(), EscrowError::ReplicaGroupIncomplete);
        require!(
            now < self.last_claim_at(job)?,
            EscrowError::ReplicaClaimClosed
        );
        require_keys_neq!(authority, self.client, EscrowError::ClientCannotRunReplica);
        require!(
            !self
                .slots
                .iter()
                .any(|s| s.job != *key && s.authority == authority),
            EscrowError::ReplicaAuthorityTaken
        );
        self.slot_mut(key)?.authority = authority;
        Ok(())
    }

    /// Removes the slot of `job`, cancelled before the group was complete.
    pub fn remove(&mut self, job: &Pubkey) -> Result<()> {
        require!(!self.is_complete(), EscrowError::ReplicaJob);
        self.slot(job)?;
        self.slots.retain(|s| s.job != *job);
        Ok(())
    }

    /// Whether every replica has committed.
    pub fn all_committed(&self) -> bool {
        self.is_complete() && self.slots.iter().all(|s| s.commitment.is_some())
    }

    /// Whether reveals are accepted at `now`: every replica committed or the commit
    /// deadline passed, and the reveal deadline not yet.
    pub fn check_reveal_open(&self, now: i64) -> Result<()> {
        require!(now <= self.reveal_deadline, EscrowError::RevealWindowClosed);
        require!(
            self.all_committed() || now > self.commit_deadline,
            EscrowError::RevealNotOpen
        );
        Ok(())
    }

    /// Whether the reveals are final at `now`: every replica revealed, or the reveal
    /// deadline passed.
    pub fn is_decided(&self, now: i64) -> bool {
        (self.is_complete() && self.slots.iter().all(|s| s.revealed.is_some()))
            || now > self.reveal_deadline
    }

    /// The result more than half of the N replicas revealed, if any. A replica that never
    /// revealed (or never ran) counts against every result.
    pub fn majority(&self) -> Option<[u8; 32]> {
        let revealed = || self.slots.iter().filter_map(|s| s.revealed);
        revealed().find(|hash| {
            let votes = revealed().filter(|other| other == hash).count();
            votes.saturating_mul(2) > usize::from(self.replicas)
        })
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    fn group(replicas: u8, revealed: &[Option<u8>]) -> ReplicaGroup {
        ReplicaGroup {
            client: Pubkey::default(),
            group_id: 1,
            replicas,
            commit_deadline: 100,
            reveal_deadline: 200,
            spec: [0; 32],
            bump: 0,
            terms: crate::state::JobTerms {
                protocol_fee_bps: 0,
                arbiter: Pubkey::default(),
                bid_window: 0,
                start_timeout: 0,
                heartbeat_grace: 0,
                challenge_window: 0,
                max_attempts: 1,
                slash: crate::state::SlashAmounts {
                    no_start: 0,
                    heartbeat_lost: 0,
                    no_result: 0,
                    dispute_lost: 0,
                    wrong_result: 0,
                },
                crank_tip: 0,
                dispute_bond: 0,
                max_job_duration: 0,
                matcher: Pubkey::default(),
                match_window: 0,
            },
            slots: revealed
                .iter()
                .enumerate()
                .map(|(i, r)| ReplicaSlot {
                    job: Pubkey::new_from_array([i as u8 + 1; 32]),
                    authority: Pubkey::new_from_array([i as u8 + 100; 32]),
                    commitment: Some([0; 32]),
                    revealed: r.map(|b| [b; 32]),
                })
                .collect(),
        }
    }

    #[test]
    fn a_majority_is_more_than_half_of_all_replicas() {
        assert_eq!(
            group(3, &[Some(1), Some(1), Some(2)]).majority(),
            Some([1; 32])
        );
        assert_eq!(
            group(3, &[Some(1), None, Some(1)]).majority(),
            Some([1; 32])
        );
        // A missing reveal counts as dissent: one of three is no majority.
        assert_eq!(group(3, &[Some(1), None, None]).majority(), None);
        // Two of four is not more than half.
        assert_eq!(
            group(4, &[Some(1), Some(1), Some(2), Some(2)]).majority(),
            None
        );
        assert_eq!(
            group(4, &[Some(1), Some(1), Some(1), Some(2)]).majority(),
            Some([1; 32])
        );
        assert_eq!(group(2, &[Some(1), Some(2)]).majority(), None);
        assert_eq!(group(2, &[Some(1), Some(1)]).majority(), Some([1; 32]));
        // Replicas never created count against every result too.
        assert_eq!(group(5, &[Some(1), Some(1)]).majority(), None);
        assert_eq!(
            group(5, &[Some(1), Some(1), Some(1)]).majority(),
            Some([1; 32])
        );
    }

    #[test]
    fn reveals_open_after_every_commit_or_the_deadline() {
        let mut g = group(2, &[None, None]);
        g.slots[1].commitment = None;
        assert_eq!(
            g.check_reveal_open(100).unwrap_err(),
            error!(EscrowError::RevealNotOpen)
        );
        assert!(g.check_reveal_open(101).is_ok());
        assert!(g.check_reveal_open(200).is_ok());
        assert_eq!(
            g.check_reveal_open(201).unwrap_err(),
            error!(EscrowError::RevealWindowClosed)
        );
        g.slots[1].commitment = Some([0; 32]);
        assert!(g.check_reveal_open(0).is_ok());
        assert!(!g.is_decided(200));
        assert!(g.is_decided(201));
        g.slots[0].revealed = Some([1; 32]);
        g.slots[1].revealed = Some([1; 32]);
        assert!(g.is_decided(0));
    }

    #[test]
    fn a_group_account_has_room_for_five_replicas() {
        assert_eq!(ReplicaGroup::SPACE, 923);
        let mut g = group(5, &[Some(1); 5]);
        g.terms.max_attempts = 10;
        let mut data = Vec::new();
        g.try_serialize(&mut data).unwrap();
        assert_eq!(data.len(), ReplicaGroup::SPACE);
    }

    #[test]
    fn a_commitment_binds_the_provider() {
        let (a, b) = (Pubkey::new_unique(), Pubkey::new_unique());
        let (hash, salt) = ([1; 32], [2; 32]);
        assert_ne!(
            replica_commitment(&hash, &a, &salt),
            replica_commitment(&hash, &b, &salt)
        );
        assert_ne!(
            replica_commitment(&hash, &a, &salt),
            replica_commitment(&[3; 32], &a, &salt)
        );
    }
}
