//! Failed-login throttling: `LOGIN_MAX_FAILURES_PER_EMAIL` failures in a
//! row lock an email for `LOGIN_LOCKOUT`; `LOGIN_MAX_FAILURES_PER_IP_PER_MINUTE`
//! failures from one client address within a minute block that address for
//! the rest of the minute.
//!
//! Counters live in this process's memory: with several replicas each
//! counts on its own (documented in `docs/USERS.md`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const IP_WINDOW: Duration = Duration::from_secs(60);
/// Above this many tracked keys, stale entries are dropped on the next failure.
const PRUNE_ABOVE: usize = 10_000;

/// Throttling thresholds.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleSettings {
    /// Failures in a row that lock an email.
    pub max_failures_per_email: u32,
    /// How long a locked email stays locked.
    pub lockout: Duration,
    /// Failures one address may make per minute.
    pub max_failures_per_ip_per_minute: u32,
}

#[derive(Debug, Clone, Copy)]
struct EmailFailures {
    count: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

#[derive(Debug, Clone, Copy)]
struct IpWindow {
    started: Instant,
    count: u32,
}

/// Failed-login counters by email and by client address.
#[derive(Debug)]
pub struct LoginThrottle {
    settings: ThrottleSettings,
    emails: Mutex<HashMap<String, EmailFailures>>,
    ips: Mutex<HashMap<IpAddr, IpWindow>>,
}

impl LoginThrottle {
    /// Empty counters.
    pub fn new(settings: ThrottleSettings) -> Self {
        Self {
            settings,
            emails: Mutex::new(HashMap::new()),
            ips: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(retry_after)` when a login for `email` from `ip` must not even
    /// be tried now.
    pub fn check(&self, email: &str, ip: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let email_wait = self.emails.lock().ok().and_then(|map| {
            map.get(email)
                .and_then(|f| f.locked_until)
                .filter(|until| *until > now)
                .map(|until| until - now)
        });
        let ip_wait = self.ips.lock().ok().and_then(|map| {
            map.get(&ip)
                .filter(|w| {
                    w.count >= self.settings.max_failures_per_ip_per_minute
                        && now - w.started < IP_WINDOW
                })
                .map(|w| w.started + IP_WINDOW - now)
        });
        match email_wait.max(ip_wait) {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    /// Count a failed login.
    pub fn record_failure(&self, email: &str, ip: IpAddr) {
        let now = Instant::now();
        let s = self.settings;
        if let Ok(mut map) = self.emails.lock() {
            if map.len() > PRUNE_ABOVE {
                map.retain(|_, f| now - f.last < s.lockout);
            }
            let entry = map.entry(email.to_string()).or_insert(EmailFailures {
                count: 0,
                last: now,
                locked_until: None,
            });
            // A lock that has run out, or failures long ago, start over.
            if entry.locked_until.is_some_and(|u| u <= now) || now - entry.last >= s.lockout {
                entry.count = 0;
                entry.locked_until = None;
            }
            entry.count += 1;
            entry.last = now;
            if entry.count >= s.max_failures_per_email {
                entry.locked_until = Some(now + s.lockout);
            }
        }
        if let Ok(mut map) = self.ips.lock() {
            if map.len() > PRUNE_ABOVE {
                map.retain(|_, w| now - w.started < IP_WINDOW);
            }
            let window = map.entry(ip).or_insert(IpWindow {
                started: now,
                count: 0,
            });
            if now - window.started >= IP_WINDOW {
                *window = IpWindow {
                    started: now,
                    count: 0,
                };
            }
            window.count += 1;
        }
    }

    /// A successful login ends the email's run of failures.
    pub fn record_success(&self, email: &str) {
        if let Ok(mut map) = self.emails.lock() {
            map.remove(email);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(per_email: u32, per_ip: u32) -> LoginThrottle {
        LoginThrottle::new(ThrottleSettings {
            max_failures_per_email: per_email,
            lockout: Duration::from_secs(300),
            max_failures_per_ip_per_minute: per_ip,
        })
    }

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    const OTHER_IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));

    #[test]
    fn an_email_locks_after_its_failures_in_a_row() {
        let t = throttle(3, 100);
        for _ in 0..2 {
            t.record_failure("a@b.co", IP);
        }
        assert!(t.check("a@b.co", IP).is_ok());
        t.record_failure("a@b.co", IP);
        let wait = t.check("a@b.co", OTHER_IP).expect_err("locked");
        assert!(wait > Duration::from_secs(290));
        assert!(t.check("c@d.co", IP).is_ok());
    }

    #[test]
    fn success_resets_the_run() {
        let t = throttle(3, 100);
        t.record_failure("a@b.co", IP);
        t.record_failure("a@b.co", IP);
        t.record_success("a@b.co");
        t.record_failure("a@b.co", IP);
        assert!(t.check("a@b.co", IP).is_ok());
    }

    #[test]
    fn an_address_is_blocked_after_its_failures_in_a_minute() {
        let t = throttle(100, 3);
        for i in 0..3 {
            t.record_failure(&format!("u{i}@b.co"), IP);
        }
        assert!(t.check("new@b.co", IP).is_err());
        assert!(t.check("new@b.co", OTHER_IP).is_ok());
    }
}
