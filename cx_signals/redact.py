"""PII redaction for free text (turn texts, telemetry messages) before it reaches any table.

Detected and replaced by a typed placeholder:

- ``[EMAIL]``: ``local@domain.tld`` and the spoken/obfuscated form ``john dot smith at gmail dot com``,
  ``jane [at] example [dot] org`` (top-level domain from a fixed list).
- ``[PHONE]``: ``phonenumbers.PhoneNumberMatcher`` (leniency VALID) for each region in ``regions``;
  international numbers (``+``/``00``) of any country, national formats of the given regions. A
  national-format match is skipped when it has fewer than 7 digits, lacks the trunk "0" its region
  writes, looks like a date or ZIP+4, is part of an identifier (``INV-2024-000123``) or follows a word
  such as "order", "invoice", "ticket", "tracking" (``order 0612345678``).
- ``[CARD]``: 13–19 digits, optionally grouped by spaces, dashes or dots, passing Luhn with a card-scheme
  prefix and length (Visa, Mastercard, Amex, Discover, Diners, JCB, UnionPay, Maestro).
- ``[IBAN]``: country code + check digits + BBAN, upper or lower case, spaces, dashes or dots allowed,
  checked against the country's IBAN length and the ISO 13616 mod-97 check.
- ``[NATIONAL_ID]``: US SSN written ``AAA-GG-SSSS`` or ``AAA GG SSSS`` (invalid areas 000, 666,
  900–999, group 00, serial 0000 excluded), or nine bare digits after "SSN"/"social security";
  UK National Insurance number (HMRC prefix rules, suffix A–D); French NIR (15 digits, mod-97 key);
  Dutch BSN (eleven-test) only after "BSN"/"burgerservicenummer".
- ``[NHS_NUMBER]``: NHS numbers (ten digits, bare or 3-3-4, passing the NHS mod-11 check) after "NHS"
  ("NHS no. 943 476 5919"); a 3-3-4 number alone is as often a US phone number.
- ``[IMEI]``: fifteen digits passing Luhn, after "IMEI" or written in the IMEI's own groups (2-6-6-1 or 8-6-1).
- ``[SORT_CODE]``: UK bank sort codes (``20-00-00``, ``200000``) after "sort code".
- ``[ACCOUNT_NUMBER]``: bank account numbers (6-12 digits, or 4+4) after "account number", "acct", "a/c".
- ``[HEALTH_RECORD]``: medical record and hospital numbers (up to three letters and 6-10 digits) after
  "MRN", "medical record number", "hospital number", "patient id", "health record number".
- ``[DATE_OF_BIRTH]``: a real calendar date (``12/03/1980``, ``1980-03-12``, ``12th March 1980``,
  ``March 12, 1980``) after "date of birth", "DOB", "born (on)" or "birthday".
- ``[ADDRESS]``: US/UK-style street lines (house number, capitalised street name, suffix such as
  St/Street/Ave/Road/Lane/Blvd, optional unit and "City, ST 12345"), "City, ST 12345", German and
  Dutch street + house number (``Hauptstraße 5``, ``Kerkstraat 12``), French ``12 rue de la Paix``,
  and UK postcodes (validated postcode area).

Obfuscation does not hide a value: the detectors run on a normalised view of the text in which every
character is NFKC-normalised (fullwidth letters, digits and ``＠`` become ASCII; digits of other
scripts become 0–9), invisible characters (format characters such as zero-width spaces and joiners,
the soft hyphen, the BOM, combining marks) are dropped, every dash (en/em dash, non-breaking hyphen,
figure dash, minus sign) becomes "-" and every space (no-break, narrow, thin, tab) becomes " ".
Percent-escapes are decoded (up to three times: a URL inside a query string is encoded twice) and a
literal "+" inside a query-string value without "@" reads as a space. Digit groups may be separated by
up to three spaces, dashes or dots. Each character of the view remembers the characters of the text it
came from, so the placeholder replaces the value as written (all of ``jane.doe%40example.com``) and
everything outside a detected value keeps its characters exactly.

Redaction is linear in the length of the text: every quantifier that can repeat is bounded, and no call
of the phone matcher reads more than what it takes as one candidate (21 blocks of up to 20 digits): a
run of digit groups that long is read whole, as the matcher would, and a longer run (a list, or junk) is
cut where the matcher cuts a candidate that is not a number until every piece fits. (Left to itself,
the matcher reads a 100,000-character flood in minutes and gives up after 65,535 failed candidates,
missing any number after them.) A region's matcher is skipped for a window when libphonenumber's
metadata shows that no piece of it can be one of the region's numbers, and its results are shared
between regions and detection rounds.

The checksums of the industry entities come from python-stdnum (``stdnum.gb.nhs``, ``stdnum.imei``); sort
codes, account numbers, health record numbers and dates of birth have no checksum and are found only after
the words that name them (config/playbooks/ lists which of them matter in each industry; all are always
redacted).

Not detected (see tests/data/README.md): names, dates of birth and bank account numbers written without
the words that name them, street addresses without a house number, with a lower-case street name or of other shapes
("Laan van Meerdervoort 52", "Flat 3"), cities, ZIP codes or Dutch/German/French postcodes on their
own, PO boxes, phone numbers spelled out in words, national-format numbers of regions not in
``regions``, national ids of other countries, bare nine-digit SSNs or BSNs without context, card
numbers split by other separators, a phone number written with spaces inside a run of more than 21
space-separated digit groups, text encoded otherwise than with percent-escapes (base64, HTML entities).

Deliberately redacted although it may be an id: a bare 9–12 digit number with no id word before it
("it says 4155552671") that libphonenumber validates for one of ``regions``.

Redaction is idempotent: detection is repeated on the redacted text until nothing new is found (at most
``_MAX_ROUNDS`` times), because a value can be hidden inside a longer digit run until its neighbour is
replaced.

Overlapping detections are merged into one span typed by priority (email > iban > card >
national_id > nhs_number > imei > sort_code > account_number > health_record > date_of_birth > phone >
address, then the longest), so no part of a detected value survives.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from typing import NamedTuple, TypeAlias, overload

import phonenumbers
from stdnum import imei as stdnum_imei
from stdnum.gb import nhs as stdnum_nhs

DEFAULT_REGIONS: tuple[str, ...] = ("US", "GB", "DE", "FR", "NL", "IE", "ES", "IT", "BE", "AU")

# Highest priority first: it decides the type of merged overlapping detections.
# A value found after the words that name it ("NHS number 916 555 0123") is typed by them rather than as a phone.
PII_TYPES: tuple[str, ...] = (
    "email", "iban", "card", "national_id", "nhs_number", "imei", "sort_code", "account_number", "health_record",
    "date_of_birth", "phone", "address",
)  # fmt: skip
PLACEHOLDERS: dict[str, str] = {t: f"[{t.upper()}]" for t in PII_TYPES}
_PRIORITY = {t: i for i, t in enumerate(PII_TYPES)}

JsonValue: TypeAlias = (
    "str | int | float | bool | list[JsonValue] | tuple[JsonValue, ...] | dict[str, JsonValue] | None"
)


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

# --- normalised view ---------------------------------------------------------------------------

_COMBINING = frozenset({"Mn", "Me"})
_INVISIBLE_CATEGORIES = frozenset({"Cf", *_COMBINING})  # format characters (incl. soft hyphen), combining marks
_DASHES = frozenset("\u2212\u2796\u02d7\u2043")  # minus signs and the hyphen bullet; category Pd has the rest
_DOTS = frozenset("\u3002")  # ideographic full stop: IDNA reads it as the dot of a domain name
_PERCENT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_PERCENT_ROUNDS = 3
_QUERY_VALUE = re.compile(r"[?&][^\s&#=?]{1,64}=([^\s&#]*)")


class _View(NamedTuple):
    """The text the detectors see and, per character, the [start, end) of the original it came from."""

    text: str
    starts: list[int] | None  # None: the view is the original
    ends: list[int] | None

    def original(self, span: PiiSpan) -> PiiSpan:
        if self.starts is None or self.ends is None:
            return span
        return PiiSpan(span.type, self.starts[span.start], self.ends[span.end - 1])


@lru_cache(maxsize=4096)
def _fold(char: str) -> str:
    """The view of one character: NFKC, invisible characters dropped, dashes, spaces and digits unified."""
    out = []
    for c in unicodedata.normalize("NFKC", char):
        category = unicodedata.category(c)
        if category in _INVISIBLE_CATEGORIES:
            continue
        if category == "Pd" or c in _DASHES:
            out.append("-")
        elif category == "Zs" or c == "\t":
            out.append(" ")
        elif category == "Nd":
            out.append(str(unicodedata.decimal(c)))
        elif c in _DOTS:
            out.append(".")
        else:
            out.append(c)
    return "".join(out)


def _percent_decode(text: str, starts: list[int], ends: list[int]) -> tuple[list[str], list[int], list[int]]:
    """Decode each run of UTF-8 percent-escapes; each decoded character maps to all of its escapes."""
    chars: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    pos = 0
    for run in _PERCENT_RUN.finditer(text):
        chars += text[pos : run.start()]
        new_starts += starts[pos : run.start()]
        new_ends += ends[pos : run.start()]
        pos = run.start()
        for c in bytes.fromhex(run.group().replace("%", "")).decode("utf-8", "surrogateescape"):
            if "\udc80" <= c <= "\udcff":  # a byte that is not UTF-8 stays as written
                chars += text[pos : pos + 3]
                new_starts += starts[pos : pos + 3]
                new_ends += ends[pos : pos + 3]
                pos += 3
            else:
                width = 3 * len(c.encode())
                chars.append(c)
                new_starts.append(starts[pos])
                new_ends.append(ends[pos + width - 1])
                pos += width
    chars += text[pos:]
    new_starts += starts[pos:]
    new_ends += ends[pos:]
    return chars, new_starts, new_ends


def _normalise(text: str) -> _View:
    """The view the detectors run on (see the module docstring)."""
    if text.isascii() and "%" not in text and "\t" not in text and "=" not in text:
        return _View(text, None, None)
    chars, starts, ends = list(text), list(range(len(text))), list(range(1, len(text) + 1))
    for _ in range(_PERCENT_ROUNDS):
        decoded = "".join(chars)
        if not _PERCENT_RUN.search(decoded):
            break
        chars, starts, ends = _percent_decode(decoded, starts, ends)
    view: list[str] = []
    view_starts: list[int] = []
    view_ends: list[int] = []
    for c, start, end in zip(chars, starts, ends, strict=True):
        mapped = c if " " <= c <= "~" else _fold(c)
        if not mapped and view_ends and unicodedata.category(c) in _COMBINING:
            view_ends[-1] = end  # a mark belongs to the character it sits on: replaced with it
        for f in mapped:
            view.append(f)
            view_starts.append(start)
            view_ends.append(end)
    folded = "".join(view)
    if "+" in folded and "=" in folded:
        for value in _QUERY_VALUE.finditer(folded):
            # Form encoding writes a space as "+"; but an e-mail's "+" and the "+" before an international
            # number ("phone=+447911123456") are usually left unencoded, so keep those.
            if "@" not in value.group(1):
                for i in range(value.start(1) + (value.group(1)[:1] == "+"), value.end(1)):
                    if view[i] == "+" and view_ends[i] - view_starts[i] == 1:
                        view[i] = " "
        folded = "".join(view)
    return _View(folded, view_starts, view_ends)


# --- email -------------------------------------------------------------------------------------

# Quantifiers are bounded and starts anchored so that long runs of word characters stay linear.
_EMAIL = re.compile(r"(?<![\w.%+'-])[\w.%+'-]{0,63}\w@[\w-]{1,63}(?:\.[\w-]{1,63}){0,8}\.[^\W\d_]{2,24}\b")
_TLDS = r"com|net|org|edu|gov|io|co|info|biz|me|uk|us|de|fr|nl|ie|es|it|be|au|ca|eu|ch|at|se|dk|no|pl"
_SPOKEN_SEP = r"(?:\s{1,3}dot\s{1,3}|\s{0,3}\[dot\]\s{0,3}|\s{0,3}\(dot\)\s{0,3})"
_SPOKEN_EMAIL = re.compile(
    r"(?i)(?<!\w)\w{1,64}(?:(?:\s{1,3}dot\s{1,3}|[.-]|\s{1,3}underscore\s{1,3})\w{1,64}){0,4}"
    r"(?:\s{1,3}at\s{1,3}|\s{0,3}\[at\]\s{0,3}|\s{0,3}\(at\)\s{0,3})"
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
IBAN_COUNTRIES = tuple(sorted(_IBAN_LENGTHS))
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2})\d{2}(?=[ .-]{0,3}[A-Za-z0-9])")
_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_GROUP_SEPARATORS = frozenset(" .-")
_MAX_SEPARATOR = 3  # characters between two groups of a number: "4111 - 1111", double spaces


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
                continue
            gap = pos
            while gap < n and gap - pos < _MAX_SEPARATOR and text[gap] in _GROUP_SEPARATORS:
                gap += 1
            if gap in (pos, n) or text[gap] not in _ALNUM:
                break
            pos = gap
        if len(chars) == length and (pos == n or text[pos] not in _ALNUM) and iban_is_valid("".join(chars)):
            yield PiiSpan("iban", m.start(), pos)


# --- payment cards -----------------------------------------------------------------------------

_DIGIT_GROUPS = re.compile(r"\d+(?:[ .-]{1,3}\d+)*")
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


def _cards(text: str) -> Iterator[PiiSpan]:
    for run in _DIGIT_GROUPS.finditer(text):
        groups = [g.span() for g in _DIGIT_RUN.finditer(text, run.start(), run.end())]
        # Every window of whole groups: a card can sit next to a CVV or a quantity in one run. Cards are
        # written whole or from a group of 4 (4-4-4-4, Amex 4-6-5, Diners 4-6-4), unlike ids.
        windows: list[tuple[int, int]] = []
        for i, (start, end) in enumerate(groups):
            if 13 <= end - start <= 19 and card_is_plausible(text[start:end]):
                windows.append((i, i))
            if end - start != 4:
                continue
            digits = text[start:end]
            for j in range(i + 1, len(groups)):
                if not 2 <= groups[j][1] - groups[j][0] <= 6 or len(digits) + groups[j][1] - groups[j][0] > 19:
                    break
                digits += text[groups[j][0] : groups[j][1]]
                if len(digits) >= 13 and card_is_plausible(digits):
                    windows.append((i, j))
        windows.sort(key=lambda w: groups[w[0]][0] - groups[w[1]][1])
        taken = bytearray(len(groups))
        for i, j in windows:
            if not any(taken[i : j + 1]):
                taken[i : j + 1] = b"\x01" * (j + 1 - i)
                yield PiiSpan("card", groups[i][0], groups[j][1])


# --- national ids ------------------------------------------------------------------------------

_SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}([- ]{1,3})(?!00)\d{2}\1(?!0000)\d{4}(?!\d|-\d)")
_SSN_IN_CONTEXT = re.compile(
    r"(?i)\b(?:ssn|ss#|social\s{1,3}security(?:\s{1,3}(?:number|no\.?|#))?)(?:\s{1,3}is)?[\s:#]{0,6}"
    r"((?!000|666|9\d\d)\d{3}(?!00)\d{2}(?!0000)\d{4})(?!\d)"
)
_NINO = re.compile(
    r"(?i)(?<![A-Za-z0-9])([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z])[ -]{0,3}\d{2}[ -]{0,3}\d{2}[ -]{0,3}\d{2}[ -]{0,3}"
    r"[A-D](?![A-Za-z0-9])"
)
_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})
_NIR_SEP = r"[ .-]{0,3}"
_NIR = re.compile(
    rf"(?<![\d.])[12]{_NIR_SEP}\d{{2}}{_NIR_SEP}\d{{2}}{_NIR_SEP}(?:\d{{2}}|2[AaBb]){_NIR_SEP}\d{{3}}{_NIR_SEP}\d{{3}}"
    rf"{_NIR_SEP}\d{{2}}(?![\d.])"
)
_BSN_IN_CONTEXT = re.compile(
    r"(?i)\b(?:bsn|burgerservicenummer|sofinummer)(?:\s{0,3}(?:nummer|number|nr\.?|is)\b){0,3}[\s:#]{0,6}"
    r"(\d{9}|\d{4}[. -]{1,3}\d{2}[. -]{1,3}\d{3})(?!\d)"
)
_NOT_DIGIT_OR_LETTER = re.compile(r"[^0-9A-Za-z]")


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
        if _nir_ok(_NOT_DIGIT_OR_LETTER.sub("", m.group())):
            yield PiiSpan("national_id", m.start(), m.end())
    for m in _BSN_IN_CONTEXT.finditer(text):
        if _bsn_ok(_NOT_DIGIT_OR_LETTER.sub("", m.group(1))):
            yield PiiSpan("national_id", m.start(1), m.end(1))


# --- industry entities: NHS numbers, IMEIs, sort codes, account numbers, health records, dates of birth ------

_NO_ALNUM_BEFORE = r"(?<![A-Za-z0-9])"
_NO_ALNUM_AFTER = r"(?![A-Za-z0-9])"
# What may stand between a context word and its value: "number", "no.", "is", a colon or hash.
_VALUE_LEAD = r"(?:\s{1,3}(?:number|no\.?|num|nr|#|id))?(?:\s{1,3}(?:is|was))?[\s:#.=]{0,6}"
_NHS_IN_CONTEXT = re.compile(
    rf"(?i)\bnhs{_VALUE_LEAD}{_NO_ALNUM_BEFORE}(\d{{3}}[ -]?\d{{3}}[ -]?\d{{4}}){_NO_ALNUM_AFTER}"
)
_IMEI_GROUPED = re.compile(
    rf"{_NO_ALNUM_BEFORE}(?:\d{{2}}([ -])\d{{6}}\1|\d{{8}}([ -]))\d{{6}}(?:\1|\2)\d{_NO_ALNUM_AFTER}"
)
_IMEI_IN_CONTEXT = re.compile(
    rf"(?i)\bimei{_VALUE_LEAD}{_NO_ALNUM_BEFORE}(\d{{2}}[ -]?\d{{6}}[ -]?\d{{6}}[ -]?\d){_NO_ALNUM_AFTER}"
)
_SORT_CODE = re.compile(
    rf"(?i)\bsort[\s-]{{0,3}}code(?:\s{{1,3}}(?:is|was))?[\s:#.=]{{0,6}}{_NO_ALNUM_BEFORE}"
    rf"(\d{{2}}([ -]?)\d{{2}}\2\d{{2}}){_NO_ALNUM_AFTER}"
)
_ACCOUNT_NUMBER = re.compile(
    rf"(?i)\b(?:account|acct|a/c){_VALUE_LEAD}{_NO_ALNUM_BEFORE}(\d{{6,12}}|\d{{4}}[ -]\d{{4}}){_NO_ALNUM_AFTER}"
)
_HEALTH_RECORD = re.compile(
    r"(?i)\b(?:mrn|medical\s{1,3}record|hospital|patient|health\s{1,3}record)"
    rf"{_VALUE_LEAD}{_NO_ALNUM_BEFORE}([A-Za-z]{{0,3}}\d{{6,10}}){_NO_ALNUM_AFTER}"
)
_MONTH_NAMES = (
    "jan|january", "feb|february", "mar|march", "apr|april", "may", "jun|june", "jul|july", "aug|august",
    "sep|sept|september", "oct|october", "nov|november", "dec|december",
)  # fmt: skip
_MONTHS = {name: i + 1 for i, names in enumerate(_MONTH_NAMES) for name in names.split("|")}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ORDINAL = r"(?:st|nd|rd|th)?"
_DATE_OF_BIRTH = re.compile(
    r"(?i)\b(?:date\s{1,3}of\s{1,3}birth|d\.?o\.?b\b\.?|born(?:\s{1,3}on)?|birthday(?:\s{1,3}is)?)"
    r"(?:\s{1,3}(?:is|was))?[\s:,.=]{0,6}(?<![A-Za-z0-9])("
    r"(?P<n1>\d{1,2})(?P<s>[/.-])(?P<n2>\d{1,2})(?P=s)(?P<y1>\d{4}|\d{2})"
    r"|(?P<y2>\d{4})-(?P<m2>\d{1,2})-(?P<d2>\d{1,2})"
    rf"|(?P<d3>\d{{1,2}}){_ORDINAL}\s{{1,3}}(?:of\s{{1,3}})?(?P<m3>{_MONTH})\.?,?\s{{1,3}}(?P<y3>\d{{4}})"
    rf"|(?P<m4>{_MONTH})\.?\s{{1,3}}(?P<d4>\d{{1,2}}){_ORDINAL},?\s{{1,3}}(?P<y4>\d{{4}})"
    r")(?![A-Za-z0-9])"
)


def nhs_number_is_valid(digits: str) -> bool:
    """True for ten digits passing the NHS number's mod-11 check (python-stdnum's gb.nhs)."""
    return stdnum_nhs.is_valid(digits)


def imei_is_valid(digits: str) -> bool:
    """True for fifteen digits passing the IMEI's Luhn check (python-stdnum's imei)."""
    return len(digits) == 15 and digits.isdigit() and stdnum_imei.is_valid(digits)


def _real_date(day: int, month: int, year: int | None) -> bool:
    """A calendar date (any year when the year is written with two digits, else 1900..2099)."""
    if year is not None and not 1900 <= year <= 2099:
        return False
    try:
        date(2000 if year is None else year, month, day)  # 2000 is a leap year: 29 February stays possible
    except ValueError:
        return False
    return True


def _date_of_birth_ok(m: re.Match[str]) -> bool:
    g = m.groupdict()
    if g["n1"]:
        year = int(g["y1"]) if len(g["y1"]) == 4 else None
        n1, n2 = int(g["n1"]), int(g["n2"])
        return _real_date(n1, n2, year) or _real_date(n2, n1, year)  # day first (UK) or month first (US)
    if g["y2"]:
        return _real_date(int(g["d2"]), int(g["m2"]), int(g["y2"]))
    if g["d3"]:
        return _real_date(int(g["d3"]), _MONTHS[g["m3"].lower()], int(g["y3"]))
    return _real_date(int(g["d4"]), _MONTHS[g["m4"].lower()], int(g["y4"]))


def _digits_of(text: str) -> str:
    return _NON_DIGIT.sub("", text)


def _industry_ids(text: str) -> Iterator[PiiSpan]:
    for m in _NHS_IN_CONTEXT.finditer(text):
        if nhs_number_is_valid(_digits_of(m.group(1))):
            yield PiiSpan("nhs_number", m.start(1), m.end(1))
    for m in _IMEI_GROUPED.finditer(text):
        if imei_is_valid(_digits_of(m.group())):
            yield PiiSpan("imei", m.start(), m.end())
    for m in _IMEI_IN_CONTEXT.finditer(text):
        if imei_is_valid(_digits_of(m.group(1))):
            yield PiiSpan("imei", m.start(1), m.end(1))
    for kind, pattern in (
        ("sort_code", _SORT_CODE),
        ("account_number", _ACCOUNT_NUMBER),
        ("health_record", _HEALTH_RECORD),
    ):
        for m in pattern.finditer(text):
            yield PiiSpan(kind, m.start(1), m.end(1))
    for m in _DATE_OF_BIRTH.finditer(text):
        if _date_of_birth_ok(m):
            yield PiiSpan("date_of_birth", m.start(1), m.end(1))


# --- phone numbers -----------------------------------------------------------------------------

_NON_DIGIT = re.compile(r"\D")
# A run of at least 7 digits with phone punctuation ("x" as the matcher reads it, also for an extension):
# phones need one.
_PHONE_RUN = re.compile(r"\d(?:[ ().\-/\[\]x]{0,3}\d){6,}")
# What phonenumbers' matcher reads as one candidate: 21 blocks of at most 20 digits. A longer run (a
# list, or junk: no number is that long) is cut where the matcher cuts a candidate that is not a number
# (its _INNER_MATCHES: at slashes, before brackets, at spaced hyphens, then at spaces before dots, so that
# "01.23.45.60.82" stays whole) until every piece fits: no call of the matcher reads more than one candidate.
_MAX_WINDOW_BLOCKS = 21
_BLOCK_DIGITS = 20
_RUN_CUTS = (
    re.compile(r"/+"),
    re.compile(r"(?=\()"),
    re.compile(r"\s-\s*|-\s+"),
    re.compile(r"\s+"),
    re.compile(r"\.+"),
)
_LEAD = frozenset("+([")
_LEAD_PUNCTUATION = frozenset(" -./)]x")
_MAX_LEAD = 10
_LENIENCY = phonenumbers.Leniency.VALID
_ZERO_GROUP = re.compile(r"(?<!\d)0")
_NOT_A_PHONE = re.compile(  # ZIP+4 (parses as a Spanish number) and dotted or dashed dates
    r"\d{5}-\d{4}|\d{1,2}([./-])\d{1,2}\1(?:19|20)\d\d|(?:19|20)\d\d([./-])\d{1,2}\2\d{1,2}"
)
_ID_CONTEXT = re.compile(
    r"(?i)\b(?:order|invoice|inv|ticket|case|ref|reference|booking|confirmation|tracking|transaction|txn"
    r"|po|sku|item|serial|model|account|acct|member|membership|customer|claim|policy|parcel|shipment"
    r"|receipt|id|version|build|release)\b[\s:#.]*(?:(?:number|no|nr|num|id|code|is|was)\b[\s:#.]*){0,3}$"
)
# The pieces phonenumbers' matcher parses when a whole candidate is not a number (its _INNER_MATCHES,
# less the wide hyphens, which the view has turned into "-").
_MATCHER_SPLITS = (
    re.compile(r"/+(.*)"),
    re.compile(r"(\([^(]*)"),
    re.compile(r"(?:\s-|-\s)\s*(.+)"),
    re.compile(r"\.+\s*([^.]+)"),
    re.compile(r"\s+(\S+)"),
)
_INTERNATIONAL = re.compile(r"\D*\+")
# Neighbours that do not stop the matcher from taking a candidate (a letter, "%" or a currency sign do).
_NEUTRAL = frozenset(" \n()[]./-,;:")


def _looks_like_identifier(text: str, start: int, end: int) -> bool:
    """A national-format digit run that is part of an id token or follows an id word is not a phone."""
    if start >= 1 and text[start - 1] == "#":
        return True
    if start >= 2 and text[start - 1] in "-/_" and text[start - 2].isalnum():
        return True
    if end + 1 < len(text) and text[end] in "-/_" and text[end + 1].isalnum():
        return True
    return _ID_CONTEXT.search(text, max(0, start - 40), start) is not None


class _Match(NamedTuple):
    """A ``PhoneNumberMatch`` with offsets into the whole text."""

    start: int
    end: int
    raw: str
    number: phonenumbers.PhoneNumber


def _plausible_national(text: str, match: _Match, region: str, digits: str) -> bool:
    """A number written without "+" or "00" must be the region's, led by its country code standing alone
    ("447911123456", "44 7911 123456") or, where a trunk "0" is always written, by that 0; anything else
    is a non-Luhn card, an id, a date or a ZIP+4 code (which parses as a Spanish number)."""
    country_code = str(phonenumbers.country_code_for_region(region))
    if match.number.country_code != int(country_code) or _NOT_A_PHONE.fullmatch(match.raw):
        return False
    if _looks_like_identifier(text, match.start, match.end):
        return False
    if digits.startswith(country_code) and (match.raw.isdigit() or match.raw[len(country_code)] == " "):
        return True
    return not _needs_trunk_zero(region) or digits.startswith("0")


@cache
def _needs_trunk_zero(region: str) -> bool:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return metadata is not None and metadata.national_prefix == "0"


class _RegionRules(NamedTuple):
    """What a national-format number of a region can look like, from libphonenumber's metadata."""

    international_prefix: re.Pattern[str] | None
    country_code: str
    national_prefix: re.Pattern[str] | None
    # Per length of the national number: the union of the patterns of the regions sharing the country code.
    national_number: dict[int, re.Pattern[str]]


