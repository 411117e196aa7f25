//! BERT's uncased WordPiece tokenizer.
//!
//! It follows the reference implementation (Devlin et al., `tokenization.py`, and the
//! `BertNormalizer`/`BertPreTokenizer`/`WordPiece` of Hugging Face `tokenizers`):
//!
//! 1. clean: drop NUL, U+FFFD and other control characters (general category C*), turn
//!    whitespace into a space;
//! 2. put spaces around CJK ideographs, so that each becomes a word;
//! 3. strip accents (canonical decomposition, then drop non-spacing marks) and lower-case;
//! 4. split on whitespace, and split every punctuation character (ASCII punctuation or general
//!    category P*) into a word of its own;
//! 5. WordPiece: greedy longest-match-first over the vocabulary, continuation pieces prefixed
//!    with `##`; a word longer than 100 characters, or with a part that matches nothing, becomes
//!    `[UNK]`.
//!
//! [`Tokenizer::encode`] wraps the result in `[CLS]` … `[SEP]`.

use std::collections::HashMap;
use std::path::Path;

use unicode_general_category::{GeneralCategory, get_general_category};
use unicode_normalization::UnicodeNormalization;

use super::error::BertError;

/// Words longer than this many characters become `[UNK]` (BERT's `max_input_chars_per_word`).
const MAX_WORD_CHARS: usize = 100;

/// The prefix of continuation pieces in the vocabulary.
const CONTINUATION: &str = "##";

/// An uncased WordPiece tokenizer over a BERT `vocab.txt`.
#[derive(Clone, Debug)]
pub struct Tokenizer {
    /// Pieces that may start a word, by text.
    starts: HashMap<String, u32>,
    /// Pieces that continue a word, by their text without the `##` prefix.
    continuations: HashMap<String, u32>,
    size: usize,
    unk: u32,
    cls: u32,
    sep: u32,
}

impl Tokenizer {
    /// Reads a `vocab.txt`: one token per line, the line number (from 0) being its id.
    pub fn from_file(path: &Path) -> Result<Tokenizer, BertError> {
        let text = std::fs::read_to_string(path).map_err(|source| BertError::Io { path: path.into(), source })?;
        Tokenizer::from_vocab(&text, path)
    }

    /// Builds the tokenizer from the text of a `vocab.txt`; `path` only names it in errors. The
    /// vocabulary must hold `[UNK]`, `[CLS]` and `[SEP]`, and no token twice.
    pub fn from_vocab(text: &str, path: &Path) -> Result<Tokenizer, BertError> {
        let vocab_error = |line: usize, message: String| BertError::Vocab { path: path.into(), line, message };
        let mut starts = HashMap::new();
        let mut continuations = HashMap::new();
        let mut size = 0usize;
        for (index, line) in text.lines().enumerate() {
            let id = u32::try_from(index).map_err(|_| vocab_error(index + 1, "too many tokens for u32 ids".into()))?;
            let previous = match line.strip_prefix(CONTINUATION) {
                Some(rest) if !rest.is_empty() => continuations.insert(rest.to_string(), id),
                _ => starts.insert(line.to_string(), id),
            };
            if let Some(first) = previous {
                return Err(vocab_error(index + 1, format!("token {line:?} already appears on line {}", first + 1)));
            }
            size = index + 1;
        }
        let special = |name: &str| {
            starts.get(name).copied().ok_or_else(|| vocab_error(0, format!("the special token {name} is missing")))
        };
        let (unk, cls, sep) = (special("[UNK]")?, special("[CLS]")?, special("[SEP]")?);
        Ok(Tokenizer { starts, continuations, size, unk, cls, sep })
    }

    /// Number of token ids.
    pub fn vocab_size(&self) -> usize {
        self.size
    }

    /// The id of `token` (continuation pieces written with their `##`), if it is in the vocabulary.
    pub fn id(&self, token: &str) -> Option<u32> {
        match token.strip_prefix(CONTINUATION) {
            Some(rest) if !rest.is_empty() => self.continuations.get(rest).copied(),
            _ => self.starts.get(token).copied(),
        }
    }

    /// The ids of `text`'s WordPiece tokens, without `[CLS]` and `[SEP]`.
    pub fn tokenize(&self, text: &str) -> Vec<u32> {
        let mut ids = Vec::new();
        for word in words(&normalize(text)) {
            self.word_piece(&word, &mut ids);
        }
        ids
    }

    /// `[CLS]`, the ids of `text`'s tokens, `[SEP]`: the input of the model for one sentence.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut ids = vec![self.cls];
        ids.extend(self.tokenize(text));
        ids.push(self.sep);
        ids
    }

    /// Greedy longest-match-first segmentation of one word, appended to `out`.
    fn word_piece(&self, word: &str, out: &mut Vec<u32>) {
        if word.chars().count() > MAX_WORD_CHARS {
            out.push(self.unk);
            return;
        }
        let mut pieces = Vec::new();
        let mut start = 0;
        while start < word.len() {
            let table = if start == 0 { &self.starts } else { &self.continuations };
            let rest = &word[start..];
            // Candidate ends, longest first, on character boundaries.
            let found = rest
                .char_indices()
                .map(|(i, c)| i + c.len_utf8())
                .rev()
                .find_map(|end| table.get(&rest[..end]).map(|&id| (id, end)));
            match found {
                Some((id, end)) => {
                    pieces.push(id);
                    start += end;
                }
                None => {
                    out.push(self.unk);
                    return;
                }
            }
        }
        out.extend(pieces);
    }
}

