//! The build's linker: rustc runs it with bpf-linker-style arguments (objects, rlibs,
//! `-o <out>`, `-O<n>`, `--export-symbols <file>`, …).
//!
//! Before handing everything to sbpf-linker it
//! - lowers atomics (`opt -passes=lower-atomic`) in every LLVM bitcode object, loose or
//!   inside an rlib: SBPF has no atomic instructions and a program runs single-threaded, so
//!   plain loads and stores are exact;
//! - replaces `-Os`/`-Oz` with `-O2`: LLVM 23's linker pipeline no longer takes size
//!   levels, while the bitcode already carries the `optsize` attributes of opt-level s/z.
//!
//! Cargo also links the `cdylib` of every dependency that declares one (the other programs,
//! built with `no-entrypoint`, and crates like solana-zk-sdk). Those shared objects are never
//! deployed, and without the program's compiler builtins they cannot link, so for them (no
//! `CARGO_PRIMARY_PACKAGE`) the linker writes an empty file instead.

use super::{ENV_AR, ENV_OPT, ENV_SBPF_LINKER};
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Raw LLVM bitcode.
const BITCODE_MAGIC: [u8; 4] = *b"BC\xC0\xDE";
/// LLVM bitcode in a wrapper header.
const BITCODE_WRAPPER_MAGIC: [u8; 4] = [0xDE, 0xC0, 0x17, 0x0B];

pub fn run() -> ExitCode {
    match link(super::args_after_argv0()) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("{}: {err}", super::LINKER_NAME);
            ExitCode::FAILURE
        }
    }
}

fn tool(var: &str) -> super::Result<PathBuf> {
    std::env::var_os(var)
        .map(PathBuf::from)
        .ok_or_else(|| format!("{var} is not set: run this through `cargo xtask build-sbf`"))
}

fn link(args: Vec<OsString>) -> super::Result<ExitCode> {
    let opt = tool(ENV_OPT)?;
    let ar = tool(ENV_AR)?;
    let sbpf_linker = tool(ENV_SBPF_LINKER)?;
    let output = args
        .iter()
        .position(|a| a == "-o")
        .and_then(|i| args.get(i.checked_add(1)?))
        .map(PathBuf::from)
        .ok_or("no `-o <output>` argument")?;
    if std::env::var_os("CARGO_PRIMARY_PACKAGE").is_none() {
        fs::write(&output, b"").map_err(|e| format!("{}: {e}", output.display()))?;
        return Ok(ExitCode::SUCCESS);
    }
    let scratch = PathBuf::from(format!("{}.lowered", output.display()));
    if scratch.exists() {
        fs::remove_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    }
    fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;

    let lower = Lowering {
        opt: &opt,
        ar: &ar,
        scratch: &scratch,
    };
    let mut rewritten = Vec::with_capacity(args.len());
    let mut previous_was_flag_with_value = false;
    for (index, arg) in args.into_iter().enumerate() {
        let text = arg.to_string_lossy().into_owned();
        if previous_was_flag_with_value {
            previous_was_flag_with_value = false;
            rewritten.push(arg);
            continue;
        }
        previous_was_flag_with_value = matches!(
            text.as_str(),
            "-o" | "--export-symbols" | "--cpu" | "--cpu-features" | "--llvm-args" | "-L"
        );
        let path = Path::new(&arg);
        if text == "-Os" || text == "-Oz" {
            rewritten.push(OsString::from("-O2"));
        } else if text.ends_with(".o") && path.is_file() {
            rewritten.push(lower.object(path, index)?.into_os_string());
        } else if (text.ends_with(".rlib") || text.ends_with(".a")) && path.is_file() {
            rewritten.push(lower.archive(path, index)?.into_os_string());
        } else {
            rewritten.push(arg);
        }
    }

    // sbpf-linker also writes every program it links to `./target/deploy` unless told not
    // to: the build copies each program to the out dir it was asked for, and nowhere else.
    let out = Command::new(&sbpf_linker)
        .args(&rewritten)
        .args(["--deploy", "false"])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", sbpf_linker.display()))?;
    let status = out.status;
    // sbpf-linker first tries a libLLVM file name the toolchain does not ship, says so, then
    // loads the versioned one: drop that line, keep everything else.
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in stderr.lines() {
        if !line.starts_with("unable to open LLVM shared lib") {
            eprintln!("{line}");
        }
    }
    print!("{}", String::from_utf8_lossy(&out.stdout));
    if status.success() {
        let _ = fs::remove_dir_all(&scratch);
    }
    Ok(super::rustc_wrapper::exit_code(status))
}

struct Lowering<'a> {
    opt: &'a Path,
    ar: &'a Path,
    scratch: &'a Path,
}

fn is_bitcode(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && (magic == BITCODE_MAGIC || magic == BITCODE_WRAPPER_MAGIC)
}

impl Lowering<'_> {
    /// Lowers the atomics of one bitcode file from `input` into `output`.
    fn lower(&self, input: &Path, output: &Path) -> super::Result<()> {
        super::run(
            Command::new(self.opt)
                .arg("-passes=lower-atomic")
                .arg(input)
                .arg("-o")
                .arg(output),
        )
    }

    /// A lowered copy of the object at `path` (itself if it is not bitcode).
    fn object(&self, path: &Path, index: usize) -> super::Result<PathBuf> {
        if !is_bitcode(path) {
            return Ok(path.to_path_buf());
        }
        let name = path.file_name().ok_or("object without a name")?;
        let out = self
            .scratch
            .join(format!("{index}-{}", name.to_string_lossy()));
        self.lower(path, &out)?;
        Ok(out)
    }

    /// A copy of the archive at `path` with every bitcode member lowered (itself if it has
    /// none).
    fn archive(&self, path: &Path, index: usize) -> super::Result<PathBuf> {
        let listing = Command::new(self.ar)
            .arg("t")
            .arg(path)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.ar.display()))?;
        if !listing.status.success() {
            return Err(format!(
                "{} t {}: {}",
                self.ar.display(),
                path.display(),
                String::from_utf8_lossy(&listing.stderr)
            ));
        }
        let members: Vec<String> = String::from_utf8_lossy(&listing.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        let mut unique = members.clone();
        unique.sort();
        unique.dedup();
        if unique.len() != members.len() {
            return Err(format!(
                "{} has members with the same name; cannot rewrite it",
                path.display()
            ));
        }
        let dir = self.scratch.join(format!("{index}.members"));
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        super::run(
            Command::new(self.ar)
                .arg("x")
                .arg(path)
                .arg(format!("--output={}", dir.display())),
        )?;
        let mut any_bitcode = false;
        for member in &members {
            let file = dir.join(member);
            if is_bitcode(&file) {
                any_bitcode = true;
                self.lower(&file, &file)?;
            }
        }
        if !any_bitcode {
            return Ok(path.to_path_buf());
        }
        let name = path.file_name().ok_or("archive without a name")?;
        let out = self
            .scratch
            .join(format!("{index}-{}", name.to_string_lossy()));
        let mut pack = Command::new(self.ar);
        pack.arg("rc").arg(&out);
        for member in &members {
            pack.arg(dir.join(member));
        }
        super::run(&mut pack)?;
        Ok(out)
    }
}
