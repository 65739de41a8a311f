"""PII redaction for free text (turn texts, telemetry messages) before it reaches any table.

Detected and replaced by a typed placeholder:

- ``[EMAIL]``: ``local@domain.tld`` and the spoken/obfuscated form ``john dot smith at gmail dot com``,
  ``jane [at] example [dot] org`` (top-level domain from a fixed list).
- ``[PHONE]``: ``phonenumbers.PhoneNumberMatcher`` (leniency VALID) for each region in ``regions``;
  international numbers (``+``/``00``) of any country, national formats of the given regions. A
  national-format match is skipped when it has fewer than 7 digits, lacks the trunk "0" its region
  writes, looks like a date or ZIP+4, is part of an identifier (``INV-2024-000123``) or follows a word
  such as "order", "invoice", "ticket", "tracking" (``order 0612345678``).
- ``[CARD]``: 13–19 digits, optionally grouped by spaces or dashes, passing Luhn with a card-scheme
  prefix and length (Visa, Mastercard, Amex, Discover, Diners, JCB, UnionPay, Maestro).
- ``[IBAN]``: country code + check digits + BBAN, upper or lower case, spaces or dashes allowed,
  checked against the country's IBAN length and the ISO 13616 mod-97 check.
- ``[NATIONAL_ID]``: US SSN written ``AAA-GG-SSSS`` or ``AAA GG SSSS`` (invalid areas 000, 666,
  900–999, group 00, serial 0000 excluded), or nine bare digits after "SSN"/"social security";
  UK National Insurance number (HMRC prefix rules, suffix A–D); French NIR (15 digits, mod-97 key);
  Dutch BSN (eleven-test) only after "BSN"/"burgerservicenummer".
- ``[ADDRESS]``: US/UK-style street lines (house number, capitalised street name, suffix such as
  St/Street/Ave/Road/Lane/Blvd, optional unit and "City, ST 12345"), "City, ST 12345", German and
  Dutch street + house number (``Hauptstraße 5``, ``Kerkstraat 12``), French ``12 rue de la Paix``,
  and UK postcodes (validated postcode area).

Not detected (see tests/data/README.md): names, dates of birth, bank account numbers other than
IBANs, street addresses without a house number, with a lower-case street name or of other shapes
("Laan van Meerdervoort 52", "Flat 3"), cities, ZIP codes or Dutch/German/French postcodes on their
own, PO boxes, phone numbers spelled out in words, national-format numbers of regions not in
``regions``, national ids of other countries, bare nine-digit SSNs or BSNs without context, card
numbers split by other separators.

Deliberately redacted although it may be an id: a bare 9–12 digit number with no id word before it
("it says 4155552671") that libphonenumber validates for one of ``regions``.

Redaction is idempotent: detection is repeated on the redacted text until nothing new is found,
because a value can be hidden inside a longer digit run until its neighbour is replaced.

Overlapping detections are merged into one span typed by priority (email > iban > card >
national_id > phone > address, then the longest), so no part of a detected value survives.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple, overload

import phonenumbers

DEFAULT_REGIONS: tuple[str, ...] = ("US", "GB", "DE", "FR", "NL", "IE", "ES", "IT", "BE", "AU")

# Highest priority first: it decides the type of merged overlapping detections.
PII_TYPES: tuple[str, ...] = ("email", "iban", "card", "national_id", "phone", "address")
PLACEHOLDERS: dict[str, str] = {t: f"[{t.upper()}]" for t in PII_TYPES}
_PRIORITY = {t: i for i, t in enumerate(PII_TYPES)}


class PiiSpan(NamedTuple):
    """One detected value: its type and [start, end) offsets in the original text."""

    type: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class RedactionResult:
    """Redacted text and the spans found in the original text."""

    text: str
    found: list[PiiSpan]


_DIGIT = re.compile(r"\d")
_SPOKEN_HINT = re.compile(r"(?i)dot\b")

# --- email -------------------------------------------------------------------------------------

# Quantifiers are bounded and starts anchored so that long runs of word characters stay linear.
_EMAIL = re.compile(r"(?<![\w.%+'-])[\w.%+'-]{0,63}\w@[\w-]{1,63}(?:\.[\w-]{1,63}){0,8}\.[^\W\d_]{2,24}\b")
_TLDS = r"com|net|org|edu|gov|io|co|info|biz|me|uk|us|de|fr|nl|ie|es|it|be|au|ca|eu|ch|at|se|dk|no|pl"
_SPOKEN_SEP = r"(?:\s+dot\s+|\s*\[dot\]\s*|\s*\(dot\)\s*)"
_SPOKEN_EMAIL = re.compile(
    r"(?i)(?<!\w)\w{1,64}(?:(?:\s+dot\s+|[.-]|\s+underscore\s+)\w{1,64}){0,4}"
    r"(?:\s+at\s+|\s*\[at\]\s*|\s*\(at\)\s*)"
    rf"[\w-]{{1,63}}(?:(?:{_SPOKEN_SEP}|\.)[\w-]{{1,63}}){{0,3}}{_SPOKEN_SEP}(?:{_TLDS})\b"
)


def _emails(text: str) -> Iterator[PiiSpan]:
    if "@" in text:
        for m in _EMAIL.finditer(text):
            yield PiiSpan("email", m.start(), m.end())
    if _SPOKEN_HINT.search(text):
        for m in _SPOKEN_EMAIL.finditer(text):
            yield PiiSpan("email", m.start(), m.end())


# --- IBAN --------------------------------------------------------------------------------------

_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2})\d{2}(?=[ -]?[A-Za-z0-9])")
_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def iban_is_valid(iban: str) -> bool:
    """True when ``iban`` (no separators) has its country's length and passes the mod-97 check."""
    iban = iban.upper()
    if _IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban.isascii() or not iban.isalnum():
        return False
    return int("".join(str(int(c, 36)) for c in iban[4:] + iban[:4])) % 97 == 1


