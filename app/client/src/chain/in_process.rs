//! [`InProcessChain`]: every gpu-market program inside an in-process Agave bank.
//!
//! The Anchor programs run natively (`processor!`) unless `SBF_OUT_DIR` (or `BPF_OUT_DIR`)
//! points at built `.so` files, in which case the very same suite runs the real SBF
//! binaries (`cargo test-sbf`). SPL Token, Token-2022 and the associated token account
//! program always run as the SBF binaries bundled with solana-program-test.

use crate::{
    chain::{sign_transaction, Chain, TxOutcome},
    error::ClientError,
};
use anchor_lang::{
    prelude::{AccountInfo, Clock},
    solana_program::{entrypoint::ProgramResult, instruction::Instruction, pubkey::Pubkey},
};
use solana_account::Account;
use solana_keypair::Keypair;
pub use solana_program_runtime::invoke_context::BuiltinFunctionWithContext;
use solana_program_test::{processor, BanksClientError, ProgramTest, ProgramTestContext};
use solana_signature::Signature;
use solana_transaction::Transaction;
use std::collections::{BTreeSet, HashMap, HashSet};

pub use solana_program_test;

/// The signature of the `entry` function Anchor generates for every program.
type AnchorEntry =
    for<'info> fn(&'info Pubkey, &'info [AccountInfo<'info>], &'info [u8]) -> ProgramResult;

/// Calls an Anchor `entry` from the runtime's native entrypoint shape.
///
/// Anchor ties the program id, the accounts and the data to one lifetime, while a native
/// processor receives them with independent ones. The runtime keeps every account's data
/// alive for the whole call, so narrowing the accounts' inner lifetime to the slice's is
/// sound: nothing Anchor gets can outlive this call.
#[allow(unsafe_code)]
fn call_anchor_entry<'a, 'b>(
    entry: AnchorEntry,
    program_id: &'a Pubkey,
    accounts: &'a [AccountInfo<'b>],
    data: &'a [u8],
) -> ProgramResult {
    // SAFETY: see above; `'b: 'a` holds because `accounts` borrows values of lifetime `'b`.
    let accounts =
        unsafe { std::mem::transmute::<&'a [AccountInfo<'b>], &'a [AccountInfo<'a>]>(accounts) };
    entry(program_id, accounts, data)
}

