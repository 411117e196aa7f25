//! Bit frequencies of views, and the two-proportion test that compares two settings.

use serde::Serialize;

/// How often each bit of a view was set, over the runs of one setting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BitCounts {
    runs: u32,
    /// Message sizes of the first run.
    sizes: Vec<usize>,
    /// Whether a later run's sizes differed from the first's.
    sizes_vary: bool,
    /// Per bit of the concatenated view (byte-major, least significant bit first): runs with it set.
    ones: Vec<u32>,
}

impl BitCounts {
    /// Adds one run's view.
    pub fn add(&mut self, view: &[Vec<u8>]) {
        let sizes: Vec<usize> = view.iter().map(Vec::len).collect();
        if self.runs == 0 {
            self.ones = vec![0; sizes.iter().sum::<usize>() * 8];
            self.sizes = sizes;
        } else if sizes != self.sizes {
            self.sizes_vary = true;
        }
        self.runs += 1;
        if self.sizes_vary {
            return;
        }
        for (byte, ones) in view.iter().flatten().zip(self.ones.chunks_exact_mut(8)) {
            for (bit, one) in ones.iter_mut().enumerate() {
                *one += u32::from((byte >> bit) & 1);
            }
        }
    }
}

/// The bit of a view where the two settings differ most.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Position {
    /// The message, counted from 0 in the order received.
    pub message: usize,
    /// The byte within it.
    pub byte: usize,
    /// The bit within the byte, 0 the least significant.
    pub bit: usize,
    /// The bit's frequency under the low setting.
    pub low: f64,
    /// Its frequency under the high setting.
    pub high: f64,
}

/// Two settings' views compared.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// The view's message sizes differ between the settings (or vary between runs).
    pub sizes_differ: bool,
    /// Positions tested: those whose bit changed in some run.
    pub positions: usize,
    /// The smallest p-value of any position.
    pub min_p: f64,
    /// That p-value times the positions tested (Bonferroni), at most 1.
    pub adjusted_p: f64,
    /// The position of the smallest p-value.
    pub worst: Option<Position>,
}

impl Comparison {
    /// Compares `low` with `high` position by position.
    pub fn of(low: &BitCounts, high: &BitCounts) -> Self {
        if low.sizes_vary || high.sizes_vary || low.sizes != high.sizes {
            return Comparison { sizes_differ: true, positions: 0, min_p: 0.0, adjusted_p: 0.0, worst: None };
        }
        let (n0, n1) = (f64::from(low.runs), f64::from(high.runs));
        let mut positions = 0;
        let mut best: Option<(f64, usize)> = None;
        for (i, (&a, &b)) in low.ones.iter().zip(&high.ones).enumerate() {
            let pooled = f64::from(a + b) / (n0 + n1);
            if a + b == 0 || pooled == 1.0 {
                continue;
            }
            positions += 1;
            let p = two_proportion_p(f64::from(a) / n0, f64::from(b) / n1, pooled, n0, n1);
            if best.is_none_or(|(q, _)| p < q) {
                best = Some((p, i));
            }
        }
        let Some((min_p, at)) = best else {
            return Comparison { sizes_differ: false, positions, min_p: 1.0, adjusted_p: 1.0, worst: None };
        };
        let (mut message, mut byte) = (0, at / 8);
        while message < low.sizes.len() && byte >= low.sizes[message] {
            byte -= low.sizes[message];
            message += 1;
        }
        let worst = Position {
            message,
            byte,
            bit: at % 8,
            low: f64::from(low.ones[at]) / n0,
            high: f64::from(high.ones[at]) / n1,
        };
        Comparison {
            sizes_differ: false,
            positions,
            min_p,
            adjusted_p: (min_p * positions as f64).min(1.0),
            worst: Some(worst),
        }
    }

    /// Whether the settings differ at family-wise level `alpha`.
    pub fn leaks(&self, alpha: f64) -> bool {
        self.sizes_differ || self.adjusted_p < alpha
    }

