//! The chain a cluster scenario runs on: a validator over RPC when `GPU_MARKET_URL` is
//! set (a localnet `solana-test-validator` with the four programs deployed, paid by the
//! Solana CLI keypair or `GPU_MARKET_KEYPAIR`), else the in-process chain.

use anchor_lang::prelude::Clock;
use gpu_market_client::{
    cli_config, Chain, ClientError, Instruction, Keypair, Memcmp, Pubkey, RpcChain, TxOutcome,
};
use gpu_market_in_process::InProcessChain;
use solana_account::Account;

/// The environment variable that selects the RPC backend.
pub const RPC_URL_VAR: &str = "GPU_MARKET_URL";

/// Either backend, chosen at run time.
pub enum AnyChain {
    InProcess(Box<InProcessChain>),
    Rpc(Box<RpcChain>),
}

impl AnyChain {
    /// The chain `GPU_MARKET_URL` selects.
    pub fn from_env() -> Result<Self, ClientError> {
        match std::env::var(RPC_URL_VAR) {
            Ok(url) => {
                let url = cli_config::resolve_url(Some(&url))
                    .map_err(|e| ClientError::Backend(e.to_string()))?;
                let path = std::env::var_os("GPU_MARKET_KEYPAIR").map(std::path::PathBuf::from);
                let path = cli_config::resolve_keypair_path(path.as_deref());
                let payer = cli_config::read_keypair(&path)
                    .map_err(|e| ClientError::Backend(e.to_string()))?;
                Ok(Self::Rpc(Box::new(RpcChain::new(
                    url,
                    payer,
                    solana_commitment_config::CommitmentConfig::confirmed(),
                ))))
            }
            Err(_) => Ok(Self::InProcess(Box::new(InProcessChain::start()?))),
        }
    }
}

/// Runs `$e` with `$chain` bound to whichever backend `$self` holds.
macro_rules! either {
    ($self:ident, $chain:ident => $e:expr) => {
        match $self {
            AnyChain::InProcess($chain) => $e,
            AnyChain::Rpc($chain) => $e,
        }
    };
}

impl Chain for AnyChain {
    fn payer(&self) -> &Keypair {
        either!(self, chain => chain.payer())
    }

    fn send(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<TxOutcome, ClientError> {
        either!(self, chain => chain.send(ixs, signers))
    }

    fn account(&mut self, address: &Pubkey) -> Result<Option<Account>, ClientError> {
        either!(self, chain => chain.account(address))
    }

    fn accounts(&mut self, addresses: &[Pubkey]) -> Result<Vec<Option<Account>>, ClientError> {
        either!(self, chain => chain.accounts(addresses))
    }

    fn clock(&mut self) -> Result<Clock, ClientError> {
        either!(self, chain => chain.clock())
    }

    fn program_accounts(
        &mut self,
        program: &Pubkey,
        filters: &[Memcmp],
    ) -> Result<Vec<(Pubkey, Account)>, ClientError> {
        either!(self, chain => chain.program_accounts(program, filters))
    }

    fn minimum_balance(&mut self, data_len: usize) -> Result<u64, ClientError> {
        either!(self, chain => chain.minimum_balance(data_len))
    }

    fn wait_until(&mut self, unix_timestamp: i64) -> Result<(), ClientError> {
        either!(self, chain => chain.wait_until(unix_timestamp))
    }

    fn signatures(
        &mut self,
        address: &Pubkey,
        limit: usize,
    ) -> Result<Vec<gpu_market_client::PastSignature>, ClientError> {
        either!(self, chain => chain.signatures(address, limit))
    }

    fn transaction(
        &mut self,
        signature: &gpu_market_client::Signature,
    ) -> Result<Option<TxOutcome>, ClientError> {
        either!(self, chain => chain.transaction(signature))
    }
}
