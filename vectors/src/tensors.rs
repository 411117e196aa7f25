//! Reading and writing the tensors of a data file, and checksums.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors, View};
use sha2::{Digest, Sha256};

use crate::error::VectorsError;
use crate::manifest::TensorEntry;

/// The lowercase hexadecimal sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// One tensor to write: little-endian bytes, an element type and a shape.
pub(crate) struct Tensor {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl Tensor {
    /// Float32 storage of float64 values (rounded to nearest).
    pub(crate) fn f32(shape: Vec<usize>, values: &[f64]) -> Tensor {
        Tensor { dtype: Dtype::F32, shape, bytes: values.iter().flat_map(|&v| (v as f32).to_le_bytes()).collect() }
    }

    pub(crate) fn f64(shape: Vec<usize>, values: &[f64]) -> Tensor {
        Tensor { dtype: Dtype::F64, shape, bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect() }
    }

    pub(crate) fn u32(shape: Vec<usize>, values: &[u32]) -> Tensor {
        Tensor { dtype: Dtype::U32, shape, bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect() }
    }

    pub(crate) fn u64(shape: Vec<usize>, values: &[u64]) -> Tensor {
        Tensor { dtype: Dtype::U64, shape, bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect() }
    }

    pub(crate) fn entry(&self, name: &str) -> TensorEntry {
        TensorEntry { name: name.into(), dtype: format!("{:?}", self.dtype), shape: self.shape.clone() }
    }
}

impl View for &Tensor {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

/// The bytes of a safetensors file holding `tensors` (sorted by name: the output is a function
/// of the contents alone), and their manifest entries in the same order.
pub(crate) fn serialize(
    tensors: &[(String, Tensor)],
    path: &Path,
) -> Result<(Vec<u8>, Vec<TensorEntry>), VectorsError> {
    let mut sorted: Vec<&(String, Tensor)> = tensors.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let bytes = safetensors::serialize(sorted.iter().map(|(n, t)| (n.as_str(), t)), None)
        .map_err(|e| VectorsError::Safetensors { path: path.into(), field: "output".into(), message: e.to_string() })?;
    Ok((bytes, sorted.iter().map(|(n, t)| t.entry(n)).collect()))
}

/// A parsed data file whose tensors are checked against its manifest entries as they are read.
pub(crate) struct DataFile<'a> {
    path: PathBuf,
    field: String,
    entries: &'a [TensorEntry],
    tensors: SafeTensors<'a>,
}

impl<'a> DataFile<'a> {
    /// Parses `bytes`; `field` is the manifest path of the file's entry (`files[i]`).
    pub(crate) fn parse(
        bytes: &'a [u8],
        path: PathBuf,
        field: String,
        entries: &'a [TensorEntry],
    ) -> Result<DataFile<'a>, VectorsError> {
        let tensors = SafeTensors::deserialize(bytes).map_err(|e| VectorsError::Safetensors {
            path: path.clone(),
            field: field.clone(),
            message: e.to_string(),
        })?;
        Ok(DataFile { path, field, entries, tensors })
    }

    /// Checks that the file holds exactly the tensors of its entries, with their types and shapes.
    pub(crate) fn check_all(&self) -> Result<(), VectorsError> {
        for entry in self.entries {
            self.view(&entry.name)?;
        }
        for name in self.tensors.names() {
            if !self.entries.iter().any(|e| e.name == name) {
                return Err(VectorsError::Tensor {
                    path: self.path.clone(),
                    tensor: name.into(),
                    message: format!("in the file but not listed in {}.tensors", self.field),
                });
            }
        }
        Ok(())
    }

    /// The tensor `name` with its entry, after checking its type and shape against the entry.
    fn view(&self, name: &str) -> Result<(safetensors::tensor::TensorView<'a>, &'a TensorEntry), VectorsError> {
        let entry = self.entries.iter().find(|e| e.name == name).ok_or_else(|| VectorsError::Tensor {
            path: self.path.clone(),
            tensor: name.into(),
            message: format!("not listed in {}.tensors", self.field),
        })?;
        let view = self.tensors.tensor(name).map_err(|_| VectorsError::Tensor {
            path: self.path.clone(),
            tensor: name.into(),
            message: format!("listed in {}.tensors but absent from the file", self.field),
        })?;
        let dtype = format!("{:?}", view.dtype());
        if dtype != entry.dtype {
            return Err(self.mismatch(name, "dtype", &entry.dtype, &dtype));
        }
        if view.shape() != entry.shape.as_slice() {
            return Err(self.mismatch(name, "shape", &format!("{:?}", entry.shape), &format!("{:?}", view.shape())));
        }
        Ok((view, entry))
    }

    fn mismatch(&self, tensor: &str, what: &'static str, expected: &str, actual: &str) -> VectorsError {
        VectorsError::Shape {
            path: self.path.clone(),
            tensor: tensor.into(),
            what,
            expected: expected.into(),
            actual: actual.into(),
        }
    }

    /// A float tensor (F32 or F64) as float64 values, in order.
    pub(crate) fn floats(&self, name: &str) -> Result<Vec<f64>, VectorsError> {
        let (view, _) = self.view(name)?;
        let data = view.data();
        match view.dtype() {
            Dtype::F32 => {
                Ok(data.chunks_exact(4).map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]]))).collect())
            }
            Dtype::F64 => Ok(data
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect()),
            other => Err(self.mismatch(name, "dtype", "F32 or F64", &format!("{other:?}"))),
        }
    }

    /// An unsigned integer tensor (U32 or U64) as u64 values, in order.
    pub(crate) fn integers(&self, name: &str) -> Result<Vec<u64>, VectorsError> {
        let (view, _) = self.view(name)?;
        let data = view.data();
        match view.dtype() {
            Dtype::U32 => {
                Ok(data.chunks_exact(4).map(|c| u64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]]))).collect())
            }
            Dtype::U64 => Ok(data
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect()),
            other => Err(self.mismatch(name, "dtype", "U32 or U64", &format!("{other:?}"))),
        }
    }

    /// An error about the contents of tensor `name`.
    pub(crate) fn content(&self, name: &str, message: String) -> VectorsError {
        VectorsError::Content { path: self.path.clone(), tensor: name.into(), message }
    }
}
