//! Deterministic synthetic petitioners and petition cases for demos, tests
//! and benchmarks.
//!
//! All data is fabricated from small built-in tables with a SplitMix64
//! generator: the same seed always yields the same sequence. Generated ID
//! numbers are structurally valid (real county codes, real dates, correct
//! ISO 7064 MOD 11-2 check character) and addresses agree with the ID's
//! region, but the people do not exist.

/// Petition categories (信访事项分类) used by [`Synth::case_for`].
pub const CATEGORIES: &[&str] = &[
    "征地拆迁",
    "劳动社保",
    "城乡建设",
    "涉法涉诉",
    "农村农业",
    "教育文体",
    "卫生健康",
    "环境保护",
    "企业改制",
    "纪检监察",
];

/// Plausible government units that petitions are addressed to or complain about.
pub const UNITS: &[&str] = &[
    "江宁区住房和城乡建设局",
    "江宁区房屋征收管理办公室",
    "南山区人力资源和社会保障局",
    "南山区粤海街道办事处",
    "朝阳区城市管理委员会",
    "朝阳区望京街道办事处",
    "海淀区市场监督管理局",
    "浦东新区生态环境局",
    "天河区教育局",
    "武侯区卫生健康委员会",
    "雁塔区农业农村局",
    "金水区人民法院",
    "西湖区自然资源和规划局",
    "余杭区良渚街道办事处",
    "昆山市玉山镇人民政府",
    "正定县正定镇人民政府",
    "历下区医疗保障局",
    "岳麓区国有资产管理办公室",
    "江宁区秣陵街道办事处",
    "思明区人力资源和社会保障局",
];

/// Channels a petition can arrive through.
const CHANNELS: &[&str] = &["letter", "visit", "online", "phone"];

/// A real county-level region: GB/T 2260 code and its names.
struct Region {
    code: &'static str,
    /// Empty for the four municipalities (北京市 etc. are their own province).
    province: &'static str,
    city: &'static str,
    district: &'static str,
}

const fn region(
    code: &'static str,
    province: &'static str,
    city: &'static str,
    district: &'static str,
) -> Region {
    Region {
        code,
        province,
        city,
        district,
    }
}

/// Real county codes with matching names (address agrees with the ID region).
const REGIONS: &[Region] = &[
    region("110101", "", "北京市", "东城区"),
    region("110105", "", "北京市", "朝阳区"),
    region("110108", "", "北京市", "海淀区"),
    region("120101", "", "天津市", "和平区"),
    region("310104", "", "上海市", "徐汇区"),
    region("310115", "", "上海市", "浦东新区"),
    region("500103", "", "重庆市", "渝中区"),
    region("130102", "河北省", "石家庄市", "长安区"),
    region("130123", "河北省", "石家庄市", "正定县"),
    region("140105", "山西省", "太原市", "小店区"),
    region("150102", "内蒙古自治区", "呼和浩特市", "新城区"),
    region("152502", "内蒙古自治区", "锡林郭勒盟", "锡林浩特市"),
    region("210102", "辽宁省", "沈阳市", "和平区"),
    region("220102", "吉林省", "长春市", "南关区"),
    region("230102", "黑龙江省", "哈尔滨市", "道里区"),
    region("320115", "江苏省", "南京市", "江宁区"),
    region("320508", "江苏省", "苏州市", "姑苏区"),
    region("320583", "江苏省", "苏州市", "昆山市"),
    region("321281", "江苏省", "泰州市", "兴化市"),
    region("330106", "浙江省", "杭州市", "西湖区"),
    region("330110", "浙江省", "杭州市", "余杭区"),
    region("330282", "浙江省", "宁波市", "慈溪市"),
    region("340104", "安徽省", "合肥市", "蜀山区"),
    region("350203", "福建省", "厦门市", "思明区"),
    region("360102", "江西省", "南昌市", "东湖区"),
    region("370102", "山东省", "济南市", "历下区"),
    region("370202", "山东省", "青岛市", "市南区"),
    region("371302", "山东省", "临沂市", "兰山区"),
    region("410105", "河南省", "郑州市", "金水区"),
    region("411302", "河南省", "南阳市", "宛城区"),
    region("420106", "湖北省", "武汉市", "武昌区"),
    region("430104", "湖南省", "长沙市", "岳麓区"),
    region("440106", "广东省", "广州市", "天河区"),
    region("440304", "广东省", "深圳市", "福田区"),
    region("440305", "广东省", "深圳市", "南山区"),
    region("450103", "广西壮族自治区", "南宁市", "青秀区"),
    region("460106", "海南省", "海口市", "龙华区"),
    region("510107", "四川省", "成都市", "武侯区"),
    region("520102", "贵州省", "贵阳市", "南明区"),
    region("522601", "贵州省", "黔东南苗族侗族自治州", "凯里市"),
    region("530102", "云南省", "昆明市", "五华区"),
    region("540102", "西藏自治区", "拉萨市", "城关区"),
    region("610113", "陕西省", "西安市", "雁塔区"),
    region("620102", "甘肃省", "兰州市", "城关区"),
    region("630102", "青海省", "西宁市", "城东区"),
    region("640104", "宁夏回族自治区", "银川市", "兴庆区"),
    region("650102", "新疆维吾尔自治区", "乌鲁木齐市", "天山区"),
];

