"""The playbooks' PII recognisers (cx_signals/redact.py): NHS numbers, IMEIs, sort codes, account numbers, health
record numbers and dates of birth; properties over generated values, with their check digits right and wrong."""

from datetime import date

from hypothesis import assume, given
from hypothesis import strategies as st

from cx_signals.redact import card_is_plausible, imei_is_valid, luhn_ok, nhs_number_is_valid, redact


def _types(text: str) -> list[str]:
    return [span.type for span in redact(text).found]


def _nhs_check(body: str) -> int:
    return (11 - sum(int(d) * w for d, w in zip(body, range(10, 1, -1), strict=True)) % 11) % 11


@given(st.text("0123456789", min_size=9, max_size=9), st.sampled_from(["{}", "{} {} {}"]))
def test_nhs_numbers_after_nhs_are_redacted_only_with_a_valid_check_digit(body, layout):
    check = _nhs_check(body)
    assume(check != 10)  # no NHS number has this body
    for digit in range(10):
        number = body + str(digit)
        written = number if layout == "{}" else layout.format(number[:3], number[3:6], number[6:])
        text = f"my NHS number is {written}, thanks"
        assert nhs_number_is_valid(number) == (digit == check)
        if digit == check:
            assert redact(text).text == "my NHS number is [NHS_NUMBER], thanks"
        else:
            assert "nhs_number" not in _types(text)


@given(st.text("0123456789", min_size=14, max_size=14), st.booleans())
def test_imeis_are_redacted_only_when_luhn_valid(body, grouped):
    for digit in "0123456789":
        number = body + digit
        assume(not card_is_plausible(number))  # an Amex-shaped number is a card first
        written = f"{number[:2]}-{number[2:8]}-{number[8:14]}-{number[14]}" if grouped else number
        text = f"the IMEI is {written}."
        assert imei_is_valid(number) == luhn_ok(number)
        if luhn_ok(number):
            assert redact(text).text == "the IMEI is [IMEI]."
        else:
            assert "imei" not in _types(text)


@given(st.text("0123456789", min_size=6, max_size=6), st.sampled_from(["{}{}{}", "{}-{}-{}", "{} {} {}"]))
def test_sort_codes_after_the_words_are_redacted(code, layout):
    written = layout.format(code[:2], code[2:4], code[4:])
    assert redact(f"sort code {written} please").text == "sort code [SORT_CODE] please"
    assert "sort_code" not in _types(f"I got {written} points")


@given(st.text("0123456789", min_size=8, max_size=8))
def test_account_numbers_need_the_words_that_name_them(number):
    assert redact(f"my account number is {number}").text == "my account number is [ACCOUNT_NUMBER]"
    assert "account_number" not in _types(f"order {number[:4]}-{number[4:]} arrived")


@given(
    st.dates(date(1900, 1, 1), date(2099, 12, 31)), st.sampled_from(["%d/%m/%Y", "%Y-%m-%d", "%d %B %Y", "%B %d, %Y"])
)
def test_real_dates_of_birth_are_redacted(born, layout):
    text = f"my date of birth is {born.strftime(layout)} ok"
    assert redact(text).text == "my date of birth is [DATE_OF_BIRTH] ok"


@given(st.integers(1, 12), st.integers(1900, 2099))
def test_impossible_dates_are_not_dates_of_birth(month, year):
    day = 32 if month != 2 else 30
    assert "date_of_birth" not in _types(f"born {year}-{month:02d}-{day}")


@given(st.text("0123456789", min_size=6, max_size=10), st.sampled_from(["", "MRN", "RX"]))
def test_health_record_numbers_after_the_words_are_redacted(number, prefix):
    assert redact(f"my hospital number is {prefix}{number}.").text == "my hospital number is [HEALTH_RECORD]."


@given(
    st.lists(
        st.sampled_from(
            [
                "NHS number 943 476 5919",
                "IMEI 35-209900-176148-1",
                "sort code 20-00-00",
                "acct 12345678",
                "MRN AB1234567",
                "DOB 12/03/1980",
                "call 020 7946 0123",
                "order 4471-2201",
                "and",
                ",",
            ]
        ),
        max_size=8,
    )
)
def test_redaction_of_industry_entities_is_idempotent_and_leaves_no_digit_of_them(parts):
    text = " ".join(parts)
    once = redact(text).text
    assert redact(once).text == once
    for value in ("943 476 5919", "176148", "20-00-00", "12345678", "1234567", "12/03/1980"):
        assert value not in once
