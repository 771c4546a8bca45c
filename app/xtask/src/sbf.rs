//! The SBF build: the four programs to SBPF v3 `.so` files with an upstream nightly and
//! sbpf-linker instead of the Solana platform-tools.
//!
//! How it works:
//! - a custom target `bpfel-solana-solana` (upstream `bpfel-unknown-none` with
//!   `os = "solana"`, compare-and-swap atomics, std) is written from the nightly's own spec;
//! - std is built for it (`-Zbuild-std`) from a copy of the nightly's `rust-src` with a small
//!   Solana platform layer patched in ([`std_patch`]);
//! - every crate of the target gets `feature(restricted_std)` from [`rustc_wrapper`];
//! - [`linker`] lowers atomics (SBPF has no atomic instructions; programs are
//!   single-threaded) in every bitcode object, then runs sbpf-linker;
//! - each program is built by its own cargo invocation, as `cargo build-sbf` does, so that
//!   one program's `cpi` feature does not leak into another's build.

pub mod linker;
pub mod rustc_wrapper;
mod std_patch;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The nightly the build is pinned to (LLVM 23, which sbpf-linker needs).
pub const NIGHTLY: &str = "nightly-2026-10-30";
/// The sbpf-linker release the build is pinned to.
pub const SBPF_LINKER_VERSION: &str = "0.2.6";
/// The programs, in build order: the four of the market, then the test suite's escrow
/// stand-in (never deployed; the SBF test tier loads it beside the others).
pub const PROGRAMS: [&str; 5] = [
    "staking",
    "provider_registry",
    "job_escrow",
    "reward_emission",
    "escrow_proxy",
];
/// The custom target's name (the spec file's stem).
pub const TARGET: &str = "bpfel-solana-solana";
/// The name the rustc-wrapper copy of this binary runs under.
pub const RUSTC_WRAPPER_NAME: &str = "sbf-rustc-wrapper";
/// The name the linker copy of this binary runs under.
pub const LINKER_NAME: &str = "sbf-linker-wrapper";
/// The stack frame size SBPF v3 programs get.
const STACK_FRAME_SIZE: u32 = 4_096;

/// Environment variables through which the build tells its wrappers where the tools are.
pub const ENV_OPT: &str = "GPU_MARKET_SBF_OPT";
pub const ENV_AR: &str = "GPU_MARKET_SBF_AR";
pub const ENV_SBPF_LINKER: &str = "GPU_MARKET_SBF_LINKER";

/// Which wrapper this process is, by the name it was started under.
pub enum Role {
    RustcWrapper,
    Linker,
}

pub fn role() -> Option<Role> {
    let argv0 = std::env::args_os().next()?;
    let name = Path::new(&argv0).file_name()?.to_str()?.to_owned();
    match name.as_str() {
        RUSTC_WRAPPER_NAME => Some(Role::RustcWrapper),
        LINKER_NAME => Some(Role::Linker),
        _ => None,
    }
}

/// `--program` values: one of [`PROGRAMS`].
pub fn parse_program(name: &str) -> Result<&'static str, String> {
    PROGRAMS
        .iter()
        .find(|p| **p == name)
        .copied()
        .ok_or_else(|| format!("unknown program `{name}`; one of: {}", PROGRAMS.join(", ")))
}

pub type Result<T, E = String> = std::result::Result<T, E>;

