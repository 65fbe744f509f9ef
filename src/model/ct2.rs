//! Reader for CTranslate2 `model.bin` files (binary version 6).
//!
//! [`Ct2Model::parse`] walks the whole file once, recording each variable's
//! name, shape, dtype and data offset without loading the data, and checks
//! that parsing ends exactly at the end of the file. Tensors are then read one
//! at a time with [`Ct2Model::read_f32`], so memory stays at one tensor.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::error::{Error, Result};

/// The only CTranslate2 binary version this reader accepts.
const BINARY_VERSION: u32 = 6;
/// Spec name of Whisper models in CTranslate2.
const WHISPER_SPEC: &str = "WhisperSpec";
/// Highest tensor rank accepted; Whisper variables have rank 3 at most.
const MAX_RANK: u8 = 8;

/// Element type of a CTranslate2 variable, by its id in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    /// Id 0, 4 bytes.
    F32,
    /// Id 1, 1 byte; quantized weights come with a `_scale` variable.
    I8,
    /// Id 2, 2 bytes.
    I16,
    /// Id 3, 4 bytes.
    I32,
    /// Id 4, IEEE half, 2 bytes.
    F16,
    /// Id 5, bfloat16, 2 bytes.
    Bf16,
}

impl Dtype {
    /// Maps a dtype id from the file, or `None` for an unknown id.
    pub fn from_id(id: u8) -> Option<Dtype> {
        let dtype = match id {
            0 => Dtype::F32,
            1 => Dtype::I8,
            2 => Dtype::I16,
            3 => Dtype::I32,
            4 => Dtype::F16,
            5 => Dtype::Bf16,
            _ => return None,
        };
        Some(dtype)
    }

    /// Returns the size of one element in bytes.
    pub fn size_bytes(self) -> u64 {
        match self {
            Dtype::I8 => 1,
            Dtype::I16 | Dtype::F16 | Dtype::Bf16 => 2,
            Dtype::F32 | Dtype::I32 => 4,
        }
    }

    /// Returns the lowercase dtype name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "float32",
            Dtype::I8 => "int8",
            Dtype::I16 => "int16",
            Dtype::I32 => "int32",
            Dtype::F16 => "float16",
            Dtype::Bf16 => "bfloat16",
        }
    }
}

/// One variable's metadata; its data stays in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    /// Shape, outermost dimension first; empty for scalars.
    pub shape: Vec<usize>,
    /// Element type.
    pub dtype: Dtype,
    /// Byte offset of the data in the file.
    pub data_offset: u64,
    /// Length of the data in bytes.
    pub n_bytes: u64,
}

impl Variable {
    /// Returns the number of elements (1 for a scalar).
    pub fn element_count(&self) -> usize {
        self.shape.iter().product()
    }
}

/// A parsed CTranslate2 Whisper model whose tensors are read on demand.
#[derive(Debug)]
pub struct Ct2Model<R> {
    reader: R,
    variables: BTreeMap<String, Variable>,
    aliases: BTreeMap<String, String>,
}

impl Ct2Model<BufReader<File>> {
    /// Opens and indexes a `model.bin` file.
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io("failed to open", path, e))?;
        Ct2Model::parse(BufReader::new(file))
    }
}

impl<R: Read + Seek> Ct2Model<R> {
    /// Indexes a model from any seekable reader and checks it ends at EOF.
    ///
    /// # Errors
    /// Rejects a wrong version or spec, truncation, unknown dtypes, byte counts
    /// that disagree with shapes, and trailing bytes, naming the offset.
    pub fn parse(mut reader: R) -> Result<Self> {
        let len = reader.seek(SeekFrom::End(0)).map_err(seek_error)?;
        reader.seek(SeekFrom::Start(0)).map_err(seek_error)?;
        let mut cursor = Cursor {
            reader,
            offset: 0,
            len,
        };

        read_header(&mut cursor)?;
        let variables = read_variables(&mut cursor)?;
        let aliases = read_aliases(&mut cursor)?;
        if cursor.offset != len {
            return Err(Error::TrailingBytes {
                offset: cursor.offset,
                extra: len - cursor.offset,
            });
        }
        Ok(Ct2Model {
            reader: cursor.reader,
            variables,
            aliases,
        })
    }
}