@cache
def _region_rules(region: str) -> _RegionRules | None:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.national_prefix_transform_rule:
        return None
    patterns: dict[int, list[str]] = {}
    for other in phonenumbers.region_codes_for_country_code(metadata.country_code):
        desc = getattr(phonenumbers.PhoneMetadata.metadata_for_region(other), "general_desc", None)
        if desc is None or not desc.possible_length or not desc.national_number_pattern:
            return None
        for length in desc.possible_length:
            patterns.setdefault(length, []).append(f"(?:{desc.national_number_pattern})")
    return _RegionRules(
        re.compile(metadata.international_prefix) if metadata.international_prefix else None,
        str(metadata.country_code),
        re.compile(metadata.national_prefix_for_parsing) if metadata.national_prefix_for_parsing else None,
        {length: re.compile("|".join(p)) for length, p in patterns.items()},
    )


def _may_be_number(digits: str, region: str) -> bool:
    """False only when no way libphonenumber reads ``digits`` for ``region`` (after an international
    prefix, the country code or a national prefix) can be a valid number: the matcher can be skipped."""
    rules = _region_rules(region)
    if rules is None or (rules.international_prefix and rules.international_prefix.match(digits)):
        return True
    readings = [digits, digits[len(rules.country_code) :]] if digits.startswith(rules.country_code) else [digits]
    if rules.national_prefix:
        readings += [r[m.end() :] for r in readings if (m := rules.national_prefix.match(r))]
    return any((p := rules.national_number.get(len(r))) and p.fullmatch(r) for r in readings)


