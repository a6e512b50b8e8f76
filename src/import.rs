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
use std::io::{BufRead, Read, Seek};
use zeroize::{Zeroize, Zeroizing};

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
    detect_encoding_in(std::io::Cursor::new(bytes)).expect("reading memory does not fail")
}

/// A field's text, decoded (wiped when dropped: it is the file's plaintext).
fn decode_field(bytes: &[u8], enc: Encoding) -> Option<Zeroizing<String>> {
    match enc {
        Encoding::Utf8 => std::str::from_utf8(bytes)
            .ok()
            .map(|t| Zeroizing::new(t.to_owned())),
        Encoding::Gb18030 => {
            let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
            // The decoded string itself (a copy when `text` borrows ASCII input) is wiped,
            // also when the row is refused.
            let text = Zeroizing::new(text.into_owned());
            (!had_errors).then_some(text)
        }
    }
}

/// A row's decoded fields by column (wiped when dropped).
type RowFields = HashMap<&'static str, Zeroizing<String>>;

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
    /// Reading the file failed (the system's reason).
    #[error("the file cannot be read: {0}")]
    Read(std::io::Error),
}

fn csv_error(line: u64, e: csv::Error) -> ImportError {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => ImportError::Read(e),
        _ => ImportError::Csv(line),
    }
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

fn build_row(line: u64, fields: &RowFields) -> Result<Row, String> {
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

/// Parses a whole file held in memory. Rows with broken encoding, missing required fields
/// or a bad channel are rejected with their line; everything else is returned for the gate
/// to validate (ID checksum, phone form …) and import. For a file larger than memory, read
/// it with [`RowReader`] instead.
pub fn parse(
    bytes: &[u8],
    format: Format,
    encoding: Option<Encoding>,
) -> Result<Parsed, ImportError> {
    let encoding = encoding.unwrap_or_else(|| detect_encoding(bytes));
    let mut reader = RowReader::new(bytes, format, encoding)?;
    let (mut rows, mut rejected) = (Vec::new(), Vec::new());
    for line in reader.by_ref() {
        match line? {
            Ok(row) => rows.push(row),
            Err(r) => rejected.push(r),
        }
    }
    Ok(Parsed {
        encoding,
        rows,
        rejected,
        unknown_columns: reader.unknown_columns,
    })
}

/// [`detect_encoding`]'s rule (which calls this) for a file read as a stream, twice when it
/// is not UTF-8, without holding it in memory. Leaves the reader at its start.
pub fn detect_encoding_in(mut r: impl Read + Seek) -> std::io::Result<Encoding> {
    r.rewind()?;
    let bom = read_head(&mut r)? == BOM;
    r.rewind()?;
    if bom {
        return Ok(Encoding::Utf8);
    }
    let mut buf = vec![0u8; 1 << 16];
    let mut carry = 0usize; // bytes of an unfinished UTF-8 sequence kept at the front
    let utf8 = loop {
        let n = r.read(&mut buf[carry..])?;
        if n == 0 {
            break carry == 0;
        }
        let filled = carry + n;
        match std::str::from_utf8(&buf[..filled]) {
            Ok(_) => carry = 0,
            Err(e) if e.error_len().is_none() => {
                // a sequence cut at the end of the buffer: keep it for the next read
                let valid = e.valid_up_to();
                buf.copy_within(valid..filled, 0);
                carry = filled - valid;
            }
            Err(_) => break false,
        }
    };
    if utf8 {
        r.rewind()?;
        return Ok(Encoding::Utf8);
    }
    r.rewind()?;
    let mut decoder = encoding_rs::GB18030.new_decoder_without_bom_handling();
    let mut out = vec![0u8; 1 << 17];
    let mut ok = true;
    'read: loop {
        let n = r.read(&mut buf)?;
        let last = n == 0;
        let mut src = &buf[..n];
        loop {
            let (result, read, _) = decoder.decode_to_utf8_without_replacement(src, &mut out, last);
            src = &src[read..];
            match result {
                encoding_rs::DecoderResult::InputEmpty => break,
                encoding_rs::DecoderResult::OutputFull => continue,
                encoding_rs::DecoderResult::Malformed(_, _) => {
                    ok = false;
                    break 'read;
                }
            }
        }
        if last {
            break;
        }
    }
    r.rewind()?;
    Ok(if ok {
        Encoding::Gb18030
    } else {
        Encoding::Utf8
    })
}

