"""Fake but realistic personal data: phone numbers, accounts, ID numbers, Chinese names.

Numbers are deterministic functions of a customer's index (an affine bijection modulo the
number range), so the same customer has the same mobile, fixed line and broadband account in
every file without storing anything, and two customers never share a number. Numbers that
are not customers (other operators' users, spam senders, test accounts) use prefixes the
operator's customers never get, so they never collide with a customer either.
"""

from __future__ import annotations

import numpy as np

from sqwh.generate.table import civil, digits

# China Telecom mobile prefixes (reference-data.md).
MOBILE_PREFIXES = np.array(
    [b"133", b"149", b"153", b"173", b"177", b"180", b"181", b"189", b"191", b"199"]
)
# Other operators' prefixes, for complainants and callers who are not our customers.
OTHER_PREFIXES = np.array([b"134", b"135", b"138", b"139", b"150", b"158", b"186", b"156"])
# Virtual-operator ranges typical of spam senders.
SPAM_PREFIXES = np.array([b"170", b"171", b"165", b"167"])

_A_MOBILE = 9_821_357  # odd and not a multiple of 5: a bijection modulo 10**8
_A_FIXED = 31_415_927  # coprime with 2, 5 and 7: a bijection modulo 7 * 10**7

GB11643_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
GB11643_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)


def mobile_numbers(index: np.ndarray, seed: int) -> np.ndarray:
    """11-digit mobile numbers of customers ``index`` (unique for index < 10**8)."""
    index = index.astype(np.int64)
    prefix = MOBILE_PREFIXES[(index * 7 + seed) % len(MOBILE_PREFIXES)]
    suffix = (index * _A_MOBILE + seed * 7919 + 12_345) % 10**8
    return np.strings.add(prefix, digits(suffix, 8))


def fixed_local(local_index: np.ndarray, seed: int) -> np.ndarray:
    """8-digit local numbers 2xxxxxxx-8xxxxxxx, unique per city for local_index < 7e7."""
    v = (local_index.astype(np.int64) * _A_FIXED + seed * 104_729) % 70_000_000
    return digits(v + 20_000_000, 8)


def other_numbers(
    rng: np.random.Generator, n: int, prefixes: np.ndarray = OTHER_PREFIXES
) -> np.ndarray:
    prefix = prefixes[rng.integers(0, len(prefixes), n)]
    return np.strings.add(prefix, digits(rng.integers(0, 10**8, n), 8))


def gb11643_check_digit(first17: np.ndarray) -> np.ndarray:
    """ISO 7064 MOD 11-2 check characters (as uint8 ASCII) for an (n, 17) digit matrix."""
    r = (first17.astype(np.int32) @ GB11643_WEIGHTS.astype(np.int32)) % 11
    return GB11643_CHECK[r]


def id_numbers(region: np.ndarray, birth_days: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """18-character resident ID numbers (GB 11643-1999).

    ``region``: 6-digit codes as bytes; ``birth_days``: days since 1970-01-01; ``seq``: 0-999
    (odd = male).
    """
    y, m, d = civil(birth_days)
    n = len(region)
    mat = np.zeros((n, 18), dtype=np.uint8)
    mat[:, :6] = np.ascontiguousarray(region.astype("S6")).view(np.uint8).reshape(n, 6)
    for col, value, width in ((6, y, 4), (10, m, 2), (12, d, 2), (14, seq, 3)):
        for i in range(width):
            mat[:, col + width - 1 - i] = 48 + (value // 10**i) % 10
    mat[:, 17] = gb11643_check_digit(mat[:, :17] - 48)
    return mat.view("S18").ravel()


def id_number_is_valid(text: str) -> bool:
    """True if ``text`` is an 18-character ID number with a correct check character."""
    if len(text) != 18 or not text[:17].isdigit():
        return False
    digits = np.array([int(c) for c in text[:17]])
    return chr(int(gb11643_check_digit(digits[None, :])[0])) == text[17].upper()


# Frequent surnames (northern China / Shanxi weighted) and given-name characters; all in
# GB 2312, so every name encodes in GBK.
SURNAMES = np.array(
    list("王李张刘郭赵杨武贾高梁段韩马宋郝田孟白范常侯曹冯石温陈吴周徐孙胡朱林何罗薛闫董程史")
)
_SURNAME_W = np.linspace(3.0, 0.4, len(SURNAMES))
GIVEN = np.array(
    list(
        "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国文红玉海燕鹏飞宇浩晨欣怡婷雪琳斌波"
        "辉鑫瑞峰志春晓亮俊宏凯佳慧蕾倩萍凤梅林鹏斌晶丹旭东荣新利云龙"
    )
)
_ORG_WORDS = np.array(
    [
        "晋阳",
        "三晋",
        "汾河",
        "太行",
        "恒泰",
        "华瑞",
        "鑫源",
        "龙城",
        "并州",
        "黄河",
        "吕梁山",
        "五台",
    ]
)
_ORG_SUFFIX = np.array(
    [
        "有限公司",
        "煤业有限公司",
        "建设集团有限公司",
        "物流有限公司",
        "第三中学",
        "人民医院",
        "市政管理处",
        "商贸有限公司",
        "农业开发有限公司",
        "科技有限公司",
    ]
)


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Chinese personal names, 2-3 characters."""
    w = _SURNAME_W / _SURNAME_W.sum()
    surname = SURNAMES[rng.choice(len(SURNAMES), n, p=w)]
    first = GIVEN[rng.integers(0, len(GIVEN), n)]
    second = GIVEN[rng.integers(0, len(GIVEN), n)]
    two = rng.random(n) < 0.72
    given = np.where(two, np.strings.add(first, second), first)
    return np.strings.add(surname, given)


def organisation_names(rng: np.random.Generator, city_names: np.ndarray) -> np.ndarray:
    """Government / enterprise customer names like 太原市晋阳煤业有限公司."""
    n = len(city_names)
    word = _ORG_WORDS[rng.integers(0, len(_ORG_WORDS), n)]
    suffix = _ORG_SUFFIX[rng.integers(0, len(_ORG_SUFFIX), n)]
    return np.strings.add(np.strings.add(city_names, word), suffix)
