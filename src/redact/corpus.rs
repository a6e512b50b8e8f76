//! Labelled synthetic corpus of petition letters, for measuring the recall and
//! precision of [`super::scan::Scanner`] (tests and benchmarks only).
//!
//! Letters imitate 信访件: salutation, self-introduction, ID, address, phone,
//! the complaint, closing. PII of every kind is embedded in varied formats
//! (full-width digits, separators, `+86`, lowercase `x`, wrong check digits,
//! cue words) and the ground-truth span is recorded as it is inserted.
//! Distractors that are NOT PII are mixed in: case numbers, amounts, dates,
//! postal codes, article numbers, hotlines, unit names (`南山区住房和城乡建设局`
//! is an organisation, not an address) and place names used as plain places
//! (`去北京上访`, `在张家港打工`).
//!
//! Labelling conventions: an address span covers the whole inserted address;
//! a `王先生`/`张主任` mention labels the surname only; a phone number after a
//! WeChat cue is labelled [`PiiKind::Mobile`].

use super::scan::{KnownEntities, PiiKind, Scanner, Span};

/// A generated letter with its ground truth.
#[derive(Debug, Clone)]
pub struct LabelledLetter {
    /// Letter text.
    pub text: String,
    /// Expected PII spans (char offsets), in insertion order.
    pub spans: Vec<Span>,
    /// What the record knows about its petitioner.
    pub known: KnownEntities,
}

