//! Silent correlated OT by primal LPN: Ferret (Yang, Weng, Lan, Zhang and Wang, "Ferret: Fast
//! Extension for coRRElated oT with small communication", CCS 2020), semi-honest (§3; the
//! consistency check of §4 is left out, as Dyad's protocols are semi-honest).
//!
//! One iteration turns [`LpnParams::reserved`] COTs into n: with k of them (x, and the sender's
//! q_x, the receiver's t_x = q_x ⊕ x·Δ) and t·h more for t single-point COTs (`spcot`) over
//! blocks of 2^h (the regular noise e, one point per block; the sender's s, the receiver's
//! w = s ⊕ e·Δ), the receiver takes choices A·x ⊕ e and blocks A·t_x ⊕ w, the sender
//! A·q_x ⊕ s, with A Ferret's local linear code (`lpn`). Its first outputs refill a pool, kept
//! for the inputs of later iterations; the rest are handed out. The very first iteration, with
//! the smaller [`BOOTSTRAP`] parameters, takes its inputs from IKNP (`super::iknp`), which
//! shares its Δ. Later iterations use [`MAIN`], or [`BOOTSTRAP`] again when one of those covers
//! what is asked: a small request then costs 0.1 s rather than 2 s, for more bits per COT.
//!
//! Communication per iteration: one message from the sender, t·(2h + 1) blocks
//! (`spcot::message_bytes`): 569 808 bytes for 10 198 341 COTs under [`MAIN`] (0.45 bits
//! each), 385 776 bytes for 602 019 under [`BOOTSTRAP`] (5.1 bits each).

pub(crate) mod ggm;
pub(crate) mod lpn;
pub(crate) mod spcot;

use rand::RngExt as _;
use rand_chacha::ChaCha20Rng;

use super::fixed_key::Tccr;
use super::iknp::{IknpReceiver, IknpSender};
use crate::channel::Channel;
use crate::error::SimError;
use lpn::LocalCode;

/// Parameters of one primal-LPN iteration: n outputs, k LPN inputs, t noise points, one per
/// block of 2^h outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LpnParams {
    /// Outputs, n = t·2^h.
    pub n: usize,
    /// LPN dimension.
    pub k: usize,
    /// Noise weight: single-point COTs per iteration.
    pub t: usize,
    /// log2 of the block each noise point lies in: the depth of each GGM tree.
    pub h: usize,
}

/// Ferret's parameters for 128-bit security under regular-noise primal LPN (CCS 2020, Table 2,
/// as emp-ot's first Ferret implementation, commit 66567cf, states them): the main iteration.
pub const MAIN: LpnParams = LpnParams { n: 10_805_248, k: 589_760, t: 1_319, h: 13 };

/// Ferret's bootstrapping iteration, whose output feeds the first [`MAIN`] iteration.
pub const BOOTSTRAP: LpnParams = LpnParams { n: 649_728, k: 36_288, t: 1_269, h: 9 };

impl LpnParams {
    /// COTs an iteration consumes: k for the LPN input and h per tree.
    pub fn reserved(&self) -> usize {
        self.k + self.t * self.h
    }

    /// COTs an iteration hands out beyond those it keeps for the next.
    pub fn usable(&self) -> usize {
        self.n - self.reserved()
    }

    /// The parameters of the first iteration, whose inputs come from IKNP: [`BOOTSTRAP`] when
    /// these are larger and its output covers their inputs, these otherwise.
    pub fn bootstrap(&self) -> LpnParams {
        if self.n > BOOTSTRAP.n && self.reserved() <= BOOTSTRAP.n { BOOTSTRAP } else { *self }
    }

    /// The public code of the iteration.
    fn code(&self) -> LocalCode {
        LocalCode { k: self.k, n: self.n, seed: 0x6479_6164_5f66_6572_7265_745f_636f_6465 ^ self.n as u128 }
    }
}

/// The silent COT sender: Δ, the pool of COTs kept as inputs of later iterations, and outputs
/// not yet handed out.
#[derive(Debug)]
pub struct SilentSender {
    delta: u128,
    hash: Tccr,
    params: LpnParams,
    pool: Vec<u128>,
    ready: Vec<u128>,
    tweak: u128,
}

/// The silent COT receiver: its side of the same, choices beside blocks.
#[derive(Debug)]
pub struct SilentReceiver {
    hash: Tccr,
    params: LpnParams,
    pool: (Vec<bool>, Vec<u128>),
    ready: (Vec<bool>, Vec<u128>),
    tweak: u128,
}

/// Hash tweaks of the single-point COTs start here, apart from those of the COTs handed out.
const SPCOT_TWEAKS: u128 = 1 << 100;

