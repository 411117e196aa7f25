//! Tensors over a ring, on ndarray.

use ndarray::{ArrayD, IxDyn};
use rand::Rng;

use crate::error::{ChannelError, TensorError};
use crate::ring::Ring;
use crate::wire;

/// A tensor of ring elements. Every element is reduced into the ring.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RingTensor {
    ring: Ring,
    data: ArrayD<u64>,
}

impl RingTensor {
    /// Wraps `data`, reducing every element into `ring`.
    pub fn new(ring: Ring, mut data: ArrayD<u64>) -> Self {
        data.mapv_inplace(|v| ring.reduce(v));
        RingTensor { ring, data }
    }

    /// Wraps data already known to be reduced.
    pub(crate) fn from_reduced(ring: Ring, data: ArrayD<u64>) -> Self {
        debug_assert!(data.iter().all(|&v| v <= ring.mask()));
        RingTensor { ring, data }
    }

    /// A tensor from a flat vector and a shape.
    pub fn from_vec(ring: Ring, shape: &[usize], values: Vec<u64>) -> Result<Self, TensorError> {
        let n = values.len();
        let data = ArrayD::from_shape_vec(IxDyn(shape), values).map_err(|_| TensorError::Shape {
            op: "from_vec",
            left: shape.to_vec(),
            right: vec![n],
        })?;
        Ok(Self::new(ring, data))
    }

    /// All zeros.
    pub fn zeros(ring: Ring, shape: &[usize]) -> Self {
        RingTensor { ring, data: ArrayD::zeros(IxDyn(shape)) }
    }

    /// Every element equal to `value`.
    pub fn filled(ring: Ring, shape: &[usize], value: u64) -> Self {
        RingTensor { ring, data: ArrayD::from_elem(IxDyn(shape), ring.reduce(value)) }
    }

    /// Uniformly random elements.
    pub fn random<R: Rng + ?Sized>(ring: Ring, shape: &[usize], rng: &mut R) -> Self {
        let n = shape.iter().product();
        let values = ring.random_vec(n, rng);
        RingTensor {
            ring,
            data: ArrayD::from_shape_vec(IxDyn(shape), values).unwrap_or_else(|_| ArrayD::zeros(IxDyn(shape))),
        }
    }

    /// The ring.
    pub fn ring(&self) -> Ring {
        self.ring
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        self.data.shape()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The elements.
    pub fn data(&self) -> &ArrayD<u64> {
        &self.data
    }

    /// The elements, by value.
    pub fn into_data(self) -> ArrayD<u64> {
        self.data
    }

    /// The elements in logical (row-major) order.
    pub fn to_vec(&self) -> Vec<u64> {
        match self.data.as_slice() {
            Some(s) => s.to_vec(),
            None => self.data.iter().copied().collect(),
        }
    }

    /// The same elements under a new shape with the same number of elements.
    pub fn reshape(&self, shape: &[usize]) -> Result<Self, TensorError> {
        Self::from_vec(self.ring, shape, self.to_vec()).map_err(|_| TensorError::Shape {
            op: "reshape",
            left: self.shape().to_vec(),
            right: shape.to_vec(),
        })
    }

    /// Applies `f` to each element and reduces the result.
    pub fn map(&self, f: impl Fn(u64) -> u64) -> Self {
        let ring = self.ring;
        RingTensor { ring, data: self.data.mapv(|v| ring.reduce(f(v))) }
    }

    /// The same values reinterpreted in another ring (bits above the new width are dropped).
    pub fn cast(&self, ring: Ring) -> Self {
        RingTensor { ring, data: self.data.mapv(|v| ring.reduce(v)) }
    }

    fn check(&self, other: &Self, op: &'static str) -> Result<(), TensorError> {
        if self.ring != other.ring {
            return Err(TensorError::Ring { op, left: self.ring, right: other.ring });
        }
        if self.shape() != other.shape() {
            return Err(TensorError::Shape { op, left: self.shape().to_vec(), right: other.shape().to_vec() });
        }
        Ok(())
    }

    /// Combines two tensors of the same ring and shape element by element.
    pub fn zip_map(&self, other: &Self, op: &'static str, f: impl Fn(u64, u64) -> u64) -> Result<Self, TensorError> {
        self.check(other, op)?;
        let ring = self.ring;
        let mut data = self.data.clone();
        data.zip_mut_with(&other.data, |a, &b| *a = ring.reduce(f(*a, b)));
        Ok(RingTensor { ring, data })
    }

    /// Element-wise sum.
    pub fn add(&self, other: &Self) -> Result<Self, TensorError> {
        let r = self.ring;
        self.zip_map(other, "add", |a, b| r.add(a, b))
    }

    /// Element-wise difference.
    pub fn sub(&self, other: &Self) -> Result<Self, TensorError> {
        let r = self.ring;
        self.zip_map(other, "sub", |a, b| r.sub(a, b))
    }

    /// Element-wise product.
    pub fn mul(&self, other: &Self) -> Result<Self, TensorError> {
        let r = self.ring;
        self.zip_map(other, "mul", |a, b| r.mul(a, b))
    }

    /// Element-wise negation.
    pub fn neg(&self) -> Self {
        let r = self.ring;
        self.map(|a| r.neg(a))
    }

    /// Every element times the ring element `c`.
    pub fn scale(&self, c: u64) -> Self {
        let r = self.ring;
        self.map(|a| r.mul(a, c))
    }

    /// Every element plus the ring element `c`.
    pub fn offset(&self, c: u64) -> Self {
        let r = self.ring;
        self.map(|a| r.add(a, c))
    }

    /// The matrix product of `[m, k]` by `[k, n]`, or a batch of them (`[b, m, k]` by `[b, k, n]`).
    pub fn matmul(&self, other: &Self) -> Result<Self, TensorError> {
        let shape_err =
            || TensorError::Shape { op: "matmul", left: self.shape().to_vec(), right: other.shape().to_vec() };
        if self.ring != other.ring {
            return Err(TensorError::Ring { op: "matmul", left: self.ring, right: other.ring });
        }
        let (batch, m, k, n) = match (self.shape(), other.shape()) {
            ([m, k], [k2, n]) if k == k2 => (1, *m, *k, *n),
            ([b, m, k], [b2, k2, n]) if b == b2 && k == k2 => (*b, *m, *k, *n),
            _ => return Err(shape_err()),
        };
        let a = self.to_vec();
        let bm = other.to_vec();
        let mut out = vec![0u64; batch * m * n];
        for ((oc, ac), bc) in out.chunks_mut(m * n.max(1)).zip(a.chunks(m * k.max(1))).zip(bm.chunks(k * n.max(1))) {
            matmul_wrapping(ac, bc, oc, k, n);
        }
        let shape: Vec<usize> = if self.shape().len() == 2 { vec![m, n] } else { vec![batch, m, n] };
        Self::from_vec(self.ring, &shape, out)
    }

    /// The transpose of the last two axes.
    pub fn transpose_last(&self) -> Result<Self, TensorError> {
        let nd = self.data.ndim();
        if nd < 2 {
            return Err(TensorError::Shape { op: "transpose", left: self.shape().to_vec(), right: vec![] });
        }
        let mut v = self.data.view();
        v.swap_axes(nd - 2, nd - 1);
        Ok(RingTensor { ring: self.ring, data: v.as_standard_layout().into_owned() })
    }

    /// The wire encoding: ℓ bits per element, packed.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self.data.as_slice() {
            Some(s) => wire::pack(s, self.ring.bits()),
            None => wire::pack(&self.to_vec(), self.ring.bits()),
        }
    }

    /// Decodes a tensor of `shape` from its wire encoding; the length must be exact.
    pub fn from_bytes(ring: Ring, shape: &[usize], bytes: &[u8]) -> Result<Self, ChannelError> {
        let n: usize = shape.iter().product();
        let values = wire::unpack(bytes, n, ring.bits())?;
        let data = ArrayD::from_shape_vec(IxDyn(shape), values)
            .map_err(|_| ChannelError::Malformed { expected: wire::packed_len(n, ring.bits()), got: bytes.len() })?;
        Ok(RingTensor::from_reduced(ring, data))
    }
}

