//! The interface every protocol implements, and what it is given.
//!
//! Implementing [`Protocol`] is all it takes for a protocol (one of Dyad's or a user's) to be
//! run by `dyad run`, checked by the harness, property-tested with the
//! strategies of `dyad_sim::strategy` (feature `testing`), audited and costed.

use dyad_sim::runner::Correlations;
use dyad_sim::{FixedPoint, Formula, Party, RingTensor, Role, Share};
use ndarray::ArrayD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ProtocolError;

/// Who holds an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Holder {
    /// Secret-shared between the parties (an activation).
    Shared,
    /// Known to the server only (a weight).
    Server,
    /// Known to the client only (the client's own data).
    Client,
}

/// One input a protocol takes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    /// Its name, for messages.
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Who holds it.
    pub holder: Holder,
    /// The range random test inputs are drawn from; the protocol's documented domain.
    pub range: (f64, f64),
}

/// What a party is given for one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// This party's share of a shared input.
    Share(Share),
    /// A plaintext this party holds.
    Plain(RingTensor),
    /// An input the other party holds; only its shape is known.
    Absent {
        /// The shape, which is public.
        shape: Vec<usize>,
    },
}

/// A party's inputs, the fixed-point format they are in and the run's truncation.
#[derive(Clone, Debug)]
pub struct Inputs {
    /// The format.
    pub fixed: FixedPoint,
    /// The truncation every product uses.
    pub trunc: TruncMode,
    /// One entry per [`InputSpec`].
    pub values: Vec<Input>,
}

impl Inputs {
    /// The share at `index`; an error if that input is not shared.
    pub fn share(&self, protocol: &'static str, index: usize) -> Result<&Share, ProtocolError> {
        match self.values.get(index) {
            Some(Input::Share(s)) => Ok(s),
            _ => Err(ProtocolError::Input { protocol, index, expected: "a secret-shared input".into() }),
        }
    }

    /// The plaintext at `index`, or `None` when the other party holds it; an error if it is shared.
    pub fn plain(&self, protocol: &'static str, index: usize) -> Result<Option<&RingTensor>, ProtocolError> {
        match self.values.get(index) {
            Some(Input::Plain(t)) => Ok(Some(t)),
            Some(Input::Absent { .. }) => Ok(None),
            _ => Err(ProtocolError::Input { protocol, index, expected: "a plaintext input".into() }),
        }
    }
}

impl Inputs {
    /// The shape of the input at `index`, whoever holds it.
    pub fn shape(&self, protocol: &'static str, index: usize) -> Result<&[usize], ProtocolError> {
        match self.values.get(index) {
            Some(Input::Share(s)) => Ok(s.shape()),
            Some(Input::Plain(t)) => Ok(t.shape()),
            Some(Input::Absent { shape }) => Ok(shape),
            None => Err(ProtocolError::Input { protocol, index, expected: "an input".into() }),
        }
    }
}

/// Which truncation a run uses after products.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TruncMode {
    /// SecureML's local truncation: free, ±1 ULP, garbage with probability |x|/2^ℓ.
    Probabilistic,
    /// Cheetah's truncation: one OT per element, ±1 ULP, no large errors for |x| < 2^(ℓ−2). The
    /// default at every ring.
    #[default]
    OneBit,
    /// Exact ⌊x/2^k⌋ for |x| < 2^(ℓ−2).
    Faithful,
}

impl TruncMode {
    /// The tolerance of a computation whose error is `per_unit_error` ULPs when every truncation
    /// may be off by one, and zero when every truncation is exact.
    pub fn tolerance(self, per_unit_error: u64) -> u64 {
        match self {
            TruncMode::Faithful => 0,
            TruncMode::Probabilistic | TruncMode::OneBit => per_unit_error,
        }
    }

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            TruncMode::Probabilistic => "probabilistic",
            TruncMode::OneBit => "one-bit",
            TruncMode::Faithful => "faithful",
        }
    }
}

/// How the output's ring elements are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputEncoding {
    /// Fixed point in the run's format.
    Fixed,
    /// Plain signed integers (for example a comparison's 0/1).
    Integer,
}

/// The shape of a transformer, for running protocols at the sizes they see in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelShape {
    /// Tokens.
    pub seq: usize,
    /// Hidden size.
    pub hidden: usize,
    /// Attention heads.
    pub heads: usize,
    /// Feed-forward size.
    pub ffn: usize,
}

