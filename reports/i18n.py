"""Report labels in Chinese and English, and the language choice (zh, en or bilingual).

Chinese comes first: in a bilingual report every label is the Chinese text with the English
beneath or beside it in a smaller type (:func:`pair` gives the two parts).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Lang(StrEnum):
    """The language of a report."""

    ZH = "zh"
    EN = "en"
    BILINGUAL = "bilingual"


LABELS: dict[str, tuple[str, str]] = {
    "title": ("碳征信报告", "Carbon credit report"),
    "subtitle": ("企业碳账户信用评价", "Carbon-account credit assessment"),
    "borrower": ("借款主体", "Borrower"),
    "entity_id": ("主体编号", "Entity ID"),
    "sector": ("行业类别", "Sector"),
    "industry_code": ("国民经济行业代码", "Industry code (GB/T 4754)"),
    "region": ("所属区域", "Region"),
    "report_number": ("报告编号", "Report number"),
    "issue_date": ("出具日期", "Issue date"),
    "validity": ("有效期至", "Valid until"),
    "issuer": ("出具机构", "Issuer"),
    "period": ("核算期间", "Accounting period"),
    "verification_code": ("验证码", "Verification code"),
    "verify_hint": ("扫码或访问以下地址验证报告真伪", "Scan or visit to verify this report"),
    "summary": ("一、评价摘要", "1. Summary"),
    "colour_grade": ("碳账户颜色等级", "Colour grade"),
    "carbon_score": ("碳积分", "Carbon score"),
    "efficiency_grade": ("碳效等级", "Carbon-efficiency grade"),
    "carbon_label": ("碳排放水平", "Carbon level"),
    "intensity": ("碳排放强度", "Carbon intensity"),
    "benchmark": ("行业基准", "Industry benchmark"),
    "regional": ("区域平均", "Regional average"),
    "previous": ("上年强度", "Previous year"),
    "yoy": ("同比变化", "Year-on-year change"),
    "k_value": ("碳效值K", "K (intensity / benchmark)"),
    "provisional": ("暂定等级(数据完整率不足90%)", "Provisional grade (data below 90% complete)"),
    "emissions": ("二、碳排放构成", "2. Emissions by source and scope"),
    "energy_type": ("能源类型", "Energy type"),
    "emission_source": ("排放源", "Source"),
    "sinks": ("碳汇(清除量)", "Sinks (removals)"),
    "scope_sink": ("汇", "sink"),
    "net": ("净排放", "Net emissions"),
    "scope": ("范围", "Scope"),
    "quantity": ("用量", "Quantity"),
    "tco2e": ("排放量(tCO2e)", "Emissions (tCO2e)"),
    "share": ("占比", "Share"),
    "total": ("合计", "Total"),
    "scope1": ("范围一(直接排放)", "Scope 1 (direct)"),
    "scope2": ("范围二(外购电力、热力)", "Scope 2 (purchased power, heat)"),
    "monthly": ("三、月度排放趋势", "3. Monthly emissions trend"),
    "monthly_unavailable": (
        "该主体为申报数据,无月度计量数据,不提供月度趋势。",
        "Declared totals only: no metered monthly data, so no monthly trend.",
    ),
    "monthly_partial": (
        "月度趋势仅含计量能源;申报能源{declared}tCO2e未按月分解。",
        "Metered energy only; declared energy of {declared} tCO2e is not split by month.",
    ),
    "month": ("月份", "Month"),
    "dimensions": ("四、三维评价", "4. The three grading dimensions"),
    "dimension": ("维度", "Dimension"),
    "dim_value": ("指标值", "Value"),
    "dim_score": ("得分", "Score"),
    "dim_weight": ("权重", "Weight"),
    "industry_advancement": ("行业先进性", "Industry advancement"),
    "regional_contribution": ("区域贡献度", "Regional contribution"),
    "historical_decline": ("历史下降度", "Historical decline"),
    "reasons": ("评价依据", "Reasons"),
    "quality": ("五、数据质量与完整性", "5. Data quality and completeness"),
    "completeness": ("数据完整率", "Completeness"),
    "quality_tier": ("数据质量等级(1最优)", "Quality tier (1 best)"),
    "data_source": ("数据来源", "Data source"),
    "metered": ("在线计量(15分钟)", "Metered (15-minute)"),
    "declared": ("企业申报", "Declared totals"),
    "intervals": ("已接收/应接收时段", "Intervals received / expected"),
    "alerts": ("六、期间预警", "6. Alerts in the period"),
    "no_alerts": ("期间无预警。", "No alerts in the period."),
    "alert_time": ("时间", "Time"),
    "alert_kind": ("类型", "Kind"),
    "severity": ("级别", "Severity"),
    "meter": ("计量表", "Meter"),
    "status": ("状态", "Status"),
    "products": ("七、可申请产品及参考条件", "7. Eligible products and indicative terms"),
    "no_products": ("当前等级下无可申请产品。", "No product is open to this grade."),
    "product": ("产品", "Product"),
    "lender": ("银行", "Lender"),
    "multiplier": ("授信倍数", "Limit multiplier"),
    "discount": ("利率优惠(bp)", "Rate discount (bp)"),
    "indicative_limit": ("参考额度(元)", "Indicative limit (yuan)"),
    "indicative_rate": ("参考利率", "Indicative rate"),
    "products_note": (
        "参考额度=基础额度{base}元×授信倍数(不超过产品上限);参考利率=LPR+加点−优惠,不低于产品利率下限。"
        "最终条件以银行审批为准。",
        "Indicative limit = base limit {base} yuan × multiplier (capped at the product maximum); "
        "indicative rate = LPR + spread − discount, never below the product floor. "
        "Final terms are the bank's decision.",
    ),
    "refer": ("需人工审核", "subject to review"),
    "methodology": ("八、方法与版本", "8. Methodology and versions"),
    "methodology_text": (
        "排放按GB/T 32150及生态环境部核算指南计算"
        "(燃料:用量×低位发热量×单位热值含碳量×碳氧化率×44/12;"
        "外购电力×电网排放因子;外购热力0.11 tCO2/GJ)。"
        "碳效等级按浙江省碳效码(K=企业强度/行业基准),"
        "颜色等级按衢州三维评价(行业先进性、区域贡献度、历史下降度)。",
        "Emissions follow GB/T 32150 and the MEE accounting guides (fuel: quantity × NCV × carbon "
        "content × oxidation × 44/12; purchased electricity × grid factor; purchased heat "
        "0.11 tCO2/GJ). Carbon-efficiency grade per Zhejiang's carbon-efficiency code "
        "(K = intensity / industry benchmark); colour per Quzhou's three dimensions.",
    ),
    "factor_set": ("排放因子版本", "Factor set"),
    "benchmark_version": ("基准版本", "Benchmark set"),
    "grading_version": ("评级规则版本", "Grading rules"),
    "catalog_version": ("产品目录版本", "Product catalog"),
    "lpr_version": ("LPR数据版本", "LPR history"),
    "report_format": ("报告格式", "Report format"),
    "factors_used": ("所用排放因子", "Emission factors used"),
    "factor": ("因子", "Factor"),
    "source": ("来源", "Source"),
    "signature": ("电子签章", "Digital signature"),
    "signed_by": ("签署人", "Signed by"),
    "signed_at": ("签署时间", "Signed at"),
    "dev_only": ("开发测试证书,不具法律效力", "DEVELOPMENT ONLY: not legally binding"),
    "page": ("第{n}页/共{total}页", "Page {n} of {total}"),
    "attachment_note": (
        "本报告数据以JSON附件形式嵌入PDF,受电子签名保护。",
        "The report data is embedded as a JSON attachment covered by the signature.",
    ),
    "illustrative": ("示例产品,非银行实际条件", "illustrative products, not actual bank terms"),
}

ENERGY_NAMES: dict[str, tuple[str, str]] = {  # energy types and non-energy sources
    "electricity": ("电力", "Electricity"),
    "natural_gas": ("天然气", "Natural gas"),
    "steam": ("蒸汽", "Steam"),
    "heat": ("热力", "Heat"),
    "raw_coal": ("原煤", "Raw coal"),
    "coke": ("焦炭", "Coke"),
    "diesel": ("柴油", "Diesel"),
    "gasoline": ("汽油", "Gasoline"),
    "fuel_oil": ("燃料油", "Fuel oil"),
    "lpg": ("液化石油气", "LPG"),
    "cng": ("压缩天然气", "CNG"),
    "lng": ("液化天然气", "LNG"),
    "enteric_ch4": ("肠道发酵甲烷", "Enteric CH4"),
    "manure_ch4": ("粪便管理甲烷", "Manure CH4"),
    "manure_n2o": ("粪便管理氧化亚氮", "Manure N2O"),
    "rice_ch4": ("稻田甲烷", "Rice CH4"),
    "fertiliser_n2o": ("化肥氧化亚氮", "Fertiliser N2O"),
    "green_space_sink": ("绿地碳汇", "Green-space sink"),
    "forest_sink": ("森林碳汇", "Forest sink"),
    "orchard_sink": ("果园碳汇", "Orchard sink"),
    "organic_fertiliser": ("有机肥替代", "Organic fertiliser"),
    "renewable_self_consumed": ("自发自用可再生电力", "Self-consumed renewables"),
    "renewable_exported": ("上网可再生电力", "Exported renewables"),
}

COLOUR_NAMES: dict[str, tuple[str, str]] = {
    "dark_green": ("深绿", "Dark green"),
    "light_green": ("浅绿", "Light green"),
    "yellow": ("黄", "Yellow"),
    "red": ("红", "Red"),
}

CARBON_LABEL_NAMES: dict[str, tuple[str, str]] = {
    "low": ("低碳", "Low carbon"),
    "medium": ("中碳", "Medium carbon"),
    "high": ("高碳", "High carbon"),
}

SECTOR_NAMES: dict[str, tuple[str, str]] = {
    "industry": ("工业", "Industry"),
    "energy": ("能源", "Energy producer"),
    "building": ("建筑", "Building"),
    "transport": ("交通运输", "Road transport"),
    "agriculture": ("农业", "Agriculture"),
    "resident": ("个人", "Resident"),
}

ALERT_KIND_NAMES: dict[str, tuple[str, str]] = {
    "over_consumption": ("用能异常偏高", "Over-consumption"),
    "flat_line": ("数据恒定", "Flat line"),
    "counter_reset": ("计数器复位", "Counter reset"),
    "gap": ("数据缺失", "Data gap"),
}

SEVERITY_NAMES: dict[str, tuple[str, str]] = {
    "info": ("提示", "Info"),
    "warning": ("警告", "Warning"),
    "critical": ("严重", "Critical"),
}


def pair(key: str, lang: Lang, table: Mapping[str, tuple[str, str]] = LABELS) -> tuple[str, str]:
    """The main text and the secondary (smaller) text of a label in ``lang``.

    Bilingual: (Chinese, English); Chinese only: (Chinese, ""); English only: (English, "").
    Unknown keys fall back to the key itself, so a new code never breaks a report.
    """
    zh, en = table.get(key, (key, key))
    if lang is Lang.ZH:
        return zh, ""
    if lang is Lang.EN:
        return en, ""
    return zh, en


def source_pair(key: str, lang: Lang) -> tuple[str, str]:
    """Label of an emission source: an energy type, or ``source:detail`` (detail in brackets)."""
    source, _, detail = key.partition(":")
    main, sub = pair(source, lang, ENERGY_NAMES)
    if not detail:
        return main, sub
    return f"{main} ({detail})", f"{sub} ({detail})" if sub else ""


def text(
    key: str, lang: Lang, table: Mapping[str, tuple[str, str]] = LABELS, sep: str = " "
) -> str:
    """A label on one line: ``"中文 English"`` when bilingual, else the one language."""
    main, sub = pair(key, lang, table)
    return f"{main}{sep}{sub}" if sub else main
