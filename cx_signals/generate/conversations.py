"""Conversations: one conversation's clock of turns and events, the plan of a contact, and the dialogue of
each channel (bot, IVR, email, social, agents, transfers, PII exchanges) with its CSAT."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from cx_signals.generate.industries import ALL_EMAIL_SENTENCE, ALL_PII_ANSWER, ALL_PII_ASK, Industry, industry_pii_value
from cx_signals.generate.intents import Intent
from cx_signals.generate.params import (
    ABANDON_RATE,
    ASSUMED_RESOLUTION_SHARE,
    BOT_CHANNELS,
    BRAND,
    ENTRY_QUEUE,
    FIX_LOOP_SHARE,
    MINUTE,
    REPHRASE_LOOP_SHARE,
    SECOND,
    SESSION_AFFINITY,
    SURVEY_RATE,
    TEXT_GAPS,
    TRANSFER_TO,
    WORDS_PER_SECOND,
)
from cx_signals.generate.phrases import (
    AGENT_BYE,
    AGENT_CHECKS,
    AGENT_ESCALATION_REPLY,
    AGENT_GREETINGS,
    AGENT_HOLD,
    AGENT_HOLD_BACK,
    AGENT_NAMES,
    AGENT_RECAP,
    AGENT_STILL_THERE,
    AGENT_TRANSFER,
    AGENT_TRANSFER_GREETING,
    AGENT_UNRESOLVED,
    BOT_BYE_ASSUMED,
    BOT_BYE_FAIL,
    BOT_BYE_OK,
    BOT_CLARIFY,
    BOT_GREETINGS,
    BOT_HANDOFF,
    BOT_REPHRASE,
    CUSTOMER_ACKS,
    CUSTOMER_THANKS,
    CUSTOMER_UNHAPPY,
    CUSTOMER_WAITING,
    CUSTOMER_WILL_TRY,
    DEVICES,
    EMAIL_ACK,
    ESCALATION_REQUESTS,
    FRUSTRATION,
    IVR_BYE,
    IVR_GREETING,
    IVR_HANDOFF,
    LAST4_ANSWER,
    LAST4_ASK,
    ORDER_ANSWER,
    ORDER_ASK,
    PII_KINDS,
    REPEAT_OPENERS,
    SOCIAL_REPLY,
    SYSTEM_QUEUE,
    SYSTEM_TRANSFER,
)
from cx_signals.generate.values import (
    digits,
    iso,
    loguniform,
    lower_first,
    order_number,
    price,
)


class Talk:
    """One conversation's turns and in-conversation events on one clock (ms since the epoch)."""

    def __init__(self, rnd: random.Random, channel: str, start: int) -> None:
        self.rnd = rnd
        self.channel = channel
        self.t = start
        self.turns: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.hold_ms = 0
        self._after_event = True

    def say(self, speaker: str, text: str, agent: str | None = None) -> str:
        r = self.rnd
        if not self.turns:
            ts = self.t
        elif self.channel == "voice":
            ts = self._voice_start(speaker)
        else:
            ts = self.t + loguniform(r, *TEXT_GAPS[self.channel][speaker])
        end = None
        if self.channel == "voice":
            end = ts + int(len(text.split()) * SECOND / WORDS_PER_SECOND) + r.randint(200, 900)
            self.t = max(self.t, end)
        else:
            self.t = ts
        turn_id = f"t{len(self.turns) + 1:03d}"
        self.turns.append(
            {"turn_id": turn_id, "speaker": speaker, "agent_id": agent, "ts": ts, "end_ts": end, "text": text}
        )
        self._after_event = False
        return turn_id

    def _voice_start(self, speaker: str) -> int:
        r = self.rnd
        prev = self.turns[-1]
        prev_len = prev["end_ts"] - prev["ts"]
        roll = r.random()
        if (
            roll < 0.06
            and not self._after_event
            and speaker != prev["speaker"]
            and prev_len > 2_500
            and prev["end_ts"] == self.t
        ):
            return self.t - r.randint(300, min(1_500, prev_len - 1_000))  # interruption
        if roll < 0.14:
            return self.t + r.randint(4_000, 12_000)  # silence
        return self.t + r.randint(250, 1_800)

    def event(self, event_type: str, agent: str | None = None, queue: str | None = None) -> int:
        ts = self.t + self.rnd.randint(500, 1_500)
        self.events.append({"event_type": event_type, "ts": ts, "agent_id": agent, "queue": queue})
        self.t = ts
        self._after_event = True
        return ts

    def wait(self, lo: int, hi: int) -> None:
        self.t += loguniform(self.rnd, lo, hi)
        self._after_event = True

    def hold(self, agent: str) -> None:
        start = self.event("hold_start", agent)
        end = start + loguniform(self.rnd, 30 * SECOND, 7 * MINUTE)
        self.events.append({"event_type": "hold_end", "ts": end, "agent_id": agent, "queue": None})
        self.hold_ms += end - start
        self.t = end


