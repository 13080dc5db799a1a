//! Endpoint selection among the healthy endpoints, avoiding those a
//! request already tried:
//!
//! - **power of two choices** (`p2c`, the default): two endpoints drawn at
//!   random by weight, the one with fewer outstanding requests per unit of
//!   weight wins; with two endpoints that is always the less loaded one;
//! - **round robin** (`round_robin`): a weighted schedule, interleaved the
//!   way NGINX's smooth weighted round robin does it, walked by one atomic
//!   cursor (with equal weights, plain turns).
//!
//! Backup endpoints (NGINX's `backup`) are not in either draw: they are
//! chosen, least loaded first, only when no other endpoint is usable for
//! the request (all unhealthy or ejected, or already tried by it).
//!
//! Everything per request is atomics: no lock, no allocation. The set and
//! its schedule are rebuilt only when the addresses change.

use std::cell::Cell;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::config::Balance;

use super::endpoint::Endpoint;

/// An upstream's endpoints with what weighted choice needs, built once per
/// list of addresses.
#[derive(Debug, Default)]
pub(super) struct EndpointSet {
    /// The endpoints: the primary ones, then the backups.
    pub(super) list: Vec<Arc<Endpoint>>,
    /// How many of `list` are primary (the rest are backups).
    primary: usize,
    /// Running sums of the weights (weighted draws); empty with equal weights.
    cumulative: Vec<u64>,
    /// Weighted round-robin order (indices into `list`); empty with equal weights.
    schedule: Vec<u32>,
}

impl EndpointSet {
    pub(super) fn new(list: Vec<Arc<Endpoint>>) -> Self {
        let (mut list, backups): (Vec<_>, Vec<_>) = list.into_iter().partition(|e| !e.backup);
        let primary = list.len();
        list.extend(backups);
        let weights: Vec<u32> = list[..primary].iter().map(|e| e.weight).collect();
        let equal = weights.windows(2).all(|w| w[0] == w[1]);
        let (cumulative, schedule) = if equal {
            (Vec::new(), Vec::new())
        } else {
            let mut sum = 0u64;
            let cumulative = weights
                .iter()
                .map(|w| {
                    sum += u64::from(*w);
                    sum
                })
                .collect();
            (cumulative, weighted_schedule(&weights))
        };
        EndpointSet {
            list,
            primary,
            cumulative,
            schedule,
        }
    }

    /// An index drawn at random among the primary endpoints, by weight.
    fn draw(&self) -> usize {
        match self.cumulative.last() {
            None => random_below(self.primary as u64) as usize,
            Some(&total) => {
                let x = random_below(total);
                self.cumulative.partition_point(|&c| c <= x)
            }
        }
    }
}

/// The order in which smooth weighted round robin visits endpoints of
/// `weights` over one cycle (weights reduced by their common divisor):
/// `[5, 1, 1]` gives `a a b a c a a`, never a long run of one endpoint.
pub(crate) fn weighted_schedule(weights: &[u32]) -> Vec<u32> {
    let divisor = weights
        .iter()
        .copied()
        .filter(|w| *w > 0)
        .fold(0, gcd)
        .max(1);
    let weights: Vec<i64> = weights.iter().map(|w| i64::from(w / divisor)).collect();
    let total: i64 = weights.iter().sum();
    let mut current = vec![0i64; weights.len()];
    let mut schedule = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    for _ in 0..total {
        for (c, w) in current.iter_mut().zip(&weights) {
            *c += w;
        }
        let Some((best, _)) = current
            .iter()
            .enumerate()
            .filter(|(i, _)| weights[*i] > 0)
            .max_by_key(|(i, c)| (**c, std::cmp::Reverse(*i)))
        else {
            break;
        };
        current[best] -= total;
        schedule.push(u32::try_from(best).unwrap_or(0));
    }
    schedule
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// A number below `n` (`n` > 0) from a per-thread xorshift generator:
/// enough to spread choices, and no shared state between threads.
fn random_below(n: u64) -> u64 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            // Distinct per thread: the address of a thread-local, and the time.
            let local = 0u8;
            let seed = std::ptr::from_ref(&local) as u64
                ^ u64::from(std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.subsec_nanos()));
            seed | 1
        });
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        // Multiply-shift: no modulo bias worth the name at these sizes.
        ((u128::from(x) * u128::from(n.max(1))) >> 64) as u64
    })
}

/// The outcome of a choice.
#[derive(Debug)]
pub(crate) enum Picked {
    /// Send to this endpoint.
    Endpoint(Arc<Endpoint>),
    /// Healthy endpoints exist, but the request tried them all.
    NoneLeft,
    /// No endpoint is healthy.
    NoneHealthy,
    /// No address is known (names did not resolve).
    Empty,
}

/// How one upstream chooses.
#[derive(Debug)]
pub(super) struct Balancer {
    balance: Balance,
    cursor: AtomicUsize,
}

impl Balancer {
    pub(super) fn new(balance: Balance) -> Self {
        Balancer {
            balance,
            cursor: AtomicUsize::new(0),
        }
    }

