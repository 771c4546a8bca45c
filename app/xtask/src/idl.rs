//! The programs' IDLs, generated natively with Anchor's `idl-build` (anchor-lang-idl), kept
//! in `programs/<program>/idl.json` and checked fresh in CI.

use anchor_lang_idl::build::IdlBuilder;
use std::fs;
use std::path::Path;

/// The deployable programs (the test suite's escrow stand-in has no IDL).
pub const PROGRAMS: [&str; 4] = [
    "staking",
    "provider_registry",
    "job_escrow",
    "reward_emission",
];

/// Writes each program's IDL, or with `check` fails when a committed one differs from
/// what the source generates.
pub fn run(root: &Path, check: bool) -> Result<(), String> {
    // anchor-lang-idl turns a set RUSTUP_TOOLCHAIN into a malformed `+toolchain` argument;
    // the workspace's rust-toolchain.toml pins the toolchain anyway.
    std::env::remove_var("RUSTUP_TOOLCHAIN");
    // A target directory of its own: the IDL build compiles with other features and
    // RUSTFLAGS, which would otherwise rebuild `target/debug` back and forth.
    let target_dir = root.join("target/idl-build");
    let mut stale = Vec::new();
    for program in PROGRAMS {
        eprintln!("Generating the IDL of {program}");
        let idl = IdlBuilder::new()
            .program_path(root.join("programs").join(program))
            .cargo_args(vec![
                "--locked".into(),
                "--target-dir".into(),
                target_dir.display().to_string(),
            ])
            .build()
            .map_err(|err| format!("{program}: IDL build failed: {err:#}"))?;
        let mut text = serde_json::to_string_pretty(&idl).map_err(|err| err.to_string())?;
        text.push('\n');
        let path = root.join("programs").join(program).join("idl.json");
        let committed = fs::read_to_string(&path).unwrap_or_default();
        if committed == text {
            continue;
        }
        if check {
            stale.push(path.display().to_string());
        } else {
            fs::write(&path, text).map_err(|err| format!("write {}: {err}", path.display()))?;
            eprintln!("  wrote {}", path.display());
        }
    }
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "stale IDL (run `cargo xtask idl` and commit the result): {}",
            stale.join(", ")
        ))
    }
}
