//! Atomic file output: a temporary file in the target's directory, flushed
//! and fsynced, then renamed over the target, so readers never see a partial
//! file and a failed write leaves the old file in place.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::error::{Error, Result};

/// Buffer size for streaming large model files.
const BUFFER_BYTES: usize = 1 << 20;

/// Writes `path` through `fill`, replacing any existing file only on success.
pub(crate) fn write_atomically<F>(path: &Path, fill: F) -> Result<()>
where
    F: FnOnce(&mut BufWriter<&File>) -> Result<()>,
{
    let parent = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent)
        .map_err(|e| Error::io("failed to create directory", parent, e))?;
    let temp = tempfile::Builder::new()
        .prefix(".partial-")
        .suffix(".tmp")
        .tempfile_in(parent)
        .map_err(|e| Error::io("failed to create a temporary file in", parent, e))?;
    // Temporary files start as owner-only, but a model file is ordinary data.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let permissions = std::fs::Permissions::from_mode(0o644);
        temp.as_file()
            .set_permissions(permissions)
            .map_err(|e| Error::io("failed to set permissions on", temp.path(), e))?;
    }

    let mut writer = BufWriter::with_capacity(BUFFER_BYTES, temp.as_file());
    fill(&mut writer)?;
    writer
        .flush()
        .map_err(|e| Error::io("failed to write", temp.path(), e))?;
    drop(writer);
    temp.as_file()
        .sync_all()
        .map_err(|e| Error::io("failed to fsync", temp.path(), e))?;

    temp.persist(path)
        .map_err(|e| Error::io("failed to rename a temporary file to", path, e.error))?;
    // The rename is durable only once the directory entry is on disk.
    if let Ok(dir) = File::open(parent) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_keeps_old_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("out.bin");
        std::fs::write(&path, b"old").expect("seed file");

        let result = write_atomically(&path, |w| {
            w.write_all(b"new")
                .map_err(|e| Error::io("failed to write", "out.bin", e))?;
            Err(Error::InvalidModel("stop halfway".into()))
        });

        assert!(result.is_err());
        assert_eq!(std::fs::read(&path).expect("readable"), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).expect("listable").count(), 1);
    }

    #[test]
    fn successful_write_replaces_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sub").join("out.bin");

        write_atomically(&path, |w| {
            w.write_all(b"data")
                .map_err(|e| Error::io("failed to write", "out.bin", e))
        })
        .expect("written");

        assert_eq!(std::fs::read(&path).expect("readable"), b"data");
    }
}
