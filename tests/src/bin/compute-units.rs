//! The compute-unit table of the SBF run, checked against the committed budget.
//!
//! Run the program suite against the SBF binaries with `GPU_MARKET_CU_LOG=<file>`: every
//! successful transaction appends the units of each gpu-market invocation to that file (see
//! `gpu_market_client::compute`). This binary takes the heaviest case of each instruction
//! the suite executed, prints the table, and fails when an instruction exceeds its budget,
//! has no budget, or has a budget but never ran (so coverage cannot silently shrink).
//!
//! ```text
//! cargo run -p gpu-market-tests --bin compute-units -- --log target/cu.log
//! cargo run -p gpu-market-tests --bin compute-units -- --log target/cu.log --write-budget
//! ```

use clap::Parser;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(about = "Compute units per instruction of the SBF run, checked against the budget")]
struct Args {
    /// The file an SBF test run appended to (`GPU_MARKET_CU_LOG`); repeat to merge runs.
    #[arg(long, required = true)]
    log: Vec<PathBuf>,
    /// The committed budget: `<program> <instruction> <units>` per line.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/compute-budget.txt"))]
    budget: PathBuf,
    /// Rewrite the budget from these runs (the heaviest case plus 15 %, plus an allowance
    /// for bump searches over fresh addresses, rounded up to 1,000) instead of checking it.
    #[arg(long)]
    write_budget: bool,
}

/// Instructions above this are marked in the table.
const NOTE_ABOVE: u64 = 30_000;
const DEFAULT_LIMIT: u64 = 200_000;

#[derive(Default)]
struct Measured {
    max: u64,
    min: u64,
    calls: u64,
}

type Key = (String, String);

fn read_logs(paths: &[PathBuf]) -> Result<BTreeMap<Key, Measured>, String> {
    let mut measured: BTreeMap<Key, Measured> = BTreeMap::new();
    for path in paths {
        read_log(path, &mut measured)?;
    }
    Ok(measured)
}

/// The `(program, instruction, units)` of every line of `path` (blank lines and `#`
/// comments skipped).
fn read_entries(path: &PathBuf) -> Result<Vec<(Key, u64)>, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("read {}: {e}", path.display()))?;
    let mut entries = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [program, instruction, units] = fields.as_slice() else {
            return Err(format!(
                "{}:{}: malformed line {line:?}",
                path.display(),
                n + 1
            ));
        };
        let units: u64 = units
            .parse()
            .map_err(|e| format!("{}:{}: {e}", path.display(), n + 1))?;
        entries.push(((program.to_string(), instruction.to_string()), units));
    }
    Ok(entries)
}

fn read_log(path: &PathBuf, measured: &mut BTreeMap<Key, Measured>) -> Result<(), String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("read {}: {e}", path.display()))?;
    if text
        .lines()
        .any(|line| line == gpu_market_client::compute::TRUNCATED)
    {
        return Err(format!(
            "{}: a transaction's logs were truncated, so some compute units are unknown",
            path.display()
        ));
    }
    for (key, units) in read_entries(path)? {
        let entry = measured.entry(key).or_insert(Measured {
            max: 0,
            min: u64::MAX,
            calls: 0,
        });
        entry.max = entry.max.max(units);
        entry.min = entry.min.min(units);
        entry.calls += 1;
    }
    Ok(())
}

fn read_budget(path: &PathBuf) -> Result<BTreeMap<Key, u64>, String> {
    Ok(read_entries(path)?.into_iter().collect())
}

/// Instructions that search the canonical bump of an address derived from a fresh key (a
/// new job or replica group, provider, stake or reward record, or an epoch's account), with how many such
/// searches they make. A
/// search costs 1,500 units per bump it tries and tries one more with probability 1/2, so
/// what a run measures depends on the keys it drew. Accounts that already exist are checked
/// by their stored bump instead (`staking::utils::pda_bump`) and cost the same every time.
const FRESH_ADDRESS_SEARCHES: &[(&str, &str, u64)] = &[
    ("job_escrow", "create_job", 2),
    ("job_escrow", "create_replica_group", 1),
    ("provider_registry", "register_provider", 1),
    ("reward_emission", "finalize_epoch", 1),
    ("reward_emission", "record_uptime", 1),
    ("staking", "stake", 1),
];

