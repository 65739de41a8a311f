"""The planner: customers in shards, their contacts and repeat chains, and the sessions placed around them."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from cx_signals.generate.actions import Alertable, alertable
from cx_signals.generate.conversations import Conv, Dialogues, transcript_tail
from cx_signals.generate.friction_cases import plant_friction_case
from cx_signals.generate.industries import Industry
from cx_signals.generate.intents import INTENTS, Intent
from cx_signals.generate.params import (
    APP_SHARES,
    APPS,
    BACKGROUND_FRICTION,
    BOT_CHANNELS,
    CONTACT_BUTTON,
    DAY,
    EDGE_GUARD_MS,
    HOUR,
    HOURLY,
    ISSUES_PER_CUSTOMER_DAY,
    MAX_CHAIN,
    MINUTE,
    NO_CONSENT_SHARE,
    POST_CONTACT_MS,
    PRE_CONTACT_MS,
    REPEAT_IF_OPEN,
    REPEAT_IF_RESOLVED,
    SECOND,
    SESSIONLESS_SHARE,
    SESSIONS_PER_CUSTOMER_DAY,
    TEAMS,
    VISITORS_PER_CUSTOMER,
)
from cx_signals.generate.releases import BAD_RELEASE_ERROR, Releases
from cx_signals.generate.sessions import (
    FLOWS,
    PRODUCTS,
    SCENARIOS,
    TELEMETRY_SCENARIOS,
    Device,
    Element,
    PlacedSession,
    Session,
    had_friction,
    light_touch,
)
from cx_signals.generate.truth import conversation_truth, pii_truth, session_truth
from cx_signals.generate.values import loguniform, mix64, order_number, overlaps
from cx_signals.generate.writers import EVENTS_SCHEMA, Spool, telemetry_line


class World:
    """Plans customers, contacts and sessions one shard of customers at a time.

    Everything a shard plans stays in memory only until `spill` hands it to a `Spool`; what lives for the
    whole run is per customer (ids, activity, consent, device) or per conversation (start and customer, for
    numbering), never per event.
    """

    def __init__(
        self,
        days: int,
        customers: int,
        seed: int,
        start: date,
        repeat_window_days: int,
        industry: Industry | None = None,
    ) -> None:
        self.rnd = random.Random(seed)
        self.seed = seed
        self.nprng = np.random.default_rng(seed)
        self.days = days
        self.repeat_ms = repeat_window_days * DAY
        self.t0 = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp()) * SECOND
        self.t1 = self.t0 + days * DAY
        self.releases = Releases(self.t0, days)
        self.used_anonymous_ids: set[str] = set()
        self.id_key = self.rnd.getrandbits(64)
        self.ids_issued = 0
        self.case_ids_issued = 0
        self.customer_ids = [f"C{i:06d}" for i in range(1, customers + 1)]
        self.activity = self.nprng.gamma(2.0, 0.5, customers)
        self.consent = (self.nprng.random(customers) >= NO_CONSENT_SHARE).tolist()
        self.apps = self.nprng.choice(len(APPS), size=customers, p=APP_SHARES)
        self.sessionless = (self.apps == 0) & (self.nprng.random(customers) < SESSIONLESS_SHARE)
        if customers and not self.sessionless.any() and (self.apps == 0).any():
            self.sessionless[int(np.argmax(self.apps == 0))] = True
        self.anonymous_ids = [self._anonymous_id() for _ in range(customers)]
        pool = max(4, customers // 150)
        self.agents = {team: [f"agt-{i * 100 + k + 1:04d}" for k in range(pool)] for i, team in enumerate(TEAMS)}
        self.dialogues = Dialogues(self.rnd, self.agents, industry, seed)
        self.intents = industry.intents if industry is not None else INTENTS
        self.issue_counts = self.nprng.poisson(self.activity * ISSUES_PER_CUSTOMER_DAY * days)
        self.session_counts = self.nprng.poisson(self.activity * SESSIONS_PER_CUSTOMER_DAY * days)
        # Midnight sessions still to place: one with a session_id, one without (only when day 2 exists).
        self.midnight_pending = [False, True] if days >= 2 else []
        # Per conversation, in planning order: its start (ms) and customer; they decide its number.
        self.conv_starts: list[int] = []
        self.conv_customers: list[int] = []
        self.alertable: list[Alertable] = []  # journeys that raise a friction alert (cx_signals.generate.actions)
        self._clear_shard()

    def _clear_shard(self) -> None:
        self.devices: list[Device] = []
        self.chains: list[list[Conv]] = []
        self.sessions: list[PlacedSession] = []
        self.event_rows: list[tuple[int, str, str | None, str, str | None, str, str | None, str | None,
                                    int | None, int | None, str | None, *Element, str]] = []  # fmt: skip
        self.telemetry_rows: list[tuple[int, str | None, str | None, str | None, str, str, str,
                                        int | None, float | None, str | None, str]] = []  # fmt: skip
        self.friction_at: dict[int, list[int]] = {}

    def _anonymous_id(self) -> str:
        while True:
            candidate = f"anon-{self.rnd.getrandbits(48):012x}"
            if candidate not in self.used_anonymous_ids:
                self.used_anonymous_ids.add(candidate)
                return candidate

    def _serial_id(self, prefix: str) -> str:
        """A random-looking 64-bit id, unique by construction (a bijection of a counter), so no set of ids is kept."""
        self.ids_issued += 1
        return f"{prefix}{mix64(self.ids_issued ^ self.id_key):016x}"

    def _random_time(self) -> int:
        day = self.rnd.randrange(self.days)
        hour = self.rnd.choices(range(24), HOURLY)[0]
        return self.t0 + day * DAY + hour * HOUR + self.rnd.randrange(HOUR)

    # ----------------------------------------------------------------- contacts

    def plan_shard(self, lo: int, hi: int) -> None:
        """Plan customers lo..hi-1 (0-based) with their contacts and sessions, their share of anonymous
        visitors, a pending midnight session if one of them can take it, and their apps' background syncs."""
        self.devices = [
            Device(self.anonymous_ids[c], c, APPS[int(self.apps[c])], bool(self.sessionless[c])) for c in range(lo, hi)
        ]
        for device in self.devices:
            c = device.customer
            assert c is not None
            convs = self._customer_contacts(c, device, int(self.issue_counts[c]))
            self._customer_sessions(device, convs, int(self.session_counts[c]))
            plant_friction_case(self, device, convs)
        for _ in range(round(hi * VISITORS_PER_CUSTOMER) - round(lo * VISITORS_PER_CUSTOMER)):
            app = self.rnd.choices(APPS, (0.8, 0.1, 0.1))[0]
            visitor = Device(self._anonymous_id(), None, app, app == "web" and self.rnd.random() < 0.12)
            for _ in range(self.rnd.choice((1, 1, 1, 2, 3))):
                self._background_session(visitor, [])
        self._midnight_sessions()
        self._background_telemetry()

    def _intent_weights(self, app: str) -> list[float]:
        crash_factor = 0.3 if app == "web" else 3.0
        return [i.share * (crash_factor if i.name == "app_crash" else 1.0) for i in self.intents]

    def _customer_contacts(self, c: int, device: Device, n_issues: int) -> list[Conv]:
        weights = self._intent_weights(device.app)
        last_end: dict[str, int] = {}
        convs: list[Conv] = []
        for start in sorted(self._random_time() for _ in range(n_issues)):
            for _ in range(3):
                intent = self.rnd.choices(self.intents, weights)[0]
                # Separate issues on one intent by more than R days, so repeat chains never merge.
                if start > last_end.get(intent.name, -DAY * 10_000) + self.repeat_ms + DAY:
                    chain = self._chain(c, intent, start)
                    last_end[intent.name] = chain[-1].end
                    convs.extend(chain)
                    break
        return sorted(convs, key=lambda conv: conv.start)

    def _chain(self, c: int, intent: Intent, start: int) -> list[Conv]:
        r = self.rnd
        chain: list[Conv] = []
        channel = ""
        for position in range(1, MAX_CHAIN + 1):
            if not channel or r.random() > 0.55:
                channel = r.choices(list(intent.channels), list(intent.channels.values()))[0]
            conv = self.dialogues.conversation(c, intent, channel, position, start)
            chain.append(conv)
            repeat_p = REPEAT_IF_RESOLVED if conv.disposition == "resolved" else REPEAT_IF_OPEN
            if r.random() >= repeat_p:
                break
            start = conv.end + loguniform(r, 20 * MINUTE, 0.75 * self.repeat_ms)
            if start >= self.t1:
                break
        self.chains.append(chain)
        self.dialogues.csat(chain)
        return chain

    # ----------------------------------------------------------------- sessions

    def _customer_sessions(self, device: Device, convs: list[Conv], n_background: int) -> None:
        r = self.rnd
        for conv in convs:
            if conv.web_session:
                self._pre_contact_session(device, conv, convs)
        for conv in convs:
            happy = conv.contained and conv.outcome == "resolved"
            if r.random() < (0.25 if happy else 0.12):
                self._post_contact_session(device, conv, convs, r.random() < (0.3 if happy else 0.2))
        for _ in range(n_background):
            self._background_session(device, convs)

    @staticmethod
    def _bands(convs: list[Conv], skip: Conv | None = None) -> list[tuple[int, int]]:
        """Window edges a friction session must keep clear of (ms intervals)."""
        bands = []
        for conv in convs:
            if conv is skip:
                continue
            edge = conv.start - PRE_CONTACT_MS
            bands.append((edge - EDGE_GUARD_MS, edge + EDGE_GUARD_MS))
            bands.append((conv.start - MINUTE, conv.end + EDGE_GUARD_MS))
            edge = conv.end + POST_CONTACT_MS
            bands.append((edge - EDGE_GUARD_MS, edge + EDGE_GUARD_MS))
        return bands

    def _scenario(self, device: Device, name: str) -> str:
        if name == "crash" and device.app == "web":
            name = "broken_page"
        if device.sessionless and name in TELEMETRY_SCENARIOS:
            name = "rage_save"
        return name

    def _new_session(self, device: Device) -> Session:
        return Session(self.rnd, device.app, telemetry_friction=not device.sessionless)

    def _add_session(
        self,
        device: Device,
        build: Callable[[bool], Session],
        start_for: Callable[[int], int | None],
        friction: bool,
        bands: list[tuple[int, int]],
    ) -> None:
        for with_friction in (True, False) if friction else (False,):
            s = build(with_friction)
            start = start_for(s.span)
            if start is None or start < self.t0 or start + s.span >= self.t1:
                return
            if not device.free(start, start + s.span):
                return
            if s.friction_at and overlaps(bands, start, start + s.span):
                continue
            self._commit(device, s, start)
            return

    def _pre_contact_session(self, device: Device, conv: Conv, convs: list[Conv]) -> None:
        r = self.rnd
        intent = conv.intent
        order = conv.order
        chat = conv.channel in BOT_CHANNELS

        def build(with_friction: bool) -> Session:
            s = self._new_session(device)
            for page in intent.pages:
                s.go(page.format(order=order))
            if with_friction:
                SCENARIOS[self._scenario(device, intent.scenario)](s, r, order)
                if s.crashed:
                    return s
            light_touch(s, r)
            s.read(intent.article)
            if conv.channel in CONTACT_BUTTON:
                s.go("/help/contact")
                s.press(CONTACT_BUTTON[conv.channel], "contact_start", {"channel": conv.channel})
            s.end(leave=not chat)
            return s

        def start_for(span: int) -> int | None:
            earliest = conv.start - PRE_CONTACT_MS + 8 * MINUTE
            if chat:  # the chat opens from the contact button seconds later
                start = conv.start - r.randint(10 * SECOND, 90 * SECOND) - span
                return start if start >= earliest else None
            start = conv.start - r.randint(3 * MINUTE, 30 * MINUTE) - span
            if start < earliest:
                start = earliest
                if start + span > conv.start - 30 * SECOND:
                    return None
            return start

        self._add_session(device, build, start_for, conv.friction, self._bands(convs, skip=conv))

    def _post_contact_session(self, device: Device, conv: Conv, convs: list[Conv], friction: bool) -> None:
        r = self.rnd
        intent = conv.intent

        def build(with_friction: bool) -> Session:
            s = self._new_session(device)
            for page in intent.pages:
                s.go(page.format(order=conv.order))
            if with_friction:
                SCENARIOS[self._scenario(device, intent.scenario)](s, r, conv.order)
            else:
                s.scroll()
            s.end()
            return s

        start = conv.end + r.randint(1 * HOUR, 20 * HOUR)
        self._add_session(device, build, lambda _span: start, friction, self._bands(convs))

    def _background_session(self, device: Device, convs: list[Conv]) -> None:
        r = self.rnd
        start = self._random_time()
        # Keep unplanned sessions well away from this customer's contacts.
        zones = [(conv.start - 3 * HOUR, conv.end + 30 * HOUR) for conv in convs]
        if overlaps(zones, start, start) or not device.free(start, start):
            return
        friction = r.random() < BACKGROUND_FRICTION
        order = order_number(r)

        def build(with_friction: bool) -> Session:
            s = self._new_session(device)
            flow = r.choices([f for f, _ in FLOWS], [w for _, w in FLOWS])[0]
            flow(s, r, order)
            if with_friction:
                names = [n for n in SCENARIOS if self._scenario(device, n) == n]
                SCENARIOS[r.choice(names)](s, r, order)
            if not s.crashed:
                light_touch(s, r)
            s.end()
            return s

        def start_for(span: int) -> int | None:
            return None if overlaps(zones, start, start + span) else start

        self._add_session(device, build, start_for, friction, [])

    def _midnight_sessions(self) -> None:
        """One session with a session_id and one without that span midnight UTC (day 1), each on the first
        free web device of its kind (the first shard that has one places it)."""
        midnight = self.t0 + DAY
        for sessionless in list(self.midnight_pending):
            for device in self.devices:
                if device.sessionless != sessionless or device.app != "web":
                    continue
                if not device.free(midnight - 2 * HOUR, midnight + 2 * HOUR):
                    continue
                s = self._new_session(device)
                s.enter("/")
                for product in PRODUCTS:
                    s.nav(product)
                    s.t += self.rnd.randint(60 * SECOND, 100 * SECOND)
                    s.scroll()
                s.end()
                self._commit(device, s, midnight - s.span // 2)
                self.midnight_pending.remove(sessionless)
                break

    def _case_id(self, prefix: str) -> str:
        """An id of a friction case session or its events: from a counter of its own with the top bit set, so it never
        equals a _serial_id and the ids of the other sessions stay as they were without the cases."""
        self.case_ids_issued += 1
        return f"{prefix}{mix64(((1 << 63) | self.case_ids_issued) ^ self.id_key):016x}"

    def _commit(self, device: Device, s: Session, start: int, case: str | None = None) -> None:
        serial = self._case_id if case else self._serial_id
        session_id = None if device.sessionless else serial("s-")
        customer_id = None if device.customer is None else self.customer_ids[device.customer]
        device.busy.append((start, start + s.span))
        version, bad = self.releases.release(device.app, start + s.events[0][0])
        # a planted friction case stays exactly its case; telemetry joins sessions by their id
        if bad and case is None and not device.sessionless and had_friction(s.counts):
            name, status, message = BAD_RELEASE_ERROR
            s.telemetry.insert(0, (s.events[0][0], "error", name, status, None, message))
            s.counts["errors"] += 1
        for t, event_type, page, target, x, y, props, *element in s.events:
            self.event_rows.append(
                (start + t, serial("e-"), customer_id, device.anonymous_id, session_id, event_type,
                 page, target, x, y, props, *element, version)
            )  # fmt: skip
        for t, kind, name, status, duration, message in s.telemetry:
            self.telemetry_rows.append(
                (start + t, customer_id, device.anonymous_id, session_id, device.app, kind, name, status,
                 duration, message, version)
            )  # fmt: skip
        # a friction item precedes or follows a contact only in a session that had friction
        if device.customer is not None and had_friction(s.counts):
            self.friction_at.setdefault(device.customer, []).extend(start + t for t in s.friction_at)
        self.sessions.append(
            PlacedSession(session_id, device, customer_id, start + s.events[0][0], start + s.events[-1][0],
                           s.counts, case)
        )  # fmt: skip

    def _background_telemetry(self) -> None:
        """App background syncs: no session, ordinary latency."""
        for device in self.devices:
            if device.app == "web" or device.customer is None:
                continue
            for _ in range(self.rnd.choice((0, 0, 1, 2)) * self.days // 7):
                duration = float(self.rnd.randint(80, 1_200))
                kind, name = self.rnd.choice((("api_call", "/api/v2/sync"), ("latency", "background_refresh")))
                at = self._random_time()
                self.telemetry_rows.append(
                    (at, self.customer_ids[device.customer], device.anonymous_id, None,
                     device.app, kind, name, 200, duration, None, self.releases.release(device.app, at)[0])
                )  # fmt: skip

    # ----------------------------------------------------------------- output

    def day_of(self, ms: int) -> int:
        """0-based index of the UTC day holding `ms` (ms since the epoch)."""
        return (ms - self.t0) // DAY

    def spill(self, spool: Spool) -> dict[str, int]:
        """Hand this shard's records to `spool`, by UTC day, and forget them; the row counts handed over.

        Conversations get serial numbers in planning order here; their ids (numbered by start time over all
        shards) are only known once every shard is planned, so the spool holds the serials."""
        convs = sorted((c for chain in self.chains for c in chain), key=lambda c: (c.start, c.customer))
        for conv in convs:
            conv.serial = len(self.conv_starts)
            self.conv_starts.append(conv.start)
            self.conv_customers.append(conv.customer)
            times = self.friction_at.get(conv.customer, [])
            conv.pre_friction = any(conv.start - PRE_CONTACT_MS <= t < conv.start for t in times)
            conv.post_friction = any(conv.end < t <= conv.end + POST_CONTACT_MS for t in times)
        for chain in self.chains:
            customer = chain[0].customer
            journey = alertable(chain, self.customer_ids[customer], self.consent[customer], self.day_of, self.repeat_ms)
            if journey is not None:
                self.alertable.append(journey)
        spool.add_rows("transcripts", [
            (self.day_of(conv.start), {"conversation_id": conv.serial, "tail": transcript_tail(
                conv, self.customer_ids[conv.customer], self.consent[conv.customer])})
            for conv in convs
        ])  # fmt: skip
        spool.add_rows("truth_conversations", [
            (self.day_of(conv.start), row)
            for chain in self.chains
            for conv, row in zip(chain, conversation_truth(
                chain, self.customer_ids[chain[0].customer], self.consent[chain[0].customer]), strict=True)
        ])  # fmt: skip
        spool.add_rows("truth_pii", [
            (self.day_of(conv.start), row) for conv in convs for row in pii_truth(conv)
        ])  # fmt: skip
        spool.add_rows("truth_sessions", [(self.day_of(s.start), session_truth(s)) for s in self.sessions])
        spool.add_rows(
            "telemetry",
            [(self.day_of(row[0]), {"ts": row[0], "line": telemetry_line(row)}) for row in self.telemetry_rows],
        )
        self._spill_events(spool)
        counts = {
            "conversations": len(convs),
            "turns": sum(len(conv.turns) for conv in convs),
            "conversation_events": sum(len(conv.events) for conv in convs),
            "telemetry": len(self.telemetry_rows),
            "events": len(self.event_rows),
            "sessions": len(self.sessions),
            "pii": sum(len(conv.pii) for conv in convs),
        }
        self._clear_shard()
        return counts

    def _spill_events(self, spool: Spool) -> None:
        by_day: dict[int, list[tuple[Any, ...]]] = {}
        for row in self.event_rows:
            by_day.setdefault(self.day_of(row[0]), []).append(row)
        for day, rows in sorted(by_day.items()):
            columns = list(zip(*rows, strict=True))
            arrays = [
                pa.array(columns[1], pa.string()),
                pa.array([t * 1_000 for t in columns[0]], pa.timestamp("us", tz="UTC")),
                *(pa.array(columns[i], EVENTS_SCHEMA.field(i).type) for i in range(2, len(EVENTS_SCHEMA))),
            ]
            spool.add("events", day, pa.Table.from_arrays(arrays, schema=EVENTS_SCHEMA))

    def conversation_numbers(self) -> np.ndarray:
        """Per conversation serial, its 1-based number: conversations ordered by start time, then customer."""
        order = np.lexsort((np.asarray(self.conv_customers, np.int64), np.asarray(self.conv_starts, np.int64)))
        numbers = np.empty(len(order), np.int64)
        numbers[order] = np.arange(1, len(order) + 1)
        return numbers
