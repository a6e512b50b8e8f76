//! PII scanner and scrubber for Chinese free text (信访 letters).
//!
//! [`Scanner::scan`] finds personal data in a text and returns sorted,
//! non-overlapping [`Span`]s in *character* offsets; [`Scanner::redact`]
//! replaces each span with the mask of its kind (see [`super::mask`]).
//!
//! Detection is rule based:
//! * structured numbers (ID cards, mobiles, landlines, bank cards) come from a
//!   digit-run splitter that tolerates spaces/hyphens between digit groups,
//!   full-width digits and `+86`/`0086` prefixes, and that never takes part of
//!   a longer digit run (the `regex` crate has no look-around, so boundaries
//!   are checked by hand);
//! * e-mail, QQ, WeChat, licence plates, passports, HK/Macau permits and
//!   unified social credit codes use regexes plus manual boundary checks;
//! * person names and addresses use jieba POS tags plus cue words and a small
//!   address grammar;
//! * values the record already knows ([`KnownEntities`]) are always removed.
//!
//! Decisions worth knowing:
//! * a phone number written after a WeChat cue (`微信：138…`) is reported as
//!   [`PiiKind::Mobile`]; [`PiiKind::Wechat`] is only for letter-initial ids;
//! * a bare surname followed by a title (`王先生`, `张主任`) is reported as a
//!   one-character [`PiiKind::Name`] span covering the surname only;
//! * unit names (`南山区住房和城乡建设局`, `玄武区人民政府`) are *not*
//!   addresses: an admin-only chain directly followed by an organisation
//!   suffix is dropped;
//! * already pseudonymised names (`张某某`, `李某`) are never reported.

use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;
use std::sync::OnceLock;

use jieba_rs::{Jieba, Tag};
use regex::Regex;
use serde::Serialize;

use super::mask::{self, Level};

/// Kind of personal data found in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    /// Resident ID card number (18 or 15 digits).
    IdNumber,
    /// Mainland mobile number.
    Mobile,
    /// Landline number with area code.
    Landline,
    /// Bank card number (Luhn valid).
    BankCard,
    /// E-mail address.
    Email,
    /// QQ number (only after a cue word).
    Qq,
    /// WeChat id (only after a cue word).
    Wechat,
    /// Unified social credit code (GB 32100).
    CreditCode,
    /// Vehicle licence plate.
    Plate,
    /// Passport number.
    Passport,
    /// Mainland travel permit for Hong Kong/Macau, or home-return permit.
    HkMacauPermit,
    /// Person name.
    Name,
    /// Postal address.
    Address,
}

impl PiiKind {
    /// Every kind, in declaration order.
    pub const ALL: [PiiKind; 13] = [
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
        PiiKind::Name,
        PiiKind::Address,
    ];

    /// Tie-break priority when two candidates of equal length overlap.
    fn priority(self) -> u8 {
        match self {
            PiiKind::IdNumber => 13,
            PiiKind::CreditCode => 12,
            PiiKind::BankCard => 11,
            PiiKind::Qq => 10,
            PiiKind::Mobile => 9,
            PiiKind::Landline => 8,
            PiiKind::Passport => 7,
            PiiKind::HkMacauPermit => 6,
            PiiKind::Plate => 5,
            PiiKind::Email => 4,
            PiiKind::Wechat => 3,
            PiiKind::Address => 2,
            PiiKind::Name => 1,
        }
    }
}

/// A detected piece of personal data: `start..end` in CHARACTER offsets of
/// the scanned text (end exclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Span {
    /// What was found.
    pub kind: PiiKind,
    /// First character (inclusive).
    pub start: usize,
    /// Last character (exclusive).
    pub end: usize,
}

/// Values the record itself knows about its petitioner(s); always removed
/// from that record's text. Its `Debug` prints only counts.
#[derive(Default, Clone)]
pub struct KnownEntities {
    /// Full names.
    pub names: Vec<String>,
    /// Phone numbers (mobile or landline, any formatting).
    pub phones: Vec<String>,
    /// ID card numbers (any case/spacing).
    pub id_numbers: Vec<String>,
    /// Addresses (their below-county fragments are removed too).
    pub addresses: Vec<String>,
    /// E-mail addresses.
    pub emails: Vec<String>,
}

impl Drop for KnownEntities {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.names.zeroize();
        self.phones.zeroize();
        self.id_numbers.zeroize();
        self.addresses.zeroize();
        self.emails.zeroize();
    }
}

impl fmt::Debug for KnownEntities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KnownEntities")
            .field("names", &self.names.len())
            .field("phones", &self.phones.len())
            .field("id_numbers", &self.id_numbers.len())
            .field("addresses", &self.addresses.len())
            .field("emails", &self.emails.len())
            .finish()
    }
}

/// Result of [`Scanner::redact`]: the masked text and the spans that were
/// replaced (offsets refer to the ORIGINAL text).
#[derive(Debug, Clone, Serialize)]
pub struct Redacted {
    /// Masked text.
    pub text: String,
    /// Spans of the original text that were replaced.
    pub spans: Vec<Span>,
}

// ---------------------------------------------------------------------------
// Static tables
// ---------------------------------------------------------------------------

const SINGLE_SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬扈晁芮普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干尉冶斯元束檀衣展阴昝智幸奉植衡富尧闭";

const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "轩辕", "令狐", "独孤", "南宫", "西门", "端木", "百里", "呼延", "澹台", "公冶", "太史",
    "申屠", "钟离", "闻人", "赫连", "拓跋", "万俟", "司空", "东郭", "左丘", "第五",
];

/// Titles/forms of address that may follow a name or surname.
const TITLES: &[&str] = &[
    "先生",
    "女士",
    "小姐",
    "同志",
    "老师",
    "师傅",
    "书记",
    "副书记",
    "主任",
    "副主任",
    "局长",
    "副局长",
    "科长",
    "副科长",
    "镇长",
    "副镇长",
    "村长",
    "乡长",
    "县长",
    "副县长",
    "市长",
    "副市长",
    "区长",
    "副区长",
    "所长",
    "副所长",
    "处长",
    "副处长",
    "队长",
    "站长",
    "组长",
    "经理",
    "总经理",
    "律师",
    "医生",
    "警官",
    "院长",
    "校长",
    "厂长",
    "部长",
    "会计",
    "老板",
    "支书",
    "干事",
    "社长",
    "董事长",
    "主席",
];

/// Characters common in given names (used to accept names that jieba does
/// not tag as `nr`).
const GIVEN_CHARS: &str = "小伟芳娜敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建国志红玉文斌海燕晓东立新春梅林波辉宇鹏飞俊峰浩然子涵梓轩欣怡婷雪德福永庆光荣淑珍凤芝金花长江振宏卫爱秋菊学家豪思远少美玲晶琳琴云莉萍慧巧倩颖佳嘉鑫鸿博瑞祥龙虎彪凯锋彬宁安康健成功毅坚兵武威松柏森梁栋楠桐杨柳荷莲竹蓉芬蕾薇莹晴雯雨露霜冰清泉溪洪洋河湖川山岭岩石珠宝珍琪瑶璐瑾瑜琦璇莎妮娅婉婕娇媛姗妍娴婧嫣秀丹彤虹彩翠青蓝碧紫银铭锦钰钧鸣莺鹤雁翔腾跃耀晖旭昊晨曦阳亮朗月星辰宙天乾坤元亨利贞仁义礼智信忠孝廉勤俭诚恒久寿禄禧喜乐欢吉昌盛兴旺发达富贵夏冬桃李杏芙萱茜芸蕊芹苗茂蔚若念聪睿哲贤惠雅晗瀚广大中正和泰生民政治设树才良能力胜得起振作先进程悦馨香莲凤霖琛璋珏瑛琼瑗璟琰玮炜烨焕煜熙灿炎烽斐菲霏韵韬骏驰骁鹰彦昕昭晋景智晟晓皓曼朵娥妹姣姝婵嫦娣婷媚嫱蓓蕙薰芷苏莉菁萌萍葳蔓荔茗莺翎羽翊翼鹃鸾鹏鹂瑞祺禾秀穗稼程立章端竣笑筠箐简纯纬绮维缘罡群翔耿聚舒航良芃芊芮茵荟菡萝蓁蕾藻虹蝶裕诗诺谦豫贝赫超轩辰迪逸遥邦郁锐闯阔雄雅雨霄露静非韦顺颂飘馥驹骥魁鲲鹏麟黎鼎龄";

/// Characters that never occur in a given name (function words, time words).
const NOT_GIVEN_CHARS: &str = "去年月日在于的了是不没也都就多次有关部门这那个们我你他她它因所以被把对从到向和与及等说请已曾将会要能可";

/// Cues after which a name is certain (no plausibility checks needed).
const STRONG_CUES: &[&str] = &[
    "我叫",
    "姓名",
    "名叫",
    "叫做",
    "信访人",
    "申请人",
    "联系人",
    "反映人",
    "委托人",
    "代理人",
    "举报人",
    "投诉人",
    "当事人",
    "户主",
    "法定代表人",
    "法人代表",
    "承办人",
    "经办人",
];

/// Words that typically follow a person name (used to find where it ends).
const FOLLOW_WORDS: &[&str] = &[
    "系", "是", "在", "说", "的", "也", "已", "等", "曾", "将", "把", "被", "到", "对", "从", "和",
    "与", "因", "为", "于", "及", "男", "女", "现年", "今年", "多次", "可以", "一直", "已经",
    "经常", "长期", "先后", "反映", "表示", "称", "讲", "告诉", "威胁", "答应", "同意", "去世",
    "作证", "签字", "负责", "不", "没有", "并", "还", "又", "就", "都", "却", "向", "给", "让",
    "带", "找", "打", "拿", "来", "去", "住", "要", "带领", "一伙", "一家", "夫妇",
];

/// Words after which a name usually follows (matched on the raw text).
const NAME_CUES: &[&str] = &[
    "我叫",
    "我是",
    "本人",
    "姓名",
    "名叫",
    "叫做",
    "信访人",
    "申请人",
    "联系人",
    "反映人",
    "委托人",
    "代理人",
    "举报人",
    "投诉人",
    "当事人",
    "户主",
    "丈夫",
    "妻子",
    "爱人",
    "儿子",
    "女儿",
    "父亲",
    "母亲",
    "村民",
    "村支书",
    "支书",
    "书记",
    "主任",
    "村长",
    "镇长",
    "局长",
    "科长",
    "经理",
    "老板",
    "负责人",
    "法定代表人",
    "法人代表",
    "承办人",
    "经办人",
    "工作人员",
    "民警",
    "邻居",
    "同事",
    "老伴",
    "找",
    "跟",
    "和",
    "与",
    "同",
    "让",
    "给",
    "当天",
    "后来",
    "随后",
];

