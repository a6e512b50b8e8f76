//! Pure validation and normalisation of petitioner identity data.
//!
//! Everything here is free of I/O. Errors never carry the rejected value:
//! a [`ValidationError`] only names the field and the rule that failed, so it
//! is safe to log or show to an operator.

use core::fmt;

use time::macros::{date, offset};
use time::{Date, Month, OffsetDateTime};
use zeroize::{Zeroize, Zeroizing};

/// Why a value was rejected: names the field and the rule, never the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {rule}")]
pub struct ValidationError {
    /// Name of the rejected field, e.g. `"id_number"`.
    pub field: &'static str,
    /// The rule that was violated (one of the `RULE_*` constants).
    pub rule: &'static str,
}

impl ValidationError {
    const fn new(field: &'static str, rule: &'static str) -> Self {
        Self { field, rule }
    }
}

/// Field name reported for resident identity numbers.
pub const FIELD_ID_NUMBER: &str = "id_number";
/// Field name reported for mobile and landline numbers.
pub const FIELD_PHONE: &str = "phone";
/// Field name reported for e-mail addresses.
pub const FIELD_EMAIL: &str = "email";
/// Field name reported for personal names.
pub const FIELD_NAME: &str = "name";

/// ID rule: wrong length or a character that is not a digit (or a final `X`).
pub const RULE_ID_FORMAT: &str = "must be 18 digits (or a 15-digit legacy number)";
/// ID rule: the 18th character does not match the ISO 7064 MOD 11-2 check.
pub const RULE_ID_CHECKSUM: &str = "check digit does not match (ISO 7064 MOD 11-2)";
/// ID rule: the embedded birth date is not a calendar date in 1900-01-01..=today.
pub const RULE_ID_BIRTH_DATE: &str = "birth date is not a real date";
/// ID rule: the first two digits are not in [`PROVINCE_CODES`].
pub const RULE_ID_PROVINCE: &str = "unknown province code";
/// Phone rule used by [`normalize_mobile`].
pub const RULE_MOBILE: &str = "must be an 11-digit mainland mobile number";
/// Phone rule used by [`normalize_phone`].
pub const RULE_PHONE: &str = "must be a mainland mobile number or a landline with area code";
/// Generic rule: the value is empty after trimming.
pub const RULE_EMPTY: &str = "must not be empty";
/// E-mail rule: there must be exactly one `@`.
pub const RULE_EMAIL_AT: &str = "must contain exactly one @";
/// E-mail rule: the part before `@` is malformed.
pub const RULE_EMAIL_LOCAL: &str = "local part is invalid";
/// E-mail rule: the part after `@` is not a plausible domain name.
pub const RULE_EMAIL_DOMAIN: &str = "domain is invalid";
/// E-mail rule: longer than 254 bytes.
pub const RULE_EMAIL_LENGTH: &str = "must be at most 254 characters";
/// Name rule: longer than 64 characters after normalisation.
pub const RULE_NAME_LENGTH: &str = "must be at most 64 characters";
/// Name rule: contains control or invisible formatting characters.
pub const RULE_NAME_CONTROL: &str = "must not contain control characters";
/// Name rule: contains no letter or CJK ideograph at all.
pub const RULE_NAME_LETTER: &str = "must contain at least one letter";

/// Province-level codes accepted as the first two digits of an ID number
/// (GB/T 2260 plus the special ranges used by residence permits):
///
/// * 11–15 North China: 北京, 天津, 河北, 山西, 内蒙古
/// * 21–23 North-East: 辽宁, 吉林, 黑龙江
/// * 31–37 East: 上海, 江苏, 浙江, 安徽, 福建, 江西, 山东
/// * 41–46 Central-South: 河南, 湖北, 湖南, 广东, 广西, 海南
/// * 50–54 South-West: 重庆, 四川, 贵州, 云南, 西藏
/// * 61–65 North-West: 陕西, 甘肃, 青海, 宁夏, 新疆
/// * 71 台湾, 81 香港, 82 澳门
/// * 83 台湾居民居住证 (Taiwan residents' residence permit)
/// * 91 外国人永久居留身份证 (foreigners' permanent residence ID)
pub const PROVINCE_CODES: &[u8] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83, 91,
];

/// ISO 7064 MOD 11-2 weights for the first 17 digits.
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character indexed by the weighted sum modulo 11.
const ID_CHECK_CHARS: &[u8; 11] = b"10X98765432";
/// Earliest birth date accepted in an ID number.
const MIN_BIRTH_DATE: Date = date!(1900 - 01 - 01);

/// Sex encoded in the 17th digit of an ID number (odd = male).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gender {
    /// Odd 17th digit.
    Male,
    /// Even 17th digit.
    Female,
}

/// Parsed, normalised resident identity number (居民身份证号码).
///
/// `Debug` never prints the number, there is deliberately no `Display`, and
/// the stored string is zeroized on drop.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ResidentId {
    number: String,
    birth_date: Date,
    gender: Gender,
    region: u32,
}

impl fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResidentId(..)")
    }
}

impl Drop for ResidentId {
    fn drop(&mut self) {
        self.number.zeroize();
    }
}

