"""The pipeline's parameters: `config/defaults.yml`, optionally deep-merged with a user's override file, read once
into one typed, read-only `Parameters` object and validated before any work.

Every setting is declared below with its type and range; the values (and what each one means) live in
`config/defaults.yml`. An override may name only settings the defaults have, and every value is checked against
its declared type (an integer is not a number of another kind, true/false is not a number) and range, so a bad
value is one clear error naming the parameter. Settings are read as attributes (`parameters.outcomes
.repeat_window_days`) or by name (`parameters["outcomes"]["repeat_window_days"]`, as SQL names them:
`$outcomes_repeat_window_days`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from cx_signals.bundled import project_dir

CONFIG_ENV_VAR = "CX_SIGNALS_CONFIG"


class ConfigError(ValueError):
    """The override file is unreadable, names a parameter the defaults do not have, or gives a value of the wrong
    type or out of its range."""


def _iso_date(value: Any) -> Any:
    # YAML reads an unquoted 2026-10-01 as a date: the parameter keeps the text form either way
    return value.isoformat() if isinstance(value, date) else value


def _is_iso_date(value: str) -> str:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a date (YYYY-MM-DD)") from None
    return value


def _is_regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"must be a valid regular expression ({exc})") from None
    return pattern


def _is_cron(expression: str) -> str:
    if len(expression.split()) != 5:
        raise ValueError("must be a cron expression of five fields")
    return expression


IsoDate = Annotated[str, BeforeValidator(_iso_date), AfterValidator(_is_iso_date)]
Regex = Annotated[str, AfterValidator(_is_regex)]
Cron = Annotated[str, AfterValidator(_is_cron)]
Count = Annotated[int, Field(ge=0)]  # whole numbers from 0
AtLeastOne = Annotated[int, Field(ge=1)]  # windows in days, turns, sizes and limits
Amount = Annotated[float, Field(ge=0)]  # weights, scores, costs and minutes
Share = Annotated[float, Field(ge=0, le=1)]
Sentiment = Annotated[float, Field(ge=-1, le=1)]  # on VADER's compound scale
# Dagster's own limit on freshness windows: a minute at least
FreshnessHours = Annotated[float, Field(ge=1 / 60)]


class Section(BaseModel):
    """One section of the parameters: typed, validated, read-only; values are also read by name (`section[name]`)."""

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid", allow_inf_nan=False)

    def __getitem__(self, name: str) -> Any:
        if name not in type(self).model_fields:
            raise KeyError(name)
        return getattr(self, name)

    def get(self, name: str, default: Any = None) -> Any:
        """The value of `name`, or `default` when the section has no such parameter."""
        return getattr(self, name) if name in type(self).model_fields else default

    def items(self) -> Iterator[tuple[str, Any]]:
        """(name, value) of every parameter, in declaration order."""
        return iter(self)


class PartitionsParameters(Section):
    """Daily partitions."""

    start_date: IsoDate | None


class IngestParameters(Section):
    """Limits and plausibility bounds of the landing records."""

    min_timestamp: IsoDate
    max_future_skew_hours: AtLeastOne
    max_text_chars: AtLeastOne
    max_line_bytes: AtLeastOne
    max_quarantine_share: Share
    placeholder_ids: list[str]


class SourceReading(Section):
    """How one source's landing files are read: `auto` (recognised by content), `contract` or an adapter's name."""

    format: str


class TranscriptsReading(SourceReading):
    """Transcripts also say what the help-desk and Twitter adapters give for analytics consent, which those exports
    do not carry."""

    consent_analytics: bool


class LandingParameters(Section):
    """How landing files are read (docs/adapters.md)."""

    transcripts: TranscriptsReading
    telemetry: SourceReading
    events: SourceReading
    mappings: list[str]

    @model_validator(mode="after")
    def _known_formats(self) -> Self:
        from cx_signals.adapters import check_landing  # the adapters read config: imported when checking, not before

        check_landing(self)
        return self


class LocksParameters(Section):
    """Waiting for the run and write locks."""

    timeout_seconds: Annotated[float, Field(ge=0.001)]


class SessionsParameters(Section):
    """Sessionising clickstream without a session id."""

    inactivity_minutes: AtLeastOne
    identity_lookback_days: Count


class SentimentParameters(Section):
    """VADER thresholds and input caps."""

    negative_threshold: Sentiment
    positive_threshold: Sentiment
    min_turns_reliable_shift: Count
    max_chars: AtLeastOne
    max_emoji: AtLeastOne

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.negative_threshold > self.positive_threshold:
            raise ValueError("parameter 'sentiment.negative_threshold' must not exceed 'sentiment.positive_threshold'")
        return self


class ConversationParameters(Section):
    """Conversation signals."""

    silence_gap_seconds: Count
    escalation_patterns: list[Regex]
    repetition_min_similarity: Share
    repetition_lookback_turns: AtLeastOne
    effort_patterns: list[Regex]
    sentiment_trend_min_customer_turns: AtLeastOne
    sentiment_trend_slight: Share
    sentiment_trend_strong: Share

    @model_validator(mode="after")
    def _ordered_bands(self) -> Self:
        if self.sentiment_trend_slight > self.sentiment_trend_strong:
            raise ValueError(
                "parameter 'conversation.sentiment_trend_slight' must not exceed 'conversation.sentiment_trend_strong'"
            )
        return self


class FrictionParameters(Section):
    """Session friction detectors and score."""

    rage_click_min_clicks: Count
    rage_click_max_gap_ms: Count
    rage_click_max_distance_px: Count
    dead_click_window_ms: Count
    error_click_window_ms: Count
    apdex_t_ms: Count
    quick_back_seconds: Count
    score_weights: dict[str, Amount]
    session_friction_threshold: Amount
    dead_click_scroll_window_ms: Count
    session_min_rage_bursts: AtLeastOne
    text_input_types: list[str]
    button_input_types: list[str]
    field_roles: list[str]
    rage_click_ignore_content: list[str]


class TriageParameters(Section):
    """The intent model."""

    first_customer_turns: AtLeastOne
    target_precision: Share
    out_of_scope_labels: list[str]
    min_examples_per_intent: Count
    held_out_share: Share
    training_days: AtLeastOne


class JourneysParameters(Section):
    """Journeys."""

    pre_contact_window_minutes: Count


# The parts of containment-with-quality a contained contact must pass (docs/metrics.md), named as the
# metrics.contact_outcomes.cwq_failed_<part> columns; outcomes.cwq_parts chooses them, playbooks per industry.
CwqPart = Literal["repeat", "friction", "csat", "sentiment", "disclosures"]


class OutcomesParameters(Section):
    """Contact outcomes and repeat chains."""

    repeat_window_days: AtLeastOne
    cwq_friction_window_hours: Count
    cwq_min_end_sentiment: Sentiment
    cwq_max_bad_csat: Count
    chain_lookback_days: AtLeastOne
    cwq_parts: Annotated[list[CwqPart], Field(min_length=1)]

    @model_validator(mode="after")
    def _cwq_parts_unique(self) -> Self:
        repeated = sorted({p for p in self.cwq_parts if self.cwq_parts.count(p) > 1})
        if repeated:
            raise ValueError(f"cwq_parts lists {', '.join(repeated)} more than once")
        return self


class CostsParameters(Section):
    """The cost model, in currency units."""

    bot_cost_per_conversation: Amount
    agent_cost_per_minute: dict[str, Amount]
    after_contact_work_minutes: dict[str, Amount]
    written_reply_minutes: dict[str, Amount]
    transfer_overhead: Amount


class AlertsParameters(Section):
    """Friction alert rules."""

    sentiment_drop: Sentiment
    rage_then_help_minutes: Count
    min_escalation_requests: Count
    rage_then_help_page_regex: Regex
    repeat_min_contacts: Count
    repeat_high_contacts: Count
    high_friction_score: Amount


class PrioritiesParameters(Section):
    """Journey priorities."""

    window_days: AtLeastOne
    min_contacts: Count
    cwq_target: Share
    weight_handoffs: Amount
    weight_repeatability: Amount
    weight_outcome: Amount


class AnomaliesParameters(Section):
    """Outcome anomalies."""

    baseline_days: AtLeastOne
    min_days: AtLeastOne
    min_contacts: Count
    z_threshold: Amount
    min_rate_spread: Share
    min_relative_spread: Share


class ModelsParameters(Section):
    """The CSAT and repeat-risk models, and training of every model."""

    seed: Count
    held_out_share: Share
    min_labels: Count
    training_days: AtLeastOne
    risk_top_factors: Count
    max_intent_texts: AtLeastOne
    training_cron: Cron


class FreshnessParameters(Section):
    """Freshness policies of each source, in hours."""

    warn_hours: dict[str, FreshnessHours | None]
    fail_hours: dict[str, FreshnessHours | None]

    @model_validator(mode="after")
    def _warn_before_failing(self) -> Self:
        for source, warn in self.warn_hours.items():
            fail = self.fail_hours.get(source)
            if warn is not None and fail is not None and warn >= fail:
                raise ValueError(
                    f"parameter 'freshness.warn_hours.{source}' ({warn}) must be less than "
                    f"'freshness.fail_hours.{source}' ({fail})"
                )
        return self


class RetentionParameters(Section):
    """Days of partitions kept per schema; None keeps all."""

    raw: Count | None
    signals: Count | None
    metrics: Count | None
    quarantine: Count | None
    audit: Count | None


class StorageParameters(Section):
    """Where the working tables live."""

    mode: Literal["duckdb", "ducklake"]
    catalog: str | None
    data_path: str | None
    conflict_retries: Count
    memory_limit: str
    days_per_query: AtLeastOne

    @model_validator(mode="after")
    def _lake_is_complete(self) -> Self:
        if self.mode == "ducklake":
            if not (self.catalog or "").startswith("postgres:"):
                raise ValueError("parameter 'storage.catalog' must name a PostgreSQL catalog: 'postgres:dbname=...'")
            if not self.data_path:
                raise ValueError("parameter 'storage.data_path' must name the folder of the DuckLake's Parquet files")
        return self


class CategoriesParameters(Section):
    """Conversation categories and QA scorecards (the rules live in their own YAML file, cx_signals.categories)."""

    rules_file: str | None

    @model_validator(mode="after")
    def _rules_are_valid(self) -> Self:
        from cx_signals.categories import RulesError, load_rules  # the rules module reads the contracts, not config

        try:
            load_rules(self.rules_file)
        except RulesError as exc:
            raise ValueError(f"parameter 'categories.rules_file': {exc}") from None
        return self


class BotsParameters(Section):
    """Bot outcomes."""

    fallback_patterns: list[Regex]
    confirmation_patterns: list[Regex]
    failed_min_fallbacks: AtLeastOne


class JourneyParameters(Section):
    """One journey of an industry playbook and the intents that belong to it."""

    name: str
    intents: list[str]


class DisclosureParameters(Section):
    """A disclosure an agent or bot must say: any of its phrases (regexes, RE2 syntax: DuckDB matches them) in a
    turn of one of its speakers, within `within_seconds` of the start when set; it applies to conversations of its
    channels and intents (empty: all) in which one of its speakers took a turn."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    description: str
    phrases: Annotated[list[Regex], Field(min_length=1)]
    speakers: Annotated[list[Literal["agent", "bot"]], Field(min_length=1)]
    channels: list[str]
    intents: list[str]
    within_seconds: AtLeastOne | None


