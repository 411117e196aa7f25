//! The cost report: both parties' tallies merged, per phase and per label.
//!
//! A label's entry is inclusive: `nimbus.softmax` counts everything under
//! `nimbus.softmax/exp/square` too. Counts are exact and deterministic; compute times are
//! measured and kept apart so that tools can gate on the counts alone.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::meter::{Phase, Tally, TallyKey};
use crate::role::Role;
/// Exact traffic of one scope.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    /// Payload bytes sent by the server.
    pub bytes_server_to_client: u64,
    /// Payload bytes sent by the client.
    pub bytes_client_to_server: u64,
    /// Messages sent by the server.
    pub messages_server_to_client: u64,
    /// Messages sent by the client.
    pub messages_client_to_server: u64,
    /// Rounds: distinct causal depths of the scope's messages (see [`crate::meter`]).
    pub rounds: u64,
    /// Bytes of correlated randomness a dealer delivered to the server.
    pub dealer_bytes_to_server: u64,
    /// Bytes of correlated randomness a dealer delivered to the client.
    pub dealer_bytes_to_client: u64,
}

impl Counts {
    /// Adds `times` runs of `other`, every field (rounds too: the runs one after another).
    pub fn add_times(&mut self, other: &Counts, times: u64) {
        self.bytes_server_to_client += times * other.bytes_server_to_client;
        self.bytes_client_to_server += times * other.bytes_client_to_server;
        self.messages_server_to_client += times * other.messages_server_to_client;
        self.messages_client_to_server += times * other.messages_client_to_server;
        self.rounds += times * other.rounds;
        self.dealer_bytes_to_server += times * other.dealer_bytes_to_server;
        self.dealer_bytes_to_client += times * other.dealer_bytes_to_client;
    }

    /// Bytes exchanged between the parties, both directions.
    pub fn bytes(&self) -> u64 {
        self.bytes_server_to_client + self.bytes_client_to_server
    }

    /// Messages exchanged between the parties, both directions.
    pub fn messages(&self) -> u64 {
        self.messages_server_to_client + self.messages_client_to_server
    }

    /// Bytes a dealer delivered, to both parties.
    pub fn dealer_bytes(&self) -> u64 {
        self.dealer_bytes_to_server + self.dealer_bytes_to_client
    }
}

/// Measured compute time of one scope, per party.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ComputeTime {
    /// Server's compute, seconds.
    pub server_seconds: f64,
    /// Client's compute, seconds.
    pub client_seconds: f64,
}

/// Cost of one label (inclusive of the labels below it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabelCost {
    /// The `/`-joined label path.
    pub label: String,
    /// Exact counts.
    pub counts: Counts,
    /// Measured compute.
    pub compute: ComputeTime,
}

/// Cost of one phase: its total and its labels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseCost {
    /// The phase.
    pub phase: Phase,
    /// Everything in the phase.
    pub counts: Counts,
    /// Measured compute in the phase.
    pub compute: ComputeTime,
    /// Per label, in label-tree order.
    pub labels: Vec<LabelCost>,
}

/// The cost of one simulated run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostReport {
    /// The correlation provider used (`dealer` for the seeded trusted dealer).
    pub correlations: String,
    /// True when any correlated randomness came from a dealer.
    pub dealer_used: bool,
    /// Everything, all phases.
    pub total: Counts,
    /// Measured compute, all phases.
    pub compute: ComputeTime,
    /// Per phase, in phase order; phases without any activity are left out.
    pub phases: Vec<PhaseCost>,
}

#[derive(Default)]
struct Acc {
    counts: Counts,
    depths: BTreeSet<u64>,
    compute: [Duration; 2],
}

impl Acc {
    fn add(&mut self, role: Role, t: &Tally) {
        let c = &mut self.counts;
        match role {
            Role::Server => {
                c.bytes_server_to_client += t.bytes;
                c.messages_server_to_client += t.messages;
                c.dealer_bytes_to_server += t.dealer_bytes;
            }
            Role::Client => {
                c.bytes_client_to_server += t.bytes;
                c.messages_client_to_server += t.messages;
                c.dealer_bytes_to_client += t.dealer_bytes;
            }
        }
        self.depths.extend(t.depths.iter().copied());
        self.compute[role.index()] += t.compute;
    }

    fn counts(&self) -> Counts {
        Counts { rounds: self.depths.len() as u64, ..self.counts.clone() }
    }

    fn compute(&self) -> ComputeTime {
        ComputeTime { server_seconds: self.compute[0].as_secs_f64(), client_seconds: self.compute[1].as_secs_f64() }
    }
}

/// "", "a", "a/b", "a/b/c" for "a/b/c".
fn prefixes(path: &str) -> impl Iterator<Item = &str> {
    let cuts = path.match_indices('/').map(|(i, _)| i);
    std::iter::once("").chain(cuts.map(move |i| &path[..i])).chain((!path.is_empty()).then_some(path))
}

impl CostReport {
    /// Merges the two parties' tallies.
    pub fn from_tallies(
        correlations: &str,
        server: &BTreeMap<TallyKey, Tally>,
        client: &BTreeMap<TallyKey, Tally>,
    ) -> Self {
        let mut scopes: BTreeMap<(Phase, String), Acc> = BTreeMap::new();
        let mut total = Acc::default();
        for (role, tallies) in [(Role::Server, server), (Role::Client, client)] {
            for ((phase, path), tally) in tallies {
                for prefix in prefixes(path) {
                    scopes.entry((*phase, prefix.to_owned())).or_default().add(role, tally);
                }
                total.add(role, tally);
            }
        }
        let mut phases: Vec<PhaseCost> = Vec::new();
        for ((phase, label), acc) in &scopes {
            if label.is_empty() {
                phases.push(PhaseCost {
                    phase: *phase,
                    counts: acc.counts(),
                    compute: acc.compute(),
                    labels: Vec::new(),
                });
            } else if let Some(p) = phases.last_mut() {
                p.labels.push(LabelCost { label: label.clone(), counts: acc.counts(), compute: acc.compute() });
            }
        }
        let total_counts = total.counts();
        CostReport {
            correlations: correlations.to_owned(),
            dealer_used: total_counts.dealer_bytes() > 0,
            total: total_counts,
            compute: total.compute(),
            phases,
        }
    }

    /// The cost of a phase, if anything happened in it.
    pub fn phase(&self, phase: Phase) -> Option<&PhaseCost> {
        self.phases.iter().find(|p| p.phase == phase)
    }

    /// The counts of a phase (zero when nothing happened in it).
    pub fn phase_counts(&self, phase: Phase) -> Counts {
        self.phase(phase).map(|p| p.counts.clone()).unwrap_or_default()
    }

    /// The counts of a label within a phase (zero when the label saw nothing there).
    pub fn label_counts(&self, phase: Phase, label: &str) -> Counts {
        self.phase(phase)
            .and_then(|p| p.labels.iter().find(|l| l.label == label))
            .map(|l| l.counts.clone())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_walk_the_label_tree() {
        assert_eq!(prefixes("a/b/c").collect::<Vec<_>>(), vec!["", "a", "a/b", "a/b/c"]);
        assert_eq!(prefixes("").collect::<Vec<_>>(), vec![""]);
    }
}
