//! The baselines Nimbus compares against: BumbleBee (Lu et al., NDSS 2025; SecretFlow SPU's
//! cheetah backend) and its predecessor Cheetah (Huang et al., USENIX Security 2022).

pub mod linear;
