//! Content-addressed audio files under `<data>/audio`.
//!
//! A file is named by the SHA-256 of its bytes: `audio/ab/cdef…` contains the
//! bytes whose hash is `abcdef…`. Writes go to a temporary name in the same
//! directory, are flushed with `fsync`, renamed into place and followed by
//! an `fsync` of the directory. A reader therefore sees either no file or
//! the whole file, and reads check the hash, so a file damaged on disk is
//! reported instead of returned.

use std::fmt;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::ids::random_hex;
use super::{from_ms, now, to_ms, Error, Result, Store};

/// Suffix of files being written.
const TEMP_SUFFIX: &str = ".tmp";
/// Age after which a temporary file is taken as left by a crashed write.
const STALE_TEMP_AGE: Duration = Duration::from_secs(3600);
/// Longest accepted file extension, in characters.
const MAX_EXTENSION_LEN: usize = 10;

/// The SHA-256 of an audio file, 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AudioSha256(String);

impl AudioSha256 {
    /// Computes the hash of `bytes`.
    pub fn of(bytes: &[u8]) -> AudioSha256 {
        AudioSha256(hex::encode(Sha256::digest(bytes)))
    }

    /// Parses a hash given as hex (either case).
    pub fn parse(text: &str) -> Result<AudioSha256> {
        let lower = text.trim().to_ascii_lowercase();
        if lower.len() != 64 || !lower.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Error::invalid(
                "audio SHA-256",
                format!("{text:?}: expected 64 hex digits"),
            ));
        }
        Ok(AudioSha256(lower))
    }

    /// Returns the hash as lowercase hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AudioSha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for AudioSha256 {
    type Error = Error;

    fn try_from(text: String) -> Result<AudioSha256> {
        AudioSha256::parse(&text)
    }
}

impl From<AudioSha256> for String {
    fn from(sha: AudioSha256) -> String {
        sha.0
    }
}

/// A stored audio file and its metadata row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredAudio {
    /// SHA-256 of the bytes, which is also the file name.
    pub sha256: AudioSha256,
    /// Size of the file in bytes.
    pub size_bytes: u64,
    /// File extension of the upload (such as "wav"), a hint for the decoder.
    pub extension: Option<String>,
    /// Time the bytes were first stored.
    pub created_at: OffsetDateTime,
}

/// The directory of content-addressed audio files.
#[derive(Debug, Clone)]
pub struct AudioBlobs {
    root: PathBuf,
}

impl AudioBlobs {
    /// Opens (creating) the directory and deletes temporary files of crashed writes.
    pub fn open(root: &Path) -> Result<AudioBlobs> {
        fs::create_dir_all(root).map_err(|source| io_error("create directory", root, source))?;
        let blobs = AudioBlobs {
            root: root.to_path_buf(),
        };
        blobs.remove_stale_temp_files();
        Ok(blobs)
    }

    /// Returns the path of the file for `sha`, whether or not it exists.
    pub fn path_of(&self, sha: &AudioSha256) -> PathBuf {
        let (dir, rest) = sha.as_str().split_at(2);
        self.root.join(dir).join(rest)
    }

