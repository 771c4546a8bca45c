//! The tar archives that carry a job's inputs to its node and its results back.
//!
//! Packing is deterministic (sorted entries, zero times and owners), so packing the same
//! files again gives the same SHA-256: the digest a manifest pins can be re-checked by a later
//! `job upload`. Unpacking trusts nothing: only regular files and directories, only relative
//! paths without `..`, and bounded in entries and bytes, so an archive from a stranger never
//! writes outside its directory.

use solana_sha256_hasher::Hasher;
use std::{
    fs::{self, File},
    io::{self, Read, Write},
    path::{Component, Path, PathBuf},
};

/// Most entries an archive may hold.
pub const MAX_ENTRIES: usize = 100_000;

/// Why packing or unpacking failed.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("{0} is neither a file nor a directory (links and devices are not packed)")]
    NotPackable(String),
    #[error("two inputs are both named {0:?}; rename one")]
    DuplicateName(String),
    #[error("the archive entry {0:?} is not a plain relative path")]
    UnsafePath(String),
    #[error("the archive entry {0:?} is a link or special file; only files and directories are accepted")]
    UnsafeType(String),
    #[error("the archive holds more than {0} bytes")]
    TooLarge(u64),
    #[error("the archive holds more than {MAX_ENTRIES} entries")]
    TooManyEntries,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ArchiveError + '_ {
    move |source| ArchiveError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// SHA-256 and size of the file at `path`.
pub fn sha256_file(path: &Path) -> io::Result<([u8; 32], u64)> {
    let mut file = File::open(path)?;
    let mut hasher = Hasher::default();
    let mut buf = vec![0; 256 * 1024];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok((hasher.result().to_bytes(), bytes));
        }
        hasher.hash(&buf[..n]);
        bytes = bytes.saturating_add(n as u64);
    }
}

/// A writer that hashes what passes through it.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Hasher,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Hasher::default(),
            bytes: 0,
        }
    }

    /// The writer, the SHA-256 and the size of everything written.
    pub fn finish(self) -> (W, [u8; 32], u64) {
        (self.inner, self.hasher.result().to_bytes(), self.bytes)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.hash(&buf[..n]);
        self.bytes = self.bytes.saturating_add(n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Packs `paths` (files or directories, each under its own name at the top of the archive)
/// into a new tar at `dest`; returns its SHA-256 and size.
pub fn pack(paths: &[PathBuf], dest: &Path) -> Result<([u8; 32], u64), ArchiveError> {
    let mut names: Vec<(String, &PathBuf)> = Vec::new();
    for path in paths {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| ArchiveError::NotPackable(path.display().to_string()))?
            .to_owned();
        if names.iter().any(|(n, _)| *n == name) {
            return Err(ArchiveError::DuplicateName(name));
        }
        names.push((name, path));
    }
    names.sort();
    write_tar(dest, |builder| {
        for (name, path) in &names {
            append(builder, path, Path::new(name))?;
        }
        Ok(())
    })
}

/// Packs the contents of `dir` (its entries at the top of the archive) into a new tar at
/// `dest`; returns its SHA-256 and size. A missing `dir` packs as an empty archive.
pub fn pack_dir(dir: &Path, dest: &Path) -> Result<([u8; 32], u64), ArchiveError> {
    write_tar(dest, |builder| {
        if dir.exists() {
            for (name, path) in sorted_children(dir)? {
                append(builder, &path, Path::new(&name))?;
            }
        }
        Ok(())
    })
}

fn write_tar(
    dest: &Path,
    fill: impl FnOnce(&mut tar::Builder<HashingWriter<File>>) -> Result<(), ArchiveError>,
) -> Result<([u8; 32], u64), ArchiveError> {
    let file = File::create(dest).map_err(io_err(dest))?;
    let mut builder = tar::Builder::new(HashingWriter::new(file));
    builder.mode(tar::HeaderMode::Deterministic);
    builder.follow_symlinks(false);
    fill(&mut builder)?;
    let writer = builder.into_inner().map_err(io_err(dest))?;
    let (file, sha256, bytes) = writer.finish();
    file.sync_all().map_err(io_err(dest))?;
    Ok((sha256, bytes))
}

fn sorted_children(dir: &Path) -> Result<Vec<(String, PathBuf)>, ArchiveError> {
    let mut children = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry
            .file_name()
            .into_string()
            .map_err(|_| ArchiveError::NotPackable(entry.path().display().to_string()))?;
        children.push((name, entry.path()));
    }
    children.sort();
    Ok(children)
}

fn append(
    builder: &mut tar::Builder<HashingWriter<File>>,
    path: &Path,
    name: &Path,
) -> Result<(), ArchiveError> {
    let meta = fs::symlink_metadata(path).map_err(io_err(path))?;
    if meta.is_file() {
        let mut file = File::open(path).map_err(io_err(path))?;
        builder.append_file(name, &mut file).map_err(io_err(path))?;
    } else if meta.is_dir() {
        builder.append_dir(name, path).map_err(io_err(path))?;
        for (child, child_path) in sorted_children(path)? {
            append(builder, &child_path, &name.join(child))?;
        }
    } else {
        return Err(ArchiveError::NotPackable(path.display().to_string()));
    }
    Ok(())
}