/// Jieba-tagged "names" that are really places, organs or common words.
const NAME_STOPLIST: &[&str] = &[
    "王府井",
    "张家港",
    "高新区",
    "信访局",
    "信访办",
    "万元",
    "高铁",
    "高速",
    "高楼",
    "高层",
    "高度",
    "黄金",
    "金额",
    "金融",
    "石油",
    "白天",
    "方面",
    "方式",
    "方案",
    "文件",
    "文明",
    "安全",
    "安置",
    "明确",
    "明显",
    "明年",
    "平安",
    "平台",
    "国家",
    "国土",
    "国务院",
    "华人",
    "宁可",
    "江湖",
    "海关",
    "海外",
    "海南",
    "温度",
    "常委",
    "常务",
    "常年",
    "宋体",
    "马上",
    "马路",
    "牛奶",
    "龙头",
    "林业",
    "农民",
    "农村",
    "农业",
    "农田",
    "钱款",
    "成本",
    "成立",
    "成功",
    "成员",
    "路上",
    "路边",
    "时间",
    "时候",
    "向前",
    "于是",
    "于今",
    "曾经",
    "任何",
    "任务",
    "付款",
    "包括",
    "连续",
    "连夜",
    "周边",
    "周末",
    "周围",
    "周年",
    "周岁",
    "陈述",
    "杨树",
    "章程",
    "程序",
    "关于",
    "关系",
    "关注",
    "管理",
    "司法",
    "公安",
    "公司",
    "公开",
    "公正",
    "公平",
    "公民",
    "公告",
    "公示",
    "公路",
    "东方",
    "上官",
    "党委",
    "党员",
    "党支部",
    "申请",
    "申诉",
    "解决",
    "解释",
    "谢谢",
    "项目",
    "简单",
    "戴帽",
    "房屋",
    "房子",
    "房产",
    "车辆",
    "车位",
    "邓小平",
    "毛泽东",
    "习近平",
    "江泽民",
    "胡锦涛",
    "周恩来",
    "卫生",
    "卫健委",
    "原告",
    "原因",
    "原来",
    "华为",
    "甘肃",
    "武汉",
    "黎明",
    "欧洲",
    "柏油",
    "商品房",
    "商量",
    "水平",
    "宁愿",
    "全部",
    "全体",
    "全家",
    "齐全",
    "施工",
    "苏州",
    "温州",
    "应当",
    "应该",
    "于某",
    "师范",
    "左右",
    "孔子",
    "包工头",
    "雷锋",
    "乐意",
    "强制",
    "强拆",
    "金水区",
    "邢台",
    "燕郊",
    "万家",
    "冷水",
    "海淀",
    "和平",
    "文三",
    "敬礼",
    "此致",
    "宁信复",
    "银行卡",
    "高兴",
    "林立",
    "平方",
    "平方米",
    "万元",
    "文化",
    "明白",
    "安排",
    "全面",
    "方便",
    "成都",
    "江苏",
];

/// Characters that end place/organisation names; a "name" ending with one of
/// these, or directly followed by one of these, is not a person.
const PLACE_END: &str = "省市区县镇乡村路街道巷弄局厅院所港湾州园苑府委办站庄井桥城场屯岗寨坪";

/// Characters that never occur inside an address component name.
const ADDR_STOP_CHARS: &str = "的了在住是被把于从到往对给让我你他她们这那该此有无不没也都就还又并而但说去来过着找要会能可将已曾请叫问等或个与及其因为向经由";

/// POS tags that may not occur inside an address component name.
fn bad_addr_tag(tag: &str) -> bool {
    matches!(
        tag,
        "p" | "c"
            | "d"
            | "r"
            | "t"
            | "q"
            | "x"
            | "y"
            | "e"
            | "o"
            | "uj"
            | "ul"
            | "uz"
            | "ug"
            | "uv"
            | "ud"
            | "u"
            | "ad"
            | "vd"
    )
}

/// Address component levels.
const LV_PROVINCE: u8 = 1;
const LV_CITY: u8 = 2;
const LV_COUNTY: u8 = 3;
const LV_TOWN: u8 = 4;
const LV_ROAD: u8 = 5;
const LV_COMMUNITY: u8 = 6;
const LV_NUMBER: u8 = 7;

const ADDR_SUFFIXES: &[(&str, u8)] = &[
    ("特别行政区", LV_PROVINCE),
    ("自治区", LV_PROVINCE),
    ("省", LV_PROVINCE),
    ("自治州", LV_CITY),
    ("地区", LV_CITY),
    ("市", LV_CITY),
    ("盟", LV_CITY),
    ("自治县", LV_COUNTY),
    ("新区", LV_COUNTY),
    ("区", LV_COUNTY),
    ("县", LV_COUNTY),
    ("旗", LV_COUNTY),
    ("街道", LV_TOWN),
    ("镇", LV_TOWN),
    ("乡", LV_TOWN),
    ("苏木", LV_TOWN),
    ("大街", LV_ROAD),
    ("大道", LV_ROAD),
    ("胡同", LV_ROAD),
    ("路", LV_ROAD),
    ("街", LV_ROAD),
    ("巷", LV_ROAD),
    ("弄", LV_ROAD),
    ("道", LV_ROAD),
    ("小区", LV_COMMUNITY),
    ("社区", LV_COMMUNITY),
    ("新村", LV_COMMUNITY),
    ("花园", LV_COMMUNITY),
    ("公寓", LV_COMMUNITY),
    ("大厦", LV_COMMUNITY),
    ("家园", LV_COMMUNITY),
    ("广场", LV_COMMUNITY),
    ("华庭", LV_COMMUNITY),
    ("名苑", LV_COMMUNITY),
    ("村", LV_COMMUNITY),
    ("苑", LV_COMMUNITY),
    ("屯", LV_COMMUNITY),
];

const NUM_SUFFIXES: &[&str] = &[
    "号院", "号楼", "号", "栋", "幢", "座", "单元", "楼", "层", "室", "户", "组", "排", "期", "区",
    "弄", "巷",
];

/// Words introducing an address; never part of it (原籍山东省… starts at 山东).
const ADDR_LEAD_WORDS: &[&str] = &[
    "原籍", "籍贯", "户籍", "地址", "住址", "住所", "位于", "家住", "现住", "老家", "居住", "住在",
    "地处",
];

/// Modifiers allowed between address components.
const ADDR_MODIFIERS: &[&str] = &[
    "东段", "西段", "南段", "北段", "中段", "东侧", "西侧", "南侧", "北侧", "之一", "之二", "附",
];

/// Organisation suffixes: an admin-only chain followed by one of these is a
/// unit name, not an address.
const ORG_SUFFIXES: &[&str] = &[
    "政府",
    "局",
    "委员会",
    "委",
    "法院",
    "检察院",
    "派出所",
    "办事处",
    "管委会",
    "办公室",
    "办",
    "中心",
    "医院",
    "公司",
    "学校",
    "大学",
    "中学",
    "小学",
    "银行",
    "厅",
    "所",
    "处",
    "站",
    "队",
    "监狱",
    "人大",
    "政协",
    "党委",
    "支行",
    "分行",
    "集团",
    "厂",
    "院",
];

const PROVINCE_CODES: &[u32] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 91,
];

const CREDIT_CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

// ---------------------------------------------------------------------------
// Scanner
// ---------------------------------------------------------------------------

/// The PII scanner. Construction loads the jieba dictionary (~100 ms): build
/// once and reuse, e.g. through [`Scanner::global`].
pub struct Scanner {
    jieba: Jieba,
    re_email: Regex,
    re_qq: Regex,
    re_wechat: Regex,
    re_plate: Regex,
    surnames: CharSet,
    given_chars: CharSet,
    addr_suffixes: Vec<(Vec<char>, u8)>,
    num_suffixes: Vec<Vec<char>>,
    /// First characters of the address and number suffixes: a position whose character
    /// is not among them cannot start one, so the lists are not walked there.
    addr_suffix_first: CharSet,
    num_suffix_first: CharSet,
    /// `addr_suffixes` / `num_suffixes` indexed by first character.
    addr_suffix_by_first: Vec<(char, Vec<usize>)>,
    num_suffix_by_first: Vec<(char, Vec<usize>)>,
    /// Last characters of the address suffixes (a token can only end with one if its
    /// last character is among them).
    addr_suffix_last: CharSet,
    compound_surnames: WordList,
    titles: WordList,
    /// The distinct title lengths, in the order of their first occurrence in `TITLES`.
    title_lens: Vec<usize>,
    follow_words: WordList,
    name_cues: WordList,
    name_stoplist: WordList,
    addr_modifiers: WordList,
    addr_lead_words: WordList,
    org_suffixes: WordList,
    place_end: CharSet,
    not_given_chars: CharSet,
    addr_stop_chars: CharSet,
    cn_numerals: CharSet,
}

/// A set of characters; membership is one bit test for the Basic Multilingual Plane.
struct CharSet {
    bmp: Vec<u64>,
    other: Vec<char>,
}

impl CharSet {
    fn new(chars: impl IntoIterator<Item = char>) -> CharSet {
        let mut bmp = vec![0u64; 0x10000 / 64];
        let mut other = Vec::new();
        for c in chars {
            let v = c as usize;
            if v < 0x10000 {
                bmp[v / 64] |= 1 << (v % 64);
            } else {
                other.push(c);
            }
        }
        other.sort_unstable();
        other.dedup();
        CharSet { bmp, other }
    }

    fn contains(&self, c: char) -> bool {
        let v = c as usize;
        if v < 0x10000 {
            self.bmp[v / 64] & (1 << (v % 64)) != 0
        } else {
            self.other.binary_search(&c).is_ok()
        }
    }

    /// Is `chars[pos]` in the set (false past the end)?
    fn at(&self, chars: &[char], pos: usize) -> bool {
        chars.get(pos).is_some_and(|&c| self.contains(c))
    }
}

/// A fixed list of words as characters, with the sets of their first and last
/// characters so most positions are rejected without walking the list. Lookups keep
/// the list order.
struct WordList {
    words: Vec<Vec<char>>,
    /// The words sorted, for exact membership.
    sorted: Vec<Vec<char>>,
    first: CharSet,
    last: CharSet,
    /// For each first character (sorted), the indices of the words starting with it,
    /// in list order.
    by_first: Vec<(char, Vec<usize>)>,
}

/// For each first character (sorted), the indices of the `words` starting with it, in
/// list order.
fn index_by_first<'a>(words: impl IntoIterator<Item = &'a [char]>) -> Vec<(char, Vec<usize>)> {
    let mut by_first: Vec<(char, Vec<usize>)> = Vec::new();
    for (i, w) in words.into_iter().enumerate() {
        let Some(&c) = w.first() else { continue };
        match by_first.binary_search_by_key(&c, |(f, _)| *f) {
            Ok(at) => by_first[at].1.push(i),
            Err(at) => by_first.insert(at, (c, vec![i])),
        }
    }
    by_first
}