impl LpnParams {
    /// The parameters of the next iteration when `need` more COTs are wanted: the bootstrapping
    /// ones when their iteration covers the need, as they cost less time and memory for it
    /// (and more bits per COT), these otherwise.
    fn for_need(&self, need: usize) -> LpnParams {
        let boot = self.bootstrap();
        if boot != *self && need <= boot.usable() { boot } else { *self }
    }
}

impl SilentSender {
    /// IKNP's base OTs and extension of the inputs of `params`' first iteration
    /// ([`LpnParams::bootstrap`]), then that iteration, which fills the pool for the next.
    pub fn setup<C: Channel>(ch: &mut C, rng: &mut ChaCha20Rng, params: LpnParams) -> Result<Self, SimError> {
        let mut iknp = IknpSender::setup(ch, rng)?;
        let boot = params.bootstrap();
        let pool = iknp.extend(ch, boot.reserved())?;
        let mut s = SilentSender {
            delta: iknp.delta(),
            hash: Tccr::new(),
            params,
            pool,
            ready: Vec::new(),
            tweak: SPCOT_TWEAKS,
        };
        s.iterate(ch, rng, boot)?;
        Ok(s)
    }

    /// Δ.
    pub fn delta(&self) -> u128 {
        self.delta
    }

    /// One iteration under `p`: its inputs leave the pool, its first outputs refill it to the
    /// inputs of an iteration under `self.params`, and the rest are ready.
    fn iterate<C: Channel>(&mut self, ch: &mut C, rng: &mut ChaCha20Rng, p: LpnParams) -> Result<(), SimError> {
        let inputs = self.pool.split_off(self.pool.len() - p.reserved());
        let (x, trees) = inputs.split_at(p.k);
        let mut out = vec![0u128; p.n];
        spcot::send(ch, rng, &self.hash, self.delta, trees, self.tweak, p.h, &mut out)?;
        self.tweak += trees.len() as u128;
        p.code().encode(x, &mut out, None);
        let refill = self.params.reserved() - self.pool.len();
        self.pool.extend_from_slice(&out[..refill]);
        self.ready.extend_from_slice(&out[refill..]);
        Ok(())
    }

    /// `m` correlated OTs: the sender's q_i, the receiver holding c_i and q_i ⊕ c_i·Δ.
    pub fn extend<C: Channel>(&mut self, ch: &mut C, rng: &mut ChaCha20Rng, m: usize) -> Result<Vec<u128>, SimError> {
        while self.ready.len() < m {
            let p = self.params.for_need(m - self.ready.len());
            self.iterate(ch, rng, p)?;
        }
        let rest = self.ready.split_off(m);
        Ok(std::mem::replace(&mut self.ready, rest))
    }
}

impl SilentReceiver {
    /// The receiver's side of [`SilentSender::setup`], with random choices for IKNP.
    pub fn setup<C: Channel>(ch: &mut C, rng: &mut ChaCha20Rng, params: LpnParams) -> Result<Self, SimError> {
        let mut iknp = IknpReceiver::setup(ch, rng)?;
        let boot = params.bootstrap();
        let choices: Vec<bool> = (0..boot.reserved()).map(|_| rng.random()).collect();
        let blocks = iknp.extend(ch, &choices)?;
        let mut r = SilentReceiver {
            hash: Tccr::new(),
            params,
            pool: (choices, blocks),
            ready: (Vec::new(), Vec::new()),
            tweak: SPCOT_TWEAKS,
        };
        r.iterate(ch, boot)?;
        Ok(r)
    }

    /// The receiver's side of [`SilentSender::iterate`].
    fn iterate<C: Channel>(&mut self, ch: &mut C, p: LpnParams) -> Result<(), SimError> {
        let at = self.pool.1.len() - p.reserved();
        let (choices, blocks) = (self.pool.0.split_off(at), self.pool.1.split_off(at));
        let mut out = vec![0u128; p.n];
        let alphas = spcot::receive(ch, &self.hash, &choices[p.k..], &blocks[p.k..], self.tweak, p.h, &mut out)?;
        self.tweak += (p.t * p.h) as u128;
        let mut bits = vec![false; p.n];
        for (tree, alpha) in alphas.into_iter().enumerate() {
            bits[(tree << p.h) + alpha] = true;
        }
        p.code().encode(&blocks[..p.k], &mut out, Some((&choices[..p.k], &mut bits)));
        let refill = self.params.reserved() - self.pool.1.len();
        self.pool.0.extend_from_slice(&bits[..refill]);
        self.pool.1.extend_from_slice(&out[..refill]);
        self.ready.0.extend_from_slice(&bits[refill..]);
        self.ready.1.extend_from_slice(&out[refill..]);
        Ok(())
    }