impl<R> Ct2Model<R> {
    /// Returns a variable's metadata, if present.
    pub fn variable(&self, name: &str) -> Option<&Variable> {
        self.variables.get(name)
    }

    /// Returns every variable name in file order (sorted by name).
    pub fn variable_names(&self) -> impl Iterator<Item = &str> {
        self.variables.keys().map(String::as_str)
    }

    /// Returns the target of an alias, if `name` is one.
    pub fn alias_target(&self, name: &str) -> Option<&str> {
        self.aliases.get(name).map(String::as_str)
    }

    /// Returns a variable's metadata or a [`Error::MissingVariable`].
    pub fn require(&self, name: &str) -> Result<&Variable> {
        self.variable(name).ok_or_else(|| Error::MissingVariable {
            name: name.to_owned(),
        })
    }
}

impl<R: Read + Seek> Ct2Model<R> {
    /// Reads a tensor as `f32`, dequantizing int8/int16 with its row scales.
    ///
    /// A quantized `NAME` stores `q` and `NAME_scale` one scale per row (or a
    /// single scale), and the weight is `q / scale[row]`.
    pub fn read_f32(&mut self, name: &str) -> Result<Vec<f32>> {
        let variable = self.require(name)?.clone();
        match variable.dtype {
            Dtype::F32 | Dtype::F16 | Dtype::Bf16 => self.read_float(name, &variable),
            Dtype::I8 | Dtype::I16 => self.read_dequantized(name, &variable),
            Dtype::I32 => Err(Error::UnsupportedDtype {
                name: name.to_owned(),
                dtype: "int32",
            }),
        }
    }

    /// Reads an integer scalar, such as `encoder/num_heads`.
    pub fn read_scalar_int(&mut self, name: &str) -> Result<i64> {
        let variable = self.require(name)?.clone();
        if variable.element_count() != 1 {
            let (expected, actual) = (Vec::new(), variable.shape.clone());
            return Err(Error::WrongShape {
                name: name.to_owned(),
                expected,
                actual,
            });
        }
        let bytes = self.read_bytes(name, &variable)?;
        let value = match variable.dtype {
            Dtype::I8 => i64::from(bytes[0] as i8),
            Dtype::I16 => i64::from(i16::from_le_bytes([bytes[0], bytes[1]])),
            Dtype::I32 => i64::from(i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])),
            other => {
                return Err(Error::UnsupportedDtype {
                    name: name.to_owned(),
                    dtype: other.name(),
                })
            }
        };
        Ok(value)
    }

    fn read_float(&mut self, name: &str, variable: &Variable) -> Result<Vec<f32>> {
        let bytes = self.read_bytes(name, variable)?;
        Ok(decode_floats(&bytes, variable.dtype))
    }

    fn read_dequantized(&mut self, name: &str, variable: &Variable) -> Result<Vec<f32>> {
        let scale_name = format!("{name}_scale");
        let scale_variable =
            self.variable(&scale_name)
                .cloned()
                .ok_or_else(|| Error::UnsupportedDtype {
                    name: name.to_owned(),
                    dtype: variable.dtype.name(),
                })?;
        let scales = self.read_f32(&scale_name)?;
        let rows = variable.shape.first().copied().unwrap_or(1);
        if scales.len() != 1 && scales.len() != rows {
            let (expected, actual) = (vec![rows], scale_variable.shape);
            return Err(Error::WrongShape {
                name: scale_name,
                expected,
                actual,
            });
        }

        let bytes = self.read_bytes(name, variable)?;
        let quantized: Vec<f32> = match variable.dtype {
            Dtype::I8 => bytes.iter().map(|&b| f32::from(b as i8)).collect(),
            _ => bytes
                .chunks_exact(2)
                .map(|c| f32::from(i16::from_le_bytes([c[0], c[1]])))
                .collect(),
        };
        Ok(dequantize_rows(&quantized, &scales, rows))
    }

    fn read_bytes(&mut self, name: &str, variable: &Variable) -> Result<Vec<u8>> {
        let mut bytes = vec![0u8; variable.n_bytes as usize];
        let position = SeekFrom::Start(variable.data_offset);
        self.reader
            .seek(position)
            .and_then(|_| self.reader.read_exact(&mut bytes))
            .map_err(|e| Error::io("failed to read variable", name, e))?;
        Ok(bytes)
    }
}

