//! Reading the files Dyad's commands are given (vector sets, coefficient, input, shape, profile
//! and baseline files) without trusting them: only regular files (a symbolic link to one is
//! followed), of a bounded size, so that a FIFO, a device or an endless stream never hangs or
//! exhausts a run; and their YAML errors in a user's terms.

use std::io::Read as _;
use std::path::Path;

/// The bytes of `path` if it is a regular file of at most `limit` bytes.
pub fn read_regular(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    if meta.len() > limit {
        return Err(std::io::Error::other(format!("{} bytes, more than the {limit} allowed", meta.len())));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)?.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// [`read_regular`] as UTF-8 text.
pub fn read_regular_text(path: &Path, limit: u64) -> std::io::Result<String> {
    String::from_utf8(read_regular(path, limit)?).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// A YAML error as a user should read it: where in `file` and what is wrong, with the snippet,
/// but without serde-saphyr's advice to the programmer ("use `Option<String>`", "set
/// DuplicateKeyPolicy in Options").
pub fn yaml_error(e: &serde_saphyr::Error, file: &str) -> String {
    e.render_with_options(serde_saphyr::render_options! {
        formatter: &serde_saphyr::UserMessageFormatter,
        source_name: Some(file),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn only_bounded_regular_files_are_read() {
        let dir = std::env::temp_dir().join(format!("dyad-file-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        let f = dir.join("ok.txt");
        std::fs::write(&f, "hello").unwrap_or_default();
        assert_eq!(read_regular_text(&f, 5).ok().as_deref(), Some("hello"));
        assert!(read_regular(&f, 4).is_err_and(|e| e.to_string().contains("more than the 4")));
        assert!(read_regular(Path::new("/dev/zero"), 1 << 20).is_err_and(|e| e.to_string() == "not a regular file"));
        assert!(read_regular(&dir, 1 << 20).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn yaml_errors_name_the_file_and_give_no_programmer_advice() {
        #[derive(Debug, serde::Deserialize)]
        struct Named {
            #[allow(dead_code)] // read only by the deserializer
            name: String,
        }
        for text in ["name: a\nname: b\n", "name: ~\n", "name: [1, 2]\n"] {
            let e = serde_saphyr::from_str::<Named>(text).err();
            let message = e.map(|e| yaml_error(&e, "dir/set.yaml")).unwrap_or_default();
            assert!(message.contains("dir/set.yaml:1:") || message.contains("dir/set.yaml:2:"), "{message}");
            for leak in ["Option<", "DuplicateKeyPolicy", "Options"] {
                assert!(!message.contains(leak), "{text:?}: {message}");
            }
        }
    }
}
