"""The member roster of an organisation: import, edit, voting codes, colleges.

A member's voting code is personal and works for every session of the organisation:
typed on a phone, or scanned from the printed sheet, it makes that phone this member.
"""

from __future__ import annotations

import asyncio
import csv
import io
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate.database import core
from cocreate.errors import Conflict, Forbidden, Invalid, NotFound, UnknownMemberCode
from cocreate.events import ProxyWithdrawn, SessionEvent
from cocreate.figures import collation_key
from cocreate.i18n import N_
from cocreate.journal import insert_events, next_seq
from cocreate.models import (
    MAX_EMAIL_CHARS,
    MAX_MEMBER_NUMBER_CHARS,
    MAX_NAME_CHARS,
    REVOKED_BY_ARRIVAL,
    VOTING_CODE_LENGTH,
    College,
    Facilitator,
    Member,
    Organisation,
    Participant,
    Project,
    Proxy,
    Session,
    key,
    utcnow,
)
from cocreate.participants import REMOVED
from cocreate.projects import JOIN_CODE_ALPHABET, normalize_join_code

MAX_ROSTER_ROWS = 20_000  # a federation's roster, with room to spare
ROSTER_FILE_BYTES = 4 * 1024 * 1024  # 20,000 lines of name, number, e-mail and college
MAX_PROXY_CAP = 10
NOT_ON_ROSTER = N_("This voting code is not on the roster. Check it with the facilitator.")

# Header names accepted in an imported CSV, French and English, for each column.
HEADERS = {
    "name": {"name", "nom", "nom complet", "full name"},
    "number": {
        "number",
        "numero",
        "numéro",
        "member number",
        "n° sociétaire",
        "numéro de sociétaire",
    },
    "email": {"email", "e-mail", "courriel", "mail"},
    "college": {"college", "collège"},
}


def new_voting_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(VOTING_CODE_LENGTH))


async def find_organisation(*, db: AsyncSession, facilitator: Facilitator) -> Organisation | None:
    """The facilitator's organisation if it was made (reading only)."""
    return (
        await db.exec(select(Organisation).where(Organisation.owner_id == key(facilitator)))
    ).first()


async def organisation_for(*, db: AsyncSession, facilitator: Facilitator) -> Organisation:
    """The facilitator's organisation, made on first use (in a write)."""
    found = await find_organisation(db=db, facilitator=facilitator)
    if found is not None:
        return found
    organisation = Organisation(owner_id=key(facilitator), name=facilitator.display_name)
    db.add(organisation)
    await db.commit()
    await db.refresh(organisation)
    return organisation


async def organisation_of_session(*, db: AsyncSession, session: Session) -> Organisation | None:
    project = await db.get(Project, session.project_id)
    if project is None:
        return None
    return (
        await db.exec(select(Organisation).where(Organisation.owner_id == project.owner_id))
    ).first()


class MemberLine(NamedTuple):
    """What the roster's pages show of a member."""

    id: int
    name: str
    number: str
    email: str
    college_id: int | None
    voting_code: str


MEMBER_LINE = (
    col(Member.id),
    col(Member.name),
    col(Member.number),
    col(Member.email),
    col(Member.college_id),
    col(Member.voting_code),
)


def _on_roster(organisation: Organisation) -> list[sa.ColumnElement[bool]]:
    return [col(Member.organisation_id) == key(organisation), col(Member.archived_at).is_(None)]


async def members(*, db: AsyncSession, organisation: Organisation) -> list[Member]:
    result = await db.exec(select(Member).where(*_on_roster(organisation)))
    return sorted(result.all(), key=lambda m: (collation_key(m.name), m.number))


async def member_lines(*, db: AsyncSession, organisation: Organisation) -> list[MemberLine]:
    """The roster as plain rows, in its order: for the pages listing every member
    (thousands of them), read without making objects (5,000 members as ORM objects:
    a quarter of a second of the loop)."""
    result = await core(
        db,
        sa.select(*MEMBER_LINE).where(*_on_roster(organisation)),
    )
    lines = [MemberLine(*row) for row in result.all()]
    return sorted(lines, key=lambda m: (collation_key(m.name), m.number))


async def member_count(*, db: AsyncSession, organisation: Organisation) -> int:
    """How many members the roster has, counted by the database."""
    return int(
        (
            await db.exec(
                select(sa.func.count()).select_from(Member).where(*_on_roster(organisation))
            )
        ).one()
    )