/// The 100 most common single-character surnames.
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁",
    "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金", "石", "廖", "贾", "夏",
    "韦", "付", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹", "薛", "闫", "段", "雷", "侯",
    "龙", "史", "陶", "黎", "贺", "顾", "毛", "郝", "龚", "邵", "万", "钱", "严", "覃", "武", "戴",
    "莫", "孔", "向", "汤",
];

/// Compound surnames used for about 2% of names.
const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "慕容", "令狐", "司徒", "夏侯",
];

/// Common given-name characters.
const GIVEN_CHARS: &[&str] = &[
    "伟", "芳", "娜", "秀", "英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "兰", "霞", "平", "刚", "桂", "华", "玉", "萍", "红", "玲", "芬", "燕", "彬",
    "鹏", "辉", "建", "国", "志", "文", "斌", "宇", "浩", "凯", "健", "俊", "帆", "旭", "宁", "龙",
    "林", "欣", "怡", "婷", "雪", "颖", "琳", "晨", "阳", "佳", "梅", "莉", "慧", "晶", "倩", "海",
    "波", "峰", "鑫", "思", "雨", "子", "博", "轩", "涵", "诗", "梓", "睿", "晓", "春", "丹", "亮",
    "飞", "成", "荣", "新", "利", "清", "彤", "嘉", "瑞", "珍", "德", "福", "生", "金", "永", "庆",
];

/// Mobile prefixes (first three digits) issued to mainland carriers.
const MOBILE_PREFIXES: &[u16] = &[
    130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156, 157, 158, 159,
    166, 170, 171, 173, 175, 176, 177, 178, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 198,
    199,
];

/// Street names (no 区/县/市/旗 characters, so masking cuts at the district).
const ROADS: &[&str] = &[
    "人民路",
    "中山路",
    "解放路",
    "建设路",
    "和平路",
    "新华路",
    "胜利路",
    "文化路",
    "长江路",
    "黄河路",
    "幸福路",
    "光明街",
    "学府路",
    "东风路",
    "青年路",
    "团结路",
    "振兴路",
    "迎宾大道",
    "科技园路",
    "建国路",
    "友谊路",
    "滨河路",
    "工农路",
    "朝阳北路",
];

/// Residential compounds (used as 小区 and as places in petition text).
const COMMUNITIES: &[&str] = &[
    "幸福家园小区",
    "阳光花园",
    "锦绣华庭",
    "翠湖苑小区",
    "康乐新村",
    "滨江花园",
    "绿地世纪城",
    "金地名苑",
    "和平里小区",
    "书香门第小区",
    "碧水蓝湾",
    "东方明珠苑",
];

/// Villages (used by rural petitions).
const VILLAGES: &[&str] = &[
    "东湖村",
    "杨庄村",
    "李家湾村",
    "河西村",
    "新庄村",
    "王家坝村",
    "石桥村",
    "柳树屯村",
];

/// Companies (used by labour and enterprise-restructuring petitions).
const COMPANIES: &[&str] = &[
    "宏达建筑工程有限公司",
    "恒通物流有限公司",
    "华泰机械制造有限公司",
    "金鹏商贸有限公司",
    "鑫源食品有限公司",
    "红星纺织厂",
    "东风机械厂",
    "永安建材有限公司",
];

/// E-mail domains.
const EMAIL_DOMAINS: &[&str] = &["qq.com", "163.com", "126.com"];

/// Ethnic groups other than 汉族 (about 9% of people).
const MINORITIES: &[&str] = &[
    "壮族",
    "回族",
    "满族",
    "维吾尔族",
    "苗族",
    "彝族",
    "土家族",
    "藏族",
    "蒙古族",
];

/// Templates per category. Placeholders (single ASCII letter in braces):
/// `{P}` compound, `{V}` village, `{C}` company, `{U}` accused unit,
/// `{Y}` year, `{M}` amount in yuan.
struct Topic {
    titles: &'static [&'static str],
    facts: &'static [&'static str],
    demands: &'static [&'static str],
}

