use catalog_domain::Timestamp;
use catalog_domain::ports::Clock;
use chrono::SubsecRound;

/// The system clock, cut to microseconds: both databases store that precision, so a
/// value written and read back compares equal.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        chrono::Utc::now().trunc_subsecs(6)
    }
}