/// Per-kind score from [`evaluate`].
#[derive(Debug, Clone)]
pub struct KindScore {
    /// The kind scored.
    pub kind: PiiKind,
    /// Expected spans of this kind.
    pub expected: usize,
    /// Spans of this kind reported by the scanner.
    pub found: usize,
    /// Expected spans recovered (a found span of the same kind covers at
    /// least 50% of the expected span).
    pub true_pos: usize,
    /// `true_pos / expected` (1.0 when nothing expected).
    pub recall: f64,
    /// Share of found spans that recover some expected span of their kind
    /// (1.0 when nothing found).
    pub precision: f64,
}

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        crate::model::synth::splitmix64(&mut self.0)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 * 1.0 < p
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
    fn digits_between(&mut self, lo: usize, hi: usize) -> String {
        let n = self.range(lo, hi);
        self.digits(n)
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

/// Builds the text and records spans as PII is inserted.
#[derive(Default)]
struct Builder {
    text: String,
    len: usize,
    spans: Vec<Span>,
}

impl Builder {
    fn lit(&mut self, s: &str) {
        self.text.push_str(s);
        self.len += s.chars().count();
    }
    fn pii(&mut self, kind: PiiKind, s: &str) {
        let start = self.len;
        self.lit(s);
        self.spans.push(Span {
            kind,
            start,
            end: self.len,
        });
    }
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁",
    "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金", "石", "廖", "贾", "夏",
    "韦", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹", "薛", "闫", "段", "雷", "侯", "龙",
    "史", "陶", "黎", "贺", "顾", "毛", "郝", "龚", "邵", "万", "钱", "严", "覃", "武", "戴", "莫",
    "孔", "向", "汤",
];
const COMPOUND: &[&str] = &[
    "欧阳", "司马", "上官", "诸葛", "皇甫", "令狐", "慕容", "司徒",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建国", "志强", "建华", "国强", "晓明",
    "丽娟", "文斌", "海燕", "晓东", "立新", "春梅", "玉兰", "德福", "永庆", "淑珍", "凤兰", "桂芝",
    "金花", "振华", "志刚", "红梅", "建军", "小红", "俊峰", "浩然", "子涵", "欣怡", "婷婷", "雪梅",
    "宏伟", "卫东", "爱国", "秋菊", "长江", "学军", "光明", "美玲", "晓燕", "立军", "文华", "家豪",
    "思远", "少华", "国庆", "凤英",
];

/// (province, city, districts); empty province for municipalities.
const REGIONS: &[(&str, &str, &[&str])] = &[
    (
        "江苏省",
        "南京市",
        &["玄武区", "鼓楼区", "秦淮区", "江宁区"],
    ),
    (
        "广东省",
        "深圳市",
        &["南山区", "福田区", "宝安区", "龙岗区"],
    ),
    (
        "广东省",
        "广州市",
        &["天河区", "越秀区", "海珠区", "白云区"],
    ),
    (
        "浙江省",
        "杭州市",
        &["西湖区", "上城区", "拱墅区", "余杭区"],
    ),
    (
        "湖南省",
        "长沙市",
        &["岳麓区", "芙蓉区", "天心区", "长沙县"],
    ),
    (
        "河南省",
        "郑州市",
        &["金水区", "中原区", "二七区", "管城回族区"],
    ),
    (
        "四川省",
        "成都市",
        &["武侯区", "锦江区", "青羊区", "金牛区"],
    ),
    (
        "山东省",
        "济南市",
        &["历下区", "市中区", "槐荫区", "章丘区"],
    ),
    (
        "湖北省",
        "武汉市",
        &["武昌区", "洪山区", "江汉区", "汉阳区"],
    ),
    (
        "河北省",
        "石家庄市",
        &["长安区", "桥西区", "新华区", "裕华区"],
    ),
    (
        "安徽省",
        "合肥市",
        &["蜀山区", "包河区", "庐阳区", "肥西县"],
    ),
    (
        "江西省",
        "赣州市",
        &["章贡区", "南康区", "赣县区", "于都县"],
    ),
    (
        "福建省",
        "福州市",
        &["鼓楼区", "台江区", "仓山区", "闽侯县"],
    ),
    (
        "陕西省",
        "西安市",
        &["雁塔区", "碑林区", "未央区", "长安区"],
    ),
    (
        "辽宁省",
        "沈阳市",
        &["和平区", "沈河区", "皇姑区", "铁西区"],
    ),
    ("", "北京市", &["朝阳区", "海淀区", "东城区", "丰台区"]),
    ("", "上海市", &["浦东新区", "徐汇区", "静安区", "闵行区"]),
    (
        "广西壮族自治区",
        "南宁市",
        &["青秀区", "兴宁区", "西乡塘区"],
    ),
];
const TOWNS: &[&str] = &[
    "孝陵卫街道",
    "粤海街道",
    "沙河街道",
    "望京街道",
    "黄花镇",
    "秣陵街道",
    "城关镇",
    "新塘镇",
    "石门乡",
    "龙泉街道",
    "东湖街道",
    "南湖街道",
    "金桥镇",
    "白沙镇",
    "青山乡",
    "湖塘镇",
];
const ROADS: &[&str] = &[
    "中山路",
    "解放路",
    "人民路",
    "建设路",
    "和平路",
    "文三路",
    "天河路",
    "钟灵街",
    "科技园路",
    "长江路",
    "黄河路",
    "新华街",
    "民族大道",
    "农业路",
    "胜利街",
    "学府路",
    "滨江大道",
    "东风路",
    "迎宾大道",
    "光明路",
    "幸福街",
    "工业大道",
    "朝阳路",
    "前进路",
    "中山北路",
    "五一路",
    "红旗街",
];
const COMMUNITIES: &[&str] = &[
    "阳光小区",
    "幸福花园",
    "金色家园",
    "翠苑",
    "锦绣华庭",
    "东湖社区",
    "绿地新村",
    "王庄村",
    "李家村",
    "柳树屯",
    "建新村",
    "华府名苑",
    "碧水花园",
    "紫荆小区",
    "桃园社区",
    "新河村",
];
const VILLAGES: &[&str] = &[
    "黄花村",
    "王庄村",
    "李家村",
    "新河村",
    "建新村",
    "石桥村",
    "杨柳村",
];
const CN_NUM: &[&str] = &["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];

const UNITS: &[&str] = &[
    "南山区住房和城乡建设局",
    "玄武区人民政府",
    "街道办事处",
    "市信访局",
    "县国土资源局",
    "当地派出所",
    "区城管执法局",
    "孝陵卫街道办事处",
    "黄花镇人民政府",
    "市人力资源和社会保障局",
    "县人民法院",
    "开发商",
    "物业公司",
    "村委会",
    "高新区管委会",
];
const AREA_CODES: &[&str] = &[
    "010", "021", "020", "022", "025", "0755", "0571", "0731", "0371", "028", "0531", "027",
    "0311", "0551",
];
const EMAIL_DOMAINS: &[&str] = &[
    "163.com",
    "qq.com",
    "126.com",
    "sina.com",
    "gmail.com",
    "foxmail.com",
    "yahoo.com.cn",
];
const PINYIN: &[&str] = &[
    "zhang", "wang", "li", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun", "ma",
    "hu", "guo", "lin", "wei", "ming", "hua", "jun", "fang", "xiaoyan", "jianguo", "lily", "tiger",
];
const PLATE_PROV: &[&str] = &[
    "京", "沪", "粤", "苏", "浙", "湘", "豫", "川", "鲁", "鄂", "冀", "皖", "赣", "闽", "陕", "辽",
    "桂",
];
const PLATE_LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const PROVINCE_CODES: &[&str] = &[
    "11", "31", "32", "33", "35", "36", "37", "41", "42", "43", "44", "45", "51", "61", "62", "13",
    "21", "34",
];

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_graphic() {
                char::from_u32(c as u32 + 0xFEE0).unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

fn gen_name(r: &mut Rng) -> String {
    let sur = if r.chance(0.06) {
        r.pick(COMPOUND)
    } else {
        r.pick(SURNAMES)
    };
    format!("{sur}{}", r.pick(GIVEN))
}

fn surname_of(name: &str) -> String {
    let two: String = name.chars().take(2).collect();
    if COMPOUND.contains(&two.as_str()) {
        two
    } else {
        name.chars().take(1).collect()
    }
}

fn id_check(d17: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let s: u32 = d17.bytes().zip(W).map(|(b, w)| (b - b'0') as u32 * w).sum();
    b"10X98765432"[(s % 11) as usize] as char
}

/// Canonical 18-char ID (valid check digit).
fn gen_id(r: &mut Rng) -> String {
    let d17 = format!(
        "{}{}{:04}{:02}{:02}{}",
        r.pick(PROVINCE_CODES),
        r.digits(4),
        r.range(1940, 2004),
        r.range(1, 12),
        r.range(1, 28),
        r.digits(3)
    );
    let c = id_check(&d17);
    format!("{d17}{c}")
}

fn gen_id15(r: &mut Rng) -> String {
    format!(
        "{}{}{:02}{:02}{:02}{}",
        r.pick(PROVINCE_CODES),
        r.digits(4),
        r.range(40, 84),
        r.range(1, 12),
        r.range(1, 28),
        r.digits(3)
    )
}

/// Render an ID in a random format.
fn fmt_id(r: &mut Rng, id: &str) -> String {
    match r.below(7) {
        0 => id.to_lowercase(),
        1 => full_width(id),
        2 => format!("{} {} {}", &id[..6], &id[6..14], &id[14..]),
        3 => {
            // wrong check digit
            let c = id.as_bytes()[17];
            let wrong = if c == b'7' { '3' } else { '7' };
            format!("{}{}", &id[..17], wrong)
        }
        _ => id.to_string(),
    }
}

fn gen_mobile(r: &mut Rng) -> String {
    format!("1{}{}", r.pick(&["3", "5", "7", "8", "9"]), r.digits(9))
}

fn fmt_mobile(r: &mut Rng, m: &str) -> String {
    match r.below(8) {
        0 => format!("{}-{}-{}", &m[..3], &m[3..7], &m[7..]),
        1 => format!("{} {} {}", &m[..3], &m[3..7], &m[7..]),
        2 => format!("+86 {m}"),
        3 => format!("0086-{m}"),
        4 => full_width(m),
        5 => format!("+86-{}-{}-{}", &m[..3], &m[3..7], &m[7..]),
        _ => m.to_string(),
    }
}

fn gen_landline(r: &mut Rng) -> (String, String) {
    let area = r.pick(AREA_CODES);
    let local_len = if area.len() == 3 { 8 } else { r.pick(&[7, 8]) };
    let local = format!("{}{}", r.range(2, 8), r.digits(local_len - 1));
    let text = match r.below(5) {
        0 => format!("({area}){local}"),
        1 => format!("（{area}）{local}"),
        2 => format!("{area} {local}"),
        3 => full_width(&format!("{area}-{local}")),
        _ => format!("{area}-{local}"),
    };
    (format!("{area}{local}"), text)
}

fn luhn_complete(prefix: &str) -> String {
    // append a check digit so that the whole string passes Luhn
    for c in 0..10u8 {
        let s = format!("{prefix}{c}");
        let mut sum = 0;
        for (i, b) in s.bytes().rev().enumerate() {
            let mut v = (b - b'0') as u32;
            if i % 2 == 1 {
                v *= 2;
                if v > 9 {
                    v -= 9;
                }
            }
            sum += v;
        }
        if sum % 10 == 0 {
            return s;
        }
    }
    unreachable!()
}

fn gen_card(r: &mut Rng) -> String {
    let len = r.pick(&[16, 16, 19, 19, 17, 18]);
    let bin = r.pick(&[
        "622202", "621700", "622848", "436742", "622588", "625965", "621226",
    ]);
    let body = luhn_complete(&format!("{bin}{}", r.digits(len - 7)));
    match r.below(4) {
        0 => body
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap_or(""))
            .collect::<Vec<_>>()
            .join(" "),
        1 => body
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap_or(""))
            .collect::<Vec<_>>()
            .join("-"),
        2 if r.chance(0.5) => full_width(&body),
        _ => body,
    }
}

fn gen_email(r: &mut Rng) -> String {
    let local = match r.below(4) {
        0 => format!("{}{}", r.pick(PINYIN), r.digits_between(2, 4)),
        1 => format!("{}.{}", r.pick(PINYIN), r.pick(PINYIN)),
        2 => format!("{}_{}", r.pick(PINYIN), r.range(1960, 2005)),
        _ => r.digits_between(6, 10).replacen('0', "1", 1),
    };
    format!("{local}@{}", r.pick(EMAIL_DOMAINS))
}

fn gen_credit(r: &mut Rng) -> String {
    const CS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const W: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let mut s = format!(
        "{}{}{}{}",
        r.pick(&["91", "92", "93", "12", "52"]),
        r.pick(PROVINCE_CODES),
        r.digits(4),
        r.pick(&["MA", "", "7"])
    );
    while s.len() < 17 {
        s.push(if r.chance(0.2) {
            CS[r.range(10, 30)] as char
        } else {
            char::from(b'0' + r.below(10) as u8)
        });
    }
    s.truncate(17);
    let sum: usize = s
        .bytes()
        .zip(W)
        .map(|(c, w)| CS.iter().position(|&x| x == c).unwrap_or(0) * w)
        .sum();
    s.push(CS[(31 - sum % 31) % 31] as char);
    s
}

fn gen_plate(r: &mut Rng) -> String {
    let prov = r.pick(PLATE_PROV);
    let letter = PLATE_LETTERS[r.below(PLATE_LETTERS.len())] as char;
    let tail = match r.below(4) {
        0 => format!("{}{}", r.pick(&["D", "F"]), r.digits(5)),
        1 => format!(
            "{}{}",
            PLATE_LETTERS[r.below(PLATE_LETTERS.len())] as char,
            r.digits(4)
        ),
        _ => r.digits(5),
    };
    let sep = r.pick(&["", "", "·", " "]);
    format!("{prov}{letter}{sep}{tail}")
}

fn gen_passport(r: &mut Rng) -> String {
    match r.below(3) {
        0 => format!("E{}", r.digits(8)),
        1 => format!(
            "E{}{}",
            r.pick(&["A", "B", "C", "D", "F", "G", "H"]),
            r.digits(7)
        ),
        _ => format!("{}{}", r.pick(&["G", "P", "S"]), r.digits(8)),
    }
}

fn gen_permit(r: &mut Rng) -> String {
    match r.below(4) {
        0 => format!("C{}", r.digits(8)),
        1 => format!("C{}{}", r.pick(&["A", "B", "D", "E"]), r.digits(7)),
        2 => format!("H{}", r.digits(8)),
        _ => format!("M{}", r.digits(10)),
    }
}

fn cn(r: &mut Rng) -> &'static str {
    r.pick(CN_NUM)
}