    /// `m` correlated OTs: the receiver's random choices c_i and blocks q_i ⊕ c_i·Δ.
    pub fn extend<C: Channel>(&mut self, ch: &mut C, m: usize) -> Result<(Vec<bool>, Vec<u128>), SimError> {
        while self.ready.1.len() < m {
            let p = self.params.for_need(m - self.ready.1.len());
            self.iterate(ch, p)?;
        }
        let rest = (self.ready.0.split_off(m), self.ready.1.split_off(m));
        Ok(std::mem::replace(&mut self.ready, rest))
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::{Phase, SimConfig, simulate};

    #[test]
    fn the_parameters_are_ferrets_and_each_iteration_feeds_the_next() {
        // Ferret, Table 2: (n, k, t) for the main and the bootstrapping iteration.
        assert_eq!((MAIN.n, MAIN.k, MAIN.t), (10_805_248, 589_760, 1_319));
        assert_eq!((BOOTSTRAP.n, BOOTSTRAP.k, BOOTSTRAP.t), (649_728, 36_288, 1_269));
        for p in [MAIN, BOOTSTRAP] {
            assert_eq!(p.n, p.t << p.h, "{p:?}: one noise point per block of 2^h");
            assert!(p.reserved() < p.n / 2, "{p:?}: most of an iteration is handed out");
        }
        assert_eq!(MAIN.bootstrap(), BOOTSTRAP, "the bootstrap covers the inputs of the first main iteration");
        assert_eq!(spcot::message_bytes(MAIN.t, MAIN.h), 569_808);
    }

    /// Runs setup and extends `m`; returns Δ, the sender's blocks, the receiver's choices and
    /// blocks, and the offline bytes the sender sent.
    fn extend(params: LpnParams, m: usize, seed: u64) -> (u128, Vec<u128>, Vec<bool>, Vec<u128>, u64) {
        let out = simulate(
            &SimConfig::with_seed(seed),
            |p| -> Result<_, SimError> {
                let mut rng = ChaCha20Rng::seed_from_u64(seed);
                let mut s = SilentSender::setup(p, &mut rng, params)?;
                p.set_phase(Phase::Offline);
                Ok((s.delta(), s.extend(p, &mut rng, m)?))
            },
            |p| -> Result<_, SimError> {
                let mut rng = ChaCha20Rng::seed_from_u64(seed + 1);
                let mut r = SilentReceiver::setup(p, &mut rng, params)?;
                p.set_phase(Phase::Offline);
                r.extend(p, m)
            },
        )
        .expect("the run");
        let bytes = out.cost.phase_counts(Phase::Offline).bytes_server_to_client;
        let ((delta, q), (c, t)) = (out.server, out.client);
        (delta, q, c, t, bytes)
    }

    #[test]
    fn silent_cots_are_delta_correlated_with_balanced_choices() {
        let small = LpnParams { n: 64 << 6, k: 512, t: 64, h: 6 };
        // Under MAIN, 500 000 COTs take a bootstrapping iteration fed from MAIN's pool.
        for (params, m, seed) in [(small, 10_000, 1), (small, 1, 2), (BOOTSTRAP, 700_000, 3), (MAIN, 500_000, 4)] {
            eprintln!("silent COT: {params:?}, {m} COTs, seed {seed}");
            let (delta, q, c, t, bytes) = extend(params, m, seed);
            assert_eq!((q.len(), c.len(), t.len()), (m, m, m));
            for i in 0..m {
                assert_eq!(q[i] ^ t[i], if c[i] { delta } else { 0 }, "COT {i}");
            }
            let ones = c.iter().filter(|&&b| b).count();
            assert!(m < 100 || (ones as f64 / m as f64 - 0.5).abs() < 0.02, "{ones} of {m} choices are 1");
            let (mut ready, mut expected) = (params.bootstrap().n - params.reserved(), 0);
            while ready < m {
                let p = params.for_need(m - ready);
                (ready, expected) = (ready + p.usable(), expected + spcot::message_bytes(p.t, p.h) as u64);
            }
            assert_eq!(bytes, expected);
        }
    }

    /// Ferret's claim, measured: 10^7 COTs for under a bit each beyond the setup.
    #[test]
    fn ten_million_silent_cots_cost_under_a_bit_each() {
        let m = 10_000_000;
        let (delta, q, c, t, bytes) = extend(MAIN, m, 5);
        assert!((0..m).all(|i| q[i] ^ t[i] == if c[i] { delta } else { 0 }));
        let bits = bytes as f64 * 8.0 / m as f64;
        eprintln!("10^7 silent COTs: {bytes} bytes offline, {bits:.3} bits per COT");
        assert!(bits <= 1.0, "{bits} bits per COT");
    }
}
