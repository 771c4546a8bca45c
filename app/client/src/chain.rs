//! The [`Chain`] trait: the one door between gpu-market code and a Solana cluster.

pub mod counting;
pub mod feed;
pub mod rpc;

use crate::{error::ClientError, events};
use anchor_lang::{
    prelude::Clock,
    solana_program::{instruction::Instruction, pubkey::Pubkey},
    AccountDeserialize, AnchorDeserialize, Discriminator,
};
use solana_account::Account;
use solana_keypair::Keypair;
use solana_signature::Signature;
use solana_signer::Signer;

/// A condition on an account's data, as the RPC's `memcmp` filter: the bytes at `offset`
/// equal `bytes`. Build them from the programs' layout offsets (see [`crate::filters`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memcmp {
    pub offset: usize,
    pub bytes: Vec<u8>,
}

impl Memcmp {
    pub fn new(offset: usize, bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            offset,
            bytes: bytes.into(),
        }
    }

    /// Whether `data` holds `bytes` at `offset` (data too short never matches).
    pub fn matches(&self, data: &[u8]) -> bool {
        self.offset
            .checked_add(self.bytes.len())
            .and_then(|end| data.get(self.offset..end))
            == Some(self.bytes.as_slice())
    }
}

/// The most filters one `getProgramAccounts` call may carry (Agave's limit), the account
/// type's discriminator included.
pub const MAX_FILTERS: usize = 4;

/// Refuses more filters than a node takes, alike on every backend.
pub fn check_filters(filters: &[Memcmp]) -> Result<(), ClientError> {
    if filters.len() > MAX_FILTERS {
        return Err(ClientError::Backend(format!(
            "getProgramAccounts takes at most {MAX_FILTERS} filters, {} given",
            filters.len()
        )));
    }
    Ok(())
}

/// A landed transaction.
#[derive(Debug, Clone)]
pub struct TxOutcome {
    /// Its signature.
    pub signature: Signature,
    /// Its program logs.
    pub logs: Vec<String>,
    /// Compute units it consumed, where the backend reports them.
    pub compute_units: Option<u64>,
    /// The events the gpu-market programs emitted, as raw event bytes (see [`events`]).
    pub event_data: Vec<Vec<u8>>,
}

impl TxOutcome {
    /// Every event of type `E` the transaction emitted.
    pub fn events<E: Discriminator + AnchorDeserialize>(&self) -> Vec<E> {
        events::decode(&self.event_data)
    }
}

/// A signature in an address's transaction history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastSignature {
    pub signature: Signature,
    /// When its block was made (unix seconds), where the cluster knows.
    pub block_time: Option<i64>,
    /// Whether the transaction failed (it changed nothing but its fee).
    pub failed: bool,
}

/// The most bytes a transaction may take on the wire (a packet's payload).
pub const MAX_TRANSACTION_BYTES: u64 = 1_232;

/// Whether `instructions`, paid by `payer` and signed by every signer they name, fit in one
/// transaction.
pub fn fits_in_one_transaction(instructions: &[Instruction], payer: &Pubkey) -> bool {
    let tx = solana_transaction::Transaction::new_with_payer(instructions, Some(payer));
    bincode::serialized_size(&tx).is_ok_and(|size| size <= MAX_TRANSACTION_BYTES)
}

/// A transaction of `instructions` paid by `payer`, signed on `blockhash` by the payer and
/// by whichever of `signers` the message needs, once each: extra keypairs are ignored, as
/// every backend must sign alike.
pub fn sign_transaction(
    instructions: &[Instruction],
    payer: &Keypair,
    signers: &[&Keypair],
    blockhash: solana_hash::Hash,
) -> Result<solana_transaction::Transaction, ClientError> {
    let mut tx =
        solana_transaction::Transaction::new_with_payer(instructions, Some(&payer.pubkey()));
    let required =
        &tx.message.account_keys[..usize::from(tx.message.header.num_required_signatures)];
    let mut keypairs: Vec<&Keypair> = vec![payer];
    for signer in signers {
        let key = signer.pubkey();
        if required.contains(&key) && !keypairs.iter().any(|k| k.pubkey() == key) {
            keypairs.push(signer);
        }
    }
    tx.try_sign(&keypairs, blockhash)
        .map_err(|err| ClientError::Signing(err.to_string()))?;
    Ok(tx)
}

