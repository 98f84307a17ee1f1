"""The demo exchange's cast and catalogue: fictional organisations, Chinese-language listings.

Names are invented; any likeness to a real organisation is unintended. Money is in fen.
"""

from __future__ import annotations

from dataclasses import dataclass

DEMO_PASSWORD = "techx-demo-2026"
OPERATOR_EMAIL = "ops@demo.techx.cn"


@dataclass(frozen=True)
class DemoOrg:
    key: str
    kind: str
    name: str
    email: str
    person: str


ORGS = [
    DemoOrg("donghai", "university", "东海理工大学技术转移中心", "tto@donghai-univ.demo.cn", "陈静"),
    DemoOrg("shenjiang", "university", "申江医科大学成果转化办公室", "ott@shenjiang-med.demo.cn", "周立"),
    DemoOrg("pujiang", "research_institute", "浦江先进材料研究院", "itt@pujiang-ams.demo.cn", "孙伟"),
    DemoOrg("guneng", "enterprise", "上海固能新材料有限公司", "bd@guneng.demo.cn", "刘洋"),
    DemoOrg("zhizao", "enterprise", "苏州智造装备股份有限公司", "tech@zhizao.demo.cn", "王磊"),
    DemoOrg("kangyuan", "enterprise", "杭州康源生物医药有限公司", "rd@kangyuan.demo.cn", "赵敏"),
    DemoOrg("lvhe", "enterprise", "宁波绿禾农业科技有限公司", "info@lvhe.demo.cn", "吴芳"),
    DemoOrg("xinxun", "enterprise", "合肥芯讯微电子有限公司", "ip@xinxun.demo.cn", "郑浩"),
    DemoOrg("qinghuan", "enterprise", "无锡清环环保工程有限公司", "pm@qinghuan.demo.cn", "黄蕾"),
    DemoOrg("zhiquan", "service_provider", "上海知权知识产权代理有限公司", "svc@zhiquan.demo.cn", "林晓"),
    DemoOrg("jianyan", "service_provider", "长三角检验检测认证中心", "svc@jianyan.demo.cn", "何倩"),
    DemoOrg("pinggu", "service_provider", "申城资产评估事务所", "svc@pinggu.demo.cn", "钱峰"),
    DemoOrg("kewei", "government", "东海市科学技术委员会", "cxq@kewei.demo.gov.cn", "蒋文"),
]

# Bank transfers into the enterprises' wallets, recorded by the operator on the first day.
FUNDED = {
    "guneng": 80_000_000,
    "zhizao": 200_000_000,
    "kangyuan": 150_000_000,
    "lvhe": 30_000_000,
    "xinxun": 120_000_000,
    "qinghuan": 50_000_000,
}


@dataclass(frozen=True)
class DemoListing:
    seller: str
    title: str
    field: str
    keywords: tuple[str, ...]
    summary: str
    ip_kind: str
    deal_type: str
    mode: str
    asking_yuan: int
    inventors: tuple[str, ...] = ("张华",)
    inventor_reward_bp: int | None = None  # a public institution declaring more than the minimum share


