//! The network model: estimated wall time of a run under a network profile.
//!
//! T = compute + rounds × latency + bytes(server → client)/bandwidth + bytes(client → server)/bandwidth
//!
//! Assumptions, stated because they decide the answer:
//! - compute is the larger of the two parties' measured compute (they work in parallel, and the
//!   protocols here keep both busy in turn, so the larger one bounds the critical path);
//! - every round costs one one-way latency (a round is one flight of messages);
//! - each direction's bytes cross at the full bandwidth, and the two directions do not overlap
//!   (messages mostly alternate), so their transfer times add;
//! - nothing is pipelined across rounds, and TCP effects are ignored.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use dyad_sim::Counts;

/// A network profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Its name.
    pub name: String,
    /// Bandwidth per direction, bits per second.
    pub bandwidth_bits_per_second: f64,
    /// One-way latency, seconds.
    pub latency_seconds: f64,
}

/// A profile file that cannot be used.
#[derive(Debug, Error)]
pub enum ProfileError {
    /// Unreadable or malformed.
    #[error("{file}: expected a list of {{name, bandwidth_bits_per_second, latency_seconds}}: {reason}")]
    Parse {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// A non-positive or non-finite number.
    #[error("{file}: profile {name:?}: bandwidth must be positive and latency non-negative")]
    Value {
        /// The file.
        file: String,
        /// The profile.
        name: String,
    },
}

impl Profile {
    /// LAN: 3 Gbps, 0.8 ms one way (Nimbus's appendix setting).
    pub fn lan() -> Self {
        Profile { name: "lan".into(), bandwidth_bits_per_second: 3e9, latency_seconds: 0.8e-3 }
    }

    /// WAN: 200 Mbps, 40 ms one way.
    pub fn wan() -> Self {
        Profile { name: "wan".into(), bandwidth_bits_per_second: 200e6, latency_seconds: 40e-3 }
    }

    /// Profiles from a YAML list in a file.
    pub fn load(path: &std::path::Path) -> Result<Vec<Profile>, ProfileError> {
        let file = path.display().to_string();
        let text = crate::read_text(path).map_err(|reason| ProfileError::Parse { file: file.clone(), reason })?;
        Self::parse(&text, &file)
    }

    /// Profiles from a YAML list; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Vec<Profile>, ProfileError> {
        let file = file.to_owned();
        let list: Vec<Profile> = serde_saphyr::from_str(text)
            .map_err(|e| ProfileError::Parse { file: file.clone(), reason: dyad_sim::file::yaml_error(&e, &file) })?;
        for p in &list {
            p.check(&file)?;
        }
        Ok(list)
    }

    /// An error naming `file` and the profile unless the bandwidth is positive and the latency
    /// non-negative, both finite.
    pub fn check(&self, file: &str) -> Result<(), ProfileError> {
        let fine = self.bandwidth_bits_per_second.is_finite()
            && self.bandwidth_bits_per_second > 0.0
            && self.latency_seconds.is_finite()
            && self.latency_seconds >= 0.0;
        if fine { Ok(()) } else { Err(ProfileError::Value { file: file.to_owned(), name: self.name.clone() }) }
    }

    /// The estimate of the formula above, in seconds.
    pub fn estimate(&self, counts: &Counts, server_compute: f64, client_compute: f64) -> f64 {
        let bits = |bytes: u64| bytes as f64 * 8.0 / self.bandwidth_bits_per_second;
        server_compute.max(client_compute)
            + counts.rounds as f64 * self.latency_seconds
            + bits(counts.bytes_server_to_client)
            + bits(counts.bytes_client_to_server)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_adds_compute_latency_and_transfer() {
        let c =
            Counts { bytes_server_to_client: 375_000_000, bytes_client_to_server: 0, rounds: 10, ..Counts::default() };
        // 3 Gbit at 3 Gbps is 1 s; 10 rounds of 0.8 ms; 0.5 s of compute on the slower party.
        let t = Profile::lan().estimate(&c, 0.5, 0.2);
        assert!((t - (0.5 + 0.008 + 1.0)).abs() < 1e-9, "{t}");
    }
}