fn staking_processor(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> ProgramResult {
    call_anchor_entry(staking::entry, program_id, accounts, data)
}

fn escrow_processor(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> ProgramResult {
    call_anchor_entry(job_escrow::entry, program_id, accounts, data)
}

fn rewards_processor(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> ProgramResult {
    call_anchor_entry(reward_emission::entry, program_id, accounts, data)
}

fn registry_processor(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> ProgramResult {
    call_anchor_entry(provider_registry::entry, program_id, accounts, data)
}

/// Configures an [`InProcessChain`] before it starts.
pub struct InProcessChainBuilder {
    program_test: ProgramTest,
    /// Owners of the genesis accounts added, for [`Chain::program_accounts`].
    genesis_owners: Vec<(Pubkey, Pubkey)>,
}

impl InProcessChainBuilder {
    /// Adds a native program of the caller's (for example a test fixture), always run
    /// natively, also under `cargo test-sbf`.
    pub fn with_native_program(
        mut self,
        name: &'static str,
        program_id: Pubkey,
        processor: BuiltinFunctionWithContext,
    ) -> Self {
        self.program_test
            .add_builtin_program(name, program_id, processor);
        self
    }

    /// Puts `account` at `address` in the genesis state.
    pub fn with_account(mut self, address: Pubkey, account: Account) -> Self {
        self.genesis_owners.push((address, account.owner));
        self.program_test.add_account(address, account);
        self
    }

    /// Starts the bank.
    pub fn start(self) -> Result<InProcessChain, ClientError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|err| ClientError::Backend(format!("tokio runtime: {err}")))?;
        let context = runtime.block_on(self.program_test.start_with_context());
        let clock: Clock = runtime
            .block_on(context.banks_client.get_sysvar())
            .map_err(backend)?;
        let payer = context.payer.insecure_clone();
        // Start at a round, recognisable time well past the epoch.
        let now = clock.unix_timestamp.max(1_700_000_000);
        context.set_sysvar(&Clock {
            unix_timestamp: now,
            ..clock
        });
        let mut chain = InProcessChain {
            runtime,
            context,
            payer,
            now,
            sent: HashSet::new(),
            owners: HashMap::new(),
            by_owner: HashMap::new(),
        };
        for (address, owner) in self.genesis_owners {
            chain.index(address, Some(owner));
        }
        Ok(chain)
    }
}

/// A whole gpu-market cluster in this process: the four programs, SPL Token, Token-2022
/// and the associated token account program, on a real Agave bank whose clock the caller
/// moves.
pub struct InProcessChain {
    runtime: tokio::runtime::Runtime,
    context: ProgramTestContext,
    payer: Keypair,
    now: i64,
    sent: HashSet<Signature>,
    /// The owner of every live account a landed transaction or
    /// [`InProcessChain::set_account`] touched, and the same indexed by owner: the bank
    /// cannot scan by owner, so [`Chain::program_accounts`] reads these.
    owners: HashMap<Pubkey, Pubkey>,
    by_owner: HashMap<Pubkey, BTreeSet<Pubkey>>,
}

fn backend(err: BanksClientError) -> ClientError {
    ClientError::Backend(err.to_string())
}

impl InProcessChain {
    /// A builder with every gpu-market program added.
    pub fn builder() -> InProcessChainBuilder {
        let mut program_test = ProgramTest::default();
        // ProgramTest turns on debug logging of every instruction; keep `cargo test` quiet
        // unless RUST_LOG asks for more.
        agave_logger::setup_with_default("error");
        if std::env::var_os("SBF_OUT_DIR").is_some() || std::env::var_os("BPF_OUT_DIR").is_some() {
            program_test.prefer_bpf(true);
        }
        program_test.add_program("staking", staking::ID, processor!(staking_processor));
        program_test.add_program(
            "provider_registry",
            provider_registry::ID,
            processor!(registry_processor),
        );
        program_test.add_program("job_escrow", job_escrow::ID, processor!(escrow_processor));
        program_test.add_program(
            "reward_emission",
            reward_emission::ID,
            processor!(rewards_processor),
        );
        InProcessChainBuilder {
            program_test,
            genesis_owners: Vec::new(),
        }
    }

    /// Starts a chain with every gpu-market program and nothing else.
    pub fn start() -> Result<Self, ClientError> {
        Self::builder().start()
    }

    /// Moves to the next slot: a fresh blockhash, with the clock kept where it was.
    fn next_slot(&mut self) -> Result<(), ClientError> {
        let clock: Clock = self
            .runtime
            .block_on(self.context.banks_client.get_sysvar())
            .map_err(backend)?;
        self.context
            .warp_to_slot(clock.slot.saturating_add(1))
            .map_err(|err| ClientError::Backend(format!("warp: {err:?}")))?;
        self.set_clock(self.now)
    }

    fn set_clock(&mut self, unix_timestamp: i64) -> Result<(), ClientError> {
        let clock: Clock = self
            .runtime
            .block_on(self.context.banks_client.get_sysvar())
            .map_err(backend)?;
        self.now = unix_timestamp;
        self.context.set_sysvar(&Clock {
            unix_timestamp,
            ..clock
        });
        Ok(())
    }

    fn sign(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Transaction, ClientError> {
        let blockhash = self
            .runtime
            .block_on(self.context.banks_client.get_latest_blockhash())
            .map_err(backend)?;
        sign_transaction(instructions, &self.payer, signers, blockhash)
    }

    /// Records that `address` is now owned by `owner` (`None`: it no longer exists).
    fn index(&mut self, address: Pubkey, owner: Option<Pubkey>) {
        let previous = match owner {
            Some(owner) => self.owners.insert(address, owner),
            None => self.owners.remove(&address),
        };
        if previous == owner {
            return;
        }
        if let Some(previous) = previous {
            if let Some(set) = self.by_owner.get_mut(&previous) {
                set.remove(&address);
            }
        }
        if let Some(owner) = owner {
            self.by_owner.entry(owner).or_default().insert(address);
        }
    }

    /// Overwrites an account, bypassing every runtime check: for building states that
    /// transactions cannot reach (wrong owners, forged data) in security tests.
    pub fn set_account(&mut self, address: &Pubkey, account: Account) {
        let owner = account.owner;
        self.context.set_account(address, &account.into());
        self.index(*address, Some(owner));
    }
}

impl Chain for InProcessChain {
    fn payer(&self) -> &Keypair {
        &self.payer
    }

    fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<TxOutcome, ClientError> {
        let mut tx = self.sign(instructions, signers)?;
        // An identical transaction would carry an identical signature and be dropped as a
        // duplicate: move to a fresh blockhash instead.
        if self.sent.contains(&tx.signatures[0]) {
            self.next_slot()?;
            tx = self.sign(instructions, signers)?;
        }
        let signature = tx.signatures[0];
        self.sent.insert(signature);
        let keys = tx.message.account_keys.clone();
        let result = self
            .runtime
            .block_on(
                self.context
                    .banks_client
                    .process_transaction_with_metadata(tx),
            )
            .map_err(backend)?;
        let logs = result.metadata.map(|m| m.log_messages).unwrap_or_default();
        match result.result {
            Ok(()) => {
                for key in keys {
                    let owner = self.account(&key)?.map(|a| a.owner);
                    self.index(key, owner);
                }
                Ok(TxOutcome { signature, logs })
            }
            Err(error) => Err(ClientError::Transaction { error, logs }),
        }
    }

    fn account(&mut self, address: &Pubkey) -> Result<Option<Account>, ClientError> {
        self.runtime
            .block_on(self.context.banks_client.get_account(*address))
            .map_err(backend)
    }

    fn clock(&mut self) -> Result<Clock, ClientError> {
        self.runtime
            .block_on(self.context.banks_client.get_sysvar())
            .map_err(backend)
    }

    fn program_accounts(
        &mut self,
        program: &Pubkey,
        discriminator: &[u8],
    ) -> Result<Vec<(Pubkey, Account)>, ClientError> {
        let mut found = Vec::new();
        let owned = self.by_owner.get(program).cloned().unwrap_or_default();
        for address in owned {
            if let Some(account) = self.account(&address)? {
                if account.owner == *program && account.data.starts_with(discriminator) {
                    found.push((address, account));
                }
            }
        }
        Ok(found)
    }

    fn minimum_balance(&mut self, data_len: usize) -> Result<u64, ClientError> {
        let rent = self
            .runtime
            .block_on(self.context.banks_client.get_rent())
            .map_err(backend)?;
        Ok(rent.minimum_balance(data_len))
    }

    fn wait_until(&mut self, unix_timestamp: i64) -> Result<(), ClientError> {
        if unix_timestamp > self.now {
            self.next_slot()?;
            self.set_clock(unix_timestamp)?;
        }
        Ok(())
    }
}