/// Returns (text form, canonical full form for KnownEntities).
fn gen_address(r: &mut Rng) -> (String, String) {
    let (prov, city, dists) = r.pick(REGIONS);
    let dist = r.pick(dists);
    let town = r.pick(TOWNS);
    let road = r.pick(ROADS);
    let comm = r.pick(COMMUNITIES);
    let no = r.range(1, 399);
    let bld = r.range(1, 30);
    let unit = r.range(1, 6);
    let room = format!("{}{:02}", r.range(1, 28), r.range(1, 4));
    let full = format!("{prov}{city}{dist}{town}{road}{no}号{comm}{bld}栋{unit}单元{room}室");
    let text = match r.below(9) {
        0 => full.clone(),
        1 => format!("{city}{dist}{road}{no}号"),
        2 => format!("{dist}{comm}{bld}栋{room}室"),
        3 => format!("{}{town}{}{}组", dist, r.pick(VILLAGES), cn(r)),
        4 => format!("{prov}{city}{dist}{town}{comm}"),
        5 => format!("{road}{no}号{comm}{bld}号楼{unit}单元{room}"),
        6 => format!(
            "{prov}{city}{dist}{road}{}号院{bld}号楼",
            full_width(&no.to_string())
        ),
        7 => format!("{city}{dist}{town}{road}{no}号"),
        _ => format!("{dist}{road}{no}号{comm}{bld}栋{unit}单元{room}室"),
    };
    let canonical = if text.starts_with(prov) && !prov.is_empty() || text.starts_with(city) {
        text.clone()
    } else {
        format!("{prov}{city}{text}")
    };
    (text, canonical)
}

