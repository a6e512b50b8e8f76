//! Risk assessment (风险评估) of a petition case on four dimensions: nature,
//! headcount, organisation and impact.
//!
//! The 信访工作条例 (2022) expects offices to spot and defuse risk early, but
//! it sets no scoring formula. The rule below is this crate's own: simple,
//! explainable, and meant for an office to review and adjust. The headcount bands follow practice:
//! 5 or more people is a group visit (集体访), matching the limit of 5
//! representatives for a group visit (Art. 19; article number not checked
//! against the official text).
//!
//! # Rule
//!
//! Add up the points:
//!
//! | dimension | value | points |
//! | --- | --- | --- |
//! | nature | ordinary 普通 | 0 |
//! | nature | sensitive 敏感 (religion, ethnicity, territory, or an office label) | 2 |
//! | headcount | 0–1 | 0 |
//! | headcount | 2–4 | 1 |
//! | headcount | 5–49 (group visit) | 2 |
//! | headcount | 50 or more | 3 |
//! | organisation | individual 个人 | 0 |
//! | organisation | loose group 松散群体 | 1 |
//! | organisation | organised 有组织 | 2 |
//! | impact | local 本地 | 0 |
//! | impact | regional 跨区域 | 1 |
//! | impact | public opinion 舆情 | 2 |
//!
//! Map the total (0–9) to a level:
//!
//! | total | level |
//! | --- | --- |
//! | 0–1 | low 低风险 |
//! | 2–4 | medium 中风险 |
//! | 5–6 | high 高风险 |
//! | 7–9 | critical 重大风险 |
//!
//! Then apply the floors, which only ever raise the level:
//!
//! | condition | level at least |
//! | --- | --- |
//! | organised **and** headcount ≥ 50 | critical |
//! | sensitive nature **and** public-opinion impact | high |

use super::WorkflowError;

fn norm(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| match c {
            '-' | ' ' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// The nature of the matter (性质).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Nature {
    /// 普通: nothing sensitive.
    Ordinary,
    /// 敏感: a sensitive topic, such as `religion`, `ethnicity`, `territory`,
    /// or a label the office configured.
    Sensitive(String),
}

/// The built-in sensitive topics: (English name, Chinese label).
const SENSITIVE_TOPICS: [(&str, &str); 3] = [
    ("religion", "宗教"),
    ("ethnicity", "民族"),
    ("territory", "领土"),
];

const NATURE_EXPECTED: &str = "ordinary (普通), religion (宗教), ethnicity (民族), territory (领土), or sensitive:<label> / 敏感:<label> for a sensitive topic the office defines";

impl Nature {
    /// Parses a CLI string:
    ///
    /// * `ordinary`, `普通` or `一般` → [`Nature::Ordinary`];
    /// * `religion`/`宗教`, `ethnicity`/`民族`, `territory`/`领土` →
    ///   `Sensitive("religion")` and so on (English name kept);
    /// * `sensitive:<label>` or `敏感:<label>` (ASCII or full-width colon) →
    ///   `Sensitive(label)`, a topic the office defines. A built-in topic
    ///   given this way is stored under its English name.
    pub fn parse(s: &str) -> Result<Nature, WorkflowError> {
        let t = s.trim();
        let n = norm(t);
        if matches!(n.as_str(), "ordinary") || matches!(t, "普通" | "一般") {
            return Ok(Nature::Ordinary);
        }
        let topic = |x: &str| {
            SENSITIVE_TOPICS
                .iter()
                .find(|(en, zh)| norm(x) == *en || x.trim() == *zh)
                .map(|(en, _)| Nature::Sensitive((*en).to_owned()))
        };
        if let Some(nat) = topic(t) {
            return Ok(nat);
        }
        let custom = ["sensitive:", "sensitive：", "敏感:", "敏感："]
            .iter()
            .find_map(|p| {
                t.get(..p.len())
                    .filter(|head| head.eq_ignore_ascii_case(p))
                    .map(|_| t[p.len()..].trim())
            });
        match custom {
            Some(label) if !label.is_empty() => {
                Ok(topic(label).unwrap_or_else(|| Nature::Sensitive(label.to_owned())))
            }
            _ => Err(WorkflowError::UnknownValue {
                what: "nature",
                input: s.to_owned(),
                expected: NATURE_EXPECTED,
            }),
        }
    }

    /// Whether the nature is sensitive.
    pub fn is_sensitive(&self) -> bool {
        matches!(self, Nature::Sensitive(_))
    }
}

/// How the petitioners are organised (组织化程度).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Organisation {
    /// 个人: one person, or people acting separately.
    Individual,
    /// 松散群体: a spontaneous, loosely connected group.
    LooseGroup,
    /// 有组织: organised, with leaders, coordination or funding.
    Organised,
}

