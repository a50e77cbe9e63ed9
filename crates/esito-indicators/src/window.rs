//! A window of dates an indicator is evaluated over: a period of the calendar, or any range of
//! days given by its first day and the first day after it (`?from=2023-07-01&to=2024-04-01`).
//!
//! Invariant: `start_on < end_on`; `new` refuses anything else.

use chrono::NaiveDate;

use crate::period::Period;

/// The days `[start_on, end_on)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    start_on: NaiveDate,
    end_on: NaiveDate,
}

/// A range of days that holds none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the range from {start_on} to {end_on} holds no day: `to` must come after `from`")]
pub struct EmptyWindow {
    pub start_on: NaiveDate,
    pub end_on: NaiveDate,
}

impl Window {
    /// The days from `start_on` to the day before `end_on`.
    pub fn new(start_on: NaiveDate, end_on: NaiveDate) -> Result<Self, EmptyWindow> {
        if start_on < end_on {
            Ok(Self { start_on, end_on })
        } else {
            Err(EmptyWindow { start_on, end_on })
        }
    }

    pub fn start_on(self) -> NaiveDate {
        self.start_on
    }

    /// The first day after the window.
    pub fn end_on(self) -> NaiveDate {
        self.end_on
    }

    pub fn contains(self, date: NaiveDate) -> bool {
        self.start_on <= date && date < self.end_on
    }
}

impl From<Period> for Window {
    fn from(period: Period) -> Self {
        Self {
            start_on: period.start_on(),
            end_on: period.end_on(),
        }
    }
}
