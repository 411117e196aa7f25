//! What Dyad's protocols cost: runs at transformer shapes ([`cost`]), the network model that
//! turns counts into time ([`network`]), the papers' claims next to the measurements
//! ([`claims`]), and the exact-count regression gate for CI ([`regress`]). The criterion
//! benchmarks live in `benches/`.

pub mod claims;
pub mod cost;
pub mod network;
pub mod regress;
pub mod render;

/// The text of a small configuration file (shapes, profiles, a baseline): a regular file of at
/// most 64 MiB, so that a FIFO or a device never hangs or exhausts a run. The error is the reason.
pub fn read_text(path: &std::path::Path) -> Result<String, String> {
    const MAX_BYTES: u64 = 64 << 20;
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() || meta.len() > MAX_BYTES {
        return Err(format!("not a regular file of at most {MAX_BYTES} bytes"));
    }
    std::fs::read_to_string(path).map_err(|e| e.to_string())
}
