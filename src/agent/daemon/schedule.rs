//! When each meter is due, and for what: pure bookkeeping over a monotonic millisecond
//! clock that the caller supplies. No I/O, no sleeping.
//!
//! One association per meter per cycle reads every group that is due, or nearly due
//! (within a quarter of the shortest interval), so a meter is not woken three times in
//! a row. Jitter spreads a fleet; a meter that fails is retried with exponential
//! backoff, capped, so a silent meter is polled less often until it answers.

use crate::config::PollPlan;

/// A group of readings with its own interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// Operating status and relay reason.
    Status,
    /// Energy, power, power factor, load threshold.
    Energy,
    /// Counters and event times.
    Counters,
}

impl Group {
    pub const ALL: [Group; 3] = [Group::Status, Group::Energy, Group::Counters];

    fn index(self) -> usize {
        match self {
            Group::Status => 0,
            Group::Energy => 1,
            Group::Counters => 2,
        }
    }
}

/// A set of groups (small bit set).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Groups(u8);

impl Groups {
    pub const NONE: Groups = Groups(0);
    pub const ALL: Groups = Groups(0b111);

    pub fn with(self, g: Group) -> Groups {
        Groups(self.0 | 1 << g.index())
    }
    pub fn contains(self, g: Group) -> bool {
        self.0 & (1 << g.index()) != 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn iter(self) -> impl Iterator<Item = Group> {
        Group::ALL.into_iter().filter(move |g| self.contains(*g))
    }
}

/// Backoff after failed polls: first retry after `RETRY_BASE_MS` (or the status interval
/// when that is shorter), doubling, capped at four status intervals (and at least the
/// first retry delay).
// Design: a meter polled every few seconds (a commissioning run, a test bench) is
// retried at its own pace rather than after 30 s, so `unreachable_after` failures take
// about as long as that many polls would.
pub const RETRY_BASE_MS: u64 = 30_000;

#[derive(Clone, Debug)]
struct MeterSlot {
    intervals: [u64; 3],
    jitter: f64,
    next: [u64; 3],
    failures: u32,
    retry_base: u64,
    rng: u64,
}

/// The schedule of one bus's meters.
#[derive(Clone, Debug)]
pub struct Schedule {
    meters: Vec<MeterSlot>,
}

fn ms(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl Schedule {
    /// All meters due soon after `start`, staggered by `stagger_ms` each so a bus does
    /// not open with a burst; `seed` makes jitter reproducible (derive it from the
    /// serial numbers in production, fix it in tests).
    pub fn new(plans: &[PollPlan], start: u64, stagger_ms: u64, seed: u64) -> Self {
        let meters = plans
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let first = start.saturating_add(stagger_ms.saturating_mul(i as u64));
                let status = ms(p.status.0);
                MeterSlot {
                    intervals: [status, ms(p.energy.0), ms(p.counters.0)],
                    retry_base: RETRY_BASE_MS.min(status),
                    jitter: p.jitter.clamp(0.0, 0.5),
                    next: [first; 3],
                    failures: 0,
                    rng: seed ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
                }
            })
            .collect();
        Schedule { meters }
    }

    pub fn len(&self) -> usize {
        self.meters.len()
    }

    pub fn is_empty(&self) -> bool {
        self.meters.is_empty()
    }

    /// The meter due first and when (ties: the lowest index, i.e. config order).
    pub fn next_due(&self) -> Option<(usize, u64)> {
        self.meters
            .iter()
            .enumerate()
            .map(|(i, m)| (i, m.next.iter().copied().min().unwrap_or(u64::MAX)))
            .min_by_key(|&(i, at)| (at, i))
    }

    /// The groups of `meter` to read now: those due, and those due within a quarter of
    /// its shortest interval (they would otherwise need another association soon).
    pub fn due(&self, meter: usize, now: u64) -> Groups {
        let Some(m) = self.meters.get(meter) else {
            return Groups::NONE;
        };
        let shortest = m.intervals.iter().copied().min().unwrap_or(1);
        let horizon = now.saturating_add(shortest / 4);
        let mut g = Groups::NONE;
        if m.next.iter().any(|&n| n <= now) {
            for grp in Group::ALL {
                if m.next[grp.index()] <= horizon {
                    g = g.with(grp);
                }
            }
        }
        g
    }

    /// Record the result of polling `groups` of `meter` at `now`.
    pub fn complete(&mut self, meter: usize, groups: Groups, now: u64, success: bool) {
        let Some(m) = self.meters.get_mut(meter) else {
            return;
        };
        if success {
            m.failures = 0;
            for g in groups.iter() {
                let i = g.index();
                let interval = m.intervals[i];
                let spread = (interval as f64 * m.jitter) as u64;
                let jitter = if spread == 0 {
                    0
                } else {
                    next_rand(&mut m.rng) % (spread + 1)
                };
                m.next[i] = now.saturating_add(interval).saturating_add(jitter);
            }
        } else {
            m.failures = m.failures.saturating_add(1);
            let cap = m.intervals[0].saturating_mul(4).max(m.retry_base);
            let shift = (m.failures - 1).min(20);
            let delay = m.retry_base.saturating_mul(1 << shift).min(cap);
            for g in groups.iter() {
                m.next[g.index()] = now.saturating_add(delay);
            }
        }
    }