impl Organisation {
    /// Every value, lowest risk first.
    pub const ALL: [Organisation; 3] = [
        Organisation::Individual,
        Organisation::LooseGroup,
        Organisation::Organised,
    ];

    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Organisation::Individual => "individual",
            Organisation::LooseGroup => "loose_group",
            Organisation::Organised => "organised",
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Organisation::Individual => "个人",
            Organisation::LooseGroup => "松散群体",
            Organisation::Organised => "有组织",
        }
    }

    /// Parses the snake_case name (`organized` is accepted too) or the
    /// Chinese label.
    pub fn parse(s: &str) -> Result<Organisation, WorkflowError> {
        let n = norm(s);
        let n = if n == "organized" {
            "organised".to_owned()
        } else {
            n
        };
        Organisation::ALL
            .into_iter()
            .find(|o| o.as_str() == n || o.label_zh() == s.trim())
            .ok_or_else(|| WorkflowError::UnknownValue {
                what: "organisation",
                input: s.to_owned(),
                expected: "individual (个人), loose_group (松散群体), organised (有组织)",
            })
    }

    fn points(self) -> u32 {
        match self {
            Organisation::Individual => 0,
            Organisation::LooseGroup => 1,
            Organisation::Organised => 2,
        }
    }
}

/// How far the matter's impact reaches (影响范围).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    /// 本地: confined to one locality or unit.
    Local,
    /// 跨区域: crosses administrative areas.
    Regional,
    /// 舆情: drawing public or online attention (网络舆情).
    PublicOpinion,
}

impl Impact {
    /// Every value, lowest risk first.
    pub const ALL: [Impact; 3] = [Impact::Local, Impact::Regional, Impact::PublicOpinion];

    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Impact::Local => "local",
            Impact::Regional => "regional",
            Impact::PublicOpinion => "public_opinion",
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Impact::Local => "本地",
            Impact::Regional => "跨区域",
            Impact::PublicOpinion => "舆情",
        }
    }

    /// Parses the snake_case name or the Chinese label.
    pub fn parse(s: &str) -> Result<Impact, WorkflowError> {
        let n = norm(s);
        Impact::ALL
            .into_iter()
            .find(|i| i.as_str() == n || i.label_zh() == s.trim())
            .ok_or_else(|| WorkflowError::UnknownValue {
                what: "impact",
                input: s.to_owned(),
                expected: "local (本地), regional (跨区域), public_opinion (舆情)",
            })
    }

    fn points(self) -> u32 {
        match self {
            Impact::Local => 0,
            Impact::Regional => 1,
            Impact::PublicOpinion => 2,
        }
    }
}

/// A risk level, ordered `Low < Medium < High < Critical`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    /// 低风险.
    Low,
    /// 中风险.
    Medium,
    /// 高风险.
    High,
    /// 重大风险.
    Critical,
}

impl RiskLevel {
    /// Every level, lowest first.
    pub const ALL: [RiskLevel; 4] = [
        RiskLevel::Low,
        RiskLevel::Medium,
        RiskLevel::High,
        RiskLevel::Critical,
    ];

    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
            RiskLevel::Critical => "critical",
        }
    }

    /// Chinese label, e.g. `高风险`.
    pub fn label_zh(self) -> &'static str {
        match self {
            RiskLevel::Low => "低风险",
            RiskLevel::Medium => "中风险",
            RiskLevel::High => "高风险",
            RiskLevel::Critical => "重大风险",
        }
    }

    /// Parses the snake_case name or the Chinese label, with or without
    /// 风险 (`高风险` and `高` both give `High`).
    pub fn parse(s: &str) -> Result<RiskLevel, WorkflowError> {
        let n = norm(s);
        let t = s.trim();
        RiskLevel::ALL
            .into_iter()
            .find(|l| {
                l.as_str() == n || l.label_zh() == t || l.label_zh().strip_suffix("风险") == Some(t)
            })
            .ok_or_else(|| WorkflowError::UnknownValue {
                what: "risk level",
                input: s.to_owned(),
                expected: "low (低风险), medium (中风险), high (高风险), critical (重大风险)",
            })
    }

    /// The level for a total score, before floors (see the module docs).
    pub fn from_score(score: u32) -> RiskLevel {
        match score {
            0..=1 => RiskLevel::Low,
            2..=4 => RiskLevel::Medium,
            5..=6 => RiskLevel::High,
            _ => RiskLevel::Critical,
        }
    }
}

