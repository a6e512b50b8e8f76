//! Statutory deadlines under the 信访工作条例 (2022), counted over a calendar
//! of public holidays and 调休 make-up working days.
//!
//! # How a deadline is counted
//!
//! * **The start day is not counted.** A period of N days "from" an event
//!   (自…之日起N日内) ends on day N after it, so 15 days from 2026-03-02 is
//!   2026-03-17.
//! * **The unit is calendar days by default.** The regulation's 日 are
//!   calendar days ([`DayCount::Calendar`]). Some provincial and local rules
//!   count working days (工作日) instead; pass [`DayCount::Working`] for
//!   those (and Art. 23 ¶3's 5-工作日 objection period is one).
//! * **A last day that falls on a non-working day moves to the next working
//!   day**. This is the general rule for periods in PRC procedure (期间届满的
//!   最后一日是法定休假日的，以法定休假日后的第一日为期间届满的日期, in
//!   the Civil Procedure Law's section on 期间). Non-working days are Saturdays, Sundays and
//!   listed holidays. A Saturday or Sunday listed as a 调休 `workday` is a
//!   working day, so a deadline landing there stays there.
//!
//! | kind | days | counted from | article |
//! | --- | --- | --- | --- |
//! | [`AcceptanceDecision`](DeadlineKind::AcceptanceDecision) | 15 | receipt of the petition | Art. 22 ¶1, Art. 23 ¶3 |
//! | [`Handling`](DeadlineKind::Handling) | 60 | acceptance (受理) | Art. 34 |
//! | [`HandlingExtended`](DeadlineKind::HandlingExtended) | 60, then up to 30 more, once | acceptance | Art. 34 |
//! | [`ReviewRequest`](DeadlineKind::ReviewRequest) | 30 | the petitioner's receipt of the written reply | Art. 35 |
//! | [`ReviewDecision`](DeadlineKind::ReviewDecision) | 30 | receipt of the review request | Art. 35 |
//! | [`ReReviewRequest`](DeadlineKind::ReReviewRequest) | 30 | the petitioner's receipt of the review opinion | Art. 36 |
//! | [`ReReviewDecision`](DeadlineKind::ReReviewDecision) | 30 | receipt of the re-review request | Art. 36 |
//! | [`FollowUp`](DeadlineKind::FollowUp) | 90 by default, configurable | closing | office practice (回头看) |
//!
//! # Calendar file format
//!
//! One entry per line. Blank lines and lines starting with `#` are ignored.
//!
//! ```text
//! # comment
//! holiday 2026-01-01..2026-01-03 元旦
//! workday 2026-01-04 元旦调休
//! ```
//!
//! * `holiday DATE[..DATE] [label]`: non-working days. A range includes
//!   both ends, has no spaces around `..`, and covers at most 31 days.
//! * `workday DATE[..DATE] [label]`: a Saturday or Sunday that is worked
//!   (调休上班). Listing a Monday–Friday is an error, since it is almost
//!   certainly a typo.
//! * Dates are `YYYY-MM-DD`. A date may be listed only once in the file.
//!
//! The calendar covers the years its entries name. For a date in any other
//! year it falls back to "Saturday and Sunday are non-working": that year's
//! public holidays are then **not** known, and deadlines in it may come out
//! early. [`Calendar::covers_year`] tells which years are covered.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use time::{Date, Duration, Weekday};

use super::WorkflowError;

/// The shipped 2026 calendar (`holidays-2026.txt`), from the notice
/// 国务院办公厅关于2026年部分节假日安排的通知 of 2025-11-04.
pub const BUILTIN_2026: &str = include_str!("holidays-2026.txt");

/// Longest range a single calendar line may cover, in days.
pub const MAX_RANGE_DAYS: i64 = 31;

/// Art. 22 ¶1, Art. 23 ¶3: 15 days to route and acknowledge a petition.
pub const ACCEPTANCE_DAYS: u32 = 15;
/// Art. 34: 60 days from acceptance to close.
pub const HANDLING_DAYS: u32 = 60;
/// Art. 34: one extension of at most 30 days.
pub const MAX_EXTENSION_DAYS: u32 = 30;
/// Art. 35 and 36: 30 days both to request a review and to decide one.
pub const REVIEW_DAYS: u32 = 30;
/// Default days after closing for the follow-up visit (回头看); office practice.
pub const DEFAULT_FOLLOW_UP_DAYS: u32 = 90;

/// Working and non-working days: weekends, listed public holidays, and
/// 调休 make-up working days. See the [module docs](self) for the file
/// format.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    holidays: BTreeMap<Date, String>,
    workdays: BTreeMap<Date, String>,
    years: BTreeSet<i32>,
}

fn is_weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

fn split_word(s: &str) -> (&str, &str) {
    match s.split_once(char::is_whitespace) {
        Some((a, b)) => (a, b.trim_start()),
        None => (s, ""),
    }
}

fn parse_date(s: &str) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &fmt).ok()
}

