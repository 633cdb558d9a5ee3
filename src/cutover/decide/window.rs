//! When a step's metrics have been read (pure, with the clock passed in). ALB publishes its
//! metrics in one-minute periods, typically one to three minutes after the period ends, and
//! `GetMetricData` rounds a start time down to the minute
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html>,
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html>).
//!
//! A step is judged on every period that overlaps it, from the one holding its weight change to
//! the one holding the end of its bake. The next step begins with the first period the previous
//! one did not judge, so consecutive steps leave no unread gap: the traffic that ran at the
//! previous step's weight while it waited for CloudWatch is judged by the next. After the bake
//! the step waits until each of its periods is published, at most `--metrics-lag` past the
//! bake; a period still missing then is reported as not read, never as held.

use std::collections::BTreeSet;

use serde::Serialize;

/// Length of an ALB metric period, in seconds.
pub const PERIOD: u64 = 60;

/// The start of the period holding `t` (Unix seconds).
pub fn period_of(t: u64) -> u64 {
    t - t % PERIOD
}

/// A step's time: its first period, when its bake ends, how long to wait for late periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepWindow {
    /// The start of the first period judged (Unix seconds).
    pub first: u64,
    /// The end of the bake (Unix seconds).
    pub bake_end: u64,
    /// The longest wait for late periods after the bake, in seconds (`--metrics-lag`).
    pub lag: u64,
}

/// Where a step stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Settle {
    /// The bake is still running.
    Baking,
    /// The bake is over; `period` (the earliest not yet published) is awaited. It cannot be
    /// complete before `due`; the wait ends at `deadline` at the latest.
    Waiting {
        /// The awaited period's start.
        period: u64,
        /// When it ends (it cannot be published earlier).
        due: u64,
        /// The end of the wait (bake end + lag).
        deadline: u64,
    },
    /// Every period of the step has been read.
    Complete,
    /// The lag ran out with these periods unpublished.
    Expired {
        /// The starts of the missing periods.
        missing: Vec<u64>,
    },
}

impl StepWindow {
    /// The window of a step whose weight changed at `since`: from the period holding it, or
    /// from the first period `previous` (the step before, in this run) did not judge.
    pub fn new(since: u64, bake_end: u64, lag: u64, previous: Option<&StepWindow>) -> StepWindow {
        let own = period_of(since);
        let first = previous.map_or(own, |p| own.min(p.last() + PERIOD));
        StepWindow {
            first,
            bake_end,
            lag,
        }
    }

    /// The start of the last period of the step (the one holding the end of its bake).
    pub fn last(&self) -> u64 {
        period_of(self.bake_end.saturating_sub(1)).max(self.first)
    }

    /// The starts of the periods overlapping the step, first to last.
    pub fn periods(&self) -> Vec<u64> {
        (self.first..=self.last())
            .step_by(PERIOD as usize)
            .collect()
    }

    /// The periods not in `published`.
    pub fn missing(&self, published: &BTreeSet<u64>) -> Vec<u64> {
        self.periods()
            .into_iter()
            .filter(|p| !published.contains(p))
            .collect()
    }

    /// Where the step stands at `now`, given the periods published so far.
    pub fn settle(&self, now: u64, published: &BTreeSet<u64>) -> Settle {
        if now < self.bake_end {
            return Settle::Baking;
        }
        let missing = self.missing(published);
        let deadline = self.bake_end + self.lag;
        match missing.first() {
            None => Settle::Complete,
            Some(_) if now >= deadline => Settle::Expired { missing },
            Some(&period) => Settle::Waiting {
                period,
                due: period + PERIOD,
                deadline,
            },
        }
    }
}

