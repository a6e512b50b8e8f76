//! Bulk import of existing registers (CSV or JSON Lines; UTF-8 or GBK/GB18030).
//!
//! Column mapping (header names, case-insensitive; Chinese headers as offices' spreadsheets
//! use them):
//!
//! | field | accepted headers |
//! |---|---|
//! | name (required) | `name`, 姓名, 信访人, 信访人姓名 |
//! | id_number (required) | `id_number`, 身份证号, 身份证号码, 证件号码, 公民身份号码 |
//! | phone | `phone`, `phones`, 电话, 联系电话, 手机, 手机号码 (several separated by `;`, `；`, `/`, `、`) |
//! | address | `address`, 地址, 住址, 联系地址 |
//! | email | `email`, 邮箱, 电子邮箱 |
//! | ethnicity | `ethnicity`, 民族 |
//! | title | `title`, 标题, 事由 |
//! | category | `category`, 类别, 问题类别, 内容分类 |
//! | channel | `channel`, 渠道, 来源, 信访形式 (letter/visit/online/phone or 来信/来访/网上/电话) |
//! | content | `content`, 内容, 诉求内容, 信访内容 |
//! | demands | `demands`, 诉求, 主要诉求 |
//! | accused_unit | `accused_unit`, 被反映单位, 被反映对象单位 |
//! | accusation | `accusation`, 检举控告, 是否检举控告 (true/false, 是/否, 1/0, y/n) |
//!
//! A row with `title` and `content` also opens a case for its petitioner (`category`
//! defaults to 其他, `channel` to letter). Unknown columns are reported once and ignored.

use crate::crypto::SecretText;
use crate::model::{Channel, NewPetitioner};
use std::collections::HashMap;

/// The input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// The text encoding of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (a byte-order mark is skipped).
    Utf8,
    /// GB18030 (a superset of GBK and GB2312).
    Gb18030,
}

impl Encoding {
    /// The encoding's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Gb18030 => "GB18030",
        }
    }
}

/// Decides the encoding of a file: UTF-8 if it has a BOM or is valid UTF-8, else GB18030 if
/// it decodes as that without error, else UTF-8 (and rows that are not valid UTF-8 are
/// rejected one by one as "broken encoding").
pub fn detect_encoding(bytes: &[u8]) -> Encoding {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) || std::str::from_utf8(bytes).is_ok() {
        return Encoding::Utf8;
    }
    let (_, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        Encoding::Utf8
    } else {
        Encoding::Gb18030
    }
}

fn decode_field(bytes: &[u8], enc: Encoding) -> Option<String> {
    match enc {
        Encoding::Utf8 => std::str::from_utf8(bytes).ok().map(str::to_owned),
        Encoding::Gb18030 => {
            let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
            (!had_errors).then(|| text.into_owned())
        }
    }
}

/// A row that passed parsing (values still unvalidated: the gate validates).
pub struct Row {
    /// 1-based line number in the file (of the row's first line).
    pub line: u64,
    /// The petitioner.
    pub petitioner: NewPetitioner,
    /// The case, when the row has one.
    pub case: Option<RowCase>,
}

/// The case part of a row (its petitioner is the row's).
pub struct RowCase {
    /// Title.
    pub title: SecretText,
    /// Category.
    pub category: String,
    /// Channel.
    pub channel: Channel,
    /// Content.
    pub content: SecretText,
    /// Demands.
    pub demands: Option<SecretText>,
    /// Accused unit.
    pub accused_unit: Option<String>,
    /// Accusation.
    pub is_accusation: bool,
}

/// A rejected row: its line and the rule it broke (never a value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// 1-based line number.
    pub line: u64,
    /// Why.
    pub reason: String,
}

/// The parsed file.
pub struct Parsed {
    /// The encoding used.
    pub encoding: Encoding,
    /// Rows to import, in file order.
    pub rows: Vec<Row>,
    /// Rows rejected while parsing.
    pub rejected: Vec<Rejected>,
    /// Header names that map to no field (reported, ignored).
    pub unknown_columns: Vec<String>,
}

/// Why a whole file cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// No header row, or no name/id column.
    #[error(
        "the file needs a header row with at least a name column and an ID number column (e.g. 姓名, 身份证号)"
    )]
    MissingColumns,
    /// The CSV structure is broken.
    #[error("the CSV structure is broken near line {0}; check quoting")]
    Csv(u64),
}