/// The indices stored for `chars[pos]` in an [`index_by_first`] table (`first` holds
/// its keys, for a quick rejection).
fn bucket_at<'t>(
    first: &CharSet,
    by_first: &'t [(char, Vec<usize>)],
    chars: &[char],
    pos: usize,
) -> &'t [usize] {
    match chars.get(pos) {
        Some(&c) if first.contains(c) => by_first
            .binary_search_by_key(&c, |(f, _)| *f)
            .map_or(&[][..], |at| &by_first[at].1),
        _ => &[],
    }
}

impl WordList {
    fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> WordList {
        let words: Vec<Vec<char>> = words.into_iter().map(|w| w.chars().collect()).collect();
        let mut sorted = words.clone();
        sorted.sort_unstable();
        sorted.dedup();
        WordList {
            by_first: index_by_first(words.iter().map(Vec::as_slice)),
            first: CharSet::new(words.iter().filter_map(|w| w.first().copied())),
            last: CharSet::new(words.iter().filter_map(|w| w.last().copied())),
            words,
            sorted,
        }
    }

    /// The words that occur in `chars` at `pos`, in list order.
    fn at<'s>(&'s self, chars: &'s [char], pos: usize) -> impl Iterator<Item = &'s [char]> + 's {
        self.indices_at(chars, pos)
            .iter()
            .map(|&i| self.words[i].as_slice())
            .filter(move |w| starts_with_at(chars, pos, w))
    }

    /// The indices of the words whose first character is `chars[pos]`, in list order.
    fn indices_at(&self, chars: &[char], pos: usize) -> &[usize] {
        bucket_at(&self.first, &self.by_first, chars, pos)
    }

    /// Does any word occur in `chars` at `pos`?
    fn any_at(&self, chars: &[char], pos: usize) -> bool {
        self.at(chars, pos).next().is_some()
    }

    /// Does `chars` end with any word?
    fn any_suffix_of(&self, chars: &[char]) -> bool {
        chars.last().is_some_and(|&c| self.last.contains(c))
            && self
                .words
                .iter()
                .any(|w| w.len() <= chars.len() && eq_chars(&chars[chars.len() - w.len()..], w))
    }

    /// Is `w` exactly one of the words?
    fn contains(&self, w: &[char]) -> bool {
        self.first.at(w, 0)
            && self
                .sorted
                .binary_search_by(|x| x.as_slice().cmp(w))
                .is_ok()
    }
}

impl fmt::Debug for Scanner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scanner").finish_non_exhaustive()
    }
}

impl Default for Scanner {
    fn default() -> Self {
        Self::new()
    }
}

static GLOBAL: OnceLock<Scanner> = OnceLock::new();

/// A candidate span before overlap resolution.
#[derive(Debug, Clone, Copy)]
struct Cand {
    kind: PiiKind,
    start: usize,
    end: usize,
    known: bool,
}

/// A text prepared for scanning: original and ASCII-folded characters (1:1).
struct Prepared<'a> {
    orig: Vec<char>,
    norm: Vec<char>,
    norm_str: String,
    /// The last byte offset converted by [`Prepared::c`] and its char index: offsets
    /// are converted in ascending runs, so each conversion counts from the previous one.
    b2c_cursor: Cell<(usize, usize)>,
    tags: Vec<Tag<'a>>,
    /// char index -> index into `tags` of the token containing it
    tok_at: Vec<usize>,
}

impl Prepared<'_> {
    /// The char index of `byte`, a char boundary of `norm_str` (a match boundary).
    fn c(&self, byte: usize) -> usize {
        let (b0, c0) = match self.b2c_cursor.get() {
            (b0, c0) if b0 <= byte => (b0, c0),
            _ => (0, 0),
        };
        let c = c0 + self.norm_str[b0..byte].chars().count();
        self.b2c_cursor.set((byte, c));
        c
    }
    fn is_tok_start(&self, pos: usize) -> bool {
        pos >= self.orig.len()
            || self
                .tags
                .get(self.tok_at[pos])
                .is_some_and(|t| t.start == pos)
    }
    fn tag_at(&self, pos: usize) -> &str {
        self.tags
            .get(self.tok_at[pos])
            .map(|t| t.tag)
            .unwrap_or("x")
    }
}

/// Fold full-width ASCII, odd spaces and dashes to ASCII (one char to one char).
fn fold(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' | '\u{A0}' | '\u{2002}'..='\u{200A}' => ' ',
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}' => '-',
        _ => c,
    }
}

fn is_cjk(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c) || ('\u{3400}'..='\u{4DBF}').contains(&c)
}

