//! Opening git agentos's own files without following symbolic links: the logs,
//! ledgers and settings under `.agentos/` and the notes of the memory vault.
//!
//! A [`Dir`] is a folder opened by descriptor; every file and folder below it
//! is opened relative to that descriptor with `O_NOFOLLOW`, so a link at any
//! step below the folder (one that was there when a command started, or one
//! that appears while it runs) is refused, never followed: no code path
//! appends into a link's target. Only regular files are read or written (a
//! FIFO, a device or a folder in a file's place is refused without blocking),
//! a file written to must have one name (a hard link to a file elsewhere is
//! refused), and every read stops at a cap.
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use nix::fcntl::{openat, OFlag};
use nix::sys::stat::Mode;

/// Why a file was refused, as an I/O error (callers name the path).
fn refused(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.to_string())
}

/// The error for a link where a file or folder of ours should be.
fn link_refused() -> io::Error {
    refused("it is a symbolic link, and git agentos follows no link in its own files: remove it")
}

fn from_nix(e: nix::Error) -> io::Error {
    match e {
        nix::Error::ELOOP => link_refused(),
        // O_DIRECTORY|O_NOFOLLOW on a link gives ENOTDIR on some systems.
        other => io::Error::from(other),
    }
}

/// A folder opened without following a link at its own name.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

const DIR_FLAGS: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_DIRECTORY)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);

const FILE_FLAGS: OFlag = OFlag::O_NOFOLLOW
    .union(OFlag::O_NONBLOCK)
    .union(OFlag::O_CLOEXEC);