impl Calendar {
    /// A calendar with no holidays: only Saturdays and Sundays are non-working.
    pub fn weekends_only() -> Calendar {
        Calendar::default()
    }

    /// Parses a calendar in the format given in the [module docs](self).
    ///
    /// Errors give the 1-based line number and what is wrong with it: an
    /// unknown keyword, a missing or malformed date, a range that is reversed
    /// or longer than 31 days, a `workday` on Monday–Friday, or a date listed
    /// twice.
    pub fn parse(text: &str) -> Result<Calendar, WorkflowError> {
        let mut cal = Calendar::default();
        let mut first_seen: BTreeMap<Date, usize> = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let err = |message: String| WorkflowError::Calendar { line, message };
            let content = raw.trim();
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            let (keyword, rest) = split_word(content);
            let (dates, label) = split_word(rest);
            let holiday = match keyword {
                "holiday" => true,
                "workday" => false,
                other => {
                    return Err(err(format!(
                        "unknown entry \"{other}\"; a line must start with `holiday` or `workday` (or `#` for a comment)"
                    )));
                }
            };
            if dates.is_empty() {
                return Err(err(format!(
                    "`{keyword}` needs a date or a range, e.g. `{keyword} 2026-10-01` or `{keyword} 2026-10-01..2026-10-07`"
                )));
            }
            let date = |s: &str| {
                parse_date(s).ok_or_else(|| {
                    err(format!(
                        "\"{s}\" is not a valid date; write YYYY-MM-DD, e.g. 2026-10-01"
                    ))
                })
            };
            let (first, last) = match dates.split_once("..") {
                Some((a, b)) => (date(a)?, date(b)?),
                None => {
                    let d = date(dates)?;
                    (d, d)
                }
            };
            if last < first {
                return Err(err(format!(
                    "the range {first}..{last} ends before it starts"
                )));
            }
            let len = (last - first).whole_days() + 1;
            if len > MAX_RANGE_DAYS {
                return Err(err(format!(
                    "the range {first}..{last} covers {len} days; one line may cover at most {MAX_RANGE_DAYS}, so check the dates"
                )));
            }
            let mut d = first;
            loop {
                if !holiday && !is_weekend(d) {
                    return Err(err(format!(
                        "{d} is a {}, already a working day; `workday` is only for 调休 Saturdays and Sundays",
                        d.weekday()
                    )));
                }
                if let Some(prev) = first_seen.get(&d) {
                    return Err(err(format!("{d} is already listed on line {prev}")));
                }
                first_seen.insert(d, line);
                cal.years.insert(d.year());
                let map = if holiday {
                    &mut cal.holidays
                } else {
                    &mut cal.workdays
                };
                map.insert(d, label.trim().to_owned());
                if d == last {
                    break;
                }
                // d < last, so a next day exists
                d = d.next_day().unwrap_or(last);
            }
        }
        Ok(cal)
    }

    /// The shipped 2026 calendar ([`BUILTIN_2026`]), parsed once. Dates
    /// outside 2026 fall back to weekends-only.
    pub fn builtin() -> &'static Calendar {
        static BUILTIN: OnceLock<Calendar> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            Calendar::parse(BUILTIN_2026).expect("the shipped holidays-2026.txt parses (tested)")
        })
    }

    /// Whether `date` is a working day. Listed holidays are not, listed 调休
    /// workdays are, and any other Saturday or Sunday is not.
    pub fn is_working_day(&self, date: Date) -> bool {
        if self.holidays.contains_key(&date) {
            false
        } else {
            self.workdays.contains_key(&date) || !is_weekend(date)
        }
    }

    /// Whether `date` is a listed public holiday.
    pub fn is_holiday(&self, date: Date) -> bool {
        self.holidays.contains_key(&date)
    }

    /// Whether `date` is a listed 调休 make-up working day.
    pub fn is_adjusted_workday(&self, date: Date) -> bool {
        self.workdays.contains_key(&date)
    }

    /// The label of a listed holiday or workday (e.g. `国庆节`), if any.
    pub fn label(&self, date: Date) -> Option<&str> {
        self.holidays
            .get(&date)
            .or_else(|| self.workdays.get(&date))
            .map(String::as_str)
    }

    /// Whether any entry falls in `year`. Outside covered years only
    /// weekends are non-working.
    pub fn covers_year(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    /// The years the calendar has entries for, in order.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }

    /// The first working day on or after `date` (`date` itself if it is
    /// one). Saturates at `Date::MAX`.
    pub fn next_working_day(&self, date: Date) -> Date {
        let mut d = date;
        while !self.is_working_day(d) {
            match d.next_day() {
                Some(n) => d = n,
                None => return d,
            }
        }
        d
    }

    /// The longest run of consecutive non-working days in the calendar,
    /// weekends included (2 when nothing longer is listed; 9 for the shipped
    /// 2026 calendar: 春节, 2026-02-15..2026-02-23). A deadline moves by at
    /// most this many days.
    pub fn longest_non_working_run(&self) -> u32 {
        let (Some(&lo), Some(&hi)) = (self.years.first(), self.years.last()) else {
            return 2;
        };
        let span = |y: i32, m: time::Month, d: u8| Date::from_calendar_date(y, m, d).ok();
        let from =
            span(lo, time::Month::January, 1).and_then(|d| d.checked_sub(Duration::days(14)));
        let to =
            span(hi, time::Month::December, 31).and_then(|d| d.checked_add(Duration::days(14)));
        let (Some(mut d), Some(to)) = (from, to) else {
            return 2;
        };
        let (mut best, mut run) = (2, 0);
        while d <= to {
            if self.is_working_day(d) {
                run = 0;
            } else {
                run += 1;
                best = best.max(run);
            }
            match d.next_day() {
                Some(n) => d = n,
                None => break,
            }
        }
        best
    }
}

