//! The compliance report (访问审计报告): who looked at which petitioners' records, when,
//! and what looks wrong.
//!
//! Input is the decoded access log. Entries hold ids and codes only, never a name, ID
//! number, phone, address or record text; the one free-text field, a reveal's `reason`,
//! is scrubbed of digit runs at write time and shown in the reveals section only. Output is
//! a [`Report`] that serialises to JSON, and renders as aligned plain text
//! ([`render_text`]) or as one self-contained, printable HTML page with inline SVG charts
//! ([`render_html`]: no script, no external resource, every string escaped).
//!
//! What the report looks for, per user and local day (the offset is configurable; the
//! default is China Standard Time, UTC+08:00):
//! - **canary** touches: entries flagged [`FLAG_CANARY`], any touch of a honey record
//!   (high);
//! - **bulk** access: distinct records read reaching a threshold of
//!   [`ReportOptions::bulk_thresholds`] (medium at the lowest, high above);
//! - **repeated denials** (medium) and repeated **failed unlocks** (medium);
//! - **off-hours** reads: outside working hours or on Saturday/Sunday (low);
//! - reads flagged [`FLAG_UNASSIGNED_CASE`]: cases not assigned to the reader (low);
//! - identity **reveals** are listed with purpose and reason for review, not as findings.
//!
//! The report does not check the hash chain or the MACs: verify the log first
//! ([`crate::audit::verify_log`]). Public holidays and make-up working days (调休) are
//! not known to it; only Monday to Friday working hours are.

use crate::audit::{Entry, Outcome, RecordedEntry};
use crate::model::RecordId;
use crate::policy::{Action, Role};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset, Weekday};

/// The flag the gate sets on an entry that touched a honey (canary) record.
pub const FLAG_CANARY: &str = "canary";

/// The flag the gate sets on a case read by someone the case is not assigned to.
pub const FLAG_UNASSIGNED_CASE: &str = "unassigned_case";

/// At most this many off-hours rows are listed; [`OffHours::total`] counts them all.
pub const OFF_HOURS_ROW_CAP: usize = 200;

/// The actions that read records: they count as accesses, and their targets (except a case
/// list's, which carries no personal data) as records read.
pub const READ_ACTIONS: [Action; 6] = [
    Action::PetitionerShow,
    Action::PetitionerReveal,
    Action::CaseShow,
    Action::CaseList,
    Action::Find,
    Action::Export,
];

/// Whether `action` reads records (one of [`READ_ACTIONS`]).
pub fn is_read(action: Action) -> bool {
    READ_ACTIONS.contains(&action)
}

/// What to report on and what counts as suspicious.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Only entries at or after this time (unix ms, inclusive).
    pub since_ms: Option<i64>,
    /// Only entries before this time (unix ms, exclusive).
    pub until_ms: Option<i64>,
    /// Local time offset in minutes east of UTC; days, hours and weekdays are local.
    /// Default +480 (China Standard Time). Clamped to ±25:59.
    pub utc_offset_minutes: i32,
    /// First working hour (inclusive), default 8: a read at 07:59 is off-hours, 08:00 is
    /// not.
    pub work_start_hour: u8,
    /// End of working hours (exclusive), default 18: a read at 18:00 is off-hours.
    /// Monday to Friday are working days.
    pub work_end_hour: u8,
    /// Distinct records read per user per local day that make a bulk-access row. Default
    /// `[25, 250, 2500]`: the thresholds of the 2017 SPC/SPP interpretation on crimes of
    /// infringing citizens' personal information (《最高人民法院、最高人民检察院关于办理
    /// 侵犯公民个人信息刑事案件适用法律若干问题的解释》, 法释〔2017〕10号, Art. 5),
    /// which sets 50 / 500 / 5000 items by kind of information as "serious circumstances",
    /// and half of that for information obtained while performing official duties or
    /// providing services — the case of office staff, hence 25 / 250 / 2500. They are
    /// review triggers here, not a legal determination: the interpretation counts items
    /// obtained, sold or provided, the report counts records read. Zeros are ignored.
    pub bulk_thresholds: Vec<usize>,
    /// Denied requests (other than unlocks) per user per local day that make a
    /// repeated-denials row; also the failed unlocks per name per day that make a finding.
    /// Default 3.
    pub repeated_denials: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            since_ms: None,
            until_ms: None,
            utc_offset_minutes: 480,
            work_start_hour: 8,
            work_end_hour: 18,
            bulk_thresholds: vec![25, 250, 2500],
            repeated_denials: 3,
        }
    }
}

/// The compliance report. Ids are 32 hex digits; times are RFC 3339 in the configured
/// offset (e.g. `2026-03-02T09:30:00+08:00`, whole seconds); days are `YYYY-MM-DD` local.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The options the report was built with.
    pub parameters: Parameters,
    /// First and last entry time in range.
    pub period: Period,
    /// Counts over the entries in range.
    pub totals: Totals,
    /// Accesses, records read, denials and reveals per user per local day.
    pub per_user_day: Vec<UserDay>,
    /// User-days whose distinct records read reach a bulk threshold.
    pub bulk: Vec<BulkAccess>,
    /// Allowed reads outside working hours or at the weekend.
    pub off_hours: OffHours,
    /// Entries flagged [`FLAG_UNASSIGNED_CASE`].
    pub unassigned_reads: Vec<UnassignedRead>,
    /// Allowed identity reveals (`petitioner_reveal`).
    pub reveals: Vec<Reveal>,
    /// User-days with at least `repeated_denials` denied requests.
    pub repeated_denials: Vec<RepeatedDenials>,
    /// Entries flagged [`FLAG_CANARY`]: touches of honey records.
    pub canary: Vec<CanaryTouch>,
    /// Denied unlocks per name per local day.
    pub failed_unlocks: Vec<FailedUnlocks>,
    /// What an officer should look at, most serious first.
    pub findings: Vec<Finding>,
}

/// The options a report was built with, as shown to its reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Parameters {
    /// The local offset, e.g. `+08:00`.
    pub utc_offset: String,
    /// The inclusive lower bound of the filter, if any.
    pub since: Option<String>,
    /// The exclusive upper bound of the filter, if any.
    pub until: Option<String>,
    /// First working hour (inclusive).
    pub work_start_hour: u8,
    /// End of working hours (exclusive).
    pub work_end_hour: u8,
    /// The bulk thresholds used (ascending, zeros dropped).
    pub bulk_thresholds: Vec<usize>,
    /// Denials per user per day that make a repeated-denials row.
    pub repeated_denials: usize,
}

/// First and last entry time in range (`None` when no entry is in range).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    /// The earliest entry time.
    pub first: Option<String>,
    /// The latest entry time.
    pub last: Option<String>,
}

/// Counts over the entries in range.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Entries in range.
    pub entries: usize,
    /// Entries allowed.
    pub allowed: usize,
    /// Entries denied (failed unlocks included).
    pub denied: usize,
    /// Distinct actor names, not counting names seen only in failed unlocks (those may be
    /// mistyped or guessed names).
    pub distinct_users: usize,
    /// Denied unlocks.
    pub failed_unlocks: usize,
}

/// One user's activity on one local day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserDay {
    /// The user name.
    pub user: String,
    /// The local day, `YYYY-MM-DD`.
    pub day: String,
    /// Allowed read entries ([`READ_ACTIONS`]).
    pub accesses: usize,
    /// Distinct target ids over those entries (petitioners and cases alike).
    pub distinct_records: usize,
    /// Denied entries, failed unlocks excepted (those are in [`Report::failed_unlocks`]).
    pub denials: usize,
    /// Allowed identity reveals.
    pub reveals: usize,
}

/// A user-day whose distinct records read reach a bulk threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BulkAccess {
    /// The user name.
    pub user: String,
    /// The local day.
    pub day: String,
    /// Distinct records read that day.
    pub distinct_records: usize,
    /// The highest threshold reached.
    pub threshold: usize,
}

/// Off-hours reads: the first [`OFF_HOURS_ROW_CAP`] rows and the total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OffHours {
    /// All off-hours reads in range.
    pub total: usize,
    /// The first of them, in log order.
    pub rows: Vec<OffHoursAccess>,
}

/// An allowed read outside working hours or at the weekend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OffHoursAccess {
    /// Entry sequence number.
    pub seq: u64,
    /// The user name.
    pub user: String,
    /// Local time.
    pub time: String,
    /// Whether the day is a Saturday or Sunday.
    pub weekend: bool,
    /// What was done.
    pub action: Action,
    /// How many records were touched.
    pub targets: usize,
}

/// An entry flagged [`FLAG_UNASSIGNED_CASE`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnassignedRead {
    /// Entry sequence number.
    pub seq: u64,
    /// The user name.
    pub user: String,
    /// The user's role, when known.
    pub role: Option<Role>,
    /// What was done.
    pub action: Action,
    /// Local time.
    pub time: String,
    /// Allowed or denied.
    pub outcome: Outcome,
    /// The records touched.
    pub targets: Vec<String>,
}