impl Dir {
    /// Open `path` as a folder; a link at its last component is refused (the
    /// folders above it are the person's and are followed).
    pub fn open(path: &Path) -> io::Result<Dir> {
        let fd = nix::fcntl::open(path, DIR_FLAGS, Mode::empty()).map_err(|e| {
            if e == nix::Error::ENOTDIR && is_link(path) {
                link_refused()
            } else {
                from_nix(e)
            }
        })?;
        Ok(Dir {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// Open `path` as a folder, following a link at its own name (a folder a
    /// person chose, such as the memory vault); what is below it is opened
    /// without following one.
    pub fn open_following(path: &Path) -> io::Result<Dir> {
        let flags = DIR_FLAGS.difference(OFlag::O_NOFOLLOW);
        let fd = nix::fcntl::open(path, flags, Mode::empty()).map_err(from_nix)?;
        Ok(Dir {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// The folder's path, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The folder `name` in this one (one component), made when `create` is set
    /// and it is missing.
    pub fn sub(&self, name: impl AsRef<Path>, create: bool) -> io::Result<Dir> {
        let name = name.as_ref();
        let path = self.path.join(name);
        let open = || openat(&self.fd, name, DIR_FLAGS, Mode::empty());
        let fd = match open() {
            Err(nix::Error::ENOENT) if create => {
                match nix::sys::stat::mkdirat(&self.fd, name, Mode::from_bits_truncate(0o755)) {
                    Ok(()) | Err(nix::Error::EEXIST) => {}
                    Err(e) => return Err(from_nix(e)),
                }
                open()
            }
            other => other,
        };
        let fd = fd.map_err(|e| match e {
            nix::Error::ENOTDIR if self.is_link_at(name) => link_refused(),
            e => from_nix(e),
        })?;
        Ok(Dir { fd, path })
    }

    /// The folder at `rel` (components separated by `/`) below this one.
    pub fn descend(&self, rel: &str, create: bool) -> io::Result<Dir> {
        if rel.split('/').any(|p| p == "..") {
            return Err(refused(
                "a path that leads up (`..`) is not a folder of ours",
            ));
        }
        let mut parts = rel.split('/').filter(|p| !p.is_empty() && *p != ".");
        let first = parts.next().ok_or_else(|| refused("no folder named"))?;
        let mut dir = self.sub(first, create)?;
        for part in parts {
            dir = dir.sub(part, create)?;
        }
        Ok(dir)
    }

    fn is_link_at(&self, name: &Path) -> bool {
        nix::sys::stat::fstatat(&self.fd, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)
            .is_ok_and(|st| st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFLNK)
    }

    /// The regular file `name`, opened with `flags` (plus no-follow), checked.
    fn file(&self, name: &Path, flags: OFlag, writing: bool) -> io::Result<File> {
        let fd = openat(
            &self.fd,
            name,
            flags | FILE_FLAGS,
            Mode::from_bits_truncate(0o644),
        )
        .map_err(|e| match e {
            // Opening a FIFO for writing with no reader.
            nix::Error::ENXIO => refused("it is not a regular file"),
            e => from_nix(e),
        })?;
        let file = File::from(fd);
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(refused("it is not a regular file"));
        }
        if writing && std::os::unix::fs::MetadataExt::nlink(&meta) > 1 {
            return Err(refused(
                "it has more than one name (a hard link): git agentos writes only files of its own; remove it",
            ));
        }
        Ok(file)
    }

    /// Open `name` for appending, creating it.
    pub fn append(&self, name: impl AsRef<Path>) -> io::Result<File> {
        self.file(
            name.as_ref(),
            OFlag::O_WRONLY | OFlag::O_APPEND | OFlag::O_CREAT,
            true,
        )
    }

    /// Open `name` for reading and appending, creating it (a ledger read under
    /// a lock, then added to).
    pub fn read_append(&self, name: impl AsRef<Path>) -> io::Result<File> {
        self.file(
            name.as_ref(),
            OFlag::O_RDWR | OFlag::O_APPEND | OFlag::O_CREAT,
            true,
        )
    }

    /// Open `name` for reading.
    pub fn open_read(&self, name: impl AsRef<Path>) -> io::Result<File> {
        self.file(name.as_ref(), OFlag::O_RDONLY, false)
    }

    /// The bytes of `name`, or None when it does not exist; a file over `cap`
    /// bytes is refused.
    pub fn read(&self, name: impl AsRef<Path>, cap: u64) -> io::Result<Option<Vec<u8>>> {
        match self.open_read(name) {
            Ok(mut file) => read_capped(&mut file, cap).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The names in this folder (`.` and `..` left out).
    pub fn names(&self) -> io::Result<Vec<OsString>> {
        let fd = self.fd.try_clone()?;
        let dir = nix::dir::Dir::from_fd(fd).map_err(io::Error::from)?;
        let mut names = Vec::new();
        for entry in dir {
            let entry = entry.map_err(io::Error::from)?;
            let name = entry.file_name().to_bytes();
            if name != b"." && name != b".." {
                names.push(
                    <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(name)
                        .to_os_string(),
                );
            }
        }
        Ok(names)
    }
}

/// True when `path` itself is a symbolic link.
fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Read an opened file whole; refused when it is over `cap` bytes.
pub fn read_capped(file: &mut File, cap: u64) -> io::Result<Vec<u8>> {
    let len = file.metadata()?.len();
    if len > cap {
        return Err(refused(&format!(
            "it is {len} bytes, over the limit of {cap} bytes"
        )));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    // A file that grows while it is read still stops at the cap.
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(refused(&format!("it grew over the limit of {cap} bytes")));
    }
    Ok(bytes)
}

/// The last `cap` bytes of an opened file (all of it when smaller), from the
/// start of a line, and whether the beginning was left out.
pub fn read_tail(file: &mut File, cap: u64) -> io::Result<(Vec<u8>, bool)> {
    let len = file.metadata()?.len();
    if len <= cap {
        return read_capped(file, cap).map(|b| (b, false));
    }
    file.seek(SeekFrom::Start(len - cap))?;
    let mut bytes = Vec::with_capacity(cap as usize);
    file.take(cap).read_to_end(&mut bytes)?;
    let start = bytes
        .iter()
        .position(|b| *b == b'\n')
        .map_or(bytes.len(), |i| i + 1);
    bytes.drain(..start);
    Ok((bytes, true))
}

/// The bytes of the regular file at `path` (a link at its last component is
/// refused), or None when it does not exist; over `cap` bytes it is refused.
pub fn read_file(path: &Path, cap: u64) -> io::Result<Option<Vec<u8>>> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(refused("not a file name"));
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let fd = match nix::fcntl::open(
        dir,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(nix::Error::ENOENT) => return Ok(None),
        Err(e) => return Err(from_nix(e)),
    };
    Dir {
        fd,
        path: dir.to_path_buf(),
    }
    .read(name, cap)
}

#[cfg(test)]
mod tests;
