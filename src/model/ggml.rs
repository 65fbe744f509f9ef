//! The legacy whisper.cpp ggml file: writer and structural reader.
//!
//! `whisper_model_load` in whisper.cpp 1.8.3 reads this layout, all
//! little-endian. It starts with the magic `0x67676d6c` and 11 `i32` hparams
//! ending with `ftype`. The mel filterbank follows (`n_mel`, `n_fft`, f32
//! values), then the vocabulary (count, then length-prefixed raw bytes).
//! Tensors run until EOF, each as `n_dims`, name length, type, `ne` (numpy
//! shape reversed), name and data.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::error::{Error, Result};
use super::quantize::{BLOCK_BYTES, BLOCK_LEN};

/// File magic, the bytes "lmgg" read as a little-endian `i32`.
pub const MAGIC: u32 = 0x6767_6d6c;
/// Header `ftype` value for f16 weights.
pub const FTYPE_F16: i32 = 1;
/// Header `ftype` for `Q8_0` weights: `GGML_FTYPE_MOSTLY_Q8_0` (7) plus
/// `GGML_QNT_VERSION` (2) times 1000, as whisper.cpp's quantize tool writes it.
pub const FTYPE_Q8_0: i32 = 2007;

/// ggml tensor types used in Whisper files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorType {
    /// `GGML_TYPE_F32` (0).
    F32,
    /// `GGML_TYPE_F16` (1).
    F16,
    /// `GGML_TYPE_Q8_0` (8).
    Q8_0,
}

impl TensorType {
    /// Returns the ggml type id.
    pub fn id(self) -> i32 {
        match self {
            TensorType::F32 => 0,
            TensorType::F16 => 1,
            TensorType::Q8_0 => 8,
        }
    }

    /// Maps a ggml type id, or `None` for a type Whisper files do not use.
    pub fn from_id(id: i32) -> Option<TensorType> {
        match id {
            0 => Some(TensorType::F32),
            1 => Some(TensorType::F16),
            8 => Some(TensorType::Q8_0),
            _ => None,
        }
    }

    /// Returns the data size of `elements` values, or `None` for a partial block.
    pub fn data_bytes(self, elements: u64) -> Option<u64> {
        match self {
            TensorType::F32 => Some(elements * 4),
            TensorType::F16 => Some(elements * 2),
            TensorType::Q8_0 => (elements % BLOCK_LEN as u64 == 0)
                .then_some(elements / BLOCK_LEN as u64 * BLOCK_BYTES as u64),
        }
    }
}

/// Writes the magic, hparams and mel filterbank.
pub fn write_header(
    out: &mut impl Write,
    header: &[i32; 11],
    filters: &[f32],
    n_fft: usize,
) -> std::io::Result<()> {
    out.write_all(&MAGIC.to_le_bytes())?;
    for value in header {
        out.write_all(&value.to_le_bytes())?;
    }
    let n_mel = filters.len() / n_fft.max(1);
    out.write_all(&(n_mel as i32).to_le_bytes())?;
    out.write_all(&(n_fft as i32).to_le_bytes())?;
    for value in filters {
        out.write_all(&value.to_le_bytes())?;
    }
    Ok(())
}

/// Writes the vocabulary as raw token bytes.
pub fn write_vocabulary(out: &mut impl Write, tokens: &[Vec<u8>]) -> std::io::Result<()> {
    out.write_all(&(tokens.len() as i32).to_le_bytes())?;
    for token in tokens {
        out.write_all(&(token.len() as i32).to_le_bytes())?;
        out.write_all(token)?;
    }
    Ok(())
}

/// Writes one tensor record; `shape` is in numpy order and is reversed into `ne`.
pub fn write_tensor(
    out: &mut impl Write,
    name: &str,
    shape: &[usize],
    tensor_type: TensorType,
    data: &[u8],
) -> std::io::Result<()> {
    out.write_all(&(shape.len() as i32).to_le_bytes())?;
    out.write_all(&(name.len() as i32).to_le_bytes())?;
    out.write_all(&tensor_type.id().to_le_bytes())?;
    for dim in shape.iter().rev() {
        out.write_all(&(*dim as i32).to_le_bytes())?;
    }
    out.write_all(name.as_bytes())?;
    out.write_all(data)
}

/// One tensor record found by [`inspect`].
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    /// whisper.cpp tensor name.
    pub name: String,
    /// Storage type.
    pub tensor_type: TensorType,
    /// ggml `ne`, innermost dimension first.
    pub ne: Vec<usize>,
}

/// Structure of a ggml Whisper file, without its data.
#[derive(Debug, Clone, PartialEq)]
pub struct GgmlSummary {
    /// The 11 header integers.
    pub header: [i32; 11],
    /// Mel filterbank dimensions: bands and FFT bins.
    pub filters: (usize, usize),
    /// Number of vocabulary entries stored.
    pub token_count: usize,
    /// Tensor records in file order.
    pub tensors: Vec<TensorInfo>,
}

/// Walks a ggml file's records, checking every length, and that it ends
/// exactly after the last tensor.
pub fn inspect(path: &Path) -> Result<GgmlSummary> {
    let file = File::open(path).map_err(|e| Error::io("failed to open", path, e))?;
    let len = file
        .metadata()
        .map_err(|e| Error::io("failed to stat", path, e))?
        .len();
    let mut reader = Walker {
        inner: BufReader::new(file),
        offset: 0,
        len,
        path,
    };

    let summary = reader.summary()?;
    Ok(summary)
}

struct Walker<'a> {
    inner: BufReader<File>,
    offset: u64,
    len: u64,
    path: &'a Path,
}

