"""The OpenTelemetry adapter on hand-made OTLP/JSON requests: severities, kinds, unix-nanosecond times, attributes."""

from __future__ import annotations

import json
from datetime import date, datetime

from cx_signals.adapters.otel import OtlpAdapter, any_value, severity, unix_nanos
from cx_signals.contracts import TimeBounds
from cx_signals.ingest import ingest_source
from cx_signals.landing import LandingRecord, discover

ADAPTER = OtlpAdapter()


def kv(**values) -> list[dict]:
    def wrap(v):
        if isinstance(v, bool):
            return {"boolValue": v}
        if isinstance(v, int):
            return {"intValue": str(v)}
        return {"stringValue": v}

    # user_id -> user.id; a key with a dot is taken as written
    return [{"key": k if "." in k else k.replace("_", "."), "value": wrap(v)} for k, v in values.items()]


def logs_request(*records: dict, **resource) -> dict:
    scope = {"scope": {"name": "checkout.lib"}, "logRecords": list(records)}
    return {"resourceLogs": [{"resource": {"attributes": kv(**resource)}, "scopeLogs": [scope]}]}


def spans_request(*spans: dict, **resource) -> dict:
    scope = {"scope": {"name": "http"}, "spans": list(spans)}
    return {"resourceSpans": [{"resource": {"attributes": kv(**resource)}, "scopeSpans": [scope]}]}


def convert(*requests: dict) -> list[LandingRecord]:
    return list(ADAPTER.convert(LandingRecord(n, json.dumps(r), value=r) for n, r in enumerate(requests, start=1)))


def test_values_times_and_severities():
    assert unix_nanos("1544712660300000999") == datetime(2018, 12, 13, 14, 51, 0, 300000)
    assert unix_nanos(1544712660000000000) == datetime(2018, 12, 13, 14, 51)
    assert unix_nanos("0") is None and unix_nanos("soon") is None and unix_nanos(None) is None
    assert [severity(n, None) for n in (1, 5, 9, 12, 13, 17, 21, 24)] == [
        "trace", "debug", "info", "info", "warn", "error", "fatal", "fatal"
    ]  # fmt: skip
    assert severity(None, "Information") == "info" and severity(None, "WARNING") == "warn"
    assert severity(None, "whatever") is None
    nested = {"kvlistValue": {"values": [{"key": "a", "value": {"arrayValue": {"values": [{"intValue": "3"}]}}}]}}
    assert any_value(nested) == {"a": [3]}


def test_log_records_become_telemetry_with_their_kind_severity_and_ids():
    request = logs_request(
        {"timeUnixNano": "1791201600000000000", "severityNumber": 9, "body": {"stringValue": "cart loaded"},
         "attributes": kv(user_id="c42", session_id="s-9")},
        {"timeUnixNano": "0", "observedTimeUnixNano": "1791201601000000000", "severityNumber": 17,
         "attributes": kv(exception_type="TimeoutError", exception_message="gateway timed out")},
        {"timeUnixNano": "1791201602000000000", "severityNumber": 21, "body": {"stringValue": "app died"}},
        {"timeUnixNano": "1791201603000000000", "severityText": "INFO", "eventName": "checkout.view"},
        service_name="shop", os_type="ios", device_id="dev-1",
    )  # fmt: skip
    out = [r.value for r in convert(request)]
    assert [(v["kind"], v.get("severity"), v["name"]) for v in out] == [
        ("log", "info", "checkout.lib"),
        ("error", "error", "TimeoutError"),
        ("crash", "fatal", "checkout.lib"),
        ("event", "info", "checkout.view"),
    ]
    assert out[0] == {
        "ts": "2026-10-05T12:00:00.000000", "customer_id": "c42", "anonymous_id": "dev-1", "session_id": "s-9",
        "app": "ios", "kind": "log", "name": "checkout.lib", "message": "cart loaded", "severity": "info",
    }  # fmt: skip
    assert out[1]["ts"] == "2026-10-05T12:00:01.000000" and out[1]["message"] == "gateway timed out"