    /// The smallest difference in a bit's frequency between the settings that this comparison
    /// finds with probability 0.9 at level `alpha`, with `runs` runs per setting (for a bit set
    /// about half the time): (z + 1.28)/√(2·runs), z the two-sided critical value for α/M.
    pub fn detectable(&self, alpha: f64, runs: usize) -> f64 {
        let z = critical_z(alpha / self.positions.max(1) as f64);
        ((z + 1.2816) / (2.0 * runs as f64).sqrt()).min(1.0)
    }
}

/// The z with two-sided normal tail `p`: erfc(z/√2) = p, by bisection.
pub(crate) fn critical_z(p: f64) -> f64 {
    let (mut lo, mut hi) = (0.0_f64, 40.0_f64);
    for _ in 0..100 {
        let mid = f64::midpoint(lo, hi);
        if libm::erfc(mid / std::f64::consts::SQRT_2) > p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// The two-sided p-value of frequencies `p0` over `n0` runs and `p1` over `n1` being equal,
/// `pooled` their common estimate: the χ² test of the 2×2 table (one degree of freedom) in its
/// normal form.
fn two_proportion_p(p0: f64, p1: f64, pooled: f64, n0: f64, n1: f64) -> f64 {
    let se = (pooled * (1.0 - pooled) * (1.0 / n0 + 1.0 / n1)).sqrt();
    libm::erfc((p0 - p1).abs() / se / std::f64::consts::SQRT_2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(views: &[Vec<Vec<u8>>]) -> BitCounts {
        let mut c = BitCounts::default();
        views.iter().for_each(|v| c.add(v));
        c
    }

    #[test]
    fn the_detectable_difference_follows_the_critical_value() {
        assert!((critical_z(0.05) - 1.959_96).abs() < 1e-4);
        assert!((critical_z(1e-9) - 6.109).abs() < 1e-3);
        let c = Comparison { sizes_differ: false, positions: 100_000, min_p: 1.0, adjusted_p: 1.0, worst: None };
        // z = 6.109 for 1e-4 / 1e5; (6.109 + 1.282)/√200 = 0.523.
        assert!((c.detectable(1e-4, 100) - 0.5226).abs() < 1e-3, "{}", c.detectable(1e-4, 100));
        assert!((c.detectable(1e-4, 400) - 0.2613).abs() < 1e-3);
    }

    #[test]
    fn the_p_value_is_the_normal_tail_of_the_difference() {
        // 60/100 against 40/100: pooled 0.5, se = √(0.25·0.02) = 0.0707, z = 2.828.
        let p = two_proportion_p(0.6, 0.4, 0.5, 100.0, 100.0);
        assert!((p - 0.004_678).abs() < 1e-5, "{p}");
        assert!((two_proportion_p(0.5, 0.5, 0.5, 100.0, 100.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_bit_that_follows_the_setting_is_found_where_it_is_and_constant_bits_are_not_tested() {
        // Two messages; bit 3 of byte 1 of the second is 0 under the low setting, 1 under the
        // high one; every other bit alternates with the run (uninformative) or is constant.
        let view = |run: usize, high: bool| {
            let noise = if run.is_multiple_of(2) { 0x01 } else { 0x00 };
            vec![vec![noise, 0xFF], vec![0x00, if high { 0x08 } else { 0x00 }]]
        };
        let low = counts(&(0..50).map(|r| view(r, false)).collect::<Vec<_>>());
        let high = counts(&(0..50).map(|r| view(r, true)).collect::<Vec<_>>());
        let c = Comparison::of(&low, &high);
        assert_eq!(c.positions, 2, "the noise bit and the informative bit");
        let worst = c.worst.clone().unwrap();
        assert_eq!((worst.message, worst.byte, worst.bit, worst.low, worst.high), (1, 1, 3, 0.0, 1.0));
        assert!(c.leaks(1e-4), "{c:?}");

        let same = Comparison::of(&low, &low);
        assert!(!same.leaks(1e-4) && (same.adjusted_p - 1.0).abs() < 1e-12, "{same:?}");

        let longer = counts(&[vec![vec![0, 0, 0], vec![0, 0]]]);
        assert!(Comparison::of(&low, &longer).sizes_differ);
    }
}
