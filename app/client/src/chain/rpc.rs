//! [`RpcChain`]: any Solana cluster (a local validator, devnet, mainnet-beta) through its
//! JSON-RPC API.
//!
//! Sending never lands a transaction twice. A signed transaction is broadcast, and
//! re-broadcast unchanged while it is unconfirmed: the copies share one signature, so the
//! runtime executes at most one of them. It is signed again, with a fresh blockhash, only
//! once its blockhash has expired, so that it can no longer land, and the cluster then
//! has no record of its signature. Transient failures (transport errors, timeouts, a node
//! that is behind) are retried. A preflight simulation runs first, so that a program error
//! comes back with its logs, as from [`InProcessChain`](super::in_process::InProcessChain).

use crate::{
    chain::sign_transaction,
    chain::{Chain, PastSignature, TxOutcome},
    error::ClientError,
    events,
};
use anchor_lang::{
    prelude::Clock,
    solana_program::{instruction::Instruction, pubkey::Pubkey, sysvar::SysvarId},
};
use solana_account::Account;
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_rpc_client::rpc_client::{GetConfirmedSignaturesForAddress2Config, RpcClient};
use solana_rpc_client_api::{
    client_error::{ErrorKind, Result as RpcResult},
    config::{
        RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSendTransactionConfig,
        RpcSimulateTransactionConfig, RpcTransactionConfig, UiAccountEncoding,
        UiTransactionEncoding,
    },
    custom_error,
    filter::{Memcmp, RpcFilterType},
    request::{RpcError, RpcRequest, RpcResponseErrorData},
    response::UiAccount,
};
use solana_signature::Signature;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;
use solana_transaction_status_client_types::{
    EncodedConfirmedTransactionWithStatusMeta, EncodedTransaction,
    EncodedTransactionWithStatusMeta, UiInnerInstructions, UiInstruction, UiLoadedAddresses,
    UiMessage, UiTransaction,
};
use std::{
    str::FromStr,
    thread,
    time::{Duration, Instant},
};

/// How long one RPC request may take before it counts as a (transient) timeout.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Retries of an RPC call that failed transiently, after the first attempt.
pub const DEFAULT_MAX_RETRIES: u32 = 5;
/// Pause before the first retry; each further retry waits twice as long, up to 16 times.
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_millis(500);
/// How long one signed transaction is given to confirm. A blockhash lives 150 blocks
/// (60 to 90 seconds), so this leaves time to see it expire and sign again.
pub const DEFAULT_CONFIRM_TIMEOUT: Duration = Duration::from_secs(150);
/// How many times a transaction whose blockhash expired unconfirmed is signed again.
pub const DEFAULT_MAX_RESIGNS: u32 = 2;

/// How often an unconfirmed transaction is broadcast again.
const RESEND_INTERVAL: Duration = Duration::from_secs(2);
/// How often the status of a sent transaction is polled.
const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// How often [`Chain::wait_until`] reads the clock: about once a slot-leader rotation.
const CLOCK_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Reads of a landed transaction's logs: a node can report a signature confirmed a moment
/// before it serves the transaction itself.
const LOG_FETCH_ATTEMPTS: u32 = 5;

/// A Solana cluster reached over JSON-RPC, with `payer` paying for and signing every
/// transaction, and reads and confirmations at one chosen commitment.
///
/// Its calls block the thread (the RPC client runs its own runtime), so it is not for use
/// from inside an async runtime.
pub struct RpcChain {
    client: RpcClient,
    url: String,
    payer: Keypair,
    commitment: CommitmentConfig,
    max_retries: u32,
    retry_delay: Duration,
    confirm_timeout: Duration,
    max_resigns: u32,
    resend_interval: Duration,
    poll_interval: Duration,
    clock_poll_interval: Duration,
    /// Whether the cluster runs the gpu-market programs as native builtins (the local
    /// cluster of `gpu-market localnet`), learnt from the first landed transaction.
    native_programs: std::sync::OnceLock<bool>,
    /// Reads must come from a node that has processed at least this slot.
    min_context_slot: Option<u64>,
    /// Whether the node has answered once: until it has, a refused connection is a wrong
    /// or stopped cluster, reported at once rather than retried (unless `patient`).
    reached: std::sync::atomic::AtomicBool,
    /// Retry a refused connection also before the node first answered: for services that
    /// may start before their cluster.
    patient: bool,
}

/// The owner of builtin programs.
const NATIVE_LOADER: Pubkey = Pubkey::from_str_const("NativeLoader1111111111111111111111111111111");

impl RpcChain {
    /// A chain talking to the RPC node at `url`, reading and confirming at `commitment`.
    pub fn new(url: impl Into<String>, payer: Keypair, commitment: CommitmentConfig) -> Self {
        let url = url.into();
        let client = http_client(&url, DEFAULT_REQUEST_TIMEOUT, commitment);
        Self::with_client(client, url, payer, commitment)
    }

    fn with_client(
        client: RpcClient,
        url: String,
        payer: Keypair,
        commitment: CommitmentConfig,
    ) -> Self {
        Self {
            client,
            url,
            payer,
            commitment,
            max_retries: DEFAULT_MAX_RETRIES,
            retry_delay: DEFAULT_RETRY_DELAY,
            confirm_timeout: DEFAULT_CONFIRM_TIMEOUT,
            max_resigns: DEFAULT_MAX_RESIGNS,
            resend_interval: RESEND_INTERVAL,
            poll_interval: POLL_INTERVAL,
            clock_poll_interval: CLOCK_POLL_INTERVAL,
            native_programs: std::sync::OnceLock::new(),
            min_context_slot: None,
            reached: std::sync::atomic::AtomicBool::new(false),
            patient: false,
        }
    }

    /// Whether the gpu-market programs run natively on this cluster: their program
    /// accounts are then builtins, owned by the native loader, which only whoever runs
    /// the cluster can arrange. Natively built programs log their events instead of
    /// calling themselves (see [`events`]). An unreadable answer counts as not native
    /// and is asked again next time.
    fn programs_native(&self) -> bool {
        if let Some(native) = self.native_programs.get() {
            return *native;
        }
        match self
            .client
            .get_account_with_commitment(&crate::program_ids::staking(), self.commitment)
        {
            // Only an answer about an existing program account is kept: a missing one
            // (a local cluster loading its builtins again) is asked about next time.
            Ok(response) => match response.value {
                Some(account) => *self
                    .native_programs
                    .get_or_init(|| account.owner == NATIVE_LOADER),
                None => false,
            },
            Err(_) => false,
        }
    }

    /// Retries a refused connection like any transient failure, also before the node first
    /// answered (by default such a cluster is reported unreachable at once): for a service
    /// that may start before its cluster does.
    pub fn patient(mut self) -> Self {
        self.patient = true;
        self
    }

    /// Retries each RPC call that fails transiently up to `max_retries` times, waiting
    /// `delay` before the first retry and doubling the wait after each.
    pub fn with_retries(mut self, max_retries: u32, delay: Duration) -> Self {
        self.max_retries = max_retries;
        self.retry_delay = delay;
        self
    }

    /// Gives each signed transaction `timeout` to confirm. When it runs out the outcome is
    /// unknown and [`Chain::send`] fails without signing again, since the transaction may
    /// still land.
    pub fn with_confirm_timeout(mut self, timeout: Duration) -> Self {
        self.confirm_timeout = timeout;
        self
    }

