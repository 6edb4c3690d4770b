"""Back to the people concerned: did a decision answer their need?

The facilitator opens a short questionnaire on a decision, reachable by a link and a QR
code. Only participants of the session that took the decision answer it: the phone they
used then, or any phone once they open their own participant link (``/p/TOKEN``), which
they can ask for on the session page. One answer each (a new one replaces it) until the
facilitator closes the questionnaire; the results sit with the impact indicators.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate.errors import Conflict, Forbidden, Invalid, NotFound
from cocreate.i18n import N_
from cocreate.models import (
    MAX_COMMENT_CHARS,
    SURVEY_CODE_LENGTH,
    Decision,
    Facilitator,
    Outcome,
    Participant,
    Session,
    Survey,
    SurveyAnswer,
    key,
    utcnow,
)
from cocreate.register import decision_in

RATINGS = (1, 2, 3, 4, 5)
RATING_LABELS = {
    1: N_("Not at all"),
    2: N_("A little"),
    3: N_("Partly"),
    4: N_("Mostly"),
    5: N_("Fully"),
}
LINK_TOKEN_BYTES = 18  # 24 URL-safe characters: not guessable
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud, typed


def new_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(SURVEY_CODE_LENGTH))


async def open_survey(
    *, db: AsyncSession, facilitator: Facilitator, project_id: int, decision_id: int
) -> Survey:
    """The decision's open questionnaire, opened now if it has none."""
    decision = await decision_in(
        db=db, facilitator=facilitator, project_id=project_id, decision_id=decision_id
    )
    if decision.session_id is None:
        raise Conflict(
            N_("This decision was taken outside a session: there is nobody to ask in cocreate.")
        )
    if decision.outcome == Outcome.REJECTED:
        raise Conflict(N_("A rejected proposal has nothing to carry out."))
    current = await current_survey(db, decision_id)
    if current is not None:
        return current
    survey = Survey(decision_id=decision_id, code=new_code())
    db.add(survey)
    await db.commit()
    await db.refresh(survey)
    return survey


async def close_survey(
    *, db: AsyncSession, facilitator: Facilitator, project_id: int, decision_id: int
) -> Survey:
    await decision_in(
        db=db, facilitator=facilitator, project_id=project_id, decision_id=decision_id
    )
    survey = await current_survey(db, decision_id)
    if survey is None:
        raise Conflict(N_("No questionnaire is open on this decision."))
    survey.closed_at = utcnow()
    db.add(survey)
    await db.commit()
    await db.refresh(survey)
    return survey


async def current_survey(db: AsyncSession, decision_id: int) -> Survey | None:
    return (
        await db.exec(
            select(Survey).where(Survey.decision_id == decision_id, col(Survey.closed_at).is_(None))
        )
    ).first()


@dataclass(frozen=True)
class Asked:
    """A questionnaire as a phone sees it."""

    survey: Survey
    decision: Decision
    session: Session


async def by_code(db: AsyncSession, code: str) -> Asked:
    code = code.strip().lower()
    survey = (
        (await db.exec(select(Survey).where(Survey.code == code))).first()
        if len(code) == SURVEY_CODE_LENGTH
        else None
    )
    decision = await db.get(Decision, survey.decision_id) if survey is not None else None
    session = (
        await db.get(Session, decision.session_id)
        if decision is not None and decision.session_id is not None
        else None
    )
    if survey is None or decision is None or session is None:
        raise NotFound(N_("This questionnaire does not exist. Check the link."))
    return Asked(survey, decision, session)


async def answer(
    *,
    db: AsyncSession,
    asked: Asked,
    participant_id: int | None,
    rating: str,
    comment: str,
) -> SurveyAnswer:
    """Keep the participant's answer (replacing an earlier one)."""
    participant = await db.get(Participant, participant_id) if participant_id else None
    if (
        participant is None
        or participant.session_id != key(asked.session)
        or participant.removed_at is not None
    ):
        raise Forbidden(
            N_(
                "This questionnaire is for the participants of “%(session)s”. "
                "On this phone, open your personal participant link first."
            ),
            session=asked.session.title,
        )
    if asked.survey.closed_at is not None:
        raise Conflict(N_("This questionnaire is closed."))
    value = int(rating) if rating.strip() in {str(r) for r in RATINGS} else None
    if value is None:
        raise Invalid(N_("Choose an answer from 1 to 5."))
    comment = comment.strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise Invalid(N_("A comment has at most %(max)d characters."), max=MAX_COMMENT_CHARS)
    existing = (
        await db.exec(
            select(SurveyAnswer).where(
                SurveyAnswer.survey_id == key(asked.survey),
                SurveyAnswer.participant_id == key(participant),
            )
        )
    ).first()
    given = existing or SurveyAnswer(
        survey_id=key(asked.survey), participant_id=key(participant), rating=value
    )
    given.rating, given.comment, given.answered_at = value, comment, utcnow()
    db.add(given)
    await db.commit()
    await db.refresh(given)
    return given


