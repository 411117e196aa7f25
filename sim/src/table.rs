//! Plain-text tables: the one renderer of every report Dyad prints as a table (the run and cost
//! reports, the audit, the claims view, the regression diff, the protocol list).

/// `rows` as left-aligned columns, two spaces apart, each line's trailing spaces trimmed. Rows may
/// be ragged; widths count characters, not bytes.
pub fn columns(rows: &[Vec<String>]) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..n).map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for r in rows {
        let cells: Vec<String> = r.iter().zip(&widths).map(|(s, w)| format!("{s:<w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_by_characters_and_trim_line_ends() {
        let rows = vec![vec!["a".to_string(), "→→".into(), "x".into()], vec!["bbb".into(), "c".into()]];
        assert_eq!(columns(&rows), "a    →→  x\nbbb  c\n");
        assert_eq!(columns(&[]), "");
    }
}
