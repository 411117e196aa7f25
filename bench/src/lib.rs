//! What Dyad's protocols cost: runs at transformer shapes ([`cost`]), the network model that
//! turns counts into time ([`network`]), the papers' claims next to the measurements
//! ([`claims`]), and the exact-count regression gate for CI ([`regress`]). The criterion
//! benchmarks live in `benches/`.

pub mod claims;
pub mod cost;
pub mod network;
pub mod regress;
pub mod render;