fn field_of(header: &str) -> Option<&'static str> {
    let h = header.trim().trim_start_matches('\u{feff}').to_lowercase();
    let table: &[(&str, &[&str])] = &[
        ("name", &["name", "姓名", "信访人", "信访人姓名"]),
        (
            "id_number",
            &[
                "id_number",
                "id",
                "身份证号",
                "身份证号码",
                "证件号码",
                "公民身份号码",
            ],
        ),
        (
            "phone",
            &["phone", "phones", "电话", "联系电话", "手机", "手机号码"],
        ),
        ("address", &["address", "地址", "住址", "联系地址"]),
        ("email", &["email", "邮箱", "电子邮箱"]),
        ("ethnicity", &["ethnicity", "民族"]),
        ("title", &["title", "标题", "事由"]),
        ("category", &["category", "类别", "问题类别", "内容分类"]),
        ("channel", &["channel", "渠道", "来源", "信访形式"]),
        ("content", &["content", "内容", "诉求内容", "信访内容"]),
        ("demands", &["demands", "诉求", "主要诉求"]),
        (
            "accused_unit",
            &["accused_unit", "被反映单位", "被反映对象单位"],
        ),
        ("accusation", &["accusation", "检举控告", "是否检举控告"]),
    ];
    table
        .iter()
        .find(|(_, names)| names.contains(&h.as_str()))
        .map(|(f, _)| *f)
}

fn build_row(line: u64, fields: &HashMap<&'static str, String>) -> Result<Row, String> {
    let get = |k: &str| fields.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let name = get("name").ok_or("missing name")?;
    let id_number = get("id_number").ok_or("missing id_number")?;
    let phones = get("phone")
        .map(|p| {
            p.split([';', '；', '/', '、', '|'])
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(SecretText::from)
                .collect()
        })
        .unwrap_or_default();
    let petitioner = NewPetitioner {
        name: name.into(),
        id_number: id_number.into(),
        phones,
        address: get("address").map(SecretText::from),
        email: get("email").map(SecretText::from),
        ethnicity: get("ethnicity").map(SecretText::from),
    };
    let case = match (get("title"), get("content")) {
        (Some(title), Some(content)) => Some(RowCase {
            title: title.into(),
            category: get("category").unwrap_or("其他").to_owned(),
            channel: match get("channel") {
                Some(c) => Channel::parse(c).map_err(|e| format!("invalid channel: {}", e.rule))?,
                None => Channel::Letter,
            },
            content: content.into(),
            demands: get("demands").map(SecretText::from),
            accused_unit: get("accused_unit").map(str::to_owned),
            is_accusation: match get("accusation").map(str::to_lowercase).as_deref() {
                None | Some("false" | "否" | "0" | "n" | "no") => false,
                Some("true" | "是" | "1" | "y" | "yes") => true,
                Some(_) => return Err("invalid accusation: use true/false or 是/否".into()),
            },
        }),
        (None, None) => None,
        _ => return Err("a case needs both title and content".into()),
    };
    Ok(Row {
        line,
        petitioner,
        case,
    })
}

/// How an unknown column is reported: its header when it looks like a header (short, no
/// digits, no '@'), else only its position — a "header" that is really data (a file without
/// a header row, a note with a phone number in it) is never echoed.
fn header_label(name: &str, index: usize) -> String {
    let name = name.trim();
    if name.chars().count() <= 20 && !name.chars().any(|c| c.is_numeric() || c == '@') {
        name.to_owned()
    } else {
        format!("column {}", index + 1)
    }
}

/// Parses a whole file. Rows with broken encoding, missing required fields or a bad
/// channel are rejected with their line; everything else is returned for the gate to
/// validate (ID checksum, phone form …) and import.
pub fn parse(
    bytes: &[u8],
    format: Format,
    encoding: Option<Encoding>,
) -> Result<Parsed, ImportError> {
    let encoding = encoding.unwrap_or_else(|| detect_encoding(bytes));
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(bytes);
    match format {
        Format::Csv => parse_csv(body, encoding),
        Format::Jsonl => Ok(parse_jsonl(body, encoding)),
    }
}

fn parse_csv(body: &[u8], encoding: Encoding) -> Result<Parsed, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(body);
    let headers = reader
        .byte_headers()
        .map_err(|_| ImportError::Csv(1))?
        .clone();
    let mut columns = Vec::new();
    let mut unknown = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let name = decode_field(h, encoding).unwrap_or_default();
        let f = field_of(&name);
        if f.is_none() && !name.trim().is_empty() {
            unknown.push(header_label(&name, i));
        }
        columns.push(f);
    }
    if !columns.contains(&Some("name")) || !columns.contains(&Some("id_number")) {
        return Err(ImportError::MissingColumns);
    }
    let mut parsed = Parsed {
        encoding,
        rows: vec![],
        rejected: vec![],
        unknown_columns: unknown,
    };
    let mut record = csv::ByteRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(_) => return Err(ImportError::Csv(line)),
        }
        let line = record.position().map(|p| p.line()).unwrap_or(line);
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        let mut fields = HashMap::new();
        let mut broken = false;
        for (i, raw) in record.iter().enumerate() {
            let Some(Some(col)) = columns.get(i) else {
                continue;
            };
            match decode_field(raw, encoding) {
                Some(v) => {
                    fields.insert(*col, v);
                }
                None => broken = true,
            }
        }
        if broken {
            parsed.rejected.push(Rejected {
                line,
                reason: format!("broken encoding (not valid {})", encoding.as_str()),
            });
            continue;
        }
        match build_row(line, &fields) {
            Ok(row) => parsed.rows.push(row),
            Err(reason) => parsed.rejected.push(Rejected { line, reason }),
        }
    }
    Ok(parsed)
}

