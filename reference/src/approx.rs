//! Approximations as data: polynomials and piecewise polynomials, evaluated in float64.
//!
//! The same values drive the secure protocols (which encode the coefficients in fixed point), the
//! fixed-point references and the float evaluation that separates approximation error (float
//! polynomial against the ideal) from fixed-point error (secure output against the float
//! polynomial).

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// a0 + a1·x + … + ad·x^d.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Polynomial {
    /// Coefficients, constant term first.
    pub coeffs: Vec<f64>,
}

impl Polynomial {
    /// The polynomial with these coefficients (constant first).
    pub fn new(coeffs: &[f64]) -> Self {
        Polynomial { coeffs: coeffs.to_vec() }
    }

    /// The degree (0 for a constant, including the zero polynomial).
    pub fn degree(&self) -> usize {
        self.coeffs.len().saturating_sub(1)
    }

    /// Evaluates in float64.
    pub fn eval(&self, x: f64) -> f64 {
        self.coeffs.iter().rev().fold(0.0, |acc, c| acc * x + c)
    }
}

/// Pieces separated by breakpoints: `pieces[0]` below `breaks[0]`, `pieces[i]` on
/// [`breaks[i−1]`, `breaks[i]`), the last piece from the last breakpoint up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Piecewise {
    /// Increasing breakpoints.
    pub breaks: Vec<f64>,
    /// One more piece than breakpoints.
    pub pieces: Vec<Polynomial>,
}

/// A malformed piecewise polynomial.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum PiecewiseError {
    /// Pieces and breakpoints do not match.
    #[error("{pieces} pieces need {} breakpoints, got {breaks}", pieces.saturating_sub(1))]
    Count {
        /// Number of pieces.
        pieces: usize,
        /// Number of breakpoints.
        breaks: usize,
    },
    /// Breakpoints not strictly increasing, or not finite.
    #[error("breakpoints must be finite and strictly increasing: {0:?}")]
    Order(Vec<f64>),
    /// A piece without coefficients.
    #[error("piece {0} has no coefficients")]
    Empty(usize),
}

impl Piecewise {
    /// Checks the shape of the definition.
    pub fn new(breaks: Vec<f64>, pieces: Vec<Polynomial>) -> Result<Self, PiecewiseError> {
        let pw = Piecewise { breaks, pieces };
        pw.validate()?;
        Ok(pw)
    }

    /// Checks that pieces and breakpoints fit together.
    pub fn validate(&self) -> Result<(), PiecewiseError> {
        if self.pieces.len() != self.breaks.len() + 1 {
            return Err(PiecewiseError::Count { pieces: self.pieces.len(), breaks: self.breaks.len() });
        }
        if self.breaks.iter().any(|b| !b.is_finite()) || self.breaks.windows(2).any(|w| w[0] >= w[1]) {
            return Err(PiecewiseError::Order(self.breaks.clone()));
        }
        if let Some(i) = self.pieces.iter().position(|p| p.coeffs.is_empty()) {
            return Err(PiecewiseError::Empty(i));
        }
        Ok(())
    }

    /// The index of the piece that covers `x`.
    pub fn piece_at(&self, x: f64) -> usize {
        self.breaks.iter().take_while(|&&b| x >= b).count()
    }

    /// Evaluates in float64.
    pub fn eval(&self, x: f64) -> f64 {
        self.pieces.get(self.piece_at(x)).map_or(0.0, |p| p.eval(x))
    }

    /// The largest degree of any piece.
    pub fn max_degree(&self) -> usize {
        self.pieces.iter().map(Polynomial::degree).max().unwrap_or(0)
    }
}

/// The function a coefficient set approximates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// Exact GELU, x·Φ(x).
    Gelu,
    /// exp on x − max (inputs ≤ 0).
    Exp,
}

impl Target {
    /// The float64 ideal.
    pub fn ideal(self, x: f64) -> f64 {
        match self {
            Target::Gelu => crate::ideal::gelu(x),
            Target::Exp => x.exp(),
        }
    }

    /// The name used in files.
    pub fn name(self) -> &'static str {
        match self {
            Target::Gelu => "gelu",
            Target::Exp => "exp",
        }
    }
}

/// A named, sourced piecewise approximation: what the YAML coefficient files hold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoefficientSet {
    /// A stable name.
    pub name: String,
    /// What it approximates.
    pub function: Target,
    /// Where the coefficients come from.
    pub source: String,
    /// Increasing breakpoints.
    pub breaks: Vec<f64>,
    /// One more piece than breakpoints.
    pub pieces: Vec<Polynomial>,
}

