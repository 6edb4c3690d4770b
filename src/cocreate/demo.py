"""Demo data for `make run`: a facilitator, a project and one live session with an
agenda ready to start (saved as a facilitation script too), and a first decision with
its follow-up and impact indicators."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate import accounts, agenda, follow_up, impact, projects, register
from cocreate.database import Database
from cocreate.models import (
    Facilitator,
    FollowUpStatus,
    IndicatorFamily,
    Outcome,
    Project,
    Session,
    key,
)

DEMO_EMAIL = "demo@cocreate.example"
# The demo's password is new at each `cocreate demo`, and printed: `make run` listens on
# the local network, where a password written here would open the account to anyone.
# Letters and digits easy to read aloud and type (no 0/o, 1/i/l): 4 groups of 4, 79 bits.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105 -- the letters, not a password
PASSWORD_GROUPS = 4
DEMO_PROJECT = "Un tiers-lieu alimentaire pour le quartier"
DEMO_NEED = (
    "Les familles du quartier manquent d'un lieu pour acheter des produits frais à prix "
    "juste, cuisiner ensemble et rompre l'isolement."
)
DEMO_SESSION = "Atelier de co-construction n°1"
# A workshop as facilitators plan it: (kind, title, what the room is asked, minutes).
DEMO_AGENDA = [
    ("info", "Bienvenue", "Ce soir, on part de vos besoins pour imaginer le tiers-lieu.", ""),
    ("needs", "Ce qui vous manque", "Qu'est-ce qui est difficile pour vous aujourd'hui ?", "5"),
    ("ideas", "Vos idées", "Quelle solution répondrait à un de ces besoins ?", "8"),
    ("discussion", "On en discute", "Commentez, dites si vous êtes d'accord.", "10"),
    ("grouping", "On regroupe", "L'animation fusionne les idées qui se ressemblent.", ""),
    ("vote", "On vote", "Pour, contre ou abstention sur chaque idée.", "5"),
    ("decision", "On décide", "Les décisions de la soirée.", ""),
]
DEMO_SCRIPT = "Atelier besoins → décision"
DEMO_PLACE = "Maison de quartier, salle du rez-de-chaussée"
# Decided before the workshop, by the association's board.
DEMO_DECISION = "Louer pour un an l'ancienne boulangerie de la place comme local"
DEMO_INDICATORS = [
    # (family, name, unit, baseline, target, [(date, value)])
    (
        IndicatorFamily.SOCIAL,
        "Familles inscrites",
        "familles",
        "0",
        "120",
        [(date(2026, 9, 1), "18"), (date(2026, 10, 1), "41"), (date(2026, 11, 1), "67")],
    ),
    (
        IndicatorFamily.ECOLOGICAL,
        "Produits locaux vendus",
        "kg",
        "0",
        "2000",
        [(date(2026, 10, 1), "240"), (date(2026, 11, 1), "610")],
    ),
    (
        IndicatorFamily.POLITICAL,
        "Habitant·es au conseil du lieu",
        "%",
        "0",
        "50",
        [(date(2026, 11, 1), "20")],
    ),
]


def new_password() -> str:
    """A fresh random password for the demo account, like ``kx7p-m3qa-9trw-h4ze``."""
    return "-".join(
        "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(4)) for _ in range(PASSWORD_GROUPS)
    )


@dataclass(frozen=True)
class Demo:
    email: str
    password: str
    project_id: int
    session_id: int
    join_code: str


async def ensure_demo(database_url: str) -> Demo:
    """Create the demo once; later calls find it and return the same details, but for
    the password: each call gives the account a new one (which signs out the browsers
    signed in with the one before)."""
    password = new_password()
    db_handle = Database(database_url)
    try:
        async with db_handle.session() as db:
            facilitator = (
                await db.exec(select(Facilitator).where(Facilitator.email == DEMO_EMAIL))
            ).first()
            if facilitator is None:
                facilitator = await accounts.add_facilitator(
                    db=db, email=DEMO_EMAIL, display_name="Camille (démo)", password=password
                )
            else:
                await accounts.replace_password(
                    db=db,
                    facilitator_id=key(facilitator),
                    password_hash=await accounts.new_password_hash(password),
                )
                await db.refresh(facilitator)
            project = (
                await db.exec(select(Project).where(Project.owner_id == facilitator.id))
            ).first()
            if project is None:
                project = await projects.create_project(
                    db=db,
                    owner=facilitator,
                    title=DEMO_PROJECT,
                    need=DEMO_NEED,
                    territory="Quartier de la Croix-Rousse, Lyon",
                )
                await _first_decision(db, facilitator, key(project))
            session = (
                await db.exec(
                    select(Session).where(
                        Session.project_id == project.id,
                        Session.closed_at.is_(None),  # type: ignore[union-attr]
                    )
                )
            ).first()
            assert project.id is not None
            if session is None:
                session = await projects.create_session(
                    db=db,
                    facilitator=facilitator,
                    project_id=project.id,
                    title=DEMO_SESSION,
                    place=DEMO_PLACE,
                )
            assert session.id is not None
            if not await agenda.steps_of(db, session.id):
                await agenda.add_steps(
                    db=db,
                    facilitator=facilitator,
                    session_id=session.id,
                    drafts=[
                        agenda.parse_step(
                            kind=kind, title=title, prompt=prompt, minutes=minutes, auto_close=True
                        )
                        for kind, title, prompt, minutes in DEMO_AGENDA
                    ],
                )
                await agenda.save_script(
                    db=db, facilitator=facilitator, session_id=session.id, name=DEMO_SCRIPT
                )
            session = await projects.open_session(
                db=db, facilitator=facilitator, session_id=session.id
            )
            assert session.id is not None
            assert session.join_code is not None
            return Demo(DEMO_EMAIL, password, project.id, session.id, session.join_code)
    finally:
        await db_handle.dispose()


async def _first_decision(db: AsyncSession, facilitator: Facilitator, project_id: int) -> None:
    """The board's decision that made the project possible, how far it got, and the
    indicators the project follows."""
    decision = await register.record_call(
        db=db,
        facilitator=facilitator,
        project_id=project_id,
        text=DEMO_DECISION,
        outcome=Outcome.ADOPTED,
        note="Conseil d'administration de l'association, 2 septembre 2026",
    )
    await follow_up.update(
        db=db,
        facilitator=facilitator,
        project_id=project_id,
        decision_id=key(decision),
        change=follow_up.Change(
            owner="Commission locaux",
            due_on=date(2026, 12, 15),
            review_on=date(2027, 6, 1),
            status=FollowUpStatus.IN_PROGRESS,
            progress=60,
            note="Bail signé ; travaux de mise aux normes en cours.",
        ),
    )
    for family, name, unit, baseline, target, measured in DEMO_INDICATORS:
        indicator = await impact.add_indicator(
            db=db,
            facilitator=facilitator,
            project_id=project_id,
            family=family,
            name=name,
            unit=unit,
            baseline=baseline,
            target=target,
        )
        for day, value in measured:
            await impact.record_measurement(
                db=db,
                facilitator=facilitator,
                project_id=project_id,
                indicator_id=key(indicator),
                measured_on=day,
                value=value,
                note="",
            )
        await impact.link_decisions(
            db=db,
            facilitator=facilitator,
            project_id=project_id,
            indicator_id=key(indicator),
            decision_ids=[key(decision)],
        )