def _matcher_key(digits: str, region: str) -> str:
    """A lone candidate after an international prefix parses alike from every region that dials it."""
    rules = _region_rules(region)
    if rules and rules.international_prefix and (m := rules.international_prefix.match(digits)):
        return "+" + m.group()
    return region


class _Pieces(NamedTuple):
    """What the matcher may parse in a candidate: the whole and each piece its inner matches cut."""

    international: bool  # a piece of 7+ digits written with "+"
    numbers: list[tuple[str, str]]  # the pieces of 7+ digits, as (piece, digits)
    whole_only: bool  # nothing to cut: the matcher parses the candidate whole or not at all


def _pieces(candidate: str) -> _Pieces:
    pieces = {candidate}
    for pattern in _MATCHER_SPLITS:
        m = pattern.search(candidate)
        if m:
            pieces.add(candidate[: m.start()])
        while m:
            pieces.add(m.group(1))
            m = pattern.search(candidate, m.start() + 1)
    international, numbers = False, []
    for piece in pieces:
        # "x" may start an extension, which is not part of the number.
        for digits in {_NON_DIGIT.sub("", piece), _NON_DIGIT.sub("", piece.partition("x")[0])}:
            if len(digits) >= 7:
                international = international or _INTERNATIONAL.match(piece) is not None
                numbers.append((piece, digits))
    return _Pieces(international, numbers, len(pieces) == 1)


