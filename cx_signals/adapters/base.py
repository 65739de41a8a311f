"""What an adapter is: a mapping from a foreign export's records (Snowplow, Zendesk, TWCS, OTLP, ...) onto a
source's contract records, recognised by the export's shape.

An adapter sees a file's raw records as the landing reader parsed them: a CSV or TSV row as a dict keyed by its
header exactly as written, a JSON Lines line or a JSON array element as its value, a JSON document that is one object
(an API response such as `{"tickets": [...]}` or an OTLP request) as a single record. It returns contract records;
a source record it cannot map comes back with `error` and `rule` set, so that it is quarantined with its reason and
nothing is lost silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from cx_signals.landing import LandingRecord

UNMAPPABLE_RULE = "unmappable_record"


class Adapter(Protocol):
    """A foreign format mapped onto one source's contract."""

    name: str  # the format's name, as `landing.<source>.format` names it and the run summary reports it
    source: str  # transcripts | telemetry | events

    def detect(self, first: Any) -> bool:
        """Whether a file whose first raw record is `first` has this format (by its keys, header or shape)."""
        ...

    def convert(self, records: Iterable[LandingRecord]) -> Iterator[LandingRecord]:
        """The contract records of a file's raw records, in file order. Each keeps the line of the first source
        record it came from; a source record that cannot be mapped is returned with `error` and `rule` set."""
        ...