/// Whether a period counts calendar days or working days.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DayCount {
    /// Calendar days (自然日), as the 信访工作条例 counts them. The default.
    #[default]
    Calendar,
    /// Working days (工作日): skip weekends and holidays and count 调休
    /// workdays. Some local rules count this way.
    Working,
}

/// The last day of a period of `days` days counted from `start`:
///
/// * the start day is not counted;
/// * [`DayCount::Calendar`] counts every day and [`DayCount::Working`] only
///   working days;
/// * if the day reached is not a working day, the deadline moves to the next
///   working day (so a working-day count never moves).
///
/// With `days == 0` the result is `start`, or the next working day if
/// `start` is not one. Saturates at `Date::MAX` (9999-12-31) rather than
/// panicking; no real deadline comes near it.
pub fn deadline(start: Date, days: u32, count: DayCount, cal: &Calendar) -> Date {
    let reached = match count {
        DayCount::Calendar => start
            .checked_add(Duration::days(i64::from(days)))
            .unwrap_or(Date::MAX),
        DayCount::Working => {
            let mut d = start;
            let mut left = days;
            while left > 0 {
                match d.next_day() {
                    Some(n) => d = n,
                    None => return Date::MAX,
                }
                if cal.is_working_day(d) {
                    left -= 1;
                }
            }
            d
        }
    };
    cal.next_working_day(reached)
}

/// The statutory deadlines of a case. See the table in the
/// [module docs](self) for each kind's length and starting event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// 15 days from receipt of the petition: the 信访部门 routes it (转送,
    /// 交办) (Art. 22 ¶1), and a unit receiving a forwarded or assigned matter
    /// tells the petitioner it has it and how it will be handled (Art. 23 ¶3).
    /// `start` is the date of receipt.
    AcceptanceDecision,
    /// 60 days from acceptance to close (Art. 34). `start` is the date of
    /// acceptance (受理之日).
    Handling,
    /// The latest the handling deadline can be: 60 days, then the full
    /// 30-day extension (Art. 34), counted as [`extend`] does. `start` is the
    /// date of acceptance.
    HandlingExtended,
    /// 30 days for the petitioner to ask for a review (复查) (Art. 35).
    /// `start` is the day they received the written reply.
    ReviewRequest,
    /// 30 days to issue the review opinion (复查意见) (Art. 35). `start` is
    /// the day the review request was received.
    ReviewDecision,
    /// 30 days for the petitioner to ask for a re-review (复核) (Art. 36).
    /// `start` is the day they received the review opinion.
    ReReviewRequest,
    /// 30 days to issue the re-review opinion (复核意见), which is final (Art.
    /// 36). `start` is the day the re-review request was received.
    ReReviewDecision,
    /// The follow-up check (回头看) after closing. Office practice, not the
    /// regulation: [`DeadlineRules::follow_up_days`] days, 90 by default.
    /// `start` is the closing date.
    FollowUp,
}

impl DeadlineKind {
    /// Every kind.
    pub const ALL: [DeadlineKind; 8] = [
        DeadlineKind::AcceptanceDecision,
        DeadlineKind::Handling,
        DeadlineKind::HandlingExtended,
        DeadlineKind::ReviewRequest,
        DeadlineKind::ReviewDecision,
        DeadlineKind::ReReviewRequest,
        DeadlineKind::ReReviewDecision,
        DeadlineKind::FollowUp,
    ];