class _MatcherMemo:
    """Matcher work shared by the regions and detection rounds of one text: hostile texts repeat one
    window many times, and every round sees most windows again."""

    def __init__(self) -> None:
        self.matches: dict[tuple[str, str], list[phonenumbers.PhoneNumberMatch]] = {}
        self.pieces: dict[str, _Pieces] = {}
        # (candidate, region) that libphonenumber rejects whatever stands around it.
        self.rejected: set[tuple[str, str]] = set()


class _Cover:
    """Answers "is [start, end) inside one of these spans" in logarithmic time."""

    def __init__(self, spans: Sequence[PiiSpan]) -> None:
        ordered = sorted(spans)
        self._starts = [s.start for s in ordered]
        self._max_ends: list[int] = []
        for s in ordered:
            self._max_ends.append(max(s.end, self._max_ends[-1]) if self._max_ends else s.end)

    def covers(self, start: int, end: int) -> bool:
        k = bisect_right(self._starts, start) - 1
        return k >= 0 and self._max_ends[k] >= end


def _digit_count(text: str, start: int, end: int) -> int:
    return len(_DIGIT.findall(text, start, end))


def _trunk_zero_possible(text: str, start: int, end: int) -> bool:
    """A trunk-"0" region's number starts with 0 and has 7+ digits from there, or with its country code
    (no "+": those the first region finds) and has 11+ digits ("447911123456")."""
    zero = _ZERO_GROUP.search(text, start, end)
    if zero and _digit_count(text, zero.start(), end) >= 7:
        return True
    return _digit_count(text, start, end) >= 11 and text[start - 1 : start] != "+"


