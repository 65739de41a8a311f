"""What an adapter is: a mapping from a foreign export's records (Snowplow, Zendesk, TWCS, OTLP, ...) onto a
source's contract records, recognised by the export's shape.

An adapter sees a file's raw records as the landing reader parsed them: a CSV or TSV row as a dict keyed by its
header exactly as written (stripped of surrounding spaces), a JSON Lines line or a JSON array element as its value, a
JSON document that is one object (an API response such as `{"tickets": [...]}` or an OTLP request) as a single
record, a Parquet row as a dict of Python values. An adapter with `headerless = True` is also offered a delimited
file's first row as a list of cells, and if it claims it, gets every row (the first included) as a list. Records the
reader could not parse never reach `convert`: they are quarantined with their own reason.

`convert` returns contract records (`LandingRecord.value` a dict of the contract's fields, JSON-serialisable:
timestamps as ISO-8601 text); they then go through the same validation, deduplication, quarantine and counting as a
contract-shaped file. A source record it cannot map comes back with `error` and `rule` set (`UNMAPPABLE_RULE`, or a
more precise rule), so that it is quarantined with its reason and nothing is lost silently; its `value` may hold the
contract fields known so far (such as `ts`), which put its quarantine row on its day instead of the file's. Each
output record keeps the line of the source record it came from; when one source record gives several (an OTLP
request), the first keeps it and the others are numbered after the file's last line. Read = loaded + quarantined +
duplicates holds over the output records.
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
    # headerless: bool - optional; True when the format can be a delimited file without a header (see above)

    def detect(self, first: Any) -> bool:
        """Whether a file whose first raw record is `first` has this format (by its keys, header or shape)."""
        ...

    def convert(self, records: Iterable[LandingRecord]) -> Iterator[LandingRecord]:
        """The contract records of a file's raw records, in file order. Each keeps the line of the first source
        record it came from; a source record that cannot be mapped is returned with `error` and `rule` set."""
        ...
