//! An emulated network link in user space: one TCP connection relayed with a one-way latency and
//! a bandwidth per direction, for measuring two-party runs where the kernel has no `tc netem`.
//!
//! Each direction is a store-and-forward link, the model of `crate::network`: a chunk that
//! arrives at t starts serialising when the link is free, occupies it for bytes × 8 / bandwidth,
//! and is delivered one latency after it finishes. Chunks are at most [`CHUNK`] bytes, so the
//! store-and-forward adds at most one chunk's serialisation (0.17 ms at 3 Gbit/s, 2.6 ms at
//! 200 Mbit/s) to a long transfer. Sleeps overshoot by tens of microseconds; the relay's own
//! copying is not charged to the link. The emulation is the cost model's own link model, so a
//! measurement through it tests everything else the model assumes (rounds as causal depth,
//! directions that do not overlap, compute measured in one process), not the link.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use dyad_sim::channel::tcp::accept_within;

use crate::network::Profile;

/// The most bytes relayed as one chunk.
pub const CHUNK: usize = 1 << 16;

/// Accepts one connection on `listener` (within `timeout`), connects to `target`, and relays
/// both directions through `profile`'s link until both sides have closed. Returns the bytes
/// relayed each way (from the connecting side first).
pub fn relay(listener: TcpListener, target: &str, profile: &Profile, timeout: Duration) -> io::Result<(u64, u64)> {
    let near = accept_within(&listener, timeout)?;
    let far = connect(target, timeout)?;
    for s in [&near, &far] {
        s.set_nodelay(true)?;
    }
    let (near_in, far_out) = (near.try_clone()?, far.try_clone()?);
    std::thread::scope(|scope| {
        let there = scope.spawn(|| forward(near_in, far_out, profile));
        let back = forward(far, near, profile);
        let there = there.join().map_err(|_| io::Error::other("the relay's forward thread panicked"))?;
        Ok((there?, back?))
    })
}

fn connect(target: &str, timeout: Duration) -> io::Result<TcpStream> {
    let deadline = Instant::now() + timeout;
    loop {
        match TcpStream::connect(target) {
            Ok(s) => return Ok(s),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// One direction: reads from `from`, delivers to `to` on the link's schedule, then closes `to`'s
/// write half. Returns the bytes relayed.
fn forward(mut from: TcpStream, mut to: TcpStream, profile: &Profile) -> io::Result<u64> {
    // In flight at most the bandwidth-delay product and 4 MiB more, like a socket buffer: when
    // it is full the relay stops reading and TCP holds the sender back.
    let in_flight = profile.bandwidth_bits_per_second / 8.0 * profile.latency_seconds;
    let (tx, rx) = std::sync::mpsc::sync_channel::<(Instant, Vec<u8>)>(in_flight as usize / CHUNK + 64);
    let latency = Duration::from_secs_f64(profile.latency_seconds);
    let per_byte = 8.0 / profile.bandwidth_bits_per_second;
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> io::Result<u64> {
            let mut sent = 0;
            for (due, bytes) in rx {
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                to.write_all(&bytes)?;
                sent += bytes.len() as u64;
            }
            to.shutdown(Shutdown::Write)?;
            Ok(sent)
        });
        let mut free_at = Instant::now();
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = from.read(&mut buf)?;
            if n == 0 {
                break;
            }
            let start = free_at.max(Instant::now());
            free_at = start + Duration::from_secs_f64(n as f64 * per_byte);
            if tx.send((free_at + latency, buf[..n].to_vec())).is_err() {
                break;
            }
        }
        drop(tx);
        writer.join().map_err(|_| io::Error::other("the relay's writer thread panicked"))?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_crosses_faster_than_the_latency_and_the_bandwidth_allow() {
        let profile = Profile { name: "test".into(), bandwidth_bits_per_second: 80e6, latency_seconds: 0.05 };
        let echo = TcpListener::bind("127.0.0.1:0").unwrap();
        let echo_addr = echo.local_addr().unwrap().to_string();
        let front = TcpListener::bind("127.0.0.1:0").unwrap();
        let front_addr = front.local_addr().unwrap();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let (mut s, _) = echo.accept().unwrap();
                let mut buf = vec![0u8; 1 << 20];
                s.read_exact(&mut buf[..1]).unwrap();
                s.write_all(&buf[..1]).unwrap();
                s.read_exact(&mut buf).unwrap();
                s.write_all(&[7]).unwrap();
            });
            let relayed = scope.spawn(|| relay(front, &echo_addr, &profile, Duration::from_secs(5)).unwrap());
            let mut c = TcpStream::connect(front_addr).unwrap();
            let t = Instant::now();
            c.write_all(&[1]).unwrap();
            c.read_exact(&mut [0u8; 1]).unwrap();
            let rtt = t.elapsed();
            assert!(rtt >= Duration::from_millis(100) && rtt < Duration::from_secs(5), "{rtt:?}");
            let t = Instant::now();
            c.write_all(&vec![0u8; 1 << 20]).unwrap();
            c.read_exact(&mut [0u8; 1]).unwrap();
            // 1 MiB at 10 MB/s is 105 ms, plus two latencies; no less, whatever the load.
            let transfer = t.elapsed();
            assert!(transfer >= Duration::from_millis(205) && transfer < Duration::from_secs(5), "{transfer:?}");
            drop(c);
            assert_eq!(relayed.join().unwrap(), (1 + (1 << 20), 2));
        });
    }
}
