//! The regression gate: the exact counts of every protocol at the CI shape set, compared with a
//! committed baseline. More bytes, messages or rounds anywhere fails; fewer is reported and
//! passes; a protocol missing from the baseline is reported.

use std::collections::BTreeMap;

use dyad_protocols::{ModelShape, Protocol, TruncMode};
use dyad_sim::runner::Correlations;
use dyad_sim::{Counts, FixedPoint, Ring};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::cost::{CostSpec, measure};

/// Phase → label → counts of one protocol; the phase total is under the label `(all)`.
pub type ProtocolCounts = BTreeMap<String, BTreeMap<String, Counts>>;

/// What `bench/baseline.yaml` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// The shape set the counts are for.
    pub shape: ModelShape,
    /// ℓ.
    pub ring_bits: u32,
    /// The truncation.
    pub trunc: TruncMode,
    /// Per correlation provider (`dealer`, `ot`): the counts of every protocol.
    pub providers: BTreeMap<String, Section>,
}

/// One provider's part of a baseline.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// Counts per protocol.
    pub protocols: BTreeMap<String, ProtocolCounts>,
    /// Protocols the provider cannot serve, with its reason (matrix triples under `ot`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub refused: BTreeMap<String, String>,
}

/// A baseline that cannot be read, or a protocol that cannot run.
#[derive(Debug, Error)]
pub enum RegressError {
    /// Unreadable or malformed file.
    #[error("{file}: {reason}")]
    File {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// A protocol failed at the CI shapes.
    #[error("{protocol}: {reason}")]
    Run {
        /// The protocol.
        protocol: String,
        /// Why.
        reason: String,
    },
}

/// The label of a phase's total.
pub const ALL: &str = "(all)";

/// Measures every protocol's exact counts at `shape` under each of `providers`; a protocol that
/// fails there, or misses its tolerance against its reference, is an error.
pub fn compute(
    protocols: &[&dyn Protocol],
    shape: ModelShape,
    ring: Ring,
    trunc: TruncMode,
    providers: &[Correlations],
) -> Result<Baseline, RegressError> {
    let mut sections = BTreeMap::new();
    for &correlations in providers {
        let spec =
            CostSpec { fixed: FixedPoint::default_for(ring), trunc, seed: 0, profiles: Vec::new(), correlations };
        let mut section = Section::default();
        for p in protocols {
            let c = match measure(*p, &shape, &spec) {
                Ok(c) => c,
                Err(e) => match e.unsupported_correlation() {
                    Some(why) => {
                        section.refused.insert(p.name().to_owned(), why.to_string());
                        continue;
                    }
                    None => return Err(RegressError::Run { protocol: p.name().into(), reason: e.to_string() }),
                },
            };
            if !c.passed {
                let reason =
                    format!("its output under {} misses its tolerance against the reference", correlations.name());
                return Err(RegressError::Run { protocol: p.name().into(), reason });
            }
            let mut phases: ProtocolCounts = BTreeMap::new();
            for ph in &c.cost.phases {
                let labels = phases.entry(ph.phase.name().to_owned()).or_default();
                labels.insert(ALL.into(), ph.counts.clone());
                for l in &ph.labels {
                    labels.insert(l.label.clone(), l.counts.clone());
                }
            }
            section.protocols.insert(p.name().to_owned(), phases);
        }
        sections.insert(correlations.name().to_owned(), section);
    }
    Ok(Baseline { shape, ring_bits: ring.bits(), trunc, providers: sections })
}

/// One count that changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The correlation provider.
    pub provider: String,
    /// Protocol.
    pub protocol: String,
    /// Phase.
    pub phase: String,
    /// Label.
    pub label: String,
    /// Which count.
    pub field: String,
    /// Baseline value.
    pub before: u64,
    /// Current value.
    pub after: u64,
}