impl ResidentId {
    /// Parses and normalises an ID number (field `"id_number"`).
    ///
    /// Accepts surrounding/internal whitespace, full-width digits, and `x`,
    /// `ｘ`, `Ｘ` for the check character. 15-digit legacy numbers are
    /// upgraded to 18 digits (century `19` inserted, check character
    /// computed). Checks, in order: format ([`RULE_ID_FORMAT`]), check
    /// character ([`RULE_ID_CHECKSUM`]), province ([`RULE_ID_PROVINCE`]),
    /// birth date between 1900-01-01 and today in China Standard Time
    /// ([`RULE_ID_BIRTH_DATE`]).
    pub fn parse(input: &str) -> Result<ResidentId, ValidationError> {
        let today = OffsetDateTime::now_utc().to_offset(offset!(+8)).date();
        Self::parse_at(input, today)
    }

    fn parse_at(input: &str, today: Date) -> Result<ResidentId, ValidationError> {
        let format_err = ValidationError::new(FIELD_ID_NUMBER, RULE_ID_FORMAT);
        let mut buf = Zeroizing::new([0u8; 18]);
        let mut len = 0usize;
        for c in input.chars() {
            if c.is_whitespace() {
                continue;
            }
            let b = fold_id_char(c).ok_or_else(|| format_err.clone())?;
            if len == buf.len() {
                return Err(format_err);
            }
            buf[len] = b;
            len += 1;
        }
        match len {
            18 => {
                if !buf[..17].iter().all(u8::is_ascii_digit) {
                    return Err(format_err);
                }
                if id_check_byte(&buf[..17]) != buf[17] {
                    return Err(ValidationError::new(FIELD_ID_NUMBER, RULE_ID_CHECKSUM));
                }
            }
            15 => {
                if !buf[..15].iter().all(u8::is_ascii_digit) {
                    return Err(format_err);
                }
                buf.copy_within(6..15, 8);
                buf[6] = b'1';
                buf[7] = b'9';
                buf[17] = id_check_byte(&buf[..17]);
            }
            _ => return Err(format_err),
        }

        let province = digits_value(&buf[0..2]);
        if !PROVINCE_CODES.iter().any(|&p| u32::from(p) == province) {
            return Err(ValidationError::new(FIELD_ID_NUMBER, RULE_ID_PROVINCE));
        }

        let date_err = ValidationError::new(FIELD_ID_NUMBER, RULE_ID_BIRTH_DATE);
        let year = i32::try_from(digits_value(&buf[6..10])).map_err(|_| date_err.clone())?;
        let month = u8::try_from(digits_value(&buf[10..12])).map_err(|_| date_err.clone())?;
        let day = u8::try_from(digits_value(&buf[12..14])).map_err(|_| date_err.clone())?;
        let month = Month::try_from(month).map_err(|_| date_err.clone())?;
        let birth_date =
            Date::from_calendar_date(year, month, day).map_err(|_| date_err.clone())?;
        if birth_date < MIN_BIRTH_DATE || birth_date > today {
            return Err(date_err);
        }

        let gender = if (buf[16] - b'0') % 2 == 1 {
            Gender::Male
        } else {
            Gender::Female
        };
        let region = digits_value(&buf[0..6]);
        let mut number = String::with_capacity(18);
        number.extend(buf.iter().map(|&b| char::from(b)));
        Ok(ResidentId {
            number,
            birth_date,
            gender,
            region,
        })
    }

    /// The normalised 18-character number (ASCII digits, check char `X` upper-case).
    pub fn as_str(&self) -> &str {
        &self.number
    }

    /// Birth date encoded in digits 7–14.
    pub fn birth_date(&self) -> Date {
        self.birth_date
    }

    /// Gender encoded in the 17th digit.
    pub fn gender(&self) -> Gender {
        self.gender
    }

    /// Six-digit administrative region code (digits 1–6), e.g. `110105`.
    pub fn region_code(&self) -> u32 {
        self.region
    }

    /// Two-digit province code (digits 1–2), e.g. `11`.
    pub fn province_code(&self) -> u8 {
        // region is at most 999_999, so the quotient is at most 99.
        u8::try_from(self.region / 10_000).unwrap_or(0)
    }
}

/// Computes the ISO 7064 MOD 11-2 check character of an ID number from its
/// first 17 characters. Returns `None` unless `first17` is exactly 17 ASCII digits.
pub fn id_check_char(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    (bytes.len() == 17 && bytes.iter().all(u8::is_ascii_digit))
        .then(|| char::from(id_check_byte(bytes)))
}

/// Check byte for 17 ASCII digits (caller guarantees the precondition).
fn id_check_byte(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(ID_WEIGHTS)
        .map(|(&d, w)| u32::from(d - b'0') * w)
        .sum();
    ID_CHECK_CHARS[(sum % 11) as usize]
}

/// Decimal value of a short run of ASCII digits.
fn digits_value(digits: &[u8]) -> u32 {
    digits
        .iter()
        .fold(0, |acc, &d| acc * 10 + u32::from(d - b'0'))
}

/// Maps an ID character to ASCII (`0-9`, `X`), folding full-width forms.
fn fold_id_char(c: char) -> Option<u8> {
    match c {
        '0'..='9' => u8::try_from(c).ok(),
        '０'..='９' => u8::try_from(u32::from(c) - u32::from('０') + u32::from(b'0')).ok(),
        'x' | 'X' | 'ｘ' | 'Ｘ' => Some(b'X'),
        _ => None,
    }
}

/// Parses an ID number and returns its normalised 18-character form.
/// Same rules and errors as [`ResidentId::parse`].
pub fn normalize_id_number(input: &str) -> Result<String, ValidationError> {
    ResidentId::parse(input).map(|id| id.as_str().to_owned())
}

