//! The loader: a vector set on disk, checked against its manifest.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::error::VectorsError;
use crate::kind::Kind;
use crate::manifest::{
    HIST_COUNTS, HIST_EDGES, KindEntry, MANIFEST_FILE, Manifest, POOLED, ROW_LENGTHS, ROW_ORIGIN, ROW_VALUES, SAMPLES,
    tensor_name,
};
use crate::stats::Histogram;
use crate::tensors::{DataFile, sha256_hex};

/// A recorded vector set: a directory holding `manifest.yaml` and the data files it lists.
///
/// [`VectorSet::open`] reads and checks the manifest. Every accessor reads its data file once
/// (a regular file of exactly the manifest's size, never more), checks its sha256 and each
/// tensor's type and shape against the manifest, and on the first access to a layer runs the
/// content checks of [`VectorSet::verify`] on that layer (histograms that add up to the values
/// counted, samples and rows within the recorded extremes, …) before returning values, so
/// corrupted data, even with a matching checksum, gives an error, never wrong numbers.
#[derive(Debug)]
pub struct VectorSet {
    dir: PathBuf,
    manifest: Manifest,
    /// The checked bytes of each data file, in the order of `manifest.files`.
    files: Vec<OnceLock<Vec<u8>>>,
    /// Set once a layer's contents have passed their checks.
    layers_checked: Vec<OnceLock<()>>,
}

/// The largest manifest read, in bytes.
const MAX_MANIFEST_BYTES: u64 = 16 << 20;

/// What [`VectorSet::verify`] checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verified {
    /// Data files checked.
    pub files: usize,
    /// Tensors checked.
    pub tensors: usize,
    /// Bytes hashed.
    pub bytes: u64,
}