/// One [`Topic`] per entry of [`CATEGORIES`], same order.
const TOPICS: [Topic; 10] = [
    Topic {
        titles: &[
            "关于{P}拆迁补偿款未足额发放的反映",
            "关于{P}征地补偿标准过低的诉求",
            "反映{P}安置房迟迟未交付的问题",
            "关于{P}强制拆除房屋的投诉",
        ],
        facts: &[
            "{Y}年我家位于{P}的房屋被纳入征收范围。",
            "当时签订的补偿协议约定补偿款{M}元，但至今只收到一部分。",
            "拆迁公司工作人员多次上门催促搬迁，态度恶劣。",
            "安置房原定两年内交付，现已超期一年多仍未动工。",
            "我们多次到街道反映，均被告知等待上级答复。",
            "周边同类房屋的补偿标准明显高于我家。",
            "在未达成协议的情况下，施工队强行拆除了我家的围墙。",
        ],
        demands: &[
            "请求按协议足额支付拆迁补偿款。",
            "请求尽快落实安置房交付。",
            "请求依法重新评估补偿标准。",
        ],
    },
    Topic {
        titles: &[
            "关于{C}拖欠工资的反映",
            "关于{C}未依法缴纳社会保险的投诉",
            "反映工伤认定久拖不决的问题",
            "关于养老金待遇核定有误的诉求",
        ],
        facts: &[
            "我自{Y}年起在{C}工作，双方签订了劳动合同。",
            "公司已连续五个月未发放工资，共计拖欠{M}元。",
            "公司一直没有为我缴纳社会保险。",
            "我在工作中受伤，申请工伤认定至今没有结果。",
            "我们曾向劳动监察部门投诉，但问题仍未解决。",
            "退休后核定的养老金明显低于同工龄人员。",
        ],
        demands: &[
            "请求督促用人单位支付拖欠工资。",
            "请求依法补缴社会保险费。",
            "请求尽快作出工伤认定。",
        ],
    },
    Topic {
        titles: &[
            "关于{P}房屋质量问题的反映",
            "关于{P}开发商延期交房的投诉",
            "反映{P}物业公司乱收费的问题",
            "关于{P}违章建筑长期未拆除的反映",
        ],
        facts: &[
            "我于{Y}年在{P}购买了一套商品房。",
            "入住后发现墙体开裂、屋顶漏水，开发商拒不维修。",
            "开发商承诺的交房日期已过去一年，至今仍未交付。",
            "物业公司擅自提高物业费，并以停水停电相威胁。",
            "小区内有人私自搭建违章建筑，影响通行和消防安全。",
            "向有关部门反映多次，一直没有得到处理。",
        ],
        demands: &[
            "请求责令开发商履行维修义务。",
            "请求依法查处违章建筑。",
            "请求规范物业收费行为。",
        ],
    },
    Topic {
        titles: &[
            "关于民事判决长期未执行的反映",
            "对借款纠纷案件处理结果不服的申诉",
            "关于案件久拖不决的反映",
            "请求对原审判决进行复查的申诉",
        ],
        facts: &[
            "{Y}年我与他人发生借款纠纷，法院判决对方偿还{M}元。",
            "判决生效后对方一直拒不履行，执行程序已中止。",
            "我认为原审判决认定事实不清，适用法律错误。",
            "案件从立案至今已有两年多，仍没有结论。",
            "我多次向承办人询问进展，均未得到明确答复。",
        ],
        demands: &[
            "请求依法强制执行生效判决。",
            "请求对案件依法复查纠正。",
            "请求加快案件办理进度。",
        ],
    },
    Topic {
        titles: &[
            "关于{V}土地承包经营权纠纷的反映",
            "关于{V}集体资金使用不公开的反映",
            "反映惠农补贴未发放到户的问题",
            "关于{V}宅基地审批问题的诉求",
        ],
        facts: &[
            "我家在{V}承包的耕地被村委会收回并转包给他人。",
            "村里的集体土地流转收入多年未公开。",
            "{Y}年的耕地地力保护补贴至今没有发放到我家。",
            "我家申请宅基地已三年，镇里一直不予审批。",
            "村干部对村民的询问不予理睬。",
        ],
        demands: &[
            "请求依法保障土地承包经营权。",
            "请求公开村集体财务。",
            "请求发放应得的惠农补贴。",
        ],
    },
    Topic {
        titles: &[
            "关于子女入学难问题的反映",
            "关于{P}周边学校违规收费的投诉",
            "反映培训机构拒不退费的问题",
            "关于学区划分不合理的诉求",
        ],
        facts: &[
            "我家孩子今年应当入读小学，但被告知学位已满。",
            "学校以资料费名义向每名学生收取{M}元。",
            "我在培训机构为孩子报了课程，机构停业后拒不退费。",
            "我们住在{P}，距离最近的学校不到一公里，却被划入较远的学区。",
            "多次向教育部门反映，答复均为正在研究。",
        ],
        demands: &[
            "请求妥善解决子女就近入学问题。",
            "请求清退违规收取的费用。",
            "请求督促培训机构退还学费。",
        ],
    },
    Topic {
        titles: &[
            "关于医疗纠纷处理不公的反映",
            "关于{V}卫生室服务问题的投诉",
            "反映医保报销不予受理的问题",
            "关于医疗费用收费异常的投诉",
        ],
        facts: &[
            "{Y}年我母亲在医院手术后出现严重并发症。",
            "医院对事故责任相互推诿，至今没有说法。",
            "医保部门以材料不全为由拒绝受理报销申请。",
            "住院费用清单中有多项未使用的检查项目，合计{M}元。",
            "卫生室工作人员服务态度差，延误了病情。",
        ],
        demands: &[
            "请求组织医疗事故技术鉴定。",
            "请求依法办理医保报销。",
            "请求核查并退还不合理收费。",
        ],
    },
    Topic {
        titles: &[
            "关于{P}附近工厂噪音扰民的反映",
            "关于{V}周边企业偷排污水的反映",
            "反映{P}垃圾站异味严重的问题",
            "关于{P}夜间施工扰民的投诉",
        ],
        facts: &[
            "{P}附近的一家工厂夜间生产，噪音严重影响居民休息。",
            "工厂将污水直接排入河道，河水发黑发臭。",
            "小区旁的垃圾中转站长期散发异味。",
            "工地经常在夜间施工，渣土车来往频繁。",
            "我们拨打了环保热线，但情况没有改善。",
        ],
        demands: &[
            "请求依法查处环境违法行为。",
            "请求责令企业整改并公开处理结果。",
            "请求合理安排施工时间。",
        ],
    },
    Topic {
        titles: &[
            "关于原国有企业改制职工安置问题的反映",
            "关于{C}改制中职工身份置换补偿的诉求",
            "反映企业破产后职工工龄认定问题",
            "关于{C}拖欠职工集资款的反映",
        ],
        facts: &[
            "我原是{C}的正式职工，{Y}年企业改制后被买断工龄。",
            "改制时承诺的经济补偿金至今没有兑现。",
            "企业破产清算时没有认定我的连续工龄。",
            "当年职工集资款共计{M}元，企业一直未予归还。",
            "我们多次找原主管部门，均称已不属于其管理范围。",
        ],
        demands: &[
            "请求落实改制时的职工安置政策。",
            "请求依法认定连续工龄。",
            "请求归还职工集资款。",
        ],
    },
    Topic {
        titles: &[
            "关于{U}工作人员收受好处费问题的举报",
            "反映{U}负责人违规发放补贴的问题",
            "关于{U}干部优亲厚友的举报",
            "对{U}工作人员吃拿卡要行为的举报",
        ],
        facts: &[
            "{U}的一名科长在办理业务时向群众索要好处费。",
            "该工作人员暗示只有送钱才能尽快办理，我被迫转账{M}元。",
            "单位负责人将补贴名额优先分配给自己的亲属。",
            "据我了解，有多名群众遭遇过类似情况。",
            "我掌握了部分转账记录，可以配合调查。",
            "该干部还经常在工作时间出入娱乐场所。",
        ],
        demands: &[
            "请求纪检监察机关依法调查处理。",
            "请求对相关人员严肃追责。",
            "请求对举报人信息予以保密。",
        ],
    },
];

