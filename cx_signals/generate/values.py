"""Random values (times, PII, order numbers, prices), ISO timestamps and unique-id and interval helpers."""

from __future__ import annotations

import math
import random
import time

from cx_signals.generate.params import SECOND
from cx_signals.generate.phrases import EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES


def loguniform(r: random.Random, lo: float, hi: float) -> int:
    """An integer drawn log-uniformly from [lo, hi) (used for waits in ms)."""
    return int(math.exp(r.uniform(math.log(lo), math.log(hi))))


def iso(ms: int) -> str:
    """ISO 8601 UTC text with milliseconds and a Z of `ms` (ms since the epoch)."""
    seconds, millis = divmod(ms, SECOND)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def lower_first(text: str) -> str:
    """`text` with its first letter lowered, unless it starts with the pronoun I."""
    return text if text.startswith(("I ", "I'")) else text[0].lower() + text[1:]


def _luhn_check_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def digits(r: random.Random, n: int) -> str:
    """`n` random decimal digits."""
    return "".join(str(r.randrange(10)) for _ in range(n))


def _groups(text: str, sep: str = " ") -> str:
    return sep.join(text[i : i + 4] for i in range(0, len(text), 4))


def _card(r: random.Random) -> str:
    body = "4" + digits(r, 14) if r.random() < 0.6 else "5" + str(r.randint(1, 5)) + digits(r, 13)
    number = body + _luhn_check_digit(body)
    style = r.random()
    return number if style < 0.3 else _groups(number, "-" if style < 0.45 else " ")


def _iban(r: random.Random) -> str:
    country = r.choice(("GB", "GB", "DE", "NL"))
    if country == "GB":
        bban = r.choice(("WEST", "NWBK", "BARC", "LOYD")) + digits(r, 14)
    elif country == "DE":
        bban = digits(r, 18)
    else:
        bban = r.choice(("ABNA", "INGB", "RABO")) + digits(r, 10)
    check = 98 - int("".join(str(int(ch, 36)) for ch in bban + country + "00")) % 97
    iban = f"{country}{check:02d}{bban}"
    return _groups(iban) if r.random() < 0.5 else iban


def _phone(r: random.Random) -> str:
    # Ofcom drama range (020 7946 0xxx) and US 555-01xx: reserved for fiction, never real numbers.
    style = r.randrange(4)
    if style == 0:
        return f"+44 20 7946 0{r.randint(0, 999):03d}"
    if style == 1:
        return f"020 7946 0{r.randint(0, 999):03d}"
    area = r.choice(("415", "212", "646", "312"))
    if style == 2:
        return f"({area}) 555-01{r.randint(0, 99):02d}"
    return f"+1 {area} 555 01{r.randint(0, 99):02d}"


def pii_value(r: random.Random, kind: str) -> str:
    """A fictional but valid-looking PII string of `kind` (email, phone, card passing Luhn, IBAN passing mod 97)."""
    if kind == "email":
        return f"{r.choice(FIRST_NAMES)}.{r.choice(LAST_NAMES)}{r.randint(1, 99)}@{r.choice(EMAIL_DOMAINS)}"
    if kind == "phone":
        return _phone(r)
    if kind == "card":
        return _card(r)
    return _iban(r)


def order_number(r: random.Random) -> str:
    """An order number such as 4471-2201 (not PII)."""
    return f"{r.randint(1000, 9999)}-{r.randint(1000, 9999)}"


def price(r: random.Random) -> str:
    """A price such as $49.99 (not PII)."""
    return f"{r.choice('$$£€')}{r.randint(5, 300)}.{r.randrange(100):02d}"


_MASK64 = (1 << 64) - 1


def mix64(x: int) -> int:
    """SplitMix64's finaliser: a bijection of 64-bit integers that looks random."""
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def overlaps(bands: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether [start, end] meets any of the closed intervals `bands` (ms)."""
    return any(start <= hi and lo <= end for lo, hi in bands)