def _known_pii_entities(entities: list[str]) -> list[str]:
    from cx_signals.redact import PII_TYPES

    unknown = [e for e in entities if e not in PII_TYPES]
    if unknown:
        raise ValueError(f"names unknown PII kinds {unknown} (known: {', '.join(PII_TYPES)})")
    return entities


class PlaybookParameters(Section):
    """The industry playbook in use (docs/playbooks.md): its journeys, PII kinds and required disclosures."""

    name: str | None
    journeys: list[JourneyParameters]
    pii_entities: Annotated[list[str], AfterValidator(_known_pii_entities)]
    disclosures: list[DisclosureParameters]

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        for what, names in (
            ("disclosures", [d.name for d in self.disclosures]),
            ("journeys' intents", [i for j in self.journeys for i in j.intents]),
        ):
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise ValueError(f"parameter 'playbook.{what}' names {', '.join(repeated)} more than once")
        return self


class CsatParameters(Section):
    """Predicted CSAT's factors, calibration and population (survey-weighted) CSAT."""

    top_factors: Count
    calibration_window_days: AtLeastOne
    population_window_days: AtLeastOne
    max_weight: Annotated[float, Field(ge=1)]
    min_surveyed: AtLeastOne
    max_propensity_rows: AtLeastOne


class FairnessParameters(Section):
    """Model error by segment and the minimum samples below which a segment or an agent is not judged."""

    window_days: AtLeastOne
    min_sample: AtLeastOne
    max_error_ratio: Annotated[float, Field(ge=1)]
    agent_min_sentiment_conversations: AtLeastOne
    agent_min_surveyed: AtLeastOne