// ---------------------------------------------------------------- phones

/// Upper bound on digits looked at in a phone number (rejects absurd input early).
const MAX_PHONE_DIGITS: usize = 24;

/// Maps full-width and typographic variants of phone characters to ASCII.
fn fold_phone_char(c: char) -> char {
    match c {
        '０'..='９' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '＋' => '+',
        '－' | '‐' | '‑' | '‒' | '–' | '—' | '−' | '﹣' => '-',
        '（' => '(',
        '）' => ')',
        '．' => '.',
        '／' => '/',
        c if c.is_whitespace() => ' ',
        c => c,
    }
}

/// Digits of a phone number plus where separator-delimited groups end.
struct PhoneScan {
    plus: bool,
    digits: Vec<u8>,
    /// Digit counts at which a group of digits was closed by a separator.
    bounds: Vec<usize>,
}

/// Splits a phone number into digits; `None` on any unexpected character.
fn scan_phone(input: &str) -> Option<PhoneScan> {
    let mut scan = PhoneScan {
        plus: false,
        digits: Vec::with_capacity(16),
        bounds: Vec::new(),
    };
    let mut in_group = false;
    for c in input.chars().map(fold_phone_char) {
        match c {
            '0'..='9' => {
                if scan.digits.len() >= MAX_PHONE_DIGITS {
                    return None;
                }
                scan.digits.push(u8::try_from(c).ok()?);
                in_group = true;
            }
            '+' if !scan.plus && scan.digits.is_empty() => scan.plus = true,
            ' ' | '-' | '.' | '(' | ')' | '/' => {
                if in_group {
                    scan.bounds.push(scan.digits.len());
                    in_group = false;
                }
            }
            _ => return None,
        }
    }
    Some(scan)
}

/// The 11 national digits of a mainland mobile number, if `scan` is one.
fn mobile_digits(scan: &PhoneScan) -> Option<&[u8]> {
    let d = scan.digits.as_slice();
    let national = if scan.plus {
        d.strip_prefix(b"86")?
    } else if d.len() == 15 && d.starts_with(b"0086") {
        &d[4..]
    } else if d.len() == 13 && d.starts_with(b"86") {
        &d[2..]
    } else {
        d
    };
    let ok = national.len() == 11 && national[0] == b'1' && (b'3'..=b'9').contains(&national[1]);
    ok.then_some(national)
}

fn parse_mobile(input: &str) -> Option<String> {
    let scan = scan_phone(input)?;
    let digits = mobile_digits(&scan)?;
    Some(digits.iter().map(|&b| char::from(b)).collect())
}

/// Removes an explicit extension (`转123`, `ext. 12`, `x12`, `#12`, `分机12`).
/// Returns the main part, or `None` if the extension itself is malformed.
fn strip_extension(input: &str) -> Option<&str> {
    for (i, c) in input.char_indices() {
        let marker_len = match c {
            '转' | '#' | '＃' | 'x' | 'X' | ',' | '，' | ';' | '；' => c.len_utf8(),
            '分' if input[i..].starts_with("分机") => "分机".len(),
            'e' | 'E'
                if input
                    .get(i..i + 3)
                    .is_some_and(|t| t.eq_ignore_ascii_case("ext")) =>
            {
                3
            }
            _ => continue,
        };
        let ext = input[i + marker_len..].trim_start_matches(['.', ':', '：', ' ', '\u{3000}']);
        let scan = scan_phone(ext)?;
        let ok = !scan.plus && (1..=6).contains(&scan.digits.len());
        return ok.then_some(&input[..i]);
    }
    Some(input)
}

/// Normalises a landline number to `0AA-NNNNNNNN` / `0AAA-NNNNNNN(N)`.
///
/// Area codes: `010` and `02X` are three digits with an 8-digit subscriber
/// number; every other area code (`03`–`09` + 2 digits) is four digits with a
/// 7- or 8-digit subscriber number. Extensions are dropped.
fn parse_landline(input: &str) -> Option<String> {
    let main = strip_extension(input)?;
    let scan = scan_phone(main)?;
    let d = scan.digits.as_slice();
    let (skip, international) = if scan.plus {
        if !d.starts_with(b"86") {
            return None;
        }
        (2, true)
    } else if d.starts_with(b"0086") {
        (4, true)
    } else if d.starts_with(b"86") && scan.bounds.first() == Some(&2) {
        (2, true)
    } else {
        (0, false)
    };
    let rest = &d[skip..];
    let add_zero = international && rest.first() != Some(&b'0');
    let mut national = Vec::with_capacity(rest.len() + 1);
    if add_zero {
        national.push(b'0');
    }
    national.extend_from_slice(rest);
    let shift = usize::from(add_zero);
    let is_bound = |pos: usize| {
        scan.bounds
            .iter()
            .any(|&b| b > skip && b - skip + shift == pos)
    };

    let area_len = match national.as_slice() {
        [b'0', b'1', b'0', ..] | [b'0', b'2', ..] => 3,
        [b'0', b'3'..=b'9', ..] => 4,
        _ => return None,
    };
    let n = national.len().checked_sub(area_len)?;
    let sub_len = if area_len == 3 {
        if n == 8 || (n > 8 && is_bound(area_len + 8)) {
            8
        } else {
            return None;
        }
    } else if n > 7 && is_bound(area_len + 7) {
        7
    } else if n == 7 || n == 8 {
        n
    } else if n > 8 && is_bound(area_len + 8) {
        8
    } else {
        return None;
    };
    if n - sub_len > 6 {
        return None;
    }
    let subscriber = &national[area_len..area_len + sub_len];
    if subscriber[0] == b'0' {
        return None;
    }
    let mut out = String::with_capacity(area_len + 1 + sub_len);
    out.extend(national[..area_len].iter().map(|&b| char::from(b)));
    out.push('-');
    out.extend(subscriber.iter().map(|&b| char::from(b)));
    Some(out)
}

