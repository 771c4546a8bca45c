//! A copy of the nightly's `library/` with a Solana platform layer for std.
//!
//! Upstream std has no platform layer for BPF, and SBPF has no writable static data
//! (`.bss`/`.data`), which std's panic and hashing machinery use. The patch treats the
//! `solana` OS like the other thread-less, unsupported platforms and cuts those statics
//! out:
//! - no system allocator: programs bring their own `#[global_allocator]` (the Solana
//!   entrypoint's bump allocator over the runtime's heap), so `System` fails every request;
//! - the `unsupported` I/O error, random source and no-thread thread-locals;
//! - a panic handler that logs the message with `sol_log_` and ends in `sol_panic_`, like
//!   the Solana toolchain's own; `panic_with_hook` and the OOM handler go straight there,
//!   and `abort` is the runtime's `abort` syscall;
//! - `RandomState::new` with fixed keys (a program's execution is deterministic anyway).
//!
//! Every edit asserts the exact upstream text it replaces, so a nightly bump that moved
//! anything fails here rather than building a wrong std.

use std::fs;
use std::path::{Path, PathBuf};

pub struct Library {
    /// The patched `library/` directory.
    pub path: PathBuf,
    /// Whether the copy was (re)made by this run.
    pub patched_anew: bool,
}

/// One textual edit: `old` must occur exactly `count` times in `file`.
struct Edit {
    file: &'static str,
    old: &'static str,
    new: &'static str,
    count: usize,
}

const EDITS: &[Edit] = &[
    Edit {
        file: "std/src/sys/alloc/mod.rs",
        old: "    target_arch = \"xtensa\",\n)) {\n    8\n",
        new: "    target_arch = \"xtensa\",\n    target_arch = \"bpf\",\n)) {\n    8\n",
        count: 1,
    },
    Edit {
        file: "std/src/sys/alloc/mod.rs",
        old: "    target_os = \"zkvm\" => {\n        mod zkvm;\n        use zkvm as imp;\n    }\n",
        new: "    target_os = \"zkvm\" => {\n        mod zkvm;\n        use zkvm as imp;\n    }\n    target_os = \"solana\" => {\n        mod solana;\n        use solana as imp;\n    }\n",
        count: 1,
    },
    Edit {
        file: "std/src/sys/io/error/mod.rs",
        old: "any(target_os = \"vexos\", target_family = \"wasm\",",
        new: "any(target_os = \"vexos\", target_os = \"solana\", target_family = \"wasm\",",
        count: 1,
    },
    Edit {
        file: "std/src/sys/random/mod.rs",
        old: "        target_os = \"vexos\",\n        target_os = \"l4re\",\n    ) => {",
        new: "        target_os = \"vexos\",\n        target_os = \"solana\",\n        target_os = \"l4re\",\n    ) => {",
        count: 1,
    },
    Edit {
        file: "std/src/sys/random/mod.rs",
        old: "    target_os = \"vexos\",\n    target_os = \"l4re\",\n)))]",
        new: "    target_os = \"vexos\",\n    target_os = \"solana\",\n    target_os = \"l4re\",\n)))]",
        count: 1,
    },
    Edit {
        file: "std/src/sys/thread_local/mod.rs",
        old: "        target_os = \"vexos\",\n    ) => {\n        mod no_threads;",
        new: "        target_os = \"vexos\",\n        target_os = \"solana\",\n    ) => {\n        mod no_threads;",
        count: 1,
    },
    Edit {
        file: "std/src/sys/thread_local/mod.rs",
        old: "            target_os = \"vexos\",\n        ) => {\n            pub(crate) fn enable() {",
        new: "            target_os = \"vexos\",\n            target_os = \"solana\",\n        ) => {\n            pub(crate) fn enable() {",
        count: 1,
    },
    Edit {
        file: "std/src/sys/pal/unsupported/common.rs",
        old: "pub fn abort_internal() -> ! {\n    core::intrinsics::abort_immediate();\n}",
        new: "pub fn abort_internal() -> ! {\n    crate::panicking::solana::abort()\n}",
        count: 1,
    },
    Edit {
        file: "std/src/panicking.rs",
        old: "#[panic_handler]\npub(crate) fn panic_handler(",
        new: "#[allow(dead_code)]\npub(crate) fn hosted_panic_handler(",
        count: 1,
    },
    Edit {
        file: "std/src/panicking.rs",
        old: "fn panic_with_hook(\n    payload: &mut dyn PanicPayload,\n    location: &'static Location<'static>,\n    can_unwind: bool,\n    force_no_backtrace: bool,\n) -> ! {\n",
        new: "fn panic_with_hook(\n    _payload: &mut dyn PanicPayload,\n    location: &'static Location<'static>,\n    _can_unwind: bool,\n    _force_no_backtrace: bool,\n) -> ! {\n    solana::panic_at(\"explicit panic\", location)\n}\n\n#[allow(dead_code)]\nfn hosted_panic_with_hook(\n    payload: &mut dyn PanicPayload,\n    location: &'static Location<'static>,\n    can_unwind: bool,\n    force_no_backtrace: bool,\n) -> ! {\n",
        count: 1,
    },
    Edit {
        file: "std/src/alloc.rs",
        old: "pub fn rust_oom(layout: Layout) -> ! {\n",
        new: "pub fn rust_oom(layout: Layout) -> ! {\n    crate::panicking::solana::out_of_memory(layout.size())\n}\n\n#[allow(dead_code)]\nfn hosted_rust_oom(layout: Layout) -> ! {\n",
        count: 1,
    },
    Edit {
        file: "std/src/hash/random.rs",
        old: "        thread_local!(static KEYS: Cell<(u64, u64)> = {\n            Cell::new(hashmap_random_keys())\n        });\n\n        KEYS.with(|keys| {\n            let (k0, k1) = keys.get();\n            keys.set((k0.wrapping_add(1), k1));\n            RandomState { k0, k1 }\n        })\n",
        new: "        // SBPF has no writable statics for a per-thread key cache, and a program's\n        // execution is deterministic anyway.\n        let _ = (Cell::new(()), hashmap_random_keys);\n        RandomState { k0: 0x736f_6c61_6e61_6b30, k1: 0x736f_6c61_6e61_6b31 }\n",
        count: 1,
    },
];