class TimeToValueParameters(Section):
    """metrics.time_to_value: the events that start a customer's clock and the ones that count as value."""

    start_events: list[str]
    value_events: list[str]
    window_days: AtLeastOne
    reached_within_days: AtLeastOne


class FailureDemandParameters(Section):
    """Failure demand: intents that are failure demand in themselves, and the window of metrics.failure_demand."""

    intents: list[str]
    window_days: AtLeastOne


class DefectsParameters(Section):
    """metrics.defects: the trend's baseline and thresholds."""

    baseline_days: AtLeastOne
    min_contacts: AtLeastOne
    trend_ratio: Annotated[float, Field(gt=1)]


class InterventionsParameters(Section):
    """The hold-out of alerted journeys and the window the intervention tables read."""

    holdout_share: Share
    holdout_salt: Annotated[str, Field(min_length=1)]
    window_days: AtLeastOne


class NextIssuesParameters(Section):
    """Next-issue avoidance: next issues and intent transitions, in days."""

    window_days: AtLeastOne
    transitions_window_days: AtLeastOne


class TopicsParameters(Section):
    """Emerging topics: clustering of the contacts the intent model cannot name."""

    window_days: AtLeastOne
    candidate_quantile: Annotated[float, Field(ge=0, lt=1)]
    max_texts: Annotated[int, Field(ge=2)]
    distance_threshold: Annotated[float, Field(gt=0, le=2)]
    min_topic_size: Annotated[int, Field(ge=2)]
    match_similarity: Share
    match_lookback_days: AtLeastOne
    top_terms: AtLeastOne
    representatives: AtLeastOne