@dataclass
class Conv:
    """One planned conversation (a contact): what is meant to happen, then its turns, events, PII and CSAT."""

    customer: int
    intent: Intent
    channel: str
    position: int
    start: int
    web_session: bool
    friction: bool
    frustrated: bool
    escalate: bool
    repetition: bool  # planned; restated records whether it was said
    contained: bool
    outcome: str
    order: str
    amount: str
    device: str
    request: str = ""
    end: int = 0
    disposition: str | None = None
    turns: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    hold_ms: int = 0
    pii: list[tuple[str, str, str]] = field(default_factory=list)
    pii_kinds: tuple[str, ...] = ()
    csat: int | None = None
    serial: int = 0  # planning order over all shards; the spool's stand-in for the id
    restated: bool = False
    pre_friction: bool = False
    post_friction: bool = False
    # What the bot's part came to (signals.bot_outcomes' classes; None without a bot turn) and its planted loops:
    # bot turns repeating an earlier bot turn word for word.
    bot_outcome: str | None = None
    bot_loops: int = 0


class Dialogues:
    """Builds conversations turn by turn from their plan, drawing from one random stream; the bot outcomes planted
    on top of a bot flow (assumed resolutions, loops) draw from a second one seeded by `seed`, and take the place of
    turns drawn as before, so the first stream, and every other conversation, is the same with or without them."""

    def __init__(
        self, rnd: random.Random, agents: dict[str, list[str]], industry: Industry | None = None, seed: int = 0
    ) -> None:
        self.rnd = rnd
        self.agents = agents
        self.industry = industry
        self.bot_rnd = random.Random(f"bot-outcomes-{seed}")

    def conversation(self, c: int, intent: Intent, channel: str, position: int, start: int) -> Conv:
        r = self.rnd
        web_session = r.random() < intent.web_session * SESSION_AFFINITY[channel]
        friction = web_session and r.random() < intent.friction
        frustrated = friction or (position > 1 and r.random() < 0.6) or r.random() < 0.08
        escalate = r.random() < (
            0.04 + 0.12 * frustrated + 0.08 * (position > 1) + 0.08 * (intent.name == "billing_dispute")
        )
        if channel in BOT_CHANNELS:
            contained = not escalate and r.random() < intent.bot_contain * (0.6 if position > 1 else 1.0)
        elif channel == "voice":
            contained = not escalate and r.random() < intent.bot_contain * 0.25
        else:
            contained = False
        if r.random() < ABANDON_RATE[channel]:
            outcome = "abandoned"
        else:
            p_resolved = 0.8 if contained else intent.resolve + 0.1 * (position > 1) - 0.1 * frustrated
            outcome = "resolved" if r.random() < p_resolved else "unresolved"
        repetition = channel in (*BOT_CHANNELS, "voice") and not (channel == "voice" and contained)
        conv = Conv(
            customer=c,
            intent=intent,
            channel=channel,
            position=position,
            start=start,
            web_session=web_session,
            friction=friction,
            frustrated=frustrated,
            escalate=escalate,
            repetition=repetition and r.random() < (0.2 if frustrated else 0.08),
            contained=contained,
            outcome=outcome,
            order=order_number(r),
            amount=price(r),
            device=r.choice(DEVICES),
        )
        roll = r.random()
        n_pii = 2 if roll < 0.02 else 1 if roll < 0.09 else 0
        conv.pii_kinds = tuple(r.sample(PII_KINDS, n_pii))
        if self.industry is not None:
            self.industry.plan(conv, r)
        conv.request = self._fill(conv, r.choice(intent.requests))
        talk = Talk(r, channel, start)
        builders = {
            "chat": self._bot_flow,
            "messaging": self._bot_flow,
            "voice": self._voice_flow,
            "email": self._email_flow,
            "social": self._social_flow,
        }
        conv.end = builders[channel](talk, conv)
        conv.turns, conv.events, conv.hold_ms = talk.turns, talk.events, talk.hold_ms
        conv.disposition = outcome
        if outcome == "unresolved" and r.random() < 0.05:
            conv.disposition = None  # some sources leave it empty
        return conv

    def _fill(self, conv: Conv, text: str) -> str:
        return text.format(order=conv.order, amount=conv.amount, device=conv.device)

    def _agent(self, team: str) -> str:
        return self.rnd.choice(self.agents[team])

    @staticmethod
    def _agent_name(agent: str) -> str:
        return AGENT_NAMES[int(agent[-4:]) % len(AGENT_NAMES)]

    def _opening(self, talk: Talk, conv: Conv) -> None:
        if conv.position > 1:
            talk.say("customer", self.rnd.choice(REPEAT_OPENERS))
        talk.say("customer", conv.request)
        if conv.frustrated and self.rnd.random() < 0.6:
            talk.say("customer", self.rnd.choice(FRUSTRATION))

    def _restate(self, talk: Talk, conv: Conv, asker: str, agent: str | None) -> None:
        talk.say(asker, BOT_REPHRASE if asker == "bot" else AGENT_RECAP, agent)
        talk.say("customer", "Again, " + lower_first(conv.request))
        conv.restated = True

    def _disclose(self, talk: Talk, conv: Conv, speaker: str, agent: str | None) -> None:
        """An industry's disclosures that `speaker` says at this point (nothing without an industry)."""
        if self.industry is not None:
            for line in self.industry.lines_for(conv.disclosure_plan, speaker):
                talk.say(speaker, line, agent)

    def _pii_exchange(self, talk: Talk, conv: Conv, asker: str, agent: str | None) -> None:
        for kind in conv.pii_kinds:
            value = industry_pii_value(self.rnd, kind)
            talk.say(asker, ALL_PII_ASK[kind], agent)
            turn_id = talk.say("customer", self.rnd.choice(ALL_PII_ANSWER[kind]).format(v=value))
            conv.pii.append((turn_id, kind, value))

    def _bot_flow(self, talk: Talk, conv: Conv) -> int:
        r, plant = self.rnd, self.bot_rnd
        intent = conv.intent
        talk.say("bot", r.choice(BOT_GREETINGS))
        self._disclose(talk, conv, "bot", None)
        self._opening(talk, conv)
        if conv.repetition:
            self._restate(talk, conv, "bot", None)
        clarify = r.choice(BOT_CLARIFY)
        assumed = conv.contained and conv.outcome == "resolved" and plant.random() < ASSUMED_RESOLUTION_SHARE
        # A second fallback fails a conversation the customer leaves without thanks (bots.failed_min_fallbacks), so
        # this loop is planted only where it leaves the class as planted: escalated, confirmed or failed anyway.
        if (
            conv.restated
            and not (conv.contained and conv.outcome == "abandoned")
            and not assumed
            and plant.random() < REPHRASE_LOOP_SHARE
        ):
            talk.say("bot", BOT_REPHRASE)  # the bot did not get the restated request either: it asks again
            conv.bot_loops += 1
        else:
            talk.say("bot", clarify)
        talk.say("customer", self._fill(conv, r.choice(intent.details)))
        if conv.contained:
            self._pii_exchange(talk, conv, "bot", None)
            fix = self._fill(conv, intent.bot_fix)
            talk.say("bot", fix)
            if conv.outcome == "abandoned":
                conv.bot_outcome = "abandoned"
                return talk.t + r.randint(3 * MINUTE, 10 * MINUTE)
            if conv.outcome == "resolved":
                thanks = r.choice(CUSTOMER_THANKS)
                talk.say("customer", plant.choice(CUSTOMER_WILL_TRY) if assumed else thanks)
                talk.say("bot", BOT_BYE_ASSUMED if assumed else BOT_BYE_OK)
                conv.bot_outcome = "assumed_resolution" if assumed else "confirmed_resolution"
            else:
                talk.say("customer", r.choice(CUSTOMER_UNHAPPY))
                loop = plant.random() < FIX_LOOP_SHARE
                talk.say("bot", fix if loop else BOT_BYE_FAIL)  # a loop: the same answer again, then silence
                conv.bot_loops += loop
                conv.bot_outcome = "failed"
            return talk.t + r.randint(5 * SECOND, 60 * SECOND)
        conv.bot_outcome = "escalated"
        if conv.escalate:
            talk.say("customer", r.choice(ESCALATION_REQUESTS))
        talk.say("bot", r.choice(BOT_HANDOFF))
        agent = self._agent(intent.team)
        talk.event("handoff_to_agent", agent, intent.team)
        talk.say("system", SYSTEM_QUEUE)
        if conv.outcome == "abandoned" and r.random() < 0.6:
            return talk.t + loguniform(r, 1 * MINUTE, 8 * MINUTE)  # left the queue
        talk.wait(30 * SECOND, 6 * MINUTE)
        return self._agent_dialog(talk, conv, agent, opened=True)

    def _voice_flow(self, talk: Talk, conv: Conv) -> int:
        r = self.rnd
        intent = conv.intent
        talk.say("bot", IVR_GREETING)
        self._disclose(talk, conv, "bot", None)
        talk.say("customer", intent.ivr)
        if conv.escalate:
            talk.say("customer", r.choice(ESCALATION_REQUESTS))
        if conv.contained:
            talk.say("bot", self._fill(conv, intent.bot_fix))
            if conv.outcome == "abandoned":
                conv.bot_outcome = "abandoned"
                return talk.t + r.randint(500, 3 * SECOND)  # hung up on the IVR
            talk.say("customer", r.choice(CUSTOMER_THANKS if conv.outcome == "resolved" else CUSTOMER_UNHAPPY))
            talk.say("bot", IVR_BYE)  # after a complaint: the IVR could not help
            conv.bot_outcome = "confirmed_resolution" if conv.outcome == "resolved" else "failed"
            return talk.t + r.randint(500, 3 * SECOND)
        conv.bot_outcome = "escalated"
        talk.say("bot", IVR_HANDOFF)
        agent = self._agent(intent.team)
        talk.event("handoff_to_agent", agent, intent.team)
        if conv.outcome == "abandoned" and r.random() < 0.6:
            return talk.t + loguniform(r, 30 * SECOND, 6 * MINUTE)  # hung up in the queue
        talk.wait(20 * SECOND, 8 * MINUTE)
        return self._agent_dialog(talk, conv, agent, opened=False)

    def _email_flow(self, talk: Talk, conv: Conv) -> int:
        r = self.rnd
        intent = conv.intent
        parts = [r.choice(REPEAT_OPENERS)] if conv.position > 1 else []
        parts += [conv.request, self._fill(conv, r.choice(intent.details))]
        if conv.frustrated:
            parts.append(r.choice(FRUSTRATION))
        values = [(kind, industry_pii_value(r, kind)) for kind in conv.pii_kinds]
        parts += [ALL_EMAIL_SENTENCE[kind].format(v=value) for kind, value in values]
        if conv.escalate:
            parts.append(r.choice(ESCALATION_REQUESTS))
        body_id = talk.say("customer", " ".join(parts))
        conv.pii.extend((body_id, kind, value) for kind, value in values)
        talk.say("system", EMAIL_ACK.format(ref=f"NW-{r.randint(100000, 999999)}"))
        agent = self._agent(intent.team)
        self._disclose(talk, conv, "agent", agent)
        if conv.outcome == "abandoned":
            talk.say("agent", ORDER_ASK if intent.uses_order else LAST4_ASK, agent)
            return talk.t
        if r.random() < 0.5:
            talk.say("agent", ORDER_ASK if intent.uses_order else LAST4_ASK, agent)
            answer = ORDER_ANSWER if intent.uses_order else LAST4_ANSWER
            talk.say("customer", answer.format(order=conv.order, last4=digits(r, 4)))
        if conv.outcome == "resolved":
            talk.say("agent", self._fill(conv, r.choice(intent.agent_fix)), agent)
            if r.random() < 0.4:
                talk.say("customer", r.choice(CUSTOMER_THANKS))
        else:
            talk.say("agent", r.choice(AGENT_UNRESOLVED), agent)
            talk.say("customer", r.choice((*CUSTOMER_UNHAPPY, CUSTOMER_WAITING)))
        return talk.t

    def _social_flow(self, talk: Talk, conv: Conv) -> int:
        r = self.rnd
        post = f"@{BRAND} {conv.request}"
        if conv.frustrated:
            post += " " + r.choice(FRUSTRATION)
        if conv.escalate:
            post += " " + r.choice(ESCALATION_REQUESTS)
        talk.say("customer", post)
        agent = self._agent(conv.intent.team)
        talk.say("agent", SOCIAL_REPLY, agent)
        if conv.outcome == "abandoned":
            return talk.t
        talk.say("customer", self._fill(conv, r.choice(conv.intent.details)))
        return self._agent_dialog(talk, conv, agent, opened=True, greet=False)

    def _agent_dialog(self, talk: Talk, conv: Conv, agent: str, opened: bool, greet: bool = True) -> int:
        r = self.rnd
        intent = conv.intent
        if greet:
            talk.say("agent", r.choice(AGENT_GREETINGS).format(name=self._agent_name(agent)), agent)
        self._disclose(talk, conv, "agent", agent)
        if not opened:
            self._opening(talk, conv)
            if conv.repetition:
                self._restate(talk, conv, "agent", agent)
        talk.say("agent", ORDER_ASK if intent.uses_order else LAST4_ASK, agent)
        answer = ORDER_ANSWER if intent.uses_order else LAST4_ANSWER
        talk.say("customer", answer.format(order=conv.order, last4=digits(r, 4)))
        self._pii_exchange(talk, conv, "agent", agent)
        n = r.randint(*intent.exchanges)
        checks = r.sample(AGENT_CHECKS, n)
        replies = r.sample(CUSTOMER_ACKS, n)
        hold_at = r.randrange(n) if talk.channel == "voice" and r.random() < intent.hold else -1
        transfer_at = r.randrange(n) if r.random() < intent.transfer else -1
        for i, (line, reply) in enumerate(zip(checks, replies, strict=True)):
            talk.say("agent", line, agent)
            talk.say("customer", reply)
            if i == hold_at:
                talk.say("agent", r.choice(AGENT_HOLD), agent)
                talk.hold(agent)
                talk.say("agent", r.choice(AGENT_HOLD_BACK), agent)
            if i == transfer_at:
                agent = self._transfer(talk, conv, agent, TRANSFER_TO[intent.team])
        if conv.escalate:
            talk.say("agent", AGENT_ESCALATION_REPLY, agent)
            if r.random() < 0.4:
                agent = self._transfer(talk, conv, agent, "supervisors")
        if conv.outcome == "abandoned":
            talk.say("agent", AGENT_STILL_THERE, agent)
            if talk.channel == "voice":
                return talk.t + r.randint(500, 2 * SECOND)
            return talk.t + r.randint(2 * MINUTE, 5 * MINUTE)
        if conv.outcome == "resolved":
            talk.say("agent", self._fill(conv, r.choice(intent.agent_fix)), agent)
            talk.say("customer", r.choice(CUSTOMER_THANKS))
        else:
            talk.say("agent", r.choice(AGENT_UNRESOLVED), agent)
            talk.say("customer", r.choice((*CUSTOMER_UNHAPPY, CUSTOMER_WAITING)))
        talk.say("agent", AGENT_BYE, agent)
        if talk.channel == "voice":
            return talk.t + r.randint(500, 3 * SECOND)
        return talk.t + r.randint(10 * SECOND, 2 * MINUTE)

    def _transfer(self, talk: Talk, conv: Conv, agent: str, team: str) -> str:
        talk.say("agent", AGENT_TRANSFER.format(team=team.replace("_", " ")), agent)
        new_agent = self._agent(team)
        talk.event("transfer", new_agent, team)
        if talk.channel != "voice":
            talk.say("system", SYSTEM_TRANSFER.format(team=team.replace("_", " ")))
        talk.wait(20 * SECOND, 150 * SECOND)
        greeting = AGENT_TRANSFER_GREETING.format(name=self._agent_name(new_agent), team=team.replace("_", " "))
        talk.say("agent", greeting, new_agent)
        return new_agent

    def csat(self, chain: list[Conv]) -> None:
        """Surveyed CSAT on ~15% of contacts, driven by what happened."""
        r = self.rnd
        for i, conv in enumerate(chain):
            if r.random() >= (0.04 if conv.outcome == "abandoned" else SURVEY_RATE):
                continue
            transfers = sum(e["event_type"] == "transfer" for e in conv.events)
            mu = 4.5
            mu -= 1.6 * (conv.outcome != "resolved")
            mu += 0.3 * (conv.contained and conv.outcome == "resolved")
            mu -= 0.6 * (conv.position - 1) + 0.4 * (i < len(chain) - 1)
            mu -= 0.5 * transfers + 0.5 * (conv.hold_ms > 2 * MINUTE)
            mu -= 0.9 * conv.escalate + 0.5 * conv.frustrated
            conv.csat = min(5, max(1, round(mu + r.gauss(0, 0.6))))


def transcript_tail(conv: Conv, customer_id: str, consent: bool) -> str:
    """The conversation's transcript record as JSON, after its conversation_id (added once the id is known):
    `"customer_id":...}`, so that '{"conversation_id":"CV..",' + tail is the whole record."""
    record = {
        "customer_id": customer_id,
        "channel": conv.channel,
        "queue": ENTRY_QUEUE[conv.channel],
        "started_at": iso(conv.start),
        "ended_at": iso(conv.end),
        "consent_analytics": consent,
        "disposition": conv.disposition,
        "csat": conv.csat,
        "intent": conv.intent.name,
        "turns": [
            {**turn, "ts": iso(turn["ts"]), "end_ts": None if turn["end_ts"] is None else iso(turn["end_ts"])}
            for turn in conv.turns
        ],
        "events": [{**event, "ts": iso(event["ts"])} for event in conv.events],
    }
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))[1:]