/// Normalises a mainland mobile number to its 11 digits (field `"phone"`).
///
/// Accepts a `+86`, `0086` or `86` country prefix (only when followed by 11
/// digits), spaces, hyphens, dots, parentheses, full-width digits and
/// full-width `＋`/`－`. The result starts with `1` and its second digit is 3–9.
pub fn normalize_mobile(input: &str) -> Result<String, ValidationError> {
    parse_mobile(input).ok_or(ValidationError::new(FIELD_PHONE, RULE_MOBILE))
}

/// Normalises a mobile or landline number (field `"phone"`).
///
/// Mobiles become 11 digits (see [`normalize_mobile`]). Otherwise the value
/// must be a landline with area code, returned as `AREA-SUBSCRIBER`, e.g.
/// `"010-12345678"`, `"0755-1234567"`. Separators are optional; the area code
/// length follows the national plan (`010`, `02X` = 3 digits with an 8-digit
/// subscriber number, others 4 digits with 7–8; the subscriber number may not
/// start with `0`); an
/// international `+86`/`0086` prefix is accepted; an extension (`转`, `ext`,
/// `x`, `#`, `分机`, or a trailing separated group) is dropped.
pub fn normalize_phone(input: &str) -> Result<String, ValidationError> {
    parse_mobile(input)
        .or_else(|| parse_landline(input))
        .ok_or(ValidationError::new(FIELD_PHONE, RULE_PHONE))
}

// ---------------------------------------------------------------- e-mail

/// Folds full-width ASCII forms (`＠`, `ａ`, `．`…), `。` and U+3000 to ASCII.
fn fold_fullwidth(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        c => c,
    }
}

fn valid_local_part(local: &str) -> bool {
    const SPECIALS: &str = ".!#$%&'*+/=?^_`{|}~-";
    (1..=64).contains(&local.len())
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || SPECIALS.contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
}

fn valid_domain(domain: &str) -> bool {
    if domain.is_empty() || domain.len() > 253 {
        return false;
    }
    let mut labels = 0usize;
    let mut last = "";
    for label in domain.split('.') {
        let ok = (1..=63).contains(&label.chars().count())
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return false;
        }
        labels += 1;
        last = label;
    }
    labels >= 2 && last.chars().count() >= 2 && last.chars().all(char::is_alphabetic)
}

/// Validates an e-mail address with a simple structural check (field `"email"`).
///
/// Trims, folds full-width forms (`＠`, `。`…), requires exactly one `@`, an
/// ASCII dot-atom local part of 1–64 bytes, and a domain of at least two
/// labels with an alphabetic TLD. Returns `local@domain` with the domain
/// lower-cased (the local part keeps its case).
pub fn validate_email(input: &str) -> Result<String, ValidationError> {
    let err = |rule| ValidationError::new(FIELD_EMAIL, rule);
    let folded: String = input
        .chars()
        .map(|c| if c == '。' { '.' } else { fold_fullwidth(c) })
        .collect();
    let s = folded.trim();
    if s.is_empty() {
        return Err(err(RULE_EMPTY));
    }
    let (local, domain) = s.split_once('@').ok_or(err(RULE_EMAIL_AT))?;
    if domain.contains('@') {
        return Err(err(RULE_EMAIL_AT));
    }
    if !valid_local_part(local) {
        return Err(err(RULE_EMAIL_LOCAL));
    }
    // Lower-casing can lengthen a domain (Ⱥ → ⱥ), so the length limit applies after it:
    // otherwise a normalised address could fail its own validation.
    let domain = domain.to_lowercase();
    if local.len() + 1 + domain.len() > 254 {
        return Err(err(RULE_EMAIL_LENGTH));
    }
    if !valid_domain(&domain) {
        return Err(err(RULE_EMAIL_DOMAIN));
    }
    let mut out = String::with_capacity(local.len() + 1 + domain.len());
    out.push_str(local);
    out.push('@');
    out.push_str(&domain);
    Ok(out)
}

// ---------------------------------------------------------------- names

/// Maximum length of a name, in characters, after normalisation.
const MAX_NAME_CHARS: usize = 64;

/// True for CJK ideographs (unified, extensions A–H, compatibility) and `〇`.
fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3007}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}'
        | '\u{30000}'..='\u{323AF}')
}

/// Middle-dot variants used in transliterated names (e.g. 阿依古丽·买买提).
fn is_middle_dot(c: char) -> bool {
    matches!(c, '·' | '・' | '•' | '‧' | '･')
}

/// Invisible formatting characters that must never appear in a name.
fn is_format_char(c: char) -> bool {
    matches!(c,
        '\u{00AD}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{FEFF}')
}