/// Index of 纪检监察 in [`CATEGORIES`] / [`TOPICS`].
const ACCUSATION_TOPIC: usize = 9;

/// One step of SplitMix64 (not cryptographic; synthetic data only). Shared with the
/// labelled scanner corpus.
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// SplitMix64 pseudo-random generator (not cryptographic; demo data only).
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        splitmix64(&mut self.0)
    }

    /// Uniform-ish integer in `0..n` (multiply-shift; bias is negligible here).
    fn below(&mut self, n: u64) -> u64 {
        let wide = u128::from(self.next_u64()) * u128::from(n);
        // The high half of a 64×64-bit product always fits in 64 bits.
        u64::try_from(wide >> 64).unwrap_or(0)
    }

    /// Integer in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    fn index(&mut self, len: usize) -> usize {
        // Table lengths are tiny, so both conversions are lossless.
        usize::try_from(self.below(len as u64)).unwrap_or(0)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    fn pick_str(&mut self, items: &[&'static str]) -> &'static str {
        items[self.index(items.len())]
    }

    /// True with probability `per_mille / 1000`.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

/// Appends `n` in decimal, zero-padded to at least `width` digits.
fn push_num(out: &mut String, mut n: u64, width: usize) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let len = buf.len() - i;
    out.extend(core::iter::repeat_n('0', width.saturating_sub(len)));
    out.extend(buf[i..].iter().map(|&b| char::from(b)));
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// ISO 7064 MOD 11-2 check character over 17 ASCII digits.
fn id_check_char(first17: &[u8]) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(&d, w)| u32::from(d - b'0') * w)
        .sum();
    char::from(CHECK[(sum % 11) as usize])
}

