//! The sentences: Hutto & Gilbert's rated Rotten Tomatoes snippets, and the seeded choice of
//! which to record.

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::error::VectorsError;

/// One rated snippet.
#[derive(Clone, Debug, PartialEq)]
pub struct Snippet {
    /// Its id, the first field (1 to 10605 in the published file).
    pub id: u32,
    /// The mean human sentiment rating, from −4 (extremely negative) to +4 (extremely positive).
    pub rating: f64,
    /// The text.
    pub text: String,
}

/// Reads `movieReviewSnippets_GroundTruth.txt`: UTF-8 lines (CRLF or LF) of three tab-separated
/// fields, id, mean rating and text.
pub fn read_snippets(path: &Path) -> Result<Vec<Snippet>, VectorsError> {
    let bytes = std::fs::read(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => VectorsError::MissingFile { path: path.into(), field: "snippets".into() },
        _ => VectorsError::Io { path: path.into(), field: "snippets".into(), action: "cannot read", source },
    })?;
    let text = String::from_utf8(bytes).map_err(|e| VectorsError::Snippets {
        path: path.into(),
        line: 1 + e.as_bytes()[..e.utf8_error().valid_up_to()].iter().filter(|&&b| b == b'\n').count(),
        field: "text",
        message: "not UTF-8".into(),
    })?;
    parse_snippets(&text, path)
}

/// Parses the text of a snippets file; `path` only names it in errors.
pub fn parse_snippets(text: &str, path: &Path) -> Result<Vec<Snippet>, VectorsError> {
    let error = |line: usize, field: &'static str, message: String| VectorsError::Snippets {
        path: path.into(),
        line,
        field,
        message,
    };
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let mut fields = line.splitn(3, '\t');
        let (Some(id), Some(rating), Some(text)) = (fields.next(), fields.next(), fields.next()) else {
            return Err(error(line_no, "text", "expected three tab-separated fields: id, rating, text".into()));
        };
        let id = id.parse::<u32>().map_err(|_| error(line_no, "id", format!("{id:?} is not a snippet id")))?;
        let rating = rating
            .parse::<f64>()
            .ok()
            .filter(|r| r.is_finite())
            .ok_or_else(|| error(line_no, "rating", format!("{rating:?} is not a finite number")))?;
        if text.trim().is_empty() {
            return Err(error(line_no, "text", "empty".into()));
        }
        out.push(Snippet { id, rating, text: text.to_string() });
    }
    if out.is_empty() {
        return Err(error(1, "text", "the file holds no snippet".into()));
    }
    Ok(out)
}

/// `count` distinct positions out of `0..available`, drawn by a partial Fisher–Yates shuffle
/// from ChaCha20 seeded with `seed` (stream 0), returned in increasing order. Only the
/// generator's raw output is used, so the choice is the same on every platform and version.
pub fn select(available: usize, count: usize, seed: u64) -> Result<Vec<usize>, VectorsError> {
    if count == 0 || count > available {
        return Err(VectorsError::Spec {
            field: "sentences",
            message: format!(
                "{count} sentences asked for, the source holds {available}; need 1 ≤ sentences ≤ {available}"
            ),
        });
    }
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut positions: Vec<usize> = (0..available).collect();
    for i in 0..count {
        let j = i + below(&mut rng, (available - i) as u64) as usize;
        positions.swap(i, j);
    }
    positions.truncate(count);
    positions.sort_unstable();
    Ok(positions)
}

/// A uniform integer in `0..n` (n ≥ 1): Lemire's multiply-and-reject, from raw 64-bit words.
pub(crate) fn below(rng: &mut ChaCha20Rng, n: u64) -> u64 {
    let threshold = n.wrapping_neg() % n;
    loop {
        let m = u128::from(rng.next_u64()) * u128::from(n);
        if (m as u64) >= threshold {
            return (m >> 64) as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_crlf_lines_and_names_bad_fields() {
        let p = Path::new("s.txt");
        let s = parse_snippets("1\t2.5\tGood.\r\n2\t-0.6\tBad, ''really''\tbad.", p).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!((s[1].id, s[1].rating, s[1].text.as_str()), (2, -0.6, "Bad, ''really''\tbad."));
        let e = parse_snippets("1\t2.5\tGood.\nx\t1\tHm.", p).unwrap_err().to_string();
        assert!(e.contains("s.txt: line 2: field id"), "{e}");
        let e = parse_snippets("1\tNaN\tGood.", p).unwrap_err().to_string();
        assert!(e.contains("field rating"), "{e}");
        let e = parse_snippets("1\t2.5", p).unwrap_err().to_string();
        assert!(e.contains("three tab-separated fields"), "{e}");
        assert!(parse_snippets("", p).is_err());
    }

    #[test]
    fn selection_is_seeded_distinct_and_sorted() {
        let a = select(1000, 50, 7).unwrap();
        assert_eq!(a, select(1000, 50, 7).unwrap());
        assert_ne!(a, select(1000, 50, 8).unwrap());
        assert!(a.windows(2).all(|w| w[0] < w[1]) && a.iter().all(|&i| i < 1000));
        assert_eq!(select(5, 5, 1).unwrap(), vec![0, 1, 2, 3, 4]);
        assert!(select(5, 6, 1).is_err() && select(5, 0, 1).is_err());
    }

    #[test]
    fn below_is_in_range_and_roughly_uniform() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            counts[below(&mut rng, 3) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| (9_000..11_000).contains(&c)), "{counts:?}");
    }
}
