//! [`InProcessChain`]: every gpu-market program on a real runtime inside this process.
//!
//! Two runtimes, chosen when the chain starts:
//! - by default the Anchor programs run natively (`processor!`) inside an Agave 3.1 bank
//!   (solana-program-test), where the debugger and the Rust backtrace work;
//! - when `SBF_OUT_DIR` (or `BPF_OUT_DIR`) names a directory of built `.so` files
//!   (`cargo xtask build-sbf` writes them to `target/deploy`), the very same suite runs the
//!   real SBPF v3 binaries in LiteSVM 0.16, whose Agave 4.2 loader enforces the 32 KB heap
//!   and the compute budget (the 4 KB stack frame is checked when the binaries are built).
//!   The 3.1 bank's loader does not execute
//!   SBPF v3 (it refuses the programs as "not deployed"), which is why the SBF tier runs
//!   in the newer SVM. Every program added with
//!   [`InProcessChainBuilder::with_native_program`] must then be in that directory too.
//!
//! SPL Token, Token-2022 and the associated token account program always run as the SBF
//! binaries bundled with the runtime.

use anchor_lang::{
    prelude::{AccountInfo, Clock},
    solana_program::{entrypoint::ProgramResult, instruction::Instruction, pubkey::Pubkey},
};
use gpu_market_client::{
    chain::{check_filters, sign_transaction, Chain, Memcmp, PastSignature, TxOutcome},
    compute,
    error::ClientError,
    events, PROGRAMS,
};
use solana_account::Account;
use solana_keypair::Keypair;
pub use solana_program_runtime::invoke_context::BuiltinFunctionWithContext;
use solana_program_test::{processor, BanksClientError, ProgramTest, ProgramTestContext};
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

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

/// The native entrypoint of each of [`PROGRAMS`].
fn native_entrypoints() -> [Option<BuiltinFunctionWithContext>; 4] {
    [
        processor!(staking_processor),
        processor!(registry_processor),
        processor!(escrow_processor),
        processor!(rewards_processor),
    ]
}

/// Every gpu-market program as a native builtin a runtime can register: `(name, program
/// id, entrypoint)`, in the order of [`PROGRAMS`]. The programs make their CPIs and read
/// their sysvars through the syscall stubs of solana-program-test: a runtime other than
/// the in-process bank must call [`install_syscall_stubs`] first.
pub fn native_programs(
) -> Result<Vec<(&'static str, Pubkey, BuiltinFunctionWithContext)>, ClientError> {
    PROGRAMS
        .into_iter()
        .zip(native_entrypoints())
        .map(|((name, id), entry)| {
            entry
                .map(|entry| (name, id, entry))
                .ok_or_else(|| ClientError::Backend(format!("no native entrypoint for {name}")))
        })
        .collect()
}

/// Installs, once per process, the syscall stubs through which natively built programs
/// make CPIs and read sysvars (solana-program-test sets them up when its first bank
/// starts; without them a native program's CPI would do nothing). The stubs are
/// process-wide and find the running instruction through a thread-local, so they serve a
/// runtime on any thread.
pub fn install_syscall_stubs() -> Result<(), ClientError> {
    static INSTALLED: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|err| format!("tokio runtime: {err}"))?;
            // Starting a bank is what installs them; the bank itself is dropped. It also
            // turns on debug logging of every instruction: keep that quiet unless RUST_LOG
            // asks for more.
            drop(runtime.block_on(ProgramTest::default().start()));
            agave_logger::setup_with_default("error");
            Ok(())
        })
        .clone()
        .map_err(ClientError::Backend)
}

/// The directory of SBF binaries the environment selects, if any.
pub fn sbf_out_dir() -> Option<PathBuf> {
    std::env::var_os("SBF_OUT_DIR")
        .or_else(|| std::env::var_os("BPF_OUT_DIR"))
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
}

