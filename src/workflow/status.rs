//! Case statuses and the transitions between them (信访工作条例 2022).
//!
//! # Transition table
//!
//! [`check_transition`] allows exactly these moves:
//!
//! | from | allowed next | basis |
//! | --- | --- | --- |
//! | `registered` 登记 | `accepted`, `not_accepted` | Art. 22–23: register, then decide within 15 days |
//! | `accepted` 受理 | `assigned`, `forwarded`, `handling` | Art. 22 ¶1, Art. 23: 交办, 转送, or handle it ourselves |
//! | `not_accepted` 不予受理 | `closed` | Art. 22–23, 28: tell the petitioner which body or legal channel to use, then close |
//! | `assigned` 交办 | `handling`, `forwarded` | Art. 22 ¶1(3): the unit it was assigned to must report back, so it cannot simply close; it may be passed on (转送) if that unit has no jurisdiction |
//! | `forwarded` 转送 | `handling`, `closed` | see below |
//! | `handling` 办理中 | `replied` | Art. 27–34: handled, then a written reply (书面答复) |
//! | `replied` 答复 | `closed`, `review_requested` | Art. 35: the petitioner may ask for 复查 within 30 days |
//! | `closed` 办结 | `review_requested`, `re_review_requested` | Art. 35–36: a request can still arrive inside the 30-day window after closing |
//! | `review_requested` 复查申请 | `review_decided` | Art. 35: 复查意见 within 30 days |
//! | `review_decided` 复查意见 | `closed`, `re_review_requested` | Art. 36: the petitioner may ask for 复核 within 30 days |
//! | `re_review_requested` 复核申请 | `re_review_decided` | Art. 36: 复核意见 within 30 days |
//! | `re_review_decided` 复核意见 | `closed` | Art. 36: the 复核意见 is final; no further review |
//!
//! **Why `forwarded` may go to `handling` or `closed`.** 转送 (Art. 22 ¶1(1)–(2),
//! Art. 23) hands the matter to the unit with jurisdiction, which handles it
//! and replies itself. If that unit keeps its records in the same vault,
//! the case goes on to `handling`. If not, the forwarding office's part is
//! done and it closes its record. 交办 (`assigned`) is different: the
//! assigning office must get back the result and a report on closing
//! (办结报告) (Art. 22 ¶1(3)), so it cannot skip to `closed`.
//!
//! **The table does not look at the case's history.** From `closed` it allows
//! both kinds of review request, because a case may be closed after a reply (next
//! step 复查) or after a 复查意见 (next step 复核). Choosing between them, and
//! refusing a second 复查 or any review after a 复核意见 (Art. 36), takes the
//! case's history: use [`check_history`]. Whether the request came within
//! its 30-day window is checked separately, by
//! [`check_window`](super::deadline::check_window).

use super::WorkflowError;

/// The status of a petition case (信访事项).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 登记: recorded on receipt (Art. 22–23).
    Registered,
    /// 受理: accepted for handling (Art. 22–23).
    Accepted,
    /// 不予受理: not accepted, e.g. outside this office's competence (Art.
    /// 22–23), a matter for litigation or other legal channels (诉访分离, Art.
    /// 28), or the same facts and reasons after a 复核意见 (Art. 36).
    NotAccepted,
    /// 交办: assigned to a unit that must report back (Art. 22 ¶1(3)).
    Assigned,
    /// 转送: forwarded to the unit with jurisdiction (Art. 22 ¶1(1)–(2), Art. 23).
    Forwarded,
    /// 办理中: being handled (Art. 27–34).
    Handling,
    /// 答复: written reply (书面答复 / 信访处理意见书) issued (Art. 29–34).
    Replied,
    /// 办结: closed.
    Closed,
    /// 复查申请: the petitioner asked the next higher unit for a review (Art. 35).
    ReviewRequested,
    /// 复查意见: the review opinion was issued (Art. 35).
    ReviewDecided,
    /// 复核申请: the petitioner asked for a re-review (Art. 36).
    ReReviewRequested,
    /// 复核意见: the re-review opinion was issued; final (Art. 36).
    ReReviewDecided,
}

use Status::*;

impl Status {
    /// Every status, in workflow order.
    pub const ALL: [Status; 12] = [
        Registered,
        Accepted,
        NotAccepted,
        Assigned,
        Forwarded,
        Handling,
        Replied,
        Closed,
        ReviewRequested,
        ReviewDecided,
        ReReviewRequested,
        ReReviewDecided,
    ];