impl std::fmt::Display for RiskLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Headcount at which the organised-group floor applies.
pub const LARGE_GROUP: u32 = 50;

/// A case's risk on the four dimensions. See the [module docs](self) for the
/// scoring rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Assessment {
    /// Nature of the matter.
    pub nature: Nature,
    /// Number of people involved.
    pub headcount: u32,
    /// How they are organised.
    pub organisation: Organisation,
    /// How far the impact reaches.
    pub impact: Impact,
}

fn headcount_points(n: u32) -> u32 {
    match n {
        0..=1 => 0,
        2..=4 => 1,
        5..=49 => 2,
        _ => 3,
    }
}

impl Assessment {
    /// The total score, 0–9 (first table in the module docs).
    pub fn score(&self) -> u32 {
        let nature = if self.nature.is_sensitive() { 2 } else { 0 };
        nature
            + headcount_points(self.headcount)
            + self.organisation.points()
            + self.impact.points()
    }

    fn organised_large(&self) -> bool {
        self.organisation == Organisation::Organised && self.headcount >= LARGE_GROUP
    }

    fn sensitive_public(&self) -> bool {
        self.nature.is_sensitive() && self.impact == Impact::PublicOpinion
    }

    /// The risk level: the score's level, raised by the floors if they apply.
    pub fn level(&self) -> RiskLevel {
        let mut level = RiskLevel::from_score(self.score());
        if self.organised_large() {
            level = level.max(RiskLevel::Critical);
        }
        if self.sensitive_public() {
            level = level.max(RiskLevel::High);
        }
        level
    }