/// Lamports the SVM's fee payer starts with (the bank's payer gets its own genesis funds).
const SVM_PAYER_LAMPORTS: u64 = 500_000_000_000_000;

/// Configures an [`InProcessChain`] before it starts.
pub struct InProcessChainBuilder {
    native_programs: Vec<(&'static str, Pubkey, BuiltinFunctionWithContext)>,
    accounts: Vec<(Pubkey, Account)>,
    sbf_dir: Option<PathBuf>,
}

impl InProcessChainBuilder {
    /// Adds a program of the caller's (for example a test fixture): natively, or as
    /// `<SBF_OUT_DIR>/<name>.so` when the chain runs SBF binaries.
    pub fn with_native_program(
        mut self,
        name: &'static str,
        program_id: Pubkey,
        processor: BuiltinFunctionWithContext,
    ) -> Self {
        self.native_programs.push((name, program_id, processor));
        self
    }

    /// Puts `account` at `address` in the genesis state.
    pub fn with_account(mut self, address: Pubkey, account: Account) -> Self {
        self.accounts.push((address, account));
        self
    }

    /// Runs the SBF binaries in `dir` instead of the native programs (what `SBF_OUT_DIR`
    /// selects), or the native programs when `None`.
    pub fn with_sbf_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.sbf_dir = dir;
        self
    }

    /// Starts the runtime.
    pub fn start(self) -> Result<InProcessChain, ClientError> {
        let (backend, payer) = match &self.sbf_dir {
            Some(dir) => self.start_svm(dir)?,
            None => self.start_bank()?,
        };
        let mut chain = InProcessChain {
            backend,
            payer,
            now: 0,
            sent: HashSet::new(),
            owners: HashMap::new(),
            by_owner: HashMap::new(),
            history: HashMap::new(),
            landed: HashMap::new(),
        };
        // Start at a round, recognisable time well past the epoch.
        let clock = chain.clock()?;
        chain.set_clock(clock.unix_timestamp.max(1_700_000_000))?;
        for (address, account) in &self.accounts {
            chain.index(*address, Some(account.owner));
        }
        Ok(chain)
    }

    fn start_bank(&self) -> Result<(Backend, Keypair), ClientError> {
        let mut program_test = ProgramTest::default();
        for (name, id, entry) in native_programs()? {
            program_test.add_builtin_program(name, id, entry);
        }
        for (name, id, processor) in &self.native_programs {
            program_test.add_builtin_program(name, *id, *processor);
        }
        for (address, account) in &self.accounts {
            program_test.add_account(*address, account.clone());
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|err| ClientError::Backend(format!("tokio runtime: {err}")))?;
        let context = runtime.block_on(program_test.start_with_context());
        // ProgramTest turns on debug logging of every instruction as it starts: keep it
        // quiet unless RUST_LOG asks for more.
        agave_logger::setup_with_default("error");
        let payer = context.payer.insecure_clone();
        Ok((
            Backend::Bank {
                runtime,
                context: Box::new(context),
            },
            payer,
        ))
    }

    fn start_svm(&self, dir: &Path) -> Result<(Backend, Keypair), ClientError> {
        let mut svm = litesvm::LiteSVM::new();
        let programs = PROGRAMS.iter().copied().chain(
            self.native_programs
                .iter()
                .map(|(name, id, _)| (*name, *id)),
        );
        for (name, id) in programs {
            let path = dir.join(format!("{name}.so"));
            let bytes = std::fs::read(&path).map_err(|err| {
                ClientError::Backend(format!(
                    "{}: {err} (build the programs with `cargo xtask build-sbf`, or unset \
                     SBF_OUT_DIR to run them natively)",
                    path.display()
                ))
            })?;
            svm.add_program(id, &bytes).map_err(|err| {
                ClientError::Backend(format!("{} does not load: {err:?}", path.display()))
            })?;
        }
        for (address, account) in &self.accounts {
            svm.set_account(*address, to_svm_account(account))
                .map_err(|err| ClientError::Backend(format!("genesis account: {err:?}")))?;
        }
        let payer = Keypair::new();
        svm.airdrop(&payer.pubkey(), SVM_PAYER_LAMPORTS)
            .map_err(|failed| ClientError::Backend(format!("airdrop: {}", failed.err)))?;
        Ok((Backend::Svm(Box::new(svm)), payer))
    }
}