fn parse_jsonl(body: &[u8], encoding: Encoding) -> Parsed {
    let mut parsed = Parsed {
        encoding,
        rows: vec![],
        rejected: vec![],
        unknown_columns: vec![],
    };
    for (i, raw) in body.split(|b| *b == b'\n').enumerate() {
        let line = i as u64 + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let Some(text) = decode_field(raw, encoding) else {
            parsed.rejected.push(Rejected {
                line,
                reason: format!("broken encoding (not valid {})", encoding.as_str()),
            });
            continue;
        };
        let obj: serde_json::Map<String, serde_json::Value> = match serde_json::from_str(&text) {
            Ok(serde_json::Value::Object(o)) => o,
            _ => {
                parsed.rejected.push(Rejected {
                    line,
                    reason: "not a JSON object".into(),
                });
                continue;
            }
        };
        let mut fields = HashMap::new();
        for (k, v) in &obj {
            let Some(f) = field_of(k) else {
                let k = header_label(k, parsed.unknown_columns.len());
                if !parsed.unknown_columns.contains(&k) {
                    parsed.unknown_columns.push(k);
                }
                continue;
            };
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Array(items) => items
                    .iter()
                    .filter_map(|x| {
                        x.as_str()
                            .map(str::to_owned)
                            .or_else(|| x.as_number().map(|n| n.to_string()))
                    })
                    .collect::<Vec<_>>()
                    .join(";"),
                _ => continue,
            };
            fields.insert(f, text);
        }
        match build_row(line, &fields) {
            Ok(row) => parsed.rows.push(row),
            Err(reason) => parsed.rejected.push(Rejected { line, reason }),
        }
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_csv_with_chinese_headers() {
        let text = "姓名,身份证号,联系电话,标题,内容\n张三,11010519491231002X,13812345678;010-62345678,拆迁,补偿款未发放\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        assert_eq!(detect_encoding(&gbk), Encoding::Gb18030);
        let p = parse(&gbk, Format::Csv, None).unwrap();
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].line, 2);
        assert_eq!(p.rows[0].petitioner.name.expose(), "张三");
        assert_eq!(p.rows[0].petitioner.phones.len(), 2);
        assert_eq!(
            p.rows[0].case.as_ref().unwrap().content.expose(),
            "补偿款未发放"
        );
    }

    #[test]
    fn bad_rows_are_rejected_by_line() {
        let mut bytes = "name,id_number,title\n张三,11010519491231002X,\n,11010519491231002X,\n"
            .as_bytes()
            .to_vec();
        bytes.extend_from_slice(b"\xff\xfe,110105194912310021,\n");
        bytes.extend_from_slice("李四,11010519491231002X,只有标题\n".as_bytes());
        let p = parse(&bytes, Format::Csv, None).unwrap();
        assert_eq!(p.encoding, Encoding::Utf8);
        assert_eq!(p.rows.len(), 1);
        let lines: Vec<(u64, &str)> = p
            .rejected
            .iter()
            .map(|r| (r.line, r.reason.as_str()))
            .collect();
        assert_eq!(
            lines,
            vec![
                (3, "missing name"),
                (4, "broken encoding (not valid UTF-8)"),
                (5, "a case needs both title and content")
            ]
        );
    }

    #[test]
    fn jsonl_rows() {
        let input = "{\"name\":\"张三\",\"id_number\":\"11010519491231002X\",\"phones\":[\"13812345678\"]}\nnot json\n\n{\"姓名\":\"李四\"}\n";
        let p = parse(input.as_bytes(), Format::Jsonl, None).unwrap();
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].petitioner.phones.len(), 1);
        assert_eq!(
            p.rejected,
            vec![
                Rejected {
                    line: 2,
                    reason: "not a JSON object".into()
                },
                Rejected {
                    line: 4,
                    reason: "missing id_number".into()
                }
            ]
        );
    }

    #[test]
    fn unknown_headers_that_look_like_data_are_not_echoed() {
        let input = "姓名,身份证号,备注,联系人李四13900001111\n张三,11010519491231002X,x,y\n";
        let p = parse(input.as_bytes(), Format::Csv, None).unwrap();
        assert_eq!(
            p.unknown_columns,
            vec!["备注".to_string(), "column 4".to_string()]
        );
    }

    #[test]
    fn missing_required_columns() {
        assert!(matches!(
            parse(b"name,phone\n", Format::Csv, None),
            Err(ImportError::MissingColumns)
        ));
    }
}