/// An allowed identity reveal (`petitioner_reveal`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reveal {
    /// Entry sequence number.
    pub seq: u64,
    /// The user name.
    pub user: String,
    /// Local time.
    pub time: String,
    /// The petitioners revealed.
    pub targets: Vec<String>,
    /// The purpose code.
    pub purpose: Option<String>,
    /// The stated reason (free text, scrubbed of digit runs when logged).
    pub reason: Option<String>,
    /// The case named for the reveal.
    pub case_ref: Option<String>,
}

/// A user-day with repeated denied requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepeatedDenials {
    /// The user name.
    pub user: String,
    /// The local day.
    pub day: String,
    /// Denied requests that day (failed unlocks excepted).
    pub count: usize,
    /// The distinct detail codes seen, sorted (`-` for none).
    pub details: Vec<String>,
}

/// An entry flagged [`FLAG_CANARY`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CanaryTouch {
    /// Entry sequence number.
    pub seq: u64,
    /// The user name.
    pub user: String,
    /// The user's role, when known.
    pub role: Option<Role>,
    /// What was done.
    pub action: Action,
    /// Local time.
    pub time: String,
    /// Allowed or denied.
    pub outcome: Outcome,
    /// The records touched.
    pub targets: Vec<String>,
}

/// Denied unlocks for one name on one local day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedUnlocks {
    /// The name given (not necessarily a user).
    pub user: String,
    /// The local day.
    pub day: String,
    /// Denied unlocks.
    pub count: usize,
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Look now: honey-record touches, bulk reads above the lowest threshold.
    High,
    /// Look soon: bulk reads at the lowest threshold, repeated denials or failed unlocks.
    Medium,
    /// Review: off-hours reads, reads of unassigned cases.
    Low,
}

impl Severity {
    /// "high", "medium" or "low".
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

/// Something an officer should look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How serious.
    pub severity: Severity,
    /// `canary`, `bulk_access`, `repeated_denials`, `failed_unlocks`, `off_hours` or
    /// `unassigned_case`.
    pub code: String,
    /// The user (for failed unlocks: the name given).
    pub user: String,
    /// One sentence, in English with the Chinese term.
    pub message: String,
}

const TIME_FMT: &[BorrowedFormatItem<'static>] = format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
);
const DAY_FMT: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

fn offset(minutes: i32) -> UtcOffset {
    let m = minutes.clamp(-(25 * 60 + 59), 25 * 60 + 59);
    UtcOffset::from_whole_seconds(m * 60).unwrap_or(UtcOffset::UTC)
}

fn offset_str(off: UtcOffset) -> String {
    let s = off.whole_seconds();
    let sign = if s < 0 { '-' } else { '+' };
    let m = s.unsigned_abs() / 60;
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

/// The local time of `ms` (an out-of-range time shows as the epoch).
fn local(ms: i64, off: UtcOffset) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.checked_to_offset(off))
        .unwrap_or_else(|| OffsetDateTime::UNIX_EPOCH.to_offset(off))
}

fn fmt_time(t: OffsetDateTime) -> String {
    t.format(TIME_FMT).unwrap_or_default()
}

fn fmt_day(d: Date) -> String {
    d.format(DAY_FMT).unwrap_or_default()
}

fn hex_ids(ids: &[RecordId]) -> Vec<String> {
    ids.iter().map(RecordId::to_string).collect()
}

fn has_flag(e: &Entry, flag: &str) -> bool {
    e.flags.iter().any(|f| f == flag)
}

#[derive(Default)]
struct DayAcc {
    accesses: usize,
    distinct: BTreeSet<RecordId>,
    denials: usize,
    details: BTreeSet<String>,
    reveals: usize,
}

/// Builds the report over the entries whose time is in `[since_ms, until_ms)`. Entries
/// are taken in sequence order whatever the input order.
pub fn build<'a>(
    entries: impl IntoIterator<Item = &'a RecordedEntry>,
    opts: &ReportOptions,
) -> Report {
    let off = offset(opts.utc_offset_minutes);
    let mut thresholds: Vec<usize> = opts
        .bulk_thresholds
        .iter()
        .copied()
        .filter(|&t| t > 0)
        .collect();
    thresholds.sort_unstable();
    thresholds.dedup();

    let mut selected: Vec<&Entry> = entries
        .into_iter()
        .map(|r| &r.entry)
        .filter(|e| {
            opts.since_ms.is_none_or(|s| e.time_ms >= s)
                && opts.until_ms.is_none_or(|u| e.time_ms < u)
        })
        .collect();
    selected.sort_by_key(|e| e.seq);

    let mut totals = Totals::default();
    let mut first: Option<i64> = None;
    let mut last: Option<i64> = None;
    let mut users: BTreeSet<&str> = BTreeSet::new();
    let mut days: BTreeMap<(String, Date), DayAcc> = BTreeMap::new();
    let mut unlocks: BTreeMap<(String, Date), usize> = BTreeMap::new();
    let mut off_rows = Vec::new();
    let mut off_total = 0usize;
    let mut off_by_user: BTreeMap<String, (usize, BTreeSet<Date>)> = BTreeMap::new();
    let mut reveals = Vec::new();
    let mut canary = Vec::new();
    let mut unassigned = Vec::new();

    for e in &selected {
        totals.entries += 1;
        match e.outcome {
            Outcome::Allowed => totals.allowed += 1,
            Outcome::Denied => totals.denied += 1,
        }
        first = Some(first.map_or(e.time_ms, |f| f.min(e.time_ms)));
        last = Some(last.map_or(e.time_ms, |l| l.max(e.time_ms)));
        let lt = local(e.time_ms, off);
        let day = lt.date();
        let key = || (e.actor.clone(), day);

        if e.action == Action::Unlock && e.outcome == Outcome::Denied {
            totals.failed_unlocks += 1;
            *unlocks.entry(key()).or_default() += 1;
        } else {
            users.insert(e.actor.as_str());
            if e.outcome == Outcome::Denied {
                let acc = days.entry(key()).or_default();
                acc.denials += 1;
                acc.details
                    .insert(e.detail.clone().unwrap_or_else(|| "-".to_owned()));
            } else if is_read(e.action) {
                let acc = days.entry(key()).or_default();
                acc.accesses += 1;
                // A case list returns meta only (no personal data): it counts as an access
                // but its ids do not count toward the bulk thresholds.
                if e.action != Action::CaseList {
                    acc.distinct.extend(e.targets.iter().copied());
                }
                if e.action == Action::PetitionerReveal {
                    acc.reveals += 1;
                    reveals.push(Reveal {
                        seq: e.seq,
                        user: e.actor.clone(),
                        time: fmt_time(lt),
                        targets: hex_ids(&e.targets),
                        purpose: e.purpose.clone(),
                        reason: e.reason.clone(),
                        case_ref: e.case_ref.map(|c| c.to_string()),
                    });
                }
                let weekend = matches!(lt.weekday(), Weekday::Saturday | Weekday::Sunday);
                let hour = lt.hour();
                if weekend || hour < opts.work_start_hour || hour >= opts.work_end_hour {
                    off_total += 1;
                    let u = off_by_user.entry(e.actor.clone()).or_default();
                    u.0 += 1;
                    u.1.insert(day);
                    if off_rows.len() < OFF_HOURS_ROW_CAP {
                        off_rows.push(OffHoursAccess {
                            seq: e.seq,
                            user: e.actor.clone(),
                            time: fmt_time(lt),
                            weekend,
                            action: e.action,
                            targets: e.targets.len(),
                        });
                    }
                }
            }
        }
        if has_flag(e, FLAG_CANARY) {
            canary.push(CanaryTouch {
                seq: e.seq,
                user: e.actor.clone(),
                role: e.role,
                action: e.action,
                time: fmt_time(lt),
                outcome: e.outcome,
                targets: hex_ids(&e.targets),
            });
        }
        if has_flag(e, FLAG_UNASSIGNED_CASE) {
            unassigned.push(UnassignedRead {
                seq: e.seq,
                user: e.actor.clone(),
                role: e.role,
                action: e.action,
                time: fmt_time(lt),
                outcome: e.outcome,
                targets: hex_ids(&e.targets),
            });
        }
    }
    totals.distinct_users = users.len();

    let deny_min = opts.repeated_denials.max(1);
    let mut per_user_day = Vec::with_capacity(days.len());
    let mut bulk = Vec::new();
    let mut bulk_level = Vec::new();
    let mut repeated = Vec::new();
    for ((user, day), acc) in &days {
        let day = fmt_day(*day);
        let distinct = acc.distinct.len();
        per_user_day.push(UserDay {
            user: user.clone(),
            day: day.clone(),
            accesses: acc.accesses,
            distinct_records: distinct,
            denials: acc.denials,
            reveals: acc.reveals,
        });
        if let Some(level) = thresholds.iter().rposition(|&t| distinct >= t) {
            bulk_level.push(level);
            bulk.push(BulkAccess {
                user: user.clone(),
                day: day.clone(),
                distinct_records: distinct,
                threshold: thresholds[level],
            });
        }
        if acc.denials >= deny_min {
            repeated.push(RepeatedDenials {
                user: user.clone(),
                day,
                count: acc.denials,
                details: acc.details.iter().cloned().collect(),
            });
        }
    }
    let failed_unlocks: Vec<FailedUnlocks> = unlocks
        .into_iter()
        .map(|((user, day), count)| FailedUnlocks {
            user,
            day: fmt_day(day),
            count,
        })
        .collect();

    let mut findings = Vec::new();
    let mut find = |severity: Severity, code: &str, user: &str, message: String| {
        findings.push(Finding {
            severity,
            code: code.to_owned(),
            user: user.to_owned(),
            message,
        });
    };
    for c in &canary {
        find(
            Severity::High,
            "canary",
            &c.user,
            format!(
                "touched a honey record (canary, 蜜罐记录): {} {} at {} (seq {})",
                c.action.as_str(),
                c.outcome.as_str(),
                c.time,
                c.seq
            ),
        );
    }
    for (b, level) in bulk.iter().zip(&bulk_level) {
        let severity = if *level >= 1 {
            Severity::High
        } else {
            Severity::Medium
        };
        find(
            severity,
            "bulk_access",
            &b.user,
            format!(
                "read {} distinct records on {} (bulk access, 批量查询), reaching the {} threshold",
                b.distinct_records, b.day, b.threshold
            ),
        );
    }
    for d in &repeated {
        find(
            Severity::Medium,
            "repeated_denials",
            &d.user,
            format!(
                "{} on {} (多次被拒): {}",
                count_of(d.count, "denied request", "denied requests"),
                d.day,
                d.details.join(", ")
            ),
        );
    }
    for u in failed_unlocks.iter().filter(|u| u.count >= deny_min) {
        find(
            Severity::Medium,
            "failed_unlocks",
            &u.user,
            format!(
                "{} on {} (登录失败)",
                count_of(u.count, "failed unlock", "failed unlocks"),
                u.day
            ),
        );
    }
    for (user, (count, dates)) in &off_by_user {
        let span = match (dates.first(), dates.last()) {
            (Some(a), Some(b)) if a != b => {
                format!(
                    "on {} days, {} to {}",
                    dates.len(),
                    fmt_day(*a),
                    fmt_day(*b)
                )
            }
            (Some(a), _) => format!("on {}", fmt_day(*a)),
            _ => String::new(),
        };
        find(
            Severity::Low,
            "off_hours",
            user,
            format!(
                "{} outside working hours (非工作时间) {span}",
                count_of(*count, "read access", "read accesses")
            ),
        );
    }
    let mut unassigned_by_user: BTreeMap<&str, usize> = BTreeMap::new();
    for u in &unassigned {
        *unassigned_by_user.entry(&u.user).or_default() += 1;
    }
    for (user, count) in unassigned_by_user {
        find(
            Severity::Low,
            "unassigned_case",
            user,
            format!(
                "{} to cases not assigned to them (非本人承办案件)",
                count_of(count, "access", "accesses")
            ),
        );
    }
    findings.sort_by_key(|f| f.severity);

    Report {
        parameters: Parameters {
            utc_offset: offset_str(off),
            since: opts.since_ms.map(|ms| fmt_time(local(ms, off))),
            until: opts.until_ms.map(|ms| fmt_time(local(ms, off))),
            work_start_hour: opts.work_start_hour,
            work_end_hour: opts.work_end_hour,
            bulk_thresholds: thresholds,
            repeated_denials: opts.repeated_denials,
        },
        period: Period {
            first: first.map(|ms| fmt_time(local(ms, off))),
            last: last.map(|ms| fmt_time(local(ms, off))),
        },
        totals,
        per_user_day,
        bulk,
        off_hours: OffHours {
            total: off_total,
            rows: off_rows,
        },
        unassigned_reads: unassigned,
        reveals,
        repeated_denials: repeated,
        canary,
        failed_unlocks,
        findings,
    }
}

