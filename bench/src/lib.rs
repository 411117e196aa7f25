//! What Dyad's protocols cost: runs at transformer shapes ([`cost`]), the network model that
//! turns counts into time ([`network`]), the papers' claims next to the measurements
//! ([`claims`], and freeDiv's accuracy claim in [`accuracy`]), the exact-count regression gate for CI ([`regress`]), and an emulated network
//! link for measuring runs over TCP ([`link`]). The criterion benchmarks live in `benches/`.

pub mod accuracy;
pub mod claims;
pub mod cost;
pub mod link;
pub mod network;
pub mod regress;
pub mod render;

/// The text of a small configuration file (shapes, profiles, a baseline): a regular file of at
/// most 64 MiB, so that a FIFO or a device never hangs or exhausts a run. The error is the reason.
pub fn read_text(path: &std::path::Path) -> Result<String, String> {
    dyad_sim::file::read_regular_text(path, 64 << 20).map_err(|e| e.to_string())
}