/// Equality of two short character slices, compared in place (no `memcmp` call).
fn eq_chars(a: &[char], b: &[char]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

fn starts_with_at(chars: &[char], pos: usize, pat: &[char]) -> bool {
    pos <= chars.len()
        && pat.len() <= chars.len() - pos
        && eq_chars(&chars[pos..pos + pat.len()], pat)
}

fn find_all(hay: &[char], needle: &[char]) -> Vec<usize> {
    let mut out = Vec::new();
    if needle.is_empty() || needle.len() > hay.len() {
        return out;
    }
    for i in 0..=hay.len() - needle.len() {
        if hay[i] == needle[0] && eq_chars(&hay[i..i + needle.len()], needle) {
            out.push(i);
        }
    }
    out
}

impl Scanner {
    /// Build a scanner (loads the jieba dictionary; expensive).
    pub fn new() -> Scanner {
        let re = |p: &str| Regex::new(p).expect("static regex");
        let mut addr_suffixes: Vec<(Vec<char>, u8)> = ADDR_SUFFIXES
            .iter()
            .map(|(s, l)| (s.chars().collect(), *l))
            .collect();
        addr_suffixes.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
        let mut num_suffixes: Vec<Vec<char>> =
            NUM_SUFFIXES.iter().map(|s| s.chars().collect()).collect();
        num_suffixes.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Scanner {
            jieba: Jieba::new(),
            re_email: re(
                r"[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,10}",
            ),
            re_qq: re(r"(?i)(?:qq|扣扣|q号|企鹅号)[^0-9\n]{0,5}?([1-9][0-9]{4,10})"),
            re_wechat: re(
                r"(?i)(?:微信号|微信|weixin|wechat|wx|vx|v信)(?:号码|号|id)?[^A-Za-z0-9\n]{0,4}?([A-Za-z][A-Za-z0-9_-]{5,19})",
            ),
            re_plate: re(
                r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z][·•・ -]?([A-HJ-NP-Z0-9]{5,6})",
            ),
            surnames: CharSet::new(SINGLE_SURNAMES.chars()),
            given_chars: CharSet::new(GIVEN_CHARS.chars()),
            addr_suffix_first: CharSet::new(
                ADDR_SUFFIXES.iter().filter_map(|(s, _)| s.chars().next()),
            ),
            num_suffix_first: CharSet::new(NUM_SUFFIXES.iter().filter_map(|s| s.chars().next())),
            addr_suffix_last: CharSet::new(
                ADDR_SUFFIXES.iter().filter_map(|(s, _)| s.chars().last()),
            ),
            compound_surnames: WordList::new(COMPOUND_SURNAMES.iter().copied()),
            titles: WordList::new(TITLES.iter().copied()),
            title_lens: {
                let mut lens: Vec<usize> = Vec::new();
                for t in TITLES {
                    let l = t.chars().count();
                    if !lens.contains(&l) {
                        lens.push(l);
                    }
                }
                lens
            },
            follow_words: WordList::new(FOLLOW_WORDS.iter().copied()),
            name_cues: WordList::new(NAME_CUES.iter().copied()),
            name_stoplist: WordList::new(NAME_STOPLIST.iter().copied()),
            addr_modifiers: WordList::new(ADDR_MODIFIERS.iter().copied()),
            addr_lead_words: WordList::new(ADDR_LEAD_WORDS.iter().copied()),
            org_suffixes: WordList::new(ORG_SUFFIXES.iter().copied()),
            place_end: CharSet::new(PLACE_END.chars()),
            not_given_chars: CharSet::new(NOT_GIVEN_CHARS.chars()),
            addr_stop_chars: CharSet::new(ADDR_STOP_CHARS.chars()),
            cn_numerals: CharSet::new("零〇一二三四五六七八九十百两甲乙丙丁".chars()),
            addr_suffix_by_first: index_by_first(addr_suffixes.iter().map(|(s, _)| s.as_slice())),
            num_suffix_by_first: index_by_first(num_suffixes.iter().map(Vec::as_slice)),
            addr_suffixes,
            num_suffixes,
        }
    }

    /// Process-wide shared scanner (built on first use).
    pub fn global() -> &'static Scanner {
        GLOBAL.get_or_init(Scanner::new)
    }

    /// Find PII in `text`. Returns sorted, non-overlapping spans in char
    /// offsets. Values in `known` are always reported wherever they occur.
    pub fn scan(&self, text: &str, known: &KnownEntities) -> Vec<Span> {
        let p = self.prepare(text);
        let mut c = Vec::with_capacity(32);
        self.detect_numbers(&p, known, &mut c);
        self.detect_regexes(&p, &mut c);
        self.detect_alnum_tokens(&p, &mut c);
        self.detect_names(&p, &mut c);
        self.detect_addresses(&p, &mut c);
        self.detect_known(&p, known, &mut c);
        resolve(c, p.orig.len())
    }

    /// Scan `text` and replace every span with its mask at `level`.
    pub fn redact(&self, text: &str, level: Level, known: &KnownEntities) -> Redacted {
        let spans = self.scan(text, known);
        let mut chars = text.chars();
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        for s in &spans {
            out.extend(chars.by_ref().take(s.start - pos));
            let value: String = chars.by_ref().take(s.end - s.start).map(fold).collect();
            out.push_str(&mask_value(s.kind, &value, level));
            pos = s.end;
        }
        out.extend(chars);
        Redacted { text: out, spans }
    }

    fn prepare<'a>(&'a self, text: &'a str) -> Prepared<'a> {
        let mut orig: Vec<char> = Vec::with_capacity(text.len());
        orig.extend(text.chars());
        let norm: Vec<char> = orig.iter().map(|&c| fold(c)).collect();
        let norm_str = if norm == orig {
            text.to_owned()
        } else {
            // folding maps one char to one char of at most the same UTF-8 length
            let mut s = String::with_capacity(text.len());
            s.extend(&norm);
            s
        };
        let tags = self.jieba.tag(text, true);
        let mut tok_at = vec![usize::MAX; orig.len()];
        for (ti, t) in tags.iter().enumerate() {
            for slot in tok_at.iter_mut().take(t.end.min(orig.len())).skip(t.start) {
                *slot = ti;
            }
        }
        Prepared {
            orig,
            norm,
            norm_str,
            b2c_cursor: Cell::new((0, 0)),
            tags,
            tok_at,
        }
    }

    // ----------------------------------------------------------- numbers --

    fn detect_numbers(&self, p: &Prepared, known: &KnownEntities, out: &mut Vec<Cand>) {
        let runs = digit_runs(&p.norm);
        if runs.is_empty() {
            return;
        }
        let (known_phones, known_ids) = known_number_sets(known);
        for run in runs {
            let g = &run.groups;
            // known values: every contiguous combination of groups
            if !known_phones.is_empty() || !known_ids.is_empty() {
                for i in 0..g.len() {
                    let mut digits = String::new();
                    for j in i..g.len() {
                        digits.extend(&p.norm[g[j].start..g[j].end]);
                        if digits.len() > 24 {
                            break;
                        }
                        let d = digits.to_ascii_uppercase();
                        let start = if i == 0 {
                            run.lead.unwrap_or(g[0].start)
                        } else {
                            g[i].start
                        };
                        if known_ids.contains(&d) {
                            out.push(Cand {
                                kind: PiiKind::IdNumber,
                                start: g[i].start,
                                end: g[j].end,
                                known: true,
                            });
                        } else if let Some(kind) =
                            known_phones.iter().find_map(|k| phone_matches(k, &d))
                        {
                            out.push(Cand {
                                kind,
                                start,
                                end: g[j].end,
                                known: true,
                            });
                        }
                    }
                }
            }
            // detectors: greedy, longest combination first
            let mut i = 0;
            while i < g.len() {
                let mut matched = None;
                let mut total = 0;
                let mut upto = i;
                while upto < g.len() && total + g[upto].ndig <= 24 {
                    total += g[upto].ndig;
                    upto += 1;
                }
                for j in (i..upto).rev() {
                    let digits: String = (i..=j)
                        .flat_map(|k| p.norm[g[k].start..g[k].end].iter())
                        .map(|c| c.to_ascii_uppercase())
                        .collect();
                    let lead = if i == 0 { run.lead } else { None };
                    let plus = lead.is_some_and(|l| p.norm[l] == '+');
                    if let Some(kind) = classify_number(&digits, plus).filter(|&k| {
                        !(matches!(k, PiiKind::Landline | PiiKind::BankCard)
                            || (k == PiiKind::IdNumber && digits.len() == 15))
                            || !negative_cue_before(&p.orig, g[i].start)
                    }) {
                        let start = match (lead, kind) {
                            (Some(l), PiiKind::Mobile) if plus => l,
                            (Some(l), PiiKind::Landline) => l,
                            _ => g[i].start,
                        };
                        out.push(Cand {
                            kind,
                            start,
                            end: g[j].end,
                            known: false,
                        });
                        matched = Some(j);
                        break;
                    }
                }
                i = matched.map_or(i + 1, |j| j + 1);
            }
        }
    }

    // ----------------------------------------------------------- regexes --

    fn detect_regexes(&self, p: &Prepared, out: &mut Vec<Cand>) {
        let n = p.norm.len();
        let alnum = |i: usize| i < n && p.norm[i].is_ascii_alphanumeric();
        // Each regex needs a character that many texts lack: an e-mail an `@`, a QQ cue
        // `q`/`扣`/`企`, a WeChat cue `w`/`v`/`微`, a plate an ASCII capital. Without it
        // the regex cannot match, so it is not run.
        let (mut at_sign, mut qq_cue, mut wx_cue, mut upper) = (false, false, false, false);
        for &c in &p.norm {
            at_sign |= c == '@';
            qq_cue |= matches!(c, 'q' | 'Q' | '扣' | '企');
            wx_cue |= matches!(c, 'w' | 'W' | 'v' | 'V' | '微');
            upper |= c.is_ascii_uppercase();
        }
        for m in self
            .re_email
            .find_iter(&p.norm_str)
            .take(if at_sign { usize::MAX } else { 0 })
        {
            out.push(Cand {
                kind: PiiKind::Email,
                start: p.c(m.start()),
                end: p.c(m.end()),
                known: false,
            });
        }
        for caps in self
            .re_qq
            .captures_iter(&p.norm_str)
            .take(if qq_cue { usize::MAX } else { 0 })
        {
            let (Some(all), Some(m)) = (caps.get(0), caps.get(1)) else {
                continue;
            };
            // converted in ascending order, so each conversion counts on from the last
            let cue_start = p.c(all.start());
            let (s, e) = (p.c(m.start()), p.c(m.end()));
            if e < n && p.norm[e].is_ascii_digit() {
                continue;
            }
            if cue_start > 0 && p.norm[cue_start - 1].is_ascii_alphabetic() {
                continue;
            }
            out.push(Cand {
                kind: PiiKind::Qq,
                start: s,
                end: e,
                known: false,
            });
        }
        for caps in
            self.re_wechat
                .captures_iter(&p.norm_str)
                .take(if wx_cue { usize::MAX } else { 0 })
        {
            let (Some(all), Some(m)) = (caps.get(0), caps.get(1)) else {
                continue;
            };
            // converted in ascending order, so each conversion counts on from the last
            let cue_start = p.c(all.start());
            let (s, e) = (p.c(m.start()), p.c(m.end()));
            if e < n
                && (p.norm[e].is_ascii_alphanumeric() || matches!(p.norm[e], '_' | '-' | '@' | '.'))
            {
                continue;
            }
            if cue_start > 0 && p.norm[cue_start - 1].is_ascii_alphabetic() {
                continue;
            }
            out.push(Cand {
                kind: PiiKind::Wechat,
                start: s,
                end: e,
                known: false,
            });
        }
        for caps in
            self.re_plate
                .captures_iter(&p.norm_str)
                .take(if upper { usize::MAX } else { 0 })
        {
            let (Some(all), Some(tail)) = (caps.get(0), caps.get(1)) else {
                continue;
            };
            let (s, e) = (p.c(all.start()), p.c(all.end()));
            if alnum(e) {
                continue;
            }
            let t = tail.as_str().as_bytes();
            let digits = t.iter().filter(|b| b.is_ascii_digit()).count();
            let ok = if t.len() == 6 {
                digits == 5 && (matches!(t[0], b'D' | b'F') || matches!(t[5], b'D' | b'F'))
            } else {
                digits >= 3
            };
            if ok {
                out.push(Cand {
                    kind: PiiKind::Plate,
                    start: s,
                    end: e,
                    known: false,
                });
            }
        }
    }

    fn detect_alnum_tokens(&self, p: &Prepared, out: &mut Vec<Cand>) {
        // the maximal runs of `[0-9A-Za-z]` (what the regex `[0-9A-Za-z]+` finds), walked by hand
        let b = p.norm_str.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if !b[i].is_ascii_alphanumeric() {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && b[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let t = &p.norm_str[start..i];
            let kind = if is_passport(t) {
                PiiKind::Passport
            } else if is_permit(t) {
                PiiKind::HkMacauPermit
            } else if is_credit_code(t) {
                PiiKind::CreditCode
            } else {
                continue;
            };
            out.push(Cand {
                kind,
                start: p.c(start),
                end: p.c(i),
                known: false,
            });
        }
    }

    // ------------------------------------------------------------- names --

    fn surname_len(&self, chars: &[char]) -> Option<usize> {
        if chars.len() >= 2 && self.compound_surnames.any_at(chars, 0) {
            return Some(2);
        }
        chars
            .first()
            .filter(|&&c| self.surnames.contains(c))
            .map(|_| 1)
    }

    fn is_bare_surname(&self, w: &[char]) -> bool {
        self.surname_len(w) == Some(w.len())
    }

    fn valid_name(&self, w: &[char]) -> bool {
        if !(2..=4).contains(&w.len()) || !w.iter().all(|&c| is_cjk(c)) || w.contains(&'某') {
            return false;
        }
        let Some(k) = self.surname_len(w) else {
            return false;
        };
        let given = w.len() - k;
        if !(1..=2).contains(&given) || self.titles.any_at(w, k) {
            return false;
        }
        if self.place_end.contains(w[w.len() - 1]) {
            return false;
        }
        !self.name_stoplist.contains(w)
    }

    /// A name candidate may not be glued to a following place suffix or `某`.
    fn name_followed_ok(&self, p: &Prepared, end: usize) -> bool {
        match p.orig.get(end) {
            Some(&c) => {
                !self.place_end.contains(c) && c != '某' && c != '家'
                    || self.titles.any_at(&p.orig, end)
            }
            None => true,
        }
    }

    /// Is `w` a dictionary word that jieba does not consider a person name?
    fn dict_non_name(&self, w: &[char]) -> bool {
        let s: String = w.iter().collect();
        if !self.jieba.has_word(&s) {
            return false;
        }
        let t = self.jieba.tag(&s, false);
        t.len() == 1 && !matches!(t[0].tag, "nr" | "nrfg" | "nrt")
    }

    /// Are all given-name characters (after the surname) common in names?
    fn given_plausible(&self, w: &[char]) -> bool {
        let k = self.surname_len(w).unwrap_or(1);
        w[k..].iter().all(|&c| self.given_chars.contains(c))
    }

    /// Does a name plausibly end at `e` (end of text, punctuation, title,
    /// or a word that typically follows a name)?
    fn strong_end(&self, chars: &[char], e: usize) -> bool {
        e >= chars.len()
            || !is_cjk(chars[e])
            || self.titles.any_at(chars, e)
            || self.follow_words.any_at(chars, e)
    }

    /// Pick the extent of a name starting at `s` (surname length `k`).
    /// After a strong cue (`我叫`, `姓名：`) any given-name characters except
    /// function words are accepted; otherwise they must look like a name and
    /// the candidate must not be a common dictionary word.
    fn name_extent(&self, p: &Prepared, s: usize, k: usize, strong: bool) -> Option<usize> {
        let chars = &p.orig;
        let n = chars.len();
        let ok = |e: usize| {
            e <= n
                && chars[s..e].iter().all(|&c| is_cjk(c))
                && self.valid_name(&chars[s..e])
                && self.name_followed_ok(p, e)
                && if strong {
                    !chars[s + k..e]
                        .iter()
                        .any(|&c| self.not_given_chars.contains(c))
                } else {
                    self.given_plausible(&chars[s..e])
                        && !(e - s == 2 && self.dict_non_name(&chars[s..e]))
                }
        };
        let (e2, e3) = (s + k + 1, s + k + 2);
        // `ok` is pure: each end is checked at most once
        let (mut ok2, mut ok3) = (None, None);
        if *ok3.get_or_insert_with(|| ok(e3)) && self.strong_end(chars, e3) {
            return Some(e3);
        }
        if *ok2.get_or_insert_with(|| ok(e2)) && self.strong_end(chars, e2) {
            return Some(e2);
        }
        if *ok3.get_or_insert_with(|| ok(e3)) && p.is_tok_start(e3) && !p.is_tok_start(e2) {
            return Some(e3);
        }
        if *ok2.get_or_insert_with(|| ok(e2)) && p.is_tok_start(e2) {
            return Some(e2);
        }
        None
    }

    fn detect_names(&self, p: &Prepared, out: &mut Vec<Cand>) {
        let tags = &p.tags;
        let chars = &p.orig;
        let push = |out: &mut Vec<Cand>, s: usize, e: usize| {
            out.push(Cand {
                kind: PiiKind::Name,
                start: s,
                end: e,
                known: false,
            });
        };
        let is_nr = |t: &str| matches!(t, "nr" | "nrfg" | "nrt");
        for (i, t) in tags.iter().enumerate() {
            // a token's characters are `chars[t.start..t.end]` (jieba's char offsets)
            let w: &[char] = &chars[t.start..t.end];
            // R1: tokens tagged as person names
            if is_nr(t.tag) {
                if let Some(&tl) = self
                    .title_lens
                    .iter()
                    .find(|&&tl| w.len() > tl && self.titles.contains(&w[w.len() - tl..]))
                {
                    let name = &w[..w.len() - tl];
                    if self.is_bare_surname(name) || self.valid_name(name) {
                        push(out, t.start, t.start + name.len());
                    }
                    continue;
                }
                if self.valid_name(w) && self.name_followed_ok(p, t.end) {
                    push(out, t.start, t.end);
                    continue;
                }
            }
            // R2: a standalone surname token followed by a given name
            if self.is_bare_surname(w)
                && !matches!(t.tag, "p" | "c" | "uj" | "ul" | "q")
                && let Some(u) = tags.get(i + 1)
            {
                let uw: &[char] = &chars[u.start..u.end];
                let joined: Vec<char>;
                let full: &[char] = if u.start == t.end {
                    &chars[t.start..u.end]
                } else {
                    joined = [w, uw].concat();
                    &joined
                };
                let plausible = (is_nr(u.tag) || self.given_plausible(full))
                    && (is_nr(t.tag) || is_nr(u.tag) || self.strong_end(chars, u.end));
                if (1..=2).contains(&uw.len())
                    && plausible
                    && self.valid_name(full)
                    && self.name_followed_ok(p, u.end)
                    && !self.dict_non_name(full)
                {
                    push(out, t.start, u.end);
                    continue;
                }
            }
            // R4: title tokens preceded by a surname / name
            if i > 0 && self.titles.contains(w) {
                let pt = &tags[i - 1];
                let pw: &[char] = &chars[pt.start..pt.end];
                let after_de = pt.start > 0 && chars[pt.start - 1] == '的';
                let polite =
                    matches!(t.word, "先生" | "女士" | "小姐") && chars.get(t.end) != Some(&'们');
                let lone_surname = self.is_bare_surname(pw)
                    && (!matches!(pt.tag, "p" | "c" | "uj") || after_de || polite);
                if lone_surname || (is_nr(pt.tag) && self.valid_name(pw)) {
                    push(out, pt.start, pt.end);
                } else if i >= 2 && (1..=2).contains(&pw.len()) {
                    let pp = &tags[i - 2];
                    let ppw: &[char] = &chars[pp.start..pp.end];
                    let joined: Vec<char>;
                    let full: &[char] = if pt.start == pp.end {
                        &chars[pp.start..pt.end]
                    } else {
                        joined = [ppw, pw].concat();
                        &joined
                    };
                    if self.is_bare_surname(ppw)
                        && !matches!(pp.tag, "p" | "c" | "uj")
                        && self.valid_name(full)
                        && (is_nr(pt.tag) || self.given_plausible(full))
                        && !self.dict_non_name(full)
                    {
                        push(out, pp.start, pt.end);
                    }
                }
            }
        }
        // R5: a name standing alone after punctuation (：何国强，)
        for s in 0..chars.len() {
            let after_punct = s == 0
                || matches!(
                    chars[s - 1],
                    '：' | ':'
                        | '，'
                        | ','
                        | '。'
                        | '、'
                        | '；'
                        | ';'
                        | '\n'
                        | '！'
                        | '？'
                        | '!'
                        | '?'
                        | '（'
                        | '('
                        | '“'
                        | '"'
                        | ' '
                );
            if !after_punct {
                continue;
            }
            let Some(k) = self.surname_len(&chars[s..]) else {
                continue;
            };
            let n = chars.len();
            for e in [s + k + 2, s + k + 1] {
                if e <= n
                    && chars[s..e].iter().all(|&c| is_cjk(c))
                    && self.strong_end(chars, e)
                    && self.valid_name(&chars[s..e])
                    && self.name_followed_ok(p, e)
                    && self.given_plausible(&chars[s..e])
                    && !(e - s == 2 && self.dict_non_name(&chars[s..e]))
                {
                    push(out, s, e);
                    break;
                }
            }
        }
        // R3: cue words followed by a name
        for at in 0..chars.len() {
            for &ci in self.name_cues.indices_at(chars, at) {
                let (cue, cue_chars) = (&NAME_CUES[ci], &self.name_cues.words[ci]);
                if !starts_with_at(chars, at, cue_chars) {
                    continue;
                }
                let mut s = at + cue_chars.len();
                while s < chars.len()
                    && matches!(p.norm[s], ':' | ' ' | '(' | '"' | '“' | '「' | '”')
                {
                    s += 1;
                }
                let Some(k) = self.surname_len(&chars[s..]) else {
                    continue;
                };
                if let Some(e) = self.name_extent(p, s, k, STRONG_CUES.contains(cue)) {
                    push(out, s, e);
                }
            }
        }
    }

    // --------------------------------------------------------- addresses --

    fn match_addr_suffix(&self, chars: &[char], pos: usize) -> Option<(usize, u8)> {
        if !self.addr_suffix_first.at(chars, pos) {
            return None;
        }
        bucket_at(
            &self.addr_suffix_first,
            &self.addr_suffix_by_first,
            chars,
            pos,
        )
        .iter()
        .map(|&i| &self.addr_suffixes[i])
        .find(|(s, _)| starts_with_at(chars, pos, s))
        .map(|(s, l)| (s.len(), *l))
    }

    fn match_num_suffix(&self, chars: &[char], pos: usize) -> Option<usize> {
        if !self.num_suffix_first.at(chars, pos) {
            return None;
        }
        bucket_at(
            &self.num_suffix_first,
            &self.num_suffix_by_first,
            chars,
            pos,
        )
        .iter()
        .map(|&i| &self.num_suffixes[i])
        .find(|s| starts_with_at(chars, pos, s))
        .map(|s| s.len())
    }

    /// Parse one address component at `pos`: returns (end, level, bare).
    fn addr_component(&self, p: &Prepared, pos: usize, first: bool) -> Option<(usize, u8, bool)> {
        let n = p.orig.len();
        let chars = &p.orig;
        // number + number suffix (3栋, 501室, 七组, A座, 3-2-501室)
        let is_num = |c: char| {
            c.is_ascii_digit() || self.cn_numerals.contains(c) || c.is_ascii_uppercase() || c == '-'
        };
        let mut j = pos;
        while j < n && j - pos < 8 && is_num(p.norm[j]) {
            j += 1;
        }
        if j > pos && p.norm[pos] != '-' {
            let ascii = p.norm[pos..j].iter().any(char::is_ascii_alphanumeric);
            if let Some(l) = self
                .match_num_suffix(chars, j)
                .filter(|_| ascii || chars[j] != '区')
            {
                return Some((j + l, LV_NUMBER, false));
            }
            // bare room number right after 单元/栋/号楼 (…3单元502)
            let digits = p.norm[pos..j].iter().all(char::is_ascii_digit);
            let after_unit = pos >= 2 && matches!(chars[pos - 1], '元' | '栋' | '幢' | '楼' | '座');
            if !first
                && digits
                && (3..=4).contains(&(j - pos))
                && after_unit
                && !(j < n && p.norm[j].is_ascii_alphanumeric())
            {
                return Some((j, LV_NUMBER, false));
            }
        }
        if pos >= n || !is_cjk(chars[pos]) {
            return None;
        }
        // a bare suffix continuing the previous component (中关村|大街)
        if !first {
            if let Some((l, lv)) = self.match_addr_suffix(chars, pos) {
                return Some((pos + l, lv, true));
            }
            if let Some(m) = self.addr_modifiers.at(chars, pos).next() {
                return Some((pos + m.len(), 0, true));
            }
        }
        // a whole jieba place token ending with a suffix (于都县, 建设路)
        if let Some(t) = p
            .tags
            .get(p.tok_at[pos])
            .filter(|t| t.start == pos && t.end - t.start >= 2)
            && matches!(t.tag, "ns" | "nz" | "nt" | "nr")
            && self.addr_suffix_last.contains(chars[t.end - 1])
        {
            for (suf, lv) in &self.addr_suffixes {
                let min_name = if *lv == LV_COMMUNITY { 1 } else { 2 };
                if t.end >= pos + suf.len() + min_name
                    && starts_with_at(chars, t.end - suf.len(), suf)
                {
                    return Some((t.end, *lv, false));
                }
            }
        }
        // name + suffix
        if first {
            if !p.is_tok_start(pos) {
                return None;
            }
            let tg = p.tag_at(pos);
            if bad_addr_tag(tg) || matches!(tg, "v" | "m" | "f" | "vn") {
                return None;
            }
        }
        for q in pos + 1..=(pos + 9).min(n) {
            let c = chars[q - 1];
            if !is_cjk(c) || self.addr_stop_chars.contains(c) {
                return None;
            }
            if q >= n {
                return None;
            }
            let Some((l, lv)) = self.match_addr_suffix(chars, q) else {
                continue;
            };
            let name_len = q - pos;
            if name_len < 2 && (first || lv <= LV_TOWN) {
                continue;
            }
            // no function-word tokens fully inside the name part
            let mut x = pos;
            let mut ok = true;
            while x < q {
                let ti = p.tok_at[x];
                let Some(t) = p.tags.get(ti) else { break };
                if t.end <= q && bad_addr_tag(t.tag) {
                    ok = false;
                    break;
                }
                x = t.end.max(x + 1);
            }
            if !ok {
                return None;
            }
            return Some((q + l, lv, false));
        }
        None
    }

    fn detect_addresses(&self, p: &Prepared, out: &mut Vec<Cand>) {
        let n = p.orig.len();
        let mut cursor = 0;
        let starts: Vec<usize> = p.tags.iter().map(|t| t.start).collect();
        for (ti, s) in starts.into_iter().enumerate() {
            let t = &p.tags[ti];
            if s < cursor || self.addr_lead_words.contains(&p.orig[t.start..t.end]) {
                continue;
            }
            let mut pos = s;
            let mut levels = Vec::new();
            while pos < n {
                match self.addr_component(p, pos, levels.is_empty()) {
                    Some((e, lv, bare)) => {
                        if !bare {
                            levels.push(lv);
                        } else if levels.is_empty() {
                            break;
                        }
                        pos = e;
                    }
                    None => break,
                }
            }
            let count = levels.len();
            let has_road = levels.iter().any(|&l| l == LV_ROAD || l == LV_COMMUNITY);
            let has_num = levels.contains(&LV_NUMBER);
            if count >= 2 || (has_road && has_num) {
                let admin_only = levels.iter().all(|&l| l <= LV_TOWN);
                if !has_num && self.org_follows(p, pos, admin_only) {
                    cursor = pos;
                    continue;
                }
                out.push(Cand {
                    kind: PiiKind::Address,
                    start: s,
                    end: pos,
                    known: false,
                });
                cursor = pos;
            }
        }
    }

    /// Is the chain ending at `end` the head of an organisation name?
    fn org_follows(&self, p: &Prepared, end: usize, admin_only: bool) -> bool {
        let chars = &p.orig;
        // the chain itself may end with an org word (…街道 followed by 办事处)
        let win = &chars[end.min(chars.len())..(end + 12).min(chars.len())];
        for (i, &c) in win.iter().enumerate() {
            if !is_cjk(c)
                || matches!(c, '的' | '在' | '是' | '被' | '和' | '与' | '向') && !admin_only
            {
                break;
            }
            if matches!(c, '的' | '在' | '是' | '被' | '向') {
                break;
            }
            if self.org_suffixes.any_suffix_of(&win[..=i]) {
                return true;
            }
        }
        false
    }

    // ------------------------------------------------------------- known --

    fn detect_known(&self, p: &Prepared, known: &KnownEntities, out: &mut Vec<Cand>) {
        for name in &known.names {
            let nc: Vec<char> = name.trim().chars().collect();
            if nc.len() >= 2 {
                for at in find_all(&p.orig, &nc) {
                    out.push(Cand {
                        kind: PiiKind::Name,
                        start: at,
                        end: at + nc.len(),
                        known: true,
                    });
                }
            }
            if let Some(k) = self.surname_len(&nc).filter(|&k| k < nc.len()) {
                // surname + title: the surname's occurrences, then each title after them
                let surname_at = find_all(&p.orig, &nc[..k]);
                for title in [
                    ['先', '生'],
                    ['女', '士'],
                    ['同', '志'],
                    ['老', '师'],
                    ['师', '傅'],
                    ['小', '姐'],
                ] {
                    for &at in surname_at
                        .iter()
                        .filter(|&&at| starts_with_at(&p.orig, at + k, &title))
                    {
                        out.push(Cand {
                            kind: PiiKind::Name,
                            start: at,
                            end: at + k,
                            known: true,
                        });
                    }
                }
            }
        }
        if known.emails.is_empty() {
            return self.detect_known_addresses(p, known, out);
        }
        let lower: Vec<char> = p.norm.iter().map(|c| c.to_ascii_lowercase()).collect();
        for email in &known.emails {
            let ec: Vec<char> = email
                .trim()
                .chars()
                .map(|c| fold(c).to_ascii_lowercase())
                .collect();
            if ec.len() >= 3 {
                for at in find_all(&lower, &ec) {
                    out.push(Cand {
                        kind: PiiKind::Email,
                        start: at,
                        end: at + ec.len(),
                        known: true,
                    });
                }
            }
        }
        self.detect_known_addresses(p, known, out);
    }

    fn detect_known_addresses(&self, p: &Prepared, known: &KnownEntities, out: &mut Vec<Cand>) {
        for addr in &known.addresses {
            let (chars, frags) = self.address_fragments(addr);
            // After the full address, fragments come grouped by start with growing ends:
            // a group's first fragment is a prefix of the others, so its occurrences are
            // found once and the others are checked only there.
            let mut group: Option<(usize, Vec<usize>)> = None;
            for (i, &(s, e)) in frags.iter().enumerate() {
                let frag = &chars[s..e];
                let hits: Vec<usize> = match &group {
                    Some((gs, occ)) if i > 0 && *gs == s => occ
                        .iter()
                        .copied()
                        .filter(|&at| starts_with_at(&p.norm, at, frag))
                        .collect(),
                    _ => {
                        let occ = find_all(&p.norm, frag);
                        if i > 0 {
                            group = Some((s, occ.clone()));
                        }
                        occ
                    }
                };
                for at in hits {
                    out.push(Cand {
                        kind: PiiKind::Address,
                        start: at,
                        end: at + frag.len(),
                        known: true,
                    });
                }
            }
        }
    }

    /// The full address plus every run of below-county units of >= 4 chars, as ranges
    /// of the folded address (returned first).
    fn address_fragments(&self, addr: &str) -> (Vec<char>, Vec<(usize, usize)>) {
        let mut chars: Vec<char> = Vec::with_capacity(addr.len());
        chars.extend(addr.trim().chars().map(fold).filter(|c| !c.is_whitespace()));
        let mut out = Vec::with_capacity(16);
        if chars.len() < 2 {
            return (chars, out);
        }
        out.push((0, chars.len()));
        // split after each suffix
        let mut units: Vec<(usize, usize, u8)> = Vec::with_capacity(16);
        let mut start = 0;
        let mut i = 0;
        while i < chars.len() {
            let hit = self
                .match_addr_suffix(&chars, i)
                .filter(|_| i > start)
                .or_else(|| {
                    self.match_num_suffix(&chars, i)
                        .filter(|_| i > start)
                        .map(|l| (l, LV_NUMBER))
                });
            if let Some((l, lv)) = hit {
                units.push((start, i + l, lv));
                i += l;
                start = i;
            } else {
                i += 1;
            }
        }
        if start < chars.len() {
            units.push((start, chars.len(), LV_COMMUNITY));
        }
        let county = units.iter().rposition(|&(_, _, lv)| lv <= LV_COUNTY);
        let first_below = county.map_or(0, |c| c + 1);
        for a in first_below..units.len() {
            for b in a..units.len() {
                let (s, e) = (units[a].0, units[b].1);
                if e - s >= 4 && (s, e) != (0, chars.len()) {
                    out.push((s, e));
                }
            }
        }
        (chars, out)
    }
}

