"""Snowplow atomic events onto the events contract: the enriched TSV (131 tab-separated fields, no header) and the
warehouse export (CSV or Parquet) with the atomic column names and a column per self-describing event or entity
(`unstruct_event_com_..._1_0_0`, `contexts_com_..._1_0_0`).

Events are prepared as Snowplow's web model (snowplow/dbt-snowplow-web) prepares them, with its default settings,
and every event it would leave out is quarantined with the reason instead of being dropped:

- an event sent more than `DAYS_LATE_ALLOWED` days after the device created it (`late_event`);
- a second copy of an event id: the copy collected first is kept (`duplicate_event`);
- an event collected more than `MAX_SESSION_DAYS` after its session's first event (`session_too_long`);
- a page view without the web page entity's page view id, or a second page view of one page view id (the one that
  happened first is kept: `duplicate_page_view`).

`domain_sessionid` is the session id (the pipeline sessionises on inactivity only without one), `derived_tstamp` the
time, `domain_userid` (else `network_userid`) the anonymous id, `user_id` the customer. A page ping whose page view is
not in its session also gives that page view (`from_page_ping` in its properties), `MIN_VISIT_LENGTH_SECONDS` before
the ping, as the web model counts it in its sessions (its page views table leaves it out).
Page views, page pings (as scroll), link clicks, form changes and submissions, application errors, searches, cart
and transaction events and structured events whose action names one of our types map to event types; every other
event is `other`, with its payload in `properties`. The element an event was on is filled where its schema says it
(`_element`): a link click is on a link, a form field event on its field (tag and input type), a submission on a
form; the trackers record no click position.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cx_signals.adapters.base import UNMAPPABLE_RULE
from cx_signals.landing import LandingRecord

# The web model's defaults (snowplow__days_late_allowed, snowplow__max_session_days, snowplow__min_visit_length).
DAYS_LATE_ALLOWED = 3
MAX_SESSION_DAYS = 3
MIN_VISIT_LENGTH_SECONDS = 5

# The enriched event's fields, in the order of the TSV the enrichment writes (Snowplow's analytics SDKs); one text,
# since a literal of 131 names would take 131 lines.
ENRICHED_FIELDS = (  # noqa: SIM905
    "app_id platform etl_tstamp collector_tstamp dvce_created_tstamp event event_id txn_id name_tracker v_tracker "
    "v_collector v_etl user_id user_ipaddress user_fingerprint domain_userid domain_sessionidx network_userid "
    "geo_country geo_region geo_city geo_zipcode geo_latitude geo_longitude geo_region_name ip_isp ip_organization "
    "ip_domain ip_netspeed page_url page_title page_referrer page_urlscheme page_urlhost page_urlport page_urlpath "
    "page_urlquery page_urlfragment refr_urlscheme refr_urlhost refr_urlport refr_urlpath refr_urlquery "
    "refr_urlfragment refr_medium refr_source refr_term mkt_medium mkt_source mkt_term mkt_content mkt_campaign "
    "contexts se_category se_action se_label se_property se_value unstruct_event tr_orderid tr_affiliation tr_total "
    "tr_tax tr_shipping tr_city tr_state tr_country ti_orderid ti_sku ti_name ti_category ti_price ti_quantity "
    "pp_xoffset_min pp_xoffset_max pp_yoffset_min pp_yoffset_max useragent br_name br_family br_version br_type "
    "br_renderengine br_lang br_features_pdf br_features_flash br_features_java br_features_director "
    "br_features_quicktime br_features_realplayer br_features_windowsmedia br_features_gears br_features_silverlight "
    "br_cookies br_colordepth br_viewwidth br_viewheight os_name os_family os_manufacturer os_timezone dvce_type "
    "dvce_ismobile dvce_screenwidth dvce_screenheight doc_charset doc_width doc_height tr_currency tr_total_base "
    "tr_tax_base tr_shipping_base ti_currency ti_price_base base_currency geo_timezone mkt_clickid mkt_network "
    "etl_tags dvce_sent_tstamp refr_domain_userid refr_dvce_tstamp derived_contexts domain_sessionid derived_tstamp "
    "event_vendor event_name event_format event_version event_fingerprint true_tstamp"
).split()
# What a warehouse export must name to be recognised (the enriched TSV is recognised by its 131 fields).
_KEY_COLUMNS = frozenset({"event_id", "collector_tstamp", "domain_userid", "domain_sessionid", "event", "platform"})
_EVENTS = frozenset({"page_view", "page_ping", "struct", "unstruct", "transaction", "transaction_item"})
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")
_WEB_PAGE_CONTEXT = re.compile(r"contexts_com_snowplowanalytics_snowplow_web_page_1(_\d+)*$")
_UNSTRUCT_COLUMN = re.compile(r"unstruct_event_(.+)_(\d+)_(\d+)_(\d+)$")
_WEB_PAGE_SCHEMA = "iglu:com.snowplowanalytics.snowplow/web_page/"
# Snowplow's own self-describing events, by event_name
_BY_EVENT_NAME = {
    "link_click": "click",
    "focus_form": "input",
    "change_form": "input",
    "submit_form": "form_submit",
    "application_error": "error",
    "site_search": "search",
    "add_to_cart": "add_to_cart",
    "transaction": "purchase",
}
# A structured event's action, normalised to lower case with _ for spaces and dashes, naming one of our types
_STRUCT_ACTIONS = {
    "add_to_cart": "add_to_cart",
    "checkout": "checkout_start",
    "checkout_start": "checkout_start",
    "purchase": "purchase",
    "search": "search",
    "help": "help_view",
    "help_view": "help_view",
    "contact": "contact_start",
    "contact_start": "contact_start",
    "click": "click",
    "submit": "form_submit",
    "form_error": "form_error",
    "error": "error",
}
_TARGETS = ("targetUrl", "elementId", "formId", "elementName")
# The element the tracker's own events name: link_click is tracked on anchors only, submit_form on forms; focus_form
# and change_form carry the field's nodeName (INPUT, TEXTAREA, SELECT) and input type; elementContent is a link's text.
_ELEMENT_TAGS = {"link_click": "a", "submit_form": "form"}
_FORM_FIELD_EVENTS = frozenset({"focus_form", "change_form"})
_PROPERTIES = (
    "app_id",
    "platform",
    "event",
    "event_vendor",
    "event_name",
    "page_title",
    "page_urlhost",
    "page_urlquery",
    "refr_medium",
    "refr_source",
    "mkt_medium",
    "mkt_source",
    "mkt_campaign",
    "se_category",
    "se_action",
    "se_label",
    "se_property",
    "se_value",
    "pp_xoffset_min",
    "pp_xoffset_max",
    "pp_yoffset_min",
    "pp_yoffset_max",
    "tr_orderid",
    "tr_total",
    "tr_currency",
)


def _text(value: Any) -> str | None:
    """A cell as text, None when empty; timestamps as ISO-8601 UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=str)
    text = str(value)
    return text if text.strip() else None


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