fn to_svm_account(account: &Account) -> solana_account_svm::Account {
    solana_account_svm::Account {
        lamports: account.lamports,
        data: account.data.clone(),
        owner: account.owner,
        executable: account.executable,
        rent_epoch: account.rent_epoch,
    }
}

/// The runtime under an [`InProcessChain`].
enum Backend {
    /// The native programs in an Agave 3.1 bank.
    Bank {
        runtime: tokio::runtime::Runtime,
        context: Box<ProgramTestContext>,
    },
    /// The SBF binaries in LiteSVM.
    Svm(Box<litesvm::LiteSVM>),
}

/// What executing one transaction gave.
struct Executed {
    result: Result<(), TransactionError>,
    logs: Vec<String>,
    compute_units: Option<u64>,
    /// Its events (see [`events::collect`]).
    event_data: Vec<Vec<u8>>,
}

impl Backend {
    fn clock(&mut self) -> Result<Clock, ClientError> {
        match self {
            Backend::Bank { runtime, context } => runtime
                .block_on(context.banks_client.get_sysvar())
                .map_err(backend),
            Backend::Svm(svm) => Ok(svm.get_sysvar::<Clock>()),
        }
    }

    fn set_clock(&mut self, clock: &Clock) {
        match self {
            Backend::Bank { context, .. } => context.set_sysvar(clock),
            Backend::Svm(svm) => svm.set_sysvar(clock),
        }
    }

    /// Moves to the next slot, with a fresh blockhash.
    fn next_slot(&mut self) -> Result<(), ClientError> {
        let slot = self.clock()?.slot.saturating_add(1);
        match self {
            Backend::Bank { context, .. } => context
                .warp_to_slot(slot)
                .map_err(|err| ClientError::Backend(format!("warp: {err:?}"))),
            Backend::Svm(svm) => {
                svm.warp_to_slot(slot);
                svm.expire_blockhash();
                Ok(())
            }
        }
    }

    fn latest_blockhash(&mut self) -> Result<solana_hash::Hash, ClientError> {
        match self {
            Backend::Bank { runtime, context } => runtime
                .block_on(context.banks_client.get_latest_blockhash())
                .map_err(backend),
            Backend::Svm(svm) => Ok(solana_hash::Hash::new_from_array(
                svm.latest_blockhash().to_bytes(),
            )),
        }
    }

    fn execute(&mut self, tx: Transaction) -> Result<Executed, ClientError> {
        match self {
            Backend::Bank { runtime, context } => {
                let result = runtime
                    .block_on(context.banks_client.process_transaction_with_metadata(tx))
                    .map_err(backend)?;
                let (logs, compute_units) = result
                    .metadata
                    .map(|m| (m.log_messages, Some(m.compute_units_consumed)))
                    .unwrap_or_default();
                // The bank reports no inner instructions: native programs log their events.
                Ok(Executed {
                    result: result.result,
                    event_data: events::collect(&logs, &[], true),
                    logs,
                    compute_units,
                })
            }
            Backend::Svm(svm) => {
                let keys = tx.message.account_keys.clone();
                // Each inner instruction as (program, data), in execution order.
                let inner = |list: &litesvm::types::TransactionMetadata| -> Vec<(Pubkey, Vec<u8>)> {
                    list.inner_instructions
                        .iter()
                        .flatten()
                        .map(|ix| {
                            let program = keys
                                .get(usize::from(ix.instruction.program_id_index))
                                .copied()
                                .unwrap_or_default();
                            (program, ix.instruction.data.clone())
                        })
                        .collect()
                };
                // The same wire format; the SVM's transaction type is of a newer SDK.
                let wire = bincode::serialize(&tx)
                    .map_err(|err| ClientError::Backend(format!("encode: {err}")))?;
                let tx: solana_transaction_svm::Transaction = bincode::deserialize(&wire)
                    .map_err(|err| ClientError::Backend(format!("decode: {err}")))?;
                Ok(match svm.send_transaction(tx) {
                    Ok(meta) => Executed {
                        result: Ok(()),
                        event_data: events::collect(&meta.logs, &inner(&meta), false),
                        logs: meta.logs,
                        compute_units: Some(meta.compute_units_consumed),
                    },
                    Err(failed) => Executed {
                        result: Err(failed.err),
                        event_data: Vec::new(),
                        logs: failed.meta.logs,
                        compute_units: Some(failed.meta.compute_units_consumed),
                    },
                })
            }
        }
    }

