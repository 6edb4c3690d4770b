"""Impact indicators of a project: social, ecological and political (democratic).

An indicator has a unit, a baseline and a target; dated measurements tell where it
stands, drawn as a chart on the server; it names the decisions whose impact it tells.
Numbers are kept as the decimal text typed (12.5, never 12.499999), read as Decimal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate.errors import Invalid, NotFound
from cocreate.i18n import N_
from cocreate.models import (
    MAX_NOTE_CHARS,
    MAX_TITLE_CHARS,
    MAX_UNIT_CHARS,
    Decision,
    Facilitator,
    Indicator,
    IndicatorDecision,
    IndicatorFamily,
    IndicatorMeasurement,
    Project,
    key,
)
from cocreate.projects import project_for

FAMILY_LABELS = {
    IndicatorFamily.SOCIAL: N_("Social"),
    IndicatorFamily.ECOLOGICAL: N_("Ecological"),
    IndicatorFamily.POLITICAL: N_("Political and democratic"),
}
FAMILY_HINTS = {
    IndicatorFamily.SOCIAL: N_("People reached, jobs created, needs met…"),
    IndicatorFamily.ECOLOGICAL: N_("kg of CO₂ avoided, waste diverted, km not driven…"),
    IndicatorFamily.POLITICAL: N_(
        "Share of beneficiaries taking part in decisions, members voting…"
    ),
}
MAX_NUMBER_CHARS = 30
MAX_MAGNITUDE = Decimal(10) ** 15  # beyond any count a project reports
MAX_INDICATORS = 60  # per project
MAX_MEASUREMENTS = 1_000  # per indicator


def parse_number(raw: str, *, name: str, required: bool = True) -> str | None:
    """A decimal number as typed, in French (12,5) or English (12.5), normalised to text
    with a point; Invalid names the field when it is not a number."""
    text = raw.strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if not text:
        if required:
            raise Invalid(N_("Give a number for %(field)s."), field=name)
        return None
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        value = None
    written = format(value, "f") if value is not None and value.is_finite() else ""
    if (
        value is None
        or not written
        or abs(value) >= MAX_MAGNITUDE
        or len(written) > MAX_NUMBER_CHARS
    ):
        raise Invalid(N_("“%(value)s” is not a number (%(field)s)."), value=raw[:30], field=name)
    return "0" if value == 0 else written


def parse_family(raw: str) -> IndicatorFamily:
    try:
        return IndicatorFamily(raw)
    except ValueError:
        raise Invalid(N_("Choose social, ecological or political.")) from None


# --- the chart -------------------------------------------------------------------------

WIDTH, HEIGHT = 320, 160  # the chart's viewBox, in SVG units
LEFT, RIGHT, TOP, BOTTOM = 8, 8, 12, 24  # room for the labels


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    day: date
    value: str


@dataclass(frozen=True)
class Chart:
    """Where to draw an indicator's measurements, its baseline and its target."""

    points: list[Point]
    baseline_y: float
    target_y: float | None
    low: Decimal
    high: Decimal

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def chart(indicator: Indicator, measurements: Sequence[IndicatorMeasurement]) -> Chart:
    """Measurements in date order, spread over the width by date; values scaled between
    the lowest and highest of the measurements, the baseline and the target."""
    ordered = sorted(measurements, key=lambda m: (m.measured_on, m.id or 0))
    baseline = Decimal(indicator.baseline)
    target = Decimal(indicator.target) if indicator.target is not None else None
    values = [Decimal(m.value) for m in ordered] + [baseline]
    if target is not None:
        values.append(target)
    low, high = min(values), max(values)
    span = high - low or Decimal(1)

    def y(value: Decimal) -> float:
        share = float((value - low) / span)
        return round(HEIGHT - BOTTOM - share * (HEIGHT - TOP - BOTTOM), 1)

    first = ordered[0].measured_on if ordered else None
    days = (ordered[-1].measured_on - first).days if first and ordered else 0
    points = []
    for n, measurement in enumerate(ordered):
        if days and first is not None:
            share = (measurement.measured_on - first).days / days
        else:
            share = n / (len(ordered) - 1) if len(ordered) > 1 else 0.5
        x = round(LEFT + share * (WIDTH - LEFT - RIGHT), 1)
        points.append(
            Point(x, y(Decimal(measurement.value)), measurement.measured_on, measurement.value)
        )
    return Chart(
        points=points,
        baseline_y=y(baseline),
        target_y=y(target) if target is not None else None,
        low=low,
        high=high,
    )


# --- writing -------------------------------------------------------------------------


async def add_indicator(
    *,
    db: AsyncSession,
    facilitator: Facilitator,
    project_id: int,
    family: IndicatorFamily,
    name: str,
    unit: str,
    baseline: str,
    target: str,
) -> Indicator:
    await project_for(db=db, facilitator=facilitator, project_id=project_id)
    name, unit = name.strip(), unit.strip()
    if not name:
        raise Invalid(N_("Name what the indicator measures."))
    if len(name) > MAX_TITLE_CHARS:
        raise Invalid(
            N_("An indicator's name has at most %(max)d characters."), max=MAX_TITLE_CHARS
        )
    if len(unit) > MAX_UNIT_CHARS:
        raise Invalid(N_("A unit has at most %(max)d characters."), max=MAX_UNIT_CHARS)
    count = await db.scalar(select(sa.func.count()).where(col(Indicator.project_id) == project_id))
    if (count or 0) >= MAX_INDICATORS:
        raise Invalid(N_("A project has at most %(max)d indicators."), max=MAX_INDICATORS)
    indicator = Indicator(
        project_id=project_id,
        family=family,
        name=name,
        unit=unit,
        baseline=parse_number(baseline, name=N_("the baseline")) or "0",
        target=parse_number(target, name=N_("the target"), required=False),
    )
    db.add(indicator)
    await db.commit()
    await db.refresh(indicator)
    return indicator