    /// Lets a single RPC request take up to `timeout`.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.client = http_client(&self.url, timeout, self.commitment);
        self
    }

    /// Makes every later read refuse a node that has not processed `slot` yet (the RPC's
    /// `minContextSlot`), so that reads after a subscription began never see an older
    /// state than it does; `None` lifts it.
    pub fn set_min_context_slot(&mut self, slot: Option<u64>) {
        self.min_context_slot = slot;
    }

    /// The latest slot the node has reached at the chosen commitment.
    pub fn slot(&self) -> Result<u64, ClientError> {
        self.call("getSlot", |c| c.get_slot_with_commitment(self.commitment))
    }

    /// The node's PubSub websocket URL as Solana's tools derive it: `ws` for `http`, `wss`
    /// for `https`, on the next port when the URL names one.
    pub fn websocket_url(&self) -> Result<String, ClientError> {
        websocket_url(&self.url)
    }

    /// The RPC node's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The commitment reads and confirmations use.
    pub fn commitment(&self) -> CommitmentConfig {
        self.commitment
    }

    /// Calls the RPC node, retrying transient failures with a growing pause.
    fn call<T>(
        &self,
        method: &'static str,
        request: impl Fn(&RpcClient) -> RpcResult<T>,
    ) -> Result<T, ClientError> {
        use std::sync::atomic::Ordering;
        let mut retries = 0;
        loop {
            match request(&self.client) {
                Ok(value) => {
                    self.reached.store(true, Ordering::Relaxed);
                    return Ok(value);
                }
                Err(err)
                    if !self.patient
                        && !self.reached.load(Ordering::Relaxed)
                        && is_refused(err.kind()) =>
                {
                    return Err(ClientError::Backend(format!(
                        "cannot reach the cluster at {}: nothing answers there ({err})",
                        self.url
                    )));
                }
                // Any answer of the node, an error too, shows that it is there.
                Err(err) if retries < self.max_retries && is_transient(err.kind()) => {
                    if answered(err.kind()) {
                        self.reached.store(true, Ordering::Relaxed);
                    }
                    thread::sleep(backoff(self.retry_delay, retries));
                    retries += 1;
                }
                Err(err) => {
                    return Err(ClientError::Backend(format!(
                        "{method} on {} failed{}: {err}",
                        self.url,
                        match retries {
                            0 => String::new(),
                            n => format!(" after {n} retries"),
                        }
                    )))
                }
            }
        }
    }

    /// Whole accounts, base64-encoded, at the chosen commitment.
    fn account_config(&self) -> RpcAccountInfoConfig {
        RpcAccountInfoConfig {
            encoding: Some(UiAccountEncoding::Base64),
            commitment: Some(self.commitment),
            min_context_slot: self.min_context_slot,
            ..RpcAccountInfoConfig::default()
        }
    }

    fn decode(
        &self,
        method: &str,
        address: &Pubkey,
        account: &UiAccount,
    ) -> Result<Account, ClientError> {
        account.decode().ok_or_else(|| {
            ClientError::Backend(format!(
                "{method} on {}: account {address} came back in an encoding other than the \
                 base64 asked for",
                self.url
            ))
        })
    }

    /// Builds and signs a transaction on the latest blockhash.
    fn sign(
        &self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Signed, ClientError> {
        let (blockhash, last_valid_block_height) = self.call("getLatestBlockhash", |c| {
            c.get_latest_blockhash_with_commitment(self.commitment)
        })?;
        let tx = sign_transaction(instructions, &self.payer, signers, blockhash)?;
        Ok(Signed {
            tx,
            last_valid_block_height,
        })
    }

    /// Simulates `tx` against the state at the chosen commitment.
    fn preflight(&self, tx: &Transaction) -> Result<Preflight, ClientError> {
        let config = RpcSimulateTransactionConfig {
            commitment: Some(self.commitment),
            ..RpcSimulateTransactionConfig::default()
        };
        let result = self
            .call("simulateTransaction", |c| {
                c.simulate_transaction_with_config(tx, config.clone())
            })?
            .value;
        Ok(preflight_outcome(result.err.map(Into::into), result.logs))
    }

    /// Broadcasts `signed` until it confirms, fails, or expires unseen.
    fn land(&self, signed: &Signed) -> Result<Landing, ClientError> {
        let signature = signed.tx.signatures[0];
        let outcome_unknown = |why: String| {
            ClientError::OutcomeUnknown(format!(
                "transaction {signature} was sent to {} but its outcome is unknown ({why}): \
                 look the signature up before sending it again",
                self.url
            ))
        };
        // The preflight simulation already ran.
        let config = RpcSendTransactionConfig {
            skip_preflight: true,
            ..RpcSendTransactionConfig::default()
        };
        let deadline = Instant::now() + self.confirm_timeout;
        let mut first_broadcast = true;
        loop {
            if let Err(err) = self.client.send_transaction_with_config(&signed.tx, config) {
                // Only a refusal of the very first broadcast proves the transaction is not
                // on its way; any other failure leaves the verdict to its status.
                if first_broadcast && is_refusal(err.kind()) {
                    return Err(match preflight_rejection(err.kind()) {
                        Some((error, logs)) => ClientError::Transaction { error, logs },
                        None => ClientError::Refused(format!(
                            "sendTransaction on {} refused: {err}",
                            self.url
                        )),
                    });
                }
            }
            first_broadcast = false;
            let resend_at = Instant::now() + self.resend_interval;
            loop {
                thread::sleep(self.poll_interval);
                match self
                    .observe(signed)
                    .map_err(|err| outcome_unknown(err.to_string()))?
                {
                    Next::Confirmed => return Ok(Landing::Confirmed),
                    Next::Failed(error) => return Ok(Landing::Failed(error)),
                    Next::Resign => return Ok(Landing::Expired),
                    Next::Resend if Instant::now() >= resend_at => break,
                    Next::Resend | Next::Wait => {}
                }
                if Instant::now() >= deadline {
                    return Err(outcome_unknown(format!(
                        "not confirmed within {:?}",
                        self.confirm_timeout
                    )));
                }
            }
        }
    }

    /// Reads what the cluster knows of `signed` and decides what to do next.
    fn observe(&self, signed: &Signed) -> Result<Next, ClientError> {
        let signature = &signed.tx.signatures[0];
        let seen = self.seen(signature, false)?;
        if seen != Seen::Absent {
            return Ok(next_step(seen, false));
        }
        let expired = self.blockhash_expired(signed)?;
        // Read the status again once the blockhash is known to be dead: absent now, the
        // transaction never landed and never will, so signing anew cannot double it.
        let seen = if expired {
            self.seen(signature, true)?
        } else {
            seen
        };
        Ok(next_step(seen, expired))
    }

    /// The signature's status; `history` also searches beyond the recent status cache.
    fn seen(&self, signature: &Signature, history: bool) -> Result<Seen, ClientError> {
        let statuses = self
            .call("getSignatureStatuses", |c| {
                if history {
                    c.get_signature_statuses_with_history(&[*signature])
                } else {
                    c.get_signature_statuses(&[*signature])
                }
            })?
            .value;
        Ok(match statuses.into_iter().next().flatten() {
            None => Seen::Absent,
            Some(status) => {
                let at_commitment = status.satisfies_commitment(self.commitment);
                seen_status(status.err, at_commitment)
            }
        })
    }

    fn blockhash_expired(&self, signed: &Signed) -> Result<bool, ClientError> {
        let blockhash = &signed.tx.message.recent_blockhash;
        let valid = self.call("isBlockhashValid", |c| {
            c.is_blockhash_valid(blockhash, self.commitment)
        })?;
        if valid {
            return Ok(false);
        }
        let block_height = self.call("getBlockHeight", |c| {
            c.get_block_height_with_commitment(self.commitment)
        })?;
        Ok(blockhash_expired(
            valid,
            block_height,
            signed.last_valid_block_height,
        ))
    }

    /// The commitment history is read at: the RPC serves it from confirmed on.
    fn history_commitment(&self) -> CommitmentConfig {
        if self.commitment.is_processed() {
            CommitmentConfig::confirmed()
        } else {
            self.commitment
        }
    }

    /// The program logs, compute units and events of a landed transaction. Empty when they
    /// cannot be had: failing here would report a transaction that landed as one that did
    /// not.
    fn landed(&self, signature: &Signature) -> Landed {
        let config = RpcTransactionConfig {
            encoding: Some(UiTransactionEncoding::Json),
            // getTransaction serves confirmed transactions at the earliest.
            commitment: Some(if self.commitment.is_processed() {
                CommitmentConfig::confirmed()
            } else {
                self.commitment
            }),
            max_supported_transaction_version: Some(0),
        };
        for attempt in 0..LOG_FETCH_ATTEMPTS {
            if attempt > 0 {
                thread::sleep(self.poll_interval);
            }
            if let Ok(tx) = self.client.get_transaction_with_config(signature, config) {
                return Landed::from_rpc(tx.transaction, self.programs_native());
            }
        }
        Landed::default()
    }
}