/// Runs `command`, failing with its name and status unless it succeeds.
pub fn run(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .map_err(|err| format!("cannot run {:?}: {err}", command.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed: {status}"))
    }
}

/// Runs `command` and returns its standard output.
fn output(command: &mut Command) -> Result<String> {
    let out = command
        .output()
        .map_err(|err| format!("cannot run {:?}: {err}", command.get_program()))?;
    if !out.status.success() {
        return Err(format!(
            "{command:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|err| format!("{command:?}: output is not UTF-8: {err}"))
}

/// A command that runs `tool` of the pinned nightly, with none of the calling cargo's or
/// rustup's settings (this binary usually runs under `cargo run` on the stable toolchain).
fn nightly(tool: &str) -> Command {
    let mut command = Command::new("rustup");
    command.args(["run", NIGHTLY, tool]);
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let cargo_setting = key.starts_with("CARGO")
            && !matches!(key, "CARGO_HOME")
            && !key.starts_with("CARGO_NET_")
            && !key.starts_with("CARGO_HTTP_")
            && !key.starts_with("CARGO_REGISTRIES_");
        let rust_setting = key.starts_with("RUST")
            && !matches!(key, "RUSTUP_HOME" | "RUST_LOG" | "RUST_BACKTRACE");
        if cargo_setting || rust_setting || key == "__CARGO_TESTS_ONLY_SRC_ROOT" {
            command.env_remove(key);
        }
    }
    command
}

/// The tools of an installed pinned nightly.
struct Toolchain {
    sysroot: PathBuf,
    host: String,
}

impl Toolchain {
    fn tools_dir(&self) -> PathBuf {
        self.sysroot
            .join("lib/rustlib")
            .join(&self.host)
            .join("bin")
    }

    fn library(&self) -> PathBuf {
        self.sysroot.join("lib/rustlib/src/rust/library")
    }

    /// The toolchain, installed with rust-src and llvm-tools if any part is missing.
    fn ensure() -> Result<Self> {
        if let Ok(toolchain) = Self::find() {
            if toolchain.library().join("std/src/lib.rs").is_file()
                && toolchain.tools_dir().join("opt").is_file()
                && toolchain.tools_dir().join("llvm-ar").is_file()
            {
                return Ok(toolchain);
            }
        }
        eprintln!("Installing {NIGHTLY} with rust-src and llvm-tools");
        run(Command::new("rustup").args([
            "toolchain",
            "install",
            NIGHTLY,
            "--profile",
            "minimal",
            "-c",
            "rust-src",
            "-c",
            "llvm-tools",
        ]))?;
        Self::find()
    }

    fn find() -> Result<Self> {
        let sysroot = output(nightly("rustc").args(["--print", "sysroot"]))?;
        let version = output(nightly("rustc").arg("-vV"))?;
        let host = version
            .lines()
            .find_map(|line| line.strip_prefix("host: "))
            .ok_or("rustc -vV printed no host")?
            .to_owned();
        Ok(Self {
            sysroot: PathBuf::from(sysroot.trim()),
            host,
        })
    }
}

/// `$CARGO_HOME/bin`, where `cargo install` puts sbpf-linker.
fn cargo_bin() -> Result<PathBuf> {
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        return Ok(PathBuf::from(home).join("bin"));
    }
    let home = std::env::var_os("HOME").ok_or("neither CARGO_HOME nor HOME is set")?;
    Ok(PathBuf::from(home).join(".cargo/bin"))
}

/// The pinned sbpf-linker, installed from crates.io if missing or of another version.
fn ensure_sbpf_linker() -> Result<PathBuf> {
    let path = cargo_bin()?.join("sbpf-linker");
    let installed = Command::new(&path)
        .arg("--version")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).contains(SBPF_LINKER_VERSION))
        .unwrap_or(false);
    if !installed {
        eprintln!("Installing sbpf-linker {SBPF_LINKER_VERSION} (a few minutes)");
        run(nightly("cargo").args([
            "install",
            "sbpf-linker",
            "--version",
            SBPF_LINKER_VERSION,
            "--locked",
        ]))?;
    }
    Ok(path)
}

/// Writes the custom target's spec: the nightly's `bpfel-unknown-none` made into a std
/// target for the `solana` OS.
fn write_target_spec(dir: &Path, linker: &Path) -> Result<PathBuf> {
    let spec = output(nightly("rustc").args([
        "-Z",
        "unstable-options",
        "--print",
        "target-spec-json",
        "--target",
        "bpfel-unknown-none",
    ]))?;
    let mut spec: serde_json::Value =
        serde_json::from_str(&spec).map_err(|err| format!("target spec: {err}"))?;
    let object = spec.as_object_mut().ok_or("target spec is not an object")?;
    object.insert("os".into(), "solana".into());
    object.insert("vendor".into(), "solana".into());
    // std's `alloc::sync` needs compare-and-swap; the linker lowers every atomic.
    object.insert("atomic-cas".into(), true.into());
    // libm uses 32-bit atomics.
    object.remove("min-atomic-width");
    object.insert(
        "linker".into(),
        linker
            .to_str()
            .ok_or("the linker path is not UTF-8")?
            .into(),
    );
    object
        .get_mut("metadata")
        .and_then(|m| m.as_object_mut())
        .ok_or("target spec has no metadata")?
        .insert("std".into(), true.into());
    let path = dir.join(format!("{TARGET}.json"));
    let text = serde_json::to_string_pretty(&spec).map_err(|err| err.to_string())?;
    write_if_changed(&path, text.as_bytes())?;
    Ok(path)
}

/// Writes `contents` unless the file already holds them (keeps cargo's fingerprints).
fn write_if_changed(path: &Path, contents: &[u8]) -> Result<()> {
    if fs::read(path).ok().as_deref() == Some(contents) {
        return Ok(());
    }
    fs::write(path, contents).map_err(|err| format!("write {}: {err}", path.display()))
}

/// Copies this binary to `dir/name` (the wrappers pick their role by that name).
fn install_self_as(dir: &Path, name: &str) -> Result<PathBuf> {
    let me = std::env::current_exe().map_err(|err| format!("current exe: {err}"))?;
    let path = dir.join(name);
    let bytes = fs::read(&me).map_err(|err| format!("read {}: {err}", me.display()))?;
    if fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
        // Write a new file and rename over the old one: the old one may be running.
        let tmp = dir.join(format!("{name}.tmp"));
        fs::write(&tmp, &bytes).map_err(|err| format!("write {}: {err}", tmp.display()))?;
        set_executable(&tmp)?;
        fs::rename(&tmp, &path).map_err(|err| format!("install {}: {err}", path.display()))?;
    }
    Ok(path)
}

