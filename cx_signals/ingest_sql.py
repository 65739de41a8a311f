"""SQL derived from the input contracts for set-based ingest: the typing and validation of landing records in DuckDB.

Landing records reach DuckDB as JSON text. `typed_select` types every contract field of a record in SQL and decides
whether the record is in the plain form SQL can vouch for: valid JSON that Python's strict reader would accept the
same way, every field of its JSON type (a string for a string, a number for a number, an ISO-8601 string for a
timestamp), inside its allowed values, range and time bounds, with no text over the limit. Such a record is typed
here; any other record (a quarantine candidate, or a valid record written in a form SQL does not vouch for, such as
an epoch timestamp or "yes" for true) is validated by the Python validator (`cx_signals.contracts`), which gives the
reasons quarantine shows. The plain test may send a valid record to Python, never an invalid one to the tables.

`may_hold_pii` mirrors the redactor's own early exits (`cx_signals.redact`): a text it is false for is one the
redactor leaves unchanged, so only the distinct texts it is true for are redacted, in Python.
"""

from __future__ import annotations

from cx_signals.contracts import ITEM_IDS, Contract, Field
from cx_signals.redact import IBAN_COUNTRIES

# Python's str.isspace() characters: what `strip()` removes and what makes a text blank (missing).
_PY_SPACE = (
    r"\t\n\x{0b}\x{0c}\r\x{1c}-\x{1f} \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"
)
NOT_BLANK = f"[^{_PY_SPACE}]"
# An id SQL vouches for: printable ASCII without surrounding spaces (Python trims ids; SQL sends those to it).
PLAIN_ID = r"[!-~](?:[ -~]*[!-~])?"
_LOCAL_TIME = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?"
NAIVE_TIMESTAMP = _LOCAL_TIME
ZONED_TIMESTAMP = _LOCAL_TIME + r"(?:Z|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)"
# Text Python's strict JSON reader rejects or reads otherwise but DuckDB's accepts: NaN/Infinity, trailing commas,
# and NUL escapes.
_LENIENT_JSON = r"[:,\[]\s*-?(?:NaN|Infinity|inf)|,\s*[}\]]|\\u0000"
# The redactor's early exits: an ASCII text without '%', tab or '=' is read as written; without '@', the word 'dot'
# and any digit no detector runs.
MAY_HOLD_PII = r"[^\x{00}-\x{7f}]|[%\t=@0-9]|(?i:dot)"
# Ids (no spaces) also need one of a detector's shapes: seven digits in a phone-like run that no letter touches
# (phonenumbers' matcher takes no candidate next to a letter), thirteen digits (cards, French NIR), an SSN, a UK
# National Insurance number, a Corsican NIR, an id word (SSN, BSN, or a word an industry entity follows: NHS, IMEI,
# sort code, account, MRN, date of birth, ...), an IBAN's start, an upper-case UK postcode, a Dutch or German street
# with its number.
_ID_SHAPES = (
    r"(?:^|[^A-Za-z0-9])[0-9](?:[ ().\-/\[\]x]{0,3}[0-9]){6,}(?:[^A-Za-z0-9]|$)",
    r"[0-9](?:[ .\-]{0,3}[0-9]){12,}",
    r"[0-9]{3}[- ]{1,3}[0-9]{2}[- ]{1,3}[0-9]{4}",
    r"(?:^|[^A-Za-z0-9])(?i:[A-Z]{2}(?:[ -]{0,3}[0-9]{2}){3}[ -]{0,3}[A-D])(?:[^A-Za-z0-9]|$)",
    r"(?:^|[^0-9.])[12][ .\-]{0,3}[0-9]{2}[ .\-]{0,3}[0-9]{2}[ .\-]{0,3}2[AaBb]",
    r"(?i:ssn|ss#|social|bsn|burgerservicenummer|sofinummer)",
    r"(?i:nhs|imei|sort|account|acct|a/c|mrn|medical|hospital|patient|health|birth|dob|d\.o\.b|born)",
    rf"(?:^|[^A-Za-z0-9])(?i:{'|'.join(IBAN_COUNTRIES)})[0-9]{{2}}",
    r"[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}",
    r"[A-Z][a-z]+(?:stra|str\.|weg|allee|platz|gasse|damm|ufer|laan|plein|gracht|kade|singel|dijk|dreef|hof|steeg)",
    r"[A-Z][a-z]+-(?:Stra|Str\.|Weg|Allee|Platz|Gasse|Ring|Damm|Ufer)",
)
ID_MAY_HOLD_PII = rf"[^\x{{00}}-\x{{7f}}]|[%\t=@\s]|(?i:dot)|{'|'.join(_ID_SHAPES)}"


