"""OpenTelemetry OTLP/JSON onto the telemetry contract: log records and events (`resourceLogs`) and spans
(`resourceSpans`), from a file holding one export request (`{"resourceLogs": [...]}`, as the OTLP/HTTP JSON
encoding and the collector's file exporter write them) or one request per line.

Timestamps are unix nanoseconds (text or number), read exactly. Attributes of the record, its scope and its resource
are merged (the record's win): `user.id` or `enduser.id` is the customer, `session.id` the session, `device.id` (else
`service.instance.id`, `host.id`, `host.name`, else `service:<service.name>`, so that a record without a device still
loads, joined to no customer) the anonymous id, `os.type`/`os.name` the app (ios, android, else web), `service.version`
the app version (the release that sent the record).

- A log record's kind follows its severity number: crash from FATAL (21), error from ERROR (17) or with an
  `exception.type`, else event when it has an event name, else log; its name is the event name, the exception type,
  or its scope's name; its message the body (text, or the body's JSON).
- A span is an error when its status code is ERROR, else an api_call (server and client spans) or a latency sample
  (internal, producer, consumer), with its duration in milliseconds and HTTP status code.
- Metrics (`resourceMetrics`) are not telemetry records here: a request of them is quarantined as unmappable.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from cx_signals.adapters.base import UNMAPPABLE_RULE
from cx_signals.landing import LandingRecord

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SEVERITIES = ((21, "fatal"), (17, "error"), (13, "warn"), (9, "info"), (5, "debug"), (1, "trace"))
_ERROR_SEVERITY, _FATAL_SEVERITY = 17, 21
_SERVER_OR_CLIENT = {2, 3, "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT"}
_STATUS_ERROR = {2, "STATUS_CODE_ERROR"}
_DEVICE_KEYS = ("device.id", "service.instance.id", "host.id", "host.name")
_STATUS_KEYS = ("http.response.status_code", "http.status_code")


def any_value(value: Any) -> Any:
    """An OTLP AnyValue (`{"stringValue": ...}`, `{"intValue": "10"}`, arrays, key-value lists) as a plain value."""
    if not isinstance(value, dict) or not value:
        return None
    kind, inner = next(iter(value.items()))
    if kind == "intValue":
        try:
            return int(inner)
        except (TypeError, ValueError):
            return inner
    if kind == "arrayValue":
        return [any_value(v) for v in (inner or {}).get("values") or ()]
    if kind == "kvlistValue":
        return attributes((inner or {}).get("values"))
    return inner


def attributes(items: Any) -> dict[str, Any]:
    """An OTLP attribute list (`[{"key": ..., "value": AnyValue}]`) as a dict."""
    if not isinstance(items, list):
        return {}
    return {str(i.get("key")): any_value(i.get("value")) for i in items if isinstance(i, dict) and "key" in i}


def unix_nanos(value: Any) -> datetime | None:
    """A unix time in nanoseconds (text or number; 0 means unset) as a naive UTC datetime, exactly to the
    microsecond; None when absent or not a time."""
    try:
        nanos = int(value)
    except (TypeError, ValueError):
        return None
    if nanos <= 0:
        return None
    try:
        return (_EPOCH + timedelta(microseconds=nanos // 1000)).replace(tzinfo=None)
    except OverflowError:
        return None


def severity(number: Any, text: Any) -> str | None:
    """The contract's severity of an OTLP severity number (1-24), else of a severity text such as 'Information'."""
    if isinstance(number, int) and number > 0:
        return next(name for low, name in _SEVERITIES if number >= low)
    word = str(text or "").strip().lower()
    for name in ("fatal", "error", "warn", "info", "debug", "trace"):
        if word.startswith(name):
            return name
    return None