/// The lines of a file that [`RowReader`] hands over (rows and rejected rows), counted
/// without keeping them; for CSV this also checks the whole file's structure, so that an
/// import can refuse a broken file before it writes anything.
pub fn count_rows(r: impl Read, format: Format) -> Result<usize, ImportError> {
    let mut r = without_bom(r)?;
    let mut n = 0;
    match format {
        Format::Csv => {
            let mut reader = csv_reader(r);
            reader.byte_headers().map_err(|e| csv_error(1, e))?;
            let mut record = csv::ByteRecord::new();
            loop {
                let line = reader.position().line();
                match reader.read_byte_record(&mut record) {
                    Ok(false) => break,
                    Ok(true) => {}
                    Err(e) => return Err(csv_error(line, e)),
                }
                if !blank_record(&record) {
                    n += 1;
                }
            }
        }
        Format::Jsonl => {
            let mut buf = Vec::new();
            loop {
                buf.clear();
                if r.read_until(b'\n', &mut buf).map_err(ImportError::Read)? == 0 {
                    break;
                }
                if !blank_line(&buf) {
                    n += 1;
                }
            }
        }
    }
    Ok(n)
}

/// `r` without a leading UTF-8 byte-order mark, buffered. The first three bytes are read
/// whole (a reader may hand over one at a time) and put back when they are not a BOM.
type Input<R> = std::io::BufReader<std::io::Chain<std::io::Cursor<Vec<u8>>, R>>;

fn without_bom<R: Read>(mut r: R) -> Result<Input<R>, ImportError> {
    let mut head = read_head(&mut r).map_err(ImportError::Read)?;
    if head == BOM {
        head.clear();
    }
    Ok(std::io::BufReader::new(std::io::Cursor::new(head).chain(r)))
}

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// The first (up to) three bytes of `r`, however few a read hands over.
fn read_head(r: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut head = vec![0u8; 3];
    let mut got = 0;
    while got < 3 {
        match r.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(got);
    Ok(head)
}

/// A line of JSON Lines (with or without its line end) that holds nothing.
fn blank_line(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

fn csv_reader<R: Read>(r: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(r)
}

fn blank_record(record: &csv::ByteRecord) -> bool {
    record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace))
}

/// Reads an import file one row at a time: each item is a row, or a rejected row with its
/// line and rule (as [`parse`] sorts them), or a broken file (the end: a broken CSV
/// structure or a failed read). Only one row is held at a time; see
/// [`crate::Session::import_rows`].
pub struct RowReader<R: Read> {
    encoding: Encoding,
    unknown_columns: Vec<String>,
    source: Source<R>,
}

enum Source<R: Read> {
    Csv {
        reader: csv::Reader<Input<R>>,
        columns: Vec<Option<&'static str>>,
        record: csv::ByteRecord,
        done: bool,
    },
    Jsonl {
        reader: Input<R>,
        line: u64,
        /// The line being read (wiped when the reader is dropped).
        buf: Zeroizing<Vec<u8>>,
        done: bool,
    },
}

impl<R: Read> RowReader<R> {
    /// Starts reading `r` (a byte-order mark is skipped); for CSV, reads the header row and
    /// refuses a file without a name and an ID number column.
    pub fn new(r: R, format: Format, encoding: Encoding) -> Result<RowReader<R>, ImportError> {
        let r = without_bom(r)?;
        let mut unknown_columns = Vec::new();
        let source = match format {
            Format::Csv => {
                let mut reader = csv_reader(r);
                let headers = reader.byte_headers().map_err(|e| csv_error(1, e))?.clone();
                let mut columns = Vec::new();
                for (i, h) in headers.iter().enumerate() {
                    let name = decode_field(h, encoding).unwrap_or_default();
                    let f = field_of(&name);
                    if f.is_none() && !name.trim().is_empty() {
                        unknown_columns.push(header_label(&name, i));
                    }
                    columns.push(f);
                }
                if !columns.contains(&Some("name")) || !columns.contains(&Some("id_number")) {
                    return Err(ImportError::MissingColumns);
                }
                Source::Csv {
                    reader,
                    columns,
                    record: csv::ByteRecord::new(),
                    done: false,
                }
            }
            Format::Jsonl => Source::Jsonl {
                reader: r,
                line: 0,
                buf: Zeroizing::new(Vec::new()),
                done: false,
            },
        };
        Ok(RowReader {
            encoding,
            unknown_columns,
            source,
        })
    }

