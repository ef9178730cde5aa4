"""10000/10001 hotline: CC_CALL with its post-call CC_SURVEY, and CC_SPAM_REPORT.

Field logic of a call (what indicators.md relies on):
- IVR only: queue_start, answer_time, skill_group, agent_id empty; call_end = ivr_end;
  end_reason IVR_DONE.
- Agent request: queue_start = ivr_end, skill_group set. Answered: answer_time set, agent_id
  set, end_reason ANSWERED (or TRANSFERRED, ~6 %). Abandoned: answer_time and agent_id
  empty, end_reason ABANDONED; 20-30 % of abandons end within 5 s of queue_start.
- Waits are calibrated per city and skill group so the 15-s answer rate is 85-93 %.
- A share of answered calls (11-27 % by city) is followed by a repeat call from the same
  caller to the same skill group within (call_end, call_end + 48 h], so first-call
  resolution is ~75-90 %.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from sqwh.generate.daily import DailyProducer, Landing, by_city, lognormal
from sqwh.generate.geography import CITY_CODES, SHARE
from sqwh.generate.people import SPAM_PREFIXES
from sqwh.generate.profiles import sample_tod
from sqwh.generate.scales import PROVINCE_VOLUME
from sqwh.generate.table import (
    DAY,
    NULL_INT,
    Table,
    choose,
    day_number,
    day_start,
    digits,
    ids,
    labels,
)
from sqwh.generate.world import World
from sqwh.period import Period

SKILLS = ("MOBILE", "FIXED", "FAULT_REPAIR", "COMPLAINT", "GOV_ENT", "VIP")
SKILL_MIX = (0.34, 0.18, 0.22, 0.10, 0.07, 0.09)
SKILL_ANSWER_OFFSET = np.array([0.0, 0.005, -0.02, -0.03, 0.03, 0.045])
SKILL_ABANDON_FACTOR = np.array([1.0, 1.0, 1.1, 1.2, 0.5, 0.4])
TALK_MEDIAN_S = np.array([150.0, 150.0, 200.0, 300.0, 180.0, 180.0])
END_REASONS = labels(("IVR_DONE", "ANSWERED", "ABANDONED", "TRANSFERRED"))
SKILL_LABELS = labels(("", *SKILLS))  # index skill + 1; -1 = no skill group
HOTLINES = labels(("10000", "10001"))
ZERO_WAIT = 0.5  # share of answered calls picked up at once (reference: 40-60 %)
TRANSFERRED = 0.06
REPEAT_VOLUME = 0.06  # repeat calls add ~6 % to the base volume


def _wait_means(world: World) -> tuple[np.ndarray, np.ndarray]:
    """Abandon share and mean non-zero wait per (city, skill) that give each city's 15-s
    answer rate, abandons (other than short ones) counting as not answered in 15 s."""
    p = world.params
    abandon = np.clip(p.abandon[:, None] * SKILL_ABANDON_FACTOR[None, :], 0.005, 0.2)
    target = np.clip(p.answer15[:, None] + SKILL_ANSWER_OFFSET[None, :], 0.80, 0.97)
    short = p.short_abandon[:, None]
    within = np.clip(target * (1 - abandon * short) / (1 - abandon), ZERO_WAIT + 0.01, 0.995)
    mean = -15.0 / np.log(1.0 - (within - ZERO_WAIT) / (1.0 - ZERO_WAIT))
    return abandon, mean


class Calls(DailyProducer):
    entities = ("CC_CALL", "CC_SURVEY")
    lookback = 4  # repeats land up to 3 days after their origin, surveys 1 day after the call

    def __init__(self, world: World, period: Period) -> None:
        super().__init__(world, period)
        self.abandon, self.wait_mean = _wait_means(world)
        # Agents per city from the average day (not the period's), so a day's calls are the
        # same in every period's run; ~45 answered calls per agent and day.
        agent_calls = PROVINCE_VOLUME["CC_CALL"] * world.fraction * SHARE / 182 * 0.35
        self.agents = np.maximum(4, np.ceil(agent_calls / 45)).astype(np.int64)
        self.repeats = Landing()
        self.surveys = Landing()

    def day(self, d: date) -> dict[str, Table]:
        dn = day_number(d)
        base = self._base(d)
        self._spawn_repeats(d, base)
        calls = Table.concat([base, *self.repeats.pop(dn)]).sorted_by("call_start")
        calls.columns["call_id"] = ids("CA", d, len(calls), 8)
        self._survey(d, calls)
        survey = Table.concat(self.surveys.pop(dn))
        survey = survey.sorted_by("survey_time") if len(survey) else _empty_survey()
        return {"CC_CALL": self._finish(calls), "CC_SURVEY": survey}

    def _agent_leg(
        self, rng: np.random.Generator, city: np.ndarray, skill: np.ndarray, queue: np.ndarray
    ) -> dict[str, np.ndarray]:
        n = len(city)
        p = self.world.params
        abandoned = rng.random(n) < self.abandon[city, skill]
        short = rng.random(n) < p.short_abandon[city]
        gave_up = np.where(
            short, rng.integers(0, 6, n), 6 + np.minimum(rng.exponential(35.0, n), 900)
        )
        wait = np.where(
            rng.random(n) < ZERO_WAIT,
            rng.integers(0, 3, n),
            np.clip(np.ceil(rng.exponential(self.wait_mean[city, skill])), 1, 1200),
        ).astype(np.int64)
        talk = np.clip(lognormal(rng, TALK_MEDIAN_S[skill], 0.6, n), 15, 3600).astype(np.int64)
        reason = np.where(abandoned, 2, np.where(rng.random(n) < TRANSFERRED, 3, 1))
        agent = (rng.random(n) * self.agents[city]).astype(np.int64)
        return {
            "queue_start": queue,
            "answer_time": np.where(abandoned, NULL_INT, queue + wait),
            "call_end": np.where(abandoned, queue + gave_up.astype(np.int64), queue + wait + talk),
            "end_reason": reason,
            "agent": np.where(abandoned, -1, agent),
        }

    def _base(self, d: date) -> Table:
        w, p = self.world, self.world.params
        rng = w.rng("CC_CALL", d.toordinal())
        expected = w.scaled_daily("CC_CALL", "call", d, 1 / (1 + REPEAT_VOLUME))
        city = by_city(rng, expected, w.minimum_per_city_day("CC_CALL"))
        n = len(city)
        start = day_start(d) + sample_tod(rng, n, "call")
        hotline = (rng.random(n) < 0.12).astype(np.int64)
        caller = w.customers.pick(rng, city, day_number(d))
        agent_req = rng.random(n) < np.where(hotline == 1, 0.12, p.agent_share[city])
        ivr = np.where(agent_req, lognormal(rng, 30.0, 0.5, n), lognormal(rng, 70.0, 0.6, n))
        ivr_end = start + np.clip(ivr, 5, 900).astype(np.int64)
        skill = np.where(agent_req, choose(rng, SKILL_MIX, n), -1)
        cols = {
            "city": city, "caller": caller, "hotline": hotline, "call_start": start,
            "ivr_end": ivr_end, "skill": skill, "queue_start": np.full(n, NULL_INT),
            "answer_time": np.full(n, NULL_INT), "call_end": ivr_end.copy(),
            "end_reason": np.zeros(n, dtype=np.int64), "agent": np.full(n, -1),
        }  # fmt: skip
        i = np.flatnonzero(agent_req)
        leg = self._agent_leg(rng, city[i], skill[i], ivr_end[i])
        for k, v in leg.items():
            cols[k][i] = v
        return Table(cols)

    def _spawn_repeats(self, d: date, base: Table) -> None:
        """Some answered callers call the same skill group again within 48 h."""
        rng = self.world.rng("spawn", 1, d.toordinal())
        city = base["city"]
        chosen = (base["answer_time"] != NULL_INT) & (
            rng.random(len(city)) < self.world.params.fcr_repeat[city]
        )
        src = base.take(np.flatnonzero(chosen))
        k = len(src)
        delay = np.where(
            rng.random(k) < 0.35, rng.integers(120, 7200, k), rng.integers(7200, 46 * 3600, k)
        )
        start = src["call_end"] + delay
        queue = start + rng.integers(8, 60, k)
        cols = {
            "city": src["city"], "caller": src["caller"], "hotline": np.zeros(k, dtype=np.int64),
            "call_start": start, "ivr_end": queue, "skill": src["skill"],
        }  # fmt: skip
        cols.update(self._agent_leg(rng, src["city"], src["skill"], queue))
        self.repeats.add(Table(cols), start)

    def _survey(self, d: date, calls: Table) -> None:
        """Post-call SMS survey of some answered calls, the same day or the next morning."""
        rng = self.world.rng("CC_SURVEY", d.toordinal())
        p = self.world.params
        city = calls["city"]
        sel = np.flatnonzero(
            (calls["answer_time"] != NULL_INT) & (rng.random(len(city)) < p.survey_response[city])
        )
        k = len(sel)
        end = calls["call_end"][sel]
        dn = day_number(d)
        morning = (dn + 1) * DAY + rng.integers(9 * 3600, 12 * 3600, k)
        later = np.where(morning > end, morning, end + rng.integers(60, 600, k))
        when = np.where(rng.random(k) < 0.8, end + rng.integers(20, 1800, k), later)
        when = np.minimum(when, (dn + 2) * DAY - 1)
        c = city[sel]
        sat = rng.random(k) < p.survey_sat[c]
        score = np.where(sat, np.where(rng.random(k) < 0.75, 5, 4), choose(rng, (1, 1, 2), k) + 1)
        table = Table(
            {
                "call_id": calls["call_id"][sel],
                "survey_time": when,
                "score": score,
                "_city_code": CITY_CODES[c],
            }
        )
        self.surveys.add(table, when)

    def _finish(self, calls: Table) -> Table:
        city = calls["city"]
        agent = calls["agent"]
        city2 = np.strings.slice(CITY_CODES, 2, 4)
        agent_id = np.strings.add(
            np.strings.add(b"G", city2[city]),
            digits(np.maximum(agent, 0), 4),
        )
        return Table(
            {
                "call_id": calls["call_id"],
                "hotline": HOTLINES[calls["hotline"]],
                "caller_no": self.world.customers.mobile(calls["caller"]),
                "city_code": CITY_CODES[city],
                "call_start": calls["call_start"],
                "ivr_end": calls["ivr_end"],
                "queue_start": calls["queue_start"],
                "answer_time": calls["answer_time"],
                "call_end": calls["call_end"],
                "skill_group": SKILL_LABELS[calls["skill"] + 1],
                "agent_id": np.where(agent >= 0, agent_id, b""),
                "end_reason": END_REASONS[calls["end_reason"]],
            }
        )


def _empty_survey() -> Table:
    e = np.zeros(0, dtype=np.int64)
    return Table(
        {
            "call_id": np.zeros(0, "S1"),
            "survey_time": e,
            "score": e,
            "_city_code": np.zeros(0, "S6"),
        }
    )


ACTIONS = labels(("BLOCKED", "WARNED", "NO_ACTION"))


class SpamReports(DailyProducer):
    """Spam-SMS reports: reporters are customers, senders a small recurring pool of SMS
    ports (1069...) and virtual-operator numbers; most handled within 24 h, ~1 % open."""

    entities = ("CC_SPAM_REPORT",)

    def day(self, d: date) -> dict[str, Table]:
        w, p = self.world, self.world.params
        rng = w.rng("CC_SPAM_REPORT", d.toordinal())
        city = by_city(rng, w.scaled_daily("CC_SPAM_REPORT", "flat", d))
        n = len(city)
        received = np.sort(day_start(d) + sample_tod(rng, n, "flat"))
        reporter = w.customers.mobile(w.customers.pick(rng, city, day_number(d)))
        pool = max(60, round(40_000 * w.fraction))
        sender = (pool * rng.random(n) ** 2).astype(np.int64)  # a few senders dominate
        code = (sender * 7_654_321 + w.seed) % 10**8
        port = np.strings.add(b"1069", digits(code * 37 % 10**10, 10))
        virtual = np.strings.add(SPAM_PREFIXES[sender % len(SPAM_PREFIXES)], digits(code, 8))
        reported = np.where(sender % 5 < 3, port, virtual)
        delay = np.clip(lognormal(rng, p.spam_median_h[city] * 3600, 0.9, n), 120, 10 * DAY)
        still_open = rng.random(n) < 0.01
        action = ACTIONS[choose(rng, (0.62, 0.25, 0.13), n)]
        table = Table(
            {
                "report_id": ids("SP", d, n, 7),
                "reporter_no": reporter,
                "reported_no": reported,
                "city_code": CITY_CODES[city],
                "received_time": received,
                "handled_time": np.where(still_open, NULL_INT, received + delay.astype(np.int64)),
                "action": np.where(still_open, b"", action),
            }
        )
        return {"CC_SPAM_REPORT": table}