@dataclass
class _Event:
    """One Snowplow event as the adapter needs it."""

    record: LandingRecord
    atomic: dict[str, str | None]
    collected: datetime
    at: datetime  # derived_tstamp, else collector_tstamp
    page_view_id: str | None
    unstruct: dict[str, Any] | None


def _first_object(value: Any) -> dict[str, Any] | None:
    """The first object in `value`, through nested lists (some warehouses load an entity as a list of lists)."""
    while isinstance(value, list) and value:
        value = value[0]
    return value if isinstance(value, dict) else None


def _page_view_id(row: dict[str, Any]) -> str | None:
    """The web page entity's id: from the enriched `contexts` JSON, or the warehouse's web_page context column."""
    contexts = _json(row.get("contexts"))
    if isinstance(contexts, dict) and isinstance(contexts.get("data"), list):
        for entity in contexts["data"]:
            if isinstance(entity, dict) and str(entity.get("schema", "")).startswith(_WEB_PAGE_SCHEMA):
                data = _first_object(entity.get("data"))
                return _text(data.get("id")) if data else None
    for column, value in row.items():
        if _WEB_PAGE_CONTEXT.match(str(column)):
            entity = _first_object(_json(value))
            if entity:
                return _text(entity.get("id"))
    return None


def _unstruct(row: dict[str, Any]) -> dict[str, Any] | None:
    """The self-describing event's data: from the enriched `unstruct_event` JSON, or the warehouse column of the
    event's own schema (unstruct_event_<vendor>_<name>_<version>)."""
    wrapped = _json(row.get("unstruct_event"))
    if isinstance(wrapped, dict):
        inner = wrapped.get("data")
        if isinstance(inner, dict) and isinstance(inner.get("data"), dict):
            return inner["data"]
    name = row.get("event_name")
    for column, value in row.items():
        match = _UNSTRUCT_COLUMN.match(column)
        if match and value not in (None, "") and (name is None or match[1].endswith(f"_{name}")):
            data = _json(value)
            if isinstance(data, list):  # some warehouses load the event as a one-item array
                data = data[0] if data else None
            if isinstance(data, dict):
                return data
    return None