async def college_sizes(*, db: AsyncSession, organisation: Organisation) -> dict[int, int]:
    """How many members of the roster each college has, counted by the database."""
    result = await db.exec(
        select(Member.college_id, sa.func.count())
        .where(*_on_roster(organisation), col(Member.college_id).is_not(None))
        .group_by(col(Member.college_id))
    )
    return {college: int(n) for college, n in result.all() if college is not None}


async def colleges(*, db: AsyncSession, organisation: Organisation) -> list[College]:
    result = await db.exec(select(College).where(College.organisation_id == key(organisation)))
    return sorted(result.all(), key=lambda college: collation_key(college.name))


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    errors: list[tuple[int, str, dict[str, object]]] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    line: int
    name: str
    number: str
    email: str
    college: str


class UnreadableRoster(Invalid):
    """The file is not CSV that can be read: refused whole, as a malformed request."""

    status_code = 400


def _records(reader: Iterator[list[str]], line_num: Callable[[], int]) -> Iterator[list[str]]:
    """The reader's records; a record it cannot read (a field past the csv module's
    size limit, 128 KiB) is an UnreadableRoster naming its line."""
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            if str(error).startswith("field larger than field limit"):
                raise UnreadableRoster(
                    N_("Line %(line)d cannot be read: a field is longer than %(max)d characters."),
                    line=line_num(),
                    max=csv.field_size_limit(),
                ) from None
            raise UnreadableRoster(
                N_("Line %(line)d cannot be read as CSV."), line=line_num()
            ) from None
        yield values


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, raw in enumerate(header):
        cell = raw.strip().lower().lstrip("\ufeff")
        for column, names in HEADERS.items():
            if cell in names and column not in found:
                found[column] = index
    if "name" not in found or "number" not in found:
        raise Invalid(
            N_(
                "The first line must name the columns: at least “name” and “number” "
                "(or “nom”, “numéro”)."
            )
        )
    return found