    /// The snake_case name (as used by serde).
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineKind::AcceptanceDecision => "acceptance_decision",
            DeadlineKind::Handling => "handling",
            DeadlineKind::HandlingExtended => "handling_extended",
            DeadlineKind::ReviewRequest => "review_request",
            DeadlineKind::ReviewDecision => "review_decision",
            DeadlineKind::ReReviewRequest => "re_review_request",
            DeadlineKind::ReReviewDecision => "re_review_decision",
            DeadlineKind::FollowUp => "follow_up",
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            DeadlineKind::AcceptanceDecision => "受理告知期限",
            DeadlineKind::Handling => "办理期限",
            DeadlineKind::HandlingExtended => "延长后办理期限",
            DeadlineKind::ReviewRequest => "复查申请期限",
            DeadlineKind::ReviewDecision => "复查期限",
            DeadlineKind::ReReviewRequest => "复核申请期限",
            DeadlineKind::ReReviewDecision => "复核期限",
            DeadlineKind::FollowUp => "回头看",
        }
    }

    /// The article of the 信访工作条例 that sets this deadline, e.g.
    /// `Art. 35`, or `office practice` for [`DeadlineKind::FollowUp`].
    pub fn article(self) -> &'static str {
        match self {
            DeadlineKind::AcceptanceDecision => "Art. 22-23",
            DeadlineKind::Handling | DeadlineKind::HandlingExtended => "Art. 34",
            DeadlineKind::ReviewRequest | DeadlineKind::ReviewDecision => "Art. 35",
            DeadlineKind::ReReviewRequest | DeadlineKind::ReReviewDecision => "Art. 36",
            DeadlineKind::FollowUp => "office practice",
        }
    }

    fn what(self) -> &'static str {
        match self {
            DeadlineKind::AcceptanceDecision => "the acceptance notice (受理告知)",
            DeadlineKind::Handling => "closing the case (办结)",
            DeadlineKind::HandlingExtended => "closing the case after extension (延期办结)",
            DeadlineKind::ReviewRequest => "the review request (复查申请)",
            DeadlineKind::ReviewDecision => "the review opinion (复查意见)",
            DeadlineKind::ReReviewRequest => "the re-review request (复核申请)",
            DeadlineKind::ReReviewDecision => "the re-review opinion (复核意见)",
            DeadlineKind::FollowUp => "the follow-up (回头看)",
        }
    }
}

/// An office's choices for counting deadlines. `Default` is what the
/// regulation says: calendar days, and a 90-day follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeadlineRules {
    /// Calendar days (the regulation) or working days (some local rules).
    pub count: DayCount,
    /// Days after closing for the follow-up (回头看).
    pub follow_up_days: u32,
}

impl Default for DeadlineRules {
    fn default() -> Self {
        DeadlineRules {
            count: DayCount::Calendar,
            follow_up_days: DEFAULT_FOLLOW_UP_DAYS,
        }
    }
}

/// The deadline of `kind` for an event on `start`, under the default
/// [`DeadlineRules`] (calendar days, 90-day follow-up).
pub fn due_for(kind: DeadlineKind, start: Date, cal: &Calendar) -> Date {
    due_for_with(kind, start, &DeadlineRules::default(), cal)
}

/// The deadline of `kind` for an event on `start`, under the office's `rules`.
pub fn due_for_with(
    kind: DeadlineKind,
    start: Date,
    rules: &DeadlineRules,
    cal: &Calendar,
) -> Date {
    let n = |days| deadline(start, days, rules.count, cal);
    match kind {
        DeadlineKind::AcceptanceDecision => n(ACCEPTANCE_DAYS),
        DeadlineKind::Handling => n(HANDLING_DAYS),
        DeadlineKind::HandlingExtended => {
            deadline(n(HANDLING_DAYS), MAX_EXTENSION_DAYS, rules.count, cal)
        }
        DeadlineKind::ReviewRequest
        | DeadlineKind::ReviewDecision
        | DeadlineKind::ReReviewRequest
        | DeadlineKind::ReReviewDecision => n(REVIEW_DAYS),
        DeadlineKind::FollowUp => n(rules.follow_up_days),
    }
}

/// Checks that an event dated `on` falls inside the window of `kind`
/// opened by `start`, i.e. `start <= on <= due_for_with(kind, start, ..)`.
/// Use it before moving a case to `review_requested` or
/// `re_review_requested`: a request after the 30-day window (Art. 35, 36)
/// is refused.
pub fn check_window(
    kind: DeadlineKind,
    start: Date,
    on: Date,
    rules: &DeadlineRules,
    cal: &Calendar,
) -> Result<(), WorkflowError> {
    let due = due_for_with(kind, start, rules, cal);
    if on < start {
        Err(WorkflowError::WindowNotOpen {
            what: kind.what(),
            on,
            start,
        })
    } else if on > due {
        Err(WorkflowError::WindowClosed {
            what: kind.what(),
            on,
            due,
            article: kind.article(),
        })
    } else {
        Ok(())
    }
}

/// A validated extension of the handling period: 1 to 30 days (Art. 34:
/// 延长期限不得超过30日).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Extension {
    /// Days added, 1..=30.
    pub days: u32,
}

impl Extension {
    /// Validates `days` (1..=30).
    pub fn new(days: u32) -> Result<Extension, WorkflowError> {
        if (1..=MAX_EXTENSION_DAYS).contains(&days) {
            Ok(Extension { days })
        } else {
            Err(WorkflowError::ExtensionOutOfRange { days })
        }
    }
}