/// Units per bump a search tries.
const SEARCH_TRY_UNITS: u64 = 1_500;

/// Tries allowed beyond the heaviest case measured, per search: a later run needs more with
/// probability about 2^-12 per instruction.
const SEARCH_ALLOWANCE_TRIES: u64 = 12;

fn budget_for(program: &str, instruction: &str, max: u64) -> u64 {
    let searches = FRESH_ADDRESS_SEARCHES
        .iter()
        .find(|(p, i, _)| *p == program && *i == instruction)
        .map_or(0, |(_, _, n)| *n);
    let padded = max + max * 15 / 100 + searches * SEARCH_ALLOWANCE_TRIES * SEARCH_TRY_UNITS;
    // Never above what a transaction gets without asking for more.
    (padded.div_ceil(1_000) * 1_000).min(DEFAULT_LIMIT)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let measured = match read_logs(&args.log) {
        Ok(m) if !m.is_empty() => m,
        Ok(_) => {
            eprintln!("the logs hold no measurements");
            return ExitCode::FAILURE;
        }
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };

    if args.write_budget {
        let mut text = String::from(
            "# Compute-unit budget per instruction: the heaviest case the SBF suite runs, plus\n\
             # 15 %, plus 12 bump tries (18,000) per search over an address derived from a\n\
             # fresh key, rounded up to 1,000, and at most the 200,000 default limit. CI fails\n\
             # when an instruction exceeds it.\n\
             # Regenerate with `compute-units --write-budget` only for a change that is meant\n\
             # to cost more.\n\
             # program instruction units\n",
        );
        for ((program, instruction), m) in &measured {
            text.push_str(&format!(
                "{program} {instruction} {}\n",
                budget_for(program, instruction, m.max)
            ));
        }
        if let Err(err) = std::fs::write(&args.budget, text) {
            eprintln!("write {}: {err}", args.budget.display());
            return ExitCode::FAILURE;
        }
        println!(
            "wrote {} budgets to {}",
            measured.len(),
            args.budget.display()
        );
        return ExitCode::SUCCESS;
    }

    let budget = match read_budget(&args.budget) {
        Ok(b) => b,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    let mut problems = Vec::new();
    println!("| program | instruction | heaviest CU | lightest CU | runs | budget |");
    println!("|---|---|---:|---:|---:|---:|");
    for ((program, instruction), m) in &measured {
        let limit = budget.get(&(program.clone(), instruction.clone()));
        let note = if m.max > NOTE_ABOVE { " ◆" } else { "" };
        println!(
            "| {program} | {instruction} | {}{note} | {} | {} | {} |",
            group(m.max),
            group(m.min),
            m.calls,
            limit.map_or("none".into(), |l| group(*l)),
        );
        match limit {
            None => problems.push(format!("{program}::{instruction} has no budget")),
            Some(limit) if m.max > *limit => problems.push(format!(
                "{program}::{instruction} used {} CU, over its budget of {}",
                group(m.max),
                group(*limit)
            )),
            Some(_) => {}
        }
        if m.max >= DEFAULT_LIMIT {
            problems.push(format!(
                "{program}::{instruction} reaches the 200,000 default limit"
            ));
        }
    }
    for (program, instruction) in budget.keys() {
        if !measured.contains_key(&(program.clone(), instruction.clone())) {
            problems.push(format!(
                "{program}::{instruction} has a budget but the SBF run never executed it"
            ));
        }
    }
    println!("\n◆ above {} CU", group(NOTE_ABOVE));
    if problems.is_empty() {
        println!(
            "compute units: {} instructions within budget",
            measured.len()
        );
        ExitCode::SUCCESS
    } else {
        for problem in &problems {
            eprintln!("error: {problem}");
        }
        ExitCode::FAILURE
    }
}

/// `123456` as `123,456`.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