/// What `getTransaction` tells of a landed transaction.
#[derive(Default)]
struct Landed {
    logs: Vec<String>,
    compute_units: Option<u64>,
    event_data: Vec<Vec<u8>>,
}

impl Landed {
    /// `native`: the gpu-market programs run natively on this cluster (see
    /// [`RpcChain::programs_native`]).
    fn from_rpc(tx: EncodedTransactionWithStatusMeta, native: bool) -> Self {
        let Some(meta) = tx.meta else {
            return Self::default();
        };
        let logs: Vec<String> = Option::from(meta.log_messages).unwrap_or_default();
        if meta.err.is_some() {
            // Landed at a weaker commitment, failed at this one (a fork switched): nothing
            // it emitted stands.
            return Self {
                logs,
                ..Self::default()
            };
        }
        // The account keys inner instructions index: the message's, then those loaded from
        // lookup tables (writable, then read-only).
        let mut keys: Vec<String> = match tx.transaction {
            EncodedTransaction::Json(UiTransaction {
                message: UiMessage::Raw(message),
                ..
            }) => message.account_keys,
            _ => Vec::new(),
        };
        if let Some(loaded) = Option::<UiLoadedAddresses>::from(meta.loaded_addresses) {
            keys.extend(loaded.writable);
            keys.extend(loaded.readonly);
        }
        let inner: Vec<(Pubkey, Vec<u8>)> =
            Option::<Vec<UiInnerInstructions>>::from(meta.inner_instructions)
                .unwrap_or_default()
                .into_iter()
                .flat_map(|group| group.instructions)
                // One that cannot be read keeps its place, as no program's.
                .map(|ix| match ix {
                    UiInstruction::Compiled(ix) => {
                        let program = keys
                            .get(usize::from(ix.program_id_index))
                            .and_then(|key| Pubkey::from_str(key).ok())
                            .unwrap_or_default();
                        let data = bs58::decode(&ix.data).into_vec().unwrap_or_default();
                        (program, data)
                    }
                    UiInstruction::Parsed(_) => (Pubkey::default(), Vec::new()),
                })
                .collect();
        Self {
            event_data: events::collect(&logs, &inner, native),
            logs,
            compute_units: Option::from(meta.compute_units_consumed),
        }
    }
}

/// The most addresses one `getMultipleAccounts` call takes (Agave's limit).
pub const MAX_MULTIPLE_ACCOUNTS: usize = 100;

impl Chain for RpcChain {
    fn payer(&self) -> &Keypair {
        &self.payer
    }

    fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<TxOutcome, ClientError> {
        let mut unknown_blockhash = 0;
        let mut expired = 0;
        loop {
            let signed = self.sign(instructions, signers)?;
            match self.preflight(&signed.tx)? {
                Preflight::Passed => {}
                Preflight::Rejected { error, logs } => {
                    return Err(ClientError::Transaction { error, logs })
                }
                // A node behind the one that handed out the blockhash (load-balanced RPC)
                // does not know it yet. Nothing was sent, so signing again is safe.
                Preflight::UnknownBlockhash if unknown_blockhash < self.max_retries => {
                    thread::sleep(backoff(self.retry_delay, unknown_blockhash));
                    unknown_blockhash += 1;
                    continue;
                }
                Preflight::UnknownBlockhash => {
                    return Err(ClientError::Backend(format!(
                        "simulateTransaction on {}: the node keeps rejecting its own latest \
                         blockhash as unknown",
                        self.url
                    )))
                }
            }
            let signature = signed.tx.signatures[0];
            match self.land(&signed)? {
                Landing::Confirmed => {
                    let landed = self.landed(&signature);
                    return Ok(TxOutcome {
                        signature,
                        logs: landed.logs,
                        compute_units: landed.compute_units,
                        event_data: landed.event_data,
                    });
                }
                Landing::Failed(error) => {
                    return Err(ClientError::Transaction {
                        error,
                        logs: self.landed(&signature).logs,
                    })
                }
                Landing::Expired if expired < self.max_resigns => expired += 1,
                Landing::Expired => {
                    return Err(ClientError::Backend(format!(
                        "transaction expired unconfirmed on {} {} times (last signature \
                         {signature}): the cluster may be congested",
                        self.url,
                        expired + 1
                    )))
                }
            }
        }
    }

    fn account(&mut self, address: &Pubkey) -> Result<Option<Account>, ClientError> {
        // Not `get_account_with_commitment`: it turns every failure, transport ones
        // included, into "AccountNotFound", which would hide what is worth retrying.
        Ok(self.accounts(&[*address])?.into_iter().next().flatten())
    }

    fn accounts(&mut self, addresses: &[Pubkey]) -> Result<Vec<Option<Account>>, ClientError> {
        let mut found = Vec::with_capacity(addresses.len());
        for chunk in addresses.chunks(MAX_MULTIPLE_ACCOUNTS) {
            let accounts = self
                .call("getMultipleAccounts", |c| {
                    c.get_multiple_ui_accounts_with_config(chunk, self.account_config())
                })?
                .value;
            if accounts.len() != chunk.len() {
                return Err(ClientError::Backend(format!(
                    "getMultipleAccounts on {} answered {} accounts for {} addresses",
                    self.url,
                    accounts.len(),
                    chunk.len()
                )));
            }
            for (address, account) in chunk.iter().zip(accounts) {
                found.push(
                    account
                        .map(|a| self.decode("getMultipleAccounts", address, &a))
                        .transpose()?,
                );
            }
        }
        Ok(found)
    }

    fn clock(&mut self) -> Result<Clock, ClientError> {
        let address = Clock::id();
        let account = self
            .account(&address)?
            .ok_or(ClientError::AccountNotFound(address))?;
        bincode::deserialize(&account.data).map_err(|err| ClientError::Decode {
            address,
            expected: "Clock",
            reason: err.to_string(),
        })
    }

    fn program_accounts(
        &mut self,
        program: &Pubkey,
        filters: &[super::Memcmp],
    ) -> Result<Vec<(Pubkey, Account)>, ClientError> {
        super::check_filters(filters)?;
        let config = RpcProgramAccountsConfig {
            filters: (!filters.is_empty()).then(|| {
                filters
                    .iter()
                    .map(|f| RpcFilterType::Memcmp(Memcmp::new_base58_encoded(f.offset, &f.bytes)))
                    .collect()
            }),
            account_config: self.account_config(),
            ..RpcProgramAccountsConfig::default()
        };
        let mut accounts = self
            .call("getProgramAccounts", |c| {
                c.get_program_ui_accounts_with_config(program, config.clone())
            })?
            .into_iter()
            .map(|(address, account)| {
                self.decode("getProgramAccounts", &address, &account)
                    .map(|account| (address, account))
            })
            .collect::<Result<Vec<_>, _>>()?;
        accounts.sort_by_key(|(address, _)| *address);
        Ok(accounts)
    }

    fn minimum_balance(&mut self, data_len: usize) -> Result<u64, ClientError> {
        self.call("getMinimumBalanceForRentExemption", |c| {
            c.get_minimum_balance_for_rent_exemption(data_len)
        })
    }

    fn wait_until(&mut self, unix_timestamp: i64) -> Result<(), ClientError> {
        while self.now()? < unix_timestamp {
            thread::sleep(self.clock_poll_interval);
        }
        Ok(())
    }

    fn signatures(
        &mut self,
        address: &Pubkey,
        limit: usize,
    ) -> Result<Vec<PastSignature>, ClientError> {
        let mut found: Vec<PastSignature> = Vec::new();
        // Pages of at most 1,000 (the RPC's limit), each before the last one seen.
        while found.len() < limit {
            let before = found.last().map(|s| s.signature);
            let want = (limit - found.len()).min(MAX_SIGNATURES_PER_CALL);
            let page = self.call("getSignaturesForAddress", |c| {
                c.get_signatures_for_address_with_config(
                    address,
                    GetConfirmedSignaturesForAddress2Config {
                        before,
                        until: None,
                        limit: Some(want),
                        commitment: Some(self.history_commitment()),
                    },
                )
            })?;
            let full = page.len() == want;
            for status in page {
                let signature = Signature::from_str(&status.signature).map_err(|err| {
                    ClientError::Backend(format!(
                        "getSignaturesForAddress on {} answered {:?}: {err}",
                        self.url, status.signature
                    ))
                })?;
                found.push(PastSignature {
                    signature,
                    block_time: status.block_time,
                    failed: status.err.is_some(),
                });
            }
            if !full {
                break;
            }
        }
        Ok(found)
    }

