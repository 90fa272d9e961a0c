//! Reading and writing the files the commands work on: size-limited reads, atomic writes of regular
//! files (and in-place writes to FIFOs and character devices), private files created with mode 0600,
//! secret files that others can read refused, and `-` for standard input/output.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::{EXIT_ERROR, Failure};

/// Largest input file the offline commands read (messages, keys, signatures, ciphertexts).
const MAX_INPUT: u64 = 256 * 1024 * 1024;

fn io_failure(action: &str, what: &str, path: &Path, e: &std::io::Error) -> Failure {
    Failure::new(
        EXIT_ERROR,
        format!("cannot {action} {what} '{}': {}", path.display(), e),
    )
}

/// Read a whole file (or stdin for `-`).
pub(crate) fn read(path: &Path, what: &str) -> Result<Vec<u8>, Failure> {
    read_with_headroom(path, what, 0)
}

/// Read a whole file (or stdin for `-`) into a buffer with `headroom` bytes of spare capacity, so that
/// growing the contents in place by that much (encrypting them) never moves them. A regular file is
/// read into a buffer of exactly its size: the input is held once.
pub(crate) fn read_with_headroom(
    path: &Path,
    what: &str,
    headroom: usize,
) -> Result<Vec<u8>, Failure> {
    let mut buf = Vec::new();
    if path == Path::new("-") {
        buf.reserve_exact(headroom);
        std::io::stdin()
            .take(MAX_INPUT + 1)
            .read_to_end(&mut buf)
            .map_err(|e| io_failure("read", what, path, &e))?;
        buf.reserve_exact(headroom);
    } else {
        let meta = fs::metadata(path).map_err(|e| io_failure("read", what, path, &e))?;
        if meta.is_dir() {
            return Err(Failure::new(
                EXIT_ERROR,
                format!("{what} '{}' is a directory", path.display()),
            ));
        }
        if meta.is_file() && meta.len() <= MAX_INPUT {
            // The exact size up front: no doubling while reading (the final read of 0 bytes is made
            // into the headroom).
            buf.reserve_exact(usize::try_from(meta.len()).unwrap_or(0) + headroom.max(32));
        }
        fs::File::open(path)
            .and_then(|f| f.take(MAX_INPUT + 1).read_to_end(&mut buf))
            .map_err(|e| io_failure("read", what, path, &e))?;
        buf.reserve_exact(headroom);
    }
    if buf.len() as u64 > MAX_INPUT {
        return Err(Failure::new(
            EXIT_ERROR,
            format!(
                "{what} '{}' is larger than {} MiB",
                path.display(),
                MAX_INPUT >> 20
            ),
        ));
    }
    Ok(buf)
}

/// Read a file that must not be empty (keys, signatures, ciphertexts).
pub(crate) fn read_nonempty(path: &Path, what: &str) -> Result<Vec<u8>, Failure> {
    let buf = read(path, what)?;
    if buf.iter().all(u8::is_ascii_whitespace) {
        return Err(Failure::new(
            EXIT_ERROR,
            format!("{what} '{}' is empty", path.display()),
        ));
    }
    Ok(buf)
}

/// How an output file is created.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Readable by others as the umask allows.
    Public,
    /// Created with mode 0600 (private keys, decrypted plaintext).
    Private,
}

/// What is at an output path.
enum Target {
    /// Nothing yet.
    Missing,
    /// A regular file (or a symbolic link to one, or anything else replaced by a rename).
    Regular,
    /// A FIFO or a character device (`/dev/null`, `/dev/stdout`, a terminal): written in place.
    Stream,
}