/// A coefficient file that cannot be used.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum CoefficientError {
    /// Not YAML of the expected form.
    #[error("{file}: expected fields name, function (gelu|exp), source, breaks, pieces[].coeffs: {reason}")]
    Parse {
        /// The file.
        file: String,
        /// The parser's message.
        reason: String,
    },
    /// Well-formed YAML, malformed pieces.
    #[error("{file}: field pieces/breaks: {source}")]
    Shape {
        /// The file.
        file: String,
        /// What is wrong.
        source: PiecewiseError,
    },
    /// A coefficient or breakpoint that is not finite.
    #[error("{file}: field {field}: {value} is not a finite number")]
    NotFinite {
        /// The file.
        file: String,
        /// The field.
        field: String,
        /// The value.
        value: f64,
    },
    /// A value outside what Dyad accepts (a limit on size, magnitude or characters).
    #[error("{file}: field {field}: {reason}")]
    Limit {
        /// The file.
        file: String,
        /// The field.
        field: String,
        /// What limit it breaks.
        reason: String,
    },
    /// No built-in set has this name.
    #[error(
        "no built-in coefficient set {0:?} (built in: nimbus-gelu-fitted, nimbus-exp-fitted, nimbus-gelu-example, nimbus-exp-example, puma-gelu, mpcformer-quad-gelu)"
    )]
    Unknown(String),
}

const BUILTIN: [(&str, &str); 6] = [
    ("nimbus-gelu-fitted", include_str!("../coeffs/nimbus-gelu-fitted.yaml")),
    ("nimbus-exp-fitted", include_str!("../coeffs/nimbus-exp-fitted.yaml")),
    ("nimbus-gelu-example", include_str!("../coeffs/nimbus-gelu-example.yaml")),
    ("nimbus-exp-example", include_str!("../coeffs/nimbus-exp-example.yaml")),
    ("puma-gelu", include_str!("../coeffs/puma-gelu.yaml")),
    ("mpcformer-quad-gelu", include_str!("../coeffs/mpcformer-quad-gelu.yaml")),
];

/// The most breakpoints a coefficient set may have: each is a comparison per element, and the
/// built-in sets have at most 3.
pub const MAX_BREAKS: usize = 16;
/// The highest degree of a piece: beyond it no tolerance Dyad can check holds (PUMA's is 6).
pub const MAX_DEGREE: usize = 12;
/// The largest coefficient magnitude: its fixed-point products must fit Z_2^64 at f = 18.
pub const MAX_COEFFICIENT: f64 = 1e6;
/// The largest coefficient file read, in bytes.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

fn limit(file: &str, field: String, reason: String) -> CoefficientError {
    CoefficientError::Limit { file: file.into(), field, reason }
}

impl CoefficientSet {
    /// Parses a coefficient file's text; `file` names it in errors. Refuses more than
    /// [`MAX_BREAKS`] breakpoints, degrees above [`MAX_DEGREE`], coefficients above
    /// [`MAX_COEFFICIENT`] in magnitude, and names that are not plain file names
    /// (letters, digits, `-`, `_`, `.`, not starting with `.`), which end up in paths.
    pub fn from_yaml(text: &str, file: &str) -> Result<Self, CoefficientError> {
        let set: CoefficientSet = serde_saphyr::from_str(text)
            .map_err(|e| CoefficientError::Parse { file: file.into(), reason: dyad_sim::file::yaml_error(&e, file) })?;
        let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if set.name.is_empty() || set.name.starts_with('.') || !set.name.chars().all(plain) || set.name.len() > 64 {
            return Err(limit(
                file,
                "name".into(),
                format!("{:?} must be 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'", set.name),
            ));
        }
        if set.breaks.len() > MAX_BREAKS {
            return Err(limit(
                file,
                "breaks".into(),
                format!("{} breakpoints, at most {MAX_BREAKS}", set.breaks.len()),
            ));
        }
        for (i, p) in set.pieces.iter().enumerate() {
            if p.coeffs.len() > MAX_DEGREE + 1 {
                let reason = format!("degree {}, at most {MAX_DEGREE}", p.coeffs.len() - 1);
                return Err(limit(file, format!("pieces[{i}].coeffs"), reason));
            }
            if let Some((j, c)) = p.coeffs.iter().enumerate().find(|(_, c)| c.abs() > MAX_COEFFICIENT) {
                let reason = format!("{c:.3e} is larger in magnitude than {MAX_COEFFICIENT:e}");
                return Err(limit(file, format!("pieces[{i}].coeffs[{j}]"), reason));
            }
        }
        for (i, b) in set.breaks.iter().enumerate() {
            if !b.is_finite() {
                return Err(CoefficientError::NotFinite {
                    file: file.into(),
                    field: format!("breaks[{i}]"),
                    value: *b,
                });
            }
        }
        for (i, p) in set.pieces.iter().enumerate() {
            if let Some((j, c)) = p.coeffs.iter().enumerate().find(|(_, c)| !c.is_finite()) {
                return Err(CoefficientError::NotFinite {
                    file: file.into(),
                    field: format!("pieces[{i}].coeffs[{j}]"),
                    value: *c,
                });
            }
        }
        set.piecewise().map_err(|source| CoefficientError::Shape { file: file.into(), source })?;
        Ok(set)
    }

    /// Reads a coefficient file: a regular file of at most [`MAX_FILE_BYTES`].
    pub fn load(path: &std::path::Path) -> Result<Self, CoefficientError> {
        let file = path.display().to_string();
        let text = dyad_sim::file::read_regular_text(path, MAX_FILE_BYTES)
            .map_err(|e| CoefficientError::Parse { file: file.clone(), reason: e.to_string() })?;
        Self::from_yaml(&text, &file)
    }