def _ibans(text: str) -> Iterator[PiiSpan]:
    for m in _IBAN_START.finditer(text):
        length = _IBAN_LENGTHS.get(m.group(1).upper())
        if length is None:
            continue
        chars, pos, n = [], m.start(), len(text)
        while len(chars) < length and pos < n:
            c = text[pos]
            if c in _ALNUM:
                chars.append(c)
                pos += 1
            elif c in " -" and chars and pos + 1 < n and text[pos + 1] in _ALNUM:
                pos += 1
            else:
                break
        if len(chars) == length and (pos == n or text[pos] not in _ALNUM) and iban_is_valid("".join(chars)):
            yield PiiSpan("iban", m.start(), pos)


# --- payment cards -----------------------------------------------------------------------------

_DIGIT_GROUPS = re.compile(r"\d+(?:[ \u00a0-]\d+)*")
_DIGIT_RUN = re.compile(r"\d+")
_CARD_SCHEMES: tuple[tuple[tuple[str, ...], range], ...] = (
    (("4",), range(13, 20, 3)),  # Visa 13, 16, 19
    (("51", "52", "53", "54", "55", *(str(p) for p in range(2221, 2721))), range(16, 17)),  # Mastercard
    (("34", "37"), range(15, 16)),  # Amex
    (("6011", "644", "645", "646", "647", "648", "649", "65"), range(16, 20)),  # Discover
    (("300", "301", "302", "303", "304", "305", "3095", "36", "38", "39"), range(14, 20)),  # Diners
    (tuple(str(p) for p in range(3528, 3590)), range(16, 20)),  # JCB
    (("62",), range(16, 20)),  # UnionPay
    (("5018", "5020", "5038", "5893", "6304", "6759", "6761", "6762", "6763"), range(12, 20)),  # Maestro
)


def luhn_ok(digits: str) -> bool:
    """Luhn (mod 10) check of a string of decimal digits."""
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_is_plausible(digits: str) -> bool:
    """True for a Luhn-valid number whose prefix and length belong to a card scheme."""
    n = len(digits)
    return any(n in lengths and digits.startswith(prefixes) for prefixes, lengths in _CARD_SCHEMES) and luhn_ok(digits)


def _card_grouping(groups: list[tuple[int, int]]) -> bool:
    """Cards are written whole or from a group of 4 (4-4-4-4, Amex 4-6-5, Diners 4-6-4), unlike ids."""
    sizes = [end - start for start, end in groups]
    return len(sizes) == 1 or (sizes[0] == 4 and all(2 <= n <= 6 for n in sizes[1:]))