impl ModelShape {
    /// BERT-base at 128 tokens.
    pub const BERT_BASE: ModelShape = ModelShape { seq: 128, hidden: 768, heads: 12, ffn: 3072 };
    /// all-MiniLM-L6-v2 at 128 tokens.
    pub const MINILM: ModelShape = ModelShape { seq: 128, hidden: 384, heads: 12, ffn: 1536 };
    /// A tiny shape for the CI regression gate.
    pub const CI: ModelShape = ModelShape { seq: 8, hidden: 32, heads: 2, ffn: 64 };

    /// The size of one head.
    pub fn head_dim(&self) -> usize {
        self.hidden / self.heads.max(1)
    }
}

/// The recorded activations a protocol can be audited on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// GELU inputs (the FFN's first dense output), element-wise.
    Gelu,
    /// Softmax inputs minus their row maximum (exp inputs, ≤ 0), element-wise.
    Exp,
    /// Whole rows of attention scores (after scaling and mask).
    Softmax,
    /// Whole rows of LayerNorm inputs.
    LayerNorm,
}

/// The small ring a protocol computes in, as a user states it: Z_2^`bits`, with `frac` fraction
/// bits, or the most that keep its pieces safe when `frac` is `None`. Written `BITS` or
/// `BITS:FRAC`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmallRingSpec {
    /// ℓ′.
    pub bits: u32,
    /// f′, derived when `None`.
    pub frac: Option<u32>,
}

impl std::str::FromStr for SmallRingSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let number = |t: &str, what: &str| {
            t.parse::<u32>()
                .map_err(|_| format!("{s:?}: {what} {t:?} is not a whole number of bits (BITS or BITS:FRAC)"))
        };
        let (bits, frac) = match s.split_once(':') {
            Some((b, f)) => (number(b, "ring width")?, Some(number(f, "fraction bits")?)),
            None => (number(s, "ring width")?, None),
        };
        Ok(SmallRingSpec { bits, frac })
    }
}

impl std::fmt::Display for SmallRingSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.frac {
            Some(frac) => write!(f, "{}:{frac}", self.bits),
            None => write!(f, "{}", self.bits),
        }
    }
}

/// A secure two-party protocol with its plaintext fixed-point reference and its float ideal.
pub trait Protocol: Send + Sync + std::fmt::Debug {
    /// The stable registry name, for example `nimbus.gelu`.
    fn name(&self) -> &'static str;

    /// Where the protocol comes from (paper and section).
    fn paper(&self) -> &'static str;

    /// What it computes, in one line.
    fn computes(&self) -> &'static str;

    /// Whether the protocol opens its output to both parties by design (`reveal`), so that a
    /// party's view may depend on the output; the leakage audit reports it as such rather than
    /// as a leak.
    fn opens_output(&self) -> bool {
        false
    }

    /// Functions of `observer`'s view (its received messages, in order) that the leakage audit
    /// tests alongside the view's own bits, for dependences that no single received bit shows
    /// (none by default). The RLWE linear layers return the differences of consecutive
    /// responses' `a` halves: an encryption of zero shared between responses cancels there.
    fn view_features(&self, _dims: &[usize], _fixed: FixedPoint, _observer: Role, _view: &[Vec<u8>]) -> Vec<Vec<u8>> {
        Vec::new()
    }

    /// A digest of everything that defines this protocol, parameters included (a coefficient
    /// file's pieces, a small ring, an ε): the first 16 hexadecimal digits of the SHA-256 of its
    /// `Debug` form. Two processes that run it apart compare digests in their handshake, since a
    /// name does not tell two coefficient files apart. Stable for one build of Dyad and across
    /// processes; the handshake compares Dyad's version first.
    fn definition(&self) -> String {
        let digest = Sha256::digest(format!("{self:?}").as_bytes());
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }

    /// Dimensions used when none are given (their meaning is the protocol's: see
    /// [`Protocol::inputs`]).
    fn default_dims(&self) -> Vec<usize>;

    /// The dimensions at which this protocol runs inside a transformer of shape `m`, for cost
    /// reports: by default an element-wise tensor of seq × hidden.
    fn model_dims(&self, m: &ModelShape) -> Vec<usize> {
        vec![m.seq, m.hidden]
    }