def not_blank(text: str) -> str:
    """SQL true when `text` holds a character that is not Python whitespace; the regular expression runs only for
    texts that do not start with a printable ASCII character."""
    return (
        f"CASE WHEN ascii({text}) BETWEEN 33 AND 126 THEN true ELSE regexp_matches({text}, {sql_string(NOT_BLANK)}) END"
    )


def sql_string(text: str) -> str:
    """`text` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def may_hold_pii(expression: str, field: Field) -> str:
    """SQL true when the text `expression` may hold PII the redactor would find (false: it surely holds none)."""
    pattern = ID_MAY_HOLD_PII if field.pii == "id_text" else MAY_HOLD_PII
    return f"regexp_matches({expression}, {sql_string(pattern)})"


def timestamp_sql(text: str) -> str:
    """The naive UTC TIMESTAMP of an ISO-8601 `text` (naive: UTC already; else its offset applied), NULL if `text`
    has another form (an epoch, a lower-case 'z') or is no real time."""
    return (
        f"CASE WHEN regexp_full_match({text}, {sql_string(ZONED_TIMESTAMP)})"
        f" THEN timezone('UTC', try_cast({text} AS TIMESTAMPTZ))"
        f" WHEN regexp_full_match({text}, {sql_string(NAIVE_TIMESTAMP)}) THEN try_cast({text} AS TIMESTAMP) END"
    )


def _literals(values: tuple[str, ...]) -> str:
    return ", ".join(sql_string(v) for v in values)


class _FieldSql:
    """The typed value and plain-form test of one field, from its JSON type `t` and its text `s`."""

    def __init__(self, f: Field, t: str, s: str, raw: str) -> None:
        self.f, self.t, self.s, self.raw = f, t, s, raw

    def missing(self, placeholders: tuple[str, ...]) -> str:
        blank = f"({self.t} = 'VARCHAR' AND NOT {not_blank(self.s)})"
        parts = [f"{self.t} IS NULL", f"{self.t} = 'NULL'", blank]
        if self.f.id and placeholders:
            parts.append(f"({self.t} = 'VARCHAR' AND lower({self.s}) IN ({_literals(placeholders)}))")
        return "(" + " OR ".join(parts) + ")"

    def value(self) -> str:
        f, s = self.f, self.s
        if f.type == "string":
            return s
        if f.type == "integer":
            return f"try_cast({s} AS BIGINT)"
        if f.type == "number":
            return f"try_cast({s} AS DOUBLE)"
        if f.type == "boolean":
            return f"({s} = 'true')"
        if f.type == "timestamp":
            return timestamp_sql(s)
        if f.type == "json":
            text = f"CASE {self.t} WHEN 'OBJECT' THEN CAST({self.raw} AS VARCHAR) ELSE {s} END"
            return f"CASE WHEN json_valid({text}) THEN json({text}) END"
        raise ValueError(f"no SQL typing for {f.type} field {f.name}")

    def plain(self, max_text_chars: int, value: str) -> str:
        """The plain-form test of a present value, `value` being the column of its typed value."""
        f, t, s = self.f, self.t, self.s
        if f.type == "string":
            tests = [f"{t} = 'VARCHAR'", f"length({s}) <= {max_text_chars}"]
            if f.id:
                tests.append(f"regexp_full_match({s}, {sql_string(PLAIN_ID)})")
        elif f.type == "integer":
            tests = [f"{t} IN ('BIGINT', 'UBIGINT')", f"{value} IS NOT NULL"]
        elif f.type == "number":
            tests = [f"{t} IN ('BIGINT', 'UBIGINT', 'DOUBLE')", f"isfinite({value})"]
        elif f.type == "boolean":
            tests = [f"{t} = 'BOOLEAN'"]
        elif f.type == "timestamp":
            tests = [f"{t} = 'VARCHAR'", f"{value} BETWEEN $earliest AND $latest"]
        elif f.type == "json":
            text = f"CASE {t} WHEN 'OBJECT' THEN CAST({self.raw} AS VARCHAR) ELSE {s} END"
            readable = f"({t} = 'OBJECT' OR ({t} = 'VARCHAR' AND json_valid({s})))"
            # flat objects only: a nested one could repeat a key, which SQL does not see
            flat = f"strlen({text}) - strlen(replace({text}, '{{', '')) = 1"
            keys = f"len(json_keys({text})) = len(list_distinct(json_keys({text})))"
            tests = [f"CASE WHEN {readable} THEN json_type({text}) = 'OBJECT' AND {flat} AND {keys} ELSE false END"]
        else:
            raise ValueError(f"no SQL typing for {f.type} field {f.name}")
        if f.allowed is not None:
            tests.append(f"{value} IN ({_literals(f.allowed)})")
        if f.range is not None:
            tests.append(f"{value} BETWEEN {f.range[0]!r} AND {f.range[1]!r}")
        return "(" + " AND ".join(tests) + ")"


def extracted(fields: tuple[Field, ...], source: str, prefix: str) -> str:
    """Select-list columns <prefix>_t, _s, _r: the JSON types, texts and JSON values of `fields` in the JSON
    expression `source`, parsed once for all fields."""
    paths = "[" + ", ".join(sql_string(f'$."{f.name}"') for f in fields) + "]"
    # a list's values are read item by item: here only its type, so that no copy of a transcript's turns is held
    values = "[" + ", ".join(sql_string("$.__none__" if f.type == "list" else f'$."{f.name}"') for f in fields) + "]"
    return (
        f"json_type({source}, {paths}) AS {prefix}_t, json_extract_string({source}, {values}) AS {prefix}_s, "
        f"json_extract({source}, {values}) AS {prefix}_r"
    )


def _fields_sql(
    fields: tuple[Field, ...], prefix: str, max_text_chars: int, placeholders: tuple[str, ...]
) -> tuple[list[str], list[str], list[tuple[str, str]], list[str], list[str]]:
    """For the scalar `fields` extracted under `prefix` (see `extracted`), each computed once: a first select-list
    (whether each field is missing, "<prefix>$m$<name>", and its value read as its type), a second one over it (the
    typed value, null when missing, "<prefix>$v$<name>"); (name, typed column) pairs; the plain-form tests over
    those columns; and for each JSON field whether it is present (each present one is one '{' of the text)."""
    first, second, typed, tests, json_present = [], [], [], [], []
    for index, f in enumerate(fields, start=1):
        if f.type == "list":
            continue
        t, s, raw = f"{prefix}_t[{index}]", f"{prefix}_s[{index}]", f"{prefix}_r[{index}]"
        sql = _FieldSql(f, t, s, raw)
        missing, read, value = (f'"{prefix}${kind}${f.name}"' for kind in ("m", "r", "v"))
        first += [f"{sql.missing(placeholders)} AS {missing}", f"{sql.value()} AS {read}"]
        second.append(f"CASE WHEN {missing} THEN NULL ELSE {read} END AS {value}")
        typed.append((f.name, value))
        when_missing = "false" if f.required else "true"
        tests.append(f"CASE WHEN {missing} THEN {when_missing} ELSE {sql.plain(max_text_chars, value)} END")
        if f.type == "json":
            json_present.append(f"(NOT {missing})::INT")
    for f in fields:
        if f.not_before:
            later, earlier = dict(typed)[f.name], dict(typed)[f.not_before]
            tests.append(f"coalesce({later} >= {earlier}, true)")
    return first, second, typed, tests, json_present


def _braces(source: str) -> str:
    return f"(strlen({source}) - strlen(replace({source}, '{{', '')))"


def typed_select(contract: Contract, records: str, max_text_chars: int, placeholders: tuple[str, ...]) -> str:
    """A query over `records` (file_index, line, payload: JSON text) giving file_index, line, `plain` (true when SQL
    vouches for the record) and every contract field typed (lists as lists of typed structs, in their order).

    Uses the parameters $earliest and $latest (the TimeBounds)."""
    first, second, typed, tests, json_present = _fields_sql(contract.fields, "top", max_text_chars, placeholders)
    if contract.one_of_required:
        present = " OR ".join(f"{dict(typed)[name]} IS NOT NULL" for name in contract.one_of_required)
        tests.append(f"({present})")
    ctes = [
        f"""parsed AS (
            SELECT rid, file_index, line, payload, j, json_type(j) AS j_type, json_keys(j) AS j_keys
            FROM (SELECT row_number() OVER () AS rid, file_index, line, payload,
                         CASE WHEN json_valid(payload) THEN payload END AS j
                  FROM {records})
        )""",
        f"top_x AS (SELECT *, {extracted(contract.fields, 'j', 'top')} FROM parsed)",
        f"top_a AS (SELECT *, {', '.join(first)} FROM top_x)",
        f"top AS (SELECT *, {', '.join(second)} FROM top_a)",
    ]
    joins, list_columns, item_counts = [], [], []
    for f in (f for f in contract.fields if f.type == "list"):
        item_fields = contract.items[f.item or ""]
        item_first, item_second, item_typed, item_tests, item_json = _fields_sql(
            item_fields, "item", max_text_chars, placeholders
        )
        if item_json:
            raise ValueError(f"JSON fields inside list items ({f.name}) are not supported")
        alias = f"items_{f.name}"
        struct = ", ".join(f'"{name}" := {expression}' for name, expression in item_typed)
        item_id = ITEM_IDS.get(f.item or "")
        ids = f'list_filter(list_transform(items, x -> x."{item_id}"), x -> x IS NOT NULL)'
        distinct_ids = f"len(list_distinct({ids})) = len({ids})" if item_id else "true"
        position = contract.fields.index(f) + 1
        kind = f"top_t[{position}]"
        ctes.append(
            f"""{alias}_x AS (
                SELECT rid, idx, item, json_type(item) AS item_type, json_keys(item) AS item_keys,
                       {extracted(item_fields, "item", "item")}
                FROM (SELECT rid, unnest(range(len(arr))) AS idx, unnest(arr) AS item
                      FROM (SELECT rid, json_extract(j, '$."{f.name}"[*]') AS arr FROM top_x WHERE {kind} = 'ARRAY'))
            ),
            {alias}_a AS (SELECT *, {", ".join(item_first)} FROM {alias}_x),
            {alias}_b AS (SELECT *, {", ".join(item_second)} FROM {alias}_a),
            {alias}_typed AS (
                SELECT rid, idx, struct_pack({struct}) AS value,
                       coalesce(item_type = 'OBJECT' AND len(item_keys) = len(list_distinct(item_keys))
                                AND {" AND ".join(item_tests)}, false) AS ok
                FROM {alias}_b
            ),
            {alias} AS (
                SELECT rid, items, ok AND {distinct_ids} AS ok, n
                FROM (
                    -- sorted after the aggregate (by idx, the first field): cheaper than an ordered aggregate
                    SELECT rid, list_transform(list_sort(list({{'idx': idx, 'value': value}})), x -> x.value) AS items,
                           bool_and(ok) AS ok, count(*) AS n
                    FROM {alias}_typed GROUP BY rid
                )
            )"""
        )
        joins.append(f"LEFT JOIN {alias} USING (rid)")
        list_columns.append(f"CASE WHEN {kind} = 'ARRAY' THEN coalesce({alias}.items, []) END AS \"{f.name}\"")
        accepted = "('ARRAY')" if f.required else "('ARRAY', 'NULL')"
        tests.append(f"coalesce({kind}, 'NULL') IN {accepted}")
        tests.append(f"coalesce({alias}.ok, true)")
        item_counts.append(f"coalesce({alias}.n, 0)")
    plain = " AND ".join(
        [
            "j IS NOT NULL",
            "j_type = 'OBJECT'",
            "len(j_keys) = len(list_distinct(j_keys))",
            f"NOT regexp_matches(payload, {sql_string(_LENIENT_JSON)})",
            f"{_braces('payload')} = {' + '.join(['1', *item_counts, *json_present])}",
            *tests,
        ]
    )
    columns = [f'{expression} AS "{name}"' for name, expression in typed] + list_columns
    with_clause = ",\n".join(ctes)
    return f"""
        WITH {with_clause}
        SELECT file_index, line, coalesce({plain}, false) AS plain, {", ".join(columns)}
        FROM top {" ".join(joins)}
    """


_INTEGER_TYPES = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"})
_NUMBER_TYPES = _INTEGER_TYPES | {"FLOAT", "DOUBLE"}
_TIMESTAMP_TYPES = frozenset({"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP WITH TIME ZONE", "VARCHAR"})
_NATIVE = {
    "string": frozenset({"VARCHAR"}),
    "integer": _INTEGER_TYPES,
    "number": _NUMBER_TYPES,
    "boolean": frozenset({"BOOLEAN"}),
    "timestamp": _TIMESTAMP_TYPES,
    "json": frozenset({"VARCHAR", "JSON"}),
}


def _native_field(
    f: Field, kind: str | None, max_text_chars: int, placeholders: tuple[str, ...]
) -> tuple[str, str, str]:
    """(missing, value, plain-form test of a present value) of a Parquet column of DuckDB type `kind` (None: absent)."""
    c = f'"{f.name}"'
    if kind is None:
        return "true", "NULL", "false"
    text = kind in ("VARCHAR", "JSON")
    missing = f"({c} IS NULL" + (f" OR NOT {not_blank(c)}" if text else "")
    if f.id and placeholders and text:
        missing += f" OR lower({c}) IN ({_literals(placeholders)})"
    missing += ")"
    tests: list[str] = []
    if f.type == "string":
        value = c
        tests.append(f"length({c}) <= {max_text_chars}")
        if f.id:
            tests.append(f"regexp_full_match({c}, {sql_string(PLAIN_ID)})")
    elif f.type == "integer":
        value = f"try_cast({c} AS BIGINT)"
        tests.append(f"{value} IS NOT NULL")
    elif f.type == "number":
        value = f"CAST({c} AS DOUBLE)"
        tests.append(f"isfinite({value})")
    elif f.type == "boolean":
        value = c
    elif f.type == "timestamp":
        value = (
            timestamp_sql(c)
            if kind == "VARCHAR"
            else f"timezone('UTC', {c})"
            if kind == "TIMESTAMP WITH TIME ZONE"
            else f"CAST({c} AS TIMESTAMP)"
        )
        tests.append(f"{value} BETWEEN $earliest AND $latest")
    else:  # json text
        value = f"CASE WHEN json_valid({c}) THEN json({c}) END"
        flat = f"strlen({c}) - strlen(replace({c}, '{{', '')) = 1"
        keys = f"len(json_keys({c})) = len(list_distinct(json_keys({c})))"
        lenient = f"regexp_matches({c}, {sql_string(_LENIENT_JSON)})"
        tests.append(
            f"CASE WHEN json_valid({c}) THEN json_type({c}) = 'OBJECT' AND {flat} AND {keys} AND NOT {lenient} END"
        )
    if f.allowed is not None:
        tests.append(f"{value} IN ({_literals(f.allowed)})")
    if f.range is not None:
        tests.append(f"{value} BETWEEN {f.range[0]!r} AND {f.range[1]!r}")
    return missing, value, "(" + " AND ".join(tests or ["true"]) + ")"


def parquet_select(
    contract: Contract, columns: dict[str, str], max_text_chars: int, placeholders: tuple[str, ...]
) -> str | None:
    """Like `typed_select`, for a Parquet file with `columns` (name -> DuckDB type) read natively, without JSON:
    a query over read_parquet($path) giving $file_index, line, plain and the typed fields; None when a column's type
    is not one SQL vouches for (a list, nanosecond timestamps, text in a number column): then the file goes the JSON
    way. Uses $path, $file_index, $earliest and $latest."""
    if any(f.type == "list" for f in contract.fields):
        return None
    first, typed, tests = [], [], []
    for f in contract.fields:
        kind = columns.get(f.name)
        if kind is not None and kind not in _NATIVE[f.type]:
            return None
        missing, value, plain = _native_field(f, kind, max_text_chars, placeholders)
        first += [f'{missing} AS "m${f.name}"', f'{value} AS "r${f.name}"', f'{plain} AS "p${f.name}"']
        typed.append((f.name, f'CASE WHEN "m${f.name}" THEN NULL ELSE "r${f.name}" END'))
        when_missing = "false" if f.required else "true"
        tests.append(f'CASE WHEN "m${f.name}" THEN {when_missing} ELSE "p${f.name}" END')
    values = dict(typed)
    for f in contract.fields:
        if f.not_before:
            tests.append(f"coalesce({values[f.name]} >= {values[f.not_before]}, true)")
    if contract.one_of_required:
        tests.append("(" + " OR ".join(f"{values[name]} IS NOT NULL" for name in contract.one_of_required) + ")")
    selected = ", ".join(f'"{c}"' for c in columns if c in values)
    return f"""
        SELECT $file_index::INTEGER AS file_index, line, coalesce({" AND ".join(tests)}, false) AS plain,
               {", ".join(f'{expression} AS "{name}"' for name, expression in typed)}
        FROM (SELECT line, {", ".join(first)}
              FROM (SELECT file_row_number + 1 AS line{", " + selected if selected else ""}
                    FROM read_parquet($path, file_row_number = true)))
    """