/// c += a·b for row-major a: [m, k], b: [k, n], c: [m, n], wrapping in u64 (reduce afterwards).
fn matmul_wrapping(a: &[u64], b: &[u64], c: &mut [u64], k: usize, n: usize) {
    if k == 0 || n == 0 {
        return;
    }
    for (crow, arow) in c.chunks_mut(n).zip(a.chunks(k)) {
        for (&aik, brow) in arow.iter().zip(b.chunks(n)) {
            for (cij, &bkj) in crow.iter_mut().zip(brow) {
                *cij = cij.wrapping_add(aik.wrapping_mul(bkj));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matmul_matches_a_hand_computed_product_and_wraps() {
        let r = Ring::Z32;
        let a = RingTensor::from_vec(r, &[2, 3], vec![1, 2, 3, 4, 5, r.from_signed(-1)]).unwrap();
        let b = RingTensor::from_vec(r, &[3, 2], vec![1, 0, 0, 1, 1 << 31, 2]).unwrap();
        let c = a.matmul(&b).unwrap();
        // Row 0: [1 + 3·2^31, 2 + 6] = [1 + 2^31 (mod 2^32), 8]; row 1: [4 − 2^31, 5 − 2].
        assert_eq!(c.to_vec(), vec![1 + (1 << 31), 8, r.sub(4, 1 << 31), 3]);
        assert_eq!(c.shape(), &[2, 2]);
        assert!(a.matmul(&a).is_err());
    }

    #[test]
    fn mismatched_operands_are_errors() {
        let a = RingTensor::zeros(Ring::Z32, &[2]);
        let b = RingTensor::zeros(Ring::Z64, &[2]);
        let c = RingTensor::zeros(Ring::Z32, &[3]);
        assert!(matches!(a.add(&b), Err(TensorError::Ring { .. })));
        assert!(matches!(a.add(&c), Err(TensorError::Shape { .. })));
    }

    #[test]
    fn wire_bytes_round_trip_at_ring_width() {
        let t = RingTensor::from_vec(Ring::Z32, &[3], vec![1, 2, u32::MAX as u64]).unwrap();
        let bytes = t.to_bytes();
        assert_eq!(bytes.len(), 12);
        assert_eq!(RingTensor::from_bytes(Ring::Z32, &[3], &bytes).unwrap(), t);
        assert!(RingTensor::from_bytes(Ring::Z32, &[4], &bytes).is_err());
    }

    #[test]
    fn transpose_swaps_the_last_axes() {
        let t = RingTensor::from_vec(Ring::Z64, &[2, 3], (0..6).collect()).unwrap();
        assert_eq!(t.transpose_last().unwrap().to_vec(), vec![0, 3, 1, 4, 2, 5]);
    }
}