L = DemoListing
CATALOGUE = [
    L(
        "donghai",
        "高镍三元正极材料表面包覆改性技术",
        "new_energy",
        ("锂电池", "正极材料", "包覆"),
        "通过原子层沉积在高镍正极表面构建纳米包覆层，循环寿命提升30%以上，已完成吨级中试。",
        "invention_patent",
        "transfer",
        "auction",
        8_000_000,
        ("李明", "王芳"),
    ),
    L(
        "donghai",
        "工业机器人视觉引导抓取系统",
        "advanced_manufacturing",
        ("机器人", "机器视觉", "抓取"),
        "基于深度学习的无序工件识别与位姿估计，抓取成功率99.2%，适用于汽车零部件产线。",
        "software_copyright",
        "license",
        "negotiated",
        1_500_000,
        ("高远",),
    ),
    L(
        "donghai",
        "低功耗广域物联网通信芯片架构",
        "electronic_information",
        ("物联网", "芯片", "低功耗"),
        "一种支持多模调制的低功耗基带架构，待机电流低于1微安，已流片验证。",
        "invention_patent",
        "license",
        "listed",
        5_000_000,
        ("郑凯",),
    ),
    L(
        "donghai",
        "城市生活垃圾厌氧发酵产沼工艺",
        "energy_saving_environment",
        ("厌氧发酵", "沼气", "固废"),
        "两相厌氧发酵与热水解预处理联用，产气率提高40%，适合日处理200吨规模。",
        "invention_patent",
        "transfer",
        "listed",
        3_000_000,
    ),
    L(
        "donghai",
        "钢结构焊缝超声相控阵智能检测方法",
        "advanced_manufacturing",
        ("无损检测", "超声", "焊缝"),
        "相控阵成像结合缺陷自动判读，检测效率提高3倍，漏检率低于0.5%。",
        "invention_patent",
        "license",
        "auction",
        2_000_000,
        ("钱森",),
    ),
    L(
        "donghai",
        "5G 毫米波相控阵天线封装技术",
        "electronic_information",
        ("5G", "毫米波", "天线"),
        "天线与射频前端一体化封装，整体厚度小于1毫米，已通过可靠性测试。",
        "invention_patent",
        "equity",
        "negotiated",
        12_000_000,
        ("冯涛", "韩雪"),
    ),
    L(
        "shenjiang",
        "靶向 PD-L1 的单域抗体及其应用",
        "biomedicine",
        ("抗体", "肿瘤免疫", "PD-L1"),
        "高亲和力纳米抗体，完成小鼠药效与初步毒理研究，可用于双特异性抗体开发。",
        "invention_patent",
        "license",
        "negotiated",
        30_000_000,
        ("周立", "吴迪"),
    ),
    L(
        "shenjiang",
        "阿尔茨海默病早期血液诊断标志物组合",
        "biomedicine",
        ("诊断", "阿尔茨海默", "标志物"),
        "五种血浆蛋白联合检测，早期诊断灵敏度达89%，已完成500例回顾性验证。",
        "invention_patent",
        "transfer",
        "auction",
        6_000_000,
    ),
    L(
        "shenjiang",
        "可降解镁合金心血管支架",
        "biomedicine",
        ("可降解", "镁合金", "支架"),
        "表面微弧氧化与载药涂层协同控制降解速率，动物实验12个月完全降解。",
        "invention_patent",
        "equity",
        "negotiated",
        20_000_000,
        ("许晴",),
    ),
    L(
        "shenjiang",
        "中药复方抗纤维化制剂制备工艺",
        "biomedicine",
        ("中药", "纤维化", "制剂"),
        "基于经典名方的现代化制剂工艺，有效成分转移率提高25%。",
        "know_how",
        "transfer",
        "negotiated",
        1_200_000,
        ("曹玉",),
    ),
    L(
        "shenjiang",
        "医学影像肺结节智能辅助诊断软件",
        "electronic_information",
        ("人工智能", "医学影像", "肺结节"),
        "对CT影像中3毫米以上结节的检出灵敏度96%，支持DICOM接入。",
        "software_copyright",
        "license",
        "listed",
        2_500_000,
        ("彭博",),
    ),
    L(
        "pujiang",
        "氧化物固态电解质薄膜连续制备技术",
        "new_materials",
        ("固态电池", "电解质", "薄膜"),
        "卷对卷流延与低温烧结工艺，离子电导率达1毫西门子每厘米，适合规模化生产。",
        "invention_patent",
        "license",
        "auction",
        15_000_000,
        ("孙伟", "马骏"),
    ),
    L(
        "pujiang",
        "碳纤维复合材料快速固化树脂体系",
        "new_materials",
        ("碳纤维", "树脂", "复合材料"),
        "固化时间由2小时缩短至15分钟，力学性能保持率95%以上。",
        "invention_patent",
        "transfer",
        "listed",
        4_500_000,
    ),
    L(
        "pujiang",
        "钙钛矿光伏组件封装与稳定性提升方法",
        "new_energy",
        ("钙钛矿", "光伏", "封装"),
        "多层阻隔封装使组件在85℃/85%湿热条件下1000小时效率衰减小于5%。",
        "invention_patent",
        "equity",
        "negotiated",
        25_000_000,
        ("杜宇",),
    ),
    L(
        "pujiang",
        "高熵合金耐磨涂层激光熔覆工艺",
        "new_materials",
        ("高熵合金", "激光熔覆", "涂层"),
        "涂层硬度达HV800，耐磨性为传统堆焊层的4倍。",
        "invention_patent",
        "license",
        "negotiated",
        1_800_000,
        ("方亮",),
    ),
    L(
        "pujiang",
        "工业废水重金属吸附材料及再生工艺",
        "energy_saving_environment",
        ("重金属", "吸附", "废水"),
        "改性生物炭吸附材料对铅镉去除率99%，可再生循环20次以上。",
        "invention_patent",
        "transfer",
        "auction",
        2_200_000,
    ),
    L(
        "pujiang",
        "石墨烯导热膜规模化制备技术",
        "new_materials",
        ("石墨烯", "导热膜", "散热"),
        "面内热导率1500瓦每米开尔文，适用于手机与笔记本散热。",
        "invention_patent",
        "license",
        "listed",
        9_000_000,
        ("江帆",),
    ),
    L(
        "guneng",
        "锂电池极片干法电极制备设备",
        "new_energy",
        ("干法电极", "锂电池", "设备"),
        "无溶剂干法成膜，能耗降低40%，设备已在两条产线应用。",
        "utility_model",
        "transfer",
        "listed",
        3_500_000,
    ),
    L(
        "guneng",
        "退役动力电池梯次利用健康评估算法",
        "new_energy",
        ("电池回收", "梯次利用", "健康评估"),
        "基于充放电片段的容量估计误差小于3%，可快速分选退役电芯。",
        "software_copyright",
        "license",
        "negotiated",
        800_000,
    ),
    L(
        "zhizao",
        "五轴联动数控机床热误差补偿系统",
        "advanced_manufacturing",
        ("数控机床", "热误差", "补偿"),
        "温度场建模与实时补偿，加工精度提高60%，已在航空零件加工中应用。",
        "invention_patent",
        "license",
        "auction",
        4_000_000,
        ("王磊",),
    ),
    L(
        "zhizao",
        "协作机器人关节一体化模组",
        "advanced_manufacturing",
        ("协作机器人", "关节", "模组"),
        "电机、减速器、编码器与驱动一体化设计，体积减小30%。",
        "design_patent",
        "transfer",
        "negotiated",
        1_000_000,
    ),
    L(
        "kangyuan",
        "重组胶原蛋白发酵纯化工艺",
        "biomedicine",
        ("胶原蛋白", "发酵", "纯化"),
        "毕赤酵母高密度发酵表达，产量达每升12克，纯度99%。",
        "know_how",
        "equity",
        "negotiated",
        18_000_000,
        ("赵敏",),
    ),
    L(
        "kangyuan",
        "兽用疫苗耐热保护剂配方",
        "agriculture",
        ("兽用疫苗", "保护剂", "冷链"),
        "使活疫苗在25℃下保存效价6个月不下降，减少冷链依赖。",
        "invention_patent",
        "license",
        "listed",
        1_500_000,
    ),
    L(
        "lvhe",
        "水稻抗稻瘟病新品种沪禾 8 号",
        "agriculture",
        ("水稻", "抗病", "新品种"),
        "高抗稻瘟病，亩产比对照增产8%，适宜长江中下游种植。",
        "plant_variety",
        "license",
        "negotiated",
        600_000,
        ("吴芳",),
    ),
    L(
        "lvhe",
        "设施农业水肥一体化智能控制系统",
        "agriculture",
        ("智慧农业", "水肥一体化", "物联网"),
        "根据土壤墒情与作物生长模型自动配比灌溉，节水35%，节肥25%。",
        "software_copyright",
        "transfer",
        "listed",
        900_000,
    ),
    L(
        "lvhe",
        "秸秆生物质颗粒燃料成型技术",
        "energy_saving_environment",
        ("秸秆", "生物质", "颗粒燃料"),
        "低温成型工艺，能耗降低20%，颗粒热值达每千克4200大卡。",
        "utility_model",
        "transfer",
        "auction",
        700_000,
    ),
    L(
        "xinxun",
        "车规级 MCU 功能安全软件库",
        "electronic_information",
        ("车规芯片", "功能安全", "MCU"),
        "满足ISO 26262 ASIL-D要求的安全机制软件库，覆盖诊断与自检。",
        "software_copyright",
        "license",
        "listed",
        6_000_000,
        ("郑浩",),
    ),
    L(
        "xinxun",
        "低噪声 CMOS 图像传感器像素结构",
        "electronic_information",
        ("图像传感器", "CMOS", "低噪声"),
        "读出噪声低于1电子，暗电流降低50%，适用于安防与车载摄像头。",
        "ic_layout",
        "transfer",
        "auction",
        10_000_000,
    ),
    L(
        "qinghuan",
        "工业烟气低温 SCR 脱硝催化剂",
        "energy_saving_environment",
        ("脱硝", "催化剂", "烟气"),
        "150℃下脱硝效率90%以上，抗硫性能良好，适用于钢铁与焦化行业。",
        "invention_patent",
        "license",
        "negotiated",
        3_800_000,
        ("黄蕾",),
    ),
    L(
        "qinghuan",
        "园区碳排放监测与核算平台",
        "other",
        ("碳排放", "双碳", "监测"),
        "多源数据融合的园区碳排放实时核算，满足温室气体核查要求。",
        "software_copyright",
        "transfer",
        "listed",
        1_200_000,
    ),
    L(
        "donghai",
        "技术经纪人培训课程体系与案例库",
        "other",
        ("技术经纪", "培训", "案例"),
        "覆盖技术评估、谈判与合同的课程体系及120个转化案例。",
        "know_how",
        "license",
        "listed",
        300_000,
    ),
    L(
        "pujiang",
        "海水淡化反渗透膜抗污染改性方法",
        "energy_saving_environment",
        ("海水淡化", "反渗透", "膜"),
        "两性离子聚合物接枝改性，通量衰减降低60%，清洗周期延长一倍。",
        "invention_patent",
        "equity",
        "negotiated",
        16_000_000,
        ("石磊",),
    ),
]

