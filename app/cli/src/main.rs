//! The `gpu-market` binary: parses the command line, connects to the cluster and runs the
//! command. Errors go to stderr with a non-zero exit status.

use clap::{CommandFactory, FromArgMatches};
use gpu_market::{
    demo, keygen, localnet, market, output::OutputFormat, provider, run, serve, Cli, CliError,
    Command, Commitment, Context, ErrorKind, ErrorReport,
};
use gpu_market_client::{
    cli_config::{self, ConfigError, Setting},
    program_ids, Keypair, RpcChain,
};
use solana_commitment_config::CommitmentConfig;
use std::{
    io::{stdout, IsTerminal},
    process::ExitCode,
};

fn main() -> ExitCode {
    let parsed = command()
        .try_get_matches()
        .and_then(|matches| Ok((Cli::from_arg_matches(&matches)?, matches)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(err) => {
            use clap::error::ErrorKind as ClapKind;
            let shows = matches!(
                err.kind(),
                ClapKind::DisplayHelp
                    | ClapKind::DisplayVersion
                    | ClapKind::DisplayHelpOnMissingArgumentOrSubcommand
            );
            if !shows && wants_json() {
                let message = err.kind().to_string();
                let detail = err
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .trim_start_matches("error: ")
                    .to_owned();
                let report = ErrorReport::usage(if detail.is_empty() { message } else { detail });
                print_json_error(&report);
                return ExitCode::from(report.exit_code);
            }
            err.exit()
        }
    };
    let json = cli.output == OutputFormat::Json;
    // A deployment of its own: program ids from the environment, before any is used. The
    // demo and the local cluster load the programs at the ids they are built with.
    let own_chain = matches!(cli.command, Command::Demo(_) | Command::Localnet(_));
    let overridden = program_ids::ENV
        .iter()
        .any(|(_, key)| std::env::var_os(key).is_some_and(|v| !v.is_empty()));
    if own_chain && overridden {
        eprintln!(
            "note: the GPU_MARKET_*_PROGRAM variables do not apply here: this command runs the programs at the ids they are built with"
        );
    }
    let ids = if own_chain {
        Ok(program_ids::ProgramIds::default())
    } else {
        program_ids::from_env()
    };
    if let Err(why) = ids.and_then(program_ids::set) {
        let report = CliError::input(why).report();
        if json {
            print_json_error(&report);
        } else {
            eprintln!("error: {}", report.message);
        }
        return ExitCode::from(report.exit_code);
    }
    // Where the URL came from matters for the cluster's commands, not the local cluster's
    // own (which default to it).
    let url_defaulted = cli.url.is_none() && !matches!(cli.command, Command::Localnet(_));
    let ran = match cli.command {
        Command::Demo(_) => demo::refuse_cluster_options(&matches),
        _ => Ok(()),
    }
    .and_then(|()| execute(cli));
    match ran {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let mut report = err.report();
            if report.kind == ErrorKind::Network
                && url_defaulted
                && report.message.contains("cannot reach the cluster at")
            {
                report.message.push_str(&format!(
                    " (no --url was given: the URL is {})",
                    cli_config::default_origin(Setting::Url)
                ));
            }
            if json {
                print_json_error(&report);
            } else {
                eprintln!("error: {}", report.message);
            }
            ExitCode::from(report.exit_code)
        }
    }
}

/// The command line's definition, with the demo's help showing only what it honours.
fn command() -> clap::Command {
    demo::hide_cluster_options(Cli::command())
}

/// Whether the command line asks for JSON output, read from the raw arguments (for errors
/// found while parsing them).
fn wants_json() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--output=json")
        || args
            .windows(2)
            .any(|pair| pair[0] == "--output" && pair[1] == "json")
}

fn print_json_error(report: &ErrorReport) {
    let line = serde_json::json!({ "error": report });
    println!("{line}");
}

fn execute(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Demo(args) => {
            let mut out: Box<dyn std::io::Write> = Box::new(stdout());
            return demo::run(args, cli.output, &mut out);
        }
        Command::Keygen(_) if cli.dry_run => {
            return Err(CliError::no_dry_run(
                "keygen",
                "sends nothing (it writes a keypair file)",
            ))
        }
        Command::Keygen(args) => return keygen::run(&args, cli.output, &mut stdout()),
        Command::Localnet(_) if cli.dry_run => {
            return Err(CliError::no_dry_run(
                "localnet",
                "runs a cluster, or funds wallets and moves its clock at once,",
            ))
        }
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
    // Settings nobody gave are named, so that a wrong cluster or wallet is seen at once.
    if cli.url.is_none() {
        eprintln!(
            "using cluster {url} ({})",
            cli_config::default_origin(Setting::Url)
        );
    }
    if cli.keypair.is_none() && keypair.is_ok() {
        eprintln!(
            "using keypair {} ({})",
            path.display(),
            cli_config::default_origin(Setting::Keypair)
        );
    }
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
    // The services may start before their cluster: they wait for it.
    let chain = match &cli.command {
        Command::Market(market::MarketCommand::Serve(_))
        | Command::Provider(provider::ProviderCommand::Serve(_)) => chain.patient(),
        _ => chain,
    };
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