    /// The inputs taken for the given dimensions and format.
    fn inputs(&self, dims: &[usize], fixed: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError>;

    /// One party's side. Both parties call it with their own inputs; the server's and the client's
    /// sides are the two branches on `party.role()` (often identical). Returns this party's share
    /// of the output.
    fn run(&self, party: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError>;

    /// The same fixed-point algorithm in the clear, on the encoded inputs.
    fn reference(&self, fixed: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError>;

    /// The reference for this particular sharing of the inputs, `server` holding the server's
    /// share of each shared input (`None` for the others; the client holds the value minus it).
    /// A protocol whose result depends on the shares and not only on the values they share —
    /// a local down-cast keeps ⌊x/2^t⌋ or one less by the carry of the shares' low bits
    /// ([`crate::blocks::cast`]) — computes here exactly what it must output. By default the
    /// sharing does not matter and this is [`Protocol::reference`].
    fn reference_for_shares(
        &self,
        fixed: FixedPoint,
        inputs: &[RingTensor],
        server: &[Option<&RingTensor>],
    ) -> Result<RingTensor, ProtocolError> {
        let _ = server;
        self.reference(fixed, inputs)
    }

    /// The float64 function the protocol approximates, on the decoded inputs.
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError>;

    /// The largest ring distance allowed between the secure output and the reference when the
    /// run truncates with `trunc` (0 for faithful truncation: the output is then bit-exact).
    fn tolerance_ulp(&self, fixed: FixedPoint, trunc: TruncMode) -> u64;

    /// [`Protocol::tolerance_ulp`] when the parties generate their correlations: a matrix triple
    /// they make with HE is exact only up to ±2 in the ring's last place per entry
    /// ([`crate::bumblebee::matrix_triple`]), which a protocol built on matrix products passes
    /// on. The same by default.
    fn generated_tolerance_ulp(&self, fixed: FixedPoint, trunc: TruncMode) -> u64 {
        self.tolerance_ulp(fixed, trunc)
    }

    /// The tolerance of a run under `correlations`: [`Protocol::tolerance_ulp`] under the
    /// dealer, [`Protocol::generated_tolerance_ulp`] otherwise.
    fn tolerance_under(&self, fixed: FixedPoint, trunc: TruncMode, correlations: Correlations) -> u64 {
        match correlations {
            Correlations::Dealer => self.tolerance_ulp(fixed, trunc),
            Correlations::Ot | Correlations::Silent => self.generated_tolerance_ulp(fixed, trunc),
        }
    }

    /// The documented accuracy: the largest absolute error of the reference against the ideal
    /// over the documented input domain (approximation plus fixed-point error).
    fn ideal_tolerance(&self, fixed: FixedPoint) -> f64;

    /// Writes into `f` the message pattern of a run at `dims` in `fixed` with `trunc` (the formula
    /// of the `//!` header, executable), from which [`Formula::counts`] gives the exact counts of
    /// every phase; `None` when the protocol states no formula or `dims` are not its dimensions
    /// (`f` is then unusable). Writing into a formula, rather than returning one, lets a
    /// composition continue its parts' clocks. A test compares every formula with the meter.
    fn cost(&self, f: &mut Formula, dims: &[usize], fixed: FixedPoint, trunc: TruncMode) -> Option<()> {
        let _ = (f, dims, fixed, trunc);
        None
    }

    /// The ring and fraction bits of the smaller ring a mixed-ring protocol computes its
    /// non-linear part in, when the run is in `fixed` (Nimbus's small-ring activations,
    /// `crate::nimbus::small_ring`); `None` for protocols that stay in the run's ring.
    fn small_ring(&self, fixed: FixedPoint) -> Option<FixedPoint> {
        let _ = fixed;
        None
    }

    /// This protocol computing in the small ring `ring` instead of its own, when it is a
    /// mixed-ring protocol ([`Protocol::small_ring`]); `None` for protocols that have no small
    /// ring. An unusable `ring` is refused when the protocol first computes its format.
    fn with_small_ring(&self, ring: SmallRingSpec) -> Option<Box<dyn Protocol>> {
        let _ = ring;
        None
    }

    /// This protocol for a model whose LayerNorms add `eps` to the variance, when it depends on
    /// that ε (the audit runs LayerNorm protocols with the ε its vector set records); `None`
    /// for protocols that do not.
    fn with_layer_norm_eps(&self, eps: f64) -> Option<Box<dyn Protocol>> {
        let _ = eps;
        None
    }

    /// Which output elements come from inputs inside the documented domain, one flag per element
    /// of the first input (the output's shape for the activations): by default each element of
    /// the first input against its range in [`Protocol::inputs`]. Protocols whose domain is not
    /// a range of values (LayerNorm's row variance, say) say so here; the audit checks the
    /// documented accuracy on the flagged elements and reports the rest as outside.
    fn in_domain(&self, fixed: FixedPoint, inputs: &[ArrayD<f64>]) -> Result<ArrayD<bool>, ProtocolError> {
        let x = inputs.first().ok_or(ProtocolError::Input {
            protocol: self.name(),
            index: 0,
            expected: "an input".into(),
        })?;
        let (lo, hi) = self.inputs(x.shape(), fixed)?.first().map_or((f64::NEG_INFINITY, f64::INFINITY), |s| s.range);
        Ok(x.mapv(|v| (lo..=hi).contains(&v)))
    }

    /// How the output is read.
    fn output(&self) -> OutputEncoding {
        OutputEncoding::Fixed
    }

    /// The recorded activation the audit runs this protocol on, if any.
    fn activation(&self) -> Option<Activation> {
        None
    }

    /// How this protocol's work splits into independent pieces, for running large tensors piece
    /// by piece ([`crate::chunk`]): by default that of the activation it is audited on (GELU and
    /// exp element by element, Softmax and LayerNorm row by row), and whole for the rest.
    fn independence(&self) -> Independence {
        match self.activation() {
            Some(Activation::Gelu | Activation::Exp) => Independence::Elements,
            Some(Activation::Softmax | Activation::LayerNorm) => Independence::Rows,
            None => Independence::Whole,
        }
    }

    /// Where a piecewise approximation changes piece; the audit reports the jumps there.
    fn breakpoints(&self) -> Vec<f64> {
        Vec::new()
    }

    /// A caveat the audit prints beside this protocol's errors (for example that a replacement
    /// function is audited before the distillation its paper relies on).
    fn audit_note(&self) -> Option<&'static str> {
        None
    }

    /// The float64 evaluation of the approximation the protocol computes (its polynomial, say),
    /// which separates approximation error (this against the ideal) from fixed-point error (the
    /// secure output against this). Protocols that approximate nothing return the ideal.
    fn approximation(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        self.ideal(inputs)
    }
}

/// How a protocol's work splits into independent pieces ([`crate::chunk`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Independence {
    /// It does not split: the protocol runs on its whole tensors.
    Whole,
    /// Each output element depends only on the same element of each input, and the output has
    /// the first input's shape.
    Elements,
    /// Each output row (along the last axis) depends only on the same row of each input of the
    /// first input's shape, and on the other inputs (parameters every row shares) whole.
    Rows,
}

/// The dimensions of a protocol that works element-wise on one tensor of any shape.
pub fn elementwise(protocol: &'static str, dims: &[usize]) -> Result<Vec<usize>, ProtocolError> {
    if dims.is_empty() || dims.contains(&0) {
        return Err(ProtocolError::Dims {
            protocol,
            dims: dims.to_vec(),
            expected: "a non-empty shape such as 128x768".into(),
        });
    }
    Ok(dims.to_vec())
}

/// The rows and columns of a matrix-shaped tensor, or an error naming the protocol: never a
/// silent zero for a missing dimension.
pub fn matrix(protocol: &'static str, shape: &[usize]) -> Result<(usize, usize), ProtocolError> {
    match *shape {
        [rows, cols] => Ok((rows, cols)),
        _ => Err(ProtocolError::Dims { protocol, dims: shape.to_vec(), expected: "a matrix (rows,cols)".into() }),
    }
}

/// The length of the rows of a tensor of `shape` (its last axis), or an error naming the
/// protocol when there is no last axis or it is empty.
pub fn row_len(protocol: &'static str, shape: &[usize]) -> Result<usize, ProtocolError> {
    match shape.last() {
        Some(&n) if n > 0 => Ok(n),
        _ => Err(ProtocolError::Dims { protocol, dims: shape.to_vec(), expected: "a non-empty last axis".into() }),
    }
}

/// A shared input spec.
pub fn shared(name: &str, shape: &[usize], range: (f64, f64)) -> InputSpec {
    InputSpec { name: name.into(), shape: shape.to_vec(), holder: Holder::Shared, range }
}

/// The inputs as an array of exactly `N`, or an error naming the protocol.
pub fn take<'a, T, const N: usize>(protocol: &'static str, inputs: &'a [T]) -> Result<&'a [T; N], ProtocolError> {
    inputs.try_into().map_err(|_| ProtocolError::Input {
        protocol,
        index: inputs.len(),
        expected: format!("exactly {N} inputs"),
    })
}

/// The number of elements of an element-wise protocol's dimensions, or `None` when they are not
/// its dimensions (for [`Protocol::cost`]).
pub fn elements(protocol: &'static str, dims: &[usize]) -> Option<usize> {
    elementwise(protocol, dims).ok().map(|d| d.iter().product())
}