    /// Writes `bytes` under their hash and returns it; blocking, safe to repeat.
    ///
    /// An intact file with the same hash is left as it is. A damaged one is
    /// replaced.
    pub fn write(&self, bytes: &[u8]) -> Result<AudioSha256> {
        let sha = AudioSha256::of(bytes);
        let path = self.path_of(&sha);
        match self.read(&sha) {
            Ok(_) => return Ok(sha),
            Err(Error::NotFound { .. }) => {}
            Err(Error::CorruptBlob { .. }) => {
                let shown = path.display();
                tracing::warn!(sha256 = %sha, path = %shown, "replacing damaged audio file");
            }
            Err(other) => return Err(other),
        }

        let dir = path.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir).map_err(|source| io_error("create directory", dir, source))?;
        sync_dir(&self.root)?;
        let temp = temp_path(&path);
        let written = write_synced(&temp, bytes).and_then(|()| {
            fs::rename(&temp, &path).map_err(|source| io_error("rename", &temp, source))
        });
        if let Err(err) = written {
            // The temporary name is never read, so a failed removal only wastes space.
            let _ = fs::remove_file(&temp);
            return Err(err);
        }
        sync_dir(dir)?;
        Ok(sha)
    }

    /// Reads the file for `sha` and checks that its bytes still hash to `sha`.
    pub fn read(&self, sha: &AudioSha256) -> Result<Vec<u8>> {
        let path = self.path_of(sha);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NotFound {
                    entity: "audio file",
                    id: sha.to_string(),
                });
            }
            Err(source) => return Err(io_error("read", &path, source)),
        };
        if AudioSha256::of(&bytes) != *sha {
            return Err(Error::CorruptBlob {
                sha256: sha.to_string(),
                path,
            });
        }
        Ok(bytes)
    }

    fn remove_stale_temp_files(&self) {
        let Ok(dirs) = fs::read_dir(&self.root) else {
            return;
        };
        for entry in dirs
            .flatten()
            .flat_map(|dir| fs::read_dir(dir.path()).into_iter().flatten())
        {
            let Ok(entry) = entry else { continue };
            let name = entry.file_name();
            let is_temp = name
                .to_str()
                .is_some_and(|n| n.starts_with('.') && n.ends_with(TEMP_SUFFIX));
            let age = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok());
            if is_temp && age.is_some_and(|age| age > STALE_TEMP_AGE) {
                let path = entry.path();
                tracing::debug!(path = %path.display(), "removing stale temporary audio file");
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

impl Store {
    /// Stores audio bytes and their metadata row, and returns the record.
    ///
    /// Storing the same bytes again returns the existing record.
    pub async fn put_audio(&self, bytes: Vec<u8>, extension: Option<&str>) -> Result<StoredAudio> {
        if bytes.is_empty() {
            return Err(Error::invalid(
                "audio",
                "the upload is empty: send the recording's bytes",
            ));
        }
        let extension = extension.map(check_extension).transpose()?;
        let size_bytes = bytes.len() as u64;
        let blobs = self.audio_files().clone();
        let sha = tokio::task::spawn_blocking(move || blobs.write(&bytes))
            .await
            .map_err(|err| Error::Io {
                action: "write audio file in",
                path: self.audio_files().root.clone(),
                source: std::io::Error::other(err),
            })??;

        sqlx::query(
            "INSERT INTO audio_blobs (sha256, size_bytes, extension, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(sha.as_str())
        .bind(i64::try_from(size_bytes).unwrap_or(i64::MAX))
        .bind(extension.as_deref())
        .bind(to_ms(now()))
        .execute(self.pool())
        .await?;
        self.audio(&sha).await
    }

    /// Returns the metadata of stored audio.
    pub async fn audio(&self, sha: &AudioSha256) -> Result<StoredAudio> {
        let row: Option<(i64, Option<String>, i64)> = sqlx::query_as(
            "SELECT size_bytes, extension, created_at FROM audio_blobs WHERE sha256 = $1",
        )
        .bind(sha.as_str())
        .fetch_optional(self.pool())
        .await?;
        let (size, extension, created_at) = row.ok_or_else(|| Error::NotFound {
            entity: "audio",
            id: sha.to_string(),
        })?;
        Ok(StoredAudio {
            sha256: sha.clone(),
            size_bytes: u64::try_from(size).map_err(|err| Error::corrupt("audio size", &err))?,
            extension,
            created_at: from_ms(created_at)?,
        })
    }

    /// Reads stored audio bytes, checking them against their hash.
    pub async fn read_audio(&self, sha: &AudioSha256) -> Result<Vec<u8>> {
        let blobs = self.audio_files().clone();
        let sha_owned = sha.clone();
        tokio::task::spawn_blocking(move || blobs.read(&sha_owned))
            .await
            .map_err(|err| Error::Io {
                action: "read audio file",
                path: self.audio_files().path_of(sha),
                source: std::io::Error::other(err),
            })?
    }
}

fn check_extension(extension: &str) -> Result<String> {
    let lower = extension
        .trim()
        .trim_start_matches('.')
        .to_ascii_lowercase();
    let valid = !lower.is_empty()
        && lower.len() <= MAX_EXTENSION_LEN
        && lower.chars().all(|c| c.is_ascii_alphanumeric());
    if !valid {
        return Err(Error::invalid(
            "audio file extension",
            format!(
                "{extension:?}: expected 1 to {MAX_EXTENSION_LEN} letters or digits, like \"wav\""
            ),
        ));
    }
    Ok(lower)
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("audio");
    path.with_file_name(format!(".{name}.{}{TEMP_SUFFIX}", random_hex()))
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = File::options()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|source| io_error("create", path, source))?;
    file.write_all(bytes)
        .map_err(|source| io_error("write", path, source))?;
    file.sync_all()
        .map_err(|source| io_error("fsync", path, source))
}

/// Flushes a directory entry change (create, rename) to disk.
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let handle = File::open(dir).map_err(|source| io_error("open directory", dir, source))?;
        handle
            .sync_all()
            .map_err(|source| io_error("fsync directory", dir, source))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha_parse_accepts_uppercase() {
        let sha = AudioSha256::of(b"abc");

        let parsed = AudioSha256::parse(&sha.as_str().to_ascii_uppercase());

        assert_eq!(parsed.ok(), Some(sha));
    }

    #[test]
    fn sha_parse_rejects_short_text() {
        assert!(AudioSha256::parse("abc").is_err());
        assert!(AudioSha256::parse(&"g".repeat(64)).is_err());
    }

    #[test]
    fn extension_check_rejects_paths() {
        assert_eq!(check_extension(".WAV").ok(), Some("wav".to_string()));
        assert!(check_extension("../x").is_err());
    }
}