async def my_answer(
    db: AsyncSession, survey: Survey, participant_id: int | None
) -> SurveyAnswer | None:
    if participant_id is None:
        return None
    return (
        await db.exec(
            select(SurveyAnswer).where(
                SurveyAnswer.survey_id == key(survey), SurveyAnswer.participant_id == participant_id
            )
        )
    ).first()


# --- results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Results:
    survey: Survey
    counts: dict[int, int]  # rating -> answers
    comments: list[str]  # oldest first, without names

    @property
    def answers(self) -> int:
        return sum(self.counts.values())

    @property
    def average(self) -> float | None:
        if not self.answers:
            return None
        return sum(r * n for r, n in self.counts.items()) / self.answers


async def results_of(db: AsyncSession, decision_ids: Sequence[int]) -> dict[int, list[Results]]:
    """Every questionnaire of these decisions, newest first, with its answers counted."""
    if not decision_ids:
        return {}
    surveys = (
        await db.exec(
            select(Survey)
            .where(col(Survey.decision_id).in_(decision_ids))
            .order_by(col(Survey.opened_at).desc(), col(Survey.id).desc())
        )
    ).all()
    counts: dict[int, dict[int, int]] = {key(s): dict.fromkeys(RATINGS, 0) for s in surveys}
    comments: dict[int, list[str]] = {key(s): [] for s in surveys}
    if surveys:
        for survey_id, rating, text in (
            await db.exec(
                select(SurveyAnswer.survey_id, SurveyAnswer.rating, SurveyAnswer.comment)
                .where(col(SurveyAnswer.survey_id).in_(list(counts)))
                .order_by(col(SurveyAnswer.answered_at), col(SurveyAnswer.id))
            )
        ).all():
            counts[survey_id][rating] += 1
            if text:
                comments[survey_id].append(text)
    found: dict[int, list[Results]] = {}
    for survey in surveys:
        found.setdefault(survey.decision_id, []).append(
            Results(survey, counts[key(survey)], comments[key(survey)])
        )
    return found


# --- the participant's own link -------------------------------------------------------


async def participant_link(db: AsyncSession, participant_id: int) -> str:
    """The participant's link token, made the first time it is asked for."""
    participant = await db.get(Participant, participant_id)
    if participant is None:
        raise NotFound(N_("Join the session first."))
    if participant.link_token is None:
        token = secrets.token_urlsafe(LINK_TOKEN_BYTES)
        await db.exec(
            sa.update(Participant)
            .where(col(Participant.id) == participant_id, col(Participant.link_token).is_(None))
            .values(link_token=token)
        )
        await db.commit()
        await db.refresh(participant)
    assert participant.link_token is not None
    return participant.link_token


async def by_link(db: AsyncSession, token: str) -> tuple[Participant, Session]:
    participant = (
        (await db.exec(select(Participant).where(Participant.link_token == token))).first()
        if 16 <= len(token) <= 32
        else None
    )
    session = await db.get(Session, participant.session_id) if participant is not None else None
    if participant is None or session is None or participant.removed_at is not None:
        raise NotFound(N_("This participant link does not exist. Check it."))
    return participant, session


async def open_surveys_of_session(
    db: AsyncSession, session_id: int
) -> list[tuple[Survey, Decision]]:
    rows = await db.exec(
        select(Survey, Decision)
        .join(Decision, col(Decision.id) == col(Survey.decision_id))
        .where(Decision.session_id == session_id, col(Survey.closed_at).is_(None))
        .order_by(col(Decision.position))
    )
    return [(s, d) for s, d in rows.all()]