fn date(r: &mut Rng) -> String {
    match r.below(3) {
        0 => format!(
            "{}年{}月{}日",
            r.range(2015, 2024),
            r.range(1, 12),
            r.range(1, 28)
        ),
        1 => format!(
            "{}-{:02}-{:02}",
            r.range(2015, 2024),
            r.range(1, 12),
            r.range(1, 28)
        ),
        _ => format!("{}年{}月", r.range(2010, 2024), r.range(1, 12)),
    }
}

/// A non-PII sentence (distractor) possibly mentioning other people.
fn complaint(r: &mut Rng, b: &mut Builder) {
    let unit = r.pick(UNITS);
    match r.below(26) {
        0 => b.lit(&format!("{}，{unit}在未经协商的情况下强拆了我家房屋，至今未给予补偿。", date(r))),
        1 => b.lit(&format!("我曾于{}向{unit}反映，信访件编号{}{}，至今没有答复。", date(r), r.range(2018, 2024), r.digits(6))),
        2 => b.lit(&format!("该公司拖欠我工资共计{}元，另有赔偿款{}万元未支付。", r.range(1000, 999_999), r.range(1, 90))),
        3 => b.lit(&format!("根据《信访工作条例》第{}条的规定，请依法处理。", r.range(1, 50))),
        4 => b.lit(&format!("我今年{}岁，{}年参加工作，邮编{}。", r.range(30, 85), r.range(1970, 2010), r.pick(&["210000", "518000", "410100", "100020"]))),
        5 => b.lit(&format!("{}年我去北京上访过一次，后来在张家港打工多年。", r.range(2008, 2022))),
        6 => b.lit("据张某某说，李某也遇到了同样的问题，王府井附近的商户也有类似情况。"),
        7 => b.lit(&format!("我已向12345市民热线反映，也拨打过110报警，案件受理号{}。", r.digits(12))),
        8 => b.lit(&format!("涉案房屋建筑面积{}.{}平方米，共{}间。", r.range(40, 200), r.below(10), r.range(2, 6))),
        9 => b.lit(&format!("{unit}的答复意见书（{}〔{}〕{}号）认定事实不清。", r.pick(&["宁信复", "深信办", "湘信"]), r.range(2019, 2024), r.range(1, 300))),
        10 => {
            b.lit("被反映人");
            let n = gen_name(r);
            b.pii(PiiKind::Name, &n);
            b.lit(&format!("系{}，长期侵占集体土地。", r.pick(&["村支书", "村主任", "开发商负责人", "包工头"])));
        }
        11 => {
            let n = gen_name(r);
            b.lit("村支书");
            b.pii(PiiKind::Name, &n);
            b.lit("多次威胁我，");
            let n2 = gen_name(r);
            b.pii(PiiKind::Name, &n2);
            b.lit(&format!("{}也知道此事。", r.pick(&["主任", "书记", "科长"])));
        }
        12 => {
            let n = gen_name(r);
            b.lit(&format!("{unit}的"));
            b.pii(PiiKind::Name, &surname_of(&n));
            b.lit(&format!("{}答应{}前解决，但没有兑现。", r.pick(&["主任", "科长", "局长", "书记"]), date(r)));
        }
        13 => {
            let n = gen_name(r);
            b.pii(PiiKind::Name, &n);
            b.lit(&format!("多次到我家闹事，{}曾出警处理。", r.pick(&["派出所", "城管"])));
        }
        14 => {
            b.lit("邻居");
            let n = gen_name(r);
            b.pii(PiiKind::Name, &n);
            b.lit("可以作证，我的丈夫");
            let n2 = gen_name(r);
            b.pii(PiiKind::Name, &n2);
            b.lit("已于去年去世。");
        }
        15 => b.lit(&format!("上午9:30我到{unit}办事，工作人员态度恶劣，高新区有关部门也推诿扯皮。")),
        16 => b.lit("本人于去年多次向有关部门反映，常年得不到解决，房屋漏雨，全家生活困难。"),
        17 => b.lit("希望领导高度重视，平安建设要落到实处，文明执法，关于此事请给个明确答复。"),
        18 => b.lit(&format!("我曾多次找过{unit}，对方说明天再来，任何时间都没有人管，原来的承诺也不算数。")),
        19 => b.lit("施工方在没有安全措施的情况下施工，万一出事谁负责？马路上到处是渣土，高楼林立却没有方便通道。"),
        20 => {
            let (_, city, dists) = r.pick(REGIONS);
            let dist = r.pick(dists);
            b.lit(&format!("{city}{dist}人民法院判决后，{city}中级人民法院维持原判，{dist}人民政府至今未执行。"))
        }
        21 => b.lit("严重影响了我们村的道路通行，一路上都是坑，社区工作人员和小区物业互相推诿，城市管理部门也不管。"),
        22 => b.lit("。高度重视群众诉求，严格执法，明确答复，马上处理，向上级汇报，程序违法的要纠正，白天黑夜都有噪音。"),
        23 => {
            let n = gen_name(r);
            b.lit(r.pick(&["后来", "当天", "随后"]));
            b.pii(PiiKind::Name, &n);
            b.lit(r.pick(&["带领一伙人把我打伤，", "一伙人又来了，", "等人把路堵了，"]));
            b.lit("我去找");
            let n2 = gen_name(r);
            b.pii(PiiKind::Name, &n2);
            b.lit("要说法，他不理。");
        }
        24 => {
            let (_, city, _) = r.pick(REGIONS);
            b.lit(&format!("我儿子去年在{city}打工，{}也去过，石家庄、金华、常州都待过。", r.pick(&["张家港", "王府井", "高新区", "南山区"])));
        }
        _ => {
            b.lit("我家在");
            let v = r.pick(TOWNS);
            let vil = r.pick(VILLAGES);
            b.pii(PiiKind::Address, &format!("{v}{vil}"));
            b.lit("，承包地被");
            let (c, t) = (r.pick(COMMUNITIES), r.range(1, 30));
            b.lit("占用，开发商建起了");
            b.pii(PiiKind::Address, &format!("{c}{t}栋"));
            b.lit("。");
        }
    }
}