def parse_roster_csv(text: str) -> tuple[list[_Row], list[tuple[int, str, dict[str, object]]]]:
    """Rows of a roster CSV (comma or semicolon), and the errors found, by line number."""
    if "\x00" in text:  # never meaningful in text, and PostgreSQL cannot store it
        raise UnreadableRoster(N_("The file contains a NUL character."))
    sample = text[:4_096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    # newline="": lines end at \r, \n or \r\n, and a quoted cell keeps its own (csv docs).
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = _records(reader, lambda: reader.line_num)
    header = next(records, None)
    if header is None:
        raise Invalid(N_("The file is empty."))
    columns = _columns(header)
    rows: list[_Row] = []
    errors: list[tuple[int, str, dict[str, object]]] = []
    numbers: set[str] = set()

    def cell(values: list[str], column: str) -> str:
        index = columns.get(column)
        return values[index].strip() if index is not None and index < len(values) else ""

    for values in records:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(rows) + len(errors) >= MAX_ROSTER_ROWS:
            errors.append(
                (line, N_("A roster has at most %(max)d members."), {"max": MAX_ROSTER_ROWS})
            )
            break
        name, number = cell(values, "name"), cell(values, "number")
        email, college = cell(values, "email"), cell(values, "college")
        if not name or not number:
            errors.append((line, N_("A name and a member number are needed."), {}))
        elif len(name) > MAX_NAME_CHARS * 2 or len(number) > MAX_MEMBER_NUMBER_CHARS:
            errors.append((line, N_("The name or the number is too long."), {}))
        elif email and ("@" not in email or len(email) > MAX_EMAIL_CHARS):
            errors.append((line, N_("This e-mail address is not valid."), {}))
        elif len(college) > MAX_NAME_CHARS:
            errors.append((line, N_("The college's name is too long."), {}))
        elif number in numbers:
            errors.append(
                (line, N_("The member number %(number)s appears twice."), {"number": number})
            )
        else:
            numbers.add(number)
            rows.append(_Row(line, name, number, email.lower(), college))
    return rows, errors


async def import_roster(*, db: AsyncSession, facilitator: Facilitator, text: str) -> ImportReport:
    """Add or update members from a CSV. All or nothing: one bad line stores nothing.

    A federation's roster has thousands of lines: the file is read in a thread, the
    members are written with plain statements, ``IMPORT_BATCH_ROWS`` at a time, the
    loop getting its turn between two batches (the ORM took 3 s of the loop for 5,000
    members)."""
    organisation = await organisation_for(db=db, facilitator=facilitator)
    rows, errors = await asyncio.to_thread(parse_roster_csv, text)
    report = ImportReport(errors=errors)
    if errors:
        return report
    on_roster = await core(
        db,
        sa.select(
            col(Member.number),
            col(Member.id),
            col(Member.name),
            col(Member.email),
            col(Member.college_id),
        ).where(*_on_roster(organisation)),
    )
    existing = {number: tuple(rest) for number, *rest in on_roster.all()}
    known_colleges = {c.name: key(c) for c in await colleges(db=db, organisation=organisation)}
    for name in sorted({row.college for row in rows if row.college} - set(known_colleges)):
        college = College(organisation_id=key(organisation), name=name)
        db.add(college)
        await db.flush()
        known_colleges[name] = key(college)
    codes = set((await db.exec(select(Member.voting_code))).all())
    added: list[dict[str, object]] = []
    changed: list[dict[str, object]] = []
    now = utcnow()
    for number, row in enumerate(rows, start=1):
        if number % IMPORT_BATCH_ROWS == 0:
            await asyncio.sleep(0)  # new voting codes take a while: the loop's turn
        college_id = known_colleges[row.college] if row.college else None
        found = existing.get(row.number)
        if found is None:
            code = new_voting_code()
            while code in codes:
                code = new_voting_code()
            codes.add(code)
            added.append(
                {
                    "organisation_id": key(organisation),
                    "number": row.number,
                    "name": row.name,
                    "email": row.email,
                    "college_id": college_id,
                    "voting_code": code,
                    "created_at": now,
                }
            )
        else:
            report.updated += 1
            member_id, name, email, old_college_id = found
            if (name, email, old_college_id) != (row.name, row.email, college_id):
                changed.append(
                    {"member_id": member_id, "new_name": row.name, "new_email": row.email}
                    | {"new_college_id": college_id}
                )
    report.added = len(added)
    for start in range(0, len(added), IMPORT_BATCH_ROWS):
        await core(db, sa.insert(Member), added[start : start + IMPORT_BATCH_ROWS])
        await asyncio.sleep(0)
    for start in range(0, len(changed), IMPORT_BATCH_ROWS):
        await core(db, _UPDATE_MEMBER, changed[start : start + IMPORT_BATCH_ROWS])
        await asyncio.sleep(0)
    await db.commit()
    return report


IMPORT_BATCH_ROWS = 500
_UPDATE_MEMBER = (
    sa.update(Member)
    .where(col(Member.id) == sa.bindparam("member_id"))
    .values(
        name=sa.bindparam("new_name"),
        email=sa.bindparam("new_email"),
        college_id=sa.bindparam("new_college_id"),
    )
)


async def save_member(
    *, db: AsyncSession, facilitator: Facilitator, name: str, number: str, email: str, college: str
) -> ImportReport:
    """Add one member, or update the one with this number: a one-line import."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["name", "number", "email", "college"])
    writer.writerow([name, number, email, college])
    return await import_roster(db=db, facilitator=facilitator, text=buffer.getvalue())


async def set_college_weights(
    *, db: AsyncSession, facilitator: Facilitator, weights: dict[int, int]
) -> None:
    """Weights in whole percent; they must add up to 100."""
    organisation = await organisation_for(db=db, facilitator=facilitator)
    own = {key(c): c for c in await colleges(db=db, organisation=organisation)}
    if set(weights) != set(own):
        raise NotFound(N_("This college does not exist."))
    if any(w < 0 or w > 100 for w in weights.values()) or sum(weights.values()) != 100:
        raise Invalid(N_("College weights must add up to 100 %."))
    for college_id, weight in weights.items():
        own[college_id].weight_percent = weight
        db.add(own[college_id])
    await db.commit()


async def set_proxy_cap(*, db: AsyncSession, facilitator: Facilitator, cap: int) -> None:
    if not 0 <= cap <= MAX_PROXY_CAP:
        raise Invalid(N_("A member may hold between 0 and %(max)d proxies."), max=MAX_PROXY_CAP)
    organisation = await organisation_for(db=db, facilitator=facilitator)
    organisation.proxy_cap = cap
    db.add(organisation)
    await db.commit()


async def member_by_code(*, db: AsyncSession, session: Session, code: str) -> Member:
    """The member whose voting code this is, if they belong to the session's organisation."""
    cleaned = normalize_join_code(code)
    organisation = await organisation_of_session(db=db, session=session)
    member = (await db.exec(select(Member).where(Member.voting_code == cleaned))).first()
    if (
        organisation is None
        or member is None
        or member.organisation_id != organisation.id
        or member.archived_at is not None
    ):
        raise UnknownMemberCode(NOT_ON_ROSTER)
    return member


@dataclass(frozen=True)
class MemberArrival:
    participant: Participant
    event: SessionEvent | None  # the proxy the member had given, taken back


async def join_as_member(
    *, db: AsyncSession, session: Session, code: str, phone_participant_id: int | None = None
) -> MemberArrival:
    """The phone becomes this member in the session, in one write.

    A member present twice is one participant (a second phone takes over the same
    identity). A phone that already is a participant of the session by name becomes the
    member (what it cast stays its own: one person, one voice); one the facilitator
    removed is refused. A member arriving in person takes back the proxy they gave,
    with an event: its holder's phone is told."""
    member = await member_by_code(db=db, session=session, code=code)
    # Read afresh and locked (PostgreSQL's row; on SQLite the writer holds the file): no
    # proxy is given for this member between the checks below and the commit. An event
    # number is taken only for a proxy taken back: an arrival alone changes no screen.
    fresh = await db.get(Session, key(session), populate_existing=True, with_for_update=True)
    assert fresh is not None
    if fresh.opened_at is None or fresh.closed_at is not None:
        raise Conflict(N_("This session is not open."))
    phone = (
        await db.get(Participant, phone_participant_id, populate_existing=True)
        if phone_participant_id is not None
        else None
    )
    if phone is not None and phone.session_id != key(fresh):
        phone = None  # the cookie names someone of another session
    if phone is not None and phone.removed_at is not None:
        raise Forbidden(REMOVED)
    present = (
        await db.exec(
            select(Participant).where(
                Participant.session_id == key(fresh), Participant.member_id == key(member)
            )
        )
    ).first()
    if present is not None:
        await db.commit()  # nothing written: ends the write, objects kept as read
        return MemberArrival(present, None)
    if phone is not None and phone.member_id is None:
        participant = phone  # in the room already: the room's lock does not apply
        participant.display_name = member.name[:MAX_NAME_CHARS]
        participant.member_id = key(member)
    elif fresh.locked_at is not None:
        raise Conflict(N_("The room is locked: nobody can join now. Ask the facilitator."))
    else:
        participant = Participant(
            session_id=key(fresh), display_name=member.name[:MAX_NAME_CHARS], member_id=key(member)
        )
    db.add(participant)
    await db.flush()
    withdrawn = await _take_back_proxy(db, key(fresh), key(member))
    event: SessionEvent | None = None
    if withdrawn is not None:
        event = ProxyWithdrawn(seq=await next_seq(db, key(fresh)), subject_id=key(withdrawn))
        await insert_events(db, key(fresh), [event])
    await db.commit()
    return MemberArrival(participant, event)


async def _take_back_proxy(db: AsyncSession, session_id: int, member_id: int) -> Proxy | None:
    """The member has come in person: the proxy they gave for this session, if any, is
    taken back (in the arrival's write, which records its event). A ballot its holder
    already cast for them stays: the register shows it, and the member is then told
    they have voted. (A proxy rule, written here: ``proxies`` reads the roster.)"""
    proxy = (
        await db.exec(
            select(Proxy).where(
                Proxy.session_id == session_id,
                Proxy.principal_id == member_id,
                col(Proxy.revoked_at).is_(None),
            )
        )
    ).first()
    if proxy is not None:
        proxy.revoked_at, proxy.revoked_by = utcnow(), REVOKED_BY_ARRIVAL
        db.add(proxy)
        await db.flush()
    return proxy


async def present_members(*, db: AsyncSession, session_id: int) -> set[int]:
    """Members present at a session: those who joined it with their voting code."""
    result = await db.exec(
        select(Participant.member_id).where(
            Participant.session_id == session_id, col(Participant.member_id).is_not(None)
        )
    )
    return {m for m in result.all() if m is not None}