/// Steps 1 to 3: clean, space CJK ideographs, strip accents, lower-case.
fn normalize(text: &str) -> String {
    let mut cleaned = String::with_capacity(text.len());
    for c in text.chars() {
        if is_whitespace(c) {
            cleaned.push(' ');
        } else if c == '\0' || c == '\u{fffd}' || is_control(c) {
            continue;
        } else if is_cjk(c) {
            cleaned.push(' ');
            cleaned.push(c);
            cleaned.push(' ');
        } else {
            cleaned.push(c);
        }
    }
    cleaned
        .nfd()
        .filter(|&c| get_general_category(c) != GeneralCategory::NonspacingMark)
        .flat_map(char::to_lowercase)
        .collect()
}

/// Step 4: whitespace-separated words, each punctuation character a word of its own.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in text.split_whitespace() {
        let mut current = String::new();
        for c in chunk.chars() {
            if is_punctuation(c) {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
                out.push(c.to_string());
            } else {
                current.push(c);
            }
        }
        if !current.is_empty() {
            out.push(current);
        }
    }
    out
}

/// Tab, newline and carriage return count as whitespace, not control characters.
fn is_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || c.is_whitespace()
}

/// General category C* (control, format, unassigned, private use, surrogate).
fn is_control(c: char) -> bool {
    use GeneralCategory::*;
    matches!(get_general_category(c), Control | Format | Unassigned | PrivateUse | Surrogate)
}

/// ASCII punctuation (which includes symbols such as `$` and `^`) or general category P*.
fn is_punctuation(c: char) -> bool {
    use GeneralCategory::*;
    c.is_ascii_punctuation()
        || matches!(
            get_general_category(c),
            ConnectorPunctuation
                | DashPunctuation
                | OpenPunctuation
                | ClosePunctuation
                | InitialPunctuation
                | FinalPunctuation
                | OtherPunctuation
        )
}

/// The CJK Unified Ideographs blocks (not Hangul, Hiragana or Katakana), as in BERT.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF
        | 0x3400..=0x4DBF
        | 0x20000..=0x2A6DF
        | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F
        | 0x2B820..=0x2CEAF
        | 0xF900..=0xFAFF
        | 0x2F800..=0x2FA1F)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> Tokenizer {
        let vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\nun\n##aff\n##able\nthe\n,\n.\ncafe\n'\ns\n中\nrun\n##ning\n!";
        Tokenizer::from_vocab(vocab, Path::new("vocab.txt")).unwrap_or_else(|e| panic!("{e}"))
    }

    fn pieces(t: &Tokenizer, text: &str) -> Vec<u32> {
        t.tokenize(text)
    }

    #[test]
    fn greedy_longest_match_first_with_continuations() {
        let t = toy();
        assert_eq!(pieces(&t, "unaffable"), vec![4, 5, 6]);
        assert_eq!(pieces(&t, "running"), vec![14, 15]);
        // A word with an unmatched part becomes a single [UNK].
        assert_eq!(pieces(&t, "unaffablex"), vec![1]);
        assert_eq!(t.encode("the"), vec![2, 7, 3]);
    }

    #[test]
    fn normalises_case_accents_punctuation_and_cjk() {
        let t = toy();
        assert_eq!(pieces(&t, "  The CAFÉ,\tthe\u{301}.  "), vec![7, 10, 8, 7, 9]);
        assert_eq!(pieces(&t, "the's"), vec![7, 11, 12]);
        assert_eq!(pieces(&t, "the中the"), vec![7, 13, 7]);
        // Control and format characters vanish; U+2019 is punctuation and splits.
        assert_eq!(pieces(&t, "t\u{200b}he\u{7}!"), vec![7, 16]);
        assert_eq!(pieces(&t, "the\u{2019}s"), vec![7, 1, 12]);
    }

    #[test]
    fn long_words_become_unknown() {
        let t = toy();
        assert_eq!(pieces(&t, &"un".repeat(51)), vec![1]);
        assert_eq!(pieces(&t, ""), Vec::<u32>::new());
    }

    #[test]
    fn a_bad_vocabulary_names_the_line() {
        let e = Tokenizer::from_vocab("[UNK]\n[CLS]\n[SEP]\nthe\nthe", Path::new("v.txt")).err();
        assert!(e.map(|e| e.to_string()).unwrap_or_default().contains("v.txt: line 5"));
        let e = Tokenizer::from_vocab("[UNK]\n[SEP]", Path::new("v.txt")).err();
        assert!(e.map(|e| e.to_string()).unwrap_or_default().contains("[CLS] is missing"));
    }
}
