"""Shanxi's geography for the generator: 11 cities, 117 county-level units, townships.

Cities and county-level units are the real GB/T 2260 codes and names as of 2019
(reference-data.md gives the per-city counts). Township names and codes are invented but
follow the real code scheme (county code + 001-099 for 街道, 100-199 for 镇, 200-299 for 乡).
Everything here is static or derived from a fixed seed, so the geography is the same
whatever the generator's seed or scale: it is reference data, not a random draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np


@dataclass(frozen=True)
class City:
    code: str
    name: str  # e.g. 太原市
    area_code: str  # telephone area code, e.g. 0351
    share: float  # share of the operator's subscribers (reference-data.md, est.)
    urban_share: float  # share of lines in urban areas (est.)


@dataclass(frozen=True)
class County:
    code: str
    name: str
    city_code: str
    level: str  # DISTRICT (市辖区) or COUNTY (县, 县级市)
    weight: float  # relative share of the city's subscribers


@dataclass(frozen=True)
class Township:
    code: str  # 9 digits: county code + 3
    name: str
    county_code: str


CITIES: tuple[City, ...] = (
    City("140100", "太原市", "0351", 0.20, 0.85),
    City("140200", "大同市", "0352", 0.09, 0.66),
    City("140300", "阳泉市", "0353", 0.05, 0.68),
    City("140400", "长治市", "0355", 0.09, 0.57),
    City("140500", "晋城市", "0356", 0.07, 0.60),
    City("140600", "朔州市", "0349", 0.05, 0.56),
    City("140700", "晋中市", "0354", 0.09, 0.62),
    City("140800", "运城市", "0359", 0.11, 0.50),
    City("140900", "忻州市", "0350", 0.07, 0.47),
    City("141000", "临汾市", "0357", 0.10, 0.54),
    City("141100", "吕梁市", "0358", 0.08, 0.48),
)

N_CITIES = len(CITIES)
SHARE = np.array([c.share for c in CITIES])
URBAN = np.array([c.urban_share for c in CITIES])
CITY_CODES = np.array([c.code.encode() for c in CITIES])
AREA_CODES = np.array([c.area_code.encode() for c in CITIES])

PROVINCE_CODE = "140000"
PROVINCE_NAME = "山西省"

# GB/T 2260 county-level units per city, 2019 (after the Datong/Changzhi reforms of 2018-19).
_COUNTIES: dict[str, str] = {
    "140100": "140105 小店区 140106 迎泽区 140107 杏花岭区 140108 尖草坪区 140109 万柏林区 "
    "140110 晋源区 140121 清徐县 140122 阳曲县 140123 娄烦县 140181 古交市",
    "140200": "140212 新荣区 140213 平城区 140214 云冈区 140215 云州区 140221 阳高县 "
    "140222 天镇县 140223 广灵县 140224 灵丘县 140225 浑源县 140226 左云县",
    "140300": "140302 城区 140303 矿区 140311 郊区 140321 平定县 140322 盂县",
    "140400": "140403 潞州区 140404 上党区 140405 屯留区 140406 潞城区 140423 襄垣县 "
    "140425 平顺县 140426 黎城县 140427 壶关县 140428 长子县 140429 武乡县 140430 沁县 "
    "140431 沁源县",
    "140500": "140502 城区 140521 沁水县 140522 阳城县 140524 陵川县 140525 泽州县 140581 高平市",
    "140600": "140602 朔城区 140603 平鲁区 140621 山阴县 140622 应县 140623 右玉县 140681 怀仁市",
    "140700": "140702 榆次区 140721 榆社县 140722 左权县 140723 和顺县 140724 昔阳县 "
    "140725 寿阳县 140726 太谷县 140727 祁县 140728 平遥县 140729 灵石县 140781 介休市",
    "140800": "140802 盐湖区 140821 临猗县 140822 万荣县 140823 闻喜县 140824 稷山县 "
    "140825 新绛县 140826 绛县 140827 垣曲县 140828 夏县 140829 平陆县 140830 芮城县 "
    "140881 永济市 140882 河津市",
    "140900": "140902 忻府区 140921 定襄县 140922 五台县 140923 代县 140924 繁峙县 "
    "140925 宁武县 140926 静乐县 140927 神池县 140928 五寨县 140929 岢岚县 140930 河曲县 "
    "140931 保德县 140932 偏关县 140981 原平市",
    "141000": "141002 尧都区 141021 曲沃县 141022 翼城县 141023 襄汾县 141024 洪洞县 "
    "141025 古县 141026 安泽县 141027 浮山县 141028 吉县 141029 乡宁县 141030 大宁县 "
    "141031 隰县 141032 永和县 141033 蒲县 141034 汾西县 141081 侯马市 141082 霍州市",
    "141100": "141102 离石区 141121 文水县 141122 交城县 141123 兴县 141124 临县 "
    "141125 柳林县 141126 石楼县 141127 岚县 141128 方山县 141129 中阳县 141130 交口县 "
    "141181 孝义市 141182 汾阳市",
}

# Syllables for invented township names (common in northern Chinese place names).
_FIRST = (
    "东西南北王李张刘赵杨郭武贾高段韩梁马宋郝田孟白范常侯曹冯石温"
    "河泉沟峪坪堡寨庄店营关口桥岭山川水林柳杏枣桃槐松青红金银新古大小上下中前后"
)
_SECOND = "家村庄峪沟坪堡寨店营关口城阳泉河湾岭头底集镇屯坡垣塔窑"
_STREET_FIRST = "东西南北中新文府城迎鼓钟楼桥滨柳园平安和兴华康建胜利"
_STREET_SECOND = "街关门城苑路园桥楼坊巷"


def level_of(name: str) -> str:
    return "DISTRICT" if name.endswith("区") else "COUNTY"


@cache
def counties() -> tuple[County, ...]:
    """The 117 county-level units, in code order, with fixed population weights."""
    out: list[County] = []
    for city in CITIES:
        words = _COUNTIES[city.code].split()
        for code, name in zip(words[::2], words[1::2], strict=True):
            level = level_of(name)
            rng = np.random.default_rng(int(code))
            weight = rng.uniform(1.8, 3.5) if level == "DISTRICT" else rng.uniform(0.6, 1.4)
            out.append(County(code, name, city.code, level, round(float(weight), 3)))
    return tuple(out)


def _township_name(rng: np.random.Generator, street: bool, used: set[str]) -> str:
    for _ in range(200):
        if street:
            base = rng.choice(list(_STREET_FIRST)) + rng.choice(list(_STREET_SECOND))
            name = base + "街道"
        else:
            base = rng.choice(list(_FIRST)) + rng.choice(list(_SECOND))
            name = base + ("镇" if rng.random() < 0.6 else "乡")
        if name not in used:
            used.add(name)
            return name
    raise RuntimeError("could not invent a unique township name")  # pragma: no cover


@cache
def townships() -> tuple[Township, ...]:
    """3-15 townships per county-level unit; the first one is the seat (县城/城区)."""
    out: list[Township] = []
    for county in counties():
        rng = np.random.default_rng(int(county.code) * 7 + 1)
        n = int(rng.integers(4, 13)) if county.level == "DISTRICT" else int(rng.integers(6, 16))
        n = min(max(n, 3), 15)
        used: set[str] = set()
        seq = {"street": 1, "town": 100, "xiang": 200}
        for i in range(n):
            street = county.level == "DISTRICT" and (i == 0 or rng.random() < 0.7)
            if county.level == "COUNTY" and i == 0:
                name = "城关镇" if rng.random() < 0.5 else county.name[0] + "城镇"
                used.add(name)
            else:
                name = _township_name(rng, street, used)
            kind = "street" if name.endswith("街道") else "town" if name.endswith("镇") else "xiang"
            out.append(Township(f"{county.code}{seq[kind]:03d}", name, county.code))
            seq[kind] += 1
    return tuple(out)


def city_index(code: str) -> int:
    for i, c in enumerate(CITIES):
        if c.code == code:
            return i
    raise KeyError(f"{code} is not a Shanxi city code; known: {', '.join(c.code for c in CITIES)}")


def city_codes() -> list[str]:
    return [c.code for c in CITIES]


def area_rows() -> list[tuple[str, str, str, str]]:
    """CRM_AREA rows (area_code, area_name, level, parent_code): province, cities, counties,
    townships, each below its parent."""
    rows = [(PROVINCE_CODE, PROVINCE_NAME, "PROVINCE", "")]
    rows += [(c.code, c.name, "CITY", PROVINCE_CODE) for c in CITIES]
    rows += [(k.code, k.name, k.level, k.city_code) for k in counties()]
    rows += [(t.code, t.name, "TOWNSHIP", t.county_code) for t in townships()]
    return rows


@dataclass(frozen=True)
class CountyArrays:
    """Counties as arrays for vectorised sampling: per city a contiguous block in code order."""

    codes: np.ndarray  # S6
    city: np.ndarray  # city index per county
    weight: np.ndarray
    district: np.ndarray  # bool
    urban_p: np.ndarray  # P(URBAN) of a line in this county
    start: np.ndarray  # first county index per city
    stop: np.ndarray


@cache
def county_arrays() -> CountyArrays:
    ks = counties()
    city = np.array([city_index(k.city_code) for k in ks])
    weight = np.array([k.weight for k in ks])
    district = np.array([k.level == "DISTRICT" for k in ks])
    urban_p = np.zeros(len(ks))
    for ci, c in enumerate(CITIES):
        sel = city == ci
        w = weight[sel] / weight[sel].sum()
        wd = float(w[district[sel]].sum())
        # Districts are almost all urban; county seats supply the rest of the city's urban share.
        p_county = (c.urban_share - 0.97 * wd) / max(1e-9, 1.0 - wd)
        urban_p[sel] = np.where(district[sel], 0.97, np.clip(p_county, 0.15, 0.9))
    start = np.array([int(np.flatnonzero(city == i)[0]) for i in range(len(CITIES))])
    stop = np.array([int(np.flatnonzero(city == i)[-1]) + 1 for i in range(len(CITIES))])
    codes = np.array([k.code.encode() for k in ks])
    return CountyArrays(codes, city, weight, district, urban_p, start, stop)


def sample_counties(rng: np.random.Generator, city: np.ndarray) -> np.ndarray:
    """A county index for each row's city, by population weight."""
    ca = county_arrays()
    cdf = np.zeros(len(ca.weight))
    for ci in range(len(CITIES)):
        s, e = ca.start[ci], ca.stop[ci]
        cdf[s:e] = np.cumsum(ca.weight[s:e]) / ca.weight[s:e].sum() + ci
        cdf[e - 1] = ci + 1.0
    u = city + rng.random(len(city))
    return np.minimum(np.searchsorted(cdf, u, side="right"), ca.stop[city] - 1)
