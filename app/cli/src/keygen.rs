//! `gpu-market keygen`: a new keypair file, so that a newcomer needs no Solana CLI.

use crate::{output::OutputFormat, CliError};
use clap::Args;
use gpu_market_client::{cli_config, Keypair, Signer};
use serde::Serialize;
use std::{fmt, io::Write, path::PathBuf};

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write it, e.g. ~/.config/solana/id.json (the default keypair path of the
    /// Solana CLI and of this one). Missing directories are created.
    #[arg(short = 'o', long = "outfile")]
    pub outfile: PathBuf,
}

/// A keypair just written.
#[derive(Debug, Serialize)]
pub struct KeygenView {
    pub pubkey: String,
    pub path: String,
}

impl fmt::Display for KeygenView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Wrote a new keypair to {}", self.path)?;
        writeln!(f, "pubkey: {}", self.pubkey)?;
        write!(
            f,
            "Keep the file secret and backed up: whoever holds it controls the wallet."
        )
    }
}

/// Writes a new keypair to `args.outfile` (never over an existing file) and prints its
/// public key.
pub fn run(args: &KeygenArgs, format: OutputFormat, out: &mut dyn Write) -> Result<(), CliError> {
    let keypair = Keypair::new();
    cli_config::write_keypair(&args.outfile, &keypair)
        .map_err(|err| CliError::input(err.to_string()))?;
    let view = KeygenView {
        pubkey: keypair.pubkey().to_string(),
        path: args.outfile.display().to_string(),
    };
    crate::output::print(format, out, &view)
}