/// New files, appended (`append: true`) or created.
struct Addition {
    file: &'static str,
    text: &'static str,
    append: bool,
}

const ADDITIONS: &[Addition] = &[
    Addition {
        file: "std/src/sys/alloc/solana.rs",
        append: false,
        text: r#"//! The solana target has no system allocator. A program's `#[global_allocator]` (the
//! Solana entrypoint's bump allocator over the runtime's heap region) serves every
//! allocation; `System` fails each request instead of competing for that region.

use crate::alloc::Layout;
use crate::ptr;

#[inline]
pub unsafe fn alloc(_layout: Layout) -> *mut u8 {
    ptr::null_mut()
}

#[inline]
pub unsafe fn alloc_zeroed(_layout: Layout) -> *mut u8 {
    ptr::null_mut()
}

#[inline]
pub unsafe fn dealloc(_ptr: *mut u8, _layout: Layout) {}

#[inline]
pub unsafe fn realloc(_ptr: *mut u8, _layout: Layout, _new_size: usize) -> *mut u8 {
    ptr::null_mut()
}
"#,
    },
    Addition {
        file: "std/src/panicking.rs",
        append: true,
        text: r#"
/// Entry point of panics from the core crate on the solana target.
#[cfg(not(any(test, doctest)))]
#[panic_handler]
pub(crate) fn panic_handler(info: &core::panic::PanicInfo<'_>) -> ! {
    solana::panic(info)
}

/// Panics and aborts through the Solana runtime's syscalls, without static data.
pub(crate) mod solana {
    use crate::panic::Location;

    unsafe extern "C" {
        fn sol_log_(message: *const u8, len: u64);
        fn sol_panic_(file: *const u8, len: u64, line: u64, column: u64) -> !;
        #[link_name = "abort"]
        fn sol_abort() -> !;
    }

    /// A fixed buffer the panic message is formatted into (no allocation while panicking).
    struct Message {
        bytes: [u8; 512],
        len: usize,
    }

    impl core::fmt::Write for Message {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let room = self.bytes.len().saturating_sub(self.len);
            let mut take = s.len().min(room);
            while !s.is_char_boundary(take) {
                take -= 1;
            }
            self.bytes[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
            self.len += take;
            Ok(())
        }
    }

    fn log(args: core::fmt::Arguments<'_>) {
        let mut message = Message { bytes: [0; 512], len: 0 };
        let _ = core::fmt::write(&mut message, args);
        unsafe { sol_log_(message.bytes.as_ptr(), message.len as u64) };
    }

    fn end(location: Option<&Location<'_>>) -> ! {
        match location {
            Some(at) => unsafe {
                sol_panic_(at.file().as_ptr(), at.file().len() as u64, at.line() as u64, at.column() as u64)
            },
            None => abort(),
        }
    }

    pub fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
        log(format_args!("{info}"));
        end(info.location())
    }

    pub fn panic_at(message: &str, location: &Location<'_>) -> ! {
        log(format_args!("panicked at {location}: {message}"));
        end(Some(location))
    }

    pub fn out_of_memory(size: usize) -> ! {
        log(format_args!("memory allocation of {size} bytes failed"));
        abort()
    }

    pub fn abort() -> ! {
        unsafe { sol_abort() }
    }
}
"#,
    },
];

/// Copies `source` (a nightly's `library/`) to `dest/library` and patches it, unless a
/// copy made by this build recipe (`recipe`: see [`super::recipe_hash`]) is already there.
pub fn prepare(source: &Path, dest: &Path, recipe: u64) -> super::Result<Library> {
    let library = dest.join("library");
    let stamp = dest.join("patched");
    let wanted = format!("{} {recipe:016x}", super::NIGHTLY);
    if fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(Library {
            path: library,
            patched_anew: false,
        });
    }
    if dest.exists() {
        fs::remove_dir_all(dest).map_err(|e| format!("remove {}: {e}", dest.display()))?;
    }
    copy_dir(source, &library)?;
    for edit in EDITS {
        let path = library.join(edit.file);
        let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let found = text.matches(edit.old).count();
        if found != edit.count {
            return Err(format!(
                "std patch: expected {} occurrence(s) of {:?} in {}, found {found}; \
                 the pinned nightly's sources changed",
                edit.count, edit.old, edit.file
            ));
        }
        let patched = text.replace(edit.old, edit.new);
        fs::write(&path, patched).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    for addition in ADDITIONS {
        let path = library.join(addition.file);
        let mut text = if addition.append {
            fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?
        } else {
            String::new()
        };
        text.push_str(addition.text);
        fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    fs::write(&stamp, wanted).map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(Library {
        path: library,
        patched_anew: true,
    })
}

fn copy_dir(from: &Path, to: &Path) -> super::Result<()> {
    fs::create_dir_all(to).map_err(|e| format!("create {}: {e}", to.display()))?;
    let entries = fs::read_dir(from).map_err(|e| format!("read {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("read {}: {e}", from.display()))?;
        let kind = entry
            .file_type()
            .map_err(|e| format!("{}: {e}", entry.path().display()))?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)
                .map_err(|e| format!("copy {}: {e}", entry.path().display()))?;
        }
    }
    Ok(())
}