    fn transaction(&mut self, signature: &Signature) -> Result<Option<TxOutcome>, ClientError> {
        let config = RpcTransactionConfig {
            encoding: Some(UiTransactionEncoding::Json),
            commitment: Some(self.history_commitment()),
            max_supported_transaction_version: Some(0),
        };
        // `null` for a transaction the node does not have.
        let tx: Option<EncodedConfirmedTransactionWithStatusMeta> =
            self.call("getTransaction", |c| {
                c.send(
                    RpcRequest::GetTransaction,
                    serde_json::json!([signature.to_string(), config]),
                )
            })?;
        let Some(tx) = tx else {
            return Ok(None);
        };
        if tx.transaction.meta.as_ref().is_none_or(|m| m.err.is_some()) {
            return Ok(None);
        }
        let landed = Landed::from_rpc(tx.transaction, self.programs_native());
        Ok(Some(TxOutcome {
            signature: *signature,
            logs: landed.logs,
            compute_units: landed.compute_units,
            event_data: landed.event_data,
        }))
    }
}

/// The most signatures one `getSignaturesForAddress` call answers (Agave's limit).
const MAX_SIGNATURES_PER_CALL: usize = 1_000;

/// The PubSub websocket URL of the RPC node at `url`: see [`RpcChain::websocket_url`].
pub fn websocket_url(url: &str) -> Result<String, ClientError> {
    let bad = |why: &str| ClientError::Backend(format!("no websocket URL for {url}: {why}"));
    let mut parsed = url::Url::parse(url).map_err(|err| bad(&err.to_string()))?;
    let scheme = match parsed.scheme() {
        "http" => "ws",
        "https" => "wss",
        "ws" | "wss" => return Ok(url.to_owned()),
        other => return Err(bad(&format!("scheme {other} is neither http nor https"))),
    };
    parsed
        .set_scheme(scheme)
        .map_err(|()| bad("cannot change the scheme"))?;
    if let Some(port) = parsed.port() {
        let next = port
            .checked_add(1)
            .ok_or_else(|| bad("no port after 65535"))?;
        parsed
            .set_port(Some(next))
            .map_err(|()| bad("cannot set the port"))?;
    }
    let text = parsed.to_string();
    Ok(match text.strip_suffix('/') {
        Some(bare) if parsed.path() == "/" && !url.ends_with('/') => bare.to_owned(),
        _ => text,
    })
}

fn http_client(url: &str, timeout: Duration, commitment: CommitmentConfig) -> RpcClient {
    RpcClient::new_with_timeout_and_commitment(url.to_owned(), timeout, commitment)
}

/// A signed transaction and the last block height at which its blockhash is valid.
struct Signed {
    tx: Transaction,
    last_valid_block_height: u64,
}

/// The verdict of the preflight simulation.
#[derive(Debug, PartialEq, Eq)]
enum Preflight {
    Passed,
    /// The transaction would fail: sending it would only burn the fee.
    Rejected {
        error: TransactionError,
        logs: Vec<String>,
    },
    /// The node does not know the transaction's blockhash.
    UnknownBlockhash,
}

fn preflight_outcome(err: Option<TransactionError>, logs: Option<Vec<String>>) -> Preflight {
    match err {
        None => Preflight::Passed,
        Some(TransactionError::BlockhashNotFound) => Preflight::UnknownBlockhash,
        Some(error) => Preflight::Rejected {
            error,
            logs: logs.unwrap_or_default(),
        },
    }
}

/// How a sent transaction ended.
enum Landing {
    Confirmed,
    Failed(TransactionError),
    /// Its blockhash expired and the cluster never saw it.
    Expired,
}

/// What the cluster knows of a signature.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Absent,
    /// In a block, but not yet at the chosen commitment.
    Pending,
    /// Executed, at the chosen commitment, with this result.
    Landed(Result<(), TransactionError>),
}

fn seen_status(err: Option<TransactionError>, at_commitment: bool) -> Seen {
    match (at_commitment, err) {
        (false, _) => Seen::Pending,
        (true, None) => Seen::Landed(Ok(())),
        (true, Some(error)) => Seen::Landed(Err(error)),
    }
}

/// What to do with a broadcast transaction.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    Confirmed,
    Failed(TransactionError),
    /// It is in a block: wait for the commitment.
    Wait,
    /// Not seen, but it can still land: broadcast the same transaction again.
    Resend,
    /// It can no longer land and never did: sign it anew.
    Resign,
}

/// `blockhash_expired` must have been established *before* `seen` was read: only then does
/// an absent signature mean the transaction will never land.
fn next_step(seen: Seen, blockhash_expired: bool) -> Next {
    match seen {
        Seen::Landed(Ok(())) => Next::Confirmed,
        Seen::Landed(Err(error)) => Next::Failed(error),
        Seen::Pending => Next::Wait,
        Seen::Absent if blockhash_expired => Next::Resign,
        Seen::Absent => Next::Resend,
    }
}

/// A node that has not caught up with the blockhash also calls it invalid, so expiry
/// takes both its verdict and a block height past the blockhash's last valid one.
fn blockhash_expired(valid: bool, block_height: u64, last_valid_block_height: u64) -> bool {
    !valid && block_height > last_valid_block_height
}

/// JSON-RPC errors of a node that is behind or busy, not of a bad request.
const TRANSIENT_RPC_CODES: [i64; 5] = [
    custom_error::JSON_RPC_SERVER_ERROR_BLOCK_NOT_AVAILABLE,
    custom_error::JSON_RPC_SERVER_ERROR_NODE_UNHEALTHY,
    custom_error::JSON_RPC_SERVER_ERROR_BLOCK_STATUS_NOT_AVAILABLE_YET,
    custom_error::JSON_RPC_SERVER_ERROR_MIN_CONTEXT_SLOT_NOT_REACHED,
    custom_error::JSON_RPC_SERVER_ERROR_LONG_TERM_STORAGE_UNREACHABLE,
];

/// Whether the same request may well succeed if tried again: the transport failed or
/// timed out, the server was overloaded, or the node is behind.
/// Whether the node answered the call (with an error of its own).
fn answered(err: &ErrorKind) -> bool {
    matches!(err, ErrorKind::RpcError(_))
        || matches!(err, ErrorKind::Reqwest(e) if e.status().is_some())
}

/// Whether the connection was refused: nothing listens at the URL.
fn is_refused(err: &ErrorKind) -> bool {
    match err {
        ErrorKind::Io(io) => io.kind() == std::io::ErrorKind::ConnectionRefused,
        ErrorKind::Reqwest(err) if err.is_connect() => {
            let mut source = std::error::Error::source(err);
            while let Some(cause) = source {
                if cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
                {
                    return true;
                }
                source = cause.source();
            }
            false
        }
        _ => false,
    }
}

fn is_transient(err: &ErrorKind) -> bool {
    match err {
        ErrorKind::Io(_) | ErrorKind::Middleware(_) => true,
        ErrorKind::Reqwest(err) => {
            err.is_timeout()
                || err.is_connect()
                || err.is_request()
                || err.is_body()
                || err
                    .status()
                    .is_some_and(|s| s.is_server_error() || s.as_u16() == 429)
        }
        ErrorKind::RpcError(RpcError::RpcResponseError { code, data, .. }) => {
            matches!(data, RpcResponseErrorData::NodeUnhealthy { .. })
                || TRANSIENT_RPC_CODES.contains(code)
        }
        // The node's reply to a well-formed request was garbled, or the node misbehaved
        // (a signature other than the one sent): another attempt may go better.
        ErrorKind::RpcError(RpcError::RpcRequestError(_)) => true,
        ErrorKind::RpcError(RpcError::ParseError(_) | RpcError::ForUser(_))
        | ErrorKind::SerdeJson(_)
        | ErrorKind::SigningError(_)
        | ErrorKind::TransactionError(_)
        | ErrorKind::Custom(_) => false,
    }
}