/// `12:03` (UTC) for a period start, as progress lines show it.
pub fn clock(t: u64) -> String {
    let day = t % 86_400;
    format!("{:02}:{:02}", day / 3600, day % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-04 12:00:00 UTC.
    const NOON: u64 = 1_796_385_600;

    /// What CloudWatch shows at `now` when minute M is published at M + 60 + `delay`, for an
    /// ALB with targets (a data point every minute).
    fn visible(now: u64, delay: u64) -> BTreeSet<u64> {
        (0..30)
            .map(|m| NOON - 600 + m * PERIOD)
            .filter(|m| now >= m + PERIOD + delay)
            .collect()
    }

    #[test]
    fn the_periods_cover_the_step_from_its_weight_change_to_its_end() {
        let w = StepWindow::new(NOON + 30, NOON + 90, 180, None);
        assert_eq!(w.periods(), vec![NOON, NOON + 60]);
        // A bake ending on a boundary does not reach into the next period.
        let w = StepWindow::new(NOON, NOON + 120, 0, None);
        assert_eq!(w.periods(), vec![NOON, NOON + 60]);
        assert_eq!(clock(NOON + 180), "12:03");
    }

    #[test]
    fn consecutive_steps_leave_no_unread_gap() {
        // Step 1 bakes 12:00:30-12:02:30, then waits for CloudWatch until 12:05:10; the
        // traffic of 12:03 and 12:04 (still at step 1's weight) is judged by step 2.
        let first = StepWindow::new(NOON + 30, NOON + 150, 180, None);
        let second = StepWindow::new(NOON + 310, NOON + 430, 180, Some(&first));
        assert_eq!(first.periods(), vec![NOON, NOON + 60, NOON + 120]);
        assert_eq!(second.first, NOON + 180);
        let all: Vec<u64> = first
            .periods()
            .into_iter()
            .chain(second.periods())
            .collect();
        let span: Vec<u64> = (NOON..=NOON + 420).step_by(60).collect();
        assert_eq!(all, span, "every period judged once, none skipped");
        // A step that began right after the previous one's bake (lag 0s) starts in the same
        // period its predecessor ended in at the latest.
        let quick = StepWindow::new(NOON + 151, NOON + 211, 0, Some(&first));
        assert_eq!(quick.first, NOON + 120);
    }

    #[test]
    fn minutes_published_90_s_late_are_awaited_then_read() {
        // A 60 s bake from 12:00:30: periods 12:00 and 12:01; minute M visible at M + 90 s.
        let w = StepWindow::new(NOON + 30, NOON + 90, 180, None);
        let at = |now| w.settle(now, &visible(now, 30));
        assert_eq!(at(NOON + 60), Settle::Baking);
        // Bake over at 12:01:30: 12:00 was published at that very second, 12:01 is awaited.
        assert_eq!(
            at(NOON + 90),
            Settle::Waiting {
                period: NOON + 60,
                due: NOON + 120,
                deadline: NOON + 270
            }
        );
        assert!(matches!(at(NOON + 149), Settle::Waiting { .. }));
        assert_eq!(at(NOON + 150), Settle::Complete);
    }

    #[test]
    fn a_lag_shorter_than_the_delay_leaves_periods_unread_never_held() {
        let w = StepWindow::new(NOON + 30, NOON + 90, 30, None);
        assert!(matches!(
            w.settle(NOON + 100, &visible(NOON + 100, 30)),
            Settle::Waiting { .. }
        ));
        assert_eq!(
            w.settle(NOON + 120, &visible(NOON + 120, 30)),
            Settle::Expired {
                missing: vec![NOON + 60]
            }
        );
        // `--metrics-lag 0s`: judged on what is there when the bake ends.
        let now = NOON + 90;
        let w0 = StepWindow { lag: 0, ..w };
        assert_eq!(
            w0.settle(now, &visible(now, 0)),
            Settle::Expired {
                missing: vec![NOON + 60]
            }
        );
        let everything: BTreeSet<u64> = w0.periods().into_iter().collect();
        assert_eq!(w0.settle(now, &everything), Settle::Complete);
    }

    #[test]
    fn nothing_published_at_all_expires_with_every_period_missing() {
        let w = StepWindow::new(NOON + 10, NOON + 200, 60, None);
        assert_eq!(
            w.settle(NOON + 260, &BTreeSet::new()),
            Settle::Expired {
                missing: vec![NOON, NOON + 60, NOON + 120, NOON + 180]
            }
        );
    }
}
