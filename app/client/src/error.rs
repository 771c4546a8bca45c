//! Errors of the client and its chain backends.

use anchor_lang::solana_program::pubkey::Pubkey;
use solana_instruction_error::InstructionError;
use solana_transaction_error::TransactionError;

/// What went wrong talking to a chain.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The chain executed the transaction and rejected it.
    #[error("transaction rejected: {error}{}", program_error_suffix(.error))]
    Transaction {
        /// The runtime's verdict.
        error: TransactionError,
        /// Program logs of the failed transaction.
        logs: Vec<String>,
    },
    /// The transaction could not be signed with the keypairs given.
    #[error("signing failed: {0}")]
    Signing(String),
    /// No account lives at the address.
    #[error("account {0} does not exist")]
    AccountNotFound(Pubkey),
    /// An account exists but is not of the expected type.
    #[error("account {address} is not a valid {expected}: {reason}")]
    Decode {
        /// The account's address.
        address: Pubkey,
        /// The type it was read as.
        expected: &'static str,
        /// Why decoding failed.
        reason: String,
    },
    /// The chain backend itself failed (transport, runtime).
    #[error("chain backend: {0}")]
    Backend(String),
}

fn program_error_suffix(error: &TransactionError) -> String {
    match error {
        TransactionError::InstructionError(index, InstructionError::Custom(code)) => {
            format!(" (instruction {index}, program error {code})")
        }
        _ => String::new(),
    }
}

impl ClientError {
    /// The failing instruction's error, when the transaction was rejected by an instruction.
    pub fn instruction_error(&self) -> Option<&InstructionError> {
        match self {
            Self::Transaction {
                error: TransactionError::InstructionError(_, err),
                ..
            } => Some(err),
            _ => None,
        }
    }

    /// The custom program error code (Anchor and gpu-market errors), if that is what failed.
    pub fn custom_code(&self) -> Option<u32> {
        match self.instruction_error() {
            Some(InstructionError::Custom(code)) => Some(*code),
            _ => None,
        }
    }

    /// Logs of a rejected transaction; empty for other errors.
    pub fn logs(&self) -> &[String] {
        match self {
            Self::Transaction { logs, .. } => logs,
            _ => &[],
        }
    }
}
