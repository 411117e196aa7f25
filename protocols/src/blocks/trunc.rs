//! Truncation: dividing a shared fixed-point value by 2^k after a product.
//!
//! **Probabilistic** (SecureML, Mohassel & Zhang, S&P 2017, §4.1): purely local. The server
//! shifts its share, the client shifts the negation of its share and negates back. If the secret
//! satisfies |x| < 2^(ℓ_x) the result is ⌊x/2^k⌋ or ⌊x/2^k⌋ + 1, except with probability at
//! most 2^(ℓ_x + 1 − ℓ), when the two shares wrap differently and the result is off by about
//! 2^(ℓ−k) — garbage. At ℓ = 64 with products of values below 2^8 at f = 18 that is below
//! 2^(−18); at ℓ = 32 with f = 13 a product of two values near 1 already fails with
//! probability 2^(−5), which is why ℓ = 32 defaults to faithful truncation.

use dyad_sim::{Ring, Role, Share};
use serde::{Deserialize, Serialize};

/// Which truncation a protocol uses after products.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TruncMode {
    /// SecureML's local truncation: free, ±1 ULP, rarely garbage (see the module docs).
    Probabilistic,
}

impl TruncMode {
    /// The default for a ring.
    pub fn default_for(_ring: Ring) -> Self {
        TruncMode::Probabilistic
    }
}

/// SecureML local truncation of `x` by `k` bits. No communication.
pub fn truncate_probabilistic(role: Role, x: &Share, k: u32) -> Share {
    let r = x.ring();
    let t = x.tensor();
    Share::new(match role {
        Role::Server => t.map(|v| v >> k),
        Role::Client => t.map(|v| r.neg(r.neg(v) >> k)),
    })
}