/// Sends transactions to, and reads state from, a Solana cluster.
pub trait Chain {
    /// The fee payer of every transaction this chain sends.
    fn payer(&self) -> &Keypair;

    /// Signs `instructions` with the payer and `signers` and executes them atomically.
    fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<TxOutcome, ClientError>;

    /// The account at `address`, or `None` when there is none.
    fn account(&mut self, address: &Pubkey) -> Result<Option<Account>, ClientError>;

    /// The accounts at `addresses`, in order, `None` where there is none: one
    /// `getMultipleAccounts` call per 100 addresses on a real cluster.
    fn accounts(&mut self, addresses: &[Pubkey]) -> Result<Vec<Option<Account>>, ClientError> {
        addresses.iter().map(|a| self.account(a)).collect()
    }

    /// The cluster's clock sysvar.
    fn clock(&mut self) -> Result<Clock, ClientError>;

    /// Every account owned by `program` whose data matches every filter (at most
    /// [`MAX_FILTERS`]), in address order.
    fn program_accounts(
        &mut self,
        program: &Pubkey,
        filters: &[Memcmp],
    ) -> Result<Vec<(Pubkey, Account)>, ClientError>;

    /// Lamports an account of `data_len` bytes needs to be rent-exempt.
    fn minimum_balance(&mut self, data_len: usize) -> Result<u64, ClientError>;

    /// Returns once the cluster's clock reads at least `unix_timestamp`. A test chain moves
    /// its clock forward; a real cluster waits.
    fn wait_until(&mut self, unix_timestamp: i64) -> Result<(), ClientError>;

    /// The transactions that touched `address`, newest first, at most `limit` of them. A
    /// cluster keeps them only as long as its ledger does.
    fn signatures(
        &mut self,
        address: &Pubkey,
        limit: usize,
    ) -> Result<Vec<PastSignature>, ClientError> {
        let _ = (address, limit);
        Err(ClientError::Backend(
            "this chain keeps no transaction history".into(),
        ))
    }

    /// A landed transaction's logs and events; `None` when the cluster no longer has it
    /// (or it failed).
    fn transaction(&mut self, signature: &Signature) -> Result<Option<TxOutcome>, ClientError> {
        let _ = signature;
        Err(ClientError::Backend(
            "this chain keeps no transaction history".into(),
        ))
    }

    /// The cluster's current unix time.
    fn now(&mut self) -> Result<i64, ClientError> {
        Ok(self.clock()?.unix_timestamp)
    }

    /// Moves the clock `seconds` forward (see [`Chain::wait_until`]).
    fn advance(&mut self, seconds: i64) -> Result<(), ClientError> {
        let target = self.now()?.saturating_add(seconds);
        self.wait_until(target)
    }

    /// Decodes the Anchor account of type `T` at `address`.
    fn fetch<T: AccountDeserialize>(&mut self, address: &Pubkey) -> Result<T, ClientError>
    where
        Self: Sized,
    {
        let account = self
            .account(address)?
            .ok_or(ClientError::AccountNotFound(*address))?;
        T::try_deserialize(&mut account.data.as_slice()).map_err(|err| ClientError::Decode {
            address: *address,
            expected: std::any::type_name::<T>(),
            reason: err.to_string(),
        })
    }

    /// Every account of Anchor type `T` owned by `program`, decoded, in address order.
    fn fetch_all<T: AccountDeserialize + Discriminator>(
        &mut self,
        program: &Pubkey,
    ) -> Result<Vec<(Pubkey, T)>, ClientError>
    where
        Self: Sized,
    {
        self.fetch_where(program, &[])
    }