/// The comparison of a current measurement with the baseline.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Diff {
    /// Counts that grew: the gate fails.
    pub increases: Vec<Change>,
    /// Counts that shrank: reported.
    pub decreases: Vec<Change>,
    /// Scopes (protocol, phase or label) present now but not in the baseline.
    pub new: Vec<String>,
    /// Scopes in the baseline that are gone.
    pub gone: Vec<String>,
    /// Whether the baseline was measured at other settings (then nothing is compared).
    pub settings_differ: bool,
}

impl Diff {
    /// True when the gate passes.
    pub fn passed(&self) -> bool {
        self.increases.is_empty() && !self.settings_differ
    }
}

fn fields(c: &Counts) -> [(&'static str, u64); 7] {
    [
        ("bytes_server_to_client", c.bytes_server_to_client),
        ("bytes_client_to_server", c.bytes_client_to_server),
        ("messages_server_to_client", c.messages_server_to_client),
        ("messages_client_to_server", c.messages_client_to_server),
        ("rounds", c.rounds),
        ("dealer_bytes_to_server", c.dealer_bytes_to_server),
        ("dealer_bytes_to_client", c.dealer_bytes_to_client),
    ]
}

/// Compares `now` with `baseline`, provider by provider (only the providers `now` measured).
pub fn compare(baseline: &Baseline, now: &Baseline) -> Diff {
    let mut d = Diff {
        settings_differ: baseline.shape != now.shape
            || baseline.ring_bits != now.ring_bits
            || baseline.trunc != now.trunc,
        ..Diff::default()
    };
    if d.settings_differ {
        return d;
    }
    for (provider, section) in &now.providers {
        match baseline.providers.get(provider) {
            Some(old) => compare_section(provider, old, section, &mut d),
            None => d.new.push(format!("provider {provider}")),
        }
    }
    d
}

fn compare_section(provider: &str, baseline: &Section, now: &Section, d: &mut Diff) {
    for (proto, phases) in &now.protocols {
        let Some(old_phases) = baseline.protocols.get(proto) else {
            d.new.push(format!("{provider}: {proto}"));
            continue;
        };
        for (phase, labels) in phases {
            for (label, counts) in labels {
                let Some(old) = old_phases.get(phase).and_then(|l| l.get(label)) else {
                    d.new.push(format!("{provider}: {proto} {phase} {label}"));
                    continue;
                };
                for ((field, after), (_, before)) in fields(counts).into_iter().zip(fields(old)) {
                    let change = Change {
                        provider: provider.into(),
                        protocol: proto.clone(),
                        phase: phase.clone(),
                        label: label.clone(),
                        field: field.into(),
                        before,
                        after,
                    };
                    if after > before {
                        d.increases.push(change);
                    } else if after < before {
                        d.decreases.push(change);
                    }
                }
            }
        }
        for (phase, labels) in old_phases {
            for label in labels.keys() {
                if phases.get(phase).is_none_or(|l| !l.contains_key(label)) {
                    d.gone.push(format!("{provider}: {proto} {phase} {label}"));
                }
            }
        }
    }
    for proto in baseline.protocols.keys() {
        if !now.protocols.contains_key(proto) {
            d.gone.push(format!("{provider}: {proto}"));
        }
    }
}

/// Reads a baseline file.
pub fn load(path: &std::path::Path) -> Result<Baseline, RegressError> {
    let file = path.display().to_string();
    let text = crate::read_text(path).map_err(|reason| RegressError::File { file: file.clone(), reason })?;
    parse(&text, &file)
}

/// Parses a baseline's text; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<Baseline, RegressError> {
    serde_saphyr::from_str(text)
        .map_err(|e| RegressError::File { file: file.into(), reason: dyad_sim::file::yaml_error(&e, file) })
}

/// The YAML text of a baseline.
pub fn to_yaml(b: &Baseline) -> String {
    format!(
        "# Exact counts of every protocol at the CI shape set; `dyad regress --update` rewrites this file.\n{}",
        serde_saphyr::to_string(b).unwrap_or_default()
    )
}