class QaParameters(Section):
    """QA scorecards per agent-day."""

    min_conversations: AtLeastOne


class Target(Section):
    """A goal for one headline figure: the value and whether the figure should be at least or at most it."""

    target: Amount
    direction: Literal["at_least", "at_most"]


class TargetsParameters(Section):
    """Goals for the report's headline figures (cx_signals.report.METRICS defines each); None sets no goal."""

    containment_rate: Target | None
    cwq_rate: Target | None
    fcr_rate: Target | None
    repeat_rate: Target | None
    escalation_rate: Target | None
    abandonment_rate: Target | None
    cost_per_contact: Target | None
    cost_to_resolve_median: Target | None
    csat_mean: Target | None
    predicted_csat_mean: Target | None


class ReportParameters(Section):
    """What the HTML report compares and lists."""

    period_days: AtLeastOne
    top_rows: AtLeastOne
    min_change_points: Amount
    min_relative_change: Share
    agent_min_conversations: AtLeastOne


class Parameters(Section):
    """Every parameter of the pipeline, by section (see config/defaults.yml for what each one means)."""

    partitions: PartitionsParameters
    ingest: IngestParameters
    landing: LandingParameters
    locks: LocksParameters
    sessions: SessionsParameters
    sentiment: SentimentParameters
    conversation: ConversationParameters
    friction: FrictionParameters
    triage: TriageParameters
    journeys: JourneysParameters
    outcomes: OutcomesParameters
    costs: CostsParameters
    alerts: AlertsParameters
    priorities: PrioritiesParameters
    anomalies: AnomaliesParameters
    models: ModelsParameters
    freshness: FreshnessParameters
    retention: RetentionParameters
    storage: StorageParameters
    categories: CategoriesParameters
    bots: BotsParameters
    playbook: PlaybookParameters
    csat: CsatParameters
    fairness: FairnessParameters
    time_to_value: TimeToValueParameters
    failure_demand: FailureDemandParameters
    defects: DefectsParameters
    interventions: InterventionsParameters
    next_issues: NextIssuesParameters
    topics: TopicsParameters
    qa: QaParameters
    targets: TargetsParameters
    report: ReportParameters

    def merged(self, overrides: Mapping[str, Any]) -> Parameters:
        """These parameters with `overrides` (nested by section, like an override file) deep-merged over them,
        validated again (ConfigError naming the first bad parameter)."""
        return _validated(_merge(self.model_dump(), dict(overrides)))


def _merge(base: dict[str, Any], override: dict[str, Any], where: str = "") -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        path = f"{where}{key}"
        if key not in base:
            raise ConfigError(f"unknown parameter '{path}' (see config/defaults.yml for the valid names)")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"parameter '{path}' must be a mapping")
            merged[key] = _merge(base[key], value, f"{path}.")
        else:
            merged[key] = value
    return merged


def _validated(values: dict[str, Any]) -> Parameters:
    """`values` as Parameters, or ConfigError naming the first bad parameter and its value."""
    try:
        return Parameters.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        path = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            raise ConfigError(f"unknown parameter '{path}' (see config/defaults.yml for the valid names)") from None
        if message.startswith("parameter "):  # a check across parameters names them itself
            raise ConfigError(message) from None
        message = message.replace("Input should be", "must be")
        raise ConfigError(f"parameter '{path}' {message}, got {error['input']!r}") from None


def default_config_path() -> Path:
    """Path of the bundled defaults file."""
    return project_dir("config") / "defaults.yml"