def _cards(text: str) -> Iterator[PiiSpan]:
    for run in _DIGIT_GROUPS.finditer(text):
        groups = [g.span() for g in _DIGIT_RUN.finditer(text, run.start(), run.end())]
        # Every window of whole groups: a card can sit next to a CVV or a quantity in one run.
        windows = []
        for i in range(len(groups)):
            digits = ""
            for j in range(i, len(groups)):
                digits += text[groups[j][0] : groups[j][1]]
                if len(digits) > 19:
                    break
                if len(digits) >= 13 and card_is_plausible(digits) and _card_grouping(groups[i : j + 1]):
                    windows.append((groups[i][0], groups[j][1]))
        windows.sort(key=lambda w: w[0] - w[1])
        taken: list[tuple[int, int]] = []
        for start, end in windows:
            if all(end <= s or start >= e for s, e in taken):
                taken.append((start, end))
                yield PiiSpan("card", start, end)


# --- national ids ------------------------------------------------------------------------------

_SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?!\d|-\d)")
_SSN_IN_CONTEXT = re.compile(
    r"(?i)\b(?:ssn|ss#|social\s+security(?:\s+(?:number|no\.?|#))?)(?:\s+is)?[\s:#]*"
    r"((?!000|666|9\d\d)\d{3}(?!00)\d{2}(?!0000)\d{4})(?!\d)"
)
_NINO = re.compile(
    r"(?i)(?<![A-Za-z0-9])([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])"
)
_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})
_NIR = re.compile(r"(?<![\d.])[12][ .]?\d{2}[ .]?\d{2}[ .]?(?:\d{2}|2[AaBb])[ .]?\d{3}[ .]?\d{3}[ .]?\d{2}(?![\d.])")
_BSN_IN_CONTEXT = re.compile(
    r"(?i)\b(?:bsn|burgerservicenummer|sofinummer)(?:\s*(?:nummer|number|nr\.?|is)\b)*[\s:#]*"
    r"(\d{9}|\d{4}[. ]\d{2}[. ]\d{3})(?!\d)"
)


def _nir_ok(nir: str) -> bool:
    """French NIR: the last two digits are 97 - (first 13 mod 97); Corsica 2A/2B count as 19/18."""
    body = nir[:5] + nir[5:7].upper().replace("2A", "19").replace("2B", "18") + nir[7:13]
    return 97 - int(body) % 97 == int(nir[13:])


def _bsn_ok(bsn: str) -> bool:
    """Dutch BSN eleven-test: 9*d1 + 8*d2 + ... + 2*d8 - d9 is a multiple of 11."""
    digits = [int(c) for c in bsn]
    return any(digits) and sum(d * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True)) % 11 == 0


def _national_ids(text: str) -> Iterator[PiiSpan]:
    for m in _SSN.finditer(text):
        yield PiiSpan("national_id", m.start(), m.end())
    for m in _SSN_IN_CONTEXT.finditer(text):
        yield PiiSpan("national_id", m.start(1), m.end(1))
    for m in _NINO.finditer(text):
        if m.group(1).upper() not in _NINO_BAD_PREFIXES:
            yield PiiSpan("national_id", m.start(), m.end())
    for m in _NIR.finditer(text):
        if _nir_ok(re.sub(r"[ .]", "", m.group())):
            yield PiiSpan("national_id", m.start(), m.end())
    for m in _BSN_IN_CONTEXT.finditer(text):
        if _bsn_ok(re.sub(r"[ .]", "", m.group(1))):
            yield PiiSpan("national_id", m.start(1), m.end(1))


# --- phone numbers -----------------------------------------------------------------------------