/// A sentence carrying one extra PII item.
fn extra(r: &mut Rng, b: &mut Builder) {
    match r.below(12) {
        0 => {
            b.lit(r.pick(&["请将补偿款打入我的银行卡", "本人银行账号：", "收款卡号"]));
            b.pii(PiiKind::BankCard, &gen_card(r));
            b.lit(&format!(
                "（{}）。",
                r.pick(&["中国农业银行", "工商银行", "建设银行"])
            ));
        }
        1 => {
            b.lit(r.pick(&["电子邮箱", "邮箱：", "Email:"]));
            b.pii(PiiKind::Email, &gen_email(r));
            b.lit("，请回复。");
        }
        2 => {
            let cue = r.pick(&["QQ：", "qq号", "QQ号码是", "扣扣", "Q号:"]);
            b.lit(&format!("也可以加我{cue}"));
            let qq = format!("{}{}", r.range(1, 9), r.digits_between(4, 9));
            b.pii(PiiKind::Qq, &qq);
            b.lit("。");
        }
        3 => {
            let cue = r.pick(&["微信号：", "微信", "wx:", "vx：", "微信号是"]);
            b.lit(&format!("我的{cue}"));
            let mut id = format!(
                "{}{}{}",
                r.pick(PINYIN),
                r.pick(&["_", "", "-"]),
                r.digits_between(2, 6)
            );
            while id.len() < 6 {
                id.push('8');
            }
            b.pii(PiiKind::Wechat, &id);
            b.lit("，");
        }
        4 => {
            b.lit("微信同手机号");
            let m = gen_mobile(r);
            b.pii(PiiKind::Mobile, &m);
            b.lit("。");
        }
        5 => {
            b.lit("肇事车辆车牌号为");
            b.pii(PiiKind::Plate, &gen_plate(r));
            b.lit("，司机逃逸。");
        }
        6 => {
            b.lit(r.pick(&["我的护照号码", "护照号：", "本人持护照"]));
            b.pii(PiiKind::Passport, &gen_passport(r));
            b.lit("，");
        }
        7 => {
            b.lit(r.pick(&["港澳通行证号码", "往来港澳通行证：", "回乡证号"]));
            b.pii(PiiKind::HkMacauPermit, &gen_permit(r));
            b.lit("。");
        }
        8 => {
            b.lit("该公司统一社会信用代码为");
            b.pii(PiiKind::CreditCode, &gen_credit(r));
            b.lit("，法定代表人");
            b.pii(PiiKind::Name, &gen_name(r));
            b.lit("。");
        }
        9 => {
            b.lit(r.pick(&["办公电话", "家里座机", "固定电话："]));
            let (_, t) = gen_landline(r);
            b.pii(PiiKind::Landline, &t);
            b.lit("。");
        }
        10 => {
            b.lit("事发地点在");
            let (a, _) = gen_address(r);
            b.pii(PiiKind::Address, &a);
            b.lit("门口。");
        }
        _ => {
            b.lit("我母亲的身份证号");
            let id = if r.chance(0.3) {
                gen_id15(r)
            } else {
                gen_id(r)
            };
            let f = if id.len() == 18 { fmt_id(r, &id) } else { id };
            b.pii(PiiKind::IdNumber, &f);
            b.lit("。");
        }
    }
}

