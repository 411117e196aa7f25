//! Ring conversions on plaintext ring elements: the references of `blocks::cast`.

use dyad_sim::{Ring, RingTensor};

/// The signed value of each element of `x`, divided by 2^t with floor, in the ring `to`.
pub fn truncate_into(x: &RingTensor, t: u32, to: Ring) -> RingTensor {
    let from = x.ring();
    RingTensor::new(to, x.data().mapv(|v| to.from_signed(from.signed(v) >> t)))
}

/// The signed value of each element of `x`, times 2^s, in the ring `to`.
pub fn scale_into(x: &RingTensor, s: u32, to: Ring) -> RingTensor {
    let from = x.ring();
    RingTensor::new(to, x.data().mapv(|v| to.from_signed(from.signed(v).wrapping_shl(s))))
}

/// What a local truncate-and-down-cast leaves when `x` is shared with `server` as the server's
/// share: ⌊v/2^t⌋ − c in `to` for each signed value v, where c = 1 exactly when the low t bits
/// of the two shares carry (x₀ mod 2^t + x₁ mod 2^t ≥ 2^t).
pub fn truncate_shared_into(x: &RingTensor, server: &RingTensor, t: u32, to: Ring) -> RingTensor {
    let from = x.ring();
    let low = |v: u64| v & ((1u64 << t) - 1);
    let mut out = x.data().clone();
    out.zip_mut_with(server.data(), |v, &x0| {
        let x1 = from.sub(*v, x0);
        let carry = i64::from(low(x0) + low(x1) >= 1 << t);
        *v = to.from_signed((from.signed(*v) >> t) - carry);
    });
    RingTensor::new(to, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dyad_sim::testkit::config;
    use ndarray::{ArrayD, IxDyn};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(config(0xCA57_0001, 512))]

        /// The carry formula against the sum of the shares' own shifts; floor or one less for
        /// values that fit the small ring after the shift.
        #[test]
        fn shared_truncation_is_the_sum_of_shifted_shares(v in -(1i64 << 40)..(1i64 << 40), x0 in any::<u64>(), t in 0u32..20) {
            let (from, to) = (Ring::Z64, Ring::Z32);
            let x = RingTensor::new(from, ArrayD::from_elem(IxDyn(&[1]), from.from_signed(v)));
            let server = RingTensor::new(from, ArrayD::from_elem(IxDyn(&[1]), x0));
            let x1 = from.sub(from.from_signed(v), x0);
            let local = to.reduce((x0 >> t).wrapping_add(x1 >> t));
            let got = truncate_shared_into(&x, &server, t, to).data()[[0]];
            prop_assert_eq!(got, local);
            prop_assume!((v >> t).unsigned_abs() < 1 << 30);
            let floor = to.signed(truncate_into(&x, t, to).data()[[0]]);
            prop_assert!(matches!(floor - to.signed(got), 0 | 1), "⌊v/2^t⌋ = {floor}, got {}", to.signed(got));
        }
    }
}
