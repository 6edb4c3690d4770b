"""Demo data for `make run`: a facilitator, a project and one live session."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from cocreate import accounts, projects
from cocreate.database import Database
from cocreate.models import Facilitator, Project, Session

DEMO_EMAIL = "demo@cocreate.example"
# A local demo only: `cocreate demo` is never run in production.
DEMO_PASSWORD = "demo-cocreate"  # noqa: S105
DEMO_PROJECT = "Un tiers-lieu alimentaire pour le quartier"
DEMO_NEED = (
    "Les familles du quartier manquent d'un lieu pour acheter des produits frais à prix "
    "juste, cuisiner ensemble et rompre l'isolement."
)
DEMO_SESSION = "Atelier de co-construction n°1"


@dataclass(frozen=True)
class Demo:
    email: str
    password: str
    project_id: int
    session_id: int
    join_code: str


async def ensure_demo(database_url: str) -> Demo:
    """Create the demo once; later calls find it and return the same details."""
    db_handle = Database(database_url)
    try:
        async with db_handle.session() as db:
            facilitator = (
                await db.exec(select(Facilitator).where(Facilitator.email == DEMO_EMAIL))
            ).first()
            if facilitator is None:
                facilitator = await accounts.add_facilitator(
                    db=db, email=DEMO_EMAIL, display_name="Camille (démo)", password=DEMO_PASSWORD
                )
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
                    db=db, facilitator=facilitator, project_id=project.id, title=DEMO_SESSION
                )
            assert session.id is not None
            session = await projects.open_session(
                db=db, facilitator=facilitator, session_id=session.id
            )
            assert session.id is not None
            assert session.join_code is not None
            return Demo(DEMO_EMAIL, DEMO_PASSWORD, project.id, session.id, session.join_code)
    finally:
        await db_handle.dispose()