fn letter(r: &mut Rng) -> LabelledLetter {
    let mut b = Builder::default();
    let mut known = KnownEntities::default();
    b.lit(r.pick(&[
        "尊敬的领导：",
        "尊敬的信访局领导：",
        "市信访局：",
        "尊敬的市长：",
        "各位领导：\n",
    ]));
    let name = gen_name(r);
    known.names.push(name.clone());
    match r.below(6) {
        0 => b.lit("我叫"),
        1 => b.lit("本人"),
        2 => b.lit("信访人："),
        3 => b.lit("姓名："),
        4 => b.lit("我是"),
        _ => {}
    }
    b.pii(PiiKind::Name, &name);
    b.lit(r.pick(&["，", "，男，汉族，", "，女，", "，现年65岁，"]));
    if r.chance(0.85) {
        let id = gen_id(r);
        known.id_numbers.push(id.clone());
        b.lit(r.pick(&["身份证号", "身份证号码：", "公民身份号码", "身份证"]));
        let f = fmt_id(r, &id);
        b.pii(PiiKind::IdNumber, &f);
        b.lit(r.pick(&["，", "；", "。"]));
    }
    if r.chance(0.9) {
        let (a, canon) = gen_address(r);
        known.addresses.push(canon);
        b.lit(r.pick(&["家住", "现住", "住址：", "户籍地：", "现居住于"]));
        b.pii(PiiKind::Address, &a);
        b.lit("。");
    }
    if r.chance(0.9) {
        if r.chance(0.8) {
            let m = gen_mobile(r);
            known.phones.push(if r.chance(0.5) {
                format!("+86 {m}")
            } else {
                m.clone()
            });
            b.lit(r.pick(&["联系电话", "手机：", "电话", "手机号码"]));
            b.pii(PiiKind::Mobile, &fmt_mobile(r, &m));
            b.lit(r.pick(&["。", "找我。", "，"]));
        } else {
            let (canon, t) = gen_landline(r);
            known.phones.push(canon);
            b.lit("联系电话");
            b.pii(PiiKind::Landline, &t);
            b.lit("。");
        }
    }
    if r.chance(0.3) {
        let e = gen_email(r);
        known.emails.push(e.clone());
        b.lit("邮箱");
        b.pii(PiiKind::Email, &e);
        b.lit("。");
    }
    b.lit(r.pick(&["现反映以下问题：", "我要反映的问题如下：", "特此反映："]));
    let nc = r.range(1, 4);
    for _ in 0..nc {
        complaint(r, &mut b);
    }
    let ne = r.range(1, 3);
    for _ in 0..ne {
        extra(r, &mut b);
    }
    if r.chance(0.3) {
        b.lit("如有疑问请联系");
        b.pii(PiiKind::Name, &surname_of(&name));
        b.lit(r.pick(&["先生。", "女士。"]));
    }
    b.lit("恳请领导重视，尽快解决！\n此致\n敬礼！\n");
    if r.chance(0.6) {
        b.lit("信访人：");
        b.pii(PiiKind::Name, &name);
        b.lit("\n");
    }
    b.lit(&date(r));
    LabelledLetter {
        text: b.text,
        spans: b.spans,
        known,
    }
}

