//! The registry: every protocol by its stable name, built once and passed down. The command
//! line builds one (the built-in protocols of [`builtin`](crate::builtin), a user's own, those
//! of coefficient files) and hands it to every command; the blocks, layers and suites resolve
//! the protocols they name in it, so a suite can name any registered protocol.

use std::sync::Arc;

use dyad_protocols::blocks::activation::{AttentionFunction, PiecewiseActivation};
use dyad_protocols::error::HarnessError;
use dyad_protocols::nimbus;
use dyad_protocols::protocol::{Protocol, SmallRingSpec};
use dyad_reference::approx::{CoefficientSet, Target};

/// One registered protocol; an attention function keeps its attention-slot view.
#[derive(Clone)]
enum Entry {
    Protocol(Arc<dyn Protocol>),
    Attention(Arc<dyn AttentionFunction>),
}

impl Entry {
    fn protocol(&self) -> &dyn Protocol {
        match self {
            Entry::Protocol(p) => p.as_ref(),
            Entry::Attention(f) => f.as_ref(),
        }
    }
}

/// What every command looks protocols up in: the built-in protocols, then any a user adds (a
/// protocol of their own, or those of a coefficient file, see [`Registry::add_coefficients`]).
#[derive(Clone, Default)]
pub struct Registry {
    entries: Vec<Entry>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.entries.iter().map(|e| e.protocol().name())).finish()
    }
}

impl Registry {
    fn push(&mut self, entry: Entry) -> Result<(), HarnessError> {
        let name = entry.protocol().name();
        if self.entries.iter().any(|e| e.protocol().name() == name) {
            return Err(HarnessError::Duplicate { name: name.into() });
        }
        self.entries.push(entry);
        Ok(())
    }

    /// Registers `p`; an error if its name is taken.
    pub fn add(&mut self, p: Box<dyn Protocol>) -> Result<(), HarnessError> {
        self.push(Entry::Protocol(Arc::from(p)))
    }

    /// Registers an attention function, which can then fill a suite's or a block's attention slot;
    /// an error if its name is taken.
    pub fn add_attention(&mut self, f: Box<dyn AttentionFunction>) -> Result<(), HarnessError> {
        self.push(Entry::Attention(Arc::from(f)))
    }

    /// Adds `extra` after the protocols already registered; an error if a name is taken.
    pub fn with(mut self, extra: impl IntoIterator<Item = Box<dyn Protocol>>) -> Result<Self, HarnessError> {
        for p in extra {
            self.add(p)?;
        }
        Ok(self)
    }

