"""Conversation categories and QA scorecards: rules written in YAML (`config/categories.yml`), validated with errors
that name the rule, and compiled to one parameterised DuckDB query.

A rule's condition is one of:

- `phrase`: a turn of `speaker` (customer, agent, bot, system; any speaker when left out) holding any of `phrases`
  (case-insensitive, whole words, any run of white space between words), optionally only among the speaker's
  `first` or `last` N turns (of all turns when no speaker is named);
- `streak`: `length` consecutive turns of `speaker` (customer by default) whose VADER compound is `below` (or `above`)
  a value, e.g. three negative customer turns in a row;
- `signal`: a column of `signals.conversation_signals` compared (`op`: > >= < <= = !=) with a `value`;
- `category`: another category's condition;
- `all`, `any` (lists of conditions) and `not` (one condition).

Each condition has a first matching turn: the turn of a phrase, the turn at which a streak reaches its length, the
latest of the parts' first turns for `all`, the earliest matching part's for `any`, none for `signal` and `not`.

User text never enters the SQL text: phrases become a regular expression bound as a parameter (every character
that is not a letter, digit or space is escaped), numbers and speakers are parameters, and a signal's column must be
a column of the contract, quoted as an identifier. The rules carry a `version` string, and their content hash
(SHA-256 of their canonical JSON, so that comments and layout do not count) is stored in every row they produce.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import yaml

from cx_signals.bundled import project_dir
from cx_signals.contracts import table_contracts
from cx_signals.db import bind

SPEAKERS = ("customer", "agent", "bot", "system")
OPERATORS = {">": ">", ">=": ">=", "<": "<", "<=": "<=", "=": "=", "==": "=", "!=": "<>"}
SIGNALS_TABLE = "signals.conversation_signals"
ANSWERS = ("met", "not_met", "not_applicable")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class RulesError(ValueError):
    """The rules file is unreadable or a rule is malformed: the message names the rule and what is wrong."""


@dataclass(frozen=True)
class Phrase:
    """A turn of `speaker` (None: any) holding one of `phrases`, among the speaker's first or last N turns."""

    phrases: tuple[str, ...]
    speaker: str | None = None
    first: int | None = None
    last: int | None = None


@dataclass(frozen=True)
class Streak:
    """`length` consecutive turns of `speaker` whose compound is below `below` (or above `above`)."""

    speaker: str
    length: int
    below: float | None = None
    above: float | None = None


@dataclass(frozen=True)
class Signal:
    """A conversation signal compared with a value: `column` `op` `value`."""

    column: str
    op: str
    value: float | bool | str


@dataclass(frozen=True)
class AllOf:
    """Every part holds."""

    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    """At least one part holds."""

    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    """The part does not hold."""

    part: Condition


Condition = Phrase | Streak | Signal | AllOf | AnyOf | Not


@dataclass(frozen=True)
class Category:
    """A named condition: `signals.conversation_categories` holds one row per conversation and category."""

    name: str
    description: str
    when: Condition


@dataclass(frozen=True)
class Question:
    """A scorecard question: not applicable unless `applies` holds, else met when `met` holds; worth `weight`."""

    name: str
    text: str
    weight: float
    met: Condition
    applies: Condition | None = None


@dataclass(frozen=True)
class Scorecard:
    """A named list of questions."""

    name: str
    description: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Rules:
    """Validated categories and scorecards with their version string and content hash (hex SHA-256)."""

    version: str
    content_hash: str
    categories: tuple[Category, ...]
    scorecards: tuple[Scorecard, ...] = field(default=())


def default_rules_path() -> Path:
    """The bundled rules file."""
    return project_dir("config") / "categories.yml"


def content_hash(document: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of a rules document: what the rules say, not how the file is laid out."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_rules(path: Path | str | None = None) -> Rules:
    """The rules of the YAML file at `path` (the bundled file when None), validated (RulesError otherwise)."""
    source = Path(path) if path else default_rules_path()
    try:
        document = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"cannot read rules file {source}: {exc}") from None
    try:
        return parse_rules(document)
    except RulesError as exc:
        raise RulesError(f"{source}: {exc}") from None


def _signal_columns() -> dict[str, str]:
    return {f.name: f.type for f in table_contracts()[SIGNALS_TABLE].fields}


def _mapping(value: Any, where: str, allowed: Collection[str], required: Collection[str] = ()) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RulesError(f"{where} must be a mapping, got {value!r}")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise RulesError(
            f"{where} has unknown key(s) {', '.join(map(str, unknown))} (allowed: {', '.join(sorted(allowed))})"
        )
    missing = sorted(required - set(value))
    if missing:
        raise RulesError(f"{where} needs {', '.join(missing)}")
    return value


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RulesError(f"{where} must be a whole number of at least 1, got {value!r}")
    return value


