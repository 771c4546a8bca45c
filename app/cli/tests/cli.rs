//! The `gpu-market` command line: help for every command, dry runs that decode to the
//! expected instructions, clear errors for bad input, and the demo's conservation check.

use base64::Engine;
use clap::{CommandFactory, Parser};
use gpu_market::{run, Cli, Context};
use gpu_market_client::{escrow, pda, staking, token, Chain, Instruction, Keypair, Signer};
use gpu_market_in_process::InProcessChain;
use gpu_market_tests::fixtures::*;
use solana_transaction::Transaction;
use std::{
    cell::RefCell,
    io::Write,
    process::{Command, Output},
    rc::Rc,
};

fn binary(args: &[&str]) -> Output {
    binary_at_home(&std::env::temp_dir(), args)
}

/// Runs the binary with `home` as its home directory, where it looks for the Solana CLI's
/// config and default keypair: no config of the machine's may leak in.
fn binary_at_home(home: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gpu-market"))
        .args(args)
        .env("HOME", home)
        .env_remove("GPU_MARKET_URL")
        .env_remove("GPU_MARKET_KEYPAIR")
        .output()
        .expect("run gpu-market")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn every_command_has_help() {
    fn walk(cmd: &mut clap::Command, path: &mut Vec<String>, seen: &mut usize) {
        let help = cmd.render_long_help().to_string();
        assert!(help.contains("Usage:"), "no usage for {path:?}");
        if !path.is_empty() {
            assert!(
                cmd.get_about().is_some(),
                "`gpu-market {}` has no description",
                path.join(" ")
            );
        }
        *seen += 1;
        for sub in cmd.get_subcommands_mut() {
            if sub.get_name() == "help" {
                continue;
            }
            path.push(sub.get_name().to_string());
            walk(sub, path, seen);
            path.pop();
        }
    }
    let mut cli = Cli::command();
    cli.build();
    let mut seen = 0;
    walk(&mut cli, &mut Vec::new(), &mut seen);
    // gpu-market, its 8 nouns and their 30 verbs.
    assert!(seen >= 39, "only {seen} commands");

    let top = binary(&["--help"]);
    assert!(top.status.success());
    let text = String::from_utf8_lossy(&top.stdout);
    for noun in [
        "provider", "stake", "job", "market", "rewards", "admin", "verify", "demo",
    ] {
        assert!(text.contains(noun), "{noun} missing from --help");
    }
    let nested = binary(&["job", "submit", "--help"]);
    assert!(nested.status.success());
    assert!(String::from_utf8_lossy(&nested.stdout).contains("--max-price"));
}

#[test]
fn unknown_size_unit_is_a_clear_error() {
    let out = binary(&[
        "job",
        "submit",
        "--min-vram",
        "24GX",
        "--max-price",
        "2",
        "--duration",
        "1h",
        "--command",
        "true",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: invalid value '24GX' for '--min-vram <MIN_VRAM>': unknown size unit 'gx' in '24GX': use MiB, GiB, TiB (powers of 1024) or MB, GB, TB (powers of 1000), e.g. 24GiB\n\nFor more information, try '--help'.\n"
    );
}

/// One set of units: a duration without a unit, an ambiguous size and an unknown region
/// are refused at parsing, each saying what to write instead.
#[test]
fn bare_numbers_and_ambiguous_units_are_refused() {
    for (args, message) in [
        (
            &["job", "watch", "11111111111111111111111111111111", "--interval", "5"][..],
            "error: invalid value '5' for '--interval <INTERVAL>': '5' has no unit: write 5s, 5m, 5h or 5d",
        ),
        (
            &["demo", "--step", "30"][..],
            "error: invalid value '30' for '--step <STEP>': '30' has no unit: write 30s, 30m, 30h or 30d",
        ),
        (
            &["job", "submit", "--min-vram", "24G", "--max-price", "2", "--duration", "1h30m", "--command", "true"][..],
            "error: invalid value '24G' for '--min-vram <MIN_VRAM>': '24G' is ambiguous: write 24GiB (powers of 1024) or 24GB (powers of 1000)",
        ),
        (
            &["job", "submit", "--region", "999", "--max-price", "2", "--duration", "1h", "--command", "true"][..],
            "error: invalid value '999' for '--region <REGION>': '999' is not an ISO 3166-1 numeric country code",
        ),
        (
            &["admin", "init", "--unbonding-period", "2419200"][..],
            "error: invalid value '2419200' for '--unbonding-period <UNBONDING_PERIOD>': '2419200' has no unit: write 2419200s, 2419200m, 2419200h or 2419200d",
        ),
        (
            &["admin", "init", "--genesis-time", "1700000000"][..],
            "error: invalid value '1700000000' for '--genesis-time <GENESIS_TIME>': '1700000000' is a bare number: write a date, e.g. 2026-12-01T00:00:00Z",
        ),
        (
            &["admin", "init", "--crank-tip=-1"][..],
            "error: invalid value '-1' for '--crank-tip <CRANK_TIP>': '-1' is negative: amounts and prices must be 0 or more",
        ),
    ] {
        let out = binary(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(
            stderr(&out).lines().next(),
            Some(message),
            "{args:?}"
        );
    }
}

#[test]
fn negative_price_is_a_clear_error() {
    let out = binary(&[
        "job",
        "submit",
        "--max-price",
        "-1",
        "--duration",
        "1h",
        "--command",
        "true",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("'-1' is negative: amounts and prices must be 0 or more"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn missing_keypair_file_is_a_clear_error() {
    let out = binary(&["-k", "/nonexistent/gpu-market/id.json", "stake", "show"]);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("/nonexistent/gpu-market/id.json"), "{err}");
    assert!(err.contains("not found"), "{err}");
}

/// Exit statuses tell usage, bad input, network and on-chain refusal apart; with
/// `--output json` the failure itself is JSON on stdout.
#[test]
fn failures_have_an_exit_status_per_kind_and_a_json_report() {
    let json = |out: &Output| -> serde_json::Value {
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"))
    };
    let home = tempfile::tempdir().unwrap();
    let out = binary_at_home(
        home.path(),
        &[
            "--output",
            "json",
            "-u",
            "http://127.0.0.1:9",
            "job",
            "list",
        ],
    );
    assert_eq!(out.status.code(), Some(4));
    let report = json(&out);
    assert_eq!(report["error"]["kind"], "network");
    assert_eq!(report["error"]["exit_code"], 4);
    assert!(
        report["error"]["message"]
            .as_str()
            .unwrap()
            .contains("http://127.0.0.1:9"),
        "{report}"
    );
    assert!(out.stderr.is_empty(), "{}", stderr(&out));

    let out = binary(&[
        "--output",
        "json",
        "job",
        "watch",
        "11111111111111111111111111111111",
        "--interval",
        "5",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        json(&out),
        serde_json::json!({"error": {
            "kind": "usage",
            "message": "invalid value '5' for '--interval <INTERVAL>': '5' has no unit: write 5s, 5m, 5h or 5d",
            "exit_code": 2,
            "program_error": null,
        }})
    );

    let out = binary(&[
        "--output=json",
        "-k",
        "/nonexistent/gpu-market/id.json",
        "stake",
        "show",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(json(&out)["error"]["kind"], "input");

    // A program's refusal names the program error.
    let mut m = Market::new();
    let owner = m.wallet(500 * TOKEN);
    let refused = gpu_market::CliError::from(m.stake(&owner, 0).unwrap_err()).report();
    assert_eq!(refused.kind, gpu_market::ErrorKind::Refused);
    assert_eq!(refused.exit_code, 5);
    let program_error = refused.program_error.expect("a program error");
    assert_eq!(program_error.program, "staking");
    assert_eq!(
        program_error.code,
        u32::from(::staking::error::StakingError::ZeroAmount)
    );
    assert_eq!(program_error.name, "ZeroAmount");

    // --help lists the statuses.
    let help = binary(&["--help"]);
    assert!(
        String::from_utf8_lossy(&help.stdout)
            .contains("Exit status: 0 done; 1 local I/O failed; 2 usage"),
        "{}",
        String::from_utf8_lossy(&help.stdout)
    );
}

/// With nothing listening, commands say the cluster cannot be reached (at once, naming
/// the URL and where it came from), not that an account does not exist.
#[test]
fn an_unreachable_cluster_is_named_as_such() {
    let home = tempfile::tempdir().unwrap();
    let keypair = home.path().join("id.json");
    let made = binary(&["keygen", "-o", keypair.to_str().unwrap()]);
    assert!(made.status.success(), "{}", stderr(&made));
    let k = keypair.to_str().unwrap();
    for args in [
        &["-k", k, "-u", "http://127.0.0.1:9", "stake", "deposit", "1"][..],
        &["-k", k, "-u", "http://127.0.0.1:9", "rewards", "show"][..],
        &["-k", k, "-u", "http://127.0.0.1:9", "provider", "show"][..],
    ] {
        let out = binary_at_home(home.path(), args);
        assert_eq!(out.status.code(), Some(4), "{args:?}");
        assert_eq!(
            stderr(&out),
            "error: chain backend: cannot reach the cluster at http://127.0.0.1:9: nothing answers there (error sending request for url (http://127.0.0.1:9/))\n",
            "{args:?}"
        );
    }
    // Without -u, the message says where the URL came from.
    let out = binary_at_home(home.path(), &["-k", k, "job", "list"]);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(
        stderr(&out),
        "using cluster http://localhost:8899 (the default: no json_rpc_url in a Solana CLI config)\n\
         error: chain backend: cannot reach the cluster at http://localhost:8899: nothing answers there (error sending request for url (http://localhost:8899/)) (no --url was given: the URL is the default: no json_rpc_url in a Solana CLI config)\n"
    );
    // A keypair from the Solana CLI config is named too.
    let config = home.path().join(".config/solana/cli");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.yml"),
        format!("json_rpc_url: http://127.0.0.1:9\nkeypair_path: {k}\n"),
    )
    .unwrap();
    let out = binary_at_home(home.path(), &["stake", "show"]);
    assert_eq!(out.status.code(), Some(4));
    let config = config.join("config.yml");
    assert_eq!(
        stderr(&out).lines().take(2).collect::<Vec<_>>(),
        [
            format!(
                "using cluster http://127.0.0.1:9 (the json_rpc_url of the Solana CLI config {})",
                config.display()
            ),
            format!(
                "using keypair {k} (the keypair_path of the Solana CLI config {})",
                config.display()
            ),
        ]
    );
}

/// Help reads well: global options under their own heading, every argument of every
/// command described, and `job submit` without a workload naming every way to give one.
#[test]
fn help_describes_every_argument_and_groups_the_global_ones() {
    fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{path} {id}"));
            }
        }
        for sub in command.get_subcommands() {
            walk(sub, &format!("{path} {}", sub.get_name()), missing);
        }
    }
    let mut command = Cli::command();
    command.build();
    let mut missing = Vec::new();
    walk(&command, "gpu-market", &mut missing);
    assert_eq!(missing, Vec::<String>::new(), "arguments without help");

    let help = binary(&["job", "submit", "--help"]);
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("Global options:\n"), "{text}");
    let global = text.split("Global options:\n").nth(1).unwrap();
    for flag in [
        "--url",
        "--keypair",
        "--output",
        "--dry-run",
        "--commitment",
    ] {
        assert!(
            global.contains(flag),
            "{flag} not under Global options: {text}"
        );
    }

    let out = binary(&["job", "submit", "--max-price", "1", "--duration", "1h"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).lines().take(2).collect::<Vec<_>>(),
        [
            "error: the following required arguments were not provided:",
            "  <--manifest <MANIFEST>|--image <IMAGE>|--command <COMMAND>>"
        ]
    );
}

/// A workload no provider could run is refused before anything is escrowed.
#[test]
fn an_image_no_node_can_run_is_refused_before_escrow() {
    let mut m = Market::with_escrow();
    let client = m.client(100 * TOKEN);
    let digest = "ab".repeat(32);
    for (image, reason) in [
        (
            "ghcr.io/acme/infer@sha256:00",
            "image must not carry a digest of its own; give it with --digest",
        ),
        (
            "ghcr.io/acme/in fer",
            "image may only contain letters, digits and ._-/:",
        ),
    ] {
        let (chain, result, _) = run_in_process(
            m.chain,
            &client.keypair,
            &[
                "job",
                "submit",
                "--max-price",
                "2",
                "--duration",
                "1h",
                "--image",
                image,
                "--digest",
                &digest,
                "--job-id",
                "1",
            ],
        );
        m.chain = chain;
        assert_eq!(
            result.unwrap_err().to_string(),
            format!("--image {image:?} cannot run on any node: {reason}")
        );
        assert!(!m.chain.exists(&pda::job(&client.pubkey(), 1)).unwrap());
        assert_eq!(
            token::balance(&mut m.chain, &client.tokens).unwrap(),
            100 * TOKEN
        );
    }
}

/// `-k operator.json provider serve` finds the node its key operates; a key that neither
/// owns nor operates a node is told so.
#[test]
fn provider_serve_finds_its_node_by_the_operator_key() {
    let mut m = Market::with_escrow();
    let provider = m.provider(1);
    let operator = m.wallet(0);
    m.chain
        .send(
            &[gpu_market_client::registry::set_operator(
                &provider.pubkey(),
                &operator.pubkey(),
            )],
            &[&provider.keypair],
        )
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    let work_dir = work.path().to_str().unwrap();
    let serve = [
        "provider",
        "serve",
        "--passes",
        "1",
        "--no-api",
        "--work-dir",
        work_dir,
    ];

    // A heartbeat is due an hour on.
    let now = m.chain.now().unwrap();
    m.chain.wait_until(now + 3_600).unwrap();
    // With --output json, every line is one JSON event: when, what, and the line's text.
    let (chain, result, out) = run_in_process(
        m.chain,
        &operator.keypair,
        &[&["--output", "json"][..], &serve].concat(),
    );
    m.chain = chain;
    result.unwrap_or_else(|e| panic!("{e}: {out}"));
    let events: Vec<serde_json::Value> = out
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    for event in &events {
        let time = event["time"].as_str().unwrap();
        assert!(time.len() == 20 && time.ends_with('Z'), "{event}");
        assert!(event["message"].is_string(), "{event}");
    }
    let serving = events
        .iter()
        .find(|e| e["event"] == "serving")
        .expect("serving");
    // The executor is the machine's (a container runtime where there is one).
    let message = serving["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "serving provider {} with executor ",
            pda::provider(&provider.pubkey())
        )) && message.ends_with(&format!(" (work dir {work_dir})")),
        "{message}"
    );
    let heartbeat = events
        .iter()
        .find(|e| e["event"] == "heartbeat")
        .unwrap_or_else(|| panic!("no heartbeat: {out}"));
    assert_eq!(heartbeat["message"], "heartbeat");
    // It ends with what its own transactions cost: here each heartbeat it sent (an uptime
    // record, where rewards are set up, shares its transaction), at the base fee of one
    // signature each.
    let usage = events.last().unwrap();
    assert_eq!(usage["event"], "usage", "{out}");
    let landed = events.iter().filter(|e| e["event"] == "heartbeat").count();
    let recorded = events
        .iter()
        .filter(|e| e["event"] == "uptime_recorded")
        .count();
    assert!(recorded <= landed, "{out}");
    assert_eq!(usage["transactions"], landed);
    assert_eq!(usage["refused"], 0);
    assert_eq!(usage["fees_sol"], landed as f64 * 5_000.0 / 1e9);

    // In text, the same lines as text.
    let (chain, result, out) = run_in_process(m.chain, &operator.keypair, &serve);
    m.chain = chain;
    result.unwrap_or_else(|e| panic!("{e}: {out}"));
    assert!(
        out.contains(&format!(
            "serving provider {}",
            pda::provider(&provider.pubkey())
        )),
        "{out}"
    );

    let stranger = m.wallet(0);
    let (_, result, _) = run_in_process(m.chain, &stranger.keypair, &serve);
    assert_eq!(
        result.unwrap_err().to_string(),
        format!(
            "no node has {} as its authority or operator: register with `gpu-market provider register`, or pass --authority",
            stranger.pubkey()
        )
    );
}

#[test]
fn keygen_writes_a_new_keypair_and_never_overwrites_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallets/id.json");
    let shown = path.to_str().unwrap();
    let out = binary(&["--output", "json", "keygen", "-o", shown]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keypair = gpu_market_client::cli_config::read_keypair(&path).unwrap();
    assert_eq!(printed["pubkey"], keypair.pubkey().to_string());
    assert_eq!(printed["path"], shown);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = binary(&["keygen", "-o", shown]);
    assert_eq!(again.status.code(), Some(3));
    assert_eq!(
        stderr(&again),
        format!("error: keypair file {shown} already exists: refusing to overwrite it\n")
    );
    let kept = gpu_market_client::cli_config::read_keypair(&path).unwrap();
    assert_eq!(kept.pubkey(), keypair.pubkey());
}

/// With no keypair at the default path, a command that signs says how to make one without
/// the Solana CLI, before it reaches any cluster.
#[test]
fn a_missing_default_keypair_says_how_to_make_one() {
    let home = tempfile::tempdir().unwrap();
    let out = binary_at_home(home.path(), &["stake", "deposit", "1"]);
    assert_eq!(out.status.code(), Some(3));
    let path = home.path().join(".config/solana/id.json");
    let path = path.display();
    assert_eq!(
        stderr(&out),
        format!(
            "error: keypair file {path} not found: create one with `gpu-market keygen -o \
             {path}` (no Solana CLI needed) or pass -k\n"
        )
    );
}

/// The binary runs a command that reads with no keypair file: it goes to the cluster (here
/// nothing listens) instead of stopping at the keypair.
#[test]
fn a_command_that_reads_needs_no_keypair_file() {
    let home = tempfile::tempdir().unwrap();
    let out = binary_at_home(home.path(), &["-u", "http://127.0.0.1:9", "job", "list"]);
    assert_eq!(out.status.code(), Some(4));
    let err = stderr(&out);
    assert!(err.contains("http://127.0.0.1:9"), "{err}");
    assert!(!err.contains("keypair"), "{err}");
}

#[test]
fn only_commands_that_read_run_without_a_keypair() {
    let reads = |args: &[&str]| {
        Cli::try_parse_from(std::iter::once("gpu-market").chain(args.iter().copied()))
            .unwrap()
            .command
            .reads_only()
    };
    for args in [
        &["job", "list"][..],
        &["job", "list", "--mine"],
        &["job", "show", "11111111111111111111111111111111"],
        &["job", "watch", "11111111111111111111111111111111"],
        &["provider", "list"],
        &["provider", "show"],
        &["market", "stats"],
        &["market", "match", "--no-upkeep"],
        &["rewards", "show"],
        &["balance"],
        &["balance", "--owner", "11111111111111111111111111111111"],
    ] {
        assert!(reads(args), "{args:?}");
    }
    for args in [
        &["market", "match"][..],
        &["stake", "show"],
        &["stake", "deposit", "1"],
        &["rewards", "claim"],
        &["rewards", "crank"],
        &["provider", "pause"],
        &["job", "cancel", "11111111111111111111111111111111"],
        &["keygen", "-o", "x.json"],
        &["localnet"],
        &["localnet", "fund", "11111111111111111111111111111111"],
        &["localnet", "time-travel", "1h"],
    ] {
        assert!(!reads(args), "{args:?}");
    }
}

/// In process, as the binary runs them with no keypair file: what reads works, and what
/// needs to know who you are says why it cannot.
#[test]
fn read_only_commands_work_without_a_keypair() {
    let mut m = Market::with_escrow();
    let provider = m.provider(2);
    let client = m.client(100 * TOKEN);
    m.create_job(&client, gpu_market_tests::escrow::batch_job(1, 2))
        .unwrap();
    let why = || Err("keypair file /home/new/id.json not found".to_string());
    let (chain, result, out) = run_as(m.chain, why(), &["--output", "json", "job", "list"]);
    result.expect("job list");
    let jobs: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(jobs.as_array().map(Vec::len), Some(1), "{out}");
    let (chain, result, out) = run_as(chain, why(), &["--output", "json", "provider", "list"]);
    result.expect("provider list");
    let nodes: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(nodes.as_array().map(Vec::len), Some(1), "{out}");
    let authority = provider.pubkey().to_string();
    let (chain, result, _) = run_as(
        chain,
        why(),
        &["provider", "show", "--authority", &authority],
    );
    result.expect("provider show --authority");
    let (chain, result, _) = run_as(chain, why(), &["market", "stats"]);
    result.expect("market stats");
    let mut chain = chain;
    for args in [
        &["provider", "show"][..],
        &["job", "list", "--mine"],
        &["stake", "deposit", "1"],
    ] {
        let (back, result, _) = run_as(chain, why(), args);
        chain = back;
        assert_eq!(
            result.unwrap_err().to_string(),
            "keypair file /home/new/id.json not found",
            "{args:?}"
        );
    }
}

/// Output captured from a command run in process.
#[derive(Clone, Default)]
struct Captured(Rc<RefCell<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `args` (after `gpu-market`) against `chain` as `keypair`.
fn run_in_process(
    chain: InProcessChain,
    keypair: &Keypair,
    args: &[&str],
) -> (InProcessChain, Result<(), gpu_market::CliError>, String) {
    run_as(chain, Ok(keypair.insecure_clone()), args)
}

/// Runs `args` against `chain` as `keypair`, or with no keypair and its reason.
fn run_as(
    chain: InProcessChain,
    keypair: Result<Keypair, String>,
    args: &[&str],
) -> (InProcessChain, Result<(), gpu_market::CliError>, String) {
    let cli = Cli::try_parse_from(std::iter::once("gpu-market").chain(args.iter().copied()))
        .expect("arguments parse");
    let captured = Captured::default();
    let mut ctx = Context {
        chain,
        keypair,
        format: cli.output,
        dry_run: cli.dry_run,
        out: Box::new(captured.clone()),
        progress: false,
    };
    let result = run(&mut ctx, cli.command);
    let text = String::from_utf8(captured.0.borrow().clone()).unwrap();
    (ctx.chain, result, text)
}

fn decode_dry_run(json: &str) -> Transaction {
    let value: serde_json::Value = serde_json::from_str(json).expect("json output");
    let b64 = value["transaction"].as_str().expect("a transaction");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64");
    bincode::deserialize(&bytes).expect("a transaction")
}

fn instructions(tx: &Transaction) -> Vec<Instruction> {
    let keys = &tx.message.account_keys;
    tx.message
        .instructions
        .iter()
        .map(|ix| Instruction {
            program_id: keys[usize::from(ix.program_id_index)],
            accounts: ix
                .accounts
                .iter()
                .map(|&i| {
                    let i = usize::from(i);
                    let key = keys[i];
                    let meta = if tx.message.is_maybe_writable(i, None) {
                        anchor_lang::solana_program::instruction::AccountMeta::new
                    } else {
                        anchor_lang::solana_program::instruction::AccountMeta::new_readonly
                    };
                    let mut meta = meta(key, tx.message.is_signer(i));
                    meta.is_signer = tx.message.is_signer(i);
                    meta
                })
                .collect(),
            data: ix.data.clone(),
        })
        .collect()
}

#[test]
fn dry_run_stake_deposit_decodes_to_the_stake_instruction() {
    let mut m = Market::new();
    let wallet = m.wallet(500 * TOKEN);
    let (chain, result, out) = run_in_process(
        m.chain,
        &wallet.keypair,
        &["--dry-run", "--output", "json", "stake", "deposit", "250.5"],
    );
    result.expect("dry run");
    let tx = decode_dry_run(&out);
    let expected = staking::stake(
        &wallet.pubkey(),
        &wallet.tokens,
        &m.stake_mint,
        &token::TOKEN_PROGRAM,
        250_500_000,
    );
    assert_eq!(instructions(&tx), vec![expected]);
    assert_eq!(tx.message.account_keys[0], wallet.pubkey());
    // Nothing was sent.
    let mut chain = chain;
    assert!(!chain.exists(&pda::stake_account(&wallet.pubkey())).unwrap());
}

/// `--dry-run` builds what needs no account of the cluster without reaching it (a
/// blockhash is only needed to sign), and the commands that cannot honour it refuse it
/// with a usage error before doing anything.
#[test]
fn dry_run_works_offline_and_is_refused_where_it_cannot_be_honoured() {
    let home = tempfile::tempdir().unwrap();
    let keypair = home.path().join("id.json");
    assert!(binary(&["keygen", "-o", keypair.to_str().unwrap()])
        .status
        .success());
    let k = keypair.to_str().unwrap();
    let me = gpu_market_client::cli_config::read_keypair(&keypair)
        .unwrap()
        .pubkey();
    // Nothing listens on port 9.
    let offline = ["-k", k, "-u", "http://127.0.0.1:9", "--dry-run"];
    let out = binary_at_home(
        home.path(),
        &[&offline[..], &["--output", "json", "provider", "pause"]].concat(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let tx = decode_dry_run(&String::from_utf8_lossy(&out.stdout));
    let mut expected = gpu_market_client::registry::pause_provider(&me, &me);
    // The signer pays the fee, which makes it writable in the transaction.
    expected.accounts[0].is_writable = true;
    assert_eq!(instructions(&tx), vec![expected]);
    assert_eq!(tx.signatures, vec![Default::default()], "unsigned");

    for (args, message) in [
        (
            &["provider", "serve"][..],
            "error: provider serve sends heartbeats, bids and results as its node works and cannot honour --dry-run\n",
        ),
        (
            &["market", "serve"][..],
            "error: market serve sends transactions as it goes and cannot honour --dry-run: use `market match --no-upkeep` to see a round without sending\n",
        ),
        (
            &["admin", "init"][..],
            "error: admin init sends several transactions, each depending on what the one before made, and cannot honour --dry-run\n",
        ),
        (
            &["demo"][..],
            "error: the demo sends the transactions of a whole market as it runs and cannot honour --dry-run\n",
        ),
        (
            &["localnet", "fund", "11111111111111111111111111111111"][..],
            "error: localnet runs a cluster, or funds wallets and moves its clock at once, and cannot honour --dry-run\n",
        ),
        (
            &["rewards", "crank"][..],
            "error: rewards crank sends the folds and finalizations due as it finds them, and cannot honour --dry-run\n",
        ),
        (
            &["keygen", "-o", "never-written.json"][..],
            "error: keygen sends nothing (it writes a keypair file) and cannot honour --dry-run\n",
        ),
    ] {
        let out = binary_at_home(home.path(), &[&offline[..], args].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), message, "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    assert!(!home.path().join("never-written.json").exists());
}

/// The demo runs a chain of its own: its help offers no cluster option, and one given is
/// refused rather than silently ignored.
#[test]
fn the_demo_neither_offers_nor_takes_cluster_options() {
    let help = binary(&["demo", "--help"]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in ["--url", "--keypair", "--commitment", "--dry-run"] {
        assert!(!text.contains(flag), "{flag} offered: {text}");
    }
    assert!(text.contains("--output"), "{text}");
    for (args, flag) in [
        (&["demo", "-u", "d"][..], "--url"),
        (&["demo", "--keypair", "id.json"][..], "--keypair"),
        (&["demo", "--commitment", "finalized"][..], "--commitment"),
    ] {
        let out = binary(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(
            stderr(&out),
            format!("error: the demo runs a chain of its own in this process: {flag} does not apply to it\n")
        );
    }
}

#[test]
fn dry_run_job_submit_decodes_to_create_job() {
    let mut m = Market::with_escrow();
    let client = m.client(1_000 * TOKEN);
    // `job submit` of two 24GiB GPUs for 2h at 2.10 running `echo hi`, in `region`.
    let submit = |chain, region: &str| {
        run_in_process(
            chain,
            &client.keypair,
            &[
                "--dry-run",
                "--output",
                "json",
                "job",
                "submit",
                "--gpus",
                "2",
                "--min-vram",
                "24GiB",
                "--max-price",
                "2.10",
                "--duration",
                "2h",
                "--region",
                region,
                "--gpu-class",
                "any",
                "--command",
                "echo hi",
                "--job-id",
                "7",
            ],
        )
    };
    let expected = |region: u16, verification: [u8; 32]| {
        escrow::create_job(
            &client.pubkey(),
            &m.payment_mint,
            &token::TOKEN_PROGRAM,
            job_escrow::CreateJobArgs {
                job_id: 7,
                requirements: gpu_market_client::registry::Requirements {
                    gpu_class: gpu_market_client::registry::ClassFilter::Any,
                    gpu_count: 2,
                    min_vram_mib: 24 * 1024,
                    min_cpu_cores: 0,
                    min_ram_mib: 0,
                    region,
                    min_benchmark: 0,
                    attested_only: false,
                },
                workload: gpu_market_agent::executor::process_workload("echo hi"),
                kind: escrow::JobKind::Batch,
                mode: escrow::JobMode::Instant,
                max_price_per_gpu_hour: 2_100_000,
                max_duration: 7_200,
                verification,
            },
        )
    };
    // The verification commitment closes the instruction's data, drawn afresh per job.
    let commitment =
        |ix: &Instruction| -> [u8; 32] { ix.data[ix.data.len() - 32..].try_into().unwrap() };
    let (mut chain, result, out) = submit(m.chain, "DE");
    result.expect("dry run");
    let sent = instructions(&decode_dry_run(&out));
    let first = commitment(&sent[0]);
    assert_eq!(sent, vec![expected(REGION_DE, first)]);
    assert!(!chain.exists(&pda::job(&client.pubkey(), 7)).unwrap());
    // `any`, where the help offers it, asks for no region (and `--gpu-class any` for no
    // class).
    let (chain, result, out) = submit(chain, "any");
    result.expect("dry run");
    let sent = instructions(&decode_dry_run(&out));
    let second = commitment(&sent[0]);
    assert_eq!(sent, vec![expected(0, second)]);
    assert_ne!(first, second, "each job draws its own commitment");

    // A class given is asked for.
    let (_, result, out) = run_in_process(
        chain,
        &client.keypair,
        &[
            "--dry-run",
            "--output",
            "json",
            "job",
            "submit",
            "--max-price",
            "2.10",
            "--duration",
            "2h",
            "--gpu-class",
            "datacenter",
            "--command",
            "echo hi",
            "--job-id",
            "8",
        ],
    );
    result.expect("dry run");
    let data = &instructions(&decode_dry_run(&out))[0].data;
    let args = <job_escrow::instruction::CreateJob as anchor_lang::AnchorDeserialize>::deserialize(
        &mut &data[8..],
    )
    .unwrap()
    .args;
    assert_eq!(
        args.requirements.gpu_class,
        gpu_market_client::registry::ClassFilter::Datacenter
    );
}

#[test]
fn a_job_the_client_cannot_pay_for_fails_clearly_and_changes_nothing() {
    let mut m = Market::with_escrow();
    let client = m.client(TOKEN);
    let (mut chain, result, _) = run_in_process(
        m.chain,
        &client.keypair,
        &[
            "job",
            "submit",
            "--max-price",
            "2.10",
            "--duration",
            "2h",
            "--command",
            "true",
            "--job-id",
            "1",
        ],
    );
    let err = result.expect_err("cannot pay").to_string();
    // 4.20 for two hours at 2.10, and a 0.01 tip for each of the job's two attempts.
    assert!(err.contains("the job escrows 4.22"), "{err}");
    assert!(err.contains("holds 1.00"), "{err}");
    assert!(!chain.exists(&pda::job(&client.pubkey(), 1)).unwrap());
    assert_eq!(token::balance(&mut chain, &client.tokens).unwrap(), TOKEN);
}

/// `provider show` of `keypair`'s node, as JSON.
fn provider_show(chain: InProcessChain, keypair: &Keypair) -> serde_json::Value {
    let (_, result, out) =
        run_in_process(chain, keypair, &["--output", "json", "provider", "show"]);
    result.expect("show");
    serde_json::from_str(&out).unwrap()
}

/// `--detect` on a machine without an NVIDIA driver falls back to the specs given, and
/// without them says what to give. (CI machines have no driver; on one with NVML the
/// detected GPUs are registered instead, which the first assertion shows.)
#[test]
fn register_detect_falls_back_to_the_given_specs() {
    let mut m = Market::with_escrow();
    let wallet = m.wallet(400 * TOKEN);
    let stake = m.stake_ix(&wallet, 400 * TOKEN);
    m.chain.send(&[stake], &[&wallet.keypair]).unwrap();
    let base = [
        "provider",
        "register",
        "--detect",
        "--cpu-cores",
        "16",
        "--ram",
        "64GiB",
        "--region",
        "DE",
        "--price",
        "0.40",
        "--endpoint",
        "https://node.example",
    ];
    let no_driver = gpu_market_agent::gpu::detect().is_err();
    let (chain, result, _) = run_in_process(m.chain, &wallet.keypair, &base);
    if no_driver {
        let err = result.unwrap_err().to_string();
        assert!(err.starts_with("--detect: NVML not available"), "{err}");
        assert!(
            err.ends_with("; give the GPUs by hand with --gpu-model, --gpus and --vram"),
            "{err}"
        );
    }
    let mut args = base.to_vec();
    args.extend([
        "--gpu-model",
        "NVIDIA GeForce RTX 4090",
        "--gpus",
        "1",
        "--vram",
        "24GiB",
    ]);
    let (chain, result, _) = run_in_process(chain, &wallet.keypair, &args);
    if no_driver {
        result.expect("register with the given specs");
        let shown = provider_show(chain, &wallet.keypair);
        assert_eq!(shown["gpu_model"], "NVIDIA GeForce RTX 4090");
        assert_eq!(shown["vram"], "24GiB");
    }
}

#[test]
fn register_and_show_a_provider() {
    let mut m = Market::with_escrow();
    let wallet = m.wallet(400 * TOKEN);
    let stake = m.stake_ix(&wallet, 400 * TOKEN);
    m.chain.send(&[stake], &[&wallet.keypair]).unwrap();
    let (chain, result, out) = run_in_process(
        m.chain,
        &wallet.keypair,
        &[
            "provider",
            "register",
            "--gpu-model",
            "NVIDIA H100 80GB HBM3",
            "--gpus",
            "4",
            "--vram",
            "80GiB",
            "--cpu-cores",
            "64",
            "--ram",
            "512GiB",
            "--region",
            "DE",
            "--price",
            "2.10",
            "--endpoint",
            "https://node.example",
        ],
    );
    result.expect("register");
    assert!(out.starts_with("registered: provider"), "{out}");
    let shown = provider_show(chain, &wallet.keypair);
    assert_eq!(shown["gpu_class"], "Datacenter");
    assert_eq!(shown["vram"], "80GiB");
    assert_eq!(shown["price_per_gpu_hour"], "2.10");
    assert_eq!(shown["region"], "DE");
    assert_eq!(shown["gpus"], 4);
}

/// The same seed gives the same market to the base unit, whatever the machine's speed;
/// options out of range are refused before anything runs.
#[test]
fn the_demo_is_the_same_for_a_seed_and_refuses_options_out_of_range() {
    let run = || {
        let out = binary(&[
            "--output",
            "json",
            "demo",
            "--providers",
            "8",
            "--seed",
            "11",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let mut report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        report.as_object_mut().unwrap().remove("wall_seconds");
        report
    };
    let first = run();
    assert_eq!(first["providers"], 8);
    // The verifier's canary catches the node that makes its results up; the honest
    // nodes' pass.
    let canaries = first["canaries"].as_array().unwrap();
    let verdicts: Vec<&str> = canaries
        .iter()
        .map(|c| c["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["caught", "passed", "passed"]);
    assert!(canaries[0]["provider"]
        .as_str()
        .unwrap()
        .starts_with("node-03"));
    assert_eq!(first["passed"], true);
    assert_eq!(first, run());
    for (args, message) in [
        (
            &["demo", "--providers", "3"][..],
            "error: invalid value '3' for '--providers <PROVIDERS>': 3 is not in 8..=200",
        ),
        (
            &["demo", "--step", "5m"][..],
            "error: invalid value '5m' for '--step <STEP>': 5m is longer than 1m: live nodes would overrun their heartbeat grace",
        ),
    ] {
        let out = binary(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr(&out).lines().next(), Some(message), "{args:?}");
    }
}

/// Ctrl-C stops the demo and removes its temporary work directory (and its workloads).
#[test]
fn the_demo_cleans_up_on_ctrl_c() {
    let tmp = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_gpu-market"))
        .args(["demo"])
        .env("TMPDIR", tmp.path())
        .env("HOME", tmp.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once the nodes have their directories, the market runs.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let work = loop {
        let found = std::fs::read_dir(tmp.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.join("node-7").exists());
        if let Some(found) = found {
            break found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the demo made no work directory"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert_eq!(
        stderr(&out).lines().last(),
        Some("error: interrupted: the demo stopped its workloads and removed its work directory")
    );
    assert!(!work.exists(), "{} left behind", work.display());
}

#[test]
fn demo_runs_and_its_conservation_check_passes() {
    let out = binary(&["--output", "json", "demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(report["passed"], true);
    assert!(report["conservation"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["ok"] == true));
    assert_eq!(report["providers"], 30);
    // One record per job, read from the history of the transactions that paid it out.
    let jobs = report["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 12);
    let job = |name: &str| jobs.iter().find(|j| j["name"] == name).unwrap();
    // The re-queued job: its first node was slashed, the second paid, the client approved.
    let resnet = job("train-resnet");
    assert_eq!(resnet["ended"], "approved");
    assert!(resnet["provider"].as_str().unwrap().starts_with("node-01"));
    // The vanished node lost the heartbeat-loss slash of the demo market, 50 stake tokens.
    assert_eq!(resnet["slashed_stake"], "50.00");
    // The last client lets the challenge window run out.
    let fine_tune = job("fine-tune");
    assert_eq!(fine_tune["client"], "deepgrid");
    assert_eq!(fine_tune["ended"], "finalized");
    assert_eq!(job("llm-endpoint")["kind"], "lease");
    for j in jobs {
        // Every amount in whole payment tokens.
        for field in [
            "paid_to_provider",
            "protocol_fee",
            "refunded",
            "tips",
            "slashed_stake",
        ] {
            let amount = j[field].as_str().unwrap();
            assert!(
                amount.split_once('.').is_some_and(|(_, f)| f.len() >= 2),
                "{j}"
            );
        }
    }
    assert_ne!(report["slashed"], "0.00");
    let story: Vec<&str> = report["story"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(story.iter().any(|l| l.contains("vanished mid-job")));
    assert!(story
        .iter()
        .any(|l| l.starts_with("keeper expired train-resnet")));
    assert!(story
        .iter()
        .any(|l| l.contains("node-01") && l.contains("finished train-resnet")));
    // Clients use the node's job API: the re-queued job's client sends its manifest again
    // to the new node, and downloads and verifies its result from there.
    assert_eq!(
        story
            .iter()
            .filter(|l| **l == "acme-ai sent the manifest of train-resnet to its node's job API")
            .count(),
        2,
        "{story:#?}"
    );
    assert!(story.iter().any(|l| l.starts_with(
        "acme-ai downloaded the output of train-resnet (2048 bytes), checked it against the chain and approved it"
    )));
    // Every batch job but the last client's two is downloaded, verified and approved.
    assert_eq!(
        story
            .iter()
            .filter(|l| l.contains("checked it against the chain and approved it"))
            .count(),
        7,
        "{story:#?}"
    );
}

/// `market match` run with the market matcher's key assigns the instant jobs in its window;
/// run by anyone else it only shows the assignment due.
#[test]
fn market_match_assigns_as_the_matcher() {
    let (mut m, matcher) = Market::with_matcher(30);
    let provider = m.provider(2);
    let client = m.client(100 * TOKEN);
    m.create_job(&client, gpu_market_tests::escrow::batch_job(1, 2))
        .unwrap();
    let job = pda::job(&client.pubkey(), 1);
    let someone = m.wallet(0);
    let (chain, result, out) = run_in_process(
        m.chain,
        &someone.keypair,
        &["--output", "json", "market", "match"],
    );
    result.expect("market match");
    let round: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(round["matches"][0]["action"], "assign", "{out}");
    assert_eq!(round["matches"][0]["job"], job.to_string(), "{out}");
    assert_eq!(
        round["matches"][0]["authority"],
        provider.pubkey().to_string(),
        "{out}"
    );
    assert_eq!(round["assigned"], serde_json::json!([]), "{out}");

    // The node's endpoint does not answer its health check: nothing is sent.
    let (chain, result, out) =
        run_in_process(chain, &matcher, &["--output", "json", "market", "match"]);
    result.expect("market match as the matcher");
    let round: serde_json::Value = serde_json::from_str(&out).unwrap();
    let outcome = round["assigned"][0]["outcome"].as_str().unwrap_or_default();
    assert!(
        outcome.starts_with("not sent: the node did not answer its health check: "),
        "{out}"
    );
    m.chain = chain;
    let unassigned: escrow::Job = m.chain.fetch(&job).unwrap();
    assert!(unassigned.assignment.is_none());

    // Its job API up on loopback, and registered as its endpoint: assigned.
    let root = tempfile::tempdir().unwrap();
    let book = gpu_market_agent::api::JobBook::open(
        root.path(),
        provider.keypair.insecure_clone(),
        gpu_market_agent::api::Limits::default(),
    )
    .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let _api =
        gpu_market_agent::api::ApiServer::start(std::sync::Arc::new(book), listener).unwrap();
    m.send(
        gpu_market_client::registry::update_provider(
            &provider.pubkey(),
            &provider.pubkey(),
            provider_registry::UpdateProviderArgs {
                endpoint: Some(endpoint),
                ..Default::default()
            },
        ),
        &provider.keypair,
    )
    .unwrap();
    let (mut chain, result, out) =
        run_in_process(m.chain, &matcher, &["--output", "json", "market", "match"]);
    result.expect("market match as the matcher");
    let round: serde_json::Value = serde_json::from_str(&out).unwrap();
    let sent = round["assigned"][0]["outcome"].as_str().unwrap_or_default();
    assert!(
        !sent.is_empty() && !sent.starts_with("refused") && sent != "not sent",
        "{out}"
    );
    let on_chain: escrow::Job = chain.fetch(&job).unwrap();
    let assignment = on_chain.assignment.expect("assigned");
    assert!(assignment.by_matcher);
    assert_eq!(assignment.authority, provider.pubkey());
}

/// The README's figures for what a job costs in SOL are the program's account sizes under
/// the default rent.
#[test]
fn the_readme_states_what_a_job_costs_in_sol() {
    use anchor_lang::solana_program::rent::Rent;
    let rent = Rent::default();
    let job = rent.minimum_balance(job_escrow::state::Job::SPACE);
    let vault = rent.minimum_balance(165);
    let sol = |lamports: u64| gpu_market::units::format_amount(lamports, 9);
    let line = format!(
        "rent for the job account ({} SOL, {} bytes) and its escrow vault ({} SOL)",
        sol(job),
        job_escrow::state::Job::SPACE,
        sol(vault)
    );
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    assert!(readme.contains(&line), "README lacks: {line}");
}

/// `job watch` stops where the client must act (a result to approve or dispute, with the
/// deadline as a date); once the job is closed, `job watch` and `job show` tell how it
/// ended, with each party's amount, from the transaction that closed it.
#[test]
fn a_closed_job_shows_how_it_ended_and_watch_stops_where_the_client_must_act() {
    use gpu_market_tests::escrow::{batch_job, serve, signed, take_and_start};
    let mut m = Market::with_escrow();
    let provider = m.provider(1);
    let client = m.client(100 * TOKEN);
    m.create_job(&client, batch_job(1, 1)).unwrap();
    let job = pda::job(&client.pubkey(), 1);
    let job_arg = job.to_string();
    take_and_start(&mut m, &provider.keypair, &job);
    serve(&mut m, &provider.keypair, &provider.pubkey(), &job, 1_800);
    signed(
        &mut m,
        escrow::submit_result(
            &provider.pubkey(),
            &provider.pubkey(),
            &job,
            [1; 32],
            "s3://results/1".into(),
        ),
        &provider.keypair,
    )
    .unwrap();
    let data = m.job(&client.pubkey(), 1);
    let deadline = data.result.as_ref().unwrap().submitted_at + data.terms.challenge_window;
    let deadline = humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(deadline.try_into().unwrap()),
    )
    .to_string();

    // Watched without --until, it stops at the result, naming what to do and by when.
    let (chain, result, out) = run_in_process(
        m.chain,
        &client.keypair,
        &[
            "--output",
            "json",
            "job",
            "watch",
            &job_arg,
            "--interval",
            "1s",
        ],
    );
    m.chain = chain;
    result.unwrap();
    let end: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(end["status"], "result-submitted");
    assert_eq!(end["deadline"], deadline.as_str());
    assert_eq!(
        end["action"],
        format!("approve the result with `gpu-market job approve {job}` or dispute it with `gpu-market job dispute {job}`")
    );

    // Approved, the job is gone; show and watch tell how it ended, to the base unit.
    let provider_tokens = m.payment_account(&provider.pubkey());
    let (client_before, provider_before) = (m.balance(&client.tokens), m.balance(&provider_tokens));
    let (chain, result, _) =
        run_in_process(m.chain, &client.keypair, &["job", "approve", &job_arg]);
    m.chain = chain;
    result.unwrap();
    let refund = m.balance(&client.tokens) - client_before;
    let paid = m.balance(&provider_tokens) - provider_before;
    assert!(refund > 0 && paid > 0);
    let amount = |v: u64| gpu_market::units::format_amount(v, 6);
    for command in ["show", "watch"] {
        let (chain, result, out) = run_in_process(
            m.chain,
            &client.keypair,
            &["--output", "json", "job", command, &job_arg],
        );
        m.chain = chain;
        result.unwrap_or_else(|e| panic!("job {command}: {e}"));
        let ending: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(ending["ended"], "approved", "{command}");
        assert_eq!(ending["how"], "its client approved the result");
        assert_eq!(
            ending["provider"],
            pda::provider(&provider.pubkey()).to_string()
        );
        assert_eq!(ending["to_provider"], amount(paid));
        assert_eq!(ending["refund"], amount(refund));
        assert!(ending["at"].as_str().unwrap().ends_with('Z'));
    }
    let (chain, _, text) = run_in_process(m.chain, &client.keypair, &["job", "show", &job_arg]);
    m.chain = chain;
    assert!(
        text.starts_with(&format!(
            "job {job} ended: its client approved the result at "
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("\nrefunded  {} to the client\n", amount(refund))),
        "{text}"
    );

    // A cancelled job: all of its deposit back.
    m.create_job(&client, batch_job(2, 1)).unwrap();
    let second = pda::job(&client.pubkey(), 2);
    let before = m.balance(&client.tokens);
    let (chain, result, _) = run_in_process(
        m.chain,
        &client.keypair,
        &["job", "cancel", &second.to_string()],
    );
    m.chain = chain;
    result.unwrap();
    let back = m.balance(&client.tokens) - before;
    let (chain, result, out) = run_in_process(
        m.chain,
        &client.keypair,
        &["--output", "json", "job", "show", &second.to_string()],
    );
    m.chain = chain;
    result.unwrap();
    let ending: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(ending["ended"], "cancelled");
    assert_eq!(ending["refund"], amount(back));
    assert_eq!(ending["provider"], serde_json::Value::Null);

    // An address with no history at all.
    let nowhere = Keypair::new().pubkey();
    let (_, result, _) = run_in_process(
        m.chain,
        &client.keypair,
        &["job", "show", &nowhere.to_string()],
    );
    assert_eq!(
        result.unwrap_err().to_string(),
        format!("no job at {nowhere}, and no transaction in this cluster's history created or closed one there: check the address and --url")
    );
}

/// A cluster whose programs were deployed at other ids needs no other binary: the
/// environment names them, and every instruction and address follows.
#[test]
fn program_ids_come_from_the_environment_when_it_names_them() {
    let home = tempfile::tempdir().unwrap();
    let keypair = home.path().join("id.json");
    assert!(binary(&["keygen", "-o", keypair.to_str().unwrap()])
        .status
        .success());
    let me = gpu_market_client::cli_config::read_keypair(&keypair)
        .unwrap()
        .pubkey();
    let registry = Keypair::new().pubkey();
    let run = |value: &str| {
        Command::new(env!("CARGO_BIN_EXE_gpu-market"))
            .args(["-u", "http://127.0.0.1:9", "-k", keypair.to_str().unwrap()])
            .args(["--dry-run", "--output", "json", "provider", "pause"])
            .env("HOME", home.path())
            .env("GPU_MARKET_PROVIDER_REGISTRY_PROGRAM", value)
            .output()
            .unwrap()
    };
    let out = run(&registry.to_string());
    assert!(out.status.success(), "{}", stderr(&out));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["instructions"][0]["program"], "provider_registry");
    let ix = &instructions(&decode_dry_run(&String::from_utf8_lossy(&out.stdout)))[0];
    assert_eq!(ix.program_id, registry);
    // The node's address is derived under the program named.
    let (provider, _) = gpu_market_client::Pubkey::find_program_address(
        &[provider_registry::state::Provider::SEED, me.as_ref()],
        &registry,
    );
    assert_eq!(ix.accounts[1].pubkey, provider);
    assert_ne!(provider, pda::provider(&me));

    // The demo runs the programs at their built ids whatever the environment says.
    let demo = Command::new(env!("CARGO_BIN_EXE_gpu-market"))
        .args(["demo", "--providers", "8"])
        .env("HOME", home.path())
        .env("GPU_MARKET_PROVIDER_REGISTRY_PROGRAM", registry.to_string())
        .output()
        .unwrap();
    assert!(demo.status.success(), "{}", stderr(&demo));
    assert!(stderr(&demo).starts_with(
        "note: the GPU_MARKET_*_PROGRAM variables do not apply here: this command runs the programs at the ids they are built with\n"
    ));

    let out = run("not-a-key");
    assert_eq!(out.status.code(), Some(3));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        printed["error"]["message"],
        "GPU_MARKET_PROVIDER_REGISTRY_PROGRAM=\"not-a-key\" is not a program id (a base58 public key)"
    );
    assert_eq!(printed["error"]["kind"], "input");
}

/// `provider update` changes the hardware it is given (merged into the listing), says when
/// that voids the node's attestation, and refuses an update that changes nothing.
#[test]
fn provider_update_changes_hardware_and_says_the_attestation_is_void() {
    let mut m = Market::new();
    let provider = m.provider(1);
    m.attest(&provider.pubkey());
    let show = |chain| {
        let (chain, result, out) = run_in_process(
            chain,
            &provider.keypair,
            &["--output", "json", "provider", "show"],
        );
        result.expect("show");
        (
            chain,
            serde_json::from_str::<serde_json::Value>(&out).unwrap(),
        )
    };
    let (chain, before) = show(m.chain);
    assert_eq!(before["attested"], true);

    let (chain, result, out) = run_in_process(
        chain,
        &provider.keypair,
        &[
            "--output",
            "json",
            "provider",
            "update",
            "--vram",
            "48GiB",
            "--cpu-cores",
            "64",
        ],
    );
    result.expect("update");
    let receipt: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        receipt["note"],
        "the node's attestation covered its old spec and no longer counts: ask an auditor to attest the new one"
    );
    let (chain, after) = show(chain);
    assert_eq!(after["vram"], "48GiB");
    assert_eq!(after["attested"], false);
    // The rest of the hardware stays as it was.
    assert_eq!(after["gpus"], before["gpus"]);
    assert_eq!(after["gpu_model"], before["gpu_model"]);

    // A price change voids nothing (and says nothing about it).
    let (chain, result, out) = run_in_process(
        chain,
        &provider.keypair,
        &["--output", "json", "provider", "update", "--price", "2.50"],
    );
    result.expect("update");
    let receipt: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(receipt.get("note").is_none(), "{receipt}");

    // Hardware, a price or a benchmark the node already declares is no change.
    let (_, result, _) = run_in_process(
        chain,
        &provider.keypair,
        &[
            "provider",
            "update",
            "--vram",
            "48GiB",
            "--price",
            "2.50",
            "--benchmark",
            &before["benchmark"].to_string(),
        ],
    );
    assert_eq!(
        result.unwrap_err().to_string(),
        "nothing to update: pass --price, --endpoint, --region, --benchmark, hardware (--gpus, --vram, ...) or --operator, with a value other than the node's"
    );
}

/// The endings without a paid provider: an upheld dispute names the provider and the stake
/// the staking program took from it (not the slash asked for), a reclaim the crank tip.
#[test]
fn a_disputed_or_reclaimed_job_shows_its_refund_slash_and_tip() {
    use gpu_market_tests::escrow::{
        batch_job, signed, take_and_start, Scenario, BID_WINDOW, CRANK_TIP, SLASH,
    };
    let mut m = Market::with_escrow();
    let provider = m.provider(1);
    let s = Scenario::new(&mut m, 1, &[&provider], &[]);
    m.create_job(&s.client, batch_job(1, 1)).unwrap();
    take_and_start(&mut m, &provider.keypair, &s.job);
    m.chain.advance(600).unwrap();
    signed(
        &mut m,
        escrow::submit_result(
            &provider.pubkey(),
            &provider.pubkey(),
            &s.job,
            [4; 32],
            "s3://d".into(),
        ),
        &provider.keypair,
    )
    .unwrap();
    let job_arg = s.job.to_string();
    let (chain, result, _) =
        run_in_process(m.chain, &s.client.keypair, &["job", "dispute", &job_arg]);
    m.chain = chain;
    result.unwrap();
    let before = m.balance(&s.client.tokens);
    let arbiter = m.auditor.insecure_clone();
    let (slash, keys) = (
        m.slash_keys(),
        s.keys(&m, &arbiter.pubkey(), &provider.pubkey()),
    );
    signed(
        &mut m,
        escrow::resolve_dispute(&keys, &slash, true),
        &arbiter,
    )
    .unwrap();
    let refund = m.balance(&s.client.tokens) - before;
    let (chain, result, out) = run_in_process(
        m.chain,
        &s.client.keypair,
        &["--output", "json", "job", "show", &job_arg],
    );
    m.chain = chain;
    result.unwrap();
    let ending: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(ending["ended"], "dispute-upheld");
    assert_eq!(
        ending["provider"],
        pda::provider(&provider.pubkey()).to_string()
    );
    assert_eq!(
        ending["refund"],
        gpu_market::units::format_amount(refund, 6)
    );
    assert_eq!(
        ending["slashed"],
        gpu_market::units::format_amount(SLASH.dispute_lost, 6)
    );

    // Nobody takes the second job; a cranker reclaims it once the window passes.
    let client = m.client(100 * TOKEN);
    m.create_job(&client, batch_job(2, 1)).unwrap();
    m.chain.advance(BID_WINDOW).unwrap();
    let cranker = m.wallet(0);
    // The tip's destination.
    m.payment_account(&cranker.pubkey());
    let (mint, program) = (m.payment_mint, m.payment_token_program);
    signed(
        &mut m,
        escrow::reclaim_job(&cranker.pubkey(), &client.pubkey(), 2, &mint, &program),
        &cranker.keypair,
    )
    .unwrap();
    let (_, result, out) = run_in_process(
        m.chain,
        &client.keypair,
        &[
            "--output",
            "json",
            "job",
            "watch",
            &pda::job(&client.pubkey(), 2).to_string(),
        ],
    );
    result.unwrap();
    let ending: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(ending["ended"], "reclaimed");
    assert_eq!(
        ending["tip"],
        gpu_market::units::format_amount(CRANK_TIP, 6)
    );
    assert_eq!(ending["provider"], serde_json::Value::Null);
}

/// `verify canary` posts known-answer jobs, approves the result of the provider that ran
/// the workload and reveals the wrong one of the provider that made a result up; run again
/// with the same seed, it posts nothing and reports the same from the cluster's history.
#[test]
fn verify_canary_catches_a_made_up_result_and_pays_an_honest_one() {
    use gpu_market_tests::escrow::{signed, SLASH};
    let mut m = Market::with_escrow();
    let (honest, liar) = (m.provider(1), m.provider(1));
    let client = m.client(100 * TOKEN);
    let verify = |chain, once: bool| {
        let mut args = vec![
            "--output",
            "json",
            "verify",
            "canary",
            "--seed",
            "7",
            "--count",
            "2",
            "--rounds",
            "100000",
            "--duration",
            "1h",
        ];
        if once {
            args.push("--once");
        }
        let (chain, result, out) = run_in_process(chain, &client.keypair, &args);
        result.expect("verify canary");
        let report: serde_json::Value = serde_json::from_str(&out).unwrap();
        (chain, report)
    };
    let (chain, report) = verify(m.chain, true);
    m.chain = chain;
    let canaries = report["canaries"].as_array().unwrap().clone();
    assert_eq!(canaries.len(), 2);
    assert!(canaries.iter().all(|c| c["verdict"] == "waiting"));
    assert_eq!(report["complete"], false);
    let jobs: Vec<gpu_market_client::Pubkey> = canaries
        .iter()
        .map(|c| c["job"].as_str().unwrap().parse().unwrap())
        .collect();
    // Escrowed like any job of an hour at the providers' 2-token ask, plus the tips.
    let tips = 2 * gpu_market_tests::escrow::TIPS;
    assert_eq!(m.balance(&client.tokens), 100 * TOKEN - 4 * TOKEN - tips);

    // The honest node runs the workload as posted (its own `sh`), the liar makes a result up.
    let honest_job: escrow::Job = m.chain.fetch(&jobs[0]).unwrap();
    let command = honest_job.workload.uri.strip_prefix("process:").unwrap();
    let output = std::process::Command::new("sh")
        .args(["-c", command])
        .output()
        .unwrap();
    assert!(output.status.success());
    let computed = solana_sha256_hasher::hash(&output.stdout).to_bytes();
    let runs = [(&honest, jobs[0], computed), (&liar, jobs[1], [7; 32])];
    for (node, job, _) in runs {
        let key = node.pubkey();
        signed(&mut m, escrow::accept_job(&key, &key, &job), &node.keypair).unwrap();
        signed(&mut m, escrow::start_job(&key, &key, &job), &node.keypair).unwrap();
    }
    m.chain.advance(600).unwrap();
    for (node, job, hash) in runs {
        let key = node.pubkey();
        signed(
            &mut m,
            escrow::submit_result(&key, &key, &job, hash, "s3://r".into()),
            &node.keypair,
        )
        .unwrap();
    }

    let (chain, report) = verify(m.chain, false);
    m.chain = chain;
    assert_eq!(report["complete"], true);
    let verdicts: Vec<&str> = report["canaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["passed", "caught"]);
    let tally = |node: &gpu_market_tests::fixtures::Wallet| {
        let address = pda::provider(&node.pubkey()).to_string();
        report["providers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["provider"] == address.as_str())
            .cloned()
            .unwrap()
    };
    assert_eq!(
        (
            tally(&honest)["passed"].clone(),
            tally(&honest)["caught"].clone()
        ),
        (1.into(), 0.into())
    );
    assert_eq!(
        (
            tally(&liar)["passed"].clone(),
            tally(&liar)["caught"].clone()
        ),
        (0.into(), 1.into())
    );
    assert!(!m.chain.exists(&jobs[0]).unwrap() && !m.chain.exists(&jobs[1]).unwrap());
    // The honest node was paid its 600 s (less the 2.5 % fee); the liar was slashed and
    // earned nothing; the client paid for the honest run alone.
    let paid = 2 * TOKEN / 6;
    let fee = paid * 250 / 10_000;
    let honest_tokens = m.payment_account(&honest.pubkey());
    let liar_tokens = m.payment_account(&liar.pubkey());
    assert_eq!(m.balance(&honest_tokens), paid - fee);
    assert_eq!(m.balance(&liar_tokens), 0);
    assert_eq!(m.balance(&client.tokens), 100 * TOKEN - paid);
    assert_eq!(
        m.stake_account(&liar.pubkey()).active,
        MIN_STAKE_PER_GPU - SLASH.wrong_result
    );
    assert_eq!(m.stake_account(&honest.pubkey()).active, MIN_STAKE_PER_GPU);
    assert_eq!(
        m.provider_account(&liar.pubkey())
            .reputation
            .verifications_failed,
        1
    );

    // Again with the seed: nothing is posted, the verdicts come from the history.
    let job_count = |m: &mut Market| {
        m.chain
            .fetch::<escrow::MarketConfig>(&pda::market_config())
            .unwrap()
            .job_count
    };
    let jobs_before = job_count(&mut m);
    let (chain, report) = verify(m.chain, true);
    m.chain = chain;
    assert_eq!(job_count(&mut m), jobs_before);
    let again: Vec<&str> = report["canaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(again, ["passed", "caught"]);
}

#[test]
fn verify_canary_refuses_a_dry_run_and_a_market_with_no_provider_free() {
    let mut m = Market::with_escrow();
    let client = m.client(100 * TOKEN);
    let (chain, result, _) = run_in_process(
        m.chain,
        &client.keypair,
        &["--dry-run", "verify", "canary", "--seed", "1"],
    );
    assert_eq!(
        result.unwrap_err().to_string(),
        "`verify canary` posts and settles jobs over time: it has no dry run"
    );
    let (_, result, _) =
        run_in_process(chain, &client.keypair, &["verify", "canary", "--seed", "1"]);
    assert_eq!(
        result.unwrap_err().to_string(),
        "no provider can take a canary now (active, live, paid in this mint, with the GPUs free and asking at most --max-price)"
    );
}

/// A wrong result nobody checked in its window is finalized (here by a stranger, as the
/// provider's own agent would): the canary reports it missed, not passed.
#[test]
fn verify_canary_reports_a_wrong_result_finalized_unchecked_as_missed() {
    use gpu_market_tests::escrow::{signed, CHALLENGE_WINDOW};
    let mut m = Market::with_escrow();
    let liar = m.provider(1);
    let client = m.client(100 * TOKEN);
    let run = |chain, rounds: &str| {
        run_in_process(
            chain,
            &client.keypair,
            &[
                "--output", "json", "verify", "canary", "--seed", "3", "--count", "1", "--rounds",
                rounds, "--once",
            ],
        )
    };
    let verify = |chain, rounds: &str| {
        let (chain, result, out) = run(chain, rounds);
        result.expect("verify canary");
        let report: serde_json::Value = serde_json::from_str(&out).unwrap();
        (chain, report)
    };
    let (chain, report) = verify(m.chain, "1000");
    m.chain = chain;
    let job: gpu_market_client::Pubkey = report["canaries"][0]["job"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let key = liar.pubkey();
    signed(&mut m, escrow::accept_job(&key, &key, &job), &liar.keypair).unwrap();
    signed(&mut m, escrow::start_job(&key, &key, &job), &liar.keypair).unwrap();
    m.chain.advance(60).unwrap();
    signed(
        &mut m,
        escrow::submit_result(&key, &key, &job, [7; 32], "s3://r".into()),
        &liar.keypair,
    )
    .unwrap();
    // The window closes unchecked and anyone finalizes: the liar is paid.
    m.chain.advance(CHALLENGE_WINDOW).unwrap();
    let anyone = m.wallet(0);
    let job_id = m.chain.fetch::<escrow::Job>(&job).unwrap().job_id;
    let keys = m.settle_keys(&anyone.pubkey(), &client, job_id, &key);
    // The liar's payee account.
    m.payment_account(&key);
    signed(&mut m, escrow::finalize_job(&keys), &anyone.keypair).unwrap();
    let (_, report) = verify(m.chain, "1000");
    assert_eq!(report["canaries"][0]["verdict"], "missed");
    assert_eq!(report["providers"][0]["missed"], 1);
    assert_eq!(report["complete"], true);
}

/// `job submit --known-answer` makes a canary of the client's own workload, committed with
/// a salt drawn from its key; `job reveal` slashes a provider whose result differs, and
/// refuses, before sending, a reveal that would not land or would only tell providers that
/// the job was a check.
#[test]
fn a_known_answer_job_is_revealed_by_its_client() {
    use gpu_market_tests::escrow::{signed, SLASH};
    let mut m = Market::with_escrow();
    let provider = m.provider(2);
    let client = m.client(100 * TOKEN);
    let answer = solana_sha256_hasher::hash(b"hi\n").to_bytes();
    let answer_hex = gpu_market_client::hex::encode(&answer);
    // `job submit` of `echo hi` for an hour at 2, as job `id`, with the known answer.
    let submit = |chain, id: &str| {
        let (chain, result, _) = run_in_process(
            chain,
            &client.keypair,
            &[
                "job",
                "submit",
                "--max-price",
                "2",
                "--duration",
                "1h",
                "--command",
                "echo hi",
                "--job-id",
                id,
                "--known-answer",
                &answer_hex,
            ],
        );
        (chain, result.map_err(|e| e.to_string()))
    };
    for id in ["9", "10"] {
        let (chain, result) = submit(m.chain, id);
        m.chain = chain;
        result.unwrap();
    }
    let (lied, honest) = (
        pda::job(&client.pubkey(), 9),
        pda::job(&client.pubkey(), 10),
    );
    let data: escrow::Job = m.chain.fetch(&lied).unwrap();
    assert_eq!(
        data.verification,
        escrow::canary_commitment(&answer, &gpu_market::verify::job_salt(&client.keypair, 9))
    );
    let reveal = |chain, job: &gpu_market_client::Pubkey, answer: &str| {
        let (chain, result, _) = run_in_process(
            chain,
            &client.keypair,
            &["job", "reveal", &job.to_string(), "--known-answer", answer],
        );
        (chain, result.map_err(|e| e.to_string()))
    };
    let (chain, result) = reveal(m.chain, &lied, &answer_hex);
    m.chain = chain;
    assert_eq!(
        result.unwrap_err(),
        "the job is open: a known answer is revealed while a result waits in its challenge window"
    );
    let key = provider.pubkey();
    for job in [lied, honest] {
        signed(
            &mut m,
            escrow::accept_job(&key, &key, &job),
            &provider.keypair,
        )
        .unwrap();
        signed(
            &mut m,
            escrow::start_job(&key, &key, &job),
            &provider.keypair,
        )
        .unwrap();
    }
    m.chain.advance(600).unwrap();
    for (job, hash) in [(lied, [5; 32]), (honest, answer)] {
        signed(
            &mut m,
            escrow::submit_result(&key, &key, &job, hash, "s3://r".into()),
            &provider.keypair,
        )
        .unwrap();
    }
    // A matching result: nothing to reveal.
    let (chain, result) = reveal(m.chain, &honest, &answer_hex);
    m.chain = chain;
    assert_eq!(
        result.unwrap_err(),
        format!("the result matches the known answer: nothing to reveal (approve it with `gpu-market job approve {honest}`)")
    );
    // Another answer opens nothing.
    let other = gpu_market_client::hex::encode(&[1; 32]);
    let (chain, result) = reveal(m.chain, &lied, &other);
    m.chain = chain;
    assert_eq!(
        result.unwrap_err(),
        "this answer does not open the job's commitment: it was submitted with another --known-answer, or without one (canaries of `verify canary` are checked by it)"
    );
    let before = m.balance(&client.tokens);
    let (chain, result) = reveal(m.chain, &lied, &answer_hex);
    m.chain = chain;
    result.unwrap();
    assert!(!m.chain.exists(&lied).unwrap());
    // The wrong job's whole deposit back (2 tokens for the hour and the tips).
    assert_eq!(
        m.balance(&client.tokens) - before,
        2 * TOKEN + gpu_market_tests::escrow::TIPS
    );
    assert_eq!(
        m.stake_account(&key).active,
        2 * MIN_STAKE_PER_GPU - SLASH.wrong_result
    );
    assert!(m.chain.exists(&honest).unwrap());
    // Once the window has closed there is nothing to reveal.
    m.chain
        .advance(gpu_market_tests::escrow::CHALLENGE_WINDOW)
        .unwrap();
    let (chain, result) = reveal(m.chain, &honest, &answer_hex);
    m.chain = chain;
    assert!(result
        .unwrap_err()
        .contains("the result can no longer be revealed, and anyone may finalize the job"));
    // A known-answer job on an id used before would repeat that job's commitment.
    let (_, result) = submit(m.chain, "9");
    assert_eq!(
        result.unwrap_err(),
        "job id 9 was used before: a known-answer job needs an id never used (its commitment would repeat the earlier one's)"
    );
}

#[test]
fn a_replicated_job_is_posted_settled_by_its_majority_and_refused_where_it_cannot_be() {
    use gpu_market_tests::escrow::{signed, SLASH};
    let mut m = Market::with_escrow();
    let nodes = [m.provider(1), m.provider(1), m.provider(1)];
    let client = m.client(100 * TOKEN);
    let run = |chain, args: &[&str]| {
        let (chain, result, text) = run_in_process(chain, &client.keypair, args);
        (chain, result.map_err(|e| e.to_string()), text)
    };
    let submit = |id: &'static str, replicas: &'static str, within: Option<&'static str>| {
        let mut args = vec![
            "job",
            "submit",
            "--max-price",
            "2",
            "--duration",
            "1h",
            "--command",
            "echo hi",
            "--job-id",
            id,
            "--replicas",
            replicas,
        ];
        if let Some(within) = within {
            args.extend(["--commit-within", within]);
        }
        args
    };
    // Refused before anything is sent: a count out of range, a window without room for a
    // run, and a window the market does not allow.
    let (chain, result, _) = run(m.chain, &submit("7", "3", Some("1h")));
    m.chain = chain;
    assert_eq!(
        result.unwrap_err(),
        "the commit deadline must leave room for providers to take the replicas and for a whole run: at least 4020 s from now (the start timeout and the duration, the match window and 120 s)"
    );
    let (chain, result, _) = run(m.chain, &submit("7", "3", Some("100d")));
    m.chain = chain;
    assert!(result
        .unwrap_err()
        .starts_with("--commit-within may be at most "),);
    assert!(Cli::try_parse_from([
        "gpu-market",
        "job",
        "submit",
        "--max-price",
        "2",
        "--duration",
        "1h",
        "--command",
        "x",
        "--replicas",
        "6"
    ])
    .is_err());
    // A manifest job's files would have to reach every replica's node.
    assert!(Cli::try_parse_from([
        "gpu-market",
        "job",
        "submit",
        "--max-price",
        "2",
        "--duration",
        "1h",
        "--manifest",
        "job.toml",
        "--replicas",
        "3"
    ])
    .is_err());
    assert_eq!(m.balance(&client.tokens), 100 * TOKEN);

    let (chain, result, text) = run(m.chain, &submit("7", "3", None));
    m.chain = chain;
    result.unwrap();
    let group = pda::replica_group(&client.pubkey(), 7);
    let jobs: Vec<_> = (7..10).map(|id| pda::job(&client.pubkey(), id)).collect();
    assert!(
        text.starts_with(&format!("submitted replica group {group} (")),
        "{text}"
    );
    for job in &jobs {
        assert!(text.contains(&format!("replica {job}")), "{text}");
    }
    let state: escrow::ReplicaGroup = m.chain.fetch(&group).unwrap();
    assert_eq!((state.replicas, state.slots.len()), (3, 3));
    // Three deposits of 2 tokens and the tips.
    let deposit = m.balance(&pda::job_vault(&jobs[0]));
    assert_eq!(m.balance(&client.tokens), 100 * TOKEN - 3 * deposit);
    // The same ids again are refused.
    let (chain, result, _) = run(m.chain, &submit("7", "3", None));
    m.chain = chain;
    assert_eq!(
        result.unwrap_err(),
        format!("you already have replica group 7 ({group}): choose another --job-id")
    );
    // A replica of a complete group is not cancelled.
    let (chain, result, _) = run(m.chain, &["job", "cancel", &jobs[1].to_string()]);
    m.chain = chain;
    assert_eq!(
        result.unwrap_err(),
        format!("job {} is a replica of a complete group ({group}): it stays open for providers while one may take it, and is reclaimable after that", jobs[1])
    );

    // Three nodes run it; the third reports another result.
    let mut salts = Vec::new();
    for (node, job) in nodes.iter().zip(&jobs) {
        let key = node.pubkey();
        let take = escrow::with_group(escrow::accept_job(&key, &key, job), &group);
        signed(&mut m, take, &node.keypair).unwrap();
        signed(&mut m, escrow::start_job(&key, &key, job), &node.keypair).unwrap();
    }
    m.chain.advance(600).unwrap();
    for (i, (node, job)) in nodes.iter().zip(&jobs).enumerate() {
        let key = node.pubkey();
        let hash = if i == 2 { [5; 32] } else { [1; 32] };
        let salt = [u8::try_from(i).unwrap(); 32];
        salts.push((hash, salt));
        let commitment = escrow::replica_commitment(&hash, &pda::provider(&key), &salt);
        let commit = escrow::commit_result(&key, &key, job, &group, commitment);
        signed(&mut m, commit, &node.keypair).unwrap();
    }
    let settle =
        |chain, job: &gpu_market_client::Pubkey| run(chain, &["job", "settle", &job.to_string()]);
    // Not before the reveals are final.
    let (chain, result, _) = settle(m.chain, &jobs[0]);
    m.chain = chain;
    assert!(result.unwrap_err().starts_with(
        "the group's reveals are not final yet: wait until every replica has revealed, or until "
    ),);
    for ((node, job), (hash, salt)) in nodes.iter().zip(&jobs).zip(&salts) {
        let key = node.pubkey();
        let reveal = escrow::reveal_result(&key, &key, job, &group, *hash, *salt, "s3://r".into());
        signed(&mut m, reveal, &node.keypair).unwrap();
    }
    let (chain, _, shown) = run(m.chain, &["job", "show", &jobs[2].to_string()]);
    m.chain = chain;
    assert!(
        shown.contains(&format!("replica   of group {group}")),
        "{shown}"
    );
    for (i, job) in jobs.iter().enumerate() {
        let (chain, result, text) = settle(m.chain, job);
        m.chain = chain;
        result.unwrap();
        // The last one closes the group, its rent back to the client.
        assert_eq!(
            text.starts_with("settled replica (and closed its group)"),
            i == 2,
            "{text}"
        );
    }
    assert!(!m.chain.exists(&group).unwrap());
    // The liar slashed, the two paid for ten minutes, the rest back.
    assert_eq!(
        m.stake_account(&nodes[2].pubkey()).active,
        MIN_STAKE_PER_GPU - SLASH.wrong_result
    );
    let ten_minutes = 2 * TOKEN / 6;
    assert_eq!(m.balance(&client.tokens), 100 * TOKEN - 2 * ten_minutes);
    let (chain, _, shown) = run(m.chain, &["job", "show", &jobs[2].to_string()]);
    m.chain = chain;
    assert!(
        shown.contains("ended: its result differed from its replica group's majority"),
        "{shown}"
    );
    let (chain, _, json) = run(
        m.chain,
        &["--output", "json", "job", "show", &jobs[2].to_string()],
    );
    m.chain = chain;
    assert!(json.contains("\"replica-dissented\""), "{json}");
    // A job that is not a replica is not settled this way.
    let (chain, result, _) = run(
        m.chain,
        &[
            "job",
            "submit",
            "--max-price",
            "2",
            "--duration",
            "1h",
            "--command",
            "x",
            "--job-id",
            "20",
        ],
    );
    m.chain = chain;
    result.unwrap();
    let plain = pda::job(&client.pubkey(), 20);
    let (chain, result, _) = settle(m.chain, &plain);
    m.chain = chain;
    assert_eq!(
        result.unwrap_err(),
        format!("job {plain} is not a replica: its client approves it (`job approve`), or anyone finalizes it once its challenge window has passed")
    );

    // A group nobody took: it closes once its replicas are reclaimed.
    let (chain, result, _) = run(m.chain, &submit("30", "2", None));
    m.chain = chain;
    result.unwrap();
    let group = pda::replica_group(&client.pubkey(), 30);
    let (a, b) = (
        pda::job(&client.pubkey(), 30),
        pda::job(&client.pubkey(), 31),
    );
    let close = |chain| run(chain, &["job", "close-group", &group.to_string()]);
    let (chain, result, _) = close(m.chain);
    m.chain = chain;
    assert_eq!(
        result.unwrap_err(),
        format!("replica group {group} still has open replica jobs: {a}, {b} (settle, cancel or reclaim them first)")
    );
    m.chain.advance(7_800).unwrap();
    let (mint, program) = (m.payment_mint, m.payment_token_program);
    for id in [30, 31] {
        let reclaim = escrow::reclaim_job(&client.pubkey(), &client.pubkey(), id, &mint, &program);
        signed(&mut m, reclaim, &client.keypair).unwrap();
    }
    // Before its reveal deadline only its client may close it.
    let stranger = m.client(0);
    let deadline = m
        .chain
        .fetch::<escrow::ReplicaGroup>(&group)
        .unwrap()
        .reveal_deadline;
    assert!(m.chain.now().unwrap() <= deadline);
    let (chain, result, _) = run_in_process(
        m.chain,
        &stranger.keypair,
        &["job", "close-group", &group.to_string()],
    );
    m.chain = chain;
    assert_eq!(
        result.unwrap_err().to_string(),
        format!(
            "replica group {group} may be closed only by its client {} before its reveal deadline, {}",
            client.pubkey(),
            gpu_market::output::date(deadline)
        )
    );
    let (chain, result, text) = close(m.chain);
    m.chain = chain;
    result.unwrap();
    assert!(
        text.starts_with(&format!("closed replica group {group} (its rent back to ")),
        "{text}"
    );
    assert!(!m.chain.exists(&group).unwrap());

    // An incomplete group (one replica of three posted): its last cancel closes it, and
    // the whole deposit and both rents come back.
    let now = m.chain.now().unwrap();
    let open = escrow::create_replica_group(&client.pubkey(), 40, 3, now + 3 * 3_600);
    signed(&mut m, open, &client.keypair).unwrap();
    let group = pda::replica_group(&client.pubkey(), 40);
    let create = escrow::create_replica(
        &client.pubkey(),
        &mint,
        &program,
        gpu_market_tests::escrow::batch_job(40, 1),
        &group,
    );
    let before = m.balance(&client.tokens);
    signed(&mut m, create, &client.keypair).unwrap();
    let replica = pda::job(&client.pubkey(), 40);
    let (chain, result, text) = run(m.chain, &["job", "cancel", &replica.to_string()]);
    m.chain = chain;
    result.unwrap();
    assert!(
        text.starts_with(&format!("cancelled (and closed its group) job {replica}")),
        "{text}"
    );
    assert!(!m.chain.exists(&replica).unwrap());
    assert!(!m.chain.exists(&group).unwrap());
    assert_eq!(m.balance(&client.tokens), before);
}