# Listings that trade (indices 32 to 40): their fate is told by exchange/server/demo/market.py.
CATALOGUE += [
    L(
        "donghai",
        "钠离子电池硬碳负极材料制备技术",
        "new_energy",
        ("钠离子电池", "硬碳", "负极材料"),
        "以生物质为前驱体的硬碳负极，首效88%、可逆容量330毫安时每克，已完成百公斤级试制。",
        "invention_patent",
        "transfer",
        "auction",
        500_000,
        ("李明", "赵雪"),  # the disclosure of the university's transfer process (demo/institution.py)
        inventor_reward_bp=8000,  # the university's own rule: 80% to the inventors
    ),
    L(
        "pujiang",
        "光刻胶用高纯酚醛树脂合成工艺",
        "new_materials",
        ("光刻胶", "树脂", "半导体材料"),
        "金属离子含量低于10ppb，分子量分布指数小于1.3，已通过两家晶圆厂的小批量验证。",
        "invention_patent",
        "license",
        "negotiated",
        600_000,
        ("马骏",),
    ),
    L(
        "kangyuan",
        "植物源饲用抗菌肽高效表达技术",
        "agriculture",
        ("抗菌肽", "饲料添加剂", "减抗"),
        "枯草芽孢杆菌分泌表达，发酵效价提高3倍，可部分替代饲用抗生素。",
        "know_how",
        "transfer",
        "listed",
        200_000,
    ),
    L(
        "shenjiang",
        "手术机器人力反馈主手控制算法",
        "advanced_manufacturing",
        ("手术机器人", "力反馈", "控制算法"),
        "基于导纳控制的主从力反馈算法，力觉还原误差小于5%，已在动物实验中验证。",
        "software_copyright",
        "license",
        "auction",
        800_000,
        ("彭博", "许晴"),
    ),
    L(
        "zhizao",
        "激光焊接熔池在线监测装置",
        "advanced_manufacturing",
        ("激光焊接", "熔池监测", "质量控制"),
        "同轴视觉与光谱双通道监测熔池状态，焊接缺陷在线识别率98%。",
        "utility_model",
        "transfer",
        "negotiated",
        350_000,
        ("王磊",),
    ),
    L(
        "donghai",
        "配电网边缘计算终端软件",
        "electronic_information",
        ("配电网", "边缘计算", "智能电网"),
        "在配电终端上实现故障定位与自愈控制，隔离故障时间缩短到秒级。",
        "software_copyright",
        "license",
        "negotiated",
        400_000,
        ("郑凯",),
    ),
    L(
        "xinxun",
        "硅基氮化镓功率器件外延结构",
        "electronic_information",
        ("氮化镓", "功率器件", "外延"),
        "应力调控缓冲层使8英寸硅基氮化镓外延片翘曲小于30微米，击穿电压达1200伏。",
        "invention_patent",
        "license",
        "negotiated",
        900_000,
        ("郑浩",),
    ),
    L(
        "shenjiang",
        "冠脉药物涂层球囊涂层工艺",
        "biomedicine",
        ("药物球囊", "涂层", "介入器械"),
        "紫杉醇晶型可控涂层，转移率提高40%，已完成大动物植入实验。",
        "invention_patent",
        "transfer",
        "negotiated",
        1_000_000,
        ("吴迪",),
    ),
    L(
        "pujiang",
        "稀土系固态储氢合金及其制备方法",
        "new_energy",
        ("储氢", "合金", "氢能"),
        "室温吸放氢容量1.8wt%，循环1000次容量保持率95%，适用于分布式储氢。",
        "invention_patent",
        "transfer",
        "auction",
        1_200_000,
        ("杜宇", "孙伟"),
    ),
]
del L

