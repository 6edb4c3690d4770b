"""Domain factories: what a test of a domain rule needs in the database, made by the
domain functions the views call (so each row is one the app could have written), without
an app, a client or a sign-in in between.

    async def test_a_rule(factory: Factory) -> None:
        session = await factory.open_session()
        awa = await factory.participant(session, "Awa")

The `factory` fixture (conftest.py) works on the `bare_db` fixture: a database at the
newest migration and no app. A test of what a page or a form says takes `open_session`
instead.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from cocreate import accounts, participants, projects
from cocreate.database import Database
from cocreate.models import Facilitator, Participant, Project, Session

PASSWORD = "correct horse battery"


@dataclass
class Factory:
    db: Database
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def facilitator(self, email: str = "") -> Facilitator:
        email = email or f"facilitator-{next(self._numbers)}@example.org"
        async with self.db.session() as db:
            return await accounts.add_facilitator(
                db=db, email=email, display_name=email.split("@")[0], password=PASSWORD
            )

    async def project(self, owner: Facilitator | None = None, title: str = "Atelier") -> Project:
        owner = owner or await self.facilitator()
        async with self.db.write() as db:
            return await projects.create_project(
                db=db, owner=owner, title=title, need="Un besoin réel", territory="Lyon"
            )

    async def session(self, project: Project | None = None, title: str = "Atelier 1") -> Session:
        """A session in preparation (not open to phones yet)."""
        project = project or await self.project()
        assert project.id is not None
        async with self.db.write() as db:
            owner = await db.get(Facilitator, project.owner_id)
            assert owner is not None
            return await projects.create_session(
                db=db, facilitator=owner, project_id=project.id, title=title
            )

    async def open_session(self, project: Project | None = None) -> Session:
        """A session open to phones, under its join code."""
        session = await self.session(project)
        assert session.id is not None
        async with self.db.write() as db:
            project_row = await db.get(Project, session.project_id)
            assert project_row is not None
            owner = await db.get(Facilitator, project_row.owner_id)
            assert owner is not None
            opened = await projects.open_session(db=db, facilitator=owner, session_id=session.id)
            assert opened.join_code
            return opened

    async def participant(self, session: Session, name: str) -> Participant:
        """A phone that joined the session under a name."""
        async with self.db.session() as db:
            fresh = await db.get(Session, session.id)
            assert fresh is not None
            return await participants.join(db=db, session=fresh, display_name=name)