fn mask_value(kind: PiiKind, value: &str, level: Level) -> String {
    match kind {
        PiiKind::Name => mask::mask_name(value, level),
        PiiKind::Address => mask::mask_address(value, level),
        PiiKind::IdNumber => mask::mask_id_number(value, level),
        PiiKind::Mobile => mask::mask_mobile(value, level),
        PiiKind::Landline => mask::mask_landline(value, level),
        PiiKind::BankCard => mask::mask_bank_card(value, level),
        PiiKind::Email => mask::mask_email(value, level),
        PiiKind::Plate => mask::mask_plate(value, level),
        PiiKind::Qq
        | PiiKind::Wechat
        | PiiKind::CreditCode
        | PiiKind::Passport
        | PiiKind::HkMacauPermit => match level {
            Level::Standard => {
                let head: String = value.chars().take(2).collect();
                let rest = value.chars().count().saturating_sub(2);
                format!("{head}{}", "*".repeat(rest))
            }
            Level::Publication => "[已删除]".to_string(),
        },
    }
}

/// Greedy overlap resolution: merge same-kind overlaps (touching addresses
/// too), then longer spans win, then known values, then kind priority.
fn resolve(mut c: Vec<Cand>, n: usize) -> Vec<Span> {
    c.retain(|x| x.start < x.end && x.end <= n);
    c.sort_by_key(|x| (x.kind.priority(), x.start, std::cmp::Reverse(x.end)));
    let mut merged: Vec<Cand> = Vec::with_capacity(c.len());
    for x in c {
        if let Some(last) = merged.last_mut() {
            let touch = if x.kind == PiiKind::Address {
                x.start <= last.end
            } else {
                x.start < last.end
            };
            if last.kind == x.kind && touch {
                last.end = last.end.max(x.end);
                last.known |= x.known;
                continue;
            }
        }
        merged.push(x);
    }
    merged.sort_by_key(|x| {
        (
            std::cmp::Reverse(x.end - x.start),
            std::cmp::Reverse(x.known),
            std::cmp::Reverse(x.kind.priority()),
            x.start,
        )
    });
    let mut taken = vec![false; n];
    let mut spans = Vec::new();
    for x in merged {
        if taken[x.start..x.end].iter().any(|&t| t) {
            continue;
        }
        taken[x.start..x.end].iter_mut().for_each(|t| *t = true);
        spans.push(Span {
            kind: x.kind,
            start: x.start,
            end: x.end,
        });
    }
    spans.sort_by_key(|s| s.start);
    spans
}