    /// A set shipped with Dyad, by name.
    pub fn builtin(name: &str) -> Result<Self, CoefficientError> {
        let (_, text) =
            BUILTIN.iter().find(|(n, _)| *n == name).ok_or_else(|| CoefficientError::Unknown(name.into()))?;
        Self::from_yaml(text, &format!("reference/coeffs/{name}.yaml"))
    }

    /// Every built-in set.
    pub fn builtins() -> Result<Vec<Self>, CoefficientError> {
        BUILTIN.iter().map(|(n, _)| Self::builtin(n)).collect()
    }

    /// The YAML text of the set.
    pub fn to_yaml(&self) -> String {
        serde_saphyr::to_string(self).unwrap_or_default()
    }

    /// The approximation as a piecewise polynomial.
    pub fn piecewise(&self) -> Result<Piecewise, PiecewiseError> {
        Piecewise::new(self.breaks.clone(), self.pieces.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluation_picks_the_right_piece() {
        let pw = Piecewise::new(
            vec![0.0, 1.0],
            vec![Polynomial::new(&[0.0]), Polynomial::new(&[0.0, 2.0]), Polynomial::new(&[5.0])],
        )
        .unwrap();
        assert_eq!(pw.eval(-1.0), 0.0);
        assert_eq!(pw.eval(0.0), 0.0);
        assert_eq!(pw.eval(0.5), 1.0);
        assert_eq!(pw.eval(1.0), 5.0);
        assert!(Piecewise::new(vec![1.0, 0.0], vec![Polynomial::new(&[0.0]); 3]).is_err());
        assert!(Piecewise::new(vec![1.0], vec![Polynomial::new(&[0.0])]).is_err());
        assert_eq!(Polynomial::new(&[1.0, 2.0, 3.0]).eval(2.0), 17.0);
    }
}

#[cfg(test)]
mod coefficient_tests {
    use super::*;

    #[test]
    fn every_builtin_set_parses_and_the_public_example_jumps_at_one_half() {
        let sets = CoefficientSet::builtins().unwrap();
        assert_eq!(sets.len(), BUILTIN.len());
        let ex = CoefficientSet::builtin("nimbus-gelu-example").unwrap().piecewise().unwrap();
        let (below, above) = (ex.eval(0.5 - 1e-9), ex.eval(0.5));
        assert!((above - below).abs() > 0.2, "jump {below} → {above}");
        let puma = CoefficientSet::builtin("puma-gelu").unwrap().piecewise().unwrap();
        assert!((puma.eval(1.0) - crate::ideal::gelu(1.0)).abs() < 1e-2);
    }

    #[test]
    fn malformed_files_name_the_file_and_field() {
        let e = CoefficientSet::from_yaml(
            "name: x\nfunction: gelu\nsource: s\nbreaks: [1.0]\npieces: [{coeffs: [0.0]}]\n",
            "f.yaml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("f.yaml") && e.to_string().contains("pieces"), "{e}");
        let e = CoefficientSet::from_yaml("name: x\nfunction: sine\n", "g.yaml").unwrap_err();
        assert!(matches!(e, CoefficientError::Parse { .. }) && e.to_string().contains("g.yaml"));
        let e = CoefficientSet::from_yaml(
            "name: x\nfunction: exp\nsource: s\nbreaks: [.nan]\npieces: [{coeffs: [0.0]}, {coeffs: [1.0]}]\n",
            "h.yaml",
        )
        .unwrap_err();
        assert!(matches!(e, CoefficientError::NotFinite { .. }), "{e}");
        assert!(CoefficientSet::builtin("nope").is_err());
    }

    /// Small files that would cost unbounded memory or time, or write outside a directory, are
    /// refused with the field named.
    #[test]
    fn sizes_magnitudes_and_names_are_bounded() {
        let set = |name: &str, breaks: usize, degree: usize, c: f64| {
            let b: Vec<String> = (0..breaks).map(|i| format!("{}.0", i)).collect();
            let pieces: Vec<String> = (0..=breaks).map(|_| format!("{{coeffs: {:?}}}", vec![c; degree + 1])).collect();
            let text = format!(
                "name: {name:?}\nfunction: gelu\nsource: s\nbreaks: [{}]\npieces: [{}]\n",
                b.join(", "),
                pieces.join(", ")
            );
            CoefficientSet::from_yaml(&text, "t.yaml").map(|_| ()).map_err(|e| e.to_string())
        };
        assert_eq!(set("ok", 3, 6, 0.5), Ok(()));
        let refused = [
            (set("ok", 2000, 1, 0.5), "breaks"),
            (set("ok", 2, 50, 0.5), "pieces[0].coeffs"),
            (set("ok", 2, 2, 1e300), "pieces[0].coeffs[0]"),
            (set("/../../escaped", 2, 2, 0.5), "field name"),
            (set(".hidden", 2, 2, 0.5), "field name"),
        ];
        for (got, field) in refused {
            assert!(got.as_ref().is_err_and(|e| e.contains("t.yaml") && e.contains(field)), "{field}: {got:?}");
        }
    }
}
