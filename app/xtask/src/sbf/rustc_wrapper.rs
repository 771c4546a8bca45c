//! The build's rustc wrapper (`RUSTC_WRAPPER`): cargo runs it as `wrapper rustc <args>`.
//!
//! The custom target's std is `restricted_std` (not a tier-1/2 platform), so every crate
//! compiled for the target needs `#![feature(restricted_std)]`. The wrapper adds it with
//! `-Zcrate-attr`, except for:
//! - the sysroot crates themselves (`-Zforce-unstable-if-unmarked`), where the feature is
//!   unknown (E0635) in `core`;
//! - host crates (build scripts, proc-macros: no custom `--target`) and `--print` queries;
//! - `no_std` crates that never load std: a compile failing with E0635 (unknown feature)
//!   for `restricted_std` is retried without it.

use super::TARGET;
use std::ffi::OsString;
use std::io::Write;
use std::process::{Command, ExitCode};

const ATTR: &str = "-Zcrate-attr=feature(restricted_std)";

pub fn run() -> ExitCode {
    let mut args = super::args_after_argv0().into_iter();
    let Some(rustc) = args.next() else {
        eprintln!("{}: expected `rustc <args>`", super::RUSTC_WRAPPER_NAME);
        return ExitCode::FAILURE;
    };
    let args: Vec<OsString> = args.collect();
    let text = |a: &OsString| a.to_string_lossy().into_owned();
    let for_target = args.iter().any(|a| text(a).contains(TARGET));
    let sysroot_crate = args
        .iter()
        .any(|a| text(a) == "-Zforce-unstable-if-unmarked");
    let query = args.iter().any(|a| {
        let a = text(a);
        a.starts_with("--print") || a == "-vV" || a == "-V" || a == "--version"
    });
    if !for_target || sysroot_crate || query {
        return exec(Command::new(&rustc).args(&args));
    }

    let attempt = Command::new(&rustc).arg(ATTR).args(&args).output();
    let attempt = match attempt {
        Ok(out) => out,
        Err(err) => {
            eprintln!("cannot run {}: {err}", rustc.to_string_lossy());
            return ExitCode::FAILURE;
        }
    };
    let stderr = String::from_utf8_lossy(&attempt.stderr);
    let unknown_feature = stderr.contains("E0635") && stderr.contains("restricted_std");
    if !attempt.status.success() && unknown_feature {
        // A no_std crate: std is never loaded, so the feature is unknown there.
        return exec(Command::new(&rustc).args(&args));
    }
    // Pass the (possibly JSON) diagnostics on exactly as rustc wrote them.
    let _ = std::io::stdout().write_all(&attempt.stdout);
    let _ = std::io::stderr().write_all(&attempt.stderr);
    exit_code(attempt.status)
}

fn exec(command: &mut Command) -> ExitCode {
    match command.status() {
        Ok(status) => exit_code(status),
        Err(err) => {
            eprintln!("cannot run {:?}: {err}", command.get_program());
            ExitCode::FAILURE
        }
    }
}

pub fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE,
    }
}