// ---- shared rendering ----------------------------------------------------------------

/// At most this many ids are shown in one table cell (the JSON keeps them all).
const IDS_SHOWN: usize = 5;

enum Cell {
    Text(String),
    Num(u64),
    Ids(Vec<String>),
    Sev(Severity),
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn num(n: impl TryInto<u64>) -> Cell {
    Cell::Num(n.try_into().unwrap_or(u64::MAX))
}

fn opt(s: &Option<String>) -> Cell {
    text(s.as_deref().unwrap_or("-"))
}

fn role(r: Option<Role>) -> Cell {
    text(r.map_or("-", Role::as_str))
}

fn ids(v: &[String]) -> Cell {
    Cell::Ids(v.to_vec())
}

fn id_list(v: &[String], sep: &str) -> String {
    if v.is_empty() {
        return "-".to_owned();
    }
    let mut s = v[..v.len().min(IDS_SHOWN)].join(sep);
    if v.len() > IDS_SHOWN {
        let _ = write!(s, "{sep}… (+{} more)", v.len() - IDS_SHOWN);
    }
    s
}

struct Section {
    id: &'static str,
    title: String,
    /// Shown after the title (rows, or all off-hours reads); none for totals.
    count: Option<usize>,
    note: Option<String>,
    head: &'static [&'static str],
    rows: Vec<Vec<Cell>>,
}

impl Section {
    fn heading(&self) -> String {
        match self.count {
            Some(n) => format!("{}: {n}", self.title),
            None => self.title.clone(),
        }
    }
}

/// `n` and the singular or plural noun.
fn count_of(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn thresholds_str(p: &Parameters) -> String {
    p.bulk_thresholds
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(" / ")
}

fn header_lines(r: &Report) -> Vec<(&'static str, String)> {
    let p = &r.parameters;
    let period = match (&r.period.first, &r.period.last) {
        (Some(a), Some(b)) => format!("{a} to {b}"),
        _ => "no entries in range".to_owned(),
    };
    let filter = match (&p.since, &p.until) {
        (None, None) => "whole log".to_owned(),
        (since, until) => format!(
            "from {} (inclusive) to {} (exclusive)",
            since.as_deref().unwrap_or("the start"),
            until.as_deref().unwrap_or("the end")
        ),
    };
    let (high, medium, low) = severity_counts(r);
    vec![
        ("Period", period),
        ("Filter", filter),
        (
            "Local time",
            format!(
                "UTC{}; working hours {:02}:00-{:02}:00, Monday to Friday (public holidays not considered)",
                p.utc_offset, p.work_start_hour, p.work_end_hour
            ),
        ),
        (
            "Thresholds",
            format!(
                "bulk access {} distinct records per user per day; repeated denials {} per user per day",
                if p.bulk_thresholds.is_empty() {
                    "(none)".to_owned()
                } else {
                    thresholds_str(p)
                },
                p.repeated_denials
            ),
        ),
        (
            "Findings",
            format!("{high} high, {medium} medium, {low} low"),
        ),
    ]
}

fn severity_counts(r: &Report) -> (usize, usize, usize) {
    let n = |s| r.findings.iter().filter(|f| f.severity == s).count();
    (n(Severity::High), n(Severity::Medium), n(Severity::Low))
}

fn sections(r: &Report) -> Vec<Section> {
    let t = &r.totals;
    let mut out = vec![
        Section {
            id: "totals",
            title: "Totals".to_owned(),
            count: None,
            note: None,
            head: &["entries", "allowed", "denied", "users", "failed unlocks"],
            rows: vec![vec![
                num(t.entries),
                num(t.allowed),
                num(t.denied),
                num(t.distinct_users),
                num(t.failed_unlocks),
            ]],
        },
        Section {
            id: "findings",
            title: "Findings (发现问题)".to_owned(),
            count: None,
            note: None,
            head: &["severity", "code", "user", "message"],
            rows: r
                .findings
                .iter()
                .map(|f| {
                    vec![
                        Cell::Sev(f.severity),
                        text(&f.code),
                        text(&f.user),
                        text(&f.message),
                    ]
                })
                .collect(),
        },
        Section {
            id: "canary",
            title: "Honey-record touches (canary, 蜜罐记录)".to_owned(),
            count: None,
            note: Some(
                "Any touch of a honey record is serious: no one has a reason to open one."
                    .to_owned(),
            ),
            head: &[
                "seq", "time", "user", "role", "action", "outcome", "targets",
            ],
            rows: r
                .canary
                .iter()
                .map(|c| {
                    vec![
                        num(c.seq),
                        text(&c.time),
                        text(&c.user),
                        role(c.role),
                        text(c.action.as_str()),
                        text(c.outcome.as_str()),
                        ids(&c.targets),
                    ]
                })
                .collect(),
        },
        Section {
            id: "bulk",
            title: "Bulk access (批量查询)".to_owned(),
            count: None,
            note: Some(format!(
                "Distinct records read per user per local day, against {} — half of the 50 / 500 / 5000 items of the 2017 SPC/SPP interpretation (法释〔2017〕10号, Art. 5) for information obtained in official duties. A review trigger, not a legal finding.",
                if r.parameters.bulk_thresholds.is_empty() {
                    "no thresholds".to_owned()
                } else {
                    thresholds_str(&r.parameters)
                }
            )),
            head: &["user", "day", "distinct records", "threshold"],
            rows: r
                .bulk
                .iter()
                .map(|b| {
                    vec![
                        text(&b.user),
                        text(&b.day),
                        num(b.distinct_records),
                        num(b.threshold),
                    ]
                })
                .collect(),
        },
        Section {
            id: "repeated-denials",
            title: "Repeated denials (多次被拒)".to_owned(),
            count: None,
            note: None,
            head: &["user", "day", "denials", "details"],
            rows: r
                .repeated_denials
                .iter()
                .map(|d| {
                    vec![
                        text(&d.user),
                        text(&d.day),
                        num(d.count),
                        text(d.details.join(", ")),
                    ]
                })
                .collect(),
        },
        Section {
            id: "failed-unlocks",
            title: "Failed unlocks (登录失败)".to_owned(),
            count: None,
            note: Some("Names as typed: they need not be users.".to_owned()),
            head: &["name", "day", "failed"],
            rows: r
                .failed_unlocks
                .iter()
                .map(|u| vec![text(&u.user), text(&u.day), num(u.count)])
                .collect(),
        },
        Section {
            id: "reveals",
            title: "Identity reveals (身份信息查看)".to_owned(),
            count: None,
            note: Some(
                "Listed for review of purpose and reason; not findings by themselves.".to_owned(),
            ),
            head: &[
                "seq", "time", "user", "targets", "purpose", "case", "reason",
            ],
            rows: r
                .reveals
                .iter()
                .map(|v| {
                    vec![
                        num(v.seq),
                        text(&v.time),
                        text(&v.user),
                        ids(&v.targets),
                        opt(&v.purpose),
                        ids(v.case_ref.as_slice()),
                        opt(&v.reason),
                    ]
                })
                .collect(),
        },
        Section {
            id: "unassigned",
            title: "Reads of unassigned cases (非本人承办案件)".to_owned(),
            count: None,
            note: None,
            head: &[
                "seq", "time", "user", "role", "action", "outcome", "targets",
            ],
            rows: r
                .unassigned_reads
                .iter()
                .map(|u| {
                    vec![
                        num(u.seq),
                        text(&u.time),
                        text(&u.user),
                        role(u.role),
                        text(u.action.as_str()),
                        text(u.outcome.as_str()),
                        ids(&u.targets),
                    ]
                })
                .collect(),
        },
    ];
    let oh = &r.off_hours;
    out.push(Section {
        id: "off-hours",
        title: "Off-hours reads (非工作时间)".to_owned(),
        count: None,
        note: (oh.total > oh.rows.len())
            .then(|| format!("Showing the first {} of {}.", oh.rows.len(), oh.total)),
        head: &["seq", "time", "user", "when", "action", "targets"],
        rows: oh
            .rows
            .iter()
            .map(|o| {
                vec![
                    num(o.seq),
                    text(&o.time),
                    text(&o.user),
                    text(if o.weekend { "weekend" } else { "off hours" }),
                    text(o.action.as_str()),
                    num(o.targets),
                ]
            })
            .collect(),
    });
    out.push(Section {
        id: "per-user-day",
        title: "Accesses per user per day".to_owned(),
        count: None,
        note: Some("Accesses: allowed reads (petitioner_show, petitioner_reveal, case_show, case_list, find, export). Denials exclude failed unlocks.".to_owned()),
        head: &["user", "day", "accesses", "distinct records", "denials", "reveals"],
        rows: r
            .per_user_day
            .iter()
            .map(|d| {
                vec![
                    text(&d.user),
                    text(&d.day),
                    num(d.accesses),
                    num(d.distinct_records),
                    num(d.denials),
                    num(d.reveals),
                ]
            })
            .collect(),
    });
    for s in &mut out {
        s.count = match s.id {
            "totals" => None,
            "off-hours" => Some(oh.total),
            _ => Some(s.rows.len()),
        };
    }
    out
}

/// Control and bidirectional-override characters could rewrite a terminal or reorder
/// what a reader sees; they are shown as `\u{..}` escapes instead.
fn is_hazard(c: char) -> bool {
    (c.is_control() && c != ' ')
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn push_hazard(out: &mut String, c: char) {
    let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
}

/// `s` with hazardous characters escaped, for a terminal.
fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_hazard(c) {
            push_hazard(&mut out, c);
        } else {
            out.push(c);
        }
    }
    out
}