/// Divides each row of quantized values by its scale.
fn dequantize_rows(quantized: &[f32], scales: &[f32], rows: usize) -> Vec<f32> {
    let row_len = quantized.len() / rows.max(1);
    quantized
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let scale = if scales.len() == 1 {
                scales[0]
            } else {
                scales[i / row_len.max(1)]
            };
            q / scale
        })
        .collect()
}

/// Decodes little-endian f32, f16 or bf16 bytes.
fn decode_floats(bytes: &[u8], dtype: Dtype) -> Vec<f32> {
    match dtype {
        Dtype::F32 => bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        Dtype::F16 => bytes
            .chunks_exact(2)
            .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        _ => bytes
            .chunks_exact(2)
            .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
    }
}

fn seek_error(source: std::io::Error) -> Error {
    Error::io("failed to seek in", "model.bin", source)
}

/// A reader that tracks its byte offset and reports truncation precisely.
struct Cursor<R> {
    reader: R,
    offset: u64,
    len: u64,
}

impl<R: Read + Seek> Cursor<R> {
    fn bytes(&mut self, count: u64, what: &str) -> Result<Vec<u8>> {
        self.ensure(count, what)?;
        let mut buffer = vec![0u8; count as usize];
        self.reader
            .read_exact(&mut buffer)
            .map_err(|e| Error::io("failed to read", "model.bin", e))?;
        self.offset += count;
        Ok(buffer)
    }

    fn skip(&mut self, count: u64, what: &str) -> Result<()> {
        self.ensure(count, what)?;
        self.reader
            .seek(SeekFrom::Current(count as i64))
            .map_err(seek_error)?;
        self.offset += count;
        Ok(())
    }

    fn ensure(&self, count: u64, what: &str) -> Result<()> {
        if self.len - self.offset < count {
            let (what, offset) = (what.to_owned(), self.offset);
            return Err(Error::Truncated {
                what,
                offset,
                needed: count,
            });
        }
        Ok(())
    }

    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.bytes(1, what)?[0])
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        let b = self.bytes(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads a string: u16 length including the NUL, bytes, NUL.
    fn string(&mut self, what: &str) -> Result<String> {
        let start = self.offset;
        let b = self.bytes(2, what)?;
        let len = u16::from_le_bytes([b[0], b[1]]);
        let mut bytes = self.bytes(u64::from(len), what)?;
        if bytes.pop() != Some(0) {
            return Err(Error::InvalidString { offset: start });
        }
        String::from_utf8(bytes).map_err(|_| Error::InvalidString { offset: start })
    }
}

fn read_header<R: Read + Seek>(cursor: &mut Cursor<R>) -> Result<()> {
    let version = cursor.u32("binary version")?;
    if version != BINARY_VERSION {
        return Err(Error::UnsupportedVersion { found: version });
    }
    let spec = cursor.string("spec name")?;
    if spec != WHISPER_SPEC {
        return Err(Error::UnsupportedSpec { found: spec });
    }
    cursor.u32("spec revision")?;
    Ok(())
}

fn read_variables<R: Read + Seek>(cursor: &mut Cursor<R>) -> Result<BTreeMap<String, Variable>> {
    let count = cursor.u32("variable count")?;
    let mut variables = BTreeMap::new();
    for index in 0..count {
        let name_offset = cursor.offset;
        let name = cursor.string(&format!("name of variable {index}"))?;
        let variable = read_variable(cursor, &name)?;
        if variables.insert(name.clone(), variable).is_some() {
            let reason = format!("variable {name} at byte offset {name_offset} appears twice");
            return Err(Error::InvalidModel(reason));
        }
    }
    Ok(variables)
}

