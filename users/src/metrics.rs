//! The users service's own metrics: sign-ins by outcome, registrations,
//! refresh rotations and reuse, and Argon2's queue (SPEC §10). Every
//! labelled series exists at 0 from start, so rates and alerts have data
//! before the first event.

use common::metrics::{Counter, Histogram, Label, Registry};

/// `users_logins_total{outcome}`.
pub const LOGINS: &str = "users_logins_total";
/// `users_registrations_total{outcome}`.
pub const REGISTRATIONS: &str = "users_registrations_total";
/// `users_refresh_rotations_total`.
pub const REFRESH_ROTATIONS: &str = "users_refresh_rotations_total";
/// `users_refresh_reuse_detections_total`.
pub const REFRESH_REUSE: &str = "users_refresh_reuse_detections_total";
/// `users_argon2_queue_wait_seconds{operation}` (histogram).
pub const ARGON2_QUEUE_WAIT: &str = "users_argon2_queue_wait_seconds";
/// `users_argon2_duration_seconds{operation}` (histogram).
pub const ARGON2_DURATION: &str = "users_argon2_duration_seconds";

/// How a sign-in ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginOutcome {
    /// Tokens issued.
    Ok,
    /// Unknown email or wrong password.
    BadCredentials,
    /// Refused by the attempt throttle (429).
    Throttled,
    /// Right password, deactivated account.
    Deactivated,
}

/// How a (valid) registration ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationOutcome {
    /// The account was created.
    Created,
    /// The email already has an account (409).
    EmailTaken,
    /// Refused by the per-address throttle (429).
    Throttled,
}

/// Which Argon2 operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Argon2Op {
    /// Hashing a new password.
    Hash,
    /// Verifying a password at sign-in.
    Verify,
}

/// The users service's counters and histograms (cheap to clone).
#[derive(Debug, Clone)]
pub struct UsersMetrics {
    logins: [Counter; 4],
    registrations: [Counter; 3],
    refresh_rotations: Counter,
    refresh_reuse: Counter,
    argon2: Argon2Metrics,
}

/// Argon2's queue wait and work time, by operation.
#[derive(Debug, Clone)]
pub struct Argon2Metrics {
    wait: [Histogram; 2],
    work: [Histogram; 2],
}

impl UsersMetrics {
    /// Describe and export every users metric in `registry`.
    pub fn new(registry: &Registry) -> UsersMetrics {
        registry.describe_counter(
            LOGINS,
            "Sign-in attempts by outcome: ok, bad_credentials, throttled, deactivated.",
        );
        registry.describe_counter(
            REGISTRATIONS,
            "Valid registration attempts by outcome: created, email_taken, throttled.",
        );
        registry.describe_counter(REFRESH_ROTATIONS, "Refresh tokens rotated.");
        registry.describe_counter(
            REFRESH_REUSE,
            "Used or revoked refresh tokens presented again (their family is revoked).",
        );
        registry.describe_histogram(
            ARGON2_QUEUE_WAIT,
            "Time waiting for an Argon2 slot (PASSWORD_HASH_CONCURRENCY), by operation.",
        );
        registry.describe_histogram(
            ARGON2_DURATION,
            "Time of the Argon2 work itself, by operation.",
        );
        let refresh_rotations = registry.counter(REFRESH_ROTATIONS, vec![]);
        refresh_rotations.increment(0);
        let refresh_reuse = registry.counter(REFRESH_REUSE, vec![]);
        refresh_reuse.increment(0);
        let by_op = |name| {
            ["hash", "verify"]
                .map(|op| registry.histogram(name, vec![Label::from_static_parts("operation", op)]))
        };
        UsersMetrics {
            logins: registry.counters_by(
                LOGINS,
                "outcome",
                ["ok", "bad_credentials", "throttled", "deactivated"],
            ),
            registrations: registry.counters_by(
                REGISTRATIONS,
                "outcome",
                ["created", "email_taken", "throttled"],
            ),
            refresh_rotations,
            refresh_reuse,
            argon2: Argon2Metrics {
                wait: by_op(ARGON2_QUEUE_WAIT),
                work: by_op(ARGON2_DURATION),
            },
        }
    }

    /// Count a sign-in.
    pub fn login(&self, outcome: LoginOutcome) {
        self.logins[outcome as usize].increment(1);
    }

    /// Count a registration.
    pub fn registration(&self, outcome: RegistrationOutcome) {
        self.registrations[outcome as usize].increment(1);
    }

    /// Count a rotation.
    pub fn refresh_rotated(&self) {
        self.refresh_rotations.increment(1);
    }

    /// Count a detected reuse.
    pub fn refresh_reused(&self) {
        self.refresh_reuse.increment(1);
    }

    /// The Argon2 histograms, for the hasher.
    pub fn argon2(&self) -> Argon2Metrics {
        self.argon2.clone()
    }
}

impl Argon2Metrics {
    /// Record how long `op` waited for its slot.
    pub fn waited(&self, op: Argon2Op, seconds: f64) {
        self.wait[op as usize].record(seconds);
    }

    /// Record how long `op` worked.
    pub fn worked(&self, op: Argon2Op, seconds: f64) {
        self.work[op as usize].record(seconds);
    }
}