    fn account(&mut self, address: &Pubkey) -> Result<Option<Account>, ClientError> {
        match self {
            Backend::Bank { runtime, context } => runtime
                .block_on(context.banks_client.get_account(*address))
                .map_err(backend),
            // A closed account lingers with no lamports until the bank would purge it.
            Backend::Svm(svm) => Ok(svm
                .get_account(address)
                .filter(|a| a.lamports > 0)
                .map(|a| Account {
                    lamports: a.lamports,
                    data: a.data,
                    owner: a.owner,
                    executable: a.executable,
                    rent_epoch: a.rent_epoch,
                })),
        }
    }

    fn set_account(&mut self, address: &Pubkey, account: Account) -> Result<(), ClientError> {
        match self {
            Backend::Bank { context, .. } => {
                context.set_account(address, &account.into());
                Ok(())
            }
            Backend::Svm(svm) => svm
                .set_account(*address, to_svm_account(&account))
                .map_err(|err| ClientError::Backend(format!("set account: {err:?}"))),
        }
    }

    fn minimum_balance(&mut self, data_len: usize) -> Result<u64, ClientError> {
        match self {
            Backend::Bank { runtime, context } => Ok(runtime
                .block_on(context.banks_client.get_rent())
                .map_err(backend)?
                .minimum_balance(data_len)),
            Backend::Svm(svm) => Ok(svm.minimum_balance_for_rent_exemption(data_len)),
        }
    }
}

/// A whole gpu-market cluster in this process: the four programs, SPL Token, Token-2022
/// and the associated token account program, on a real runtime whose clock the caller
/// moves.
pub struct InProcessChain {
    backend: Backend,
    payer: Keypair,
    now: i64,
    sent: HashSet<Signature>,
    /// The owner of every live account a landed transaction or
    /// [`InProcessChain::set_account`] touched, and the same indexed by owner: the runtime
    /// cannot scan by owner, so [`Chain::program_accounts`] reads these.
    owners: HashMap<Pubkey, Pubkey>,
    by_owner: HashMap<Pubkey, BTreeSet<Pubkey>>,
    /// The landed transactions each account took part in, oldest first, and each one's
    /// events and time (its logs are not kept): the history an RPC node serves.
    history: HashMap<Pubkey, Vec<Signature>>,
    landed: HashMap<Signature, (TxOutcome, i64)>,
}

fn backend(err: BanksClientError) -> ClientError {
    ClientError::Backend(err.to_string())
}

impl InProcessChain {
    /// A builder with every gpu-market program added, running the SBF binaries of
    /// [`sbf_out_dir`] when it names a directory.
    pub fn builder() -> InProcessChainBuilder {
        // ProgramTest turns on debug logging of every instruction; keep `cargo test` quiet
        // unless RUST_LOG asks for more.
        agave_logger::setup_with_default("error");
        InProcessChainBuilder {
            native_programs: Vec::new(),
            accounts: Vec::new(),
            sbf_dir: sbf_out_dir(),
        }
    }