/// Unpacks the tar at `archive` into `dest` (created if missing), refusing links, special
/// files, absolute paths, `..`, more than [`MAX_ENTRIES`] entries or `max_bytes` of content.
/// On an error, what was unpacked so far stays in `dest` for the caller to remove.
pub fn unpack(archive: &Path, dest: &Path, max_bytes: u64) -> Result<u64, ArchiveError> {
    fs::create_dir_all(dest).map_err(io_err(dest))?;
    let file = File::open(archive).map_err(io_err(archive))?;
    let mut tar = tar::Archive::new(file);
    tar.set_preserve_permissions(false);
    tar.set_unpack_xattrs(false);
    tar.set_overwrite(false);
    let mut total = 0u64;
    let mut count = 0usize;
    for entry in tar.entries().map_err(io_err(archive))? {
        let mut entry = entry.map_err(io_err(archive))?;
        count = count.saturating_add(1);
        if count > MAX_ENTRIES {
            return Err(ArchiveError::TooManyEntries);
        }
        let path = entry.path().map_err(io_err(archive))?.into_owned();
        let shown = path.display().to_string();
        if path.as_os_str().is_empty()
            || !path.components().all(|c| matches!(c, Component::Normal(_)))
        {
            return Err(ArchiveError::UnsafePath(shown));
        }
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_dir()) {
            return Err(ArchiveError::UnsafeType(shown));
        }
        total = total.saturating_add(entry.size());
        if total > max_bytes {
            return Err(ArchiveError::TooLarge(max_bytes));
        }
        let unpacked = entry.unpack_in(dest).map_err(io_err(&dest.join(&path)))?;
        if !unpacked {
            return Err(ArchiveError::UnsafePath(shown));
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_is_deterministic_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        fs::create_dir_all(data.join("sub")).unwrap();
        fs::write(data.join("sub/b.txt"), b"bee").unwrap();
        fs::write(data.join("a.txt"), b"ay").unwrap();
        let config = dir.path().join("config.json");
        fs::write(&config, b"{}").unwrap();

        let first = pack(&[data.clone(), config.clone()], &dir.path().join("1.tar")).unwrap();
        // Touch a file: times are not packed, so the digest stays.
        fs::write(data.join("a.txt"), b"ay").unwrap();
        let second = pack(&[config, data], &dir.path().join("2.tar")).unwrap();
        assert_eq!(first, second);
        assert_eq!(
            sha256_file(&dir.path().join("1.tar")).unwrap(),
            first,
            "the returned digest is the file's"
        );

        let out = dir.path().join("out");
        unpack(&dir.path().join("1.tar"), &out, 1 << 20).unwrap();
        assert_eq!(fs::read(out.join("data/sub/b.txt")).unwrap(), b"bee");
        assert_eq!(fs::read(out.join("config.json")).unwrap(), b"{}");
    }

    #[test]
    fn duplicate_top_level_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["x", "y"] {
            fs::create_dir_all(dir.path().join(sub)).unwrap();
            fs::write(dir.path().join(sub).join("same"), b"1").unwrap();
        }
        let err = pack(
            &[dir.path().join("x/same"), dir.path().join("y/same")],
            &dir.path().join("t.tar"),
        )
        .unwrap_err();
        assert!(matches!(err, ArchiveError::DuplicateName(n) if n == "same"));
    }

    /// A raw tar with one entry, bypassing the builder's own path checks.
    fn raw_tar(path: &Path, name: &[u8], kind: tar::EntryType, body: &[u8]) {
        let mut header = tar::Header::new_gnu();
        {
            let gnu = header.as_gnu_mut().unwrap();
            gnu.name[..name.len()].copy_from_slice(name);
        }
        header.set_entry_type(kind);
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        if kind == tar::EntryType::Symlink {
            header.set_link_name("/etc/passwd").unwrap();
        }
        header.set_cksum();
        let mut builder = tar::Builder::new(File::create(path).unwrap());
        builder.append(&header, body).unwrap();
        builder.finish().unwrap();
    }

    #[test]
    fn unsafe_entries_are_refused_and_write_nothing_outside() {
        let dir = tempfile::tempdir().unwrap();
        let tar = dir.path().join("evil.tar");
        let out = dir.path().join("out");

        raw_tar(&tar, b"../escape.txt", tar::EntryType::Regular, b"x");
        let err = unpack(&tar, &out, 1 << 20).unwrap_err();
        assert!(matches!(err, ArchiveError::UnsafePath(p) if p == "../escape.txt"));
        assert!(!dir.path().join("escape.txt").exists());

        raw_tar(&tar, b"/tmp/abs.txt", tar::EntryType::Regular, b"x");
        assert!(matches!(
            unpack(&tar, &out, 1 << 20).unwrap_err(),
            ArchiveError::UnsafePath(_)
        ));

        raw_tar(&tar, b"link", tar::EntryType::Symlink, b"");
        assert!(matches!(
            unpack(&tar, &out, 1 << 20).unwrap_err(),
            ArchiveError::UnsafeType(p) if p == "link"
        ));

        raw_tar(&tar, b"big.bin", tar::EntryType::Regular, &[0; 2048]);
        assert!(matches!(
            unpack(&tar, &out, 1024).unwrap_err(),
            ArchiveError::TooLarge(1024)
        ));
        assert!(!out.join("big.bin").exists());
    }
}