def load_config(override: Path | str | None = None, playbook: str | None = None) -> Parameters:
    """The defaults merged with the industry playbook asked for (`playbook`, or `playbook: NAME` in the override
    file; docs/playbooks.md), then with `override` (a YAML file holding just the parameters it changes), every value
    type- and range-checked (ConfigError otherwise)."""
    from cx_signals.playbooks import PlaybookError, read_pack, requested_playbook, without_playbook_name

    defaults = yaml.safe_load(default_config_path().read_text(encoding="utf-8"))
    user: dict[str, Any] = {}
    path = None if override is None or str(override) == "" else Path(override)
    if path is not None:
        try:
            user = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from exc
        if not isinstance(user, dict):
            raise ConfigError(f"config file {path} must hold a mapping")
    try:
        name = requested_playbook(user, playbook)
        if name is not None:
            try:
                defaults = _validated(_merge(defaults, read_pack(name))).model_dump()
            except ConfigError as exc:
                raise ConfigError(f"playbook {name}: {exc}") from None
    except PlaybookError as exc:
        raise ConfigError(str(exc)) from None
    if path is None:
        return _validated(defaults)
    try:
        return _validated(_merge(defaults, without_playbook_name(user)))
    except ConfigError as exc:
        raise ConfigError(f"config file {path}: {exc}") from None


def flat_parameters(config: Parameters) -> dict[str, Any]:
    """Scalar parameters by `section_name`, the names SQL files use as `$section_name`."""
    return {
        f"{section_name}_{name}": value
        for section_name, section in config
        for name, value in section
        if isinstance(value, bool | int | float | str)
    }


def _any_of(patterns: list[str]) -> str:
    return "(?i)(" + "|".join(f"(?:{p})" for p in patterns) + ")"


FRICTION_ELEMENT_LISTS = ("text_input_types", "button_input_types", "field_roles", "rage_click_ignore_content")


def sql_parameters(config: Parameters) -> dict[str, Any]:
    """Every config value SQL files may reference, named for its config path (sql/README.md): flat scalars, each list of
    patterns as one combined regex, each score weight and the friction element lists (lower case)."""
    parameters = flat_parameters(config)
    # lists of names (event types, intents) are bound as lists: CAST($x AS VARCHAR[]) reads an empty one too
    parameters.update(
        {
            f"{section_name}_{name}": list(value)
            for section_name, section in config
            for name, value in section
            if isinstance(value, list) and all(isinstance(v, str) for v in value)
        }
    )
    for name in ("escalation_patterns", "effort_patterns"):
        parameters[f"conversation_{name}"] = _any_of(getattr(config.conversation, name))
    for name in ("fallback_patterns", "confirmation_patterns"):
        parameters[f"bots_{name}"] = _any_of(getattr(config.bots, name))
    weights = config.friction.score_weights
    parameters.update({f"friction_score_weights_{part}": float(w) for part, w in weights.items()})
    # element lists, lower-cased as the SQL compares them
    for name in FRICTION_ELEMENT_LISTS:
        parameters[f"friction_{name}"] = [v.lower() for v in getattr(config.friction, name)]
    parameters.update(playbook_sql_parameters(config))
    return parameters


def cost_model_rows(config: Parameters) -> list[dict[str, Any]]:
    """The per-channel cost model as rows: channel, agent_cost_per_minute, after_contact_work_minutes,
    written_reply_minutes (null where agent time is elapsed time)."""
    costs = config.costs
    return [
        {
            "channel": channel,
            "agent_cost_per_minute": float(per_minute),
            "after_contact_work_minutes": float(costs.after_contact_work_minutes[channel]),
            "written_reply_minutes": costs.written_reply_minutes.get(channel),
        }
        for channel, per_minute in costs.agent_cost_per_minute.items()
    ]


def playbook_sql_parameters(config: Parameters) -> dict[str, str]:
    """The playbook's journeys and disclosures as JSON text for SQL (`$playbook_journeys`: [{name, intents}],
    `$playbook_disclosures`: [{name, pattern, speakers, channels, intents, within_seconds}], each disclosure's phrases
    as one case-insensitive regex)."""
    playbook = config.playbook
    disclosures = [
        {
            "name": d.name,
            "pattern": _any_of(d.phrases),
            "speakers": d.speakers,
            "channels": d.channels,
            "intents": d.intents,
            "within_seconds": d.within_seconds,
        }
        for d in playbook.disclosures
    ]
    return {
        "playbook_journeys": json.dumps([j.model_dump() for j in playbook.journeys]),
        "playbook_disclosures": json.dumps(disclosures),
    }