    /// Whether outstanding requests are counted (they are what P2C compares).
    pub(super) fn counts_outstanding(&self) -> bool {
        self.balance == Balance::P2c
    }

    /// The endpoint for the next request among `set`, healthy at `now_ms`
    /// and not in `tried`.
    pub(super) fn pick(&self, set: &EndpointSet, tried: &[SocketAddr], now_ms: u64) -> Picked {
        let n = set.primary;
        if set.list.is_empty() {
            return Picked::Empty;
        }
        let usable = |i: usize| {
            let ep = &set.list[i];
            ep.state.is_healthy(now_ms) && !tried.contains(&ep.addr)
        };
        let first = match self.balance {
            _ if n == 0 => 0,
            Balance::RoundRobin => {
                let turn = self.cursor.fetch_add(1, Ordering::Relaxed);
                if set.schedule.is_empty() {
                    turn % n
                } else {
                    set.schedule[turn % set.schedule.len()] as usize
                }
            }
            Balance::P2c => {
                let a = set.draw();
                let mut b = set.draw();
                if b == a {
                    b = (a + 1) % n;
                }
                match (usable(a), usable(b)) {
                    (true, true) => lighter(set, a, b),
                    (true, false) => a,
                    (false, true) => b,
                    (false, false) => a,
                }
            }
        };
        if n > 0 && usable(first) {
            return Picked::Endpoint(Arc::clone(&set.list[first]));
        }
        // The drawn ones are out: the least loaded of the rest, in turn;
        // then the least loaded backup.
        let found = (1..n)
            .map(|k| (first + k) % n)
            .filter(|&i| usable(i))
            .reduce(|best, i| lighter(set, best, i))
            .or_else(|| {
                (n..set.list.len())
                    .filter(|&i| usable(i))
                    .reduce(|best, i| lighter(set, best, i))
            });
        match found {
            Some(i) => Picked::Endpoint(Arc::clone(&set.list[i])),
            None if set.list.iter().any(|ep| ep.state.is_healthy(now_ms)) => Picked::NoneLeft,
            None => Picked::NoneHealthy,
        }
    }
}

/// Of `a` and `b`, the one with fewer outstanding requests per unit of
/// weight (`a` on a tie).
fn lighter(set: &EndpointSet, a: usize, b: usize) -> usize {
    let (ea, eb) = (&set.list[a], &set.list[b]);
    let la = u64::from(ea.state.outstanding.load(Ordering::Relaxed)) * u64::from(eb.weight);
    let lb = u64::from(eb.state.outstanding.load(Ordering::Relaxed)) * u64::from(ea.weight);
    if lb < la { b } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_interleaves_by_weight() {
        assert_eq!(weighted_schedule(&[5, 1, 1]), vec![0, 0, 1, 0, 2, 0, 0]);
        assert_eq!(weighted_schedule(&[95, 5]).len(), 20);
        let s = weighted_schedule(&[95, 5]);
        assert_eq!(s.iter().filter(|&&i| i == 1).count(), 1);
        assert_eq!(weighted_schedule(&[3, 0]), vec![0]);
    }

    fn set(urls: &[&str]) -> EndpointSet {
        let list = urls
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let url = crate::config::EndpointUrl {
                    backup: u.ends_with(" backup"),
                    ..crate::config::EndpointUrl::parse(u.trim_end_matches(" backup"))
                        .expect("a valid URL")
                };
                let port = 9000 + u16::try_from(i).expect("few");
                Endpoint::new(
                    "select-test",
                    SocketAddr::from(([127, 0, 0, 1], port)),
                    &url,
                    &[],
                )
            })
            .collect();
        EndpointSet::new(list)
    }

    #[test]
    fn a_backup_is_chosen_only_when_no_primary_is_usable() {
        let set = set(&[
            "http://127.0.0.1:9000 backup",
            "http://127.0.0.1:9001",
            "http://127.0.0.1:9002",
        ]);
        let backup = SocketAddr::from(([127, 0, 0, 1], 9000));
        for balance in [Balance::P2c, Balance::RoundRobin] {
            let b = Balancer::new(balance);
            for _ in 0..200 {
                let Picked::Endpoint(ep) = b.pick(&set, &[], 0) else {
                    panic!("an endpoint");
                };
                assert_ne!(ep.addr, backup, "{balance:?}");
            }
            let primaries = [
                SocketAddr::from(([127, 0, 0, 1], 9001)),
                SocketAddr::from(([127, 0, 0, 1], 9002)),
            ];
            let Picked::Endpoint(ep) = b.pick(&set, &primaries, 0) else {
                panic!("the backup");
            };
            assert_eq!(ep.addr, backup);
            let all = [primaries[0], primaries[1], backup];
            assert!(matches!(b.pick(&set, &all, 0), Picked::NoneLeft));
        }
    }

    #[test]
    fn random_numbers_stay_below_the_bound_and_spread() {
        let mut seen = [0u32; 4];
        for _ in 0..4000 {
            let x = random_below(4);
            assert!(x < 4);
            seen[x as usize] += 1;
        }
        assert!(seen.iter().all(|&c| c > 700), "{seen:?}");
    }
}