/// Terminal columns `c` takes (East Asian wide and fullwidth characters take two).
fn char_width(c: char) -> usize {
    match u32::from(c) {
        0x0300..=0x036f | 0x200b..=0x200d | 0xfe00..=0xfe0f => 0,
        0x1100..=0x115f
        | 0x2e80..=0x303e
        | 0x3041..=0x33ff
        | 0x3400..=0x4dbf
        | 0x4e00..=0x9fff
        | 0xa000..=0xa4cf
        | 0xac00..=0xd7a3
        | 0xf900..=0xfaff
        | 0xfe30..=0xfe4f
        | 0xff00..=0xff60
        | 0xffe0..=0xffe6
        | 0x1f300..=0x1f64f
        | 0x1f900..=0x1f9ff
        | 0x20000..=0x3fffd => 2,
        _ => 1,
    }
}

fn width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

// ---- text ----------------------------------------------------------------------------

impl Cell {
    fn plain(&self) -> String {
        match self {
            Cell::Text(s) if s.is_empty() => "-".to_owned(),
            Cell::Text(s) => clean(s),
            Cell::Num(n) => n.to_string(),
            Cell::Ids(v) => clean(&id_list(v, ",")),
            Cell::Sev(s) => s.as_str().to_uppercase(),
        }
    }
}

