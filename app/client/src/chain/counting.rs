//! [`Counting`]: a [`Chain`] that counts what its reads cost, to measure what a component
//! (an agent's tick, a CLI command) asks of an RPC node.

use super::{Chain, Memcmp, TxOutcome};
use crate::error::ClientError;
use anchor_lang::{
    prelude::Clock,
    solana_program::{instruction::Instruction, pubkey::Pubkey},
};
use serde::Serialize;
use solana_account::Account;
use solana_keypair::Keypair;

/// What the reads through a [`Counting`] chain cost so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Reads {
    /// Calls for accounts by address (`getMultipleAccounts`, one address or up to 100).
    pub by_address: u64,
    /// Clock reads.
    pub clock: u64,
    /// `getProgramAccounts` calls.
    pub program_accounts: u64,
    /// Rent queries.
    pub rent: u64,
    /// Accounts that came back, from every kind of read.
    pub accounts_returned: u64,
    /// Bytes of account data that came back.
    pub bytes_returned: u64,
}

impl Reads {
    /// Every read call, of any kind.
    pub fn calls(&self) -> u64 {
        self.by_address + self.clock + self.program_accounts + self.rent
    }

    fn returned<'a>(&mut self, accounts: impl IntoIterator<Item = &'a Account>) {
        for account in accounts {
            self.accounts_returned = self.accounts_returned.saturating_add(1);
            self.bytes_returned = self
                .bytes_returned
                .saturating_add(u64::try_from(account.data.len()).unwrap_or(u64::MAX));
        }
    }
}

/// A chain that counts every read its inner chain serves (sends are not counted).
pub struct Counting<C> {
    pub inner: C,
    pub reads: Reads,
}

impl<C: Chain> Counting<C> {
    pub fn new(inner: C) -> Self {
        Self {
            inner,
            reads: Reads::default(),
        }
    }

    /// The reads so far, counting from zero again.
    pub fn take(&mut self) -> Reads {
        std::mem::take(&mut self.reads)
    }
}

impl<C: Chain> Chain for Counting<C> {
    fn payer(&self) -> &Keypair {
        self.inner.payer()
    }

    fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<TxOutcome, ClientError> {
        self.inner.send(instructions, signers)
    }

    fn account(&mut self, address: &Pubkey) -> Result<Option<Account>, ClientError> {
        self.reads.by_address += 1;
        let account = self.inner.account(address)?;
        self.reads.returned(account.as_ref());
        Ok(account)
    }

    fn accounts(&mut self, addresses: &[Pubkey]) -> Result<Vec<Option<Account>>, ClientError> {
        self.reads.by_address += u64::try_from(addresses.len().div_ceil(100)).unwrap_or(0);
        let accounts = self.inner.accounts(addresses)?;
        self.reads.returned(accounts.iter().flatten());
        Ok(accounts)
    }

    fn clock(&mut self) -> Result<Clock, ClientError> {
        self.reads.clock += 1;
        self.inner.clock()
    }

    fn program_accounts(
        &mut self,
        program: &Pubkey,
        filters: &[Memcmp],
    ) -> Result<Vec<(Pubkey, Account)>, ClientError> {
        self.reads.program_accounts += 1;
        let accounts = self.inner.program_accounts(program, filters)?;
        self.reads.returned(accounts.iter().map(|(_, a)| a));
        Ok(accounts)
    }

    fn minimum_balance(&mut self, data_len: usize) -> Result<u64, ClientError> {
        self.reads.rent += 1;
        self.inner.minimum_balance(data_len)
    }

    fn wait_until(&mut self, unix_timestamp: i64) -> Result<(), ClientError> {
        self.inner.wait_until(unix_timestamp)
    }

    fn signatures(
        &mut self,
        address: &Pubkey,
        limit: usize,
    ) -> Result<Vec<crate::chain::PastSignature>, ClientError> {
        self.inner.signatures(address, limit)
    }

    fn transaction(
        &mut self,
        signature: &solana_signature::Signature,
    ) -> Result<Option<TxOutcome>, ClientError> {
        self.inner.transaction(signature)
    }
}