/// Extends the handling deadline once, by 1 to 30 days (Art. 34: 情况复杂的，
/// 经本机关、单位负责人批准，可以适当延长办理期限，但延长期限不得超过30日).
///
/// **Reading.** The extension runs on from the original deadline
/// `original_due` (the statutory last day as [`due_for`] gives it, after any
/// move past holidays), not from the day the extension was approved. The
/// extension lengthens "the handling period" (办理期限), so it follows on
/// from that period's end. The start day is not counted, and the new last
/// day also moves past non-working days. Calendar days are counted. Note
/// that counting from the unmoved 60th day would give a date a few days
/// earlier when the original period ended in a holiday. An office that reads
/// it that way should pass the unmoved date.
///
/// Refuses a second extension ([`WorkflowError::AlreadyExtended`]) and 0 or
/// more than 30 days ([`WorkflowError::ExtensionOutOfRange`]).
pub fn extend(
    original_due: Date,
    days: u32,
    already_extended: bool,
    cal: &Calendar,
) -> Result<Date, WorkflowError> {
    if already_extended {
        return Err(WorkflowError::AlreadyExtended);
    }
    let ext = Extension::new(days)?;
    Ok(deadline(original_due, ext.days, DayCount::Calendar, cal))
}

/// Days from `today` to `due`: positive while time remains, 0 on the last
/// day, negative when overdue.
pub fn days_left(due: Date, today: Date) -> i64 {
    (due - today).whole_days()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn cal() -> &'static Calendar {
        Calendar::builtin()
    }

    fn cd(start: Date, days: u32) -> Date {
        deadline(start, days, DayCount::Calendar, cal())
    }

    // ---- the shipped calendar ----

    #[test]
    fn builtin_2026_contents() {
        let c = cal();
        assert_eq!(c.years().collect::<Vec<_>>(), vec![2026]);
        assert_eq!(c.holidays.len(), 3 + 9 + 3 + 5 + 3 + 3 + 7);
        let workdays: Vec<Date> = c.workdays.keys().copied().collect();
        assert_eq!(
            workdays,
            vec![
                date!(2026 - 01 - 04),
                date!(2026 - 02 - 14),
                date!(2026 - 02 - 28),
                date!(2026 - 05 - 09),
                date!(2026 - 09 - 20),
                date!(2026 - 10 - 10),
            ]
        );
        for d in &workdays {
            assert!(is_weekend(*d) && c.is_working_day(*d), "{d}");
        }
        for (first, last, label) in [
            (date!(2026 - 01 - 01), date!(2026 - 01 - 03), "元旦"),
            (date!(2026 - 02 - 15), date!(2026 - 02 - 23), "春节"),
            (date!(2026 - 04 - 04), date!(2026 - 04 - 06), "清明节"),
            (date!(2026 - 05 - 01), date!(2026 - 05 - 05), "劳动节"),
            (date!(2026 - 06 - 19), date!(2026 - 06 - 21), "端午节"),
            (date!(2026 - 09 - 25), date!(2026 - 09 - 27), "中秋节"),
            (date!(2026 - 10 - 01), date!(2026 - 10 - 07), "国庆节"),
        ] {
            let mut d = first;
            while d <= last {
                assert!(!c.is_working_day(d) && c.is_holiday(d), "{d}");
                assert_eq!(c.label(d), Some(label));
                d = d.next_day().unwrap();
            }
            // the day after each holiday is a working day
            assert!(c.is_working_day(last.next_day().unwrap()), "{last}");
        }
        assert_eq!(c.longest_non_working_run(), 9);
    }

    #[test]
    fn ordinary_days() {
        let c = cal();
        assert!(c.is_working_day(date!(2026 - 03 - 02))); // Monday
        assert!(!c.is_working_day(date!(2026 - 03 - 07))); // Saturday
        assert!(!c.is_working_day(date!(2026 - 03 - 08))); // Sunday
        assert_eq!(c.label(date!(2026 - 03 - 02)), None);
    }

    #[test]
    fn other_years_fall_back_to_weekends_only() {
        let c = cal();
        assert!(!c.covers_year(2027));
        // 2027-10-01 is a Friday: not known as a holiday, so working
        assert!(c.is_working_day(date!(2027 - 10 - 01)));
        assert!(!c.is_working_day(date!(2027 - 10 - 02)));
        assert_eq!(Calendar::weekends_only().longest_non_working_run(), 2);
    }

    // ---- parsing ----

    #[test]
    fn parse_format() {
        let c = Calendar::parse(
            "# comment\n\n  holiday 2026-01-01..2026-01-03 元旦 假期\nworkday 2026-01-04\n",
        )
        .unwrap();
        assert_eq!(c.label(date!(2026 - 01 - 02)), Some("元旦 假期"));
        assert_eq!(c.label(date!(2026 - 01 - 04)), Some(""));
        assert!(c.is_adjusted_workday(date!(2026 - 01 - 04)));
        assert!(c.covers_year(2026));
        assert_eq!(Calendar::parse("").unwrap(), Calendar::weekends_only());
    }

    fn parse_err(text: &str) -> String {
        Calendar::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn parse_errors_name_line_and_problem() {
        assert_eq!(
            parse_err("# x\nvacation 2026-01-01"),
            "holiday calendar, line 2: unknown entry \"vacation\"; a line must start with `holiday` or `workday` (or `#` for a comment)"
        );
        assert!(
            parse_err("holiday").starts_with("holiday calendar, line 1: `holiday` needs a date")
        );
        assert_eq!(
            parse_err("\n\nholiday 2026-02-30"),
            "holiday calendar, line 3: \"2026-02-30\" is not a valid date; write YYYY-MM-DD, e.g. 2026-10-01"
        );
        assert!(
            parse_err("holiday 2026/01/01").contains("line 1: \"2026/01/01\" is not a valid date")
        );
        assert!(parse_err("holiday 2026-01-01..").contains("\"\" is not a valid date"));
        assert_eq!(
            parse_err("holiday 2026-01-03..2026-01-01"),
            "holiday calendar, line 1: the range 2026-01-03..2026-01-01 ends before it starts"
        );
        assert!(
            parse_err("holiday 2026-01-01..2026-03-01")
                .contains("covers 60 days; one line may cover at most 31")
        );
        assert_eq!(
            parse_err("workday 2026-01-05"),
            "holiday calendar, line 1: 2026-01-05 is a Monday, already a working day; `workday` is only for 调休 Saturdays and Sundays"
        );
        assert_eq!(
            parse_err("holiday 2026-10-01..2026-10-07\nworkday 2026-10-04"),
            "holiday calendar, line 2: 2026-10-04 is already listed on line 1"
        );
        assert!(
            parse_err("holiday 2026-10-01\nholiday 2026-09-30..2026-10-02")
                .contains("line 2: 2026-10-01 is already listed on line 1")
        );
    }

    // ---- deadline() ----

    #[test]
    fn start_day_not_counted() {
        assert_eq!(cd(date!(2026 - 03 - 02), 1), date!(2026 - 03 - 03));
        assert_eq!(cd(date!(2026 - 03 - 02), 15), date!(2026 - 03 - 17));
        assert_eq!(cd(date!(2026 - 03 - 02), 0), date!(2026 - 03 - 02));
        // day 0 on a Saturday still moves to a working day
        assert_eq!(cd(date!(2026 - 03 - 07), 0), date!(2026 - 03 - 09));
    }

    #[test]
    fn weekend_moves_to_monday() {
        // Friday + 1 = Saturday -> Monday
        assert_eq!(cd(date!(2026 - 03 - 06), 1), date!(2026 - 03 - 09));
    }

    #[test]
    fn month_ends() {
        // 2026-01-31 + 30 = 2026-03-02 (February has 28 days), a Monday
        assert_eq!(cd(date!(2026 - 01 - 31), 30), date!(2026 - 03 - 02));
        // 2026-03-31 + 30 = 2026-04-30 (Thursday)
        assert_eq!(cd(date!(2026 - 03 - 31), 30), date!(2026 - 04 - 30));
        // 2026-12-31 + 15 = 2027-01-15 (Friday), across the year end
        assert_eq!(cd(date!(2026 - 12 - 31), 15), date!(2027 - 01 - 15));
    }

    #[test]
    fn leap_year_2028() {
        // February 2028 has 29 days: 2028-01-31 + 30 = 2028-03-01 (Wednesday)
        assert_eq!(cd(date!(2028 - 01 - 31), 30), date!(2028 - 03 - 01));
        assert_eq!(cd(date!(2028 - 02 - 28), 1), date!(2028 - 02 - 29));
        // 2028-02-14 + 15 = 2028-02-29 (Tuesday)
        assert_eq!(cd(date!(2028 - 02 - 14), 15), date!(2028 - 02 - 29));
    }

    #[test]
    fn national_day_2026_moves_to_first_working_day_after() {
        // accepted 2026-08-05: 60 days -> 2026-10-04 (in 国庆) -> 2026-10-08 (Thursday)
        assert_eq!(cd(date!(2026 - 08 - 05), 60), date!(2026 - 10 - 08));
        assert_eq!(
            due_for(DeadlineKind::Handling, date!(2026 - 08 - 05), cal()),
            date!(2026 - 10 - 08)
        );
        // every day of 国庆 moves to 10-08
        for start in 1..=7u8 {
            let reached = Date::from_calendar_date(2026, time::Month::October, start).unwrap();
            let from = reached.checked_sub(Duration::days(30)).unwrap();
            assert_eq!(cd(from, 30), date!(2026 - 10 - 08), "{reached}");
        }
    }

    #[test]
    fn spring_festival_2026() {
        // received 2026-02-01: 15 days -> 2026-02-16 (春节) -> 2026-02-24
        assert_eq!(
            due_for(
                DeadlineKind::AcceptanceDecision,
                date!(2026 - 02 - 01),
                cal()
            ),
            date!(2026 - 02 - 24)
        );
    }

    #[test]
    fn adjusted_saturday_workday_stays() {
        // 2026-10-10 is a Saturday worked for 国庆
        assert_eq!(cd(date!(2026 - 09 - 10), 30), date!(2026 - 10 - 10));
        // 2026-02-14 is a Saturday worked for 春节: received 01-30, 15 days
        assert_eq!(
            due_for(
                DeadlineKind::AcceptanceDecision,
                date!(2026 - 01 - 30),
                cal()
            ),
            date!(2026 - 02 - 14)
        );
        // 2026-01-04 is a Sunday worked for 元旦
        assert_eq!(cd(date!(2025 - 12 - 20), 15), date!(2026 - 01 - 04));
        // without the calendar, the same Saturday would move to Monday
        assert_eq!(
            deadline(
                date!(2026 - 09 - 10),
                30,
                DayCount::Calendar,
                &Calendar::weekends_only()
            ),
            date!(2026 - 10 - 12)
        );
    }

    #[test]
    fn working_day_count() {
        let w = |s, n| deadline(s, n, DayCount::Working, cal());
        // 09-30 (Wed): 10-01..07 off, 10-08 Thu, 10-09 Fri, 10-10 Sat (调休) -> 3rd
        assert_eq!(w(date!(2026 - 09 - 30), 3), date!(2026 - 10 - 10));
        // 15 working days from 02-13 (Fri): 02-14 (调休), 02-24..27, 02-28 (调休),
        // 03-02..06, 03-09..12
        assert_eq!(w(date!(2026 - 02 - 13), 15), date!(2026 - 03 - 12));
        assert_eq!(w(date!(2026 - 03 - 06), 1), date!(2026 - 03 - 09));
        assert_eq!(w(date!(2026 - 03 - 07), 0), date!(2026 - 03 - 09));
        let rules = DeadlineRules {
            count: DayCount::Working,
            ..DeadlineRules::default()
        };
        assert_eq!(
            due_for_with(
                DeadlineKind::AcceptanceDecision,
                date!(2026 - 02 - 13),
                &rules,
                cal()
            ),
            date!(2026 - 03 - 12)
        );
    }

    #[test]
    fn saturates_instead_of_panicking() {
        assert_eq!(cd(date!(9999 - 12 - 01), 100), Date::MAX);
        assert_eq!(cd(date!(2026 - 01 - 01), u32::MAX), Date::MAX);
        assert_eq!(
            deadline(date!(9999 - 12 - 01), 100, DayCount::Working, cal()),
            Date::MAX
        );
    }

    // ---- kinds ----

    #[test]
    fn review_windows() {
        // reply received 2026-09-01: 30 days -> 10-01 (国庆) -> 10-08
        let start = date!(2026 - 09 - 01);
        let due = due_for(DeadlineKind::ReviewRequest, start, cal());
        assert_eq!(due, date!(2026 - 10 - 08));
        let r = DeadlineRules::default();
        let k = DeadlineKind::ReviewRequest;
        assert_eq!(check_window(k, start, start, &r, cal()), Ok(()));
        assert_eq!(
            check_window(k, start, date!(2026 - 10 - 08), &r, cal()),
            Ok(())
        );
        let late = check_window(k, start, date!(2026 - 10 - 09), &r, cal()).unwrap_err();
        assert_eq!(
            late.to_string(),
            "the review request (复查申请) on 2026-10-09 is too late: the window closed on 2026-10-08 (信访工作条例 Art. 35)"
        );
        let early = check_window(k, start, date!(2026 - 08 - 31), &r, cal()).unwrap_err();
        assert!(
            early
                .to_string()
                .contains("dated before the window opened on 2026-09-01")
        );

        // review request received 2026-03-02 -> opinion due 2026-04-01 (Wednesday)
        assert_eq!(
            due_for(DeadlineKind::ReviewDecision, date!(2026 - 03 - 02), cal()),
            date!(2026 - 04 - 01)
        );
        // review opinion received 2026-04-05: 30 days -> 05-05 (劳动节) -> 05-06
        assert_eq!(
            due_for(DeadlineKind::ReReviewRequest, date!(2026 - 04 - 05), cal()),
            date!(2026 - 05 - 06)
        );
        let late = check_window(
            DeadlineKind::ReReviewRequest,
            date!(2026 - 04 - 05),
            date!(2026 - 05 - 07),
            &r,
            cal(),
        )
        .unwrap_err();
        assert!(
            late.to_string().contains("(信访工作条例 Art. 36)"),
            "{late}"
        );
        // re-review request received 2026-04-10: 30 days -> 05-10 (Sunday) -> 05-11
        assert_eq!(
            due_for(DeadlineKind::ReReviewDecision, date!(2026 - 04 - 10), cal()),
            date!(2026 - 05 - 11)
        );
    }

    #[test]
    fn handling_extended_and_follow_up() {
        // 60 days -> 10-08; +30 -> 11-07 (Saturday) -> 11-09
        assert_eq!(
            due_for(DeadlineKind::HandlingExtended, date!(2026 - 08 - 05), cal()),
            date!(2026 - 11 - 09)
        );
        // closed 2026-01-05: 90 days -> 04-05 (清明) -> 04-07
        assert_eq!(
            due_for(DeadlineKind::FollowUp, date!(2026 - 01 - 05), cal()),
            date!(2026 - 04 - 07)
        );
        let rules = DeadlineRules {
            follow_up_days: 30,
            ..DeadlineRules::default()
        };
        assert_eq!(
            due_for_with(DeadlineKind::FollowUp, date!(2026 - 03 - 02), &rules, cal()),
            date!(2026 - 04 - 01)
        );
    }

    #[test]
    fn kind_names() {
        let names: std::collections::HashSet<_> =
            DeadlineKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), DeadlineKind::ALL.len());
        assert_eq!(DeadlineKind::Handling.article(), "Art. 34");
        assert_eq!(DeadlineKind::ReviewRequest.article(), "Art. 35");
        assert_eq!(DeadlineKind::ReReviewDecision.article(), "Art. 36");
        for k in DeadlineKind::ALL {
            assert!(!k.label_zh().is_empty());
        }
    }

    // ---- extension ----

    #[test]
    fn extension_once_up_to_30() {
        let original = due_for(DeadlineKind::Handling, date!(2026 - 08 - 05), cal());
        assert_eq!(original, date!(2026 - 10 - 08));
        // counts from the original last day: 10-08 + 30 = 11-07 (Sat) -> 11-09
        assert_eq!(
            extend(original, 30, false, cal()),
            Ok(date!(2026 - 11 - 09))
        );
        assert_eq!(extend(original, 1, false, cal()), Ok(date!(2026 - 10 - 09)));
        // 10-08 + 2 = 10-10, the 调休 Saturday
        assert_eq!(extend(original, 2, false, cal()), Ok(date!(2026 - 10 - 10)));
        assert_eq!(
            extend(original, 31, false, cal()),
            Err(WorkflowError::ExtensionOutOfRange { days: 31 })
        );
        assert_eq!(
            extend(original, 0, false, cal()),
            Err(WorkflowError::ExtensionOutOfRange { days: 0 })
        );
        let second = extend(original, 10, true, cal()).unwrap_err();
        assert_eq!(second, WorkflowError::AlreadyExtended);
        assert!(second.to_string().contains("already been extended once"));
        // a second extension is refused whatever its length
        assert_eq!(
            extend(original, 45, true, cal()),
            Err(WorkflowError::AlreadyExtended)
        );
        assert_eq!(Extension::new(30), Ok(Extension { days: 30 }));
        assert!(Extension::new(31).is_err());
    }

    #[test]
    fn days_left_signs() {
        let due = date!(2026 - 10 - 08);
        assert_eq!(days_left(due, date!(2026 - 10 - 01)), 7);
        assert_eq!(days_left(due, due), 0);
        assert_eq!(days_left(due, date!(2026 - 10 - 10)), -2);
        assert_eq!(days_left(date!(2026 - 03 - 01), date!(2026 - 01 - 31)), 29);
    }

    // ---- properties ----

    fn any_date() -> impl Strategy<Value = Date> {
        // 2025-01-01 .. 2028-12-31
        (0i64..1461).prop_map(|n| date!(2025 - 01 - 01) + Duration::days(n))
    }

    proptest! {
        #[test]
        fn calendar_deadline_properties(start in any_date(), days in 0u32..=120) {
            let c = cal();
            let d = deadline(start, days, DayCount::Calendar, c);
            let reached = start + Duration::days(i64::from(days));
            prop_assert!(d >= reached);
            prop_assert!(c.is_working_day(d));
            let moved = (d - reached).whole_days();
            prop_assert!(moved <= i64::from(c.longest_non_working_run()), "moved {moved}");
            // it is the first working day on or after the day reached
            let mut x = reached;
            while x < d {
                prop_assert!(!c.is_working_day(x), "{x} was a working day before {d}");
                x = x.next_day().unwrap();
            }
        }

        #[test]
        fn working_deadline_properties(start in any_date(), days in 1u32..=60) {
            let c = cal();
            let d = deadline(start, days, DayCount::Working, c);
            prop_assert!(d >= start + Duration::days(i64::from(days)));
            prop_assert!(c.is_working_day(d));
            // exactly `days` working days in (start, d]
            let mut n = 0;
            let mut x = start;
            while x < d {
                x = x.next_day().unwrap();
                if c.is_working_day(x) { n += 1; }
            }
            prop_assert_eq!(n, days);
        }

        #[test]
        fn extension_never_before_original(start in any_date(), days in 1u32..=30) {
            let original = due_for(DeadlineKind::Handling, start, cal());
            let extended = extend(original, days, false, cal()).unwrap();
            prop_assert!(extended > original);
            prop_assert!(extended <= due_for(DeadlineKind::HandlingExtended, start, cal()));
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,200}") {
            let _ = Calendar::parse(&text);
        }

        #[test]
        fn parse_never_panics_on_near_valid(
            kw in prop_oneof![Just("holiday"), Just("workday"), Just("x")],
            a in any_date(), b in any_date(), range in any::<bool>()
        ) {
            let line = if range { format!("{kw} {a}..{b} 标签") } else { format!("{kw} {a}") };
            if let Err(e) = Calendar::parse(&line) {
                prop_assert!(e.to_string().starts_with("holiday calendar, line 1: "));
            }
        }
    }
}
