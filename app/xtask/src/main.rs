//! `cargo xtask`: gpu-market's build tooling.
//!
//! - `cargo xtask build-sbf` builds the four programs to SBPF v3 `.so` files in
//!   `target/deploy/` without the Solana platform-tools: an upstream nightly builds std for
//!   a custom `bpfel-solana-solana` target and sbpf-linker links the programs (see
//!   [`sbf`]).
//! - `cargo xtask idl` writes each program's IDL (Anchor's `idl-build`, natively) to
//!   `programs/<program>/idl.json`; `--check` fails when one is stale (CI).
//!
//! The same binary also serves as that build's rustc wrapper and linker: the build copies it
//! under the names [`sbf::RUSTC_WRAPPER_NAME`] and [`sbf::LINKER_NAME`], and `main` picks
//! the role by the name it was started under.

mod idl;
mod sbf;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "gpu-market build tooling")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Builds the programs to SBPF v3 `.so` files in `target/deploy/`, installing the pinned
    /// nightly toolchain (with rust-src and llvm-tools) and sbpf-linker when missing.
    ///
    /// Users with the Solana toolchain can use `anchor build` / `cargo build-sbf` instead;
    /// this route needs only crates.io and the Rust toolchain server.
    BuildSbf {
        /// Build only this program (repeatable); all four when omitted.
        #[arg(long = "program", short = 'p', value_parser = sbf::parse_program)]
        programs: Vec<&'static str>,
        /// The optimisation level of the program code.
        #[arg(long, default_value = "3", value_parser = ["0", "1", "2", "3", "s", "z"])]
        opt_level: String,
        /// Where the `.so` files go.
        #[arg(long, default_value = "target/deploy")]
        out_dir: PathBuf,
    },
    /// Generates each program's IDL into `programs/<program>/idl.json`.
    Idl {
        /// Write nothing; fail if a committed IDL differs from what the source generates.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> ExitCode {
    match sbf::role() {
        Some(sbf::Role::RustcWrapper) => return sbf::rustc_wrapper::run(),
        Some(sbf::Role::Linker) => return sbf::linker::run(),
        None => {}
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::BuildSbf {
            programs,
            opt_level,
            out_dir,
        } => {
            let programs = if programs.is_empty() {
                sbf::PROGRAMS.to_vec()
            } else {
                programs
            };
            sbf::build(&programs, &opt_level, &out_dir)
        }
        Command::Idl { check } => idl::run(&sbf::workspace_root(), check),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
