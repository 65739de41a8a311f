"""The Snowplow adapter on hand-made events: recognition, the web model's preparation (every event it leaves out
quarantined with its rule) and the mapping of event kinds to event types."""

from __future__ import annotations

import json

from cx_signals.adapters.snowplow import ENRICHED_FIELDS, SnowplowAdapter
from cx_signals.landing import LandingRecord

ADAPTER = SnowplowAdapter()
WEB_PAGE = "contexts_com_snowplowanalytics_snowplow_web_page_1_0_0"


def event(event_id: str, kind: str, at: str, page_view: str | None = "pv-a", session: str = "s1", **more) -> dict:
    row = {
        "app_id": "shop", "platform": "web", "event": kind, "event_id": event_id, "collector_tstamp": at,
        "derived_tstamp": at, "dvce_created_tstamp": at, "dvce_sent_tstamp": at, "domain_userid": "d1",
        "domain_sessionid": session, "network_userid": "n1", "user_id": "", "page_urlpath": "/shop",
        "event_vendor": "com.snowplowanalytics.snowplow", "event_name": kind,
        WEB_PAGE: json.dumps([{"id": page_view}]) if page_view else "",
    }  # fmt: skip
    return {**row, **more}


def convert(rows: list[dict]) -> list[LandingRecord]:
    records = [LandingRecord(n, json.dumps(row), value=row) for n, row in enumerate(rows, start=2)]
    return sorted(ADAPTER.convert(records), key=lambda r: r.line)


def test_recognises_the_warehouse_export_and_the_enriched_tsv_not_our_contract():
    row = event("e1", "page_view", "2021-03-01 10:00:00.000")
    assert ADAPTER.detect(row)
    assert not ADAPTER.detect({"event_id": "e1", "ts": "2021-03-01T10:00:00Z", "anonymous_id": "a"})
    cells = [row.get(name, "") for name in ENRICHED_FIELDS]
    assert ADAPTER.detect(cells)
    assert not ADAPTER.detect(cells[:-1])
    assert not ADAPTER.detect(["x"] * len(ENRICHED_FIELDS))


def test_the_web_models_preparation_quarantines_what_it_leaves_out():
    rows = [
        event("e1", "page_view", "2021-03-01 10:00:00.000"),
        event("e1", "page_view", "2021-03-01 10:00:05.000"),  # a second copy, collected later
        event("e2", "page_ping", "2021-03-01 10:00:10.000"),
        event("e3", "page_view", "2021-03-01 10:00:20.000"),  # a second view of page view pv-a
        event("e4", "page_view", "2021-03-01 10:01:00.000", "pv-c", dvce_created_tstamp="2021-02-20 10:00:00.000"),
        event("e5", "page_ping", "2021-03-05 10:00:00.000"),  # four days after the session started
        event("e6", "page_view", "2021-03-01 10:02:00.000", page_view=None),
    ]
    out = convert(rows)
    rules = [(r.line, r.rule) for r in out if r.error]
    assert rules == [
        (3, "duplicate_event"),
        (5, "duplicate_page_view"),
        (6, "late_event"),
        (7, "session_too_long"),
        (8, "unmappable_record"),
    ]
    assert "repeats line 2" in out[1].error and "collected first" in out[1].error
    assert json.loads(out[5].payload)["event_id"] == "e5" and out[5].value == {"ts": "2021-03-05T10:00:00.000000"}
    loaded = [r.value for r in out if not r.error]
    assert [(v["event_id"], v["event_type"]) for v in loaded] == [("e1", "page_view"), ("e2", "scroll")]
    assert loaded[0] == {
        "event_id": "e1", "ts": "2021-03-01T10:00:00.000000", "anonymous_id": "d1", "session_id": "s1",
        "event_type": "page_view", "page": "/shop",
        "properties": {"app_id": "shop", "platform": "web", "event": "page_view",
                       "event_vendor": "com.snowplowanalytics.snowplow", "event_name": "page_view",
                       "page_view_id": "pv-a"},
    }  # fmt: skip


def test_a_stray_page_ping_also_gives_its_page_view_before_it():
    out = convert([event("e1", "page_ping", "2021-03-01 10:00:10.000", "pv-b")])
    assert [(r.line, r.value["event_type"], r.value["ts"]) for r in out] == [
        (2, "scroll", "2021-03-01T10:00:10.000000"),
        (2, "page_view", "2021-03-01T10:00:05.000000"),
    ]
    assert out[1].value["event_id"] == "e1:page_view" and out[1].value["properties"]["from_page_ping"] is True