// ---------------------------------------------------------------------------
// Digit runs and number classification
// ---------------------------------------------------------------------------

struct Group {
    start: usize,
    end: usize,
    ndig: usize,
}

struct Run {
    /// index of a leading `+` or `(`
    lead: Option<usize>,
    groups: Vec<Group>,
}

/// Maximal digit runs; groups are separated by 1–3 of `' '`, `'-'`, `')'`.
/// A trailing `X`/`x` (ID check digit) ends a run.
fn digit_runs(norm: &[char]) -> Vec<Run> {
    let n = norm.len();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < n {
        if !norm[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let lead = (i > 0 && matches!(norm[i - 1], '+' | '(')).then(|| i - 1);
        let mut groups = Vec::new();
        let mut j = i;
        loop {
            let gs = j;
            while j < n && norm[j].is_ascii_digit() {
                j += 1;
            }
            let mut ndig = j - gs;
            let mut x = false;
            if j < n
                && matches!(norm[j], 'X' | 'x')
                && !(j + 1 < n && norm[j + 1].is_ascii_alphanumeric())
            {
                j += 1;
                ndig += 1;
                x = true;
            }
            groups.push(Group {
                start: gs,
                end: j,
                ndig,
            });
            if x {
                break;
            }
            let mut k = j;
            while k < n && k - j < 3 && matches!(norm[k], ' ' | '-' | ')' | '.') {
                k += 1;
            }
            if k > j && k < n && norm[k].is_ascii_digit() {
                j = k;
            } else {
                break;
            }
        }
        i = j.max(i + 1);
        runs.push(Run { lead, groups });
    }
    runs
}

/// Words announcing a reference number (case, order, document numbers).
const NEGATIVE_CUES: &[&str] = &[
    "编号",
    "受理号",
    "案号",
    "单号",
    "文号",
    "订单",
    "流水号",
    "合同号",
    "批次",
    "工号",
    "档案号",
    "登记号",
    "序号",
    "证书号",
    "发票号",
    "快递",
];

/// Is the number starting at `start` announced as a reference number?
fn negative_cue_before(chars: &[char], start: usize) -> bool {
    let from = start.saturating_sub(8);
    let window: String = chars[from..start].iter().collect();
    NEGATIVE_CUES.iter().any(|c| window.contains(c))
}

fn is_mobile(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 11
        && b.iter().all(u8::is_ascii_digit)
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
}

fn is_landline(d: &str) -> bool {
    let b = d.as_bytes();
    if !b.iter().all(u8::is_ascii_digit) || b.len() < 10 || b[0] != b'0' || b[1] == b'0' {
        return false;
    }
    let area = if matches!(b[1], b'1' | b'2') { 3 } else { 4 };
    let local = b.len() - area;
    (7..=8).contains(&local) && !matches!(b[area], b'0' | b'1') && (area == 4 || local == 8)
}

fn luhn(d: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in d.bytes().rev().enumerate() {
        if !b.is_ascii_digit() {
            return false;
        }
        let mut v = (b - b'0') as u32;
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

fn valid_date(y: u32, m: u32, d: u32) -> bool {
    let dim = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        2 => 28,
        _ => return false,
    };
    (1..=dim).contains(&d)
}

fn num(s: &str) -> u32 {
    s.parse().unwrap_or(0)
}

/// 18-char ID with plausible province and birth date (check digit ignored).
fn id18_structural(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 18
        && b[..17].iter().all(u8::is_ascii_digit)
        && (b[17].is_ascii_digit() || b[17] == b'X')
        && PROVINCE_CODES.contains(&num(&d[..2]))
        && (1900..=2030).contains(&num(&d[6..10]))
        && valid_date(num(&d[6..10]), num(&d[10..12]), num(&d[12..14]))
}

fn id18_checksum(d: &str) -> bool {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: &[u8; 11] = b"10X98765432";
    let b = d.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let s: u32 = b[..17]
        .iter()
        .zip(W)
        .map(|(c, w)| (c - b'0') as u32 * w)
        .sum();
    C[(s % 11) as usize] == b[17]
}

fn id15_structural(d: &str) -> bool {
    d.len() == 15
        && d.bytes().all(|b| b.is_ascii_digit())
        && PROVINCE_CODES.contains(&num(&d[..2]))
        && valid_date(1900 + num(&d[6..8]), num(&d[8..10]), num(&d[10..12]))
}

/// Classify a digit string (`X` allowed last) taken from a run.
fn classify_number(d: &str, plus: bool) -> Option<PiiKind> {
    let len = d.len();
    let has_x = d.ends_with('X');
    if len == 18 {
        if id18_checksum(d) && id18_structural(d) {
            return Some(PiiKind::IdNumber);
        }
        if id18_structural(d) {
            // plausible ID with a wrong check digit: still an ID
            return Some(PiiKind::IdNumber);
        }
        if !has_x && luhn(d) {
            return Some(PiiKind::BankCard);
        }
        return None;
    }
    if has_x {
        return None;
    }
    if len == 15 && d.starts_with("0086") && is_mobile(&d[4..]) {
        return Some(PiiKind::Mobile);
    }
    if len == 15 && id15_structural(d) {
        return Some(PiiKind::IdNumber);
    }
    if (16..=19).contains(&len) && luhn(d) {
        return Some(PiiKind::BankCard);
    }
    if is_mobile(d) || (len == 13 && d.starts_with("86") && is_mobile(&d[2..])) {
        return Some(PiiKind::Mobile);
    }
    if is_landline(d) {
        return Some(PiiKind::Landline);
    }
    if (plus || len >= 11) && d.starts_with("86") && is_landline(&format!("0{}", &d[2..])) {
        return Some(PiiKind::Landline);
    }
    None
}

/// Normalise known phones/IDs to the digit strings a run would produce.
fn known_number_sets(known: &KnownEntities) -> (Vec<String>, HashSet<String>) {
    let mut phones = Vec::new();
    for ph in &known.phones {
        let d: String = ph.chars().map(fold).filter(char::is_ascii_digit).collect();
        if d.len() >= 7 {
            phones.push(strip_cc(&d).to_string());
        }
    }
    let ids = known
        .id_numbers
        .iter()
        .map(|s| {
            s.chars()
                .map(fold)
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_uppercase()
        })
        .filter(|s| s.len() >= 15)
        .collect();
    (phones, ids)
}

fn strip_cc(d: &str) -> &str {
    if let Some(r) = d.strip_prefix("0086").or_else(|| d.strip_prefix("86")) {
        if is_mobile(r) {
            return r;
        }
        if r.len() >= 9 && is_landline(&format!("0{r}")) {
            return r;
        }
    }
    d
}

/// Does the run digit string `d` denote the known phone `k`?
fn phone_matches(k: &str, d: &str) -> Option<PiiKind> {
    let d = strip_cc(d);
    let kind = if is_mobile(k) {
        PiiKind::Mobile
    } else {
        PiiKind::Landline
    };
    if d == k {
        return Some(kind);
    }
    // landline: with or without the trunk 0, or the local part alone
    if kind == PiiKind::Landline {
        let k0 = k.trim_start_matches('0');
        let d0 = d.trim_start_matches('0');
        if d0 == k0 || (d.len() >= 7 && k.len() > d.len() && k.ends_with(d) && is_landline(k)) {
            return Some(kind);
        }
    }
    None
}

fn is_passport(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 9
        && ((matches!(b[0], b'E' | b'G' | b'P' | b'S' | b'D')
            && b[1..].iter().all(u8::is_ascii_digit))
            || (b[0] == b'E'
                && b[1].is_ascii_uppercase()
                && !matches!(b[1], b'I' | b'O')
                && b[2..].iter().all(u8::is_ascii_digit)))
}

fn is_permit(t: &str) -> bool {
    let b = t.as_bytes();
    match b.first() {
        Some(b'C') if b.len() == 9 => {
            b[1..]
                .iter()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
                && b[1..].iter().filter(|c| c.is_ascii_digit()).count() >= 7
        }
        Some(b'H' | b'M') => {
            (b.len() == 9 || b.len() == 11) && b[1..].iter().all(u8::is_ascii_digit)
        }
        _ => false,
    }
}

fn is_credit_code(t: &str) -> bool {
    const W: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let b = t.as_bytes();
    if b.len() != 18 || !b.iter().all(|c| CREDIT_CHARSET.as_bytes().contains(c)) {
        return false;
    }
    if !b"123456789ANY".contains(&b[0]) || !(b'1'..=b'9').contains(&b[1]) {
        return false;
    }
    if !b[2..8].iter().all(u8::is_ascii_digit) || !PROVINCE_CODES.contains(&num(&t[2..4])) {
        return false;
    }
    let val = |c: u8| CREDIT_CHARSET.bytes().position(|x| x == c).unwrap_or(0);
    let s: usize = b[..17].iter().zip(W).map(|(&c, w)| val(c) * w).sum();
    let check = (31 - s % 31) % 31;
    CREDIT_CHARSET.as_bytes()[check] == b[17]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sc() -> &'static Scanner {
        Scanner::global()
    }

    fn none() -> KnownEntities {
        KnownEntities::default()
    }

    /// (kind, covered text) for every span.
    fn found(text: &str, known: &KnownEntities) -> Vec<(PiiKind, String)> {
        let chars: Vec<char> = text.chars().collect();
        sc().scan(text, known)
            .iter()
            .map(|s| (s.kind, chars[s.start..s.end].iter().collect()))
            .collect()
    }

    fn has(text: &str, kind: PiiKind, value: &str) -> bool {
        found(text, &none())
            .iter()
            .any(|(k, v)| *k == kind && v == value)
    }

    fn has_kind(text: &str, kind: PiiKind) -> bool {
        found(text, &none()).iter().any(|(k, _)| *k == kind)
    }

    fn with_luhn(prefix: &str) -> String {
        (0..10)
            .map(|c| format!("{prefix}{c}"))
            .find(|s| luhn(s))
            .expect("some digit works")
    }

    fn with_credit_check(prefix17: &str) -> String {
        CREDIT_CHARSET
            .chars()
            .map(|c| format!("{prefix17}{c}"))
            .find(|s| is_credit_code(s))
            .expect("check char")
    }

    #[test]
    fn id_numbers() {
        assert!(has(
            "身份证号码11010519491231002X，",
            PiiKind::IdNumber,
            "11010519491231002X"
        ));
        assert!(has(
            "身份证号码11010519491231002x。",
            PiiKind::IdNumber,
            "11010519491231002x"
        ));
        assert!(has(
            "身份证１１０１０５１９４９１２３１００２Ｘ号",
            PiiKind::IdNumber,
            "１１０１０５１９４９１２３１００２Ｘ"
        ));
        assert!(has(
            "身份证：110105 19491231 002X，",
            PiiKind::IdNumber,
            "110105 19491231 002X"
        ));
        // wrong check digit but structurally valid
        assert!(has(
            "号码110105194912310021，",
            PiiKind::IdNumber,
            "110105194912310021"
        ));
        // 15-digit legacy ID
        assert!(has(
            "老身份证110105491231002办理",
            PiiKind::IdNumber,
            "110105491231002"
        ));
        // bad month, bad province, part of a longer run
        assert!(!has_kind("编号11010519491331002X", PiiKind::IdNumber));
        assert!(!has_kind("编号99010519491231002X", PiiKind::IdNumber));
        assert!(!has_kind("流水1101051949123100211", PiiKind::IdNumber));
    }

    #[test]
    fn mobiles() {
        assert!(has("电话13812345678找我", PiiKind::Mobile, "13812345678"));
        assert!(has(
            "手机１３８１２３４５６７８。",
            PiiKind::Mobile,
            "１３８１２３４５６７８"
        ));
        assert!(has(
            "手机+86 138 1234 5678，",
            PiiKind::Mobile,
            "+86 138 1234 5678"
        ));
        assert!(has(
            "手机0086-13812345678，",
            PiiKind::Mobile,
            "0086-13812345678"
        ));
        assert!(has("电话138-1234-5678", PiiKind::Mobile, "138-1234-5678"));
        assert!(has(
            "电话138 1234 5678 2024年",
            PiiKind::Mobile,
            "138 1234 5678"
        ));
        assert!(has(
            "两个号码13812345678 13912345678",
            PiiKind::Mobile,
            "13912345678"
        ));
        assert!(!has_kind("单号213812345678", PiiKind::Mobile));
        assert!(!has_kind("号码1381234567。", PiiKind::Mobile));
        assert!(!has_kind("号码12345678901。", PiiKind::Mobile));
    }

    #[test]
    fn landlines() {
        assert!(has("电话(010)62345678", PiiKind::Landline, "(010)62345678"));
        assert!(has(
            "电话（010）62345678。",
            PiiKind::Landline,
            "（010）62345678"
        ));
        assert!(has(
            "电话０２５－８４５６１２３４。",
            PiiKind::Landline,
            "０２５－８４５６１２３４"
        ));
        assert!(has(
            "座机0755-88886666转",
            PiiKind::Landline,
            "0755-88886666"
        ));
        assert!(has("座机025 84561234", PiiKind::Landline, "025 84561234"));
        assert!(!has_kind("编号010-1234", PiiKind::Landline));
        assert!(!has_kind("共计0101234元", PiiKind::Landline));
    }

    #[test]
    fn bank_cards() {
        let card = with_luhn("622202123456789");
        assert_eq!(card.len(), 16);
        assert!(has(
            &format!("卡号{card}（工行）"),
            PiiKind::BankCard,
            &card
        ));
        let c19 = with_luhn("622848001234567890");
        let spaced = format!(
            "{} {} {} {} {}",
            &c19[..4],
            &c19[4..8],
            &c19[8..12],
            &c19[12..16],
            &c19[16..]
        );
        assert!(has(
            &format!("账号：{spaced}。"),
            PiiKind::BankCard,
            &spaced
        ));
        let dashed = format!(
            "{}-{}-{}-{}",
            &card[..4],
            &card[4..8],
            &card[8..12],
            &card[12..]
        );
        assert!(has(&format!("账号{dashed}"), PiiKind::BankCard, &dashed));
        // Luhn failure
        let bad = format!("{}{}", &card[..15], (card.as_bytes()[15] - b'0' + 1) % 10);
        assert!(!has_kind(&format!("卡号{bad}"), PiiKind::BankCard));
    }

    #[test]
    fn emails_qq_wechat() {
        assert!(has(
            "邮箱zhangsan@163.com联系",
            PiiKind::Email,
            "zhangsan@163.com"
        ));
        assert!(has(
            "Email:li.ming_88@mail.gov.cn。",
            PiiKind::Email,
            "li.ming_88@mail.gov.cn"
        ));
        assert!(has("加我QQ：123456789。", PiiKind::Qq, "123456789"));
        assert!(has("qq号12345，", PiiKind::Qq, "12345"));
        assert!(has("扣扣 5201314", PiiKind::Qq, "5201314"));
        assert!(!has_kind("金额123456789元", PiiKind::Qq));
        assert!(!has_kind("QQ号码是1234。", PiiKind::Qq));
        assert!(has("微信号：zhang_wei88，", PiiKind::Wechat, "zhang_wei88"));
        assert!(has("vx：Li-Ming2020。", PiiKind::Wechat, "Li-Ming2020"));
        assert!(has("微信：13812345678", PiiKind::Mobile, "13812345678"));
        assert!(!has_kind("微信群里说过", PiiKind::Wechat));
    }

    #[test]
    fn credit_plate_passport_permit() {
        let valid = with_credit_check("91320102MA1XY3K70");
        assert!(has(
            &format!("信用代码{valid}，"),
            PiiKind::CreditCode,
            &valid
        ));
        let digits = with_credit_check("12320102734123456");
        assert!(has(
            &format!("代码：{digits}。"),
            PiiKind::CreditCode,
            &digits
        ));
        assert!(has("车牌号粤B12345，", PiiKind::Plate, "粤B12345"));
        assert!(has("车牌京AD12345。", PiiKind::Plate, "京AD12345"));
        assert!(has("车辆京A·F0236逃逸", PiiKind::Plate, "京A·F0236"));
        assert!(!has_kind("京A1号", PiiKind::Plate));
        assert!(has("护照E12345678。", PiiKind::Passport, "E12345678"));
        assert!(has("护照号EA1234567，", PiiKind::Passport, "EA1234567"));
        assert!(has("通行证C12345678", PiiKind::HkMacauPermit, "C12345678"));
        assert!(has(
            "回乡证H1234567890。",
            PiiKind::HkMacauPermit,
            "H1234567890"
        ));
        assert!(!has_kind("型号E1234567", PiiKind::Passport));
    }

    #[test]
    fn names() {
        assert!(has("我叫王建国，今年65岁。", PiiKind::Name, "王建国"));
        assert!(has("被反映人赵志强是村支书。", PiiKind::Name, "赵志强"));
        assert!(has("姓名：欧阳娜娜，女", PiiKind::Name, "欧阳娜娜"));
        assert!(has("联系李先生。", PiiKind::Name, "李"));
        assert!(has(
            "向张主任反映过，王建国书记也知道。",
            PiiKind::Name,
            "王建国"
        ));
        assert!(has("村支书吴志刚多次威胁我", PiiKind::Name, "吴志刚"));
        for neg in [
            "据张某某说，李某也知道。",
            "在王府井附近，张家港市，高新区管委会，信访局",
            "此致\n敬礼！",
            "本人于去年多次向有关部门反映",
        ] {
            assert!(
                !has_kind(neg, PiiKind::Name),
                "{neg}: {:?}",
                found(neg, &none())
            );
        }
    }

    #[test]
    fn addresses() {
        let full = "江苏省南京市玄武区孝陵卫街道钟灵街50号3栋2单元501室";
        assert!(has(
            &format!("家住{full}，联系电话"),
            PiiKind::Address,
            full
        ));
        assert!(has(
            "住在广州市天河区天河路385号。",
            PiiKind::Address,
            "广州市天河区天河路385号"
        ));
        assert!(has(
            "住长沙县黄花镇黄花村七组。",
            PiiKind::Address,
            "长沙县黄花镇黄花村七组"
        ));
        assert!(has(
            "家住郑州市金水区农业路东段16号院2号楼3单元，",
            PiiKind::Address,
            "郑州市金水区农业路东段16号院2号楼3单元"
        ));
        for neg in [
            "反映南山区住房和城乡建设局不作为。",
            "玄武区人民政府至今未答复",
            "去北京上访，在张家港打工",
            "第3号文件，第30条",
        ] {
            assert!(
                !has_kind(neg, PiiKind::Address),
                "{neg}: {:?}",
                found(neg, &none())
            );
        }
    }

    #[test]
    fn known_entities() {
        let known = KnownEntities {
            names: vec!["王建国".into()],
            phones: vec!["025-84561234".into(), "+86 139 1234 5678".into()],
            id_numbers: vec!["110105 19491231 002x".into()],
            addresses: vec!["江苏省南京市玄武区孝陵卫街道钟灵街50号3栋2单元501室".into()],
            emails: vec!["WJG@163.COM".into()],
        };
        let text = "据说王建国伙同他人，王先生在孝陵卫街道上班，本地电话84561234，手机13912345678，证件11010519491231002X，邮箱wjg@163.com";
        let f = found(text, &known);
        for (kind, v) in [
            (PiiKind::Name, "王建国"),
            (PiiKind::Name, "王"),
            (PiiKind::Address, "孝陵卫街道"),
            (PiiKind::Landline, "84561234"),
            (PiiKind::Mobile, "13912345678"),
            (PiiKind::IdNumber, "11010519491231002X"),
            (PiiKind::Email, "wjg@163.com"),
        ] {
            assert!(
                f.iter().any(|(k, x)| *k == kind && x == v),
                "{kind:?} {v}: {f:?}"
            );
        }
        // the fragment and the local number are only found thanks to `known`
        let plain = found(text, &none());
        assert!(!plain.iter().any(|(k, _)| *k == PiiKind::Address));
        assert!(!plain.iter().any(|(k, _)| *k == PiiKind::Landline));
        // Debug never shows values
        let dbg = format!("{known:?}");
        assert!(!dbg.contains("王建国") && !dbg.contains("8456") && dbg.contains("names: 1"));
    }

    #[test]
    fn spans_are_char_offsets_and_redaction_masks() {
        let text = "尊敬的领导：我叫王建国，电话13812345678，QQ：123456789。";
        let chars: Vec<char> = text.chars().collect();
        let spans = sc().scan(text, &none());
        assert!(spans.iter().any(|s| s.kind == PiiKind::Mobile
            && chars[s.start..s.end].iter().collect::<String>() == "13812345678"));
        let r = sc().redact(text, Level::Standard, &none());
        assert_eq!(r.spans, spans);
        assert!(!r.text.contains("13812345678") && !r.text.contains("123456789"));
        assert!(r.text.contains("12*******"));
        let p = sc().redact(text, Level::Publication, &none());
        assert!(p.text.contains("[已删除]") && !p.text.contains("王建国"));
        assert!(std::ptr::eq(Scanner::global(), Scanner::global()));
    }

    #[test]
    fn serializes_snake_case() {
        let r = sc().redact("回乡证H1234567890。", Level::Standard, &none());
        let j = serde_json::to_string(&r).expect("serialize");
        assert!(j.contains("\"kind\":\"hk_macau_permit\""), "{j}");
        assert!(j.contains("\"start\":3,\"end\":14"), "{j}");
    }

    fn check_invariants(text: &str, spans: &[Span]) {
        let n = text.chars().count();
        let mut prev_end = 0;
        for s in spans {
            assert!(s.start < s.end && s.end <= n, "{s:?} n={n}");
            assert!(s.start >= prev_end, "overlap/unsorted {spans:?}");
            prev_end = s.end;
        }
    }

    const STRUCTURED: [PiiKind; 4] = [
        PiiKind::IdNumber,
        PiiKind::Mobile,
        PiiKind::Landline,
        PiiKind::BankCard,
    ];

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn piece() -> impl Strategy<Value = String> {
            prop_oneof![
                prop::sample::select(vec![
                    "我叫",
                    "王建国",
                    "家住",
                    "南京市",
                    "玄武区",
                    "中山路",
                    "88号",
                    "3栋",
                    "501室",
                    "电话",
                    "QQ：",
                    "微信号：",
                    "abc_123",
                    "@",
                    "163.com",
                    "，",
                    "。",
                    " ",
                    "-",
                    "+86",
                    "(",
                    ")",
                    "X",
                    "x",
                    "张某某",
                    "先生",
                    "主任",
                    "１",
                    "２",
                    "０",
                    "粤B",
                    "E",
                    "C",
                    "H",
                    "\n",
                    "某",
                    "区",
                    "号",
                ])
                .prop_map(String::from),
                "[0-9]{1,19}",
                "[0-9 -]{1,25}",
                any::<String>(),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

            #[test]
            fn never_panics_on_arbitrary_unicode(text in any::<String>()) {
                let spans = sc().scan(&text, &none());
                check_invariants(&text, &spans);
                let _ = sc().redact(&text, Level::Publication, &none());
            }

            #[test]
            fn invariants_on_pii_like_text(parts in prop::collection::vec(piece(), 0..40)) {
                let text: String = parts.concat();
                let known = KnownEntities {
                    names: vec!["王建国".into(), "x".into(), String::new()],
                    phones: vec!["13812345678".into(), "1".into()],
                    id_numbers: vec!["11010519491231002X".into()],
                    addresses: vec!["南京市玄武区中山路88号3栋501室".into(), "区".into()],
                    emails: vec!["a@163.com".into()],
                };
                let spans = sc().scan(&text, &known);
                check_invariants(&text, &spans);
                let r = sc().redact(&text, Level::Standard, &known);
                check_invariants(&text, &r.spans);
            }

            #[test]
            fn redacting_twice_finds_no_structured_numbers(
                parts in prop::collection::vec(prop::sample::select(vec![
                    "电话13812345678，", "身份证11010519491231002X。", "座机0755-88886666；", "卡号6222021234567894，",
                    "手机+86 139 1234 5678。", "我叫王建国，", "金额12345元，", "２０２４年３月５日，", "编号2024001234。",
                    "住南京市玄武区中山路88号。", "QQ：12345678，",
                ]), 0..12),
                level in prop::sample::select(vec![Level::Standard, Level::Publication]),
            ) {
                let text: String = parts.concat();
                let once = sc().redact(&text, level, &none());
                let again = sc().scan(&once.text, &none());
                prop_assert!(!again.iter().any(|s| STRUCTURED.contains(&s.kind)), "{} -> {:?}", once.text, again);
            }
        }
    }
}