    /// Consecutive failed polls of `meter`.
    pub fn failures(&self, meter: usize) -> u32 {
        self.meters.get(meter).map_or(0, |m| m.failures)
    }
}

fn next_rand(s: &mut u64) -> u64 {
    // xorshift64: reproducible, no dependency, good enough to spread poll times.
    let mut x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HumanDuration;
    use std::time::Duration;

    fn plan(status: u64, energy: u64, counters: u64, jitter: f64) -> PollPlan {
        PollPlan {
            status: HumanDuration(Duration::from_secs(status)),
            energy: HumanDuration(Duration::from_secs(energy)),
            counters: HumanDuration(Duration::from_secs(counters)),
            jitter,
        }
    }

    #[test]
    fn first_cycle_reads_everything_staggered() {
        let s = Schedule::new(&[plan(300, 900, 3600, 0.0); 3], 1000, 500, 7);
        assert_eq!(s.next_due(), Some((0, 1000)));
        assert_eq!(s.due(0, 1000), Groups::ALL);
        assert_eq!(s.due(1, 1000), Groups::NONE, "meter 1 starts 500 ms later");
        assert_eq!(s.due(1, 1500), Groups::ALL);
    }

    #[test]
    fn groups_fall_due_at_their_own_intervals() {
        let mut s = Schedule::new(&[plan(300, 900, 3600, 0.0)], 0, 0, 1);
        s.complete(0, Groups::ALL, 0, true);
        assert_eq!(s.next_due(), Some((0, 300_000)));
        assert_eq!(s.due(0, 300_000), Groups::NONE.with(Group::Status));
        s.complete(0, s.due(0, 300_000), 300_000, true);
        s.complete(0, s.due(0, 600_000), 600_000, true);
        // At 900 s status and energy are both due; counters (3600 s) are not.
        let g = s.due(0, 900_000);
        assert!(g.contains(Group::Status) && g.contains(Group::Energy));
        assert!(!g.contains(Group::Counters));
    }

    #[test]
    fn nearly_due_groups_join_the_same_association() {
        let mut s = Schedule::new(&[plan(300, 320, 3600, 0.0)], 0, 0, 1);
        s.complete(0, Groups::ALL, 0, true);
        // Energy is due 20 s after status: within a quarter of 300 s, so read together.
        let g = s.due(0, 300_000);
        assert!(g.contains(Group::Energy), "{g:?}");
    }

    #[test]
    fn jitter_stays_within_its_fraction_and_spreads_meters() {
        let mut s = Schedule::new(&[plan(1000, 1000, 1000, 0.1); 20], 0, 0, 42);
        let mut nexts = Vec::new();
        for i in 0..20 {
            s.complete(i, Groups::ALL, 0, true);
            let (_, _) = s.next_due().unwrap();
            let at = s.meters[i].next[0];
            assert!((1_000_000..=1_100_000).contains(&at), "{at}");
            nexts.push(at);
        }
        nexts.sort();
        nexts.dedup();
        assert!(nexts.len() > 10, "meters spread out: {nexts:?}");
    }

    #[test]
    fn failures_back_off_exponentially_up_to_a_cap_and_reset() {
        let mut s = Schedule::new(&[plan(300, 900, 3600, 0.0)], 0, 0, 1);
        let mut now = 0;
        let mut delays = Vec::new();
        for _ in 0..8 {
            let g = Groups::ALL;
            s.complete(0, g, now, false);
            let (_, at) = s.next_due().unwrap();
            delays.push(at - now);
            now = at;
        }
        assert_eq!(delays[..4], [30_000, 60_000, 120_000, 240_000]);
        assert!(
            delays.iter().all(|d| *d <= 1_200_000),
            "cap 4 x 300 s: {delays:?}"
        );
        assert_eq!(*delays.last().unwrap(), 1_200_000);
        assert_eq!(s.failures(0), 8);
        s.complete(0, Groups::ALL, now, true);
        assert_eq!(s.failures(0), 0);
        assert_eq!(s.next_due(), Some((0, now + 300_000)));
    }

    #[test]
    fn a_fast_meter_is_retried_at_its_own_pace() {
        let fast = PollPlan {
            status: HumanDuration(Duration::from_millis(200)),
            ..plan(1, 1, 1, 0.0)
        };
        let mut s = Schedule::new(&[fast], 0, 0, 1);
        let mut now = 0;
        let mut delays = Vec::new();
        for _ in 0..5 {
            s.complete(0, Groups::ALL, now, false);
            let (_, at) = s.next_due().unwrap();
            delays.push(at - now);
            now = at;
        }
        assert_eq!(
            delays,
            [200, 400, 800, 800, 800],
            "base 200 ms, cap 4 x 200 ms"
        );
    }
}