    /// The encoding rows are decoded with.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Header names that map to no field (for JSON Lines, the keys seen so far).
    pub fn unknown_columns(&self) -> &[String] {
        &self.unknown_columns
    }
}

/// What [`RowReader`] hands over for each line: a row or a rejected row, or the file's
/// structure broken there.
pub type ReadRow = Result<Result<Row, Rejected>, ImportError>;

impl<R: Read> Iterator for RowReader<R> {
    type Item = ReadRow;

    fn next(&mut self) -> Option<Self::Item> {
        let encoding = self.encoding;
        let broken = |line| Rejected {
            line,
            reason: format!("broken encoding (not valid {})", encoding.as_str()),
        };
        match &mut self.source {
            Source::Csv {
                reader,
                columns,
                record,
                done,
            } => loop {
                if *done {
                    return None;
                }
                let line = reader.position().line();
                match reader.read_byte_record(record) {
                    Ok(false) => {
                        *done = true;
                        return None;
                    }
                    Ok(true) => {}
                    Err(e) => {
                        *done = true;
                        return Some(Err(csv_error(line, e)));
                    }
                }
                let line = record.position().map(|p| p.line()).unwrap_or(line);
                if blank_record(record) {
                    continue;
                }
                let mut fields = RowFields::new();
                for (i, raw) in record.iter().enumerate() {
                    let Some(Some(col)) = columns.get(i) else {
                        continue;
                    };
                    match decode_field(raw, encoding) {
                        Some(v) => {
                            fields.insert(*col, v);
                        }
                        None => return Some(Ok(Err(broken(line)))),
                    }
                }
                return Some(Ok(
                    build_row(line, &fields).map_err(|reason| Rejected { line, reason })
                ));
            },
            Source::Jsonl {
                reader,
                line,
                buf,
                done,
            } => loop {
                if *done {
                    return None;
                }
                buf.clear();
                match reader.read_until(b'\n', buf) {
                    Ok(0) => {
                        *done = true;
                        return None;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        *done = true;
                        return Some(Err(ImportError::Read(e)));
                    }
                }
                *line += 1;
                let line = *line;
                let raw = buf.strip_suffix(b"\n").unwrap_or(buf);
                let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
                if blank_line(raw) {
                    continue;
                }
                let Some(text) = decode_field(raw, encoding) else {
                    return Some(Ok(Err(broken(line))));
                };
                return Some(Ok(jsonl_row(line, &text, &mut self.unknown_columns)));
            },
        }
    }
}

fn jsonl_row(line: u64, text: &str, unknown: &mut Vec<String>) -> Result<Row, Rejected> {
    let mut obj: serde_json::Map<String, serde_json::Value> = match serde_json::from_str(text) {
        Ok(serde_json::Value::Object(o)) => o,
        other => {
            // A line that is JSON but not an object (a bare string, an array) is wiped too.
            if let Ok(mut v) = other {
                wipe_json_strings(std::iter::once(&mut v));
            }
            return Err(Rejected {
                line,
                reason: "not a JSON object".into(),
            });
        }
    };
    let mut fields = RowFields::new();
    for (k, v) in &obj {
        let Some(f) = field_of(k) else {
            let k = header_label(k, unknown.len());
            if !unknown.contains(&k) {
                unknown.push(k);
            }
            continue;
        };
        // Written straight into the wiped string: no intermediate copies of the value.
        let mut text = Zeroizing::new(String::new());
        let push = |x: &serde_json::Value, t: &mut String| match x {
            serde_json::Value::String(s) => t.push_str(s),
            serde_json::Value::Number(n) => {
                let _ = std::fmt::Write::write_fmt(t, format_args!("{n}"));
            }
            _ => {}
        };
        match v {
            serde_json::Value::String(_) | serde_json::Value::Number(_) => push(v, &mut text),
            serde_json::Value::Bool(b) => text.push_str(if *b { "true" } else { "false" }),
            serde_json::Value::Array(items) => {
                // Strings and numbers, joined by ';' (other items are left out).
                let joined = items.iter().filter(|x| x.is_string() || x.is_number());
                for (i, x) in joined.enumerate() {
                    if i > 0 {
                        text.push(';');
                    }
                    push(x, &mut text);
                }
            }
            _ => continue,
        }
        fields.insert(f, text);
    }
    let row = build_row(line, &fields).map_err(|reason| Rejected { line, reason });
    wipe_json_strings(obj.values_mut());
    row
}