/// A fabricated petitioner. All fields are synthetic but well-formed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthPerson {
    /// 2–4 character Chinese name (about 2% with a compound surname).
    pub name: String,
    /// Valid 18-character ID number whose region matches `address`.
    pub id_number: String,
    /// 11-digit mainland mobile number.
    pub phone: String,
    /// 省 + 市 + 区/县 + road + 号, optionally a compound, building and room.
    pub address: String,
    /// E-mail address for about 40% of people.
    pub email: Option<String>,
    /// 汉族 for about 91% of people, otherwise a minority.
    pub ethnicity: String,
}

/// A fabricated petition case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthCase {
    /// Petition title, e.g. "关于幸福家园小区拆迁补偿款未足额发放的反映".
    pub title: String,
    /// One of [`CATEGORIES`].
    pub category: String,
    /// `"letter"`, `"visit"`, `"online"` or `"phone"`.
    pub channel: &'static str,
    /// 2–6 sentences; about 30% open with the petitioner's name and phone
    /// (a third of those also give the ID number).
    pub content: String,
    /// What the petitioner asks for.
    pub demands: String,
    /// Unit complained about, for about 40% of cases.
    pub accused_unit: Option<String>,
    /// Accusation against an official (纪检监察); about half of the cases
    /// with an accused unit. Implies `accused_unit.is_some()`.
    pub is_accusation: bool,
}

/// Values shared by a case's title and content.
struct CaseContext<'a> {
    place: &'static str,
    village: &'static str,
    company: &'static str,
    unit: &'a str,
    year: u64,
    amount: u64,
}

/// Expands `{X}` placeholders of `template` into `out`.
fn expand(out: &mut String, template: &str, ctx: &CaseContext<'_>) {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return;
        };
        match &after[..close] {
            "P" => out.push_str(ctx.place),
            "V" => out.push_str(ctx.village),
            "C" => out.push_str(ctx.company),
            "U" => out.push_str(ctx.unit),
            "Y" => push_num(out, ctx.year, 4),
            "M" => push_num(out, ctx.amount, 1),
            other => {
                out.push('{');
                out.push_str(other);
                out.push('}');
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
}

/// The columns of [`import_row`], as `pvault import` reads them.
pub const IMPORT_COLUMNS: [&str; 13] = [
    "name",
    "id_number",
    "phone",
    "address",
    "email",
    "ethnicity",
    "title",
    "category",
    "channel",
    "content",
    "demands",
    "accused_unit",
    "accusation",
];

/// A record as one import row: its cells in [`IMPORT_COLUMNS`] order.
pub fn import_row<'a>(p: &'a SynthPerson, c: &'a SynthCase) -> [&'a str; 13] {
    [
        &p.name,
        &p.id_number,
        &p.phone,
        &p.address,
        p.email.as_deref().unwrap_or(""),
        &p.ethnicity,
        &c.title,
        &c.category,
        c.channel,
        &c.content,
        &c.demands,
        c.accused_unit.as_deref().unwrap_or(""),
        if c.is_accusation { "true" } else { "false" },
    ]
}

