//! Simulated time: real time multiplied by `--time-scale`, plus manual advances from tests.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use jiff::Timestamp;

/// The sim's clock. `now()` moves `scale` times faster than real time; `advance` jumps ahead.
#[derive(Debug)]
pub struct Clock {
    start_real: Instant,
    start_sim: Timestamp,
    scale: f64,
    offset: Mutex<Duration>,
}

impl Clock {
    pub fn new(scale: f64) -> Self {
        Clock {
            start_real: Instant::now(),
            start_sim: Timestamp::now(),
            scale: if scale > 0.0 { scale } else { 1.0 },
            offset: Mutex::new(Duration::ZERO),
        }
    }

    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Simulated time elapsed since start.
    pub fn elapsed(&self) -> Duration {
        let real = self.start_real.elapsed().as_secs_f64() * self.scale;
        Duration::from_secs_f64(real) + *self.offset.lock().expect("clock lock")
    }

    /// The current simulated wall-clock time.
    pub fn now(&self) -> Timestamp {
        let elapsed =
            jiff::SignedDuration::try_from(self.elapsed()).unwrap_or(jiff::SignedDuration::MAX);
        self.start_sim
            .checked_add(elapsed)
            .unwrap_or(self.start_sim)
    }

    /// `now()` as RFC 3339 with second precision, as Kubernetes writes timestamps.
    pub fn now_rfc3339(&self) -> String {
        format_rfc3339(self.now())
    }

    /// Jumps simulated time forward (tests).
    pub fn advance(&self, by: Duration) {
        *self.offset.lock().expect("clock lock") += by;
    }

    /// How long to sleep in real time for `sim` simulated time to pass.
    pub fn real_duration(&self, sim: Duration) -> Duration {
        Duration::from_secs_f64(sim.as_secs_f64() / self.scale)
    }
}

/// `2026-11-24T13:00:00Z`: Kubernetes' metav1.Time format.
pub fn format_rfc3339(ts: Timestamp) -> String {
    ts.round(jiff::Unit::Second)
        .unwrap_or(ts)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Parses a metav1.Time / RFC 3339 timestamp.
pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_time() {
        let clock = Clock::new(1.0);
        let before = clock.now();
        clock.advance(Duration::from_secs(3600));
        let after = clock.now();
        assert!(after.duration_since(before).as_secs() >= 3600);
        assert!(clock.now_rfc3339().ends_with('Z'));
        assert!(parse_rfc3339(&clock.now_rfc3339()).is_some());
    }
}
