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