_NON_DIGIT = re.compile(r"\D")
# A run of at least 7 digits with phone punctuation: phones need one.
_PHONE_CANDIDATE = re.compile(r"\d(?:[ \t().\-/]{0,3}\d){6,}")
_ZERO_GROUP = re.compile(r"(?<!\d)0")
_NOT_A_PHONE = re.compile(  # ZIP+4 (parses as a Spanish number) and dotted or dashed dates
    r"\d{5}-\d{4}|\d{1,2}([./-])\d{1,2}\1(?:19|20)\d\d|(?:19|20)\d\d([./-])\d{1,2}\2\d{1,2}"
)
_ID_CONTEXT = re.compile(
    r"(?i)\b(?:order|invoice|inv|ticket|case|ref|reference|booking|confirmation|tracking|transaction|txn"
    r"|po|sku|item|serial|model|account|acct|member|membership|customer|claim|policy|parcel|shipment"
    r"|receipt|id|version|build|release)\b[\s:#.]*(?:(?:number|no|nr|num|id|code|is|was)\b[\s:#.]*){0,3}$"
)


def _looks_like_identifier(text: str, start: int, end: int) -> bool:
    """A national-format digit run that is part of an id token or follows an id word is not a phone."""
    if start >= 1 and text[start - 1] == "#":
        return True
    if start >= 2 and text[start - 1] in "-/_" and text[start - 2].isalnum():
        return True
    if end + 1 < len(text) and text[end] in "-/_" and text[end + 1].isalnum():
        return True
    return _ID_CONTEXT.search(text, max(0, start - 40), start) is not None


def _plausible_national(text: str, match: phonenumbers.PhoneNumberMatch, region: str, digits: str) -> bool:
    """A number written without "+" or "00" must be the region's, led by its country code standing alone
    ("447911123456", "44 7911 123456") or, where a trunk "0" is always written, by that 0; anything else
    is a non-Luhn card, an id, a date or a ZIP+4 code (which parses as a Spanish number)."""
    country_code = str(phonenumbers.country_code_for_region(region))
    if match.number.country_code != int(country_code) or _NOT_A_PHONE.fullmatch(match.raw_string):
        return False
    if _looks_like_identifier(text, match.start, match.end):
        return False
    if digits.startswith(country_code) and (match.raw_string.isdigit() or match.raw_string[len(country_code)] == " "):
        return True
    return not _needs_trunk_zero(region) or digits.startswith("0")


@cache
def _needs_trunk_zero(region: str) -> bool:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return metadata is not None and metadata.national_prefix == "0"


def _phones(text: str, regions: Sequence[str], covered: Sequence[PiiSpan]) -> Iterator[PiiSpan]:
    # Runs inside an IBAN or card found already, and unspaced runs after an id word ("order 4471-2201"),
    # never become phones: skip the costly matcher for them.
    runs = [
        m
        for m in _PHONE_CANDIDATE.finditer(text)
        if not any(s.start <= m.start() and m.end() <= s.end for s in covered)
        and (" " in m.group() or not _looks_like_identifier(text, m.start(), m.end()))
    ]
    if not runs:
        return
    # A trunk-"0" region's number starts with 0 and has 7+ digits from there, or with its country code
    # (no "+": those the first region finds) and has 11+ digits ("447911123456").
    trunk_zero_possible = any(
        len(_DIGIT.findall(run.group(), z.start())) >= 7 for run in runs for z in _ZERO_GROUP.finditer(run.group())
    ) or any(len(_DIGIT.findall(run.group())) >= 11 and text[run.start() - 1 : run.start()] != "+" for run in runs)
    seen: set[tuple[int, int]] = set()
    for i, region in enumerate(regions):
        # The first region always runs (international numbers are found from any region); the other
        # trunk-"0" regions only when their numbers are possible. Order numbers skip most regions.
        if i and not trunk_zero_possible and _needs_trunk_zero(region):
            continue
        if seen and all(any(s <= run.start() and run.end() <= e for s, e in seen) for run in runs):
            return
        for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            if (m.start, m.end) in seen:
                continue
            raw = m.raw_string
            digits = _NON_DIGIT.sub("", raw)
            # libphonenumber accepts 4-6 digit service numbers (DE "1690", AU "130123"): not personal.
            if len(digits) < 7:
                continue
            if not raw.startswith(("+", "00")) and not _plausible_national(text, m, region, digits):
                continue
            seen.add((m.start, m.end))
            yield PiiSpan("phone", m.start, m.end)


# --- postal addresses --------------------------------------------------------------------------