/// Validates and normalises a personal name (field `"name"`).
///
/// Trims; folds full-width ASCII to ASCII and middle-dot variants to `·`.
/// If every non-space character is a CJK ideograph or a middle dot, internal
/// spaces (ASCII or full-width) are removed (`"张　三"` → `"张三"`); otherwise
/// runs of spaces collapse to one ASCII space. The result must be 1–64
/// characters, contain no control/format characters, and contain at least one
/// letter or CJK ideograph.
pub fn validate_name(input: &str) -> Result<String, ValidationError> {
    let err = |rule| ValidationError::new(FIELD_NAME, rule);
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(err(RULE_EMPTY));
    }
    if trimmed.chars().any(|c| c.is_control() || is_format_char(c)) {
        return Err(err(RULE_NAME_CONTROL));
    }
    let chinese = trimmed
        .chars()
        .filter(|c| !c.is_whitespace())
        .all(|c| is_cjk(c) || is_middle_dot(c));
    let mut out = String::with_capacity(trimmed.len());
    let mut count = 0usize;
    let mut pending_space = false;
    for c in trimmed.chars() {
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space && !chinese {
            out.push(' ');
            count += 1;
        }
        pending_space = false;
        out.push(if is_middle_dot(c) {
            '·'
        } else {
            fold_fullwidth(c)
        });
        count += 1;
        if count > MAX_NAME_CHARS {
            return Err(err(RULE_NAME_LENGTH));
        }
    }
    if !out.chars().any(|c| c.is_alphabetic() || is_cjk(c)) {
        return Err(err(RULE_NAME_LETTER));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    /// Builds a valid 18-digit ID from its first 17 digits (test helper).
    fn with_check(first17: &str) -> String {
        let mut s = first17.to_owned();
        s.push(id_check_char(first17).expect("17 digits"));
        s
    }

    /// Independent MOD 11-2 implementation: the weighted sum including the
    /// check value (X = 10) must be ≡ 1 (mod 11).
    fn mod11_2_ok(id: &str) -> bool {
        let b = id.as_bytes();
        if b.len() != 18 {
            return false;
        }
        let mut sum = 0u32;
        for (i, &c) in b.iter().enumerate() {
            let v = match c {
                b'0'..=b'9' => u32::from(c - b'0'),
                b'X' if i == 17 => 10,
                _ => return false,
            };
            let weight = (1u32 << (17 - i)) % 11;
            sum += v * weight;
        }
        sum % 11 == 1
    }

    const FIELDS: &[&str] = &[FIELD_ID_NUMBER, FIELD_PHONE, FIELD_EMAIL, FIELD_NAME];
    const RULES: &[&str] = &[
        RULE_ID_FORMAT,
        RULE_ID_CHECKSUM,
        RULE_ID_BIRTH_DATE,
        RULE_ID_PROVINCE,
        RULE_MOBILE,
        RULE_PHONE,
        RULE_EMPTY,
        RULE_EMAIL_AT,
        RULE_EMAIL_LOCAL,
        RULE_EMAIL_DOMAIN,
        RULE_EMAIL_LENGTH,
        RULE_NAME_LENGTH,
        RULE_NAME_CONTROL,
        RULE_NAME_LETTER,
    ];

    /// The error renders only a known field and a known rule, and neither its
    /// Display nor its Debug output contains the input or any 3-character
    /// window of it (rule texts are fixed, so windows that occur in the
    /// fixed text itself are skipped).
    /// The error's renderings are made of its field and rule names only — both constants
    /// from fixed lists — so no part of the input can appear in them. (An earlier version
    /// searched the renderings for 3-character windows of the input and failed, rightly
    /// for the check but wrongly for the code, on inputs like "il:" that occur in the
    /// fixed text "invalid email: ".)
    fn assert_value_free(err: &ValidationError) {
        assert!(FIELDS.contains(&err.field));
        assert!(RULES.contains(&err.rule));
        assert_eq!(
            err.to_string(),
            format!("invalid {}: {}", err.field, err.rule)
        );
        assert_eq!(
            format!("{err:?}"),
            format!(
                "ValidationError {{ field: {:?}, rule: {:?} }}",
                err.field, err.rule
            )
        );
    }

    fn id_err(rule: &'static str) -> Result<ResidentId, ValidationError> {
        Err(ValidationError::new(FIELD_ID_NUMBER, rule))
    }

    #[test]
    fn known_valid_id() {
        let id = ResidentId::parse("11010519491231002X").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.birth_date(), date!(1949 - 12 - 31));
        assert_eq!(id.gender(), Gender::Female);
        assert_eq!(id.region_code(), 110_105);
        assert_eq!(id.province_code(), 11);
        assert!(mod11_2_ok(id.as_str()));
    }

    #[test]
    fn check_char_matches_independent_implementation() {
        for seed in 0u64..2000 {
            let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let mut first17 = String::from("44030519");
            for _ in 0..9 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                first17.push(char::from(b'0' + (x % 10) as u8));
            }
            assert!(mod11_2_ok(&with_check(&first17)));
        }
        assert_eq!(id_check_char("1101051949123100"), None);
        assert_eq!(id_check_char("1101051949123100a"), None);
        assert_eq!(id_check_char("11010519491231002"), Some('X'));
    }

    #[test]
    fn gender_from_17th_digit() {
        let male = with_check("44030519900101001");
        let female = with_check("44030519900101002");
        assert_eq!(ResidentId::parse(&male).unwrap().gender(), Gender::Male);
        assert_eq!(ResidentId::parse(&female).unwrap().gender(), Gender::Female);
    }

    #[test]
    fn lowercase_and_fullwidth_x() {
        for input in [
            "11010519491231002x",
            "11010519491231002ｘ",
            "11010519491231002Ｘ",
        ] {
            assert_eq!(normalize_id_number(input).unwrap(), "11010519491231002X");
        }
    }

    #[test]
    fn fullwidth_digits_and_spaces() {
        let inputs = [
            "１１０１０５１９４９１２３１００２Ｘ",
            "  110105 19491231 002X  ",
            "110105\u{3000}1949\u{3000}1231\u{3000}002x",
            "\t１１０１０５ 19491231 ００２x\n",
        ];
        for input in inputs {
            assert_eq!(normalize_id_number(input).unwrap(), "11010519491231002X");
        }
    }

    #[test]
    fn legacy_15_digit_upgrade() {
        let id = ResidentId::parse("110105491231002").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.birth_date(), date!(1949 - 12 - 31));
        assert_eq!(id.gender(), Gender::Female);

        let id = ResidentId::parse(" 440305 880229 123 ").unwrap();
        assert_eq!(id.as_str(), with_check("44030519880229123"));
        assert_eq!(id.gender(), Gender::Male);
        assert!(mod11_2_ok(id.as_str()));
        // 1900 is not a leap year, so 000229 is not a real date.
        assert_eq!(
            ResidentId::parse("440305000229123"),
            id_err(RULE_ID_BIRTH_DATE)
        );
        // A check character is never allowed in a 15-digit number.
        assert_eq!(ResidentId::parse("44030588022912X"), id_err(RULE_ID_FORMAT));
    }

    #[test]
    fn format_errors() {
        for input in [
            "",
            "   ",
            "1101051949123100",
            "1101051949123100211",
            "11010519491231002X1",
            "1101051949X231002X",
            "11010519491231002Y",
            "110105-19491231-002X",
            "11010519491231002XX",
            "１１０１０５１９４９１２３１００２",
            "X10105491231002",
        ] {
            assert_eq!(
                ResidentId::parse(input),
                id_err(RULE_ID_FORMAT),
                "{input:?}"
            );
        }
    }

    #[test]
    fn checksum_errors() {
        assert_eq!(
            ResidentId::parse("110105194912310021"),
            id_err(RULE_ID_CHECKSUM)
        );
        // Transposed digits are caught.
        assert_eq!(
            ResidentId::parse("11010519491213002X"),
            id_err(RULE_ID_CHECKSUM)
        );
        let valid = with_check("32011519800615123");
        for check in ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'X'] {
            let mut candidate = valid[..17].to_owned();
            candidate.push(check);
            let expected = if candidate == valid {
                Ok(())
            } else {
                Err(ValidationError::new(FIELD_ID_NUMBER, RULE_ID_CHECKSUM))
            };
            assert_eq!(ResidentId::parse(&candidate).map(|_| ()), expected);
        }
    }

    #[test]
    fn birth_date_errors() {
        let today = date!(2024 - 06 - 15);
        let parse = |first17: &str| ResidentId::parse_at(&with_check(first17), today);
        for bad in [
            "11010519900230123", // 30 Feb
            "11010519000229123", // 1900 not leap
            "11010519901301123", // month 13
            "11010519900001123", // month 0
            "11010519900100123", // day 0
            "11010519900431123", // 31 Apr
            "11010518991231123", // before 1900
            "11010520240616123", // tomorrow
            "11010530000101123", // far future
        ] {
            assert_eq!(parse(bad), id_err(RULE_ID_BIRTH_DATE), "{bad}");
        }
        for good in [
            "11010519000101123",
            "11010520000229123",
            "11010520240615123",
        ] {
            assert!(parse(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn province_codes() {
        for bad in [
            "00", "10", "16", "20", "24", "30", "38", "40", "47", "55", "60", "66", "72", "84",
            "90", "92", "99",
        ] {
            let id = with_check(&format!("{bad}010519900101123"));
            assert_eq!(ResidentId::parse(&id), id_err(RULE_ID_PROVINCE), "{bad}");
        }
        for &good in PROVINCE_CODES {
            let id = with_check(&format!("{good}010519900101123"));
            let parsed = ResidentId::parse(&id).unwrap();
            assert_eq!(parsed.province_code(), good);
        }
    }

    #[test]
    fn check_order_is_format_checksum_province_date() {
        // Bad province and bad date but wrong checksum: checksum reported.
        let mut s = with_check("99010519900230123")[..17].to_owned();
        let good = id_check_char(&s).unwrap();
        s.push(if good == '0' { '1' } else { '0' });
        assert_eq!(ResidentId::parse(&s), id_err(RULE_ID_CHECKSUM));
        // Bad province and bad date, valid checksum: province reported.
        assert_eq!(
            ResidentId::parse(&with_check("99010519900230123")),
            id_err(RULE_ID_PROVINCE)
        );
    }

    #[test]
    fn id_errors_and_debug_never_leak_digits() {
        let samples = [
            "110105194912310021",
            "99010519900101123X",
            "1101051990023012",
            "abc4567",
        ];
        for input in samples {
            let err = ResidentId::parse(input).unwrap_err();
            assert_value_free(&err);
            assert!(!err.to_string().contains(input));
        }
        let bad_date = with_check("11010519900230123");
        let err = ResidentId::parse(&bad_date).unwrap_err();
        assert!(!err.to_string().contains("0230"));
        assert!(!err.to_string().contains("110105"));

        let id = ResidentId::parse("11010519491231002X").unwrap();
        assert_eq!(format!("{id:?}"), "ResidentId(..)");
        assert_eq!(format!("{:?}", Some(&id)), "Some(ResidentId(..))");
    }

    #[test]
    fn error_display_format() {
        let err = ResidentId::parse("1").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid id_number: must be 18 digits (or a 15-digit legacy number)"
        );
    }

    #[test]
    fn mobile_normalisation_table() {
        let ok = [
            ("13812345678", "13812345678"),
            ("+86 138 1234 5678", "13812345678"),
            ("+8613812345678", "13812345678"),
            ("0086-138-1234-5678", "13812345678"),
            ("008613812345678", "13812345678"),
            ("8613812345678", "13812345678"),
            ("86 138 1234 5678", "13812345678"),
            ("１３８１２３４５６７８", "13812345678"),
            ("＋８６　１３８－１２３４－５６７８", "13812345678"),
            ("138-1234-5678", "13812345678"),
            ("138.1234.5678", "13812345678"),
            ("(138) 1234 5678", "13812345678"),
            ("  19912345678 ", "19912345678"),
            ("+86 (138) 1234-5678", "13812345678"),
        ];
        for (input, expected) in ok {
            assert_eq!(normalize_mobile(input).as_deref(), Ok(expected), "{input}");
            assert_eq!(normalize_phone(input).as_deref(), Ok(expected), "{input}");
        }
        let bad = [
            "",
            "1381234567",
            "138123456789",
            "12812345678",
            "23812345678",
            "+85 13812345678",
            "+8613812345678 1",
            "0086 1381234567",
            "86138123456",
            "138 1234 567a",
            "138+12345678",
            "++8613812345678",
            "010-12345678",
        ];
        for input in bad {
            assert_eq!(
                normalize_mobile(input),
                Err(ValidationError::new(FIELD_PHONE, RULE_MOBILE)),
                "{input}"
            );
        }
    }

    #[test]
    fn landline_normalisation_table() {
        let ok = [
            ("010-12345678", "010-12345678"),
            ("01012345678", "010-12345678"),
            ("(010) 1234 5678", "010-12345678"),
            ("021-87654321", "021-87654321"),
            ("0755-1234567", "0755-1234567"),
            ("(0755)1234567", "0755-1234567"),
            ("（０７５５）１２３４５６７", "0755-1234567"),
            ("0755 8765 4321", "0755-87654321"),
            ("075587654321", "0755-87654321"),
            ("07551234567", "0755-1234567"),
            ("0512-65432109", "0512-65432109"),
            ("010-12345678-123", "010-12345678"),
            ("010-12345678 转 8001", "010-12345678"),
            ("010-12345678转8001", "010-12345678"),
            ("0755-1234567 ext. 12", "0755-1234567"),
            ("0755-1234567x12", "0755-1234567"),
            ("0755-1234567#12", "0755-1234567"),
            ("0755-1234567 分机 12", "0755-1234567"),
            ("0755-1234567-8", "0755-1234567"),
            ("+86 10 1234 5678", "010-12345678"),
            ("+86-755-1234567", "0755-1234567"),
            ("0086 10 12345678", "010-12345678"),
            ("86-10-12345678", "010-12345678"),
        ];
        for (input, expected) in ok {
            assert_eq!(normalize_phone(input).as_deref(), Ok(expected), "{input}");
        }
        let bad = [
            "12345678",
            "010-1234567",
            "010-123456789",
            "0755-123456",
            "0755-123456789",
            "011-12345678",
            "001-12345678",
            "010-02345678",
            "0755-1234567 转",
            "0755-1234567 转 1234567",
            "0755-1234567 转 12a",
            "4008001234",
            "010 1234 5678 9012 3456 7890 1234",
            "电话010-12345678",
            "+1 212 555 0100",
        ];
        for input in bad {
            assert_eq!(
                normalize_phone(input),
                Err(ValidationError::new(FIELD_PHONE, RULE_PHONE)),
                "{input}"
            );
        }
    }

    #[test]
    fn phone_errors_never_leak_digits() {
        for input in ["1381234567", "010-1234567", "+1 212 555 0100"] {
            for err in [
                normalize_mobile(input).unwrap_err(),
                normalize_phone(input).unwrap_err(),
            ] {
                assert_value_free(&err);
            }
        }
    }

    #[test]
    fn email_table() {
        let ok = [
            ("a@b.com", "a@b.com"),
            ("  User.Name+tag@Example.COM ", "User.Name+tag@example.com"),
            ("12345678@QQ.com", "12345678@qq.com"),
            ("ｚｈａｎｇ＠１６３．ｃｏｍ", "zhang@163.com"),
            ("wang@126。com", "wang@126.com"),
            ("x@mail.sub-domain.cn", "x@mail.sub-domain.cn"),
            ("li@例子.中国", "li@例子.中国"),
        ];
        for (input, expected) in ok {
            assert_eq!(validate_email(input).as_deref(), Ok(expected), "{input}");
        }
        let bad = [
            ("", RULE_EMPTY),
            ("   ", RULE_EMPTY),
            ("no-at.example.com", RULE_EMAIL_AT),
            ("a@b@c.com", RULE_EMAIL_AT),
            ("@b.com", RULE_EMAIL_LOCAL),
            (".a@b.com", RULE_EMAIL_LOCAL),
            ("a.@b.com", RULE_EMAIL_LOCAL),
            ("a..b@c.com", RULE_EMAIL_LOCAL),
            ("a b@c.com", RULE_EMAIL_LOCAL),
            ("张三@c.com", RULE_EMAIL_LOCAL),
            ("a@", RULE_EMAIL_DOMAIN),
            ("a@com", RULE_EMAIL_DOMAIN),
            ("a@b..com", RULE_EMAIL_DOMAIN),
            ("a@-b.com", RULE_EMAIL_DOMAIN),
            ("a@b-.com", RULE_EMAIL_DOMAIN),
            ("a@b.c", RULE_EMAIL_DOMAIN),
            ("a@b.c0m", RULE_EMAIL_DOMAIN),
            ("a@b_c.com", RULE_EMAIL_DOMAIN),
            ("a@b.com.", RULE_EMAIL_DOMAIN),
        ];
        for (input, rule) in bad {
            assert_eq!(
                validate_email(input),
                Err(ValidationError::new(FIELD_EMAIL, rule)),
                "{input}"
            );
            assert_value_free(&validate_email(input).unwrap_err());
        }
        let long = format!("{}@{}.com", "a".repeat(64), "b".repeat(200));
        assert_eq!(
            validate_email(&long),
            Err(ValidationError::new(FIELD_EMAIL, RULE_EMAIL_LENGTH))
        );
        let long_local = format!("{}@b.com", "a".repeat(65));
        assert_eq!(
            validate_email(&long_local),
            Err(ValidationError::new(FIELD_EMAIL, RULE_EMAIL_LOCAL))
        );
        let err = validate_email("secret.user@").unwrap_err();
        assert!(!err.to_string().contains("secret"));
    }

    #[test]
    fn name_table() {
        let ok = [
            ("张三", "张三"),
            ("  张三  ", "张三"),
            ("张　三", "张三"),
            ("张 小 明", "张小明"),
            ("欧阳　娜娜", "欧阳娜娜"),
            ("阿依古丽・买买提", "阿依古丽·买买提"),
            ("买买提 • 艾力", "买买提·艾力"),
            ("John   Smith", "John Smith"),
            ("Ｊｏｈｎ　Ｓｍｉｔｈ", "John Smith"),
            ("Zhang 三", "Zhang 三"),
            ("O'Brien-Li", "O'Brien-Li"),
            ("李", "李"),
            ("𠮷田", "𠮷田"),
        ];
        for (input, expected) in ok {
            assert_eq!(validate_name(input).as_deref(), Ok(expected), "{input}");
        }
        let bad = [
            ("", RULE_EMPTY),
            (" \u{3000} ", RULE_EMPTY),
            ("张\n三", RULE_NAME_CONTROL),
            ("张\u{200B}三", RULE_NAME_CONTROL),
            ("张\u{202E}三", RULE_NAME_CONTROL),
            ("张\u{7}三", RULE_NAME_CONTROL),
            ("12345", RULE_NAME_LETTER),
            ("· ·", RULE_NAME_LETTER),
            ("---", RULE_NAME_LETTER),
        ];
        for (input, rule) in bad {
            assert_eq!(
                validate_name(input),
                Err(ValidationError::new(FIELD_NAME, rule)),
                "{input:?}"
            );
            assert_value_free(&validate_name(input).unwrap_err());
        }
        let max: String = "张".repeat(64);
        assert_eq!(validate_name(&max).as_deref(), Ok(max.as_str()));
        let too_long = "张".repeat(65);
        assert_eq!(
            validate_name(&too_long),
            Err(ValidationError::new(FIELD_NAME, RULE_NAME_LENGTH))
        );
        // Spaces removed from Chinese names do not count towards the limit.
        let spaced = "张 ".repeat(64);
        assert!(validate_name(&spaced).is_ok());
        let err = validate_name("张\n三").unwrap_err();
        assert!(!err.to_string().contains('张'));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn generated_ids_roundtrip(
                province in proptest::sample::select(PROVINCE_CODES),
                rest in 0u32..10_000,
                year in 1900i32..=2020,
                month in 1u8..=12,
                day in 1u8..=28,
                seq in 0u32..1000,
            ) {
                let first17 = format!("{province:02}{rest:04}{year:04}{month:02}{day:02}{seq:03}");
                let full = with_check(&first17);
                let id = ResidentId::parse(&full).unwrap();
                prop_assert_eq!(id.as_str(), full.as_str());
                prop_assert!(mod11_2_ok(id.as_str()));
                prop_assert_eq!(id.province_code(), province);
                let lower = full.to_lowercase();
                prop_assert_eq!(normalize_id_number(&lower).unwrap(), full);
            }

            #[test]
            fn parse_never_panics_and_errors_are_value_free(input in "\\PC{0,40}") {
                let results = [
                    ResidentId::parse(&input).map(|_| ()),
                    normalize_phone(&input).map(|_| ()),
                    normalize_mobile(&input).map(|_| ()),
                    validate_email(&input).map(|_| ()),
                    validate_name(&input).map(|_| ()),
                ];
                for err in results.iter().filter_map(|r| r.as_ref().err()) {
                    assert_value_free(err);
                }
            }

            #[test]
            fn mobiles_with_noise_normalise(
                second in 3u8..=9,
                rest in 0u64..1_000_000_000,
                sep in proptest::sample::select(vec!["", " ", "-", ".", "－"]),
                prefix in proptest::sample::select(vec!["", "+86 ", "0086", "86", "＋８６"]),
            ) {
                let digits = format!("1{second}{rest:09}");
                let input = format!("{prefix}{}{sep}{}{sep}{}", &digits[..3], &digits[3..7], &digits[7..]);
                prop_assert_eq!(normalize_mobile(&input).unwrap(), digits);
            }
        }
    }
}
