//! Redaction: masking rules and scrubbing of free text.

pub mod mask;

use crate::crypto::SecretText;

/// Values a record knows about its own petitioner(s); always removed from its text.
#[derive(Default, Clone)]
pub struct Known {
    /// Values to remove wherever they occur.
    pub values: Vec<SecretText>,
}

impl std::fmt::Debug for Known {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Known({} values)", self.values.len())
    }
}

/// Scrubs free text for the masked class: removes known values and masks any run of 5 or
/// more digits (IDs, phones, card numbers).
pub fn scrub_text(text: &str, known: &Known) -> String {
    let mut out = text.to_owned();
    for v in &known.values {
        let v = v.expose();
        if v.chars().count() >= 2 {
            out = out.replace(v, "[已删除]");
        }
    }
    mask_digit_runs(&out)
}

/// Masks every run of 5 or more ASCII/full-width digits (and a trailing X of an ID).
pub fn mask_digit_runs(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let is_digit = |c: char| c.is_ascii_digit() || ('０'..='９').contains(&c);
    while i < chars.len() {
        if is_digit(chars[i]) {
            let start = i;
            while i < chars.len()
                && (is_digit(chars[i])
                    || (i > start && matches!(chars[i], 'x' | 'X' | 'ｘ' | 'Ｘ')))
            {
                i += 1;
            }
            if i - start >= 5 {
                out.extend(std::iter::repeat_n('*', i - start));
            } else {
                out.extend(&chars[start..i]);
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Scrubs a free-text reason before it goes into the audit log.
pub fn scrub_reason(reason: &str) -> String {
    let trimmed: String = reason.trim().chars().take(200).collect();
    mask_digit_runs(&trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_runs_masked() {
        assert_eq!(
            mask_digit_runs("电话13812345678找我"),
            "电话***********找我"
        );
        assert_eq!(mask_digit_runs("第30条"), "第30条");
        assert_eq!(
            mask_digit_runs("11010519491231002X，"),
            "******************，"
        );
    }

    #[test]
    fn known_values_removed() {
        let k = Known {
            values: vec![SecretText::from("张三")],
        };
        assert_eq!(scrub_text("我叫张三", &k), "我叫[已删除]");
    }
}