_US_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC"
    "|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC|PR"
)
_CITY_STATE_ZIP = rf"[A-Z][a-z]+(?:\s[A-Z][a-z]+){{0,2}},\s*(?:{_US_STATES})\s+\d{{5}}(?:-\d{{4}})?(?!\d)"
_STREET_NAME = r"(?:(?:[A-Z][a-z]+)+(?:['’][A-Za-z]+)?|[A-Z]{2,}|\d{1,3}(?:st|nd|rd|th))"
_STREET_SUFFIX = (
    r"(?i:street|st|avenue|ave|av|road|rd|lane|ln|boulevard|blvd|drive|dr|court|ct|place|pl|terrace|ter"
    r"|way|parkway|pkwy|circle|cir|highway|hwy|square|sq|trail|trl|crescent|cres|close|grove|gardens"
    r"|mews|row|walk|plaza|loop|alley|pike)"
)
_STREET_ADDRESS = re.compile(
    r"(?<![\w.,-])\d{1,6}[A-Za-z]?(?:-\d{1,4})?\s+"
    r"(?:(?:[NSEW]|NE|NW|SE|SW|North|South|East|West)\.?\s+)?"
    rf"(?:{_STREET_NAME}\s+){{0,3}}{_STREET_NAME}\s+{_STREET_SUFFIX}\b\.?"
    r"(?:\s+(?:[NS][EW]?|[EW])\b\.?)?"
    r"(?:,?\s+(?i:apt|apartment|suite|ste|unit|fl|floor|flat|#)\.?\s*#?\s*\w{1,5}\b)?"
    rf"(?:,?\s+{_CITY_STATE_ZIP})?"
    rf"|(?<!\w){_CITY_STATE_ZIP}"
)
_EU_STREET = re.compile(
    # German and Dutch: street name (compound or "Berliner Straße") + house number, optional postcode + city.
    r"\b(?:[A-ZÄÖÜ][a-zäöüß]+(?:straße|strasse|str\.|weg|allee|platz|gasse|damm|ufer|straat|laan|plein"
    r"|gracht|kade|singel|dijk|dreef|hof|steeg)"
    r"|[A-ZÄÖÜ][a-zäöüß]+[ -](?:Straße|Strasse|Str\.|Weg|Allee|Platz|Gasse|Ring|Damm|Ufer))"
    r" ?\d{1,3}(?: ?[a-zA-Z])?\b"
    r"(?:,?\s(?:\d{5}|\d{4} ?[A-Z]{2})\s[A-ZÄÖÜ][a-zäöüß]+)?"
    # French: number + street type in lower case + name, optional postcode + city.
    r"|(?<![\d.,])\d{1,4}(?: ?(?:bis|ter))?,? (?:rue|avenue|av\.|boulevard|bd|place|allée|allee|impasse"
    r"|chemin|quai|route|cours) (?:(?:de la|de l['’]|du|des|de|d['’]|la|le|l['’]) ?)?[A-ZÉÈ][\w'’-]+"
    r"(?: (?:(?:de|du|des|la|le) )?[A-ZÉÈ][\w'’-]+){0,3}(?:,? \d{5} [A-ZÉÈ][\w'’-]+)?"
)
_UK_POSTCODE = re.compile(r"(?i)(?<![A-Za-z0-9])([A-Z]{1,2})\d[A-Z\d]?( ?)\d[ABD-HJLNP-UW-Z]{2}(?![A-Za-z0-9])")
_UK_POSTCODE_AREAS = frozenset(
    {
        "AB", "AL", "B", "BA", "BB", "BD", "BF", "BH", "BL", "BN", "BR", "BS", "BT", "BX", "CA", "CB", "CF",
        "CH", "CM", "CO", "CR", "CT", "CV", "CW", "DA", "DD", "DE", "DG", "DH", "DL", "DN", "DT", "DY", "E",
        "EC", "EH", "EN", "EX", "FK", "FY", "G", "GL", "GU", "GY", "HA", "HD", "HG", "HP", "HR", "HS", "HU",
        "HX", "IG", "IM", "IP", "IV", "JE", "KA", "KT", "KW", "KY", "L", "LA", "LD", "LE", "LL", "LN", "LS",
        "LU", "M", "ME", "MK", "ML", "N", "NE", "NG", "NN", "NP", "NR", "NW", "OL", "OX", "PA", "PE", "PH",
        "PL", "PO", "PR", "RG", "RH", "RM", "S", "SA", "SE", "SG", "SK", "SL", "SM", "SN", "SO", "SP", "SR",
        "SS", "ST", "SW", "SY", "TA", "TD", "TF", "TN", "TQ", "TR", "TS", "TW", "UB", "W", "WA", "WC", "WD",
        "WF", "WN", "WR", "WS", "WV", "YO", "ZE"
    }
)  # fmt: skip