def _event_type(event: _Event) -> str:
    atomic = event.atomic
    kind, name = atomic.get("event"), atomic.get("event_name")
    if kind == "page_view":
        return "page_view"
    if kind == "page_ping":
        return "scroll"
    if kind == "struct":
        action = re.sub(r"[\s\-]+", "_", (atomic.get("se_action") or "").strip().lower())
        return _STRUCT_ACTIONS.get(action, "other")
    return _BY_EVENT_NAME.get(name or kind or "", "other")


def _properties(event: _Event, stray: bool = False) -> dict[str, Any]:
    properties: dict[str, Any] = {k: event.atomic[k] for k in _PROPERTIES if event.atomic.get(k) is not None}
    if event.page_view_id:
        properties["page_view_id"] = event.page_view_id
    if event.unstruct:
        properties["data"] = event.unstruct
    if stray:
        properties["from_page_ping"] = True
    return properties


def _element(event: _Event) -> dict[str, str | None]:
    """The element_* fields the event's own schema gives (none for a page view, page ping or structured event)."""
    name, data = event.atomic.get("event_name"), event.unstruct or {}
    tag = _ELEMENT_TAGS.get(name or "")
    input_type = None
    if name in _FORM_FIELD_EVENTS:
        tag = _text(data.get("nodeName"))
        input_type = _text(data.get("type"))
    text = _text(data.get("elementContent")) if name == "link_click" else None
    return {
        "element_tag": tag.lower() if tag else None,
        "element_type": input_type.lower() if input_type else None,
        "element_text": text,
    }


def _contract_record(event: _Event, event_type: str, at: datetime, event_id: str, **more: Any) -> dict[str, Any]:
    atomic = event.atomic
    target = next((str(event.unstruct[k]) for k in _TARGETS if event.unstruct and event.unstruct.get(k)), None)
    record = {
        "event_id": event_id,
        "ts": _iso(at),
        "customer_id": atomic.get("user_id"),
        "anonymous_id": atomic.get("domain_userid") or atomic.get("network_userid"),
        "session_id": atomic.get("domain_sessionid"),
        "event_type": event_type,
        "page": atomic.get("page_urlpath"),
        "target": target,
        "properties": _properties(event, **more),
        **_element(event),
    }
    return {k: v for k, v in record.items() if v is not None}


def _rejected(event: _Event, rule: str, reason: str) -> LandingRecord:
    # the time places the quarantine row on the event's day
    return LandingRecord(event.record.line, event.record.payload, {"ts": _iso(event.at)}, reason, rule)


