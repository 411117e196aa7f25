//! The loader and the recorder on a small synthetic set: what is written reads back, the same
//! seed writes the same bytes, and every way a set can be broken gives a typed error naming the
//! file and the field.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::path::Path;

use common::{LENGTHS, fresh_dir, record_toy, toy_model};
use dyad_vectors::{Kind, MANIFEST_FILE, Manifest, VectorSet, VectorsError};
use safetensors::{Dtype, SafeTensors};

fn read_manifest(dir: &Path) -> Manifest {
    let path = dir.join(MANIFEST_FILE);
    Manifest::parse(&std::fs::read_to_string(&path).unwrap(), &path).unwrap()
}

fn write_manifest(dir: &Path, m: &Manifest) {
    let path = dir.join(MANIFEST_FILE);
    std::fs::write(&path, m.to_yaml(&path).unwrap()).unwrap();
}

/// Rewrites tensor `name` of data file `file` with `bytes` (dtype and shape given), and makes the
/// manifest's checksum and size follow, so that only the tensor disagrees with the manifest.
fn rewrite_tensor(dir: &Path, file: &str, name: &str, dtype: Dtype, shape: Vec<usize>, bytes: Vec<u8>) {
    let path = dir.join(file);
    let old = std::fs::read(&path).unwrap();
    let tensors = SafeTensors::deserialize(&old).unwrap();
    let mut out: Vec<(String, safetensors::tensor::TensorView<'_>)> = Vec::new();
    for (n, view) in tensors.tensors() {
        if n != name {
            out.push((n, view));
        }
    }
    out.push((name.into(), safetensors::tensor::TensorView::new(dtype, shape, &bytes).unwrap()));
    let new = safetensors::serialize(out, None).unwrap();
    std::fs::write(&path, &new).unwrap();
    let mut m = read_manifest(dir);
    let entry = m.files.iter_mut().find(|f| f.path == file).unwrap();
    entry.sha256 = dyad_vectors::sha256_hex(&new);
    entry.bytes = new.len() as u64;
    write_manifest(dir, &m);
}

fn message(e: VectorsError) -> String {
    e.to_string()
}

#[test]
fn a_recorded_set_reads_back_and_verifies() {
    let dir = fresh_dir("roundtrip");
    let manifest = record_toy(&dir, 1);
    let set = VectorSet::open(&dir).unwrap();
    assert_eq!(set.manifest(), &manifest);
    assert_eq!(set.layers(), 2);
    let v = set.verify().unwrap();
    assert_eq!(v.files, 3);

    let tokens: usize = LENGTHS.iter().sum();
    let m = toy_model();
    for layer in 0..2 {
        let gelu = set.histogram(Kind::GeluInput, layer).unwrap();
        assert_eq!(gelu.total(), (tokens * m.intermediate) as u64);
        assert_eq!(gelu.edges.len(), gelu.counts.len() + 1);
        let exp = set.samples(Kind::SoftmaxInput, layer).unwrap();
        assert_eq!(exp.len(), 50);
        assert!(exp.iter().all(|&x| x <= 0.0));
        // Every Softmax row has its sentence's length; at most 7 rows are kept.
        let rows = set.rows(Kind::SoftmaxInput, layer).unwrap();
        assert_eq!(rows.len(), 7);
        assert!(rows.iter().all(|r| LENGTHS.contains(&r.len())));
        let seen = set.histogram(Kind::SoftmaxInput, layer).unwrap().total();
        assert_eq!(seen, LENGTHS.iter().map(|n| (m.heads * n * n) as u64).sum::<u64>());
        let ln = set.rows(Kind::LayerNormFfn, layer).unwrap();
        assert!(ln.len() == 7 && ln.iter().all(|r| r.len() == m.hidden));
        let k = set.manifest().kind(layer, Kind::LayerNormFfn).unwrap().1;
        assert_eq!(k.rows.as_ref().unwrap().count, tokens as u64);
    }
    let pooled = set.pooled().unwrap();
    assert_eq!(pooled.len(), LENGTHS.len());
    assert_eq!(pooled[1][4], 0.5 - 1.0);
    assert_eq!(set.manifest().sentences.ids, vec![1, 11, 21, 31, 41]);
    assert_eq!(set.manifest().sentences.tokens, tokens as u64);
}

#[test]
fn the_same_seed_writes_the_same_bytes_and_another_seed_other_samples() {
    let (a, b, c) = (fresh_dir("det-a"), fresh_dir("det-b"), fresh_dir("det-c"));
    let (ma, mb, mc) = (record_toy(&a, 5), record_toy(&b, 5), record_toy(&c, 6));
    assert_eq!(ma, mb);
    for f in ma.files.iter().map(|f| f.path.as_str()).chain([MANIFEST_FILE]) {
        assert_eq!(std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap(), "{f} differs");
    }
    // Same activations, so the same statistics; other samples and rows.
    assert_eq!(ma.layers[0].kinds[0].values, mc.layers[0].kinds[0].values);
    let samples = |d: &Path| VectorSet::open(d).unwrap().samples(Kind::GeluInput, 1).unwrap();
    assert_ne!(samples(&a), samples(&c));
}

#[test]
fn a_missing_file_is_named_with_its_manifest_field() {
    let dir = fresh_dir("missing");
    record_toy(&dir, 1);
    std::fs::remove_file(dir.join("layer1.safetensors")).unwrap();
    let set = VectorSet::open(&dir).unwrap();
    let e = set.verify().unwrap_err();
    assert!(matches!(&e, VectorsError::MissingFile { field, .. } if field == "files[1].path"), "{e:?}");
    assert!(message(e).contains("layer1.safetensors"));
    assert!(matches!(set.samples(Kind::Hidden, 1), Err(VectorsError::MissingFile { .. })));
    // Layer 0 is still readable.
    assert!(set.samples(Kind::Hidden, 0).is_ok());

    std::fs::remove_file(dir.join(MANIFEST_FILE)).unwrap();
    let e = VectorSet::open(&dir).unwrap_err();
    assert!(matches!(&e, VectorsError::MissingFile { field, .. } if field == "manifest"), "{e:?}");
    assert!(message(e).contains("manifest.yaml"));
}

#[test]
fn a_changed_byte_is_a_checksum_error_naming_the_file_and_field() {
    let dir = fresh_dir("checksum");
    record_toy(&dir, 1);
    let path = dir.join("layer0.safetensors");
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    let set = VectorSet::open(&dir).unwrap();
    for e in [set.verify().unwrap_err(), set.histogram(Kind::GeluInput, 0).unwrap_err()] {
        assert!(matches!(&e, VectorsError::Checksum { field, .. } if field == "files[0].sha256"), "{e:?}");
        assert!(message(e).contains("layer0.safetensors"));
    }
}

/// Rewrites data file `file` with `bytes` and makes the manifest's checksum and size follow.
fn replace_file(dir: &Path, file: &str, bytes: &[u8]) {
    std::fs::write(dir.join(file), bytes).unwrap();
    let mut m = read_manifest(dir);
    let entry = m.files.iter_mut().find(|f| f.path == file).unwrap();
    entry.sha256 = dyad_vectors::sha256_hex(bytes);
    entry.bytes = bytes.len() as u64;
    write_manifest(dir, &m);
}

#[test]
fn a_file_that_is_not_safetensors_is_named_with_its_entry() {
    let dir = fresh_dir("not-safetensors");
    record_toy(&dir, 1);
    replace_file(&dir, "layer0.safetensors", b"this is not a safetensors file");
    let e = VectorSet::open(&dir).unwrap().verify().unwrap_err();
    assert!(matches!(&e, VectorsError::Safetensors { field, .. } if field == "files[0]"), "{e:?}");
    assert!(message(e).contains("layer0.safetensors"));
}

#[test]
fn a_size_that_disagrees_with_the_manifest_names_the_bytes_field() {
    let dir = fresh_dir("bytes");
    record_toy(&dir, 1);
    let mut m = read_manifest(&dir);
    m.files[0].bytes += 1;
    write_manifest(&dir, &m);
    let e = VectorSet::open(&dir).unwrap().verify().unwrap_err();
    assert!(matches!(&e, VectorsError::Manifest { field, .. } if field == "files[0].bytes"), "{e:?}");
}

#[test]
fn an_unreadable_file_is_an_io_error_naming_its_field() {
    let dir = fresh_dir("unreadable");
    record_toy(&dir, 1);
    let path = dir.join("layer0.safetensors");
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    let e = VectorSet::open(&dir).unwrap().verify().unwrap_err();
    assert!(matches!(&e, VectorsError::Io { field, .. } if field == "files[0].path"), "{e:?}");
    assert!(message(e).contains("layer0.safetensors"));
}

/// Data files with bytes changed, deleted or inserted (the manifest's checksum and size kept in
/// step, so that the parser and the checks see them) never panic `verify` or a read.
#[test]
fn fuzz_data_files_never_panic_the_loader() {
    let dir = fresh_dir("data-fuzz");
    record_toy(&dir, 1);
    let good = std::fs::read(dir.join("layer0.safetensors")).unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(dyad_sim::testkit::fuzz_config(0x5eed_0007, 256));
    runner
        .run(&common::edits(good.len(), 4), |edits| {
            let bytes = common::mutate(&good, &edits);
            replace_file(&dir, "layer0.safetensors", &bytes);
            let set = VectorSet::open(&dir).unwrap();
            let _ = set.verify();
            let _ = set.samples(Kind::GeluInput, 0);
            let _ = set.rows(Kind::SoftmaxInput, 0);
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_tensor_of_another_shape_or_dtype_is_named() {
    let dir = fresh_dir("shape");
    record_toy(&dir, 1);
    rewrite_tensor(&dir, "layer1.safetensors", "gelu_input.samples", Dtype::F32, vec![49], vec![0; 49 * 4]);
    let set = VectorSet::open(&dir).unwrap();
    let e = set.samples(Kind::GeluInput, 1).unwrap_err();
    assert!(matches!(&e, VectorsError::Shape { tensor, what: "shape", .. } if tensor == "gelu_input.samples"), "{e:?}");
    let text = message(set.verify().unwrap_err());
    assert!(
        text.contains("layer1.safetensors") && text.contains("gelu_input.samples") && text.contains("[50]"),
        "{text}"
    );

    let dir = fresh_dir("dtype");
    record_toy(&dir, 1);
    rewrite_tensor(&dir, "layer0.safetensors", "hidden.samples", Dtype::F64, vec![50], vec![0; 50 * 8]);
    let e = VectorSet::open(&dir).unwrap().samples(Kind::Hidden, 0).unwrap_err();
    assert!(matches!(&e, VectorsError::Shape { what: "dtype", .. }), "{e:?}");
    assert!(message(e).contains("hidden.samples has dtype F64, expected F32"));
}

#[test]
fn absent_and_unlisted_tensors_are_named() {
    let dir = fresh_dir("unlisted");
    record_toy(&dir, 1);
    rewrite_tensor(&dir, "pooled.safetensors", "extra", Dtype::U32, vec![1], vec![0; 4]);
    let e = VectorSet::open(&dir).unwrap().verify().unwrap_err();
    assert!(matches!(&e, VectorsError::Tensor { tensor, .. } if tensor == "extra"), "{e:?}");
    assert!(message(e).contains("not listed in files[2].tensors"));

    // A manifest that lists a tensor the file lacks.
    let dir = fresh_dir("absent");
    record_toy(&dir, 1);
    let mut m = read_manifest(&dir);
    let t = m.files[2].tensors[0].clone();
    m.files[2].tensors.push(dyad_vectors::TensorEntry { name: "ghost".into(), ..t });
    write_manifest(&dir, &m);
    let e = VectorSet::open(&dir).unwrap().verify().unwrap_err();
    assert!(message(e).contains("pooled.safetensors: tensor ghost: listed in files[2].tensors but absent"));
}

#[test]
fn contents_that_contradict_the_manifest_are_found_by_verify() {
    let dir = fresh_dir("content");
    record_toy(&dir, 1);
    let mut m = read_manifest(&dir);
    let k = m.layers[1].kinds.iter_mut().find(|k| k.kind == Kind::LayerNormAttention).unwrap();
    k.values.count += 1;
    write_manifest(&dir, &m);
    let e = VectorSet::open(&dir).unwrap().verify().unwrap_err();
    assert!(matches!(&e, VectorsError::Content { tensor, .. } if tensor == "layer_norm_attention.histogram.counts"));
    assert!(message(e).contains("layer1.safetensors"));

    let dir = fresh_dir("content-range");
    record_toy(&dir, 1);
    let mut m = read_manifest(&dir);
    let k = m.layers[0].kinds.iter_mut().find(|k| k.kind == Kind::GeluInput).unwrap();
    k.values.max -= 1.0;
    k.values.mean = k.values.min;
    write_manifest(&dir, &m);
    let e = message(VectorSet::open(&dir).unwrap().verify().unwrap_err());
    assert!(e.contains("layer0.safetensors: tensor gelu_input."), "{e}");
}

#[test]
fn malformed_manifests_name_the_field() {
    let dir = fresh_dir("malformed");
    record_toy(&dir, 1);
    let path = dir.join(MANIFEST_FILE);
    let good = std::fs::read_to_string(&path).unwrap();
    let m = read_manifest(&dir);
    let field_of = |text: &str| match Manifest::parse(text, &path) {
        Err(VectorsError::Manifest { field, path: p, message }) => {
            assert_eq!(p, path);
            format!("{field}: {message}")
        }
        other => panic!("expected a manifest error, got {other:?}"),
    };
    let edit = |f: &dyn Fn(&mut Manifest)| {
        let mut m = m.clone();
        f(&mut m);
        m.to_yaml(&path).unwrap()
    };
    assert!(field_of("format: [unclosed").starts_with("document"));
    assert!(field_of(&good.replace("  heads: 2\n", "")).contains("heads"));
    assert!(field_of(&good.replace("format: dyad-vectors/1", "format: dyad-vectors/9")).starts_with("format"));
    assert!(field_of(&good.replace("seed: 1\n", "seed: -1\n")).starts_with("document"));
    assert!(field_of(&format!("{good}unknown: 1\n")).contains("unknown"));
    assert!(field_of(&edit(&|m| m.files[0].path = "../etc/passwd".into())).starts_with("files[0].path"));
    assert!(field_of(&edit(&|m| m.files[1].sha256 = "ABC".into())).starts_with("files[1].sha256"));
    assert!(
        field_of(&edit(&|m| m.model.weights_sha256.pop().map(|_| ()).unwrap())).starts_with("model.weights_sha256")
    );
    for eps in [0.0, -1e-5, f64::NAN, f64::INFINITY, 0.5] {
        assert!(field_of(&edit(&|m| m.model.layer_norm_eps = eps)).starts_with("model.layer_norm_eps"), "{eps}");
    }
    assert!(field_of(&good.replace("  layer_norm_eps: 1.0e-12\n", "")).contains("layer_norm_eps"));
    assert!(field_of(&edit(&|m| m.layers[1].layer = 0)).starts_with("layers[1].layer"));
    assert!(field_of(&edit(&|m| m.layers[0].file = "nope".into())).starts_with("layers[0].file"));
    assert!(field_of(&edit(&|m| m.layers[1].kinds.truncate(4))).starts_with("layers[1].kinds"));
    assert!(field_of(&edit(&|m| m.layers[0].kinds[2].bin_width = 0.0)).starts_with("layers[0].kinds[2].bin_width"));
    assert!(field_of(&edit(&|m| m.layers[0].kinds[0].samples = 3)).starts_with("layers[0].kinds[0].samples"));
    assert!(field_of(&edit(&|m| m.layers.pop().map(|_| ()).unwrap())).starts_with("layers:"));
    assert!(field_of(&edit(&|m| m.sentences.ids.reverse())).starts_with("sentences.ids"));
    assert!(field_of(&edit(&|m| m.sentences.tokens = 1)).starts_with("sentences.tokens"));
    assert!(field_of(&edit(&|m| m.pooled = "layer0.safetensors".into())).starts_with("files[0].tensors"));
    assert!(field_of(&edit(&|m| m.files[0].tensors[0].shape = vec![3, 3])).starts_with("files[0].tensors"));
    assert!(field_of(&edit(&|m| m.files[0].tensors[1].dtype = "I8".into())).starts_with("files[0].tensors[1].dtype"));
    let gelu =
        |m: &mut Manifest| m.layers[0].kinds.iter_mut().find(|k| k.kind == Kind::GeluInput).unwrap().kept_rows = 2;
    assert!(field_of(&edit(&gelu)).contains("kept_rows"));

    std::fs::write(&path, [0xff, 0xfe, b'x']).unwrap();
    let e = VectorSet::open(&dir).unwrap_err();
    assert!(matches!(e, VectorsError::Manifest { ref field, .. } if field == "document"), "{e:?}");
}

#[test]
fn asking_for_what_is_not_recorded_is_an_error() {
    let dir = fresh_dir("absent-parts");
    record_toy(&dir, 1);
    let set = VectorSet::open(&dir).unwrap();
    assert!(matches!(set.rows(Kind::GeluInput, 0), Err(VectorsError::NoRows { kind: Kind::GeluInput })));
    assert!(matches!(set.histogram(Kind::Hidden, 2), Err(VectorsError::Layer { layer: 2, layers: 2 })));
}

#[test]
fn the_bundled_set_verifies() {
    let set = VectorSet::open(&dyad_vectors::bundled_dir()).unwrap();
    set.verify().unwrap();
    let m = set.manifest();
    assert!(m.sentences.ids.len() >= 256);
    assert_eq!(set.layers(), m.model.layers);
    let bytes: u64 = m.files.iter().map(|f| f.bytes).sum();
    assert!(bytes < 20_000_000, "the committed vectors take {bytes} bytes");
}

/// The content checks of `verify` run on the first read of a layer too: a count that no longer
/// adds up (here the manifest's, the same contradiction as a tampered count with its checksum
/// updated) is an error from `samples`, `rows` and `histogram`, never wrong numbers.
#[test]
fn contents_are_checked_on_load() {
    let dir = fresh_dir("content-on-load");
    record_toy(&dir, 1);
    let mut m = read_manifest(&dir);
    let k = m.layers[1].kinds.iter_mut().find(|k| k.kind == Kind::LayerNormAttention).unwrap();
    k.values.count += 1;
    write_manifest(&dir, &m);
    let set = VectorSet::open(&dir).unwrap();
    assert!(set.samples(Kind::GeluInput, 0).is_ok(), "layer 0 is intact");
    for e in [
        set.samples(Kind::GeluInput, 1).map(|_| ()).unwrap_err(),
        set.rows(Kind::LayerNormAttention, 1).map(|_| ()).unwrap_err(),
        set.histogram(Kind::SoftmaxInput, 1).map(|_| ()).unwrap_err(),
    ] {
        assert!(
            matches!(&e, VectorsError::Content { tensor, .. } if tensor == "layer_norm_attention.histogram.counts"),
            "{e:?}"
        );
    }
}

/// A data file that is a FIFO or a link to an endless device is refused at once: no hang, no
/// read until memory runs out.
#[cfg(unix)]
#[test]
fn only_regular_files_of_the_manifest_size_are_read() {
    let dir = fresh_dir("not-regular");
    record_toy(&dir, 1);
    let path = dir.join("layer0.safetensors");
    std::fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
    let e = VectorSet::open(&dir).unwrap().samples(Kind::GeluInput, 0).unwrap_err();
    assert!(matches!(&e, VectorsError::Io { field, .. } if field == "files[0].path"), "{e:?}");
    assert!(message(e).contains("not a regular file"));
    std::fs::remove_file(&path).unwrap();
    if std::process::Command::new("mkfifo").arg(&path).status().is_ok_and(|s| s.success()) {
        let e = VectorSet::open(&dir).unwrap().verify().unwrap_err();
        assert!(message(e).contains("not a regular file"));
    }
    let manifest = dir.join(MANIFEST_FILE);
    std::fs::remove_file(&manifest).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &manifest).unwrap();
    let e = VectorSet::open(&dir).unwrap_err();
    assert!(message(e).contains("not a regular file"));
}

/// Sentence ids are integers: a quoted id or a plain scalar that only looks like one (`'1_0'`,
/// `1_0`, `'6'`, `007`) is refused, where the typed parser used to read 10, 10, 6 and 7.
#[test]
fn sentence_ids_that_are_strings_are_refused() {
    let path = dyad_vectors::bundled_dir().join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("ids: [6, 40,"));
    assert_eq!(Manifest::parse(&text, &path).unwrap().sentences.ids[0], 6);
    for id in ["'1_0'", "1_0", "'6'", "007", "-6"] {
        let e = Manifest::parse(&text.replacen("ids: [6, 40,", &format!("ids: [{id}, 40,"), 1), &path).unwrap_err();
        assert!(message(e).contains("sentence id"), "{id}");
    }
}