impl VectorSet {
    /// Opens the set in `dir`: reads and checks `dir/manifest.yaml`.
    pub fn open(dir: &Path) -> Result<VectorSet, VectorsError> {
        let path = dir.join(MANIFEST_FILE);
        let text = dyad_sim::file::read_regular(&path, MAX_MANIFEST_BYTES).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => VectorsError::MissingFile { path: path.clone(), field: "manifest".into() },
            _ => VectorsError::Io { path: path.clone(), field: "manifest".into(), action: "cannot read", source },
        })?;
        let text = String::from_utf8(text).map_err(|e| VectorsError::Manifest {
            path: path.clone(),
            field: "document".into(),
            message: format!("not UTF-8 (byte {})", e.utf8_error().valid_up_to()),
        })?;
        let manifest = Manifest::parse(&text, &path)?;
        let files = manifest.files.iter().map(|_| OnceLock::new()).collect();
        let layers_checked = manifest.layers.iter().map(|_| OnceLock::new()).collect();
        Ok(VectorSet { dir: dir.into(), manifest, files, layers_checked })
    }

    /// The set's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Number of layers recorded.
    pub fn layers(&self) -> usize {
        self.manifest.layers.len()
    }

    /// The histogram of `kind` in `layer`: bin edges and counts over every value seen (for
    /// [`Kind::SoftmaxInput`], of x − max(row), the exp inputs).
    pub fn histogram(&self, kind: Kind, layer: usize) -> Result<Histogram, VectorsError> {
        self.check_layer(layer)?;
        self.histogram_unchecked(kind, layer)
    }

    /// Runs the content checks of `layer` once, on first access.
    fn check_layer(&self, layer: usize) -> Result<(), VectorsError> {
        let layers = self.layers();
        let once = self.layers_checked.get(layer).ok_or(VectorsError::Layer { layer, layers })?;
        if once.get().is_none() {
            for kind in Kind::ALL {
                self.verify_kind(kind, layer)?;
            }
            let _ = once.set(());
        }
        Ok(())
    }

    fn histogram_unchecked(&self, kind: Kind, layer: usize) -> Result<Histogram, VectorsError> {
        let (file, _) = self.kind_file(kind, layer)?;
        let data = self.data(file)?;
        Ok(Histogram {
            edges: data.floats(&tensor_name(kind, HIST_EDGES))?,
            counts: data.integers(&tensor_name(kind, HIST_COUNTS))?,
        })
    }

    /// A uniform random sample (without replacement) of the values of `kind` in `layer`, stored
    /// as float32. For [`Kind::SoftmaxInput`] the samples are x − max(row): the inputs of exp in
    /// a max-subtracted Softmax, all ≤ 0.
    pub fn samples(&self, kind: Kind, layer: usize) -> Result<Vec<f64>, VectorsError> {
        self.check_layer(layer)?;
        self.samples_unchecked(kind, layer)
    }

    fn samples_unchecked(&self, kind: Kind, layer: usize) -> Result<Vec<f64>, VectorsError> {
        let (file, _) = self.kind_file(kind, layer)?;
        self.data(file)?.floats(&tensor_name(kind, SAMPLES))
    }

    /// Whole rows of `kind` in `layer`, a uniform random sample of the rows seen, stored as
    /// float32: Softmax inputs as they enter Softmax (scaled scores plus mask, not
    /// max-subtracted; one row per head and query token, as long as the sentence), LayerNorm
    /// inputs and hidden states (rows of the hidden size). [`Kind::GeluInput`] has no rows.
    pub fn rows(&self, kind: Kind, layer: usize) -> Result<Vec<Vec<f64>>, VectorsError> {
        if !kind.has_rows() {
            return Err(VectorsError::NoRows { kind });
        }
        self.check_layer(layer)?;
        self.rows_unchecked(kind, layer)
    }

    fn rows_unchecked(&self, kind: Kind, layer: usize) -> Result<Vec<Vec<f64>>, VectorsError> {
        let (file, _) = self.kind_file(kind, layer)?;
        let data = self.data(file)?;
        let values = data.floats(&tensor_name(kind, ROW_VALUES))?;
        let lengths_name = tensor_name(kind, ROW_LENGTHS);
        let mut rows = Vec::new();
        let mut rest = values.as_slice();
        for len in data.integers(&lengths_name)? {
            let len = usize::try_from(len).unwrap_or(usize::MAX);
            if len > rest.len() {
                return Err(data.content(&lengths_name, "the lengths add up to more than the values".into()));
            }
            let (row, tail) = rest.split_at(len);
            rows.push(row.to_vec());
            rest = tail;
        }
        if !rest.is_empty() {
            return Err(data.content(&lengths_name, "the lengths add up to fewer than the values".into()));
        }
        Ok(rows)
    }

    /// The mean-pooled final hidden state of every sentence, in the order of
    /// `manifest().sentences.ids`, stored as float32.
    pub fn pooled(&self) -> Result<Vec<Vec<f64>>, VectorsError> {
        let data = self.data(&self.manifest.pooled)?;
        let values = data.floats(POOLED)?;
        Ok(values.chunks(self.manifest.model.hidden.max(1)).map(<[f64]>::to_vec).collect())
    }

    /// Checks every data file against the manifest: present, with its sha256, size and exactly
    /// the tensors listed, of their types and shapes; then the contents: histograms that count
    /// every value between increasing edges, samples and rows within the recorded extremes, row
    /// lengths that cover the values, row origins within the sentences, heads and tokens.
    pub fn verify(&self) -> Result<Verified, VectorsError> {
        let mut verified = Verified { files: 0, tensors: 0, bytes: 0 };
        for f in &self.manifest.files {
            self.data(&f.path)?.check_all()?;
            verified.files += 1;
            verified.tensors += f.tensors.len();
            verified.bytes += f.bytes;
        }
        for layer in 0..self.layers() {
            for kind in Kind::ALL {
                self.verify_kind(kind, layer)?;
            }
        }
        let pooled = self.data(&self.manifest.pooled)?;
        if pooled.floats(POOLED)?.iter().any(|v| !v.is_finite()) {
            return Err(pooled.content(POOLED, "holds a non-finite value".into()));
        }
        Ok(verified)
    }

    fn verify_kind(&self, kind: Kind, layer: usize) -> Result<(), VectorsError> {
        let (file, entry) = self.kind_file(kind, layer)?;
        let data = self.data(file)?;
        let v = &entry.values;
        let (min32, max32) = (f64::from(v.min as f32), f64::from(v.max as f32));

        let h = self.histogram_unchecked(kind, layer)?;
        let edges_name = tensor_name(kind, HIST_EDGES);
        let counts_name = tensor_name(kind, HIST_COUNTS);
        if !h.edges.iter().all(|e| e.is_finite()) || !h.edges.windows(2).all(|w| w[0] < w[1]) {
            return Err(data.content(&edges_name, "edges are not finite and increasing".into()));
        }
        let spacing = |w: &[f64]| ((w[1] - w[0]) - entry.bin_width).abs() <= 1e-9 * entry.bin_width;
        if !h.edges.windows(2).all(spacing) {
            return Err(data.content(&edges_name, format!("edges are not {} apart (bin_width)", entry.bin_width)));
        }
        let total = h.counts.iter().try_fold(0u64, |a, &c| a.checked_add(c));
        if total != Some(v.count) {
            let total = total.map_or_else(|| "more than 2^64".to_owned(), |t| t.to_string());
            return Err(data.content(&counts_name, format!("counts add up to {total}, values.count is {}", v.count)));
        }
        let (first, last) = (h.edges.first().copied().unwrap_or(0.0), h.edges.last().copied().unwrap_or(0.0));
        if !(first <= v.min && v.max < last) {
            return Err(data.content(
                &edges_name,
                format!("edges [{first}, {last}) do not cover values.min {} and values.max {}", v.min, v.max),
            ));
        }

        let samples_name = tensor_name(kind, SAMPLES);
        if let Some(s) = self.samples_unchecked(kind, layer)?.iter().find(|s| !(min32 <= **s && **s <= max32)) {
            return Err(data.content(&samples_name, format!("sample {s} lies outside [values.min, values.max]")));
        }

        let Some(r) = &entry.rows else { return Ok(()) };
        let rows = self.rows_unchecked(kind, layer)?;
        let lengths_name = tensor_name(kind, ROW_LENGTHS);
        if let Some(row) = rows.iter().find(|row| !(r.min_len..=r.max_len).contains(&row.len())) {
            return Err(data.content(
                &lengths_name,
                format!("a row of {} values, outside rows.min_len … rows.max_len", row.len()),
            ));
        }
        let (rmin32, rmax32) = (f64::from(r.min as f32), f64::from(r.max as f32));
        if rows.iter().flatten().any(|x| !(rmin32 <= *x && *x <= rmax32)) {
            return Err(
                data.content(&tensor_name(kind, ROW_VALUES), "a value lies outside [rows.min, rows.max]".into())
            );
        }
        let origin_name = tensor_name(kind, ROW_ORIGIN);
        let origin = data.integers(&origin_name)?;
        let heads = if kind == Kind::SoftmaxInput { self.manifest.model.heads as u64 } else { 1 };
        let sentences = self.manifest.sentences.ids.len() as u64;
        let tokens = self.manifest.sentences.max_tokens as u64;
        for o in origin.chunks(3) {
            if let [sentence, head, token] = *o
                && (sentence >= sentences || head >= heads || token >= tokens)
            {
                return Err(data.content(
                    &origin_name,
                    format!("origin ({sentence}, {head}, {token}) is outside {sentences} sentences, {heads} heads, {tokens} tokens"),
                ));
            }
        }
        Ok(())
    }

    /// The data file of `layer` and the entry of `kind` in it.
    fn kind_file(&self, kind: Kind, layer: usize) -> Result<(&str, &KindEntry), VectorsError> {
        let layers = self.layers();
        let entry = self.manifest.layers.get(layer).ok_or(VectorsError::Layer { layer, layers })?;
        // `Manifest::parse` checked that every layer lists every kind once.
        let (_, k) = self.manifest.kind(layer, kind).ok_or(VectorsError::Layer { layer, layers })?;
        Ok((&entry.file, k))
    }

    /// The parsed data file `name`, read and checksummed on first use.
    fn data(&self, name: &str) -> Result<DataFile<'_>, VectorsError> {
        let path = self.dir.join(name);
        let (i, entry) = self.manifest.file(name).ok_or_else(|| VectorsError::Manifest {
            path: self.dir.join(MANIFEST_FILE),
            field: "files".into(),
            message: format!("{name:?} is not listed"),
        })?;
        let bytes = match self.files[i].get() {
            Some(bytes) => bytes,
            None => {
                // A size that disagrees with the manifest is the manifest's field, found before reading.
                if let Ok(meta) = std::fs::metadata(&path)
                    && meta.is_file()
                    && meta.len() != entry.bytes
                {
                    return Err(VectorsError::Manifest {
                        path: self.dir.join(MANIFEST_FILE),
                        field: format!("files[{i}].bytes"),
                        message: format!("{} bytes, but {} holds {}", entry.bytes, path.display(), meta.len()),
                    });
                }
                let bytes = dyad_sim::file::read_regular(&path, entry.bytes).map_err(|source| match source.kind() {
                    std::io::ErrorKind::NotFound => {
                        VectorsError::MissingFile { path: path.clone(), field: format!("files[{i}].path") }
                    }
                    _ => VectorsError::Io {
                        path: path.clone(),
                        field: format!("files[{i}].path"),
                        action: "cannot read",
                        source,
                    },
                })?;
                let actual = sha256_hex(&bytes);
                if actual != entry.sha256 {
                    return Err(VectorsError::Checksum {
                        path,
                        field: format!("files[{i}].sha256"),
                        expected: entry.sha256.clone(),
                        actual,
                    });
                }
                if bytes.len() as u64 != entry.bytes {
                    return Err(VectorsError::Manifest {
                        path: self.dir.join(MANIFEST_FILE),
                        field: format!("files[{i}].bytes"),
                        message: format!("{} bytes, but {} holds {}", entry.bytes, path.display(), bytes.len()),
                    });
                }
                self.files[i].get_or_init(|| bytes)
            }
        };
        DataFile::parse(bytes, path, format!("files[{i}]"), &entry.tensors)
    }
}