/// Whether a failed broadcast certainly did not hand the transaction on: the node answered
/// with an error, or the request was never made.
fn is_refusal(err: &ErrorKind) -> bool {
    !is_transient(err)
        && match err {
            ErrorKind::RpcError(RpcError::RpcResponseError { .. })
            | ErrorKind::SigningError(_)
            | ErrorKind::TransactionError(_) => true,
            ErrorKind::Reqwest(err) => err.status().is_some_and(|s| s.is_client_error()),
            _ => false,
        }
}

/// The runtime's verdict and logs when the node refused a transaction in its own preflight.
fn preflight_rejection(err: &ErrorKind) -> Option<(TransactionError, Vec<String>)> {
    match err {
        ErrorKind::RpcError(RpcError::RpcResponseError {
            data: RpcResponseErrorData::SendTransactionPreflightFailure(result),
            ..
        }) => result
            .err
            .clone()
            .map(|error| (error.into(), result.logs.clone().unwrap_or_default())),
        _ => None,
    }
}

/// The pause before retry number `retries + 1`.
fn backoff(delay: Duration, retries: u32) -> Duration {
    delay.saturating_mul(1 << retries.min(4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_connection_fails_at_once_unless_the_chain_is_patient() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}");
        let chain = || {
            RpcChain::new(url.clone(), Keypair::new(), CommitmentConfig::confirmed())
                .with_retries(2, Duration::ZERO)
        };
        let err = chain().lamports(&Pubkey::new_unique()).unwrap_err();
        assert!(matches!(err, ClientError::Backend(_)), "{err}");
        assert!(
            err.to_string().starts_with(&format!(
                "chain backend: cannot reach the cluster at {url}: nothing answers there"
            )),
            "{err}"
        );
        let err = chain()
            .patient()
            .lamports(&Pubkey::new_unique())
            .unwrap_err();
        assert!(err.to_string().contains("failed after 2 retries"), "{err}");
    }
    use base64::{prelude::BASE64_STANDARD, Engine};
    use serde_json::{json, Value};
    use solana_instruction_error::InstructionError;
    use solana_rpc_client::{
        rpc_client::RpcClientConfig,
        rpc_sender::{RpcSender, RpcTransportStats},
    };
    use solana_rpc_client_api::{request::RpcRequest, response::RpcSimulateTransactionResult};
    use solana_signer::Signer;
    use std::{
        collections::{HashMap, VecDeque},
        future::Future,
        io,
        pin::Pin,
        sync::{Arc, Mutex},
    };

    fn io_timeout() -> ErrorKind {
        ErrorKind::Io(io::Error::new(io::ErrorKind::TimedOut, "timed out"))
    }

    fn rpc_error(code: i64, data: RpcResponseErrorData) -> ErrorKind {
        ErrorKind::RpcError(RpcError::RpcResponseError {
            code,
            message: "error".into(),
            data,
        })
    }

    fn custom(index: u8, code: u32) -> TransactionError {
        TransactionError::InstructionError(index, InstructionError::Custom(code))
    }

    fn preflight_failure(err: &TransactionError, logs: &[&str]) -> ErrorKind {
        let result: RpcSimulateTransactionResult =
            serde_json::from_value(json!({ "err": err, "logs": logs })).unwrap();
        rpc_error(
            custom_error::JSON_RPC_SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE,
            RpcResponseErrorData::SendTransactionPreflightFailure(result),
        )
    }

    #[test]
    fn transport_failures_and_lagging_nodes_are_transient() {
        assert!(is_transient(&io_timeout()));
        assert!(is_transient(&rpc_error(
            custom_error::JSON_RPC_SERVER_ERROR_NODE_UNHEALTHY,
            RpcResponseErrorData::NodeUnhealthy {
                num_slots_behind: Some(40)
            },
        )));
        assert!(is_transient(&rpc_error(
            custom_error::JSON_RPC_SERVER_ERROR_MIN_CONTEXT_SLOT_NOT_REACHED,
            RpcResponseErrorData::Empty,
        )));
        assert!(is_transient(&ErrorKind::RpcError(
            RpcError::RpcRequestError("RPC node returned mismatched signature".into())
        )));
    }

    #[test]
    fn bad_requests_and_rejections_are_not_transient() {
        assert!(!is_transient(&rpc_error(
            -32602,
            RpcResponseErrorData::Empty
        )));
        assert!(!is_transient(&preflight_failure(&custom(0, 8010), &[])));
        assert!(!is_transient(&ErrorKind::TransactionError(
            TransactionError::AccountNotFound
        )));
        assert!(!is_transient(&ErrorKind::RpcError(RpcError::ParseError(
            "Signature".into()
        ))));
    }

    #[test]
    fn only_a_node_answering_with_an_error_refuses_a_broadcast() {
        assert!(is_refusal(&rpc_error(-32602, RpcResponseErrorData::Empty)));
        assert!(is_refusal(&preflight_failure(&custom(0, 8010), &[])));
        // Timed out or garbled: the node may well have taken it.
        assert!(!is_refusal(&io_timeout()));
        assert!(!is_refusal(&ErrorKind::RpcError(RpcError::ParseError(
            "Signature".into()
        ))));
        assert!(!is_refusal(&rpc_error(
            custom_error::JSON_RPC_SERVER_ERROR_NODE_UNHEALTHY,
            RpcResponseErrorData::Empty,
        )));
    }

    #[test]
    fn a_preflight_failure_carries_the_verdict_and_logs() {
        let err = preflight_failure(&custom(1, 7004), &["Program log: AnchorError"]);
        assert_eq!(
            preflight_rejection(&err),
            Some((
                custom(1, 7004),
                vec!["Program log: AnchorError".to_string()]
            ))
        );
        assert_eq!(preflight_rejection(&io_timeout()), None);
    }

    #[test]
    fn preflight_outcomes() {
        assert_eq!(preflight_outcome(None, Some(vec![])), Preflight::Passed);
        assert_eq!(
            preflight_outcome(Some(TransactionError::BlockhashNotFound), None),
            Preflight::UnknownBlockhash
        );
        assert_eq!(
            preflight_outcome(Some(custom(0, 8010)), Some(vec!["log".into()])),
            Preflight::Rejected {
                error: custom(0, 8010),
                logs: vec!["log".into()]
            }
        );
    }

    #[test]
    fn a_status_counts_only_at_the_chosen_commitment() {
        assert_eq!(seen_status(None, false), Seen::Pending);
        assert_eq!(seen_status(Some(custom(0, 1)), false), Seen::Pending);
        assert_eq!(seen_status(None, true), Seen::Landed(Ok(())));
        assert_eq!(
            seen_status(Some(custom(0, 1)), true),
            Seen::Landed(Err(custom(0, 1)))
        );
    }

    #[test]
    fn signing_again_needs_an_expired_blockhash_and_no_trace_of_the_signature() {
        assert_eq!(next_step(Seen::Absent, true), Next::Resign);
        assert_eq!(next_step(Seen::Absent, false), Next::Resend);
        for expired in [false, true] {
            assert_eq!(next_step(Seen::Pending, expired), Next::Wait);
            assert_eq!(next_step(Seen::Landed(Ok(())), expired), Next::Confirmed);
            assert_eq!(
                next_step(Seen::Landed(Err(custom(0, 2))), expired),
                Next::Failed(custom(0, 2))
            );
        }
    }

    #[test]
    fn a_blockhash_expires_past_its_last_valid_height() {
        assert!(blockhash_expired(false, 101, 100));
        assert!(!blockhash_expired(false, 100, 100));
        // A node behind the blockhash calls it invalid too.
        assert!(!blockhash_expired(false, 50, 100));
        assert!(!blockhash_expired(true, 101, 100));
    }

    #[test]
    fn backoff_doubles_up_to_sixteen_times() {
        let base = Duration::from_millis(100);
        assert_eq!(backoff(base, 0), base);
        assert_eq!(backoff(base, 1), base * 2);
        assert_eq!(backoff(base, 4), base * 16);
        assert_eq!(backoff(base, 30), base * 16);
    }

    // A scripted RPC node: each method answers from its queue, repeating the last answer
    // once the queue is down to one; `sendTransaction` echoes the signature unless told
    // otherwise. Every request is recorded.

    #[derive(Clone)]
    enum Reply {
        Ok(Value),
        Timeout,
        PreflightFailure(TransactionError, Vec<&'static str>),
    }

    #[derive(Default)]
    struct Node {
        replies: Mutex<HashMap<String, VecDeque<Reply>>>,
        requests: Arc<Mutex<Vec<(String, Value)>>>,
    }

    impl Node {
        fn reply(&self, request: RpcRequest, params: Value) -> RpcResult<Value> {
            let method = request.to_string();
            self.requests
                .lock()
                .unwrap()
                .push((method.clone(), params.clone()));
            let mut replies = self.replies.lock().unwrap();
            let queue = replies.entry(method.clone()).or_default();
            let reply = if queue.len() > 1 {
                queue.pop_front()
            } else {
                queue.front().cloned()
            };
            match reply {
                Some(Reply::Ok(value)) => Ok(value),
                Some(Reply::Timeout) => Err(io_timeout().into()),
                Some(Reply::PreflightFailure(err, logs)) => {
                    Err(preflight_failure(&err, &logs).into())
                }
                None if method == "sendTransaction" => {
                    let wire = BASE64_STANDARD.decode(params[0].as_str().unwrap()).unwrap();
                    let tx: Transaction = bincode::deserialize(&wire).unwrap();
                    Ok(json!(tx.signatures[0].to_string()))
                }
                // No staking program account: the programs are not builtins.
                None if method == "getAccountInfo" => {
                    Ok(json!({ "context": { "slot": 5 }, "value": null }))
                }
                None => panic!("unscripted {method}"),
            }
        }
    }

    impl RpcSender for Node {
        fn send<'node, 'call>(
            &'node self,
            request: RpcRequest,
            params: Value,
        ) -> Pin<Box<dyn Future<Output = RpcResult<Value>> + Send + 'call>>
        where
            'node: 'call,
            Self: 'call,
        {
            let reply = self.reply(request, params);
            Box::pin(async move { reply })
        }

        fn get_transport_stats(&self) -> RpcTransportStats {
            RpcTransportStats::default()
        }

        fn url(&self) -> String {
            "scripted".into()
        }
    }

    struct Scripted {
        chain: RpcChain,
        requests: Arc<Mutex<Vec<(String, Value)>>>,
    }

    impl Scripted {
        fn new(script: Vec<(&str, Vec<Reply>)>) -> Self {
            let node = Node::default();
            let requests = node.requests.clone();
            *node.replies.lock().unwrap() = script
                .into_iter()
                .map(|(method, replies)| (method.to_string(), replies.into()))
                .collect();
            let commitment = CommitmentConfig::confirmed();
            let client = RpcClient::new_sender(node, RpcClientConfig::with_commitment(commitment));
            let mut chain = RpcChain::with_client(
                client,
                "http://node.test".into(),
                Keypair::new(),
                commitment,
            )
            .with_retries(3, Duration::ZERO);
            chain.resend_interval = Duration::ZERO;
            chain.poll_interval = Duration::ZERO;
            chain.clock_poll_interval = Duration::ZERO;
            Self { chain, requests }
        }

        fn methods(&self) -> Vec<String> {
            self.requests
                .lock()
                .unwrap()
                .iter()
                .map(|(method, _)| method.clone())
                .collect()
        }

        fn count(&self, method: &str) -> usize {
            self.methods().iter().filter(|m| *m == method).count()
        }

        /// The transactions broadcast, as sent on the wire.
        fn broadcasts(&self) -> Vec<String> {
            self.requests
                .lock()
                .unwrap()
                .iter()
                .filter(|(method, _)| method == "sendTransaction")
                .map(|(_, params)| params[0].as_str().unwrap().to_string())
                .collect()
        }

        fn send(&mut self) -> Result<TxOutcome, ClientError> {
            let payer = self.chain.payer().pubkey();
            let ix =
                solana_system_interface::instruction::transfer(&payer, &Pubkey::new_unique(), 1);
            self.chain.send(&[ix], &[])
        }
    }

    fn context(value: Value) -> Reply {
        Reply::Ok(json!({ "context": { "slot": 1 }, "value": value }))
    }

    fn blockhash(last_valid_block_height: u64) -> Reply {
        context(json!({
            "blockhash": Pubkey::new_unique().to_string(),
            "lastValidBlockHeight": last_valid_block_height,
        }))
    }

    fn simulated(err: Option<TransactionError>, logs: &[&str]) -> Reply {
        context(json!({ "err": err, "logs": logs }))
    }

    fn absent() -> Reply {
        context(json!([null]))
    }

    fn status(confirmation: &str, err: Option<TransactionError>) -> Reply {
        let status = match &err {
            None => json!({ "Ok": null }),
            Some(err) => json!({ "Err": err }),
        };
        context(json!([{
            "slot": 5,
            "confirmations": if confirmation == "finalized" { Value::Null } else { json!(1) },
            "status": status,
            "err": err,
            "confirmationStatus": confirmation,
        }]))
    }

    fn landed(err: Option<TransactionError>, logs: &[&str]) -> Reply {
        let status = match &err {
            None => json!({ "Ok": null }),
            Some(err) => json!({ "Err": err }),
        };
        Reply::Ok(json!({
            "slot": 5,
            "transaction": ["", "base64"],
            "meta": {
                "err": err,
                "status": status,
                "fee": 5000,
                "preBalances": [],
                "postBalances": [],
                "logMessages": logs,
            },
            "blockTime": null,
        }))
    }

    /// `getAccountInfo` of a program account owned by `owner`.
    fn program_account(owner: &Pubkey) -> Reply {
        context(json!({
            "lamports": 1,
            "data": ["", "base64"],
            "owner": owner.to_string(),
            "executable": true,
            "rentEpoch": 0,
            "space": 0,
        }))
    }

    /// A landed staking transaction that logged a `Staked` event the native way.
    fn landed_with_native_event() -> Reply {
        let event = anchor_lang::Event::data(&::staking::events::Staked {
            owner: Pubkey::new_unique(),
            amount: 7,
            active_after: 7,
            unbonding_after: 0,
            total_active_after: 7,
        });
        let line = format!("Program log: event: {}", BASE64_STANDARD.encode(event));
        let invoke = format!("Program {} invoke [1]", crate::program_ids::staking());
        let success = format!("Program {} success", crate::program_ids::staking());
        landed(None, &[&invoke, &line, &success])
    }

    fn staked(outcome: &TxOutcome) -> usize {
        outcome.events::<::staking::events::Staked>().len()
    }

    fn landing(account_info: Vec<Reply>) -> Scripted {
        Scripted::new(vec![
            ("getLatestBlockhash", vec![blockhash(100)]),
            ("simulateTransaction", vec![simulated(None, &[])]),
            ("getSignatureStatuses", vec![status("confirmed", None)]),
            ("getTransaction", vec![landed_with_native_event()]),
            ("getAccountInfo", account_info),
        ])
    }

    #[test]
    fn on_a_cluster_running_the_programs_as_builtins_events_come_from_the_logs() {
        let mut node = landing(vec![program_account(&NATIVE_LOADER)]);
        assert_eq!(staked(&node.send().unwrap()), 1);
        // Learnt once.
        assert_eq!(staked(&node.send().unwrap()), 1);
        assert_eq!(node.count("getAccountInfo"), 1);
    }

    #[test]
    fn where_the_programs_are_deployed_a_log_line_is_no_event() {
        let loader = Pubkey::from_str_const("BPFLoaderUpgradeab1e11111111111111111111111");
        let mut node = landing(vec![program_account(&loader)]);
        assert_eq!(staked(&node.send().unwrap()), 0);
        assert_eq!(staked(&node.send().unwrap()), 0);
        assert_eq!(node.count("getAccountInfo"), 1);
    }

    #[test]
    fn an_unanswered_or_missing_program_account_counts_as_not_native_and_is_asked_again() {
        // The first read times out, the second finds no account, the third a builtin.
        let mut node = landing(vec![
            Reply::Timeout,
            context(Value::Null),
            program_account(&NATIVE_LOADER),
        ]);
        assert_eq!(staked(&node.send().unwrap()), 0);
        assert_eq!(staked(&node.send().unwrap()), 0);
        assert_eq!(staked(&node.send().unwrap()), 1);
    }

    #[test]
    fn a_confirmed_transaction_comes_back_with_its_logs() {
        let mut node = Scripted::new(vec![
            ("getLatestBlockhash", vec![blockhash(100)]),
            ("simulateTransaction", vec![simulated(None, &[])]),
            ("getSignatureStatuses", vec![status("confirmed", None)]),
            ("getTransaction", vec![landed(None, &["Program log: hi"])]),
        ]);
        let outcome = node.send().unwrap();
        assert_eq!(outcome.logs, vec!["Program log: hi".to_string()]);
        assert_eq!(node.count("sendTransaction"), 1);
        let get_transaction = node
            .requests
            .lock()
            .unwrap()
            .iter()
            .find(|(method, _)| method == "getTransaction")
            .map(|(_, params)| params.clone())
            .unwrap();
        assert_eq!(get_transaction[0], json!(outcome.signature.to_string()));
        assert_eq!(get_transaction[1]["encoding"], json!("json"));
        assert_eq!(
            get_transaction[1]["maxSupportedTransactionVersion"],
            json!(0)
        );
    }

    #[test]
    fn a_program_error_in_preflight_is_returned_with_logs_and_nothing_is_sent() {
        let mut node = Scripted::new(vec![
            ("getLatestBlockhash", vec![blockhash(100)]),
            (
                "simulateTransaction",
                vec![simulated(
                    Some(custom(0, 8010)),
                    &["Program log: AnchorError"],
                )],
            ),
        ]);
        let err = node.send().unwrap_err();
        assert_eq!(err.custom_code(), Some(8010));
        assert_eq!(err.logs(), ["Program log: AnchorError".to_string()]);
        assert!(err.to_string().contains("JobNotOpen"), "{err}");
        assert_eq!(node.count("sendTransaction"), 0);
    }

    #[test]
    fn a_refused_first_broadcast_is_a_rejection() {
        let mut node = Scripted::new(vec![
            ("getLatestBlockhash", vec![blockhash(100)]),
            ("simulateTransaction", vec![simulated(None, &[])]),
            (
                "sendTransaction",
                vec![Reply::PreflightFailure(
                    custom(0, 6004),
                    vec!["Program log: no"],
                )],
            ),
        ]);
        let err = node.send().unwrap_err();
        assert_eq!(err.custom_code(), Some(6004));
        assert_eq!(err.logs(), ["Program log: no".to_string()]);
        assert_eq!(node.count("getSignatureStatuses"), 0);
    }

    #[test]
    fn a_lost_broadcast_is_sent_again_unchanged() {
        let mut node = Scripted::new(vec![
            ("getLatestBlockhash", vec![blockhash(100)]),
            ("simulateTransaction", vec![simulated(None, &[])]),
            ("sendTransaction", vec![Reply::Timeout, Reply::Timeout]),
            (
                "getSignatureStatuses",
                vec![absent(), absent(), status("finalized", None)],
            ),
            ("isBlockhashValid", vec![context(json!(true))]),
            ("getTransaction", vec![landed(None, &[])]),
        ]);
        node.send().unwrap();
        let broadcasts = node.broadcasts();
        assert_eq!(broadcasts.len(), 3);
        assert!(broadcasts.iter().all(|tx| *tx == broadcasts[0]));
        assert_eq!(node.count("getLatestBlockhash"), 1);
    }

    #[test]
    fn an_expired_unseen_transaction_is_signed_again_after_a_last_status_check() {
        let mut node = Scripted::new(vec![
            ("getLatestBlockhash", vec![blockhash(100), blockhash(250)]),
            ("simulateTransaction", vec![simulated(None, &[])]),
            (
                "getSignatureStatuses",
                vec![absent(), absent(), status("confirmed", None)],
            ),
            ("isBlockhashValid", vec![context(json!(false))]),
            ("getBlockHeight", vec![Reply::Ok(json!(101))]),
            ("getTransaction", vec![landed(None, &[])]),
        ]);
        node.send().unwrap();
        let broadcasts = node.broadcasts();
        assert_eq!(broadcasts.len(), 2);
        assert_ne!(broadcasts[0], broadcasts[1]);
        // The status is read again, with history, after expiry and before signing anew.
        let requests = node.requests.lock().unwrap().clone();
        let resign = requests
            .iter()
            .rposition(|(method, _)| method == "getLatestBlockhash")
            .unwrap();
        let expiry = requests
            .iter()
            .position(|(method, _)| method == "getBlockHeight")
            .unwrap();
        let last_check = &requests[resign - 1];
        assert!(expiry < resign - 1);
        assert_eq!(last_check.0, "getSignatureStatuses");
        assert_eq!(last_check.1[1]["searchTransactionHistory"], json!(true));
    }

    #[test]
    fn a_transaction_found_after_expiry_is_not_signed_again() {
        let mut node = Scripted::new(vec![
            ("getLatestBlockhash", vec![blockhash(100)]),
            ("simulateTransaction", vec![simulated(None, &[])]),
            (
                "getSignatureStatuses",
                vec![absent(), status("finalized", None)],
            ),
            ("isBlockhashValid", vec![context(json!(false))]),
            ("getBlockHeight", vec![Reply::Ok(json!(101))]),
            ("getTransaction", vec![landed(None, &[])]),
        ]);
        node.send().unwrap();
        assert_eq!(node.count("getLatestBlockhash"), 1);
        assert_eq!(node.count("sendTransaction"), 1);
    }

    #[test]
    fn a_node_behind_the_blockhash_does_not_trigger_signing_again() {
        let mut node = Scripted::new(vec![
            ("getLatestBlockhash", vec![blockhash(100)]),
            ("simulateTransaction", vec![simulated(None, &[])]),
            (
                "getSignatureStatuses",
                vec![absent(), absent(), status("confirmed", None)],
            ),
            ("isBlockhashValid", vec![context(json!(false))]),
            ("getBlockHeight", vec![Reply::Ok(json!(50))]),
            ("getTransaction", vec![landed(None, &[])]),
        ]);
        node.send().unwrap();
        assert_eq!(node.count("getLatestBlockhash"), 1);
        let broadcasts = node.broadcasts();
        assert_eq!(broadcasts.len(), 3);
        assert!(broadcasts.iter().all(|tx| *tx == broadcasts[0]));
    }

    #[test]
    fn signing_again_is_bounded() {
        let mut node = Scripted::new(vec![
            ("getLatestBlockhash", vec![blockhash(100)]),
            ("simulateTransaction", vec![simulated(None, &[])]),
            ("getSignatureStatuses", vec![absent()]),
            ("isBlockhashValid", vec![context(json!(false))]),
            ("getBlockHeight", vec![Reply::Ok(json!(101))]),
        ]);
        let err = node.send().unwrap_err();
        assert!(matches!(err, ClientError::Backend(_)), "{err}");
        assert!(err.to_string().contains("expired unconfirmed"), "{err}");
        assert_eq!(
            node.count("getLatestBlockhash"),
            usize::try_from(DEFAULT_MAX_RESIGNS).unwrap() + 1
        );
    }

    #[test]
    fn a_transaction_that_fails_on_chain_is_a_rejection_with_its_logs() {
        let mut node = Scripted::new(vec![
            ("getLatestBlockhash", vec![blockhash(100)]),
            ("simulateTransaction", vec![simulated(None, &[])]),
            (
                "getSignatureStatuses",
                vec![
                    status("processed", Some(custom(0, 9014))),
                    status("confirmed", Some(custom(0, 9014))),
                ],
            ),
            (
                "getTransaction",
                vec![landed(Some(custom(0, 9014)), &["Program log: nothing"])],
            ),
        ]);
        let err = node.send().unwrap_err();
        assert_eq!(err.custom_code(), Some(9014));
        assert_eq!(err.logs(), ["Program log: nothing".to_string()]);
        assert_eq!(node.count("getSignatureStatuses"), 2);
    }

    #[test]
    fn logs_that_cannot_be_fetched_do_not_fail_a_landed_transaction() {
        let mut node = Scripted::new(vec![
            ("getLatestBlockhash", vec![blockhash(100)]),
            ("simulateTransaction", vec![simulated(None, &[])]),
            ("getSignatureStatuses", vec![status("confirmed", None)]),
            ("getTransaction", vec![Reply::Ok(Value::Null)]),
        ]);
        let outcome = node.send().unwrap();
        assert!(outcome.logs.is_empty());
        assert_eq!(
            node.count("getTransaction"),
            usize::try_from(LOG_FETCH_ATTEMPTS).unwrap()
        );
    }

    #[test]
    fn an_unconfirmed_transaction_times_out_without_signing_again() {
        let mut node = Scripted::new(vec![
            ("getLatestBlockhash", vec![blockhash(100)]),
            ("simulateTransaction", vec![simulated(None, &[])]),
            ("getSignatureStatuses", vec![status("processed", None)]),
        ]);
        node.chain = node.chain.with_confirm_timeout(Duration::ZERO);
        let err = node.send().unwrap_err();
        assert!(err.to_string().contains("outcome is unknown"), "{err}");
        assert_eq!(node.count("getLatestBlockhash"), 1);
    }

    #[test]
    fn reads_retry_transient_failures_then_name_the_call_and_node() {
        let mut node = Scripted::new(vec![(
            "getMultipleAccounts",
            vec![Reply::Timeout, Reply::Timeout, context(json!([null]))],
        )]);
        assert_eq!(node.chain.account(&Pubkey::new_unique()).unwrap(), None);

        let mut node = Scripted::new(vec![("getMultipleAccounts", vec![Reply::Timeout])]);
        let err = node.chain.account(&Pubkey::new_unique()).unwrap_err();
        assert_eq!(node.count("getMultipleAccounts"), 4);
        let shown = err.to_string();
        assert!(
            shown.contains("getMultipleAccounts on http://node.test failed after 3 retries"),
            "{shown}"
        );
    }

    fn encoded(owner: &Pubkey, data: &[u8]) -> Value {
        json!({
            "lamports": 1_000_000,
            "data": [BASE64_STANDARD.encode(data), "base64"],
            "owner": owner.to_string(),
            "executable": false,
            "rentEpoch": 0,
            "space": data.len(),
        })
    }

    #[test]
    fn websocket_urls_follow_the_rpc_url() {
        let ws = |url| super::websocket_url(url).unwrap();
        assert_eq!(ws("http://127.0.0.1:8899"), "ws://127.0.0.1:8900");
        assert_eq!(
            ws("https://api.devnet.solana.com"),
            "wss://api.devnet.solana.com"
        );
        assert_eq!(
            ws("https://rpc.example/key/abc"),
            "wss://rpc.example/key/abc"
        );
        assert_eq!(ws("wss://rpc.example:443/"), "wss://rpc.example:443/");
        let err = super::websocket_url("ftp://rpc.example").unwrap_err();
        assert_eq!(
            err.to_string(),
            "chain backend: no websocket URL for ftp://rpc.example: scheme ftp is neither http nor https"
        );
        let err = super::websocket_url("http://rpc.example:65535").unwrap_err();
        assert!(err.to_string().ends_with("no port after 65535"), "{err}");
    }

    #[test]
    fn program_accounts_send_every_filter_and_come_sorted() {
        let program = Pubkey::new_unique();
        let mut addresses = [Pubkey::new_unique(), Pubkey::new_unique()];
        addresses.sort();
        let listed: Vec<Value> = addresses
            .iter()
            .rev()
            .map(|address| json!({ "pubkey": address.to_string(), "account": encoded(&program, &[7, 7, 1]) }))
            .collect();
        let mut node = Scripted::new(vec![("getProgramAccounts", vec![Reply::Ok(json!(listed))])]);
        let filters = [
            super::super::Memcmp::new(0, [7, 7]),
            super::super::Memcmp::new(317, [1, 9, 9]),
        ];
        let found = node.chain.program_accounts(&program, &filters).unwrap();
        let found_addresses: Vec<Pubkey> = found.iter().map(|(address, _)| *address).collect();
        assert_eq!(found_addresses, addresses);
        assert_eq!(found[0].1.data, vec![7, 7, 1]);
        let params = node.requests.lock().unwrap()[0].1.clone();
        assert_eq!(params[0], json!(program.to_string()));
        let memcmp = &params[1]["filters"][0]["memcmp"];
        assert_eq!(memcmp["offset"], json!(0));
        assert_eq!(memcmp["bytes"], json!(bs58_of(&[7, 7])));
        let memcmp = &params[1]["filters"][1]["memcmp"];
        assert_eq!(memcmp["offset"], json!(317));
        assert_eq!(memcmp["bytes"], json!(bs58_of(&[1, 9, 9])));
        assert_eq!(params[1]["filters"].as_array().map(Vec::len), Some(2));
        // More than a node takes is refused before anything is sent.
        let err = node
            .chain
            .program_accounts(&program, &vec![filters[0].clone(); 5])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "chain backend: getProgramAccounts takes at most 4 filters, 5 given"
        );
        assert_eq!(node.count("getProgramAccounts"), 1);
    }

    fn bs58_of(bytes: &[u8]) -> String {
        let value = serde_json::to_value(Memcmp::new_base58_encoded(0, bytes)).unwrap();
        value["bytes"].as_str().unwrap().to_string()
    }

    fn clock_account(unix_timestamp: i64) -> Reply {
        let clock = Clock {
            slot: 10,
            unix_timestamp,
            ..Clock::default()
        };
        let data = bincode::serialize(&clock).unwrap();
        context(json!([encoded(&Pubkey::new_unique(), &data)]))
    }

    #[test]
    fn the_clock_is_read_from_its_sysvar_and_waited_on() {
        let mut node = Scripted::new(vec![(
            "getMultipleAccounts",
            vec![
                clock_account(1_700_000_000),
                clock_account(1_700_000_005),
                clock_account(1_700_000_010),
            ],
        )]);
        assert_eq!(node.chain.now().unwrap(), 1_700_000_000);
        node.chain.wait_until(1_700_000_010).unwrap();
        assert_eq!(node.count("getMultipleAccounts"), 3);
        let params = node.requests.lock().unwrap()[0].1.clone();
        assert_eq!(params[0], json!([Clock::id().to_string()]));
    }

    #[test]
    fn many_accounts_are_read_a_hundred_at_a_time_in_order() {
        let owner = Pubkey::new_unique();
        let addresses: Vec<Pubkey> = (0..150).map(|_| Pubkey::new_unique()).collect();
        // The first call's 100 accounts exist but the 7th; the second call's 50 all exist.
        let first: Vec<Value> = (0..100u8)
            .map(|i| {
                if i == 6 {
                    Value::Null
                } else {
                    encoded(&owner, &[i])
                }
            })
            .collect();
        let second: Vec<Value> = (100..150u8).map(|i| encoded(&owner, &[i])).collect();
        let mut node = Scripted::new(vec![(
            "getMultipleAccounts",
            vec![context(json!(first)), context(json!(second))],
        )]);
        let accounts = node.chain.accounts(&addresses).unwrap();
        assert_eq!(accounts.len(), 150);
        for (i, account) in accounts.iter().enumerate() {
            match account {
                None => assert_eq!(i, 6),
                Some(a) => assert_eq!(a.data, vec![u8::try_from(i).unwrap()]),
            }
        }
        assert_eq!(node.count("getMultipleAccounts"), 2);
        let requests = node.requests.lock().unwrap();
        let asked: Vec<Value> = addresses.iter().map(|a| json!(a.to_string())).collect();
        assert_eq!(requests[0].1[0], json!(asked[..100]));
        assert_eq!(requests[1].1[0], json!(asked[100..]));
    }

    #[test]
    fn an_answer_of_the_wrong_length_is_refused() {
        let mut node = Scripted::new(vec![(
            "getMultipleAccounts",
            vec![context(json!([Value::Null]))],
        )]);
        let err = node
            .chain
            .accounts(&[Pubkey::new_unique(), Pubkey::new_unique()])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "chain backend: getMultipleAccounts on http://node.test answered 1 accounts for 2 addresses"
        );
    }

    #[test]
    fn minimum_balance_asks_the_node() {
        let mut node = Scripted::new(vec![(
            "getMinimumBalanceForRentExemption",
            vec![Reply::Ok(json!(1_461_600))],
        )]);
        assert_eq!(node.chain.minimum_balance(82).unwrap(), 1_461_600);
    }
}