/// Generate `n` labelled letters deterministically from `seed`.
pub fn generate(seed: u64, n: usize) -> Vec<LabelledLetter> {
    let mut r = Rng(seed);
    (0..n).map(|_| letter(&mut r)).collect()
}

fn overlap(a: &Span, s: usize, e: usize) -> usize {
    a.end.min(e).saturating_sub(a.start.max(s))
}

fn hits(found: &Span, expected: &Span) -> bool {
    found.kind == expected.kind
        && 2 * overlap(found, expected.start, expected.end) >= expected.end - expected.start
}

/// Score `scanner` on `letters`, per kind. With `use_known` the letters'
/// [`KnownEntities`] are passed to the scanner.
pub fn evaluate(scanner: &Scanner, letters: &[LabelledLetter], use_known: bool) -> Vec<KindScore> {
    let empty = KnownEntities::default();
    let mut acc: Vec<(usize, usize, usize, usize)> = vec![(0, 0, 0, 0); PiiKind::ALL.len()];
    let idx = |k: PiiKind| PiiKind::ALL.iter().position(|&x| x == k).unwrap_or(0);
    for l in letters {
        let found = scanner.scan(&l.text, if use_known { &l.known } else { &empty });
        for e in &l.spans {
            let a = &mut acc[idx(e.kind)];
            a.0 += 1;
            if found.iter().any(|f| hits(f, e)) {
                a.2 += 1;
            }
        }
        for f in &found {
            let a = &mut acc[idx(f.kind)];
            a.1 += 1;
            if l.spans.iter().any(|e| hits(f, e)) {
                a.3 += 1;
            }
        }
    }
    PiiKind::ALL
        .iter()
        .zip(acc)
        .map(|(&kind, (expected, found, true_pos, correct))| KindScore {
            kind,
            expected,
            found,
            true_pos,
            recall: if expected == 0 {
                1.0
            } else {
                true_pos as f64 / expected as f64
            },
            precision: if found == 0 {
                1.0
            } else {
                correct as f64 / found as f64
            },
        })
        .collect()
}