/// Records as an import CSV (header line, then one row each).
pub fn import_csv<'a>(
    records: impl IntoIterator<Item = (&'a SynthPerson, &'a SynthCase)>,
) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(IMPORT_COLUMNS).expect("writing to memory");
    for (p, c) in records {
        w.write_record(import_row(p, c)).expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

/// Deterministic generator of synthetic petitioners and cases.
#[derive(Clone, Debug)]
pub struct Synth {
    rng: Rng,
}

impl Synth {
    /// Creates a generator; the same seed always yields the same sequence.
    pub fn new(seed: u64) -> Synth {
        Synth { rng: Rng(seed) }
    }

    /// The next `n` records: a petitioner and one case each.
    pub fn records(&mut self, n: usize) -> Vec<(SynthPerson, SynthCase)> {
        (0..n)
            .map(|_| {
                let p = self.person();
                let c = self.case_for(&p);
                (p, c)
            })
            .collect()
    }

    /// Generates the next synthetic petitioner.
    pub fn person(&mut self) -> SynthPerson {
        let region = self.rng.pick(REGIONS);
        let name = self.name();
        let id_number = self.id_number(region);
        let phone = self.mobile();
        let address = self.address(region);
        let email = if self.rng.chance(400) {
            Some(self.email())
        } else {
            None
        };
        let ethnicity = if self.rng.chance(910) {
            "汉族"
        } else {
            self.rng.pick_str(MINORITIES)
        };
        SynthPerson {
            name,
            id_number,
            phone,
            address,
            email,
            ethnicity: ethnicity.to_owned(),
        }
    }

    /// Generates a petition case filed by `person`.
    pub fn case_for(&mut self, person: &SynthPerson) -> SynthCase {
        let accused_unit = self.rng.chance(400).then(|| self.unit());
        let is_accusation = accused_unit.is_some() && self.rng.chance(500);
        let topic_index = if is_accusation {
            ACCUSATION_TOPIC
        } else {
            self.rng.index(ACCUSATION_TOPIC)
        };
        let topic = &TOPICS[topic_index];
        let channel = match self.rng.below(100) {
            0..=24 => CHANNELS[0],
            25..=54 => CHANNELS[1],
            55..=89 => CHANNELS[2],
            _ => CHANNELS[3],
        };
        let ctx = CaseContext {
            place: self.rng.pick_str(COMMUNITIES),
            village: self.rng.pick_str(VILLAGES),
            company: self.rng.pick_str(COMPANIES),
            unit: accused_unit.as_deref().unwrap_or("有关部门"),
            year: self.rng.range(2008, 2024),
            amount: self.rng.range(30, 5000) * 100,
        };

        let mut title = String::with_capacity(96);
        expand(&mut title, self.rng.pick_str(topic.titles), &ctx);

        let sentences = self.rng.range(2, 6) as usize;
        let mut content = String::with_capacity(64 * sentences);
        let mut remaining = sentences;
        if self.rng.chance(300) {
            self.intro(&mut content, person);
            remaining -= 1;
        }
        if accused_unit.is_some() && !is_accusation && remaining > 1 {
            content.push_str("我曾向");
            content.push_str(ctx.unit);
            content.push_str("反映，但该单位至今未予答复。");
            remaining -= 1;
        }
        let start = self.rng.index(topic.facts.len());
        for k in 0..remaining.min(topic.facts.len()) {
            expand(
                &mut content,
                topic.facts[(start + k) % topic.facts.len()],
                &ctx,
            );
        }

        let mut demands = String::with_capacity(96);
        let first = self.rng.index(topic.demands.len());
        demands.push_str(topic.demands[first]);
        if self.rng.chance(400) {
            demands.push_str(topic.demands[(first + 1) % topic.demands.len()]);
        }

        SynthCase {
            title,
            category: CATEGORIES[topic_index].to_owned(),
            channel,
            content,
            demands,
            accused_unit,
            is_accusation,
        }
    }

    /// Picks a plausible unit name from [`UNITS`].
    pub fn unit(&mut self) -> String {
        self.rng.pick_str(UNITS).to_owned()
    }

    /// Opening sentence giving the petitioner's own contact data.
    fn intro(&mut self, out: &mut String, person: &SynthPerson) {
        match self.rng.below(3) {
            0 => {
                out.push_str("我叫");
                out.push_str(&person.name);
                out.push_str("，联系电话");
                out.push_str(&person.phone);
            }
            1 => {
                out.push_str("本人");
                out.push_str(&person.name);
                out.push_str("，手机号");
                out.push_str(&person.phone);
            }
            _ => {
                out.push_str("反映人：");
                out.push_str(&person.name);
                out.push_str("，电话：");
                out.push_str(&person.phone);
            }
        }
        if self.rng.chance(333) {
            out.push_str("，身份证号");
            out.push_str(&person.id_number);
        }
        out.push('。');
    }

    fn name(&mut self) -> String {
        let mut name = String::with_capacity(12);
        name.push_str(if self.rng.chance(20) {
            self.rng.pick_str(COMPOUND_SURNAMES)
        } else {
            self.rng.pick_str(SURNAMES)
        });
        name.push_str(self.rng.pick_str(GIVEN_CHARS));
        if self.rng.chance(700) {
            name.push_str(self.rng.pick_str(GIVEN_CHARS));
        }
        name
    }

    fn id_number(&mut self, region: &Region) -> String {
        let mut id = String::with_capacity(18);
        id.push_str(region.code);
        let year = self.rng.range(1940, 2005);
        let month = self.rng.range(1, 12);
        let day = self.rng.range(1, days_in_month(year, month));
        push_num(&mut id, year, 4);
        push_num(&mut id, month, 2);
        push_num(&mut id, day, 2);
        push_num(&mut id, self.rng.range(1, 999), 3);
        let check = id_check_char(id.as_bytes());
        id.push(check);
        id
    }

    fn mobile(&mut self) -> String {
        let mut phone = String::with_capacity(11);
        push_num(&mut phone, u64::from(*self.rng.pick(MOBILE_PREFIXES)), 3);
        push_num(&mut phone, self.rng.below(100_000_000), 8);
        phone
    }

    fn address(&mut self, region: &Region) -> String {
        let mut addr = String::with_capacity(96);
        addr.push_str(region.province);
        addr.push_str(region.city);
        addr.push_str(region.district);
        addr.push_str(self.rng.pick_str(ROADS));
        push_num(&mut addr, self.rng.range(1, 999), 1);
        addr.push('号');
        if self.rng.chance(600) {
            addr.push_str(self.rng.pick_str(COMMUNITIES));
            push_num(&mut addr, self.rng.range(1, 30), 1);
            addr.push('栋');
            let floor = self.rng.range(1, 32);
            push_num(&mut addr, floor * 100 + self.rng.range(1, 4), 1);
            addr.push('室');
        }
        addr
    }

    fn email(&mut self) -> String {
        let mut email = String::with_capacity(24);
        if self.rng.chance(550) {
            // QQ-style numeric account.
            let len = self.rng.range(5, 11);
            push_num(&mut email, self.rng.range(1, 9), 1);
            for _ in 1..len {
                push_num(&mut email, self.rng.below(10), 1);
            }
        } else {
            for _ in 0..self.rng.range(5, 10) {
                let letter = b'a' + (self.rng.below(26) as u8);
                email.push(char::from(letter));
            }
            if self.rng.chance(500) {
                push_num(&mut email, self.rng.range(1, 9999), 1);
            }
        }
        email.push('@');
        email.push_str(self.rng.pick_str(EMAIL_DOMAINS));
        email
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Independent MOD 11-2 check: sum of digit × 2^(17-i) mod 11, with the
    /// check value (X = 10), must be ≡ 1 (mod 11).
    fn id_is_valid(id: &str) -> bool {
        let b = id.as_bytes();
        if b.len() != 18 {
            return false;
        }
        let mut sum = 0u64;
        for (i, &c) in b.iter().enumerate() {
            let v = match c {
                b'0'..=b'9' => u64::from(c - b'0'),
                b'X' if i == 17 => 10,
                _ => return false,
            };
            sum += v * ((1u64 << (17 - i)) % 11);
        }
        sum % 11 == 1
    }

    fn sample(seed: u64, n: usize) -> Vec<(SynthPerson, SynthCase)> {
        Synth::new(seed).records(n)
    }

    #[test]
    fn import_csv_parses_back_to_the_same_rows() {
        let recs = sample(5, 50);
        let parsed = crate::import::parse(
            &import_csv(recs.iter().map(|(p, c)| (p, c))),
            crate::import::Format::Csv,
            None,
        )
        .unwrap();
        assert!(parsed.rejected.is_empty());
        assert_eq!(parsed.rows.len(), recs.len());
    }

    #[test]
    fn deterministic_per_seed() {
        assert_eq!(sample(42, 200), sample(42, 200));
        assert_ne!(sample(42, 20), sample(43, 20));
        let mut a = Synth::new(7);
        let mut b = Synth::new(7);
        for _ in 0..50 {
            assert_eq!(a.unit(), b.unit());
        }
    }

    #[test]
    fn tables_are_well_formed() {
        assert_eq!(CATEGORIES.len(), 10);
        assert_eq!(TOPICS.len(), CATEGORIES.len());
        assert_eq!(CATEGORIES[ACCUSATION_TOPIC], "纪检监察");
        assert!(UNITS.len() >= 12);
        assert_eq!(SURNAMES.len(), 100);
        assert!(REGIONS.len() >= 30);
        for r in REGIONS {
            assert_eq!(r.code.len(), 6);
            assert!(r.code.bytes().all(|b| b.is_ascii_digit()));
            assert!(r.city.ends_with('市') || r.city.ends_with('州') || r.city.ends_with('盟'));
            assert!(
                r.district.ends_with('区')
                    || r.district.ends_with('县')
                    || r.district.ends_with('市')
            );
            let municipality = matches!(&r.code[..2], "11" | "12" | "31" | "50");
            assert_eq!(r.province.is_empty(), municipality, "{}", r.code);
        }
        for road in ROADS {
            assert!(
                !road.contains(['区', '县', '市', '旗', '省', '州', '盟']),
                "{road}"
            );
        }
    }

    #[test]
    fn persons_are_well_formed() {
        let provinces: &[&str] = &[
            "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36",
            "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62",
            "63", "64", "65",
        ];
        let mut synth = Synth::new(2024);
        let n = 20_000;
        let (mut emails, mut han, mut compound, mut x_check) = (0, 0, 0, 0);
        for _ in 0..n {
            let p = synth.person();
            // ID: valid checksum, known region, plausible birth date.
            assert!(id_is_valid(&p.id_number), "{}", p.id_number);
            assert!(provinces.contains(&&p.id_number[..2]));
            let region = REGIONS
                .iter()
                .find(|r| r.code == &p.id_number[..6])
                .expect("region from table");
            let year: u64 = p.id_number[6..10].parse().unwrap();
            let month: u64 = p.id_number[10..12].parse().unwrap();
            let day: u64 = p.id_number[12..14].parse().unwrap();
            assert!((1940..=2005).contains(&year));
            assert!((1..=12).contains(&month));
            assert!(day >= 1 && day <= days_in_month(year, month));
            assert_ne!(&p.id_number[14..17], "000");
            if p.id_number.ends_with('X') {
                x_check += 1;
            }
            // Address agrees with the ID region.
            let prefix = format!("{}{}{}", region.province, region.city, region.district);
            assert!(p.address.starts_with(&prefix), "{}", p.address);
            assert!(p.address.contains('号'));
            // Name: 2–4 CJK chars.
            let len = p.name.chars().count();
            assert!((2..=4).contains(&len), "{}", p.name);
            if COMPOUND_SURNAMES.iter().any(|s| p.name.starts_with(s)) {
                compound += 1;
            } else {
                assert!(SURNAMES.iter().any(|s| p.name.starts_with(s)));
                assert!(len <= 3);
            }
            // Phone: 11 digits with a real prefix.
            assert_eq!(p.phone.len(), 11);
            assert!(p.phone.bytes().all(|b| b.is_ascii_digit()));
            let prefix: u16 = p.phone[..3].parse().unwrap();
            assert!(MOBILE_PREFIXES.contains(&prefix));
            if let Some(email) = &p.email {
                emails += 1;
                let (local, domain) = email.split_once('@').unwrap();
                assert!(!local.is_empty() && local.bytes().all(|b| b.is_ascii_alphanumeric()));
                assert!(EMAIL_DOMAINS.contains(&domain));
            }
            if p.ethnicity == "汉族" {
                han += 1;
            } else {
                assert!(MINORITIES.contains(&p.ethnicity.as_str()));
            }
        }
        let pct = |k: usize| k * 1000 / n;
        assert!((370..=430).contains(&pct(emails)), "emails {}", pct(emails));
        assert!((895..=925).contains(&pct(han)), "han {}", pct(han));
        assert!(
            (12..=30).contains(&pct(compound)),
            "compound {}",
            pct(compound)
        );
        // X occurs naturally for about 1/11 of numbers.
        assert!((70..=110).contains(&pct(x_check)), "X {}", pct(x_check));
    }

    #[test]
    fn cases_are_well_formed() {
        let n = 10_000;
        let (mut accused, mut accusations, mut with_name, mut with_id) = (0, 0, 0, 0);
        for (p, c) in sample(99, n) {
            assert!(CATEGORIES.contains(&c.category.as_str()));
            assert!(CHANNELS.contains(&c.channel));
            for text in [&c.title, &c.content, &c.demands] {
                assert!(!text.is_empty());
                assert!(!text.contains('{') && !text.contains('}'), "{text}");
            }
            let sentences = c.content.matches('。').count();
            assert!((2..=6).contains(&sentences), "{sentences}: {}", c.content);
            if c.is_accusation {
                accusations += 1;
                assert!(c.accused_unit.is_some());
                assert_eq!(c.category, "纪检监察");
                assert!(c.title.contains(c.accused_unit.as_deref().unwrap()));
            } else {
                assert_ne!(c.category, "纪检监察");
            }
            if let Some(unit) = &c.accused_unit {
                accused += 1;
                assert!(UNITS.contains(&unit.as_str()));
            }
            if c.content.contains(&p.name) {
                with_name += 1;
                assert!(c.content.contains(&p.phone));
            }
            if c.content.contains(&p.id_number) {
                with_id += 1;
            }
        }
        let pct = |k: usize| k * 1000 / n;
        assert!(
            (370..=430).contains(&pct(accused)),
            "accused {}",
            pct(accused)
        );
        assert!(
            (170..=230).contains(&pct(accusations)),
            "acc {}",
            pct(accusations)
        );
        assert!(
            (270..=330).contains(&pct(with_name)),
            "name {}",
            pct(with_name)
        );
        assert!((75..=125).contains(&pct(with_id)), "id {}", pct(with_id));
    }

    #[test]
    fn every_category_and_channel_occurs() {
        let cases = sample(5, 5_000);
        for cat in CATEGORIES {
            assert!(cases.iter().any(|(_, c)| c.category == *cat), "{cat}");
        }
        for ch in CHANNELS {
            assert!(cases.iter().any(|(_, c)| c.channel == *ch), "{ch}");
        }
    }

    #[test]
    fn expand_fills_placeholders() {
        let ctx = CaseContext {
            place: "阳光花园",
            village: "东湖村",
            company: "恒通物流有限公司",
            unit: "天河区教育局",
            year: 2019,
            amount: 12_300,
        };
        let mut out = String::new();
        expand(&mut out, "{Y}年{P}/{V}/{C}/{U}欠{M}元{Z}{", &ctx);
        assert_eq!(
            out,
            "2019年阳光花园/东湖村/恒通物流有限公司/天河区教育局欠12300元{Z}{"
        );
    }

    #[test]
    fn push_num_pads() {
        let mut s = String::new();
        push_num(&mut s, 7, 3);
        push_num(&mut s, 0, 1);
        push_num(&mut s, 12345, 2);
        push_num(&mut s, u64::MAX, 0);
        assert_eq!(s, format!("007012345{}", u64::MAX));
    }

    #[test]
    fn splitmix64_reference_values() {
        // Reference outputs of SplitMix64 seeded with 1234567.
        let mut rng = Rng(1_234_567);
        assert_eq!(rng.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(rng.next_u64(), 3_203_168_211_198_807_973);
    }
}