#[cfg(unix)]
fn set_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .map_err(|err| format!("chmod {}: {err}", path.display()))
}

#[cfg(not(unix))]
fn set_executable(_path: &Path) -> Result<()> {
    Ok(())
}

/// The workspace root (this crate lives in `app/xtask`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Builds `programs` to `<out_dir>/<program>.so`.
pub fn build(programs: &[&str], opt_level: &str, out_dir: &Path) -> Result<()> {
    let root = workspace_root();
    let target_dir = root.join("target/sbf");
    let work = target_dir.join("toolchain");
    fs::create_dir_all(&work).map_err(|err| format!("create {}: {err}", work.display()))?;
    let out_dir = if out_dir.is_absolute() {
        out_dir.to_path_buf()
    } else {
        root.join(out_dir)
    };
    fs::create_dir_all(&out_dir).map_err(|err| format!("create {}: {err}", out_dir.display()))?;

    let toolchain = Toolchain::ensure()?;
    let sbpf_linker = ensure_sbpf_linker()?;
    let wrapper = install_self_as(&work, RUSTC_WRAPPER_NAME)?;
    let linker = install_self_as(&work, LINKER_NAME)?;
    let spec = write_target_spec(&work, &linker)?;
    let library = std_patch::prepare(&toolchain.library(), &work.join("rust-src"), recipe_hash())?;
    if library.patched_anew {
        // Cargo fingerprints neither the std sources nor the wrappers' code: rebuild
        // everything after a change of either.
        let stale = target_dir.join(TARGET);
        if stale.exists() {
            fs::remove_dir_all(&stale)
                .map_err(|err| format!("remove {}: {err}", stale.display()))?;
        }
    }

    let rustflags = format!("-C link-arg=--llvm-args=--bpf-stack-size={STACK_FRAME_SIZE}");
    for program in programs {
        eprintln!("Building {program} (SBPF v3, opt-level {opt_level})");
        let mut cargo = nightly("cargo");
        cargo
            .current_dir(&root)
            .args([
                "build",
                "--release",
                "--locked",
                "-Zjson-target-spec",
                "-Zbuild-std=std,panic_abort",
                "--target",
            ])
            .arg(&spec)
            .args(["-p", program])
            .env("__CARGO_TESTS_ONLY_SRC_ROOT", &library.path)
            .env("RUSTC_WRAPPER", &wrapper)
            .env("RUSTFLAGS", &rustflags)
            .env("CARGO_TARGET_DIR", &target_dir)
            .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", opt_level)
            .env(ENV_OPT, toolchain.tools_dir().join("opt"))
            .env(ENV_AR, toolchain.tools_dir().join("llvm-ar"))
            .env(ENV_SBPF_LINKER, &sbpf_linker);
        run(&mut cargo)?;
        // Copy the program's own output right away: building another program links this
        // one again as a (no-entrypoint) dependency.
        let built = target_dir
            .join(TARGET)
            .join("release")
            .join(format!("lib{program}.so"));
        let dest = out_dir.join(format!("{program}.so"));
        fs::copy(&built, &dest)
            .map_err(|err| format!("copy {} to {}: {err}", built.display(), dest.display()))?;
        let size = check_program(&dest)?;
        eprintln!("  {} ({size} bytes)", dest.display());
    }
    Ok(())
}

/// A hash of this build's recipe: the std patch, the wrappers and the target spec code. A
/// change of any of them rebuilds std and every program.
pub fn recipe_hash() -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    include_str!("sbf.rs").hash(&mut hasher);
    include_str!("sbf/std_patch.rs").hash(&mut hasher);
    include_str!("sbf/linker.rs").hash(&mut hasher);
    include_str!("sbf/rustc_wrapper.rs").hash(&mut hasher);
    hasher.finish()
}

/// The size of the program at `path`, once it is known to be an SBPF v3 ELF file (not the
/// empty stand-in of a dependency cdylib).
fn check_program(path: &Path) -> Result<u64> {
    const ELF_MAGIC: &[u8; 4] = b"\x7fELF";
    const E_FLAGS_OFFSET: usize = 0x30;
    const SBPF_V3: u32 = 3;
    let bytes = fs::read(path).map_err(|err| format!("read {}: {err}", path.display()))?;
    let flags = bytes
        .get(E_FLAGS_OFFSET..E_FLAGS_OFFSET + 4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes);
    if !bytes.starts_with(ELF_MAGIC) || flags != Some(SBPF_V3) {
        return Err(format!(
            "{} is not an SBPF v3 ELF file (e_flags {flags:?})",
            path.display()
        ));
    }
    Ok(bytes.len() as u64)
}

/// `OsString` arguments as a vector (for the wrappers).
pub fn args_after_argv0() -> Vec<OsString> {
    std::env::args_os().skip(1).collect()
}