/// Render scores as a plain-text table (plus an overall precision line).
pub fn format_table(scores: &[KindScore]) -> String {
    let mut s = format!(
        "{:<15} {:>8} {:>6} {:>6} {:>7} {:>9}\n",
        "kind", "expected", "found", "tp", "recall", "precision"
    );
    for k in scores {
        s.push_str(&format!(
            "{:<15} {:>8} {:>6} {:>6} {:>7.3} {:>9.3}\n",
            format!("{:?}", k.kind),
            k.expected,
            k.found,
            k.true_pos,
            k.recall,
            k.precision
        ));
    }
    let found: usize = scores.iter().map(|k| k.found).sum();
    let correct: f64 = scores.iter().map(|k| k.precision * k.found as f64).sum();
    s.push_str(&format!(
        "overall precision {:.3}\n",
        if found == 0 {
            1.0
        } else {
            correct / found as f64
        }
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::super::mask::Level;
    use super::*;

    const SEED: u64 = 20_240_601;
    const N: usize = 300;

    fn letters() -> Vec<LabelledLetter> {
        generate(SEED, N)
    }

    #[test]
    fn generation_is_deterministic_and_spans_are_valid() {
        let a = generate(7, 20);
        let b = generate(7, 20);
        assert_eq!(
            a.iter().map(|l| &l.text).collect::<Vec<_>>(),
            b.iter().map(|l| &l.text).collect::<Vec<_>>()
        );
        assert_ne!(a[0].text, generate(8, 1)[0].text);
        for l in &a {
            let n = l.text.chars().count();
            for s in &l.spans {
                assert!(s.start < s.end && s.end <= n, "{s:?}");
            }
        }
    }

    #[test]
    fn recall_and_precision_meet_targets() {
        let letters = letters();
        let scanner = Scanner::global();
        for use_known in [false, true] {
            let scores = evaluate(scanner, &letters, use_known);
            eprintln!(
                "seed={SEED} letters={N} use_known={use_known}\n{}",
                format_table(&scores)
            );
            for k in &scores {
                let min_recall = match k.kind {
                    PiiKind::IdNumber
                    | PiiKind::Mobile
                    | PiiKind::Landline
                    | PiiKind::BankCard
                    | PiiKind::Email => 0.99,
                    _ => 0.90,
                };
                assert!(k.expected > 0, "{:?} never generated", k.kind);
                assert!(
                    k.recall >= min_recall,
                    "{:?} recall {:.3}",
                    k.kind,
                    k.recall
                );
            }
            let found: usize = scores.iter().map(|k| k.found).sum();
            let correct: f64 = scores.iter().map(|k| k.precision * k.found as f64).sum();
            assert!(
                correct / found as f64 >= 0.90,
                "overall precision {:.3}",
                correct / found as f64
            );
        }
    }

    #[test]
    fn found_spans_are_valid_and_redaction_leaks_no_structured_value() {
        let scanner = Scanner::global();
        let structured = [
            PiiKind::IdNumber,
            PiiKind::Mobile,
            PiiKind::Landline,
            PiiKind::BankCard,
            PiiKind::Email,
            PiiKind::Qq,
            PiiKind::Wechat,
            PiiKind::CreditCode,
            PiiKind::Plate,
            PiiKind::Passport,
            PiiKind::HkMacauPermit,
        ];
        for l in letters().iter().take(150) {
            let chars: Vec<char> = l.text.chars().collect();
            for level in [Level::Standard, Level::Publication] {
                let r = scanner.redact(&l.text, level, &l.known);
                let mut prev = 0;
                for s in &r.spans {
                    assert!(s.start >= prev && s.start < s.end && s.end <= chars.len());
                    prev = s.end;
                }
                for e in l.spans.iter().filter(|e| structured.contains(&e.kind)) {
                    let v: String = chars[e.start..e.end].iter().collect();
                    // only values that occur once (a 5-digit QQ may also be part of an amount)
                    if l.text.matches(&v).count() == 1 {
                        assert!(
                            !r.text.contains(&v),
                            "{:?} {v} leaked in {}",
                            e.kind,
                            r.text
                        );
                    }
                }
                if level == Level::Publication {
                    for name in &l.known.names {
                        assert!(
                            !r.text.contains(name.as_str()),
                            "{name} leaked in {}",
                            r.text
                        );
                    }
                }
                // redacting again finds no structured numbers
                let again = scanner.scan(&r.text, &KnownEntities::default());
                assert!(
                    !again.iter().any(|s| matches!(
                        s.kind,
                        PiiKind::IdNumber | PiiKind::Mobile | PiiKind::Landline | PiiKind::BankCard
                    )),
                    "{}",
                    r.text
                );
            }
        }
    }
}