/// Wipes the strings of parsed JSON values (the file's plaintext) before they are dropped.
/// Object keys cannot be reached mutably; they are column names.
fn wipe_json_strings<'a>(values: impl Iterator<Item = &'a mut serde_json::Value>) {
    for v in values {
        match v {
            serde_json::Value::String(s) => s.zeroize(),
            serde_json::Value::Array(items) => wipe_json_strings(items.iter_mut()),
            serde_json::Value::Object(o) => wipe_json_strings(o.values_mut()),
            _ => {}
        }
    }
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
        let input = "{\"name\":\"张三\",\"id_number\":\"11010519491231002X\",\"phones\":[\"13812345678\"]}\nnot json\n\n{\"姓名\":\"李四\"}\n[\"王五\",\"11010519491231002X\"]\n";
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
                },
                Rejected {
                    line: 5,
                    reason: "not a JSON object".into()
                }
            ]
        );
    }

    /// JSON values of every kind become field text as before the reader wrote them into
    /// wiped strings: strings as they are, numbers as written, booleans as `true`/`false`,
    /// arrays as their strings and numbers joined by ';' (other items left out).
    #[test]
    fn jsonl_values_of_every_kind_become_field_text() {
        let input = concat!(
            r#"{"name":"张三","id_number":11010519491231,"phones":["13812345678",13912345678,{"x":1},true,"","010-62345678"],"#,
            r#""title":"补偿","content":"未发放","accusation":true,"category":12.5}"#,
            "\n",
            r#"{"name":"李四","id_number":"11010519491231002X","phone":[],"title":"t","content":"c","accusation":false}"#,
            "\n"
        );
        let p = parse(input.as_bytes(), Format::Jsonl, None).unwrap();
        assert_eq!(p.rejected, vec![]);
        let first = &p.rows[0];
        assert_eq!(first.petitioner.id_number.expose(), "11010519491231");
        let phones: Vec<&str> = first.petitioner.phones.iter().map(|p| p.expose()).collect();
        // "13812345678;13912345678;;010-62345678", split and emptied parts dropped.
        assert_eq!(phones, ["13812345678", "13912345678", "010-62345678"]);
        let case = first.case.as_ref().unwrap();
        assert!(case.is_accusation);
        assert_eq!(case.category, "12.5");
        let second = &p.rows[1];
        assert!(second.petitioner.phones.is_empty());
        assert!(!second.case.as_ref().unwrap().is_accusation);
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

    /// A reader that hands over a few bytes at a time, as a pipe or a slow disk may.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn summary(lines: impl Iterator<Item = ReadRow>) -> Vec<Result<(u64, String), Rejected>> {
        lines
            .map(|l| {
                l.unwrap()
                    .map(|r| (r.line, r.petitioner.name.expose().to_owned()))
            })
            .collect()
    }

    #[test]
    fn rows_read_a_few_bytes_at_a_time_are_the_rows_of_the_whole_file() {
        let mut csv = vec![0xEF, 0xBB, 0xBF];
        csv.extend_from_slice(
            "姓名,身份证号,标题,内容,备注\n张三,11010519491231002X,拆迁,\"补偿款\n未发放\",x\n\n,110105194912310021,,,\n李四,110101199003074514,,,\n"
                .as_bytes(),
        );
        let jsonl = "\u{feff}{\"name\":\"张三\",\"id_number\":\"11010519491231002X\",\"note\":1}\r\n\nnot json\n{\"姓名\":\"李四\",\"身份证号\":\"110101199003074514\"}";
        for (bytes, format) in [(&csv[..], Format::Csv), (jsonl.as_bytes(), Format::Jsonl)] {
            let whole = parse(bytes, format, None).unwrap();
            let want: Vec<_> = whole
                .rows
                .iter()
                .map(|r| Ok((r.line, r.petitioner.name.expose().to_owned())))
                .chain(whole.rejected.iter().cloned().map(Err))
                .collect();
            assert_eq!(whole.rows.len(), 2, "{format:?}");
            assert_eq!(whole.rejected.len(), 1, "{format:?}");
            for step in [1, 2, 3, 7] {
                let mut r = RowReader::new(Trickle(bytes, step), format, Encoding::Utf8).unwrap();
                let mut got = summary(r.by_ref());
                // rows first, then rejected, as `parse` sorts them
                got.sort_by_key(|l| l.is_err());
                assert_eq!(got, want, "{format:?}, {step} bytes at a time");
                assert_eq!(r.unknown_columns(), whole.unknown_columns, "{format:?}");
                assert_eq!(count_rows(Trickle(bytes, step), format).unwrap(), 3);
            }
        }
    }

    #[test]
    fn a_file_starting_like_a_bom_is_read_whole_and_a_failed_read_ends_the_rows() {
        // "（" is EF BC 88: its first byte is a BOM's
        let csv = "（注）,姓名,身份证号\nx,张三,11010519491231002X\n";
        for step in [1, 2, 64] {
            let mut r =
                RowReader::new(Trickle(csv.as_bytes(), step), Format::Csv, Encoding::Utf8).unwrap();
            assert_eq!(summary(r.by_ref()), [Ok((2, "张三".to_owned()))]);
            assert_eq!(r.unknown_columns(), ["（注）"]);
        }
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk gone"))
            }
        }
        let mut r = RowReader::new(
            std::io::Cursor::new(b"{}\n".to_vec()).chain(Failing),
            Format::Jsonl,
            Encoding::Utf8,
        )
        .unwrap();
        assert!(matches!(r.next(), Some(Ok(Err(_))))); // "{}": no name
        assert!(matches!(r.next(), Some(Err(ImportError::Read(_)))));
        assert!(r.next().is_none(), "nothing after a failed read");
        assert!(matches!(
            count_rows(Failing, Format::Csv),
            Err(ImportError::Read(_))
        ));
    }

    #[test]
    fn encoding_is_decided_by_its_rule_across_every_read_boundary() {
        // multi-byte characters across every 64 KiB read boundary
        let long_utf8: Vec<u8> = "姓名,内容\n".repeat(20_000).into_bytes();
        let gbk_text = "姓名,内容\n张三,补偿款\n".repeat(9_000);
        let (gbk, _, _) = encoding_rs::GBK.encode(&gbk_text);
        let mut broken = long_utf8.clone();
        broken[100_000] = 0xFF;
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(&[0xFF, 0xFE]);
        let mut cut = "张".as_bytes().to_vec();
        cut.pop(); // a sequence the file ends in the middle of
        let cases: Vec<(&str, Vec<u8>, Encoding)> = vec![
            ("long UTF-8", long_utf8, Encoding::Utf8),
            ("GBK", gbk.into_owned(), Encoding::Gb18030),
            ("neither", broken, Encoding::Utf8),
            ("a BOM", bom, Encoding::Utf8),
            ("empty", vec![], Encoding::Utf8),
            // E5 BC: not UTF-8, but a GBK character
            ("a cut sequence", cut, Encoding::Gb18030),
        ];
        for (what, bytes, want) in cases {
            assert_eq!(detect_encoding(&bytes), want, "{what}");
            // and the reader is left at its start, for the reads that follow
            let mut r = std::io::Cursor::new(&bytes);
            r.set_position(1.min(bytes.len() as u64));
            assert_eq!(
                detect_encoding_in(&mut r).unwrap(),
                want,
                "{what}, from a moved reader"
            );
            assert_eq!(r.position(), 0, "{what}");
        }
    }

    #[test]
    fn missing_required_columns() {
        assert!(matches!(
            parse(b"name,phone\n", Format::Csv, None),
            Err(ImportError::MissingColumns)
        ));
    }
}