    /// The snake_case English name (as used by serde), e.g. `review_requested`.
    pub fn as_str(self) -> &'static str {
        match self {
            Registered => "registered",
            Accepted => "accepted",
            NotAccepted => "not_accepted",
            Assigned => "assigned",
            Forwarded => "forwarded",
            Handling => "handling",
            Replied => "replied",
            Closed => "closed",
            ReviewRequested => "review_requested",
            ReviewDecided => "review_decided",
            ReReviewRequested => "re_review_requested",
            ReReviewDecided => "re_review_decided",
        }
    }

    /// The Chinese label, as the regulation names the step, e.g. `复查申请`.
    pub fn label_zh(self) -> &'static str {
        match self {
            Registered => "登记",
            Accepted => "受理",
            NotAccepted => "不予受理",
            Assigned => "交办",
            Forwarded => "转送",
            Handling => "办理中",
            Replied => "答复",
            Closed => "办结",
            ReviewRequested => "复查申请",
            ReviewDecided => "复查意见",
            ReReviewRequested => "复核申请",
            ReReviewDecided => "复核意见",
        }
    }

    /// Parses a status from its snake_case English name or its Chinese
    /// label ([`Status::label_zh`]). Surrounding whitespace is ignored, and
    /// so are ASCII case and `-` or a space in place of `_`
    /// (`Review-Requested` works too).
    pub fn parse(s: &str) -> Result<Status, WorkflowError> {
        let t = s.trim();
        let norm: String = t
            .chars()
            .map(|c| match c {
                '-' | ' ' => '_',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == norm || st.label_zh() == t)
            .ok_or_else(|| WorkflowError::UnknownStatus {
                input: s.to_owned(),
                expected: Status::ALL
                    .iter()
                    .map(|st| format!("{} ({})", st.as_str(), st.label_zh()))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The statuses a case may move to next (see the table in the
    /// [module docs](self)). Every status has at least one.
    pub fn allowed_next(self) -> &'static [Status] {
        match self {
            Registered => &[Accepted, NotAccepted],
            Accepted => &[Assigned, Forwarded, Handling],
            NotAccepted => &[Closed],
            Assigned => &[Handling, Forwarded],
            Forwarded => &[Handling, Closed],
            Handling => &[Replied],
            Replied => &[Closed, ReviewRequested],
            Closed => &[ReviewRequested, ReReviewRequested],
            ReviewRequested => &[ReviewDecided],
            ReviewDecided => &[Closed, ReReviewRequested],
            ReReviewRequested => &[ReReviewDecided],
            ReReviewDecided => &[Closed],
        }
    }

    /// Whether the case is still open, meaning anything but `closed`. A
    /// closed case can come back through a review request (Art. 35–36); see
    /// [`check_history`] for when that is allowed.
    pub fn is_open(self) -> bool {
        self != Closed
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Status {
    type Err = WorkflowError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::parse(s)
    }
}

/// Checks one move against the transition table (module docs). The
/// case's history is not looked at; [`check_history`] does that.
///
/// The error names both statuses and lists the allowed next ones, e.g.
/// `cannot move a case from replied to handling; allowed next: closed, review_requested`.
pub fn check_transition(from: Status, to: Status) -> Result<(), WorkflowError> {
    if from.allowed_next().contains(&to) {
        Ok(())
    } else {
        Err(WorkflowError::InvalidTransition {
            from,
            to,
            allowed: from
                .allowed_next()
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

/// Checks moving a case whose statuses so far are `history` (oldest first,
/// the last being its current status) to `to`, looking at what has already
/// happened to the case:
///
/// * an empty history only allows `registered` (Art. 22–23);
/// * otherwise the move must pass [`check_transition`] from the last status;
/// * `review_requested` (复查, Art. 35) needs a written reply (`replied`) in
///   the history, and no earlier review request of either kind;
/// * `re_review_requested` (复核, Art. 36) needs a `review_decided` in the
///   history, and no earlier re-review request;
/// * after a `re_review_decided` no review of either kind is allowed (Art.
///   36: 复核意见 is final; the same facts and reasons are not accepted again).
///
/// It does not check that `history` itself was valid; run it over each
/// prefix when you replay a stored case.
pub fn check_history(history: &[Status], to: Status) -> Result<(), WorkflowError> {
    let Some(&last) = history.last() else {
        return if to == Registered {
            Ok(())
        } else {
            Err(WorkflowError::InvalidStart { first: to })
        };
    };
    check_transition(last, to)?;
    let seen = |s: Status| history.contains(&s);
    let refuse = |reason| Err(WorkflowError::ReviewNotAvailable { to, reason });
    match to {
        ReviewRequested | ReReviewRequested if seen(ReReviewDecided) => refuse(
            "a 复核意见 (re-review opinion) has been issued and is final; no further review is accepted (信访工作条例 Art. 36)",
        ),
        ReviewRequested if seen(ReviewRequested) => refuse(
            "a 复查 (review) was already requested for this case; the next level is re_review_requested (复核, 信访工作条例 Art. 36)",
        ),
        ReviewRequested if !seen(Replied) => refuse(
            "the case has no written reply (答复) to review; 复查 is against a 信访处理意见 (信访工作条例 Art. 35)",
        ),
        ReReviewRequested if seen(ReReviewRequested) => {
            refuse("a 复核 (re-review) was already requested for this case (信访工作条例 Art. 36)")
        }
        ReReviewRequested if !seen(ReviewDecided) => refuse(
            "复核 is against a 复查意见 (review opinion), and this case has none; request review_requested (复查) first (信访工作条例 Art. 35-36)",
        ),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn table_row_by_row() {
        let rows: [(Status, &[Status]); 12] = [
            (Registered, &[Accepted, NotAccepted]),
            (Accepted, &[Assigned, Forwarded, Handling]),
            (NotAccepted, &[Closed]),
            (Assigned, &[Handling, Forwarded]),
            (Forwarded, &[Handling, Closed]),
            (Handling, &[Replied]),
            (Replied, &[Closed, ReviewRequested]),
            (Closed, &[ReviewRequested, ReReviewRequested]),
            (ReviewRequested, &[ReviewDecided]),
            (ReviewDecided, &[Closed, ReReviewRequested]),
            (ReReviewRequested, &[ReReviewDecided]),
            (ReReviewDecided, &[Closed]),
        ];
        for (from, allowed) in rows {
            assert_eq!(from.allowed_next(), allowed, "{from}");
            for to in Status::ALL {
                assert_eq!(
                    check_transition(from, to).is_ok(),
                    allowed.contains(&to),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn no_self_loops_and_nothing_returns_to_registered() {
        for s in Status::ALL {
            assert!(check_transition(s, s).is_err(), "{s}");
            assert!(check_transition(s, Registered).is_err(), "{s}");
        }
    }

    #[test]
    fn every_status_reachable_from_registered() {
        let mut reached = vec![Registered];
        let mut i = 0;
        while i < reached.len() {
            for &n in reached[i].allowed_next() {
                if !reached.contains(&n) {
                    reached.push(n);
                }
            }
            i += 1;
        }
        assert_eq!(reached.len(), Status::ALL.len());
    }

    #[test]
    fn names_labels_and_parse() {
        let mut names = std::collections::HashSet::new();
        let mut labels = std::collections::HashSet::new();
        for s in Status::ALL {
            assert!(names.insert(s.as_str()));
            assert!(labels.insert(s.label_zh()));
            assert_eq!(Status::parse(s.as_str()), Ok(s));
            assert_eq!(Status::parse(s.label_zh()), Ok(s));
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
        assert_eq!(Status::parse(" Review-Requested "), Ok(ReviewRequested));
        assert_eq!(Status::parse("re review decided"), Ok(ReReviewDecided));
        assert_eq!(Status::parse("复核意见"), Ok(ReReviewDecided));
        assert_eq!(Status::parse("交办"), Ok(Assigned));
        assert_eq!(Status::parse("转送"), Ok(Forwarded));
    }

    #[test]
    fn parse_error_lists_choices() {
        let e = Status::parse("done").unwrap_err().to_string();
        assert!(
            e.starts_with("unknown case status \"done\"; expected one of: registered (登记), ")
        );
        assert!(e.contains("re_review_decided (复核意见)"), "{e}");
    }

    #[test]
    fn is_open() {
        for s in Status::ALL {
            assert_eq!(s.is_open(), s != Closed);
        }
    }

    #[test]
    fn transition_error_message() {
        let e = check_transition(Replied, Handling).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot move a case from replied to handling; allowed next: closed, review_requested"
        );
        let e = check_transition(ReReviewDecided, ReviewRequested).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot move a case from re_review_decided to review_requested; allowed next: closed"
        );
    }

    fn replay(path: &[Status]) -> Result<(), WorkflowError> {
        for i in 0..path.len() {
            check_history(&path[..i], path[i])?;
        }
        Ok(())
    }

    #[test]
    fn full_paths() {
        replay(&[
            Registered,
            Accepted,
            Assigned,
            Handling,
            Replied,
            ReviewRequested,
            ReviewDecided,
            ReReviewRequested,
            ReReviewDecided,
            Closed,
        ])
        .unwrap();
        replay(&[Registered, NotAccepted, Closed]).unwrap();
        replay(&[Registered, Accepted, Forwarded, Closed]).unwrap();
        // closed after the reply, then 复查 arrives within the window
        replay(&[
            Registered,
            Accepted,
            Handling,
            Replied,
            Closed,
            ReviewRequested,
        ])
        .unwrap();
        // closed after the 复查意见, then 复核 arrives within the window
        replay(&[
            Registered,
            Accepted,
            Handling,
            Replied,
            ReviewRequested,
            ReviewDecided,
            Closed,
            ReReviewRequested,
            ReReviewDecided,
            Closed,
        ])
        .unwrap();
    }

    #[test]
    fn history_must_start_registered() {
        assert_eq!(check_history(&[], Registered), Ok(()));
        let e = check_history(&[], Accepted).unwrap_err();
        assert_eq!(e, WorkflowError::InvalidStart { first: Accepted });
        assert!(e.to_string().contains("must start as registered"));
    }

    #[test]
    fn no_review_after_final_re_review() {
        let h = [
            Registered,
            Accepted,
            Handling,
            Replied,
            ReviewRequested,
            ReviewDecided,
            ReReviewRequested,
            ReReviewDecided,
            Closed,
        ];
        for to in [ReviewRequested, ReReviewRequested] {
            let e = check_history(&h, to).unwrap_err();
            assert!(e.to_string().contains("Art. 36"), "{e}");
        }
    }

    #[test]
    fn no_second_review_and_no_review_without_reply() {
        let after_review = [
            Registered,
            Accepted,
            Handling,
            Replied,
            ReviewRequested,
            ReviewDecided,
            Closed,
        ];
        let e = check_history(&after_review, ReviewRequested).unwrap_err();
        assert!(e.to_string().contains("already requested"), "{e}");
        assert!(check_history(&after_review, ReReviewRequested).is_ok());

        let not_accepted = [Registered, NotAccepted, Closed];
        let e = check_history(&not_accepted, ReviewRequested).unwrap_err();
        assert!(e.to_string().contains("no written reply"), "{e}");
        let forwarded = [Registered, Accepted, Forwarded, Closed];
        assert!(check_history(&forwarded, ReviewRequested).is_err());

        let replied = [Registered, Accepted, Handling, Replied, Closed];
        let e = check_history(&replied, ReReviewRequested).unwrap_err();
        assert!(e.to_string().contains("request review_requested"), "{e}");
    }

    #[test]
    fn history_still_applies_the_table() {
        let h = [Registered, Accepted, Handling];
        assert!(matches!(
            check_history(&h, Closed),
            Err(WorkflowError::InvalidTransition { .. })
        ));
    }

    proptest! {
        /// A random walk through the table passes check_transition at every
        /// step, and check_history only ever refuses review requests.
        #[test]
        fn random_walks(choices in proptest::collection::vec(0usize..3, 0..40)) {
            let mut history = vec![Registered];
            for c in choices {
                let cur = *history.last().unwrap();
                let next = cur.allowed_next();
                let to = next[c % next.len()];
                prop_assert!(check_transition(cur, to).is_ok());
                match check_history(&history, to) {
                    Ok(()) => history.push(to),
                    Err(WorkflowError::ReviewNotAvailable { to: t, .. }) => {
                        prop_assert!(matches!(t, ReviewRequested | ReReviewRequested));
                    }
                    Err(e) => prop_assert!(false, "unexpected {e}"),
                }
            }
            // at most one review and one re-review, whatever the path
            prop_assert!(history.iter().filter(|&&s| s == ReviewRequested).count() <= 1);
            prop_assert!(history.iter().filter(|&&s| s == ReReviewRequested).count() <= 1);
        }
    }
}