fn read_variable<R: Read + Seek>(cursor: &mut Cursor<R>, name: &str) -> Result<Variable> {
    let rank_offset = cursor.offset;
    let rank = cursor.u8(&format!("rank of {name}"))?;
    if rank > MAX_RANK {
        let reason =
            format!("variable {name}: rank {rank} at byte offset {rank_offset} exceeds {MAX_RANK}");
        return Err(Error::InvalidModel(reason));
    }
    let mut shape = Vec::with_capacity(usize::from(rank));
    for _ in 0..rank {
        shape.push(cursor.u32(&format!("shape of {name}"))? as usize);
    }

    let dtype_offset = cursor.offset;
    let dtype_id = cursor.u8(&format!("dtype of {name}"))?;
    let dtype = Dtype::from_id(dtype_id).ok_or_else(|| Error::UnknownDtype {
        name: name.to_owned(),
        dtype: dtype_id,
        offset: dtype_offset,
    })?;
    let n_bytes = u64::from(cursor.u32(&format!("byte count of {name}"))?);
    let expected = shape
        .iter()
        .try_fold(dtype.size_bytes(), |acc, &d| acc.checked_mul(d as u64))
        .unwrap_or(u64::MAX);
    if expected != n_bytes {
        return Err(Error::SizeMismatch {
            name: name.to_owned(),
            expected,
            actual: n_bytes,
        });
    }

    let data_offset = cursor.offset;
    cursor.skip(n_bytes, &format!("data of {name}"))?;
    Ok(Variable {
        shape,
        dtype,
        data_offset,
        n_bytes,
    })
}