impl Walker<'_> {
    fn invalid(&self, reason: String) -> Error {
        Error::InvalidGgml {
            path: self.path.to_owned(),
            reason,
        }
    }

    fn i32(&mut self, what: &str) -> Result<i32> {
        if self.len - self.offset < 4 {
            return Err(self.invalid(format!(
                "truncated at byte offset {} reading {what}",
                self.offset
            )));
        }
        let mut bytes = [0u8; 4];
        self.inner
            .read_exact(&mut bytes)
            .map_err(|e| Error::io("failed to read", self.path, e))?;
        self.offset += 4;
        Ok(i32::from_le_bytes(bytes))
    }

    fn count(&mut self, what: &str) -> Result<u64> {
        let value = self.i32(what)?;
        u64::try_from(value).map_err(|_| self.invalid(format!("negative {what} {value}")))
    }

    fn skip(&mut self, bytes: u64, what: &str) -> Result<()> {
        if self.len - self.offset < bytes {
            return Err(self.invalid(format!(
                "truncated at byte offset {} in {what}",
                self.offset
            )));
        }
        self.inner
            .seek(SeekFrom::Current(bytes as i64))
            .map_err(|e| Error::io("failed to seek in", self.path, e))?;
        self.offset += bytes;
        Ok(())
    }

    fn summary(&mut self) -> Result<GgmlSummary> {
        if self.i32("magic")? as u32 != MAGIC {
            return Err(self.invalid("bad magic (expected \"lmgg\" at byte 0)".into()));
        }
        let mut header = [0i32; 11];
        for slot in &mut header {
            *slot = self.i32("hparams")?;
        }
        let (n_mel, n_fft) = (self.count("n_mel")?, self.count("n_fft")?);
        self.skip(n_mel * n_fft * 4, "mel filterbank")?;
        let token_count = self.count("token count")?;
        for _ in 0..token_count {
            let len = self.count("token length")?;
            self.skip(len, "vocabulary")?;
        }
        let mut tensors = Vec::new();
        while self.offset < self.len {
            tensors.push(self.tensor()?);
        }
        let filters = (n_mel as usize, n_fft as usize);
        Ok(GgmlSummary {
            header,
            filters,
            token_count: token_count as usize,
            tensors,
        })
    }

    fn tensor(&mut self) -> Result<TensorInfo> {
        let start = self.offset;
        let n_dims = self.count("tensor rank")?;
        let name_len = self.count("tensor name length")?;
        let type_id = self.i32("tensor type")?;
        let tensor_type = TensorType::from_id(type_id).ok_or_else(|| {
            self.invalid(format!("tensor at byte offset {start} has type {type_id}"))
        })?;
        if n_dims == 0 || n_dims > 4 {
            return Err(self.invalid(format!(
                "tensor at byte offset {start} has {n_dims} dimensions"
            )));
        }
        let mut ne = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            ne.push(self.count("tensor shape")? as usize);
        }
        let name = self.name(name_len)?;
        let elements: u64 = ne.iter().map(|&d| d as u64).product();
        let bytes = tensor_type
            .data_bytes(elements)
            .ok_or_else(|| self.invalid(format!("tensor {name} has a partial Q8_0 block")))?;
        self.skip(bytes, &format!("data of tensor {name}"))?;
        Ok(TensorInfo {
            name,
            tensor_type,
            ne,
        })
    }

    fn name(&mut self, len: u64) -> Result<String> {
        if self.len - self.offset < len {
            return Err(self.invalid(format!(
                "truncated tensor name at byte offset {}",
                self.offset
            )));
        }
        let mut bytes = vec![0u8; len as usize];
        self.inner
            .read_exact(&mut bytes)
            .map_err(|e| Error::io("failed to read", self.path, e))?;
        self.offset += len;
        String::from_utf8(bytes).map_err(|_| self.invalid("tensor name is not UTF-8".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_sample(path: &Path, truncate_by: usize) {
        let mut bytes = Vec::new();
        write_header(
            &mut bytes,
            &[3, 2, 4, 1, 1, 2, 4, 1, 1, 2, 1],
            &[0.5; 2 * 3],
            3,
        )
        .expect("in memory");
        write_vocabulary(&mut bytes, &[b"a".to_vec(), Vec::new()]).expect("in memory");
        write_tensor(&mut bytes, "w", &[2, 4], TensorType::F16, &[0; 16]).expect("in memory");
        write_tensor(&mut bytes, "b", &[4], TensorType::F32, &[0; 16]).expect("in memory");
        bytes.truncate(bytes.len() - truncate_by);
        std::fs::write(path, bytes).expect("temp file");
    }

    #[test]
    fn inspect_reads_written_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("m.bin");
        write_sample(&path, 0);

        let summary = inspect(&path).expect("valid");

        assert_eq!(summary.header[0], 3);
        assert_eq!(summary.filters, (2, 3));
        assert_eq!(summary.token_count, 2);
        assert_eq!(summary.tensors.len(), 2);
        assert_eq!(summary.tensors[0].ne, vec![4, 2]);
        assert_eq!(summary.tensors[1].tensor_type, TensorType::F32);
    }

    #[test]
    fn inspect_rejects_truncated_tensor() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("m.bin");
        write_sample(&path, 3);

        let err = inspect(&path).expect_err("truncated");

        assert!(err.to_string().contains("data of tensor b"), "{err}");
    }

    #[test]
    fn q8_0_size_counts_blocks() {
        assert_eq!(TensorType::Q8_0.data_bytes(64), Some(68));
        assert_eq!(TensorType::Q8_0.data_bytes(40), None);
    }
}
