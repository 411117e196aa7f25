//! Nimbus (Li, Hong, Chen, Xu, Wang, NeurIPS 2024, arXiv 2411.15707; code: secretflow/spu,
//! branch `nimbus`): client-side outer-product linear layers and distribution-aware low-degree
//! non-linear layers.

pub mod linear;