def _addresses(text: str) -> Iterator[PiiSpan]:
    for pattern in (_STREET_ADDRESS, _EU_STREET):
        for m in pattern.finditer(text):
            yield PiiSpan("address", m.start(), m.end())
    for m in _UK_POSTCODE.finditer(text):
        # Lower-case postcodes must keep their space: "b4 4th" is chat, not Birmingham.
        if m.group(1).upper() in _UK_POSTCODE_AREAS and (m.group(2) or m.group().isupper()):
            yield PiiSpan("address", m.start(), m.end())


# --- API ---------------------------------------------------------------------------------------


def _merge(spans: list[PiiSpan]) -> list[PiiSpan]:
    """Merge overlapping spans into one, typed by priority then by the longest member."""
    spans.sort(key=lambda s: (s.start, -s.end))
    merged: list[PiiSpan] = []
    best: list[tuple[int, int]] = []
    for span in spans:
        rank = (_PRIORITY[span.type], span.start - span.end)
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            if rank < best[-1]:
                best[-1] = rank
            merged[-1] = PiiSpan(PII_TYPES[best[-1][0]], last.start, max(last.end, span.end))
        else:
            merged.append(span)
            best.append(rank)
    return merged


def find_pii(text: str, regions: Sequence[str] = DEFAULT_REGIONS) -> list[PiiSpan]:
    """Detected PII spans in ``text``, merged and sorted by start offset."""
    spans = list(_emails(text))
    n_digits = len(_DIGIT.findall(text))
    # Cheap pre-filter: most turns have no digit and no '@' and cost three scans; each detector needs
    # a minimum number of digits (a card 13, a phone or an IBAN 7, a national id 6, an address 1).
    if n_digits:
        spans.extend(_addresses(text))
    if n_digits >= 6:
        spans.extend(_national_ids(text))
    if n_digits >= 7:
        spans.extend(_ibans(text))
        if n_digits >= 13:
            spans.extend(_cards(text))
        spans += list(_phones(text, regions, spans))
    return _merge(spans) if spans else spans


@overload
def redact(text: str, regions: Sequence[str] = ...) -> RedactionResult: ...
@overload
def redact(text: None, regions: Sequence[str] = ...) -> None: ...
def redact(text: str | None, regions: Sequence[str] = DEFAULT_REGIONS) -> RedactionResult | None:
    """Replace PII in ``text`` by typed placeholders such as ``[EMAIL]``; ``None`` stays ``None``."""
    if text is None:
        return None
    found = find_pii(text, regions)
    out = _render(text, found)
    # A value hidden inside a longer run ("020 7946 <card>") shows once its neighbour is replaced:
    # detect again until nothing new appears, so that redaction is idempotent.
    while found and (more := find_pii(out, regions)):
        found = _merge(
            found
            + [PiiSpan(s.type, _original_offset(s.start, found), _original_offset(s.end, found, True)) for s in more]
        )
        out = _render(text, found)
    return RedactionResult(out, found)


def _render(text: str, found: list[PiiSpan]) -> str:
    parts, pos = [], 0
    for span in found:
        parts += (text[pos : span.start], PLACEHOLDERS[span.type])
        pos = span.end
    parts.append(text[pos:])
    return "".join(parts)


def _original_offset(pos: int, found: list[PiiSpan], is_end: bool = False) -> int:
    """Map an offset in ``_render(text, found)`` back to ``text``; inside a placeholder, to its span's edge."""
    shift = 0
    for span in found:
        start = span.start + shift
        end = start + len(PLACEHOLDERS[span.type])
        if pos < start or (is_end and pos == start):
            break
        if pos < end or (is_end and pos == end):
            return span.end if is_end else span.start
        shift = end - span.end
    return pos - shift