def _common(attrs: dict[str, Any]) -> dict[str, Any]:
    """The contract fields every record of a resource shares, from the merged attributes."""
    device = next((attrs[k] for k in _DEVICE_KEYS if attrs.get(k) not in (None, "")), None)
    service = attrs.get("service.name")
    os_name = f"{attrs.get('os.type') or ''} {attrs.get('os.name') or ''}".lower()
    app = "ios" if "ios" in os_name else "android" if "android" in os_name else "web"
    status = next((attrs[k] for k in _STATUS_KEYS if isinstance(attrs.get(k), int)), None)
    version = attrs.get("service.version")
    record = {
        "customer_id": attrs.get("user.id") or attrs.get("enduser.id"),
        "anonymous_id": str(device) if device is not None else f"service:{service}" if service else None,
        "session_id": attrs.get("session.id"),
        "app": app,
        "status_code": status,
        "app_version": str(version) if version not in (None, "") else None,
    }
    return {k: (str(v) if k.endswith("_id") and v is not None else v) for k, v in record.items() if v is not None}


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _log(log: dict[str, Any], scope: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    merged = {**attrs, **attributes(log.get("attributes"))}
    number = log.get("severityNumber")
    number = number if isinstance(number, int) else None
    level = severity(number, log.get("severityText"))
    at = unix_nanos(log.get("timeUnixNano")) or unix_nanos(log.get("observedTimeUnixNano"))
    event_name = log.get("eventName") or merged.get("event.name")
    exception = merged.get("exception.type")
    if (number or 0) >= _FATAL_SEVERITY or level == "fatal":
        kind = "crash"
    elif (number or 0) >= _ERROR_SEVERITY or level == "error" or exception:
        kind = "error"
    else:
        kind = "event" if event_name else "log"
    message = _text(any_value(log.get("body"))) or _text(merged.get("exception.message"))
    record = {
        "ts": at.isoformat(timespec="microseconds") if at else None,
        **_common(merged),
        "kind": kind,
        "name": event_name or exception or scope.get("name") or merged.get("service.name"),
        "message": message,
        "severity": level,
    }
    return {k: v for k, v in record.items() if v is not None}


def _span(span: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    merged = {**attrs, **attributes(span.get("attributes"))}
    start, end = unix_nanos(span.get("startTimeUnixNano")), unix_nanos(span.get("endTimeUnixNano"))
    status = span.get("status") if isinstance(span.get("status"), dict) else {}
    if status.get("code") in _STATUS_ERROR:
        kind = "error"
    else:
        kind = "api_call" if span.get("kind") in _SERVER_OR_CLIENT else "latency"
    duration = (end - start) / timedelta(milliseconds=1) if start and end and end >= start else None
    record = {
        "ts": start.isoformat(timespec="microseconds") if start else None,
        **_common(merged),
        "kind": kind,
        "name": span.get("name"),
        "duration_ms": duration,
        "message": status.get("message") or None,
    }
    return {k: v for k, v in record.items() if v is not None}


def _resources(request: dict[str, Any], key: str) -> Iterator[tuple[dict[str, Any], dict[str, Any], list[Any]]]:
    """(scope, merged resource and scope attributes, items) of each scope of the request's `key` list."""
    scopes_key, items_key = {"resourceLogs": ("scopeLogs", "logRecords"), "resourceSpans": ("scopeSpans", "spans")}[key]
    for resource in request.get(key) or ():
        if not isinstance(resource, dict):
            continue
        resource_attrs = attributes((resource.get("resource") or {}).get("attributes"))
        for scoped in resource.get(scopes_key) or ():
            if not isinstance(scoped, dict):
                continue
            scope = scoped.get("scope") if isinstance(scoped.get("scope"), dict) else {}
            merged = {**resource_attrs, **attributes(scope.get("attributes"))}
            yield scope, merged, [i for i in scoped.get(items_key) or () if isinstance(i, dict)]


class OtlpAdapter:
    """OTLP/JSON logs, events and spans as telemetry."""

    name = "otel"
    source = "telemetry"

    def detect(self, first: Any) -> bool:
        """An OTLP export request: an object with a resourceLogs, resourceSpans or resourceMetrics list."""
        return isinstance(first, dict) and any(
            isinstance(first.get(k), list) for k in ("resourceLogs", "resourceSpans", "resourceMetrics")
        )

    def convert(self, records: Iterable[LandingRecord]) -> Iterator[LandingRecord]:
        """Each log record and span of each request, in order, on the request's line."""
        for record in records:
            request = record.value
            if not self.detect(request):
                yield LandingRecord(
                    record.line, record.payload, error="otel: not an OTLP export request", rule=UNMAPPABLE_RULE
                )
                continue
            if request.get("resourceMetrics"):
                yield LandingRecord(
                    record.line,
                    record.payload,
                    error="otel: OTLP metrics are not telemetry records (send logs, events or spans)",
                    rule=UNMAPPABLE_RULE,
                )
            for scope, attrs, logs in _resources(request, "resourceLogs"):
                for log in logs:
                    yield LandingRecord(record.line, json.dumps(log), value=_log(log, scope, attrs))
            for _, attrs, spans in _resources(request, "resourceSpans"):
                for span in spans:
                    yield LandingRecord(record.line, json.dumps(span), value=_span(span, attrs))


ADAPTERS = (OtlpAdapter(),)