fn text_row(out: &mut String, cells: &[(String, bool)], widths: &[usize]) {
    let mut line = String::from("  ");
    for (i, (s, right)) in cells.iter().enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        let pad = widths[i].saturating_sub(width(s));
        if *right {
            line.extend(std::iter::repeat_n(' ', pad));
            line.push_str(s);
        } else {
            line.push_str(s);
            if i + 1 < cells.len() {
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

fn text_table(out: &mut String, head: &[&str], rows: &[Vec<Cell>]) {
    let rows: Vec<Vec<(String, bool)>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| (c.plain(), matches!(c, Cell::Num(_))))
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = head.iter().map(|h| width(h)).collect();
    for r in &rows {
        for (i, (s, _)) in r.iter().enumerate() {
            widths[i] = widths[i].max(width(s));
        }
    }
    let right: Vec<bool> = (0..head.len())
        .map(|i| rows.first().is_some_and(|r| r[i].1))
        .collect();
    let head_cells: Vec<(String, bool)> = head
        .iter()
        .zip(&right)
        .map(|(h, r)| (h.to_uppercase(), *r))
        .collect();
    text_row(out, &head_cells, &widths);
    let rule: Vec<(String, bool)> = widths.iter().map(|w| ("-".repeat(*w), false)).collect();
    text_row(out, &rule, &widths);
    for r in &rows {
        text_row(out, r, &widths);
    }
}

/// `s` in lines of at most `cols` columns, broken at spaces (a longer word stays whole).
fn wrap(s: &str, cols: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in s.split(' ').filter(|w| !w.is_empty()) {
        if !line.is_empty() && width(&line) + 1 + width(word) > cols {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Renders the report as plain text with aligned columns (wide CJK characters count
/// two columns). Control and bidi-override characters in names are shown escaped.
pub fn render_text(r: &Report) -> String {
    let mut out = String::new();
    let title = "Access compliance report (访问审计报告)";
    out.push_str(title);
    out.push('\n');
    out.push_str(&"=".repeat(width(title)));
    out.push_str("\n\n");
    let head = header_lines(r);
    let key_w = head.iter().map(|(k, _)| width(k)).max().unwrap_or(0);
    for (k, v) in &head {
        let _ = writeln!(out, "{k:<key_w$}  {}", clean(v));
    }
    for s in sections(r) {
        let heading = s.heading();
        let _ = write!(out, "\n{}\n{}\n", heading, "-".repeat(width(&heading)));
        if let Some(note) = &s.note {
            for line in wrap(note, 88) {
                let _ = writeln!(out, "  {line}");
            }
        }
        if s.rows.is_empty() {
            out.push_str("  (none)\n");
        } else {
            text_table(&mut out, s.head, &s.rows);
        }
    }
    out
}

// ---- HTML ----------------------------------------------------------------------------

/// Escapes `& < > " '` for HTML text and attribute values; control and bidi-override
/// characters become visible `\u{..}` escapes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if is_hazard(c) => push_hazard(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = "\
body{font-family:system-ui,-apple-system,\"Segoe UI\",\"PingFang SC\",\"Microsoft YaHei\",\"Noto Sans CJK SC\",sans-serif;color:#222;line-height:1.45;max-width:62em;margin:1.5em auto;padding:0 1em}
h1{font-size:1.5em;margin:0 0 .4em}
h2{font-size:1.15em;margin:1.8em 0 .4em;padding-bottom:.2em;border-bottom:1px solid #bbb;break-after:avoid}
table{border-collapse:collapse;width:100%;font-size:.85em;margin:.4em 0}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f0f0f0;font-weight:600}
table.meta th{width:9em;background:none;border:none;padding-left:0}
table.meta td{border:none}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
code{font-family:ui-monospace,Consolas,\"Liberation Mono\",monospace;font-size:.92em;word-break:break-all}
.sev{font-weight:600;padding:0 .4em;border-radius:3px;white-space:nowrap}
.sev.high{background:#fbdada;color:#9b0000}
.sev.medium{background:#fff0cc;color:#7a4f00}
.sev.low{background:#e4ecf7;color:#1f3b5c}
.note,.none{color:#555;font-size:.9em;margin:.3em 0}
figure{margin:1em 0;break-inside:avoid}
figcaption{font-size:.9em;color:#444;margin-bottom:.3em}
svg{max-width:100%;height:auto}
tr{break-inside:avoid}
footer{margin-top:2em;font-size:.8em;color:#666}
@page{size:A4;margin:14mm}
@media print{body{margin:0;max-width:none}.sev,svg{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
";

const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

fn html_cell(out: &mut String, c: &Cell) {
    match c {
        Cell::Text(s) if s.is_empty() => out.push_str("<td>-</td>"),
        Cell::Text(s) => {
            let _ = write!(out, "<td>{}</td>", esc(s));
        }
        Cell::Num(n) => {
            let _ = write!(out, "<td class=\"n\">{n}</td>");
        }
        Cell::Ids(v) if v.is_empty() => out.push_str("<td>-</td>"),
        Cell::Ids(v) => {
            let shown: Vec<String> = v
                .iter()
                .take(IDS_SHOWN)
                .map(|id| format!("<code>{}</code>", esc(id)))
                .collect();
            let _ = write!(out, "<td>{}", shown.join("<br>"));
            if v.len() > IDS_SHOWN {
                let _ = write!(out, "<br>… (+{} more)", v.len() - IDS_SHOWN);
            }
            out.push_str("</td>");
        }
        Cell::Sev(s) => {
            let _ = write!(
                out,
                "<td><span class=\"sev {0}\">{0}</span></td>",
                s.as_str()
            );
        }
    }
}

fn html_section(out: &mut String, s: &Section) {
    let _ = writeln!(
        out,
        "<section id=\"{}\">\n<h2>{}</h2>",
        s.id,
        esc(&s.heading())
    );
    if let Some(note) = &s.note {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(note));
    }
    if s.rows.is_empty() {
        out.push_str("<p class=\"none\">None.</p>\n</section>\n");
        return;
    }
    out.push_str("<table>\n<thead><tr>");
    for h in s.head {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &s.rows {
        out.push_str("<tr>");
        for c in row {
            html_cell(out, c);
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

/// A tick step of 1, 2 or 5 × 10ⁿ giving about five ticks up to `max`.
fn nice_step(max: usize) -> usize {
    let raw = max.div_ceil(5).max(1);
    let mut mag = 1usize;
    loop {
        for m in [1usize, 2, 5] {
            let step = m.saturating_mul(mag);
            if step >= raw {
                return step;
            }
        }
        mag = mag.saturating_mul(10);
    }
}

/// Approximate pixel width of `s` at font-size 11.
fn px(s: &str) -> f64 {
    width(s) as f64 * 6.4
}

/// `s` cut to at most `cols` terminal columns, with an ellipsis.
fn shorten(s: &str, cols: usize) -> String {
    if width(s) <= cols {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = char_width(c);
        if w + cw + 1 > cols {
            break;
        }
        w += cw;
        out.push(c);
    }
    out.push('…');
    out
}

const SVG_W: f64 = 760.0;

/// Accesses per user per day, stacked by user; weekends shaded.
fn svg_days(r: &Report) -> Option<String> {
    let mut per_user: BTreeMap<&str, usize> = BTreeMap::new();
    for d in r.per_user_day.iter().filter(|d| d.accesses > 0) {
        *per_user.entry(d.user.as_str()).or_default() += d.accesses;
    }
    if per_user.is_empty() {
        return None;
    }
    let mut order: Vec<(&str, usize)> = per_user.into_iter().collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let named = if order.len() <= PALETTE.len() {
        order.len()
    } else {
        PALETTE.len() - 1
    };
    let series = if named < order.len() {
        named + 1
    } else {
        named
    };
    let series_of: BTreeMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, (u, _))| (*u, i.min(named)))
        .collect();
    let label_of = |s: usize| -> String {
        if s < named {
            order[s].0.to_owned()
        } else {
            format!("others ({} users)", order.len() - named)
        }
    };

    let mut by_day: BTreeMap<Date, Vec<usize>> = BTreeMap::new();
    for d in r.per_user_day.iter().filter(|d| d.accesses > 0) {
        let Ok(date) = Date::parse(&d.day, DAY_FMT) else {
            continue;
        };
        by_day.entry(date).or_insert_with(|| vec![0; series])[series_of[d.user.as_str()]] +=
            d.accesses;
    }
    let first = *by_day.keys().next()?;
    let last = *by_day.keys().next_back()?;
    let days: Vec<Date> = if (last - first).whole_days() <= 370 {
        let mut v = Vec::new();
        let mut d = first;
        loop {
            v.push(d);
            match d.next_day() {
                Some(n) if n <= last => d = n,
                _ => break,
            }
        }
        v
    } else {
        by_day.keys().copied().collect()
    };
    let max_total = by_day
        .values()
        .map(|v| v.iter().sum::<usize>())
        .max()
        .unwrap_or(0);
    let step = nice_step(max_total);
    let axis_max = max_total.div_ceil(step).max(1) * step;

    let (ml, mr, mt, ph) = (56.0, 12.0, 16.0, 220.0);
    let pw = SVG_W - ml - mr;
    let base = mt + ph;
    let y = |v: usize| base - v as f64 / axis_max as f64 * ph;

    // Legend layout (below the axis title).
    let mut legend = Vec::new();
    let (mut lx, mut ly) = (ml, base + 52.0);
    for s in 0..series {
        let label = shorten(&label_of(s), 28);
        let w = 16.0 + px(&label) + 16.0;
        if lx + w > SVG_W - mr && lx > ml {
            lx = ml;
            ly += 18.0;
        }
        legend.push((lx, ly, s, label));
        lx += w;
    }
    let height = ly + 14.0;

    let mut o = String::new();
    let _ = writeln!(
        o,
        "<svg viewBox=\"0 0 {SVG_W} {height:.0}\" width=\"{SVG_W}\" height=\"{height:.0}\" role=\"img\" aria-label=\"Allowed read accesses per user per day\" font-family=\"sans-serif\" font-size=\"11\">"
    );
    let n = days.len();
    let slot = pw / n as f64;
    let bw = (slot * 0.7).max(1.0);
    for (i, d) in days.iter().enumerate() {
        if matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) {
            let _ = writeln!(
                o,
                "<rect x=\"{:.1}\" y=\"{mt}\" width=\"{slot:.1}\" height=\"{ph}\" fill=\"#f1f1f1\"/>",
                ml + i as f64 * slot
            );
        }
    }
    let mut t = 0;
    while t <= axis_max {
        let yy = y(t);
        let _ = writeln!(
            o,
            "<line x1=\"{ml}\" x2=\"{:.1}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#ddd\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{t}</text>",
            SVG_W - mr,
            ml - 6.0,
            yy + 4.0
        );
        t += step;
    }
    for (i, d) in days.iter().enumerate() {
        let Some(vals) = by_day.get(d) else { continue };
        let x = ml + i as f64 * slot + (slot - bw) / 2.0;
        let mut cum = 0;
        for (s, &v) in vals.iter().enumerate() {
            if v == 0 {
                continue;
            }
            let (top, bottom) = (y(cum + v), y(cum));
            let _ = writeln!(
                o,
                "<rect x=\"{x:.1}\" y=\"{top:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{} {}: {v}</title></rect>",
                bottom - top,
                PALETTE[s],
                esc(&label_of(s)),
                fmt_day(*d)
            );
            cum += v;
        }
    }
    let full = first.year() != last.year();
    let label_px = if full { 72.0 } else { 42.0 };
    let every = (n as f64 / (pw / label_px).floor().max(1.0))
        .ceil()
        .max(1.0) as usize;
    for (i, d) in days.iter().enumerate().filter(|(i, _)| i % every == 0) {
        let day = fmt_day(*d);
        let label = if full { day.as_str() } else { &day[5..] };
        let _ = writeln!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            ml + (i as f64 + 0.5) * slot,
            base + 15.0,
            esc(label)
        );
    }
    let _ = writeln!(
        o,
        "<line x1=\"{ml}\" x2=\"{ml}\" y1=\"{mt}\" y2=\"{base}\" stroke=\"#555\"/><line x1=\"{ml}\" x2=\"{:.1}\" y1=\"{base}\" y2=\"{base}\" stroke=\"#555\"/>",
        SVG_W - mr
    );
    let _ = writeln!(
        o,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
        ml + pw / 2.0,
        base + 33.0,
        esc(&format!(
            "day (local, UTC{}; weekends shaded)",
            r.parameters.utc_offset
        ))
    );
    let _ = writeln!(
        o,
        "<text transform=\"rotate(-90)\" x=\"{:.1}\" y=\"14\" text-anchor=\"middle\">allowed read accesses</text>",
        -(mt + ph / 2.0)
    );
    for (x, yy, s, label) in legend {
        let _ = writeln!(
            o,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{yy:.1}\">{}</text>",
            yy - 9.0,
            PALETTE[s],
            x + 14.0,
            esc(&label)
        );
    }
    o.push_str("</svg>\n");
    Some(o)
}

/// At most this many users are drawn in a per-user bar chart.
const HBARS_MAX: usize = 25;

/// A horizontal bar chart of per-user counts (zeros dropped, largest first).
fn svg_hbars(items: &[(String, usize)], axis: &str, color: &str) -> String {
    let max = items.iter().map(|(_, v)| *v).max().unwrap_or(0);
    let step = nice_step(max);
    let axis_max = max.div_ceil(step).max(1) * step;
    let labels: Vec<String> = items.iter().map(|(u, _)| shorten(u, 28)).collect();
    let lw = labels
        .iter()
        .map(|l| px(l))
        .fold(0.0, f64::max)
        .clamp(40.0, 200.0);
    let (ml, mr, mt, row) = (lw + 14.0, 44.0, 8.0, 22.0);
    let pw = SVG_W - ml - mr;
    let base = mt + row * items.len() as f64;
    let height = base + 40.0;
    let x = |v: usize| ml + v as f64 / axis_max as f64 * pw;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "<svg viewBox=\"0 0 {SVG_W} {height:.0}\" width=\"{SVG_W}\" height=\"{height:.0}\" role=\"img\" aria-label=\"{}\" font-family=\"sans-serif\" font-size=\"11\">",
        esc(axis)
    );
    let mut t = 0;
    while t <= axis_max {
        let xx = x(t);
        let _ = writeln!(
            o,
            "<line x1=\"{xx:.1}\" x2=\"{xx:.1}\" y1=\"{mt}\" y2=\"{base:.1}\" stroke=\"#ddd\"/><text x=\"{xx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{t}</text>",
            base + 14.0
        );
        t += step;
    }
    for (i, ((user, v), label)) in items.iter().zip(&labels).enumerate() {
        let top = mt + i as f64 * row;
        let _ = writeln!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><rect x=\"{ml:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"14\" fill=\"{color}\"><title>{}: {v}</title></rect><text x=\"{:.1}\" y=\"{:.1}\">{v}</text>",
            ml - 6.0,
            top + 15.0,
            esc(label),
            top + 4.0,
            x(*v) - ml,
            esc(user),
            x(*v) + 4.0,
            top + 15.0
        );
    }
    let _ = writeln!(
        o,
        "<line x1=\"{ml:.1}\" x2=\"{ml:.1}\" y1=\"{mt}\" y2=\"{base:.1}\" stroke=\"#555\"/><line x1=\"{ml:.1}\" x2=\"{:.1}\" y1=\"{base:.1}\" y2=\"{base:.1}\" stroke=\"#555\"/>",
        SVG_W - mr
    );
    let _ = writeln!(
        o,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
        ml + pw / 2.0,
        base + 32.0,
        esc(axis)
    );
    o.push_str("</svg>\n");
    o
}

/// Per-user sums of `f` over the per-user-day rows, nonzero, largest first.
fn per_user(r: &Report, f: impl Fn(&UserDay) -> usize) -> Vec<(String, usize)> {
    let mut m: BTreeMap<&str, usize> = BTreeMap::new();
    for d in &r.per_user_day {
        let v = f(d);
        if v > 0 {
            *m.entry(d.user.as_str()).or_default() += v;
        }
    }
    let mut v: Vec<(String, usize)> = m.into_iter().map(|(u, n)| (u.to_owned(), n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

fn html_hbar_figure(
    out: &mut String,
    caption: &str,
    axis: &str,
    color: &str,
    items: &[(String, usize)],
) {
    let _ = writeln!(out, "<figure>\n<figcaption>{}</figcaption>", esc(caption));
    if items.is_empty() {
        out.push_str("<p class=\"none\">None in range.</p>\n");
    } else {
        let shown = &items[..items.len().min(HBARS_MAX)];
        out.push_str(&svg_hbars(shown, axis, color));
        if items.len() > shown.len() {
            let _ = writeln!(
                out,
                "<p class=\"note\">Top {} of {} users shown; all are in the table below.</p>",
                shown.len(),
                items.len()
            );
        }
    }
    out.push_str("</figure>\n");
}

/// Renders the report as one self-contained HTML page: UTF-8, no script, no external
/// resource (a Content-Security-Policy forbids loading any), inline SVG charts, tables for
/// every section, print styles for A4. Every string from the log is escaped.
pub fn render_html(r: &Report) -> String {
    let mut out = String::with_capacity(16 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<title>Access compliance report (访问审计报告)</title>\n<style>\n");
    out.push_str(CSS);
    out.push_str("</style>\n</head>\n<body>\n<h1>Access compliance report (访问审计报告)</h1>\n<table class=\"meta\">\n");
    for (k, v) in header_lines(r) {
        let _ = writeln!(out, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&v));
    }
    out.push_str("</table>\n");

    let mut secs = sections(r).into_iter();
    for s in secs.by_ref().take(2) {
        html_section(&mut out, &s);
    }

    out.push_str("<section id=\"charts\">\n<h2>Charts</h2>\n<figure>\n<figcaption>Allowed read accesses per user per day (stacked by user)</figcaption>\n");
    match svg_days(r) {
        Some(svg) => out.push_str(&svg),
        None => out.push_str("<p class=\"none\">None in range.</p>\n"),
    }
    out.push_str("</figure>\n");
    html_hbar_figure(
        &mut out,
        "Denied requests per user (failed unlocks excluded)",
        "denied requests",
        "#e15759",
        &per_user(r, |d| d.denials),
    );
    html_hbar_figure(
        &mut out,
        "Identity reveals per user (身份信息查看)",
        "identity reveals",
        "#b07aa1",
        &per_user(r, |d| d.reveals),
    );
    out.push_str("</section>\n");

    for s in secs {
        html_section(&mut out, &s);
    }
    out.push_str("<footer>Built from the access log: ids and codes only. Verify the log's hash chain and MACs before relying on this report.</footer>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::format_description::well_known::Rfc3339;

    fn ms(rfc3339: &str) -> i64 {
        let t = OffsetDateTime::parse(rfc3339, &Rfc3339).unwrap();
        i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap()
    }

    fn rid(n: u32) -> RecordId {
        let mut b = [0u8; 16];
        b[12..].copy_from_slice(&n.to_be_bytes());
        RecordId(b)
    }

    fn hid(n: u32) -> String {
        format!("{:032x}", n)
    }

    /// An allowed entry by a handler with no targets; tests adjust the rest.
    fn ent(seq: u64, at: &str, actor: &str, action: Action) -> Entry {
        Entry {
            session: [0; 8],
            role: Some(Role::Handler),
            ..Entry::sample(seq, ms(at), actor, action)
        }
    }

    fn with_targets(mut e: Entry, t: impl IntoIterator<Item = u32>) -> Entry {
        e.targets = t.into_iter().map(rid).collect();
        e
    }

    fn denied(mut e: Entry, detail: &str) -> Entry {
        e.outcome = Outcome::Denied;
        e.detail = Some(detail.to_owned());
        e
    }

    fn flagged(mut e: Entry, flag: &str) -> Entry {
        e.flags.push(flag.to_owned());
        e
    }

    fn rec(e: Entry) -> RecordedEntry {
        RecordedEntry {
            entry: e,
            prev: [0; 32],
            hash: [0; 32],
            mac: [0; 32],
        }
    }

    fn report(entries: Vec<Entry>, opts: &ReportOptions) -> Report {
        let recs: Vec<RecordedEntry> = entries.into_iter().map(rec).collect();
        build(&recs, opts)
    }

    fn day_row(r: &Report, user: &str) -> UserDay {
        r.per_user_day
            .iter()
            .find(|d| d.user == user)
            .unwrap()
            .clone()
    }

    #[test]
    fn calendar_assumptions() {
        let d = |s| Date::parse(s, DAY_FMT).unwrap().weekday();
        assert_eq!(d("2026-03-02"), Weekday::Monday);
        assert_eq!(d("2026-03-07"), Weekday::Saturday);
    }

    #[test]
    fn bulk_at_25_distinct_not_at_24() {
        let mut v = Vec::new();
        // alice: 25 distinct petitioners in 26 reads (one twice), Monday 10:00 +08:00.
        for i in 0..25u32 {
            v.push(with_targets(
                ent(
                    u64::from(i),
                    "2026-03-02T02:00:00Z",
                    "alice",
                    Action::PetitionerShow,
                ),
                [i],
            ));
        }
        v.push(with_targets(
            ent(25, "2026-03-02T02:30:00Z", "alice", Action::PetitionerShow),
            [0],
        ));
        // bob: 24 distinct in one search.
        v.push(with_targets(
            ent(26, "2026-03-02T03:00:00Z", "bob", Action::Find),
            100..124,
        ));
        // carol: 250 in one export → the high threshold.
        v.push(with_targets(
            ent(27, "2026-03-02T03:00:00Z", "carol", Action::Export),
            1000..1250,
        ));
        // a denied read's targets do not count.
        v.push(denied(
            with_targets(
                ent(28, "2026-03-02T03:00:00Z", "bob", Action::CaseShow),
                [9999],
            ),
            "not_assigned",
        ));
        let r = report(v, &ReportOptions::default());

        assert_eq!(
            day_row(&r, "alice"),
            UserDay {
                user: "alice".into(),
                day: "2026-03-02".into(),
                accesses: 26,
                distinct_records: 25,
                denials: 0,
                reveals: 0,
            }
        );
        assert_eq!(day_row(&r, "bob").distinct_records, 24);
        assert_eq!(day_row(&r, "bob").denials, 1);
        assert_eq!(
            r.bulk,
            vec![
                BulkAccess {
                    user: "alice".into(),
                    day: "2026-03-02".into(),
                    distinct_records: 25,
                    threshold: 25,
                },
                BulkAccess {
                    user: "carol".into(),
                    day: "2026-03-02".into(),
                    distinct_records: 250,
                    threshold: 250,
                },
            ]
        );
        let bulk: Vec<(Severity, &str)> = r
            .findings
            .iter()
            .filter(|f| f.code == "bulk_access")
            .map(|f| (f.severity, f.user.as_str()))
            .collect();
        assert_eq!(
            bulk,
            vec![(Severity::High, "carol"), (Severity::Medium, "alice")]
        );
        assert_eq!(
            r.findings
                .iter()
                .find(|f| f.user == "alice")
                .unwrap()
                .message,
            "read 25 distinct records on 2026-03-02 (bulk access, 批量查询), reaching the 25 threshold"
        );
        assert!(r.findings.iter().all(|f| f.user != "bob"));
        assert_eq!(r.totals.distinct_users, 3);
        assert_eq!(r.off_hours.total, 0);
    }

    #[test]
    fn off_hours_boundaries_and_weekend() {
        let v = vec![
            ent(0, "2026-03-02T07:59:00+08:00", "h1", Action::CaseShow),
            ent(1, "2026-03-02T08:00:00+08:00", "h1", Action::CaseShow),
            ent(2, "2026-03-02T17:59:59+08:00", "h1", Action::CaseShow),
            ent(3, "2026-03-02T18:00:00+08:00", "h1", Action::CaseShow),
            with_targets(
                ent(4, "2026-03-07T10:00:00+08:00", "h1", Action::CaseList),
                [1, 2, 3],
            ),
            // Not reads, or not allowed: never off-hours reads.
            ent(5, "2026-03-02T03:00:00+08:00", "h1", Action::PetitionerAdd),
            denied(
                ent(6, "2026-03-02T03:00:00+08:00", "h1", Action::CaseShow),
                "not_assigned",
            ),
        ];
        let r = report(v, &ReportOptions::default());
        assert_eq!(r.off_hours.total, 3);
        let rows: Vec<(u64, &str, bool, usize)> = r
            .off_hours
            .rows
            .iter()
            .map(|o| (o.seq, o.time.as_str(), o.weekend, o.targets))
            .collect();
        assert_eq!(
            rows,
            vec![
                (0, "2026-03-02T07:59:00+08:00", false, 0),
                (3, "2026-03-02T18:00:00+08:00", false, 0),
                (4, "2026-03-07T10:00:00+08:00", true, 3),
            ]
        );
        assert_eq!(r.off_hours.rows[2].action, Action::CaseList);
        let f: Vec<&Finding> = r
            .findings
            .iter()
            .filter(|f| f.code == "off_hours")
            .collect();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Low);
        assert_eq!(
            f[0].message,
            "3 read accesses outside working hours (非工作时间) on 2 days, 2026-03-02 to 2026-03-07"
        );
    }

    #[test]
    fn off_hours_rows_are_capped() {
        let v: Vec<Entry> = (0..250)
            .map(|i| ent(i, "2026-03-02T23:00:00+08:00", "night", Action::CaseShow))
            .collect();
        let r = report(v, &ReportOptions::default());
        assert_eq!(r.off_hours.total, 250);
        assert_eq!(r.off_hours.rows.len(), OFF_HOURS_ROW_CAP);
        assert_eq!(r.off_hours.rows.last().unwrap().seq, 199);
        assert!(render_text(&r).contains("Showing the first 200 of 250."));
    }

    #[test]
    fn local_day_boundary() {
        let v = vec![ent(0, "2026-03-01T17:00:00Z", "h1", Action::CaseShow)];
        let cst = report(v.clone(), &ReportOptions::default());
        assert_eq!(cst.per_user_day[0].day, "2026-03-02");
        assert_eq!(
            cst.period.first.as_deref(),
            Some("2026-03-02T01:00:00+08:00")
        );
        assert_eq!(cst.parameters.utc_offset, "+08:00");
        // 01:00 on a Monday: off-hours, not weekend.
        assert!(!cst.off_hours.rows[0].weekend);

        let utc = report(
            v,
            &ReportOptions {
                utc_offset_minutes: 0,
                ..ReportOptions::default()
            },
        );
        assert_eq!(utc.per_user_day[0].day, "2026-03-01");
        assert_eq!(
            utc.period.first.as_deref(),
            Some("2026-03-01T17:00:00+00:00")
        );
        assert_eq!(utc.parameters.utc_offset, "+00:00");
        // Sunday 17:00 UTC: weekend.
        assert!(utc.off_hours.rows[0].weekend);
    }

    #[test]
    fn canary_touch_is_high_and_first() {
        let v = vec![
            ent(0, "2026-03-02T23:00:00+08:00", "h1", Action::CaseShow),
            flagged(
                with_targets(
                    ent(1, "2026-03-02T10:00:00+08:00", "h2", Action::PetitionerShow),
                    [7],
                ),
                FLAG_CANARY,
            ),
        ];
        let r = report(v, &ReportOptions::default());
        assert_eq!(
            r.canary,
            vec![CanaryTouch {
                seq: 1,
                user: "h2".into(),
                role: Some(Role::Handler),
                action: Action::PetitionerShow,
                time: "2026-03-02T10:00:00+08:00".into(),
                outcome: Outcome::Allowed,
                targets: vec![hid(7)],
            }]
        );
        assert_eq!(
            r.findings[0],
            Finding {
                severity: Severity::High,
                code: "canary".into(),
                user: "h2".into(),
                message: "touched a honey record (canary, 蜜罐记录): petitioner_show allowed at 2026-03-02T10:00:00+08:00 (seq 1)".into(),
            }
        );
        assert_eq!(r.findings.len(), 2);
        assert_eq!(r.findings[1].code, "off_hours");
    }

    #[test]
    fn repeated_denials_at_threshold_and_failed_unlocks() {
        let at = "2026-03-02T09:00:00+08:00";
        let v = vec![
            denied(ent(0, at, "dave", Action::CaseShow), "not_assigned"),
            denied(ent(1, at, "dave", Action::CaseShow), "not_assigned"),
            denied(ent(2, at, "dave", Action::Export), "role_not_permitted"),
            denied(ent(3, at, "erin", Action::CaseShow), "not_assigned"),
            denied(ent(4, at, "erin", Action::CaseShow), "not_assigned"),
            denied(ent(5, at, "erin", Action::Unlock), "bad_passphrase"),
            denied(ent(6, at, "mallory", Action::Unlock), "bad_passphrase"),
            denied(ent(7, at, "mallory", Action::Unlock), "bad_passphrase"),
            denied(ent(8, at, "mallory", Action::Unlock), "unknown_user"),
        ];
        let r = report(v, &ReportOptions::default());
        assert_eq!(
            r.repeated_denials,
            vec![RepeatedDenials {
                user: "dave".into(),
                day: "2026-03-02".into(),
                count: 3,
                details: vec!["not_assigned".into(), "role_not_permitted".into()],
            }]
        );
        assert_eq!(day_row(&r, "erin").denials, 2);
        assert_eq!(
            r.failed_unlocks,
            vec![
                FailedUnlocks {
                    user: "erin".into(),
                    day: "2026-03-02".into(),
                    count: 1,
                },
                FailedUnlocks {
                    user: "mallory".into(),
                    day: "2026-03-02".into(),
                    count: 3,
                },
            ]
        );
        assert_eq!(
            r.totals,
            Totals {
                entries: 9,
                allowed: 0,
                denied: 9,
                distinct_users: 2,
                failed_unlocks: 4,
            }
        );
        let f: Vec<(Severity, &str, &str, &str)> = r
            .findings
            .iter()
            .map(|f| {
                (
                    f.severity,
                    f.code.as_str(),
                    f.user.as_str(),
                    f.message.as_str(),
                )
            })
            .collect();
        assert_eq!(
            f,
            vec![
                (
                    Severity::Medium,
                    "repeated_denials",
                    "dave",
                    "3 denied requests on 2026-03-02 (多次被拒): not_assigned, role_not_permitted"
                ),
                (
                    Severity::Medium,
                    "failed_unlocks",
                    "mallory",
                    "3 failed unlocks on 2026-03-02 (登录失败)"
                ),
            ]
        );
    }

    fn reveal_entry(seq: u64, actor: &str, reason: &str) -> Entry {
        let mut e = with_targets(
            ent(
                seq,
                "2026-03-03T09:15:30+08:00",
                actor,
                Action::PetitionerReveal,
            ),
            [42],
        );
        e.role = Some(Role::Supervisor);
        e.purpose = Some("verify_identity".into());
        e.reason = Some(reason.into());
        e.case_ref = Some(rid(77));
        e
    }

    #[test]
    fn reveal_with_reason_is_listed_not_a_finding() {
        let r = report(
            vec![reveal_entry(0, "sup1", "核实身份以便回复")],
            &ReportOptions::default(),
        );
        assert_eq!(
            r.reveals,
            vec![Reveal {
                seq: 0,
                user: "sup1".into(),
                time: "2026-03-03T09:15:30+08:00".into(),
                targets: vec![hid(42)],
                purpose: Some("verify_identity".into()),
                reason: Some("核实身份以便回复".into()),
                case_ref: Some(hid(77)),
            }]
        );
        assert_eq!(day_row(&r, "sup1").reveals, 1);
        assert_eq!(day_row(&r, "sup1").accesses, 1);
        assert!(r.findings.is_empty());
        let text = render_text(&r);
        // The reason appears once: in the reveals table.
        assert_eq!(text.matches("核实身份以便回复").count(), 1);
        assert!(text.contains("\nIdentity reveals (身份信息查看): 1\n"));
    }

    #[test]
    fn unassigned_case_flag() {
        let mut e = flagged(
            with_targets(
                ent(3, "2026-03-02T11:00:00+08:00", "sup2", Action::CaseShow),
                [5],
            ),
            FLAG_UNASSIGNED_CASE,
        );
        e.role = Some(Role::Supervisor);
        let r = report(vec![e], &ReportOptions::default());
        assert_eq!(
            r.unassigned_reads,
            vec![UnassignedRead {
                seq: 3,
                user: "sup2".into(),
                role: Some(Role::Supervisor),
                action: Action::CaseShow,
                time: "2026-03-02T11:00:00+08:00".into(),
                outcome: Outcome::Allowed,
                targets: vec![hid(5)],
            }]
        );
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].severity, Severity::Low);
        assert_eq!(
            r.findings[0].message,
            "1 access to cases not assigned to them (非本人承办案件)"
        );
    }

    #[test]
    fn since_until_filter() {
        let v = vec![
            ent(0, "2026-03-02T09:00:00+08:00", "h1", Action::CaseShow),
            ent(1, "2026-03-02T10:00:00+08:00", "h1", Action::CaseShow),
            ent(2, "2026-03-02T11:00:00+08:00", "h1", Action::CaseShow),
        ];
        let opts = ReportOptions {
            since_ms: Some(ms("2026-03-02T10:00:00+08:00")),
            until_ms: Some(ms("2026-03-02T11:00:00+08:00")),
            ..ReportOptions::default()
        };
        let r = report(v, &opts);
        assert_eq!(r.totals.entries, 1);
        assert_eq!(r.period.first.as_deref(), Some("2026-03-02T10:00:00+08:00"));
        assert_eq!(r.period.last.as_deref(), Some("2026-03-02T10:00:00+08:00"));
        assert_eq!(r.per_user_day[0].accesses, 1);
        assert_eq!(
            r.parameters.since.as_deref(),
            Some("2026-03-02T10:00:00+08:00")
        );
        assert_eq!(
            r.parameters.until.as_deref(),
            Some("2026-03-02T11:00:00+08:00")
        );
    }

    #[test]
    fn input_order_does_not_matter() {
        let a = ent(0, "2026-03-02T23:00:00+08:00", "h1", Action::CaseShow);
        let b = ent(1, "2026-03-02T23:30:00+08:00", "h1", Action::CaseShow);
        let r = report(vec![b, a], &ReportOptions::default());
        let seqs: Vec<u64> = r.off_hours.rows.iter().map(|o| o.seq).collect();
        assert_eq!(seqs, vec![0, 1]);
    }

    #[test]
    fn html_escapes_everything_from_the_log() {
        let evil_user = "<script>alert('u')</script>";
        let v = vec![
            reveal_entry(0, evil_user, "x<script>alert(\"r\")</script>&"),
            denied(
                ent(1, "2026-03-02T09:00:00+08:00", evil_user, Action::CaseShow),
                "<b>",
            ),
            denied(
                ent(3, "2026-03-02T09:00:00+08:00", evil_user, Action::CaseShow),
                "<b>",
            ),
            denied(
                ent(4, "2026-03-02T09:00:00+08:00", evil_user, Action::CaseShow),
                "<b>",
            ),
            flagged(
                ent(
                    2,
                    "2026-03-07T09:00:00+08:00",
                    "h\u{202e}1",
                    Action::CaseShow,
                ),
                FLAG_CANARY,
            ),
        ];
        let r = report(v, &ReportOptions::default());
        let html = render_html(&r);
        assert!(!html.to_lowercase().contains("<script"));
        assert!(html.contains("&lt;script&gt;alert(&#39;u&#39;)&lt;/script&gt;"));
        assert!(html.contains("x&lt;script&gt;alert(&quot;r&quot;)&lt;/script&gt;&amp;"));
        assert!(html.contains("&lt;b&gt;"));
        assert!(!html.contains('\u{202e}'));
        assert!(html.contains("h\\u{202e}1"));
        assert!(
            html.starts_with(
                "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"
            )
        );
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert!(!html.contains("src=") && !html.contains("href="));
        assert_eq!(html.matches("<svg ").count(), 3);
        assert_eq!(html.matches("</svg>").count(), 3);
        assert!(html.ends_with("</html>\n"));
    }

    #[test]
    fn esc_basics() {
        assert_eq!(
            esc("a&b<c>\"d\"'e'"),
            "a&amp;b&lt;c&gt;&quot;d&quot;&#39;e&#39;"
        );
        assert_eq!(esc("张三\u{1b}[31m"), "张三\\u{1b}[31m");
    }

    #[test]
    fn text_aligns_and_cleans() {
        let v = vec![
            with_targets(
                ent(0, "2026-03-02T10:00:00+08:00", "张伟", Action::CaseShow),
                [1],
            ),
            ent(
                1,
                "2026-03-02T10:00:00+08:00",
                "bob\u{1b}[2J",
                Action::CaseShow,
            ),
        ];
        let t = render_text(&build(
            &v.into_iter().map(rec).collect::<Vec<_>>(),
            &ReportOptions::default(),
        ));
        assert!(!t.contains('\u{1b}'));
        let lines: Vec<&str> = t
            .lines()
            .skip_while(|l| !l.starts_with("Accesses per user per day"))
            .skip_while(|l| !l.starts_with("  USER"))
            .collect();
        assert_eq!(
            &lines[..4],
            &[
                "  USER          DAY         ACCESSES  DISTINCT RECORDS  DENIALS  REVEALS",
                "  ------------  ----------  --------  ----------------  -------  -------",
                "  bob\\u{1b}[2J  2026-03-02         1                 0        0        0",
                "  张伟          2026-03-02         1                 1        0        0",
            ]
        );
    }

    #[test]
    fn json_serialises() {
        let v = vec![
            reveal_entry(0, "sup1", "核实身份"),
            denied(
                ent(1, "2026-03-03T09:00:00+08:00", "x", Action::Unlock),
                "bad_passphrase",
            ),
        ];
        let r = report(v, &ReportOptions::default());
        let j = serde_json::to_value(&r).unwrap();
        assert_eq!(j["totals"]["entries"], 2);
        assert_eq!(j["totals"]["failed_unlocks"], 1);
        assert_eq!(
            j["parameters"]["bulk_thresholds"],
            serde_json::json!([25, 250, 2500])
        );
        assert_eq!(j["per_user_day"][0]["day"], "2026-03-03");
        assert_eq!(j["reveals"][0]["targets"][0], hid(42));
        assert_eq!(j["reveals"][0]["case_ref"], hid(77));
        assert_eq!(j["reveals"][0]["reason"], "核实身份");
        assert_eq!(j["failed_unlocks"][0]["user"], "x");
        assert_eq!(j["off_hours"]["total"], 0);
        assert_eq!(j["findings"], serde_json::json!([]));
        let r2 = report(
            vec![flagged(
                ent(0, "2026-03-02T10:00:00+08:00", "h", Action::CaseShow),
                FLAG_CANARY,
            )],
            &ReportOptions::default(),
        );
        let j2 = serde_json::to_value(&r2).unwrap();
        assert_eq!(j2["findings"][0]["severity"], "high");
        assert_eq!(j2["canary"][0]["outcome"], "allowed");
        assert_eq!(j2["canary"][0]["role"], "handler");
        assert_eq!(j2["canary"][0]["action"], "case_show");
    }

    #[test]
    fn extreme_times_and_offsets_do_not_panic() {
        let mut e = ent(0, "2026-03-02T10:00:00+08:00", "h", Action::CaseShow);
        e.time_ms = i64::MAX;
        let r = report(
            vec![e],
            &ReportOptions {
                utc_offset_minutes: i32::MAX,
                since_ms: Some(i64::MIN),
                ..ReportOptions::default()
            },
        );
        assert_eq!(r.parameters.utc_offset, "+25:59");
        assert_eq!(r.totals.entries, 1);
        assert_eq!(r.per_user_day[0].day, "1970-01-02");
        assert!(render_html(&r).contains("<svg "));
    }

    #[test]
    fn empty_log_renders() {
        let r = build(&[], &ReportOptions::default());
        assert_eq!(r.totals, Totals::default());
        assert_eq!(r.period.first, None);
        let text = render_text(&r);
        assert!(text.contains("Period      no entries in range"));
        let html = render_html(&r);
        assert_eq!(html.matches("<svg").count(), 0);
        assert_eq!(html.matches("None in range.").count(), 3);
    }
}