def _fitting_windows(text: str, start: int, end: int, level: int = 0) -> Iterator[tuple[int, int]]:
    """[start, end) trimmed to its digits if the matcher reads it as one candidate, else the windows of its
    pieces cut at ``_RUN_CUTS[level]``, and in the end its digit groups."""
    while start < end and not text[start].isdigit():
        start += 1
    while end > start and not text[end - 1].isdigit():
        end -= 1
    groups = [g.end() - g.start() for g in _DIGIT_RUN.finditer(text, start, end)]
    if sum(-(-n // _BLOCK_DIGITS) for n in groups) <= _MAX_WINDOW_BLOCKS:
        if sum(groups) >= 7:
            yield start, end
        return
    if level == len(_RUN_CUTS):
        for group in _DIGIT_RUN.finditer(text, start, end):
            if 7 <= len(group.group()) <= _MAX_WINDOW_BLOCKS * _BLOCK_DIGITS:
                yield group.span()
        return
    pos = start
    for cut in _RUN_CUTS[level].finditer(text, start, end):
        yield from _fitting_windows(text, pos, cut.start(), level + 1)
        pos = cut.end()
    yield from _fitting_windows(text, pos, end, level + 1)


def _matches(text: str, start: int, end: int, region: str, first: bool, memo: _MatcherMemo) -> list[_Match]:
    """The matcher's matches for ``region`` in the window [start, end), read with its "+" or bracket; none
    without calling it when no piece of the window can be a number of the region."""
    lead = start
    # The matcher's candidate may open with up to two "+" or brackets, each followed by punctuation.
    for k in range(start - 1, max(0, start - _MAX_LEAD) - 1, -1):
        if text[k] in _LEAD:
            lead = k
        elif text[k] not in _LEAD_PUNCTUATION:
            break
    candidate = text[lead:end]
    if (pieces := memo.pieces.get(candidate)) is None:
        pieces = memo.pieces[candidate] = _pieces(candidate)
    if not (pieces.international and first) and not any(
        (piece, region) not in memo.rejected and _may_be_number(digits, region) for piece, digits in pieces.numbers
    ):
        return []
    # The neighbours the matcher checks (a letter before or after, ":30" after a timestamp), but no other
    # digit, lest a match spill into the next window.
    lo = lead - 1 if lead and not text[lead - 1].isdigit() else lead
    hi = min(len(text), end + 3)
    if text[end : end + 1] != ":":
        hi = next((k for k in range(end, hi) if text[k].isdigit()), hi)
    window = text[lo:hi]
    region_key = _matcher_key(pieces.numbers[0][1], region) if pieces.whole_only and pieces.numbers else region
    key = (window, region_key)
    if key not in memo.matches:
        memo.matches[key] = list(phonenumbers.PhoneNumberMatcher(window, region, leniency=_LENIENCY))
        alone = (
            lead == start
            and text[lo:start] in ("", *_NEUTRAL)
            and text[end:hi][:1] in ("", *_NEUTRAL)
            and not _DIGIT.search(text, end, hi)
        )
        if pieces.whole_only and alone and not memo.matches[key]:
            memo.rejected.add((candidate, region))
    return [_Match(lo + m.start, lo + m.end, m.raw_string, m.number) for m in memo.matches[key]]


def _phones(text: str, regions: Sequence[str], covered: Sequence[PiiSpan], memo: _MatcherMemo) -> Iterator[PiiSpan]:
    # Runs inside an IBAN or card found already never become phones: skip the costly matcher for them.
    inside_found = _Cover(covered)
    taken = bytearray(len(text))  # characters of the phones found so far
    seen: set[tuple[int, int]] = set()
    for run in _PHONE_RUN.finditer(text):
        if inside_found.covers(run.start(), run.end()):
            continue
        for start, end in _fitting_windows(text, run.start(), run.end()):
            trunk_zero_possible = _trunk_zero_possible(text, start, end)
            for i, region in enumerate(regions):
                if taken.find(0, start, end) == -1:
                    break
                # The first region always runs (international numbers are found from any region); the other
                # trunk-"0" regions only when their numbers are possible. Order numbers skip most regions.
                if i and not trunk_zero_possible and _needs_trunk_zero(region):
                    continue
                for match in _matches(text, start, end, region, not i, memo):
                    digits = _NON_DIGIT.sub("", match.raw)
                    # libphonenumber accepts 4-6 digit service numbers (DE "1690", AU "130123"): not personal.
                    if len(digits) < 7 or (match.start, match.end) in seen:
                        continue
                    if match.raw.startswith(("+", "00")) or _plausible_national(text, match, region, digits):
                        seen.add((match.start, match.end))
                        taken[match.start : match.end] = b"\x01" * (match.end - match.start)
                        yield PiiSpan("phone", match.start, match.end)


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

# Each round can only reveal a value whose neighbour the previous round replaced; real texts need two.
_MAX_ROUNDS = 4


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


def _detect(text: str, regions: Sequence[str], memo: _MatcherMemo) -> list[PiiSpan]:
    spans = list(_emails(text))
    n_digits = len(_DIGIT.findall(text))
    # Cheap pre-filter: most turns have no digit and no '@' and cost three scans; each detector needs
    # a minimum number of digits (a card 13, a phone or an IBAN 7, a national id 6, an address 1).
    if n_digits:
        spans.extend(_addresses(text))
        spans.extend(_industry_ids(text))  # a date of birth can have 4 digits ("born 1/2/80")
    if n_digits >= 6:
        spans.extend(_national_ids(text))
    if n_digits >= 7:
        spans.extend(_ibans(text))
        if n_digits >= 13:
            spans.extend(_cards(text))
        spans += list(_phones(text, regions, spans, memo))
    return spans


def find_pii(text: str, regions: Sequence[str] = DEFAULT_REGIONS) -> list[PiiSpan]:
    """Detected PII spans in ``text`` (offsets into ``text`` as written), merged and sorted by start offset."""
    return _find_pii(text, regions, _MatcherMemo())


def _find_pii(text: str, regions: Sequence[str], memo: _MatcherMemo) -> list[PiiSpan]:
    view = _normalise(text)
    spans = [view.original(s) for s in _detect(view.text, regions, memo)]
    return _merge(spans) if spans else spans


@overload
def redact(text: str, regions: Sequence[str] = ...) -> RedactionResult: ...
@overload
def redact(text: None, regions: Sequence[str] = ...) -> None: ...
def redact(text: str | None, regions: Sequence[str] = DEFAULT_REGIONS) -> RedactionResult | None:
    """Replace PII in ``text`` by typed placeholders such as ``[EMAIL]``; ``None`` stays ``None``."""
    if text is None:
        return None
    memo = _MatcherMemo()
    found = _find_pii(text, regions, memo)
    out = _render(text, found)
    # A value hidden inside a longer run ("020 7946 <card>") shows once its neighbour is replaced:
    # detect again until nothing new appears, so that redaction is idempotent.
    for _ in range(_MAX_ROUNDS):
        more = _find_pii(out, regions, memo) if found else []
        if not more:
            break
        found = _merge(found + _to_original(more, found))
        out = _render(text, found)
    return RedactionResult(out, found)


def redact_json_value(value: JsonValue, regions: Sequence[str] = DEFAULT_REGIONS) -> tuple[JsonValue, int]:
    """Redact every string inside a JSON-like value: dict values and list items at any depth. Dict keys stay,
    unless one carries PII itself ({"jo@example.com": true}): that is redacted like a value, and keys that
    then coincide keep the last value. Other scalars are kept, tuples come back as lists. Returns the new
    value and the number of redactions."""
    count = 0

    def redacted(text: str) -> str:
        nonlocal count
        result = redact(text, regions)
        count += len(result.found)
        return result.text

    def shell(item: JsonValue) -> JsonValue:
        """A redacted scalar, or an empty container the loop below fills."""
        if isinstance(item, str):
            return redacted(item)
        if isinstance(item, dict):
            return {}
        if isinstance(item, list | tuple):
            return [None] * len(item)
        return item

    root = shell(value)
    # An explicit stack: properties nested a thousand deep must not exhaust the interpreter's.
    stack: list[tuple[JsonValue, JsonValue]] = [(value, root)]
    while stack:
        source, target = stack.pop()
        if isinstance(source, dict) and isinstance(target, dict):
            for key, item in source.items():
                name = redacted(key)
                target[name] = shell(item)
                stack.append((item, target[name]))
        elif isinstance(source, list | tuple) and isinstance(target, list):
            for i, item in enumerate(source):
                target[i] = shell(item)
                stack.append((item, target[i]))
    return root, count


def _render(text: str, found: list[PiiSpan]) -> str:
    parts, pos = [], 0
    for span in found:
        parts += (text[pos : span.start], PLACEHOLDERS[span.type])
        pos = span.end
    parts.append(text[pos:])
    return "".join(parts)


def _to_original(spans: list[PiiSpan], found: list[PiiSpan]) -> list[PiiSpan]:
    """Map spans of ``_render(text, found)`` back to ``text``; an edge inside a placeholder goes to its span's edge."""
    rendered_starts: list[int] = []
    shifts: list[int] = []  # rendered offset - original offset after each placeholder
    shift = 0
    for span in found:
        rendered_starts.append(span.start + shift)
        shift += len(PLACEHOLDERS[span.type]) - (span.end - span.start)
        shifts.append(shift)

    def offset(pos: int, is_end: bool) -> int:
        k = (bisect_left if is_end else bisect_right)(rendered_starts, pos) - 1
        if k < 0:
            return pos
        placeholder_end = rendered_starts[k] + len(PLACEHOLDERS[found[k].type])
        if pos < placeholder_end or (is_end and pos == placeholder_end):
            return found[k].end if is_end else found[k].start
        return pos - shifts[k]

    return [PiiSpan(s.type, offset(s.start, False), offset(s.end, True)) for s in spans]