def test_event_kinds_map_to_event_types_and_the_rest_keep_their_payload():
    link = {"targetUrl": "https://example.com/help", "elementId": "help-link"}
    rows = [
        event("e1", "unstruct", "2021-03-01 10:00:00.000", event_name="link_click",
              unstruct_event_com_snowplowanalytics_snowplow_link_click_1_0_1=json.dumps(link)),
        event("e2", "struct", "2021-03-01 10:00:01.000", event_name="event", se_category="cart",
              se_action="Add to cart"),
        event("e3", "struct", "2021-03-01 10:00:02.000", event_name="event", se_action="wiggle"),
        event("e4", "unstruct", "2021-03-01 10:00:03.000", event_name="consent_preferences",
              unstruct_event_com_snowplowanalytics_snowplow_consent_preferences_1_0_0='{"basisForProcessing": "x"}'),
        event("e5", "unstruct", "2021-03-01 10:00:04.000", event_name="application_error",
              unstruct_event_com_snowplowanalytics_snowplow_application_error_1_0_2='{"message": "boom"}'),
        event("e6", "unstruct", "2021-03-01 10:00:05.000", event_name="submit_form",
              unstruct_event_com_snowplowanalytics_snowplow_submit_form_1_0_0='{"formId": "signup"}'),
        event("e7", "page_view", "2021-03-01 10:00:06.000", session="", domain_userid="", user_id="u9"),
    ]  # fmt: skip
    out = [r.value for r in convert(rows)]
    assert [v["event_type"] for v in out] == ["click", "add_to_cart", "other", "other", "error", "form_submit",
                                              "page_view"]  # fmt: skip
    assert out[0]["target"] == "https://example.com/help"
    assert out[2]["properties"]["se_action"] == "wiggle"
    assert out[3]["properties"]["data"] == {"basisForProcessing": "x"}
    assert out[4]["properties"]["data"] == {"message": "boom"}
    assert out[5]["target"] == "signup"
    # no session id: the pipeline sessionises; no domain_userid: the network cookie is the device
    assert "session_id" not in out[6] and out[6]["anonymous_id"] == "n1" and out[6]["customer_id"] == "u9"


def test_an_enriched_row_reads_its_entities_and_one_of_the_wrong_width_is_unmappable():
    page = {"schema": "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0", "data": {"id": "pv-t"}}
    contexts = json.dumps({"schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0", "data": [page]})
    row = event("e1", "page_view", "2021-03-01 10:00:00.000", contexts=contexts)
    cells = [row.get(name, "") for name in ENRICHED_FIELDS]
    out = list(ADAPTER.convert([LandingRecord(1, "\t".join(cells), value=cells), LandingRecord(2, "x", value=["x"])]))
    assert [r.rule for r in out if r.error] == ["unmappable_record"]
    assert "131 fields, this row 1" in next(r.error for r in out if r.error)
    assert [r.value["properties"]["page_view_id"] for r in out if not r.error] == ["pv-t"]


def test_link_and_form_events_say_which_element_they_were_on():
    link = {"targetUrl": "https://example.com/help", "elementContent": "Next page", "elementClasses": ["pager"]}
    field = {"formId": "checkout", "elementId": "qty", "nodeName": "INPUT", "type": "NUMBER", "value": None}
    rows = [
        event("e1", "unstruct", "2021-03-01 10:00:00.000", event_name="link_click",
              unstruct_event_com_snowplowanalytics_snowplow_link_click_1_0_1=json.dumps(link)),
        event("e2", "unstruct", "2021-03-01 10:00:01.000", event_name="change_form",
              unstruct_event_com_snowplowanalytics_snowplow_change_form_1_0_0=json.dumps(field)),
        event("e3", "unstruct", "2021-03-01 10:00:02.000", event_name="submit_form",
              unstruct_event_com_snowplowanalytics_snowplow_submit_form_1_0_0='{"formId": "checkout"}'),
        event("e4", "unstruct", "2021-03-01 10:00:03.000", event_name="link_click"),
        event("e5", "page_view", "2021-03-01 10:00:04.000"),
    ]  # fmt: skip
    out = [r.value for r in convert(rows)]
    elements = [{k: v for k, v in value.items() if k.startswith("element_")} for value in out]
    assert elements == [
        {"element_tag": "a", "element_text": "Next page"},
        {"element_tag": "input", "element_type": "number"},
        {"element_tag": "form"},
        # a link click without its event's data is still a click on a link; a page view is on no element
        {"element_tag": "a"},
        {},
    ]
