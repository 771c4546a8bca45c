//! The `gpu-market` binary: parses the command line, connects to the cluster and runs the
//! command. Errors go to stderr with a non-zero exit status.

use clap::Parser;
use gpu_market::{
    demo, keygen, localnet, market, output::OutputFormat, run, serve, Cli, CliError, Command,
    Commitment, Context,
};
use gpu_market_client::{
    cli_config::{self, ConfigError},
    Keypair, RpcChain,
};
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
    match cli.command {
        Command::Demo(args) => {
            let mut out: Box<dyn std::io::Write> = Box::new(stdout());
            return demo::run(args, cli.output, &mut out);
        }
        Command::Keygen(args) => return keygen::run(&args, cli.output, &mut stdout()),
        Command::Localnet(args) => {
            // `fund` and `time-travel` address the local cluster unless told otherwise.
            let url = cli.url.clone().unwrap_or_else(|| "l".to_owned());
            return localnet::run(
                args,
                || localnet::resolve_url(Some(&url)),
                cli.output,
                &mut stdout(),
            );
        }
        _ => {}
    }
    let url =
        cli_config::resolve_url(cli.url.as_deref()).map_err(|e| CliError::input(e.to_string()))?;
    let path = cli_config::resolve_keypair_path(cli.keypair.as_deref());
    // A command that only reads runs without a keypair file at the default path; one named
    // with -k (or GPU_MARKET_KEYPAIR) must exist.
    let keypair = match cli_config::read_keypair(&path) {
        Ok(keypair) => Ok(keypair),
        Err(err @ ConfigError::KeypairNotFound { .. })
            if cli.keypair.is_none() && cli.command.reads_only() =>
        {
            Err(err.to_string())
        }
        Err(err) => return Err(CliError::input(err.to_string())),
    };
    let commitment = match cli.commitment {
        Commitment::Processed => CommitmentConfig::processed(),
        Commitment::Confirmed => CommitmentConfig::confirmed(),
        Commitment::Finalized => CommitmentConfig::finalized(),
    };
    // Without a keypair the chain only reads: its payer, a key of no account, never signs.
    let payer = keypair
        .as_ref()
        .map_or_else(|_| Keypair::new(), Keypair::insecure_clone);
    let chain = RpcChain::new(url, payer, commitment);
    let mut ctx = Context {
        chain,
        keypair,
        format: cli.output,
        dry_run: cli.dry_run,
        out: Box::new(stdout()),
        progress: std::io::stderr().is_terminal() && cli.output == OutputFormat::Text,
    };
    match cli.command {
        Command::Market(market::MarketCommand::Serve(args)) => serve::run(&mut ctx, args),
        command => run(&mut ctx, command),
    }
}