fn read_aliases<R: Read + Seek>(cursor: &mut Cursor<R>) -> Result<BTreeMap<String, String>> {
    let count = cursor.u32("alias count")?;
    let mut aliases = BTreeMap::new();
    for index in 0..count {
        let alias = cursor.string(&format!("name of alias {index}"))?;
        let target = cursor.string(&format!("target of alias {alias}"))?;
        aliases.insert(alias, target);
    }
    Ok(aliases)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a CTranslate2 file in memory, one variable at a time.
    pub(crate) struct Ct2Builder {
        variables: Vec<(String, Vec<u32>, u8, Vec<u8>)>,
        aliases: Vec<(String, String)>,
    }

    impl Ct2Builder {
        pub(crate) fn new() -> Self {
            Ct2Builder {
                variables: Vec::new(),
                aliases: Vec::new(),
            }
        }

        /// Adds a variable, replacing any earlier one with the same name.
        pub(crate) fn raw(mut self, name: &str, shape: &[u32], dtype: u8, data: Vec<u8>) -> Self {
            self.variables.retain(|v| v.0 != name);
            self.variables
                .push((name.to_owned(), shape.to_vec(), dtype, data));
            self
        }

        pub(crate) fn f16(self, name: &str, shape: &[u32], values: &[f32]) -> Self {
            let data = values
                .iter()
                .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
                .collect();
            self.raw(name, shape, 4, data)
        }

        pub(crate) fn alias(mut self, alias: &str, target: &str) -> Self {
            self.aliases.push((alias.to_owned(), target.to_owned()));
            self
        }

        pub(crate) fn build(mut self) -> Vec<u8> {
            self.variables.sort_by(|a, b| a.0.cmp(&b.0));
            let mut out = Vec::new();
            out.extend(BINARY_VERSION.to_le_bytes());
            push_string(&mut out, WHISPER_SPEC);
            out.extend(3u32.to_le_bytes());
            out.extend((self.variables.len() as u32).to_le_bytes());
            for (name, shape, dtype, data) in &self.variables {
                push_string(&mut out, name);
                out.push(shape.len() as u8);
                shape.iter().for_each(|d| out.extend(d.to_le_bytes()));
                out.push(*dtype);
                out.extend((data.len() as u32).to_le_bytes());
                out.extend(data);
            }
            out.extend((self.aliases.len() as u32).to_le_bytes());
            for (alias, target) in &self.aliases {
                push_string(&mut out, alias);
                push_string(&mut out, target);
            }
            out
        }
    }

    fn push_string(out: &mut Vec<u8>, text: &str) {
        out.extend(((text.len() + 1) as u16).to_le_bytes());
        out.extend(text.as_bytes());
        out.push(0);
    }

    fn parse(bytes: Vec<u8>) -> Result<Ct2Model<std::io::Cursor<Vec<u8>>>> {
        Ct2Model::parse(std::io::Cursor::new(bytes))
    }

    fn sample() -> Ct2Builder {
        Ct2Builder::new()
            .f16("encoder/layer_norm/gamma", &[4], &[1.0, 2.0, -0.5, 0.25])
            .raw("encoder/num_heads", &[], 2, 6i16.to_le_bytes().to_vec())
            .alias("decoder/projection/weight", "decoder/embeddings/weight")
    }

    #[test]
    fn parses_variables_and_aliases() {
        let mut model = parse(sample().build()).expect("valid model");

        let gamma = model
            .read_f32("encoder/layer_norm/gamma")
            .expect("readable");
        let heads = model
            .read_scalar_int("encoder/num_heads")
            .expect("readable");

        assert_eq!(gamma, vec![1.0, 2.0, -0.5, 0.25]);
        assert_eq!(heads, 6);
        assert_eq!(
            model.alias_target("decoder/projection/weight"),
            Some("decoder/embeddings/weight")
        );
    }

    #[test]
    fn truncated_file_names_offset() {
        let bytes = sample().build();

        for cut in [3, 10, 30, bytes.len() - 1] {
            let err = parse(bytes[..cut].to_vec()).expect_err("truncated");
            assert!(matches!(err, Error::Truncated { .. }), "cut {cut}: {err}");
        }
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let mut bytes = sample().build();
        let len = bytes.len() as u64;
        bytes.extend([0, 0]);

        let err = parse(bytes).expect_err("trailing bytes");

        assert!(matches!(err, Error::TrailingBytes { offset, extra: 2 } if offset == len));
    }

    #[test]
    fn unknown_dtype_names_variable() {
        let bytes = Ct2Builder::new()
            .raw("encoder/x", &[2], 9, vec![0; 2])
            .build();

        let err = parse(bytes).expect_err("bad dtype");

        assert!(
            matches!(err, Error::UnknownDtype { ref name, dtype: 9, .. } if name == "encoder/x")
        );
        assert!(err.to_string().contains("byte offset"));
    }

    #[test]
    fn byte_count_mismatch_is_rejected() {
        let bytes = Ct2Builder::new()
            .raw("encoder/x", &[3], 4, vec![0; 4])
            .build();

        let err = parse(bytes).expect_err("wrong count");

        assert!(matches!(
            err,
            Error::SizeMismatch {
                expected: 6,
                actual: 4,
                ..
            }
        ));
    }

    #[test]
    fn wrong_variable_count_is_rejected() {
        let count_at = 4 + 2 + WHISPER_SPEC.len() + 1 + 4;

        for declared in [0u32, 1, 3, 1000] {
            let mut bytes = sample().build();
            bytes[count_at..count_at + 4].copy_from_slice(&declared.to_le_bytes());
            let err = parse(bytes).expect_err("count disagrees with the data");
            assert!(
                err.to_string().contains("byte offset"),
                "declared {declared}: {err}"
            );
        }
    }

    #[test]
    fn bad_version_and_spec_are_rejected() {
        let mut bytes = sample().build();
        bytes[0] = 5;
        let version = parse(bytes).expect_err("version 5");
        let mut bytes = sample().build();
        bytes[6] = b'X';
        let spec = parse(bytes).expect_err("other spec");

        assert!(matches!(version, Error::UnsupportedVersion { found: 5 }));
        assert!(matches!(spec, Error::UnsupportedSpec { .. }));
    }

    #[test]
    fn int8_weights_are_dequantized() {
        let scales: Vec<u8> = [127.0f32, 63.5]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        let quantized = [127i8, -127, 127, 64].iter().map(|q| *q as u8).collect();
        let bytes = Ct2Builder::new()
            .raw("w", &[2, 2], 1, quantized)
            .raw("w_scale", &[2], 0, scales)
            .build();
        let mut model = parse(bytes).expect("valid");

        let weights = model.read_f32("w").expect("dequantized");

        let expected = [1.0, -1.0, 2.0, 64.0 / 63.5];
        for (w, e) in weights.iter().zip(expected) {
            assert!((w - e).abs() < 1e-6, "{w} vs {e}");
        }
    }

    #[test]
    fn missing_variable_is_named() {
        let mut model = parse(sample().build()).expect("valid");

        let err = model
            .read_f32("decoder/embeddings/weight")
            .expect_err("absent");

        assert!(err.to_string().contains("decoder/embeddings/weight"));
    }
}
