//! The `gpu-market` binary: parses the command line, connects to the cluster and runs the
//! command. Errors go to stderr with a non-zero exit status.

use clap::Parser;
use gpu_market::{demo, output::OutputFormat, run, Cli, CliError, Command, Commitment, Context};
use gpu_market_client::{cli_config, RpcChain};
use solana_commitment_config::CommitmentConfig;
use std::{
    io::{stdout, IsTerminal},
    process::ExitCode,
};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn execute(cli: Cli) -> Result<(), CliError> {
    if let Command::Demo(args) = cli.command {
        let mut out: Box<dyn std::io::Write> = Box::new(stdout());
        return demo::run(args, cli.output, &mut out);
    }
    let url =
        cli_config::resolve_url(cli.url.as_deref()).map_err(|e| CliError::input(e.to_string()))?;
    let path = cli_config::resolve_keypair_path(cli.keypair.as_deref());
    let keypair = cli_config::read_keypair(&path).map_err(|e| CliError::input(e.to_string()))?;
    let commitment = match cli.commitment {
        Commitment::Processed => CommitmentConfig::processed(),
        Commitment::Confirmed => CommitmentConfig::confirmed(),
        Commitment::Finalized => CommitmentConfig::finalized(),
    };
    let chain = RpcChain::new(url, keypair.insecure_clone(), commitment);
    let mut ctx = Context {
        chain,
        keypair,
        format: cli.output,
        dry_run: cli.dry_run,
        out: Box::new(stdout()),
        progress: std::io::stderr().is_terminal() && cli.output == OutputFormat::Text,
    };
    run(&mut ctx, cli.command)
}