async def _indicator_in(
    db: AsyncSession, facilitator: Facilitator, project_id: int, indicator_id: int
) -> Indicator:
    await project_for(db=db, facilitator=facilitator, project_id=project_id)
    indicator = await db.get(Indicator, indicator_id)
    if indicator is None or indicator.project_id != project_id:
        raise NotFound(N_("This indicator does not exist."))
    return indicator


async def record_measurement(
    *,
    db: AsyncSession,
    facilitator: Facilitator,
    project_id: int,
    indicator_id: int,
    measured_on: date,
    value: str,
    note: str,
) -> IndicatorMeasurement:
    await _indicator_in(db, facilitator, project_id, indicator_id)
    note = note.strip()
    if len(note) > MAX_NOTE_CHARS:
        raise Invalid(N_("The note has at most %(max)d characters."), max=MAX_NOTE_CHARS)
    count = await db.scalar(
        select(sa.func.count()).where(col(IndicatorMeasurement.indicator_id) == indicator_id)
    )
    if (count or 0) >= MAX_MEASUREMENTS:
        raise Invalid(N_("An indicator has at most %(max)d measurements."), max=MAX_MEASUREMENTS)
    measurement = IndicatorMeasurement(
        indicator_id=indicator_id,
        measured_on=measured_on,
        value=parse_number(value, name=N_("the value")) or "0",
        note=note,
    )
    db.add(measurement)
    await db.commit()
    await db.refresh(measurement)
    return measurement


async def link_decisions(
    *,
    db: AsyncSession,
    facilitator: Facilitator,
    project_id: int,
    indicator_id: int,
    decision_ids: Sequence[int],
) -> None:
    """The decisions whose impact the indicator tells, replacing the earlier choice."""
    await _indicator_in(db, facilitator, project_id, indicator_id)
    wanted = set(decision_ids)
    if wanted:
        found = set(
            (
                await db.exec(
                    select(Decision.id).where(
                        col(Decision.id).in_(sorted(wanted)), Decision.project_id == project_id
                    )
                )
            ).all()
        )
        if found != wanted:
            raise Invalid(N_("Choose decisions of this project."))
    for link in (
        await db.exec(
            select(IndicatorDecision).where(IndicatorDecision.indicator_id == indicator_id)
        )
    ).all():
        await db.delete(link)
    for decision_id in sorted(wanted):
        db.add(IndicatorDecision(indicator_id=indicator_id, decision_id=decision_id))
    await db.commit()


# --- reading -------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorView:
    indicator: Indicator
    measurements: list[IndicatorMeasurement]  # oldest first
    chart: Chart
    decisions: list[Decision] = field(default_factory=list)  # in register order

    @property
    def latest(self) -> IndicatorMeasurement | None:
        return self.measurements[-1] if self.measurements else None

    @property
    def progress(self) -> int | None:
        """How far from the baseline to the target the latest measurement is, in
        percent (None without a target or a measurement)."""
        latest = self.latest
        if latest is None or self.indicator.target is None:
            return None
        start, goal = Decimal(self.indicator.baseline), Decimal(self.indicator.target)
        if goal == start:
            return 100
        return round(float((Decimal(latest.value) - start) / (goal - start) * 100))


async def indicators_of(db: AsyncSession, project: Project) -> list[IndicatorView]:
    project_id = key(project)
    indicators = (
        await db.exec(
            select(Indicator)
            .where(Indicator.project_id == project_id)
            .order_by(col(Indicator.family), col(Indicator.id))
        )
    ).all()
    if not indicators:
        return []
    ids = [key(i) for i in indicators]
    measurements: dict[int, list[IndicatorMeasurement]] = {i: [] for i in ids}
    for m in (
        await db.exec(
            select(IndicatorMeasurement)
            .where(col(IndicatorMeasurement.indicator_id).in_(ids))
            .order_by(col(IndicatorMeasurement.measured_on), col(IndicatorMeasurement.id))
        )
    ).all():
        measurements[m.indicator_id].append(m)
    linked: dict[int, list[Decision]] = {i: [] for i in ids}
    for indicator_id, decision in (
        await db.exec(
            select(IndicatorDecision.indicator_id, Decision)
            .join(Decision, col(Decision.id) == col(IndicatorDecision.decision_id))
            .where(col(IndicatorDecision.indicator_id).in_(ids))
            .order_by(col(Decision.position))
        )
    ).all():
        linked[indicator_id].append(decision)
    return [
        IndicatorView(
            indicator=i,
            measurements=measurements[key(i)],
            chart=chart(i, measurements[key(i)]),
            decisions=linked[key(i)],
        )
        for i in indicators
    ]