def test_spans_are_errors_calls_or_latency_with_their_duration():
    status = "http.response.status_code"
    span = {"name": "GET /cart", "kind": 2, "startTimeUnixNano": "1791201600000000000",
            "endTimeUnixNano": "1791201600250500000", "attributes": kv(**{status: 200})}  # fmt: skip
    failed = {**span, "status": {"code": 2, "message": "upstream down"},
              "attributes": kv(**{status: 503})}  # fmt: skip
    internal = {**span, "kind": 1, "name": "render"}
    out = [r.value for r in convert(spans_request(span, failed, internal, service_name="api"))]
    assert [(v["kind"], v["name"], v["duration_ms"], v.get("status_code")) for v in out] == [
        ("api_call", "GET /cart", 250.5, 200),
        ("error", "GET /cart", 250.5, 503),
        ("latency", "render", 250.5, 200),
    ]
    assert out[1]["message"] == "upstream down" and out[0]["anonymous_id"] == "service:api"


def test_metrics_and_other_documents_are_unmappable():
    metrics = {"resourceMetrics": [{"resource": {}, "scopeMetrics": []}]}
    assert ADAPTER.detect(metrics) and not ADAPTER.detect({"ts": "x"}) and not ADAPTER.detect([1])
    [rejected] = convert(metrics)
    assert rejected.rule == "unmappable_record" and "metrics" in rejected.error


def test_a_jsonl_of_requests_loads_through_ingest_and_reconciles(tmp_path):
    folder = tmp_path / "telemetry"
    folder.mkdir()
    lines = [
        logs_request({"timeUnixNano": "1791201600000000000", "severityNumber": 17, "attributes": kv(user_id="c1")},
                     {"timeUnixNano": "1791201601000000000", "severityNumber": 5}, service_name="web"),
        spans_request({"name": "GET /", "kind": 3, "startTimeUnixNano": "1791201602000000000",
                       "endTimeUnixNano": "1791201603000000000"}, service_name="web"),
        {"resourceLogs": [{"scopeLogs": [{"logRecords": [{"severityNumber": 9}]}]}]},  # no time, no device
    ]  # fmt: skip
    (folder / "otlp-2026-10-05.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = ingest_source(
        "telemetry",
        discover(tmp_path),
        {date(2026, 10, 5)},
        TimeBounds(datetime(1990, 1, 1), datetime(2026, 12, 1)),
        b"k" * 32,
        max_text_chars=10_000,
        placeholder_ids=("",),
    )
    rows = sorted((r["source_line"], r["kind"], r["customer_id"]) for r in result.rows["raw.telemetry"])
    # the second log record of line 1 is numbered after the file's last line
    assert rows == [(1, "error", "c1"), (2, "api_call", None), (4, "log", None)]
    assert [(r["source_line"], r["rule"]) for r in result.rejects] == [(3, "missing_required")]
    counts = result.counts[date(2026, 10, 5)]
    assert (counts.read, counts.loaded, counts.quarantined) == (4, 3, 1) and counts.reconciles
    [listed] = result.inputs[date(2026, 10, 5)].values()
    assert (listed["format"], listed["read_as"]) == ("otel", "jsonl")


def test_service_version_is_the_app_version_of_logs_and_spans():
    log = {"timeUnixNano": "1791201600000000000", "severityNumber": 17, "attributes": kv(exception_type="E")}
    span = {"name": "GET /cart", "kind": 2, "startTimeUnixNano": "1791201600000000000",
            "endTimeUnixNano": "1791201600001000000"}  # fmt: skip
    out = [r.value for r in convert(logs_request(log, **{"service.version": "5.4.0"}))]
    out += [r.value for r in convert(spans_request(span, **{"service.version": "5.4.1"}))]
    out += [r.value for r in convert(spans_request(span, service_name="api"))]
    assert [v.get("app_version") for v in out] == ["5.4.0", "5.4.1", None]