    /// Why: one line (Chinese and English) for each dimension that scored,
    /// then one for each floor whose condition holds. Empty when the score is
    /// 0 and no floor applies.
    pub fn reasons(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.nature.is_sensitive() {
            out.push("敏感性质 sensitive nature (+2)");
        }
        match headcount_points(self.headcount) {
            0 => {}
            1 => out.push("2–4人 2–4 people (+1)"),
            2 => out.push("集体访 group visit, 5–49 people (+2)"),
            _ => out.push("50人以上 50 or more people (+3)"),
        }
        match self.organisation {
            Organisation::Individual => {}
            Organisation::LooseGroup => out.push("松散群体 loose group (+1)"),
            Organisation::Organised => out.push("有组织 organised (+2)"),
        }
        match self.impact {
            Impact::Local => {}
            Impact::Regional => out.push("跨区域影响 regional impact (+1)"),
            Impact::PublicOpinion => out.push("舆情关注 public-opinion impact (+2)"),
        }
        if self.organised_large() {
            out.push("有组织且50人以上，至少重大风险 organised and 50+ people: at least critical");
        }
        if self.sensitive_public() {
            out.push("敏感性质且涉舆情，至少高风险 sensitive nature with public-opinion impact: at least high");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn a(nature: Nature, headcount: u32, organisation: Organisation, impact: Impact) -> Assessment {
        Assessment {
            nature,
            headcount,
            organisation,
            impact,
        }
    }

    fn base() -> Assessment {
        a(Nature::Ordinary, 1, Organisation::Individual, Impact::Local)
    }

    fn sensitive() -> Nature {
        Nature::Sensitive("religion".into())
    }

    #[test]
    fn points_row_by_row() {
        assert_eq!(base().score(), 0);
        // nature
        assert_eq!(
            Assessment {
                nature: sensitive(),
                ..base()
            }
            .score(),
            2
        );
        // headcount bands and their edges
        for (n, pts) in [
            (0, 0),
            (1, 0),
            (2, 1),
            (4, 1),
            (5, 2),
            (49, 2),
            (50, 3),
            (10_000, 3),
        ] {
            assert_eq!(
                Assessment {
                    headcount: n,
                    ..base()
                }
                .score(),
                pts,
                "headcount {n}"
            );
        }
        // organisation
        for (o, pts) in Organisation::ALL.into_iter().zip([0, 1, 2]) {
            assert_eq!(
                Assessment {
                    organisation: o,
                    ..base()
                }
                .score(),
                pts,
                "{o:?}"
            );
        }
        // impact
        for (i, pts) in Impact::ALL.into_iter().zip([0, 1, 2]) {
            assert_eq!(
                Assessment {
                    impact: i,
                    ..base()
                }
                .score(),
                pts,
                "{i:?}"
            );
        }
        // maximum
        let max = a(
            sensitive(),
            50,
            Organisation::Organised,
            Impact::PublicOpinion,
        );
        assert_eq!(max.score(), 9);
    }

    #[test]
    fn score_to_level_row_by_row() {
        let expect = [
            (0, RiskLevel::Low),
            (1, RiskLevel::Low),
            (2, RiskLevel::Medium),
            (3, RiskLevel::Medium),
            (4, RiskLevel::Medium),
            (5, RiskLevel::High),
            (6, RiskLevel::High),
            (7, RiskLevel::Critical),
            (8, RiskLevel::Critical),
            (9, RiskLevel::Critical),
        ];
        for (score, level) in expect {
            assert_eq!(RiskLevel::from_score(score), level, "score {score}");
        }
    }

    #[test]
    fn floors() {
        // organised + 50 people, otherwise quiet: score 2 + 3 = 5 (high) -> critical
        let big = a(Nature::Ordinary, 50, Organisation::Organised, Impact::Local);
        assert_eq!(big.score(), 5);
        assert_eq!(big.level(), RiskLevel::Critical);
        // one short of 50: no floor
        let almost = Assessment {
            headcount: 49,
            ..big.clone()
        };
        assert_eq!(almost.level(), RiskLevel::Medium);
        // a loose group of 50 does not trigger it
        let loose = Assessment {
            organisation: Organisation::LooseGroup,
            ..big
        };
        assert_eq!(loose.level(), RiskLevel::Medium);

        // sensitive + public opinion, one person: score 4 (medium) -> high
        let sp = a(
            sensitive(),
            1,
            Organisation::Individual,
            Impact::PublicOpinion,
        );
        assert_eq!(sp.score(), 4);
        assert_eq!(sp.level(), RiskLevel::High);
        // sensitive but regional: no floor
        let sr = Assessment {
            impact: Impact::Regional,
            ..sp.clone()
        };
        assert_eq!(sr.level(), RiskLevel::Medium);
        // a floor never lowers a higher score
        let top = a(
            sensitive(),
            50,
            Organisation::Organised,
            Impact::PublicOpinion,
        );
        assert_eq!(top.level(), RiskLevel::Critical);
    }

    #[test]
    fn worked_examples() {
        assert_eq!(base().level(), RiskLevel::Low);
        // a couple, loose, local: 1 + 1 = 2
        assert_eq!(
            a(Nature::Ordinary, 2, Organisation::LooseGroup, Impact::Local).level(),
            RiskLevel::Medium
        );
        // group visit of 8, loose, regional: 2 + 1 + 1 = 4
        assert_eq!(
            a(
                Nature::Ordinary,
                8,
                Organisation::LooseGroup,
                Impact::Regional
            )
            .level(),
            RiskLevel::Medium
        );
        // group visit of 8, organised, regional: 2 + 2 + 1 = 5
        assert_eq!(
            a(
                Nature::Ordinary,
                8,
                Organisation::Organised,
                Impact::Regional
            )
            .level(),
            RiskLevel::High
        );
        // sensitive group of 20, organised, regional: 2 + 2 + 2 + 1 = 7
        assert_eq!(
            a(sensitive(), 20, Organisation::Organised, Impact::Regional).level(),
            RiskLevel::Critical
        );
    }

    #[test]
    fn reasons_explain_each_point() {
        assert!(base().reasons().is_empty());
        let r = a(
            sensitive(),
            60,
            Organisation::Organised,
            Impact::PublicOpinion,
        )
        .reasons();
        assert_eq!(
            r,
            vec![
                "敏感性质 sensitive nature (+2)",
                "50人以上 50 or more people (+3)",
                "有组织 organised (+2)",
                "舆情关注 public-opinion impact (+2)",
                "有组织且50人以上，至少重大风险 organised and 50+ people: at least critical",
                "敏感性质且涉舆情，至少高风险 sensitive nature with public-opinion impact: at least high",
            ]
        );
        let r = a(
            Nature::Ordinary,
            3,
            Organisation::LooseGroup,
            Impact::Regional,
        )
        .reasons();
        assert_eq!(
            r,
            vec![
                "2–4人 2–4 people (+1)",
                "松散群体 loose group (+1)",
                "跨区域影响 regional impact (+1)"
            ]
        );
        assert_eq!(
            Assessment {
                headcount: 5,
                ..base()
            }
            .reasons(),
            vec!["集体访 group visit, 5–49 people (+2)"]
        );
    }

    #[test]
    fn parse_nature() {
        assert_eq!(Nature::parse("ordinary"), Ok(Nature::Ordinary));
        assert_eq!(Nature::parse(" 普通 "), Ok(Nature::Ordinary));
        assert_eq!(Nature::parse("Religion"), Ok(sensitive()));
        assert_eq!(Nature::parse("宗教"), Ok(sensitive()));
        assert_eq!(
            Nature::parse("民族"),
            Ok(Nature::Sensitive("ethnicity".into()))
        );
        assert_eq!(
            Nature::parse("territory"),
            Ok(Nature::Sensitive("territory".into()))
        );
        assert_eq!(
            Nature::parse("sensitive:征地拆迁"),
            Ok(Nature::Sensitive("征地拆迁".into()))
        );
        assert_eq!(
            Nature::parse("敏感：涉军"),
            Ok(Nature::Sensitive("涉军".into()))
        );
        assert_eq!(Nature::parse("Sensitive: 宗教"), Ok(sensitive()));
        assert!(Nature::parse("sensitive:").is_err());
        assert!(Nature::parse("sensitive").is_err());
        let e = Nature::parse("religon").unwrap_err().to_string();
        assert!(
            e.starts_with("unknown nature \"religon\"; expected one of: ordinary (普通)"),
            "{e}"
        );
        assert!(e.contains("sensitive:<label>"));
    }

    #[test]
    fn parse_dimensions_and_levels() {
        for o in Organisation::ALL {
            assert_eq!(Organisation::parse(o.as_str()), Ok(o));
            assert_eq!(Organisation::parse(o.label_zh()), Ok(o));
        }
        assert_eq!(
            Organisation::parse("Loose-Group"),
            Ok(Organisation::LooseGroup)
        );
        assert_eq!(
            Organisation::parse("organized"),
            Ok(Organisation::Organised)
        );
        for i in Impact::ALL {
            assert_eq!(Impact::parse(i.as_str()), Ok(i));
            assert_eq!(Impact::parse(i.label_zh()), Ok(i));
        }
        assert_eq!(Impact::parse("public opinion"), Ok(Impact::PublicOpinion));
        for l in RiskLevel::ALL {
            assert_eq!(RiskLevel::parse(l.as_str()), Ok(l));
            assert_eq!(RiskLevel::parse(l.label_zh()), Ok(l));
        }
        assert_eq!(RiskLevel::parse("高"), Ok(RiskLevel::High));
        assert_eq!(RiskLevel::parse("重大"), Ok(RiskLevel::Critical));
        assert_eq!(RiskLevel::parse("HIGH"), Ok(RiskLevel::High));
        let e = RiskLevel::parse("severe").unwrap_err().to_string();
        assert_eq!(
            e,
            "unknown risk level \"severe\"; expected one of: low (低风险), medium (中风险), high (高风险), critical (重大风险)"
        );
        assert!(
            Impact::parse("national")
                .unwrap_err()
                .to_string()
                .contains("public_opinion (舆情)")
        );
        assert!(Organisation::parse("").is_err());
    }

    #[test]
    fn levels_are_ordered() {
        assert!(RiskLevel::Low < RiskLevel::Medium);
        assert!(RiskLevel::Medium < RiskLevel::High);
        assert!(RiskLevel::High < RiskLevel::Critical);
        assert_eq!(RiskLevel::Critical.to_string(), "critical");
    }

    fn any_assessment() -> impl Strategy<Value = Assessment> {
        (any::<bool>(), 0u32..200, 0usize..3, 0usize..3).prop_map(|(s, h, o, i)| Assessment {
            nature: if s {
                Nature::Sensitive("x".into())
            } else {
                Nature::Ordinary
            },
            headcount: h,
            organisation: Organisation::ALL[o],
            impact: Impact::ALL[i],
        })
    }

    proptest! {
        /// Raising any one dimension never lowers the level.
        #[test]
        fn monotone(x in any_assessment(), extra in 0u32..100) {
            let l = x.level();
            let more_people = Assessment { headcount: x.headcount + extra, ..x.clone() };
            prop_assert!(more_people.level() >= l);
            let sensitive = Assessment { nature: Nature::Sensitive("y".into()), ..x.clone() };
            prop_assert!(sensitive.level() >= l);
            for o in Organisation::ALL.into_iter().filter(|o| o.points() >= x.organisation.points()) {
                let y = Assessment { organisation: o, ..x.clone() };
                prop_assert!(y.level() >= l);
            }
            for i in Impact::ALL.into_iter().filter(|i| i.points() >= x.impact.points()) {
                let y = Assessment { impact: i, ..x.clone() };
                prop_assert!(y.level() >= l);
            }
            prop_assert!(x.score() <= 9);
            prop_assert!(l >= RiskLevel::from_score(x.score()));
        }
    }
}
