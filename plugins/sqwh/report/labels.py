"""Chinese labels for the codes the warehouse publishes (themes, breakdowns, units).

Labels only: every number, target and definition comes from the warehouse. An unknown code
is shown as itself rather than failing, so a new catalogue theme or breakdown value still
renders (in English) until a label is added here.
"""

from __future__ import annotations

THEMES: dict[str, str] = {
    "channels": "渠道服务",
    "hotline": "10000号客服热线",
    "install_repair": "装机与故障修复",
    "billing": "计费准确性",
    "complaints": "投诉与垃圾短信处理",
    "care": "客户关怀与满意度",
}

BREAKDOWN_TYPES: dict[str, str] = {
    "skill_group": "技能组",
    "area_type": "城乡",
    "touchpoint": "服务触点",
}

BREAKDOWNS: dict[str, str] = {
    "URBAN": "城市",
    "RURAL": "农村",
    "VIP": "VIP",
    "MOBILE": "移动业务",
    "FIXED": "固网业务",
    "GOV_ENT": "政企",
    "FAULT_REPAIR": "障碍报修",
    "COMPLAINT": "投诉",
    "OUTLET": "营业厅",
    "FIELD": "上门服务",
    "HOTLINE": "热线",
}

UNITS: dict[str, str] = {
    "%": "%",
    "min": "分钟",
    "count": "个",
    "per 100 lines/month": "次/百线·月",
    "per 100000": "十万分之",
    "per million": "百万分之",
}

NUMERALS = "一二三四五六七八九十"


def theme(code: str) -> str:
    return THEMES.get(code, code)


def breakdown_type(code: str | None) -> str:
    return BREAKDOWN_TYPES.get(code or "", code or "")


def breakdown(code: str | None) -> str:
    return BREAKDOWNS.get(code or "", code or "")


def unit(code: str) -> str:
    return UNITS.get(code, code)


def numeral(n: int) -> str:
    """Chinese section numbers 一 .. 二十 (a report has fewer sections than that)."""
    if n <= 10:
        return NUMERALS[n - 1]
    return (
        ("" if n < 20 else NUMERALS[n // 10 - 1]) + "十" + (NUMERALS[n % 10 - 1] if n % 10 else "")
    )


def period(code: str) -> str:
    """'2019H1' -> '2019年上半年' (the way the report title names a half year)."""
    year, half = code.split("H")
    return f"{year}年{'上' if half == '1' else '下'}半年"