class SnowplowAdapter:
    """Snowplow enriched events (TSV) and their warehouse export (CSV, Parquet) as behavioural events."""

    name = "snowplow"
    source = "events"
    headerless = True

    def detect(self, first: Any) -> bool:
        """A row naming the atomic key columns, or a headerless row of the enriched event's 131 fields whose event
        type and collector timestamp look like Snowplow's."""
        if isinstance(first, dict):
            return set(first) >= _KEY_COLUMNS
        if isinstance(first, list) and len(first) == len(ENRICHED_FIELDS):
            row = dict(zip(ENRICHED_FIELDS, first, strict=True))
            return row["event"] in _EVENTS and bool(_TIMESTAMP.match(row["collector_tstamp"] or ""))
        return False

    def _event(self, record: LandingRecord) -> _Event | LandingRecord:
        value = record.value
        if isinstance(value, list):
            if len(value) != len(ENRICHED_FIELDS):
                return LandingRecord(
                    record.line,
                    record.payload,
                    error=f"snowplow: an enriched event has {len(ENRICHED_FIELDS)} fields, this row {len(value)}",
                    rule=UNMAPPABLE_RULE,
                )
            value = dict(zip(ENRICHED_FIELDS, value, strict=True))
        atomic = {k: _text(v) for k, v in value.items() if not k.startswith(("contexts", "unstruct_event"))}
        collected = _time(atomic.get("collector_tstamp"))
        if not atomic.get("event_id") or collected is None:
            return LandingRecord(
                record.line,
                record.payload,
                error="snowplow: an event needs event_id and a collector_tstamp",
                rule=UNMAPPABLE_RULE,
            )
        at = _time(atomic.get("derived_tstamp")) or collected
        return _Event(record, atomic, collected, at, _page_view_id(value), _unstruct(value))

    def convert(self, records: Iterable[LandingRecord]) -> Iterator[LandingRecord]:
        """The file's events prepared as the web model prepares them (see the module's docstring), in file order."""
        events: list[_Event] = []
        for record in records:
            event = self._event(record)
            if isinstance(event, LandingRecord):
                yield event
            else:
                events.append(event)
        kept: list[_Event] = []
        for event in events:
            created = _time(event.atomic.get("dvce_created_tstamp"))
            sent = _time(event.atomic.get("dvce_sent_tstamp"))
            if created and sent and sent > created + timedelta(days=DAYS_LATE_ALLOWED):
                yield _rejected(
                    event,
                    "late_event",
                    f"snowplow: sent {sent} more than {DAYS_LATE_ALLOWED} days after the device created it "
                    f"({created}); Snowplow's web model leaves it out (days_late_allowed)",
                )
            else:
                kept.append(event)
        first_copy: dict[str, _Event] = {}
        for event in sorted(kept, key=lambda e: (e.collected, e.record.line)):
            first_copy.setdefault(event.atomic["event_id"] or "", event)
        session_start: dict[str, datetime] = {}
        for event in first_copy.values():
            session = event.atomic.get("domain_sessionid")
            if session:
                session_start[session] = min(session_start.get(session, event.collected), event.collected)
        first_view: dict[str, _Event] = {}
        valid: list[_Event] = []
        for event in kept:
            first = first_copy[event.atomic["event_id"] or ""]
            session = event.atomic.get("domain_sessionid")
            if first is not event:
                yield _rejected(
                    event,
                    "duplicate_event",
                    f"snowplow: event_id {event.atomic['event_id']} repeats line {first.record.line}, which is kept "
                    "(the copy collected first, as Snowplow deduplicates)",
                )
            elif session and event.collected > session_start[session] + timedelta(days=MAX_SESSION_DAYS):
                yield _rejected(
                    event,
                    "session_too_long",
                    f"snowplow: collected {event.collected}, more than {MAX_SESSION_DAYS} days after its session "
                    f"started ({session_start[session]}); Snowplow's web model stops a session there "
                    "(max_session_days)",
                )
            elif event.atomic.get("event") == "page_view" and not event.page_view_id:
                yield _rejected(
                    event,
                    UNMAPPABLE_RULE,
                    "snowplow: a page view without the web page entity's id (the JavaScript tracker's webPage "
                    "context); Snowplow's web model leaves it out",
                )
            else:
                valid.append(event)
        for event in sorted(
            (e for e in valid if e.atomic.get("event") == "page_view"),
            key=lambda e: (e.at, _time(e.atomic.get("dvce_created_tstamp")) or e.at, e.record.line),
        ):
            first_view.setdefault(event.page_view_id or "", event)
        viewed = {(e.atomic.get("domain_sessionid"), e.page_view_id) for e in first_view.values()}
        stray: dict[tuple[str | None, str | None], _Event] = {}
        for event in sorted(valid, key=lambda e: (e.at, e.record.line)):
            seen = (event.atomic.get("domain_sessionid"), event.page_view_id)
            if event.atomic.get("event") == "page_ping" and event.page_view_id and seen not in viewed:
                stray.setdefault(seen, event)
        for event in valid:
            view = first_view.get(event.page_view_id or "")
            if event.atomic.get("event") == "page_view" and view is not event and view is not None:
                yield _rejected(
                    event,
                    "duplicate_page_view",
                    f"snowplow: page_view_id {event.page_view_id} repeats line {view.record.line}, which is kept (the "
                    "view that happened first, as Snowplow's web model keeps it)",
                )
                continue
            event_id = event.atomic["event_id"] or ""
            yield LandingRecord(
                event.record.line,
                event.record.payload,
                value=_contract_record(event, _event_type(event), event.at, event_id),
            )
            if stray.get((event.atomic.get("domain_sessionid"), event.page_view_id)) is event:
                start = event.at - timedelta(seconds=MIN_VISIT_LENGTH_SECONDS)
                record = _contract_record(event, "page_view", start, f"{event_id}:page_view", stray=True)
                yield LandingRecord(event.record.line, event.record.payload, value=record)


ADAPTERS = (SnowplowAdapter(),)