    /// Starts a chain with every gpu-market program and nothing else.
    pub fn start() -> Result<Self, ClientError> {
        Self::builder().start()
    }

    /// Whether the programs run as SBF binaries (rather than natively).
    pub fn runs_sbf(&self) -> bool {
        matches!(self.backend, Backend::Svm(_))
    }

    /// Moves to the next slot: a fresh blockhash, with the clock kept where it was.
    fn next_slot(&mut self) -> Result<(), ClientError> {
        self.backend.next_slot()?;
        self.set_clock(self.now)
    }

    fn set_clock(&mut self, unix_timestamp: i64) -> Result<(), ClientError> {
        let clock = self.backend.clock()?;
        self.now = unix_timestamp;
        self.backend.set_clock(&Clock {
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
        let blockhash = self.backend.latest_blockhash()?;
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
    ///
    /// # Panics
    /// If the runtime refuses the account (neither refuses a well-formed one).
    pub fn set_account(&mut self, address: &Pubkey, account: Account) {
        let owner = account.owner;
        if let Err(err) = self.backend.set_account(address, account) {
            panic!("set_account {address}: {err}");
        }
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
        let executed = self.backend.execute(tx)?;
        match executed.result {
            Ok(()) => {
                if self.runs_sbf() {
                    compute::record(&executed.logs);
                }
                for key in &keys {
                    let owner = self.account(key)?.map(|a| a.owner);
                    self.index(*key, owner);
                    self.history.entry(*key).or_default().push(signature);
                }
                let outcome = TxOutcome {
                    signature,
                    logs: executed.logs,
                    compute_units: executed.compute_units,
                    event_data: executed.event_data,
                };
                let kept = TxOutcome {
                    logs: Vec::new(),
                    ..outcome.clone()
                };
                self.landed.insert(signature, (kept, self.now));
                Ok(outcome)
            }
            Err(error) => Err(ClientError::Transaction {
                error,
                logs: executed.logs,
            }),
        }
    }

    fn account(&mut self, address: &Pubkey) -> Result<Option<Account>, ClientError> {
        self.backend.account(address)
    }

    fn clock(&mut self) -> Result<Clock, ClientError> {
        self.backend.clock()
    }

    fn program_accounts(
        &mut self,
        program: &Pubkey,
        filters: &[Memcmp],
    ) -> Result<Vec<(Pubkey, Account)>, ClientError> {
        check_filters(filters)?;
        let mut found = Vec::new();
        let owned = self.by_owner.get(program).cloned().unwrap_or_default();
        for address in owned {
            if let Some(account) = self.account(&address)? {
                if account.owner == *program && filters.iter().all(|f| f.matches(&account.data)) {
                    found.push((address, account));
                }
            }
        }
        Ok(found)
    }

    fn minimum_balance(&mut self, data_len: usize) -> Result<u64, ClientError> {
        self.backend.minimum_balance(data_len)
    }

    fn signatures(
        &mut self,
        address: &Pubkey,
        limit: usize,
    ) -> Result<Vec<PastSignature>, ClientError> {
        let signatures = self.history.get(address).map_or(&[][..], Vec::as_slice);
        Ok(signatures
            .iter()
            .rev()
            .take(limit)
            .map(|signature| PastSignature {
                signature: *signature,
                block_time: self.landed.get(signature).map(|(_, at)| *at),
                failed: false,
            })
            .collect())
    }

    fn transaction(&mut self, signature: &Signature) -> Result<Option<TxOutcome>, ClientError> {
        Ok(self
            .landed
            .get(signature)
            .map(|(outcome, _)| outcome.clone()))
    }

    fn wait_until(&mut self, unix_timestamp: i64) -> Result<(), ClientError> {
        if unix_timestamp > self.now {
            self.next_slot()?;
            self.set_clock(unix_timestamp)?;
        }
        Ok(())
    }
}