    /// Every account of Anchor type `T` owned by `program` whose data also matches `filters`
    /// (at most [`MAX_FILTERS`] less the type's own), decoded, in address order.
    fn fetch_where<T: AccountDeserialize + Discriminator>(
        &mut self,
        program: &Pubkey,
        filters: &[Memcmp],
    ) -> Result<Vec<(Pubkey, T)>, ClientError>
    where
        Self: Sized,
    {
        let mut all = Vec::with_capacity(filters.len().saturating_add(1));
        all.push(Memcmp::new(0, T::DISCRIMINATOR));
        all.extend_from_slice(filters);
        self.program_accounts(program, &all)?
            .into_iter()
            .map(|(address, account)| {
                T::try_deserialize(&mut account.data.as_slice())
                    .map(|decoded| (address, decoded))
                    .map_err(|err| ClientError::Decode {
                        address,
                        expected: std::any::type_name::<T>(),
                        reason: err.to_string(),
                    })
            })
            .collect()
    }

    /// Whether an account exists at `address`.
    fn exists(&mut self, address: &Pubkey) -> Result<bool, ClientError> {
        Ok(self.account(address)?.is_some())
    }

    /// Lamports held at `address` (zero when there is no account).
    fn lamports(&mut self, address: &Pubkey) -> Result<u64, ClientError> {
        Ok(self.account(address)?.map_or(0, |a| a.lamports))
    }

    /// Sends `lamports` from the payer to `to`.
    fn transfer_lamports(&mut self, to: &Pubkey, lamports: u64) -> Result<TxOutcome, ClientError> {
        let ix =
            solana_system_interface::instruction::transfer(&self.payer().pubkey(), to, lamports);
        self.send(&[ix], &[])
    }
}

/// A chain borrowed: lets a wrapper such as [`counting::Counting`] work on a chain its
/// owner keeps.
impl<C: Chain> Chain for &mut C {
    fn payer(&self) -> &Keypair {
        (**self).payer()
    }

    fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<TxOutcome, ClientError> {
        (**self).send(instructions, signers)
    }

    fn account(&mut self, address: &Pubkey) -> Result<Option<Account>, ClientError> {
        (**self).account(address)
    }

    fn accounts(&mut self, addresses: &[Pubkey]) -> Result<Vec<Option<Account>>, ClientError> {
        (**self).accounts(addresses)
    }

    fn clock(&mut self) -> Result<Clock, ClientError> {
        (**self).clock()
    }

    fn program_accounts(
        &mut self,
        program: &Pubkey,
        filters: &[Memcmp],
    ) -> Result<Vec<(Pubkey, Account)>, ClientError> {
        (**self).program_accounts(program, filters)
    }

    fn minimum_balance(&mut self, data_len: usize) -> Result<u64, ClientError> {
        (**self).minimum_balance(data_len)
    }

    fn wait_until(&mut self, unix_timestamp: i64) -> Result<(), ClientError> {
        (**self).wait_until(unix_timestamp)
    }

    fn signatures(
        &mut self,
        address: &Pubkey,
        limit: usize,
    ) -> Result<Vec<PastSignature>, ClientError> {
        (**self).signatures(address, limit)
    }

    fn transaction(&mut self, signature: &Signature) -> Result<Option<TxOutcome>, ClientError> {
        (**self).transaction(signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::solana_program::instruction::AccountMeta;

    #[test]
    fn signs_with_the_payer_and_the_required_signers_once_each() {
        let payer = Keypair::new();
        let needed = Keypair::new();
        let extra = Keypair::new();
        let ix = Instruction {
            program_id: Pubkey::new_unique(),
            accounts: vec![AccountMeta::new_readonly(needed.pubkey(), true)],
            data: vec![],
        };
        let tx = sign_transaction(
            &[ix],
            &payer,
            &[&extra, &needed, &needed, &payer],
            solana_hash::Hash::new_unique(),
        )
        .unwrap();
        assert_eq!(tx.signatures.len(), 2);
        assert!(tx.verify().is_ok());
        assert_eq!(
            tx.message.account_keys[..2],
            [payer.pubkey(), needed.pubkey()]
        );
    }
}
