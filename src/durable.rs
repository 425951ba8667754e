//! Crash-safe file writes: temp file in the same folder, fsync, rename (or link), fsync the folder.
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

/// Flush a directory's entries to disk so a rename or create inside it survives a crash.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn parent_of(path: &Path) -> io::Result<&Path> {
    path.parent().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{}` has no parent folder", path.display()),
        )
    })
}

fn write_temp(dir: &Path, contents: &[u8]) -> io::Result<tempfile::NamedTempFile> {
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    Ok(tmp)
}

/// Replace `path` atomically with `contents`, durably.
pub fn write(path: &Path, contents: &[u8]) -> io::Result<()> {
    write_with_permissions(path, contents, None)
}

/// [`write`], the new file with these permissions (else the temporary file's 0600).
pub fn write_with_permissions(
    path: &Path,
    contents: &[u8],
    permissions: Option<fs::Permissions>,
) -> io::Result<()> {
    let dir = parent_of(path)?;
    let tmp = write_temp(dir, contents)?;
    if let Some(permissions) = permissions {
        tmp.as_file().set_permissions(permissions)?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// Create `path` with `contents` durably, failing with `AlreadyExists` if it exists.
/// The file appears whole or not at all.
pub fn create_new(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = parent_of(path)?;
    let tmp = write_temp(dir, contents)?;
    tmp.persist_noclobber(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// Move `from` to `to` by one atomic rename and make both folders durable.
pub fn rename(from: &Path, to: &Path) -> io::Result<()> {
    fs::rename(from, to)?;
    let to_dir = parent_of(to)?;
    sync_dir(to_dir)?;
    let from_dir = parent_of(from)?;
    if from_dir != to_dir {
        sync_dir(from_dir)?;
    }
    Ok(())
}

/// Create a folder and its parents; a no-op when it exists.
pub fn ensure_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

/// Replace `path` atomically, without waiting for the disk: for caches that may be
/// lost in a crash but must never be seen half-written.
pub fn write_fast(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = parent_of(path)?;
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    tmp.write_all(contents)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