# -- the voucher program ------------------------------------------------------------------------------

PROGRAM_NAME = "东海市科技创新券（演示）"
PROGRAM_BUDGET = 500_000_000  # ¥5,000,000
PROGRAM_FUNDING = 300_000_000  # ¥3,000,000 received from the city's treasury
PROGRAM_CATEGORIES = ("tech_search", "patent_management", "valuation", "testing", "brokerage", "consulting")
GRANTS = {
    "zhizao": 30_000_000,
    "guneng": 20_000_000,
    "kangyuan": 30_000_000,
    "lvhe": 10_000_000,
    "xinxun": 15_000_000,
    "qinghuan": 15_000_000,
}


@dataclass(frozen=True)
class DemoService:
    key: str
    provider: str
    category: str
    title: str
    description: str
    price: int  # fen


SERVICES = [
    DemoService(
        "search",
        "zhiquan",
        "tech_search",
        "专利检索与查新报告",
        "覆盖中、美、欧、日、韩专利数据库，10个工作日出具报告。",
        3_000_000,
    ),
    DemoService(
        "patents",
        "zhiquan",
        "patent_management",
        "专利布局与年度维护管理",
        "专利组合分析、布局建议、年费监控与维持。",
        8_000_000,
    ),
    DemoService(
        "materials",
        "jianyan",
        "testing",
        "新材料力学与热学性能检测",
        "CNAS、CMA 认可实验室，拉伸、弯曲、导热、热稳定性检测。",
        6_000_000,
    ),
    DemoService(
        "emc",
        "jianyan",
        "testing",
        "电子产品电磁兼容（EMC）摸底测试",
        "辐射与传导发射、静电与浪涌抗扰度摸底测试。",
        4_500_000,
    ),
    DemoService(
        "valuation",
        "pinggu",
        "valuation",
        "技术成果价值评估报告",
        "收益法与市场法评估专利及技术秘密价值，出具正式评估报告。",
        10_000_000,
    ),
]
