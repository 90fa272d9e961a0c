//! Reading and writing the files the commands work on: size-limited reads, atomic writes, private
//! files created with mode 0600, and `-` for standard input/output.

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
    let mut buf = Vec::new();
    if path == Path::new("-") {
        std::io::stdin()
            .take(MAX_INPUT + 1)
            .read_to_end(&mut buf)
            .map_err(|e| io_failure("read", what, path, &e))?;
    } else {
        let meta = fs::metadata(path).map_err(|e| io_failure("read", what, path, &e))?;
        if meta.is_dir() {
            return Err(Failure::new(
                EXIT_ERROR,
                format!("{what} '{}' is a directory", path.display()),
            ));
        }
        fs::File::open(path)
            .and_then(|f| f.take(MAX_INPUT + 1).read_to_end(&mut buf))
            .map_err(|e| io_failure("read", what, path, &e))?;
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

/// Write `data` to `path` atomically (temporary file in the same directory, then rename), or to stdout
/// for `-`. An existing file is replaced only when `overwrite` is true.
pub(crate) fn write(
    path: &Path,
    data: &[u8],
    mode: Mode,
    overwrite: bool,
    what: &str,
) -> Result<(), Failure> {
    if path == Path::new("-") {
        let mut out = std::io::stdout().lock();
        return out
            .write_all(data)
            .and_then(|()| out.flush())
            .map_err(|e| io_failure("write", what, path, &e));
    }
    if !overwrite && path.exists() {
        return Err(Failure::new(
            EXIT_ERROR,
            format!(
                "{what} '{}' already exists (pass --force to replace it)",
                path.display()
            ),
        ));
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
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(io_failure("write", what, path, &e));
    }
    Ok(())
}