fn target(path: &Path, what: &str) -> Result<Target, Failure> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Target::Missing),
        Err(e) => return Err(io_failure("write", what, path, &e)),
    };
    let ft = meta.file_type();
    if ft.is_dir() {
        return Err(Failure::new(
            EXIT_ERROR,
            format!("{what} '{}' is a directory", path.display()),
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if ft.is_fifo() || ft.is_char_device() {
            return Ok(Target::Stream);
        }
        if ft.is_block_device() || ft.is_socket() {
            return Err(Failure::new(
                EXIT_ERROR,
                format!(
                    "{what} '{}' is a {}; tresor writes regular files, FIFOs and character devices only",
                    path.display(),
                    if ft.is_socket() {
                        "socket"
                    } else {
                        "block device"
                    }
                ),
            ));
        }
    }
    Ok(Target::Regular)
}

/// Check that `path` may be written: `-`, a path that does not exist, a FIFO or a character device
/// (written in place), or — only when `overwrite` — an existing file.
pub(crate) fn check_output(path: &Path, overwrite: bool, what: &str) -> Result<(), Failure> {
    if path == Path::new("-") {
        return Ok(());
    }
    match target(path, what)? {
        Target::Regular if !overwrite => Err(Failure::new(
            EXIT_ERROR,
            format!(
                "{what} '{}' already exists (pass --force to replace it)",
                path.display()
            ),
        )),
        _ => Ok(()),
    }
}

/// Write `data` to `path`, or to stdout for `-`. A regular file is written atomically (temporary file in
/// the same directory, flushed to the disk, then renamed) and an existing one is replaced only when
/// `overwrite` is true; a FIFO or a character device (`/dev/null`, a terminal) is opened and written in
/// place, never replaced. For what must survive a crash once the command has exited: keys, exports,
/// configuration.
pub(crate) fn write(
    path: &Path,
    data: &[u8],
    mode: Mode,
    overwrite: bool,
    what: &str,
) -> Result<(), Failure> {
    write_file(path, data, mode, overwrite, what, true)
}

/// [`write`] for a result that can be made again from its inputs (a signature, a ciphertext, a
/// plaintext): still atomic, but not flushed to the disk before the rename, as OpenSSL's commands do
/// not either. The flush is most of a one-shot command's time on a busy disk; after a power loss such a
/// file can be empty, and the command is run again.
pub(crate) fn write_output(
    path: &Path,
    data: &[u8],
    mode: Mode,
    overwrite: bool,
    what: &str,
) -> Result<(), Failure> {
    write_file(path, data, mode, overwrite, what, false)
}

fn write_file(
    path: &Path,
    data: &[u8],
    mode: Mode,
    overwrite: bool,
    what: &str,
    durable: bool,
) -> Result<(), Failure> {
    if path == Path::new("-") {
        let mut out = std::io::stdout().lock();
        return out
            .write_all(data)
            .and_then(|()| out.flush())
            .map_err(|e| io_failure("write", what, path, &e));
    }
    check_output(path, overwrite, what)?;
    if let Target::Stream = target(path, what)? {
        return fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|mut f| f.write_all(data).and_then(|()| f.flush()))
            .map_err(|e| io_failure("write", what, path, &e));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tresor-tmp-{}", std::process::id()));
    let result = (|| {
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            if mode == Mode::Private {
                opts.mode(0o600);
            }
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(data)?;
        if durable {
            f.sync_all()?;
        }
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(io_failure("write", what, path, &e));
    }
    Ok(())
}

/// Refuse a secret file (a KMS key file, a passphrase, PIN or password file) that its group or others
/// can read, as ssh refuses such private keys: the message says how to fix it. A file that does not
/// exist passes (opening it names the problem).
pub(crate) fn check_secret_file(path: &Path, what: &str) -> Result<(), Failure> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if path == Path::new("-") {
            return Ok(());
        }
        let Ok(meta) = fs::metadata(path) else {
            return Ok(());
        };
        let mode = meta.permissions().mode() & 0o777;
        if meta.is_file() && mode & 0o044 != 0 {
            return Err(Failure::new(
                EXIT_ERROR,
                format!(
                    "{what} '{}' is readable by {} (mode {mode:04o}); a secret file must be readable by its owner \
                     only: chmod 600 '{}'",
                    path.display(),
                    match (mode & 0o040 != 0, mode & 0o004 != 0) {
                        (true, true) => "its group and others",
                        (true, false) => "its group",
                        _ => "others",
                    },
                    path.display()
                ),
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = (path, what);
    Ok(())
}

/// Create an empty private (0600) file unless something exists at `path`; true if it was created.
pub(crate) fn create_private_file(path: &Path, what: &str) -> Result<bool, Failure> {
    if path.exists() {
        return Ok(false);
    }
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path).map(|_| true).map_err(|e| {
        Failure::new(
            EXIT_ERROR,
            format!("cannot create {what} '{}': {e}", path.display()),
        )
    })
}