    /// Registers the protocols of a coefficient file, named after its set, and returns their
    /// names: for a GELU set, `coeffs.NAME` (the piecewise GELU); for an exp set, `coeffs.NAME`
    /// (the exp on x − max) and `coeffs.NAME.softmax` (Softmax with that exp and one reciprocal
    /// per row, as Nimbus, registered as an attention function). Any set can so be audited, run,
    /// costed and put in a suite against any other without a rebuild. The names are leaked, once
    /// per set loaded, because protocol names are `&'static` (a process loads a handful of files).
    pub fn add_coefficients(&mut self, set: CoefficientSet) -> Result<Vec<&'static str>, HarnessError> {
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        let base = leak(format!("coeffs.{}", set.name.to_ascii_lowercase().replace(['-', ' '], "_")));
        const PAPER: &str = "a coefficient file (dyad fit, or written by hand)";
        match set.function {
            Target::Gelu => {
                self.add(Box::new(PiecewiseActivation::new(
                    base,
                    PAPER,
                    "GELU as the file's piecewise polynomial",
                    set,
                )?))?;
                Ok(vec![base])
            }
            Target::Exp => {
                let name = leak(format!("{base}.softmax"));
                let computes = "Softmax: x − max, the file's exp, one Goldschmidt reciprocal per row";
                let softmax = nimbus::softmax_with(name, PAPER, computes, &set)?;
                let computes = "exp(x) for x ≤ 0 as the file's piecewise polynomial";
                self.add(Box::new(PiecewiseActivation::new(base, PAPER, computes, set)?))?;
                self.add_attention(Box::new(softmax))?;
                Ok(vec![base, name])
            }
        }
    }

    /// Every protocol, in listing order.
    pub fn all(&self) -> Vec<&dyn Protocol> {
        self.entries.iter().map(Entry::protocol).collect()
    }

    fn entry(&self, name: &str) -> Result<&Entry, HarnessError> {
        self.entries
            .iter()
            .find(|e| e.protocol().name() == name)
            .ok_or_else(|| HarnessError::Unknown { name: name.into() })
    }

    /// The protocol named `name`.
    pub fn find(&self, name: &str) -> Result<&dyn Protocol, HarnessError> {
        self.entry(name).map(Entry::protocol)
    }

    /// A shared handle on the protocol named `name`, for a block or an encoder to keep.
    pub fn get(&self, name: &str) -> Result<Arc<dyn Protocol>, HarnessError> {
        Ok(match self.entry(name)? {
            Entry::Protocol(p) => Arc::clone(p),
            Entry::Attention(f) => Arc::clone(f) as Arc<dyn Protocol>,
        })
    }

    /// The attention function named `name`; an error if no protocol has that name or it cannot
    /// fill an attention slot.
    pub fn attention(&self, name: &str) -> Result<Arc<dyn AttentionFunction>, HarnessError> {
        match self.entry(name)? {
            Entry::Attention(f) => Ok(Arc::clone(f)),
            Entry::Protocol(_) => Err(HarnessError::Kind { name: name.into(), expected: "an attention function" }),
        }
    }

    /// Makes the mixed-ring protocol `name` compute in the small ring `ring` from now on; an error
    /// if no protocol has that name or it has no small ring. Whether `ring` suits it is checked
    /// when it first computes its format (`dyad` does so before any work).
    pub fn set_small_ring(&mut self, name: &str, ring: SmallRingSpec) -> Result<(), HarnessError> {
        let index = self
            .entries
            .iter()
            .position(|e| e.protocol().name() == name)
            .ok_or_else(|| HarnessError::Unknown { name: name.into() })?;
        let configured = match &self.entries[index] {
            Entry::Protocol(p) => p.with_small_ring(ring).map(|p| Entry::Protocol(Arc::from(p))),
            Entry::Attention(f) => f.attention_with_small_ring(ring).map(|f| Entry::Attention(Arc::from(f))),
        };
        self.entries[index] = configured
            .ok_or_else(|| HarnessError::Kind { name: name.into(), expected: "a protocol with a small ring" })?;
        Ok(())
    }

    /// The protocols named in `names`, in that order.
    pub fn select(&self, names: &[String]) -> Result<Vec<&dyn Protocol>, HarnessError> {
        names.iter().map(|n| self.find(n)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dyad_protocols::blocks::arith::Mul;
    use dyad_protocols::protocol::Activation;

    fn builtin() -> Registry {
        Registry::builtin().unwrap()
    }

    #[test]
    fn every_builtin_protocol_builds() {
        assert_eq!(builtin().all().len(), 60);
    }

    #[test]
    fn a_registry_takes_user_protocols_and_coefficient_files_but_refuses_a_taken_name() {
        let exp = CoefficientSet::builtin("nimbus-exp-example").unwrap();
        let mut registry = builtin();
        let names = registry.add_coefficients(exp).unwrap();
        assert_eq!(names, ["coeffs.nimbus_exp_example", "coeffs.nimbus_exp_example.softmax"]);
        assert_eq!(registry.all().len(), builtin().all().len() + 2);
        assert_eq!(registry.find("coeffs.nimbus_exp_example.softmax").unwrap().activation(), Some(Activation::Softmax));
        assert!(registry.attention("coeffs.nimbus_exp_example.softmax").is_ok());
        let taken = builtin().with(vec![Box::new(Mul) as Box<dyn Protocol>]).err().unwrap();
        assert!(matches!(taken, HarnessError::Duplicate { ref name } if name == "mul"), "{taken}");
        assert!(matches!(registry.select(&["mul".into(), "nope".into()]), Err(HarnessError::Unknown { .. })));
        assert!(matches!(registry.attention("mul"), Err(HarnessError::Kind { .. })));
    }

    #[test]
    fn a_small_ring_set_by_name_replaces_the_entry_and_keeps_its_kind() {
        let fx = dyad_sim::FixedPoint::default_for(dyad_sim::Ring::Z64);
        let mut registry = builtin();
        let nine = SmallRingSpec { bits: 32, frac: Some(9) };
        registry.set_small_ring("nimbus.softmax_small", nine).unwrap();
        registry.set_small_ring("nimbus.gelu_small", nine).unwrap();
        let frac = |p: &dyn Protocol| p.small_ring(fx).map(|s| (s.ring().bits(), s.frac()));
        assert_eq!(frac(registry.attention("nimbus.softmax_small").unwrap().as_ref()), Some((32, 9)));
        assert_eq!(frac(registry.find("nimbus.gelu_small").unwrap()), Some((32, 9)));
        assert_eq!(frac(builtin().find("nimbus.gelu_small").unwrap()), Some((32, 11)), "derived when unset");
        assert_eq!(registry.all().len(), builtin().all().len());
        assert!(matches!(registry.set_small_ring("nimbus.gelu", nine), Err(HarnessError::Kind { .. })));
        assert!(matches!(registry.set_small_ring("nope", nine), Err(HarnessError::Unknown { .. })));
    }

    #[test]
    fn every_softmax_like_protocol_is_an_attention_function() {
        let registry = builtin();
        for p in registry.all() {
            if p.activation() == Some(Activation::Softmax) {
                assert!(registry.attention(p.name()).is_ok(), "{}", p.name());
            }
        }
    }

    #[test]
    fn names_are_unique_and_stable_shaped() {
        let registry = builtin();
        let names: Vec<&str> = registry.all().iter().map(|p| p.name()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "duplicate names in {names:?}");
        for n in names {
            assert!(n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_'), "{n}");
        }
    }
}