def _number(value: Any, where: str, low: float | None = None, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RulesError(f"{where} must be a number, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise RulesError(f"{where} must be in [{low}, {high}], got {value!r}")
    return float(value)


def _speaker(value: Any, where: str) -> str:
    if value not in SPEAKERS:
        raise RulesError(f"{where} must be one of {', '.join(SPEAKERS)}, got {value!r}")
    return value


class _Parser:
    """Parses conditions, resolving `category` references (each category's condition parsed once, cycles refused)."""

    def __init__(self, categories: dict[str, Any]) -> None:
        self.raw = categories
        self.parsed: dict[str, Condition] = {}
        self.resolving: list[str] = []
        self.columns = _signal_columns()

    def category(self, name: str, where: str) -> Condition:
        if name not in self.raw:
            raise RulesError(f"{where} names an unknown category {name!r} (known: {', '.join(sorted(self.raw))})")
        if name in self.resolving:
            raise RulesError(f"categories refer to each other in a cycle: {' -> '.join([*self.resolving, name])}")
        if name not in self.parsed:
            self.resolving.append(name)
            body = _mapping(self.raw[name], f"categories.{name}", {"description", "when"}, {"when"})
            self.parsed[name] = self.condition(body["when"], f"categories.{name}.when")
            self.resolving.pop()
        return self.parsed[name]

    def condition(self, value: Any, where: str) -> Condition:
        kinds = {"phrase", "streak", "signal", "category", "all", "any", "not"}
        if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in kinds:
            raise RulesError(f"{where} must be a mapping with exactly one of {', '.join(sorted(kinds))}, got {value!r}")
        kind, body = next(iter(value.items()))
        inner = f"{where}.{kind}"
        if kind in ("all", "any"):
            if not isinstance(body, list) or not body:
                raise RulesError(f"{inner} must be a non-empty list of conditions, got {body!r}")
            parts = tuple(self.condition(part, f"{inner}[{i}]") for i, part in enumerate(body))
            return AllOf(parts) if kind == "all" else AnyOf(parts)
        if kind == "not":
            return Not(self.condition(body, inner))
        if kind == "category":
            return self.category(body, inner)
        if kind == "phrase":
            return self.phrase(body, inner)
        if kind == "streak":
            return self.streak(body, inner)
        return self.signal(body, inner)

    @staticmethod
    def phrase(body: Any, where: str) -> Phrase:
        body = _mapping(body, where, {"phrases", "speaker", "first", "last"}, {"phrases"})
        phrases = body["phrases"]
        if not isinstance(phrases, list) or not phrases:
            raise RulesError(f"{where}.phrases must be a non-empty list of phrases, got {phrases!r}")
        for i, text in enumerate(phrases):
            if not isinstance(text, str) or not text.strip():
                raise RulesError(f"{where}.phrases[{i}] must be a non-empty text, got {text!r}")
        if "first" in body and "last" in body:
            raise RulesError(f"{where} may name first or last, not both")
        return Phrase(
            phrases=tuple(" ".join(p.split()) for p in phrases),
            speaker=_speaker(body["speaker"], f"{where}.speaker") if "speaker" in body else None,
            first=_count(body["first"], f"{where}.first") if "first" in body else None,
            last=_count(body["last"], f"{where}.last") if "last" in body else None,
        )

    @staticmethod
    def streak(body: Any, where: str) -> Streak:
        body = _mapping(body, where, {"speaker", "length", "below", "above"}, {"length"})
        if ("below" in body) == ("above" in body):
            raise RulesError(f"{where} needs exactly one of below and above (a compound in [-1, 1])")
        return Streak(
            speaker=_speaker(body.get("speaker", "customer"), f"{where}.speaker"),
            length=_count(body["length"], f"{where}.length"),
            below=_number(body["below"], f"{where}.below", -1, 1) if "below" in body else None,
            above=_number(body["above"], f"{where}.above", -1, 1) if "above" in body else None,
        )

    def signal(self, body: Any, where: str) -> Signal:
        body = _mapping(body, where, {"column", "op", "value"}, {"column", "op", "value"})
        column, op, value = body["column"], body["op"], body["value"]
        kind = self.columns.get(column)
        if kind not in ("integer", "number", "boolean", "string"):
            usable = sorted(n for n, t in self.columns.items() if t in ("integer", "number", "boolean", "string"))
            raise RulesError(
                f"{where}.column must be a column of {SIGNALS_TABLE} ({', '.join(usable)}), got {column!r}"
            )
        if op not in OPERATORS:
            raise RulesError(f"{where}.op must be one of {' '.join(OPERATORS)}, got {op!r}")
        if kind in ("boolean", "string") and OPERATORS[op] not in ("=", "<>"):
            raise RulesError(f"{where}.op must be = or != for the {kind} column {column}, got {op!r}")
        expected = {"integer": (int, float), "number": (int, float), "boolean": (bool,), "string": (str,)}[kind]
        if not isinstance(value, expected) or (kind in ("integer", "number") and isinstance(value, bool)):
            raise RulesError(f"{where}.value must be a {kind} for the column {column}, got {value!r}")
        return Signal(column, OPERATORS[op], float(value) if kind in ("integer", "number") else value)


def parse_rules(document: Any) -> Rules:
    """Validate a rules document (the YAML's content) into Rules; RulesError names the first bad rule."""
    document = _mapping(document, "the rules file", {"version", "categories", "scorecards"}, {"version", "categories"})
    version = document["version"]
    if not isinstance(version, str | int | float) or isinstance(version, bool) or not str(version).strip():
        raise RulesError(f"version must be a non-empty text, got {version!r}")
    raw_categories = document["categories"]
    if not isinstance(raw_categories, dict) or not raw_categories:
        raise RulesError("categories must be a non-empty mapping of category names to rules")
    for name in raw_categories:
        if not isinstance(name, str) or not _NAME.match(name):
            raise RulesError(
                f"category name {name!r} must be lower-case letters, digits and _ (starting with a letter)"
            )
    parser = _Parser(raw_categories)
    categories = tuple(
        Category(name, str(raw_categories[name].get("description", "")), parser.category(name, f"categories.{name}"))
        for name in raw_categories
    )
    raw_scorecards = document.get("scorecards") or {}
    if not isinstance(raw_scorecards, dict):
        raise RulesError(f"scorecards must be a mapping of scorecard names to questions, got {raw_scorecards!r}")
    scorecards = []
    for name, body in raw_scorecards.items():
        where = f"scorecards.{name}"
        if not isinstance(name, str) or not _NAME.match(name):
            raise RulesError(f"scorecard name {name!r} must be lower-case letters, digits and _")
        body = _mapping(body, where, {"description", "questions"}, {"questions"})
        if not isinstance(body["questions"], list) or not body["questions"]:
            raise RulesError(f"{where}.questions must be a non-empty list")
        questions, seen = [], set()
        for i, raw in enumerate(body["questions"]):
            at = f"{where}.questions[{i}]"
            raw = _mapping(raw, at, {"id", "text", "weight", "met", "applies"}, {"id", "text", "met"})
            if not isinstance(raw["id"], str) or not _NAME.match(raw["id"]) or raw["id"] in seen:
                raise RulesError(f"{at}.id must be a unique lower-case name, got {raw['id']!r}")
            seen.add(raw["id"])
            questions.append(
                Question(
                    name=raw["id"],
                    text=str(raw["text"]),
                    weight=_number(raw.get("weight", 1), f"{at}.weight", 0, None),
                    met=parser.condition(raw["met"], f"{at}.met"),
                    applies=parser.condition(raw["applies"], f"{at}.applies") if "applies" in raw else None,
                )
            )
        if not any(q.weight > 0 for q in questions):
            raise RulesError(f"{where} needs a question with a weight above 0")
        scorecards.append(Scorecard(name, str(body.get("description", "")), tuple(questions)))
    return Rules(str(version).strip(), content_hash(document), categories, tuple(scorecards))


def phrase_pattern(phrases: tuple[str, ...]) -> str:
    """One case-insensitive RE2 pattern matching any of `phrases` literally, as whole words, with any run of white
    space (Unicode spaces included) between words: every ASCII character other than a letter, digit or space is
    escaped."""

    def literal(word: str) -> str:
        return "".join(f"\\{c}" if c.isascii() and not c.isalnum() else c for c in word)

    def word_edge(c: str) -> str:
        return r"\b" if c.isascii() and (c.isalnum() or c == "_") else ""

    parts = []
    for text in phrases:
        words = text.split()
        # a no-break or other Unicode space between words counts as a space
        parts.append(word_edge(text[0]) + r"[\s\p{Z}]+".join(literal(w) for w in words) + word_edge(text[-1]))
    return "(?i)(?:" + "|".join(parts) + ")"


@dataclass
class CompiledRules:
    """The SQL of the rules and its parameters: `wide` returns per conversation `m_<i>` (matched) and `t_<i>` (first
    matching turn) for each target, then `categories` and `answers` read the wide result (a temp table `_qa_wide`)."""

    wide: str
    categories: str
    answers: str
    parameters: dict[str, Any]


class _Compiler:
    def __init__(self) -> None:
        self.parameters: dict[str, Any] = {}
        self.leaves: dict[Condition, int] = {}
        self.phrase_filters: list[str] = []
        self.streak_ctes: list[str] = []

    def bind(self, value: Any) -> str:
        name = f"rule_value_{len(self.parameters)}"
        self.parameters[name] = value
        return f"${name}"

    def leaf(self, condition: Phrase | Streak) -> int:
        if condition in self.leaves:
            return self.leaves[condition]
        index = len(self.leaves)
        self.leaves[condition] = index
        if isinstance(condition, Phrase):
            position, count = ("speaker_position", "speaker_count") if condition.speaker else ("position", "turn_count")
            tests = [f"regexp_matches(text, {self.bind(phrase_pattern(condition.phrases))})"]
            if condition.speaker:
                tests.append(f"speaker = {self.bind(condition.speaker)}")
            if condition.first:
                tests.append(f"{position} <= {self.bind(condition.first)}")
            if condition.last:
                tests.append(f"{position} > {count} - {self.bind(condition.last)}")
            self.phrase_filters.append(f"min(turn_index) FILTER (WHERE {' AND '.join(tests)}) AS leaf_{index}")
        else:
            test = (
                f"compound < {self.bind(condition.below)}"
                if condition.below is not None
                else (f"compound > {self.bind(condition.above)}")
            )
            # runs of consecutive qualifying turns of the speaker: islands of equal (position - qualifying rank);
            # the first turn at which a run reaches the length is the match
            self.streak_ctes.append(
                f"""leaf_{index} AS (
    SELECT conversation_id, min(turn_index) AS leaf_{index}
    FROM (
        SELECT conversation_id, turn_index,
               row_number() OVER (PARTITION BY conversation_id, island ORDER BY turn_index) AS run_length
        FROM (
            SELECT conversation_id, turn_index,
                   speaker_position - row_number() OVER (PARTITION BY conversation_id ORDER BY turn_index) AS island
            FROM turns
            WHERE speaker = {self.bind(condition.speaker)} AND {test}
        )
    )
    WHERE run_length >= {self.bind(condition.length)}
    GROUP BY conversation_id
)"""
            )
        return index

    def expressions(self, condition: Condition) -> tuple[str, str]:
        """(matched, first turn) SQL expressions of `condition` over the joined leaves."""
        if isinstance(condition, Phrase | Streak):
            column = f"leaf_{self.leaf(condition)}"
            return f"({column} IS NOT NULL)", column
        if isinstance(condition, Signal):
            return f'coalesce(sig."{condition.column}" {condition.op} {self.bind(condition.value)}, FALSE)', "NULL"
        if isinstance(condition, Not):
            matched, _ = self.expressions(condition.part)
            return f"(NOT {matched})", "NULL"
        parts = [self.expressions(part) for part in condition.parts]
        if isinstance(condition, AllOf):
            matched = "(" + " AND ".join(m for m, _ in parts) + ")"
            return matched, f"CASE WHEN {matched} THEN greatest({', '.join(t for _, t in parts)}) END"
        matched = "(" + " OR ".join(m for m, _ in parts) + ")"
        return matched, f"least({', '.join(f'CASE WHEN {m} THEN {t} END' for m, t in parts)})"


def compile_rules(rules: Rules) -> CompiledRules:
    """The parameterised SQL computing every category and scorecard answer of `rules` for the consented conversations
    started on a day in [$start_date, $end_date]."""
    compiler = _Compiler()
    columns = []
    for i, category in enumerate(rules.categories):
        matched, turn = compiler.expressions(category.when)
        columns.append(f"{matched} AS m_{i}, {turn} AS t_{i}")
    questions = [(card, question) for card in rules.scorecards for question in card.questions]
    for j, (_, question) in enumerate(questions):
        matched, turn = compiler.expressions(question.met)
        applies = compiler.expressions(question.applies)[0] if question.applies else "TRUE"
        columns.append(f"{matched} AS qm_{j}, {turn} AS qt_{j}, {applies} AS qa_{j}")
    ctes = [
        """conversations AS (
    SELECT c.partition_date, c.conversation_id
    FROM raw.conversations AS c
    WHERE c.partition_date BETWEEN $start_date AND $end_date
      AND consented(c.customer_key)
)""",
        """turns AS (
    SELECT
        t.conversation_id, t.turn_index, t.speaker, coalesce(t.text, '') AS text, s.compound,
        row_number() OVER (PARTITION BY t.conversation_id, t.speaker ORDER BY t.turn_index) AS speaker_position,
        count(*) OVER (PARTITION BY t.conversation_id, t.speaker) AS speaker_count,
        row_number() OVER (PARTITION BY t.conversation_id ORDER BY t.turn_index) AS position,
        count(*) OVER (PARTITION BY t.conversation_id) AS turn_count
    FROM raw.turns AS t
    JOIN conversations AS c USING (conversation_id)
    LEFT JOIN signals.turn_sentiment AS s
      ON s.conversation_id = t.conversation_id AND s.turn_index = t.turn_index
     AND s.partition_date BETWEEN $start_date AND $end_date
    WHERE t.partition_date BETWEEN $start_date AND $end_date
)""",
    ]
    phrase_columns = "".join(f",\n        {f}" for f in compiler.phrase_filters)
    ctes.append(
        f"phrase_hits AS (\n    SELECT conversation_id{phrase_columns}\n    FROM turns\n    GROUP BY conversation_id\n)"
    )
    ctes.extend(compiler.streak_ctes)
    streak_joins = "".join(
        f"\nLEFT JOIN leaf_{i} USING (conversation_id)" for c, i in compiler.leaves.items() if isinstance(c, Streak)
    )
    select_columns = "".join(f",\n    {c}" for c in columns)
    wide = (
        "WITH "
        + ",\n".join(ctes)
        + f"""
SELECT c.partition_date, c.conversation_id{select_columns}
FROM conversations AS c
LEFT JOIN phrase_hits USING (conversation_id){streak_joins}
LEFT JOIN {SIGNALS_TABLE} AS sig
  ON sig.conversation_id = c.conversation_id AND sig.partition_date BETWEEN $start_date AND $end_date"""
    )
    parameters = dict(compiler.parameters)
    parameters.update({"rules_version": rules.version, "rules_hash": rules.content_hash})

    def name(kind: str, i: int, value: Any) -> str:
        parameters[f"{kind}_{i}"] = value
        return f"${kind}_{i}"

    category_selects = [
        f"SELECT partition_date, conversation_id, {name('rule_category', i, c.name)} AS category, m_{i} AS matched, "
        f"t_{i} AS first_turn_index FROM _qa_wide"
        for i, c in enumerate(rules.categories)
    ]
    categories_sql = f"""SELECT r.*, t.ts AS first_match_at, $rules_version AS rules_version, $rules_hash AS rules_hash
FROM ({" UNION ALL ".join(category_selects)}) AS r
LEFT JOIN raw.turns AS t
  ON t.conversation_id = r.conversation_id AND t.turn_index = r.first_turn_index
 AND t.partition_date BETWEEN $start_date AND $end_date"""
    answer_selects = [
        f"SELECT partition_date, conversation_id, {name('rule_scorecard', j, card.name)} AS scorecard, "
        f"{name('rule_question', j, q.name)} AS question, {name('rule_weight', j, q.weight)} AS weight, "
        f"CASE WHEN NOT qa_{j} THEN 'not_applicable' WHEN qm_{j} THEN 'met' ELSE 'not_met' END AS answer, "
        f"CASE WHEN qa_{j} AND qm_{j} THEN qt_{j} END AS evidence_turn_index FROM _qa_wide"
        for j, (card, q) in enumerate(questions)
    ]
    answers_sql = (
        "SELECT *, $rules_version AS rules_version, $rules_hash AS rules_hash "
        f"FROM ({' UNION ALL '.join(answer_selects)})"
        if answer_selects
        else ""
    )
    return CompiledRules(wide, categories_sql, answers_sql, parameters)


def score_conversations(
    con: duckdb.DuckDBPyConnection, rules: Rules, first_day: date, last_day: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every category (one row per conversation and category) and scorecard answer (one row per conversation and
    question) of the consented conversations started on a day in [first_day, last_day], from the connection's
    raw.turns, signals.turn_sentiment and signals.conversation_signals."""
    compiled = compile_rules(rules)
    parameters = {**compiled.parameters, "start_date": first_day, "end_date": last_day}
    con.execute(f"CREATE OR REPLACE TEMP TABLE _qa_wide AS {compiled.wide}", bind(compiled.wide, parameters))
    try:
        categories = con.execute(compiled.categories, bind(compiled.categories, parameters)).pl()
        answers = (
            con.execute(compiled.answers, bind(compiled.answers, parameters)).pl()
            if compiled.answers
            else pl.DataFrame()
        )
    finally:
        con.execute("DROP TABLE IF EXISTS _qa_wide")
    return categories, answers
