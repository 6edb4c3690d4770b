"""A secret ballot cannot be traced to its voter from the database's files once the poll
is closed: an attacker with a copy of them (a backup, a world-readable file) tries every
linkage we can think of — where each ballot lies in the file and in the WAL, its id, the
register's order, transaction ids and row places on PostgreSQL, dead row versions, the
receipts — and does no better than chance.

The attacks pair the register, in the order it was signed, with the ballots in the order
each attack finds them; the voting order is a shuffle of the ballots' own order, so a
store that kept any trace of the casting order would be paired right far more often
than the 1 in 12 of a guess.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import re
import sqlite3
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlmodel import select

from cocreate import polls, voting
from cocreate.database import make_engine
from cocreate.errors import Invalid
from cocreate.migrate import upgrade
from cocreate.models import Ballot, BallotReceipt, SealedBallot, VoterRegister
from cocreate.sealed import BallotSeal, Unreadable
from cocreate.settings import Settings
from tests.conftest import ON_POSTGRES, ONCE, OpenSession
from tests.test_polls import act, create, vote

VOTERS = 12
# A guess pairs one voter in 12 right on average; 5 or more by chance: 0.4 % of guesses.
BETTER_THAN_CHANCE = 5
RECEIPT_RE = re.compile(r"receipt code: ([0-9A-F]{12})")


async def _secret_poll_cast_in_shuffled_order(
    open_session: OpenSession,
) -> tuple[int, list[str], list[str]]:
    """Twelve phones vote, in turn, twelve different rankings of four options, in an order
    that is a shuffle of the rankings' own order. The contents (canonical JSON) and the
    receipts, in the order the register was signed."""
    poll_id = await create(
        open_session, question="Où ?", method="irv", options="Gare\nMarché\nÉcole\nPort"
    )
    await act(open_session, poll_id, "open")
    async with open_session.server.db.session() as db:
        options = [str(o.id) for o in await polls.poll_options(db, poll_id)]
    rankings = [list(r) for r in itertools.permutations(options)][:VOTERS]
    shuffled = random.Random(18).sample(rankings, VOTERS)
    in_content_order = sorted(shuffled, key=lambda r: polls.voting.canonical(r))
    # The shuffle is far from the order of the contents (and from its reverse).
    assert sum(a == b for a, b in zip(shuffled, in_content_order, strict=True)) <= 2
    assert sum(a == b for a, b in zip(shuffled, in_content_order[::-1], strict=True)) <= 2
    contents, receipts = [], []
    for number, ranking in enumerate(shuffled):
        phone = await open_session.phone(f"Votant {number}")
        page = await vote(
            phone,
            open_session,
            poll_id,
            {f"rank-{o}": str(rank) for rank, o in enumerate(ranking, 1)},
        )
        found = RECEIPT_RE.search(page)
        assert found, page
        contents.append(polls.voting.canonical(ranking))
        receipts.append(found.group(1))
    return poll_id, contents, receipts


def _checkpoint(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(FULL)")
    finally:
        connection.close()


def _paired_right(attack_order: list[str], contents: list[str]) -> int:
    """How many voters an attack pairs with their own ballot, pairing the i-th voter of
    the register with the i-th ballot in the attack's order."""
    return sum(a == b for a, b in zip(attack_order, contents, strict=False))


def _by_place(data: bytes, contents: list[str], *, last: bool = False) -> list[str]:
    """The contents in the order of their first (or last) place in the bytes."""
    places = {}
    for content in set(contents):
        needle = content.encode()
        place = data.rfind(needle) if last else data.find(needle)
        if place >= 0:
            places[content] = place
    return sorted(places, key=places.__getitem__)


async def _register_order(open_session: OpenSession, poll_id: int) -> list[int]:
    async with open_session.server.db.session() as db:
        rows = await db.exec(
            select(VoterRegister.participant_id)
            .where(VoterRegister.poll_id == poll_id)
            .order_by(VoterRegister.signed_at, VoterRegister.id)  # type: ignore[arg-type]
        )
        return list(rows.all())


@pytest.mark.skipif(ON_POSTGRES, reason="reads the SQLite file: the PostgreSQL test is below")
async def test_a_copy_of_the_sqlite_file_after_closing_pairs_no_ballot_with_its_voter(
    open_session: OpenSession,
) -> None:
    poll_id, contents, receipts = await _secret_poll_cast_in_shuffled_order(open_session)
    signed = await _register_order(open_session, poll_id)
    assert len(signed) == VOTERS  # the register is in the casting order, as it may be
    await act(open_session, poll_id, "close")

    path = Path(open_session.server.database_url.removeprefix("sqlite:///"))
    wal = path.with_name(path.name + "-wal")
    files = {
        "database": await asyncio.to_thread(path.read_bytes),
        "wal": await asyncio.to_thread(wal.read_bytes),
    }
    # And the database file once the WAL is copied into it, as a backup would take it.
    await asyncio.to_thread(_checkpoint, path)
    files["checkpointed database"] = await asyncio.to_thread(path.read_bytes)
    joined = files["database"] + files["wal"]
    # Every ballot is in the files, as the result and the ballot file need it.
    assert all(c.encode() in joined for c in contents)
    attacks: dict[str, list[str]] = {}
    for name, data in files.items():
        attacks[f"first place in the {name} file"] = _by_place(data, contents)
        attacks[f"last place in the {name} file"] = _by_place(data, contents, last=True)
        attacks[f"first place in the {name} file, backwards"] = _by_place(data, contents)[::-1]
        attacks[f"last place in the {name} file, backwards"] = _by_place(data, contents, last=True)[
            ::-1
        ]
    async with open_session.server.db.session() as db:
        rows = (await db.exec(select(Ballot).where(Ballot.poll_id == poll_id))).all()
        stored_receipts = (
            await db.exec(select(BallotReceipt.code).where(BallotReceipt.poll_id == poll_id))
        ).all()
        sealed_left = (await db.exec(select(SealedBallot))).all()
    attacks["ballot ids"] = [b.content for b in sorted(rows, key=lambda b: b.id)]
    attacks["ballot ids, backwards"] = attacks["ballot ids"][::-1]
    # The receipt each voter was shown, and the ballot lying nearest to it in the files.
    nearest = []
    for receipt in receipts:
        place = joined.find(receipt.encode())
        assert place >= 0  # published after closing: it is stored
        nearest.append(
            min(
                contents,
                key=lambda c: min(
                    (abs(m.start() - place) for m in re.finditer(re.escape(c.encode()), joined)),
                    default=len(joined),
                ),
            )
        )
    attacks["ballot nearest to the voter's receipt"] = nearest

    assert sealed_left == []
    assert sorted(stored_receipts) == sorted(receipts)
    assert sorted(b.content for b in rows) == sorted(contents)
    assert {"voter_id"} == {c for c in Ballot.model_fields if c not in {"id", "poll_id", "content"}}
    assert all(b.voter_id is None for b in rows)
    paired = {name: _paired_right(order, contents) for name, order in attacks.items()}
    assert max(paired.values()) < BETTER_THAN_CHANCE, paired


@pytest.mark.skipif(not ON_POSTGRES, reason="reads PostgreSQL's row versions")
async def test_postgresql_row_versions_after_closing_pair_no_ballot_with_its_voter(
    open_session: OpenSession,
) -> None:
    """Every version of every row, dead ones included (pageinspect reads the heap pages
    as they are on disk): no ballot that can be read shares a transaction with a
    register row, and the order of places in the heap pairs no better than chance."""
    engine = make_engine(open_session.server.database_url)
    # The suite empties tables between tests with DELETE, which leaves dead versions of
    # earlier tests' rows in the heap: rewritten first, the tables hold only this test's.
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.exec_driver_sql("VACUUM FULL ballot, sealed_ballot, voter_register")
    poll_id, contents, _ = await _secret_poll_cast_in_shuffled_order(open_session)
    await act(open_session, poll_id, "close")
    try:
        async with engine.connect() as connection:
            await connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pageinspect")
            await connection.commit()

            async def versions(table: str) -> list[tuple[int, tuple[int, int], bytes]]:
                size = await connection.execute(
                    sa.text("SELECT pg_relation_size(:table) / 8192"), {"table": table}
                )
                found = []
                for page in range(int(size.scalar_one())):
                    rows = await connection.execute(
                        sa.text(
                            "SELECT t_xmin, t_ctid::text, t_data FROM heap_page_items("
                            "get_raw_page(:table, :page)) WHERE t_data IS NOT NULL"
                        ),
                        {"table": table, "page": page},
                    )
                    for xmin, ctid, data in rows.all():
                        block, item = ctid.strip("()").split(",")
                        found.append((int(xmin), (int(block), int(item)), bytes(data)))
                return found

            ballots = await versions("ballot")
            sealed = await versions("sealed_ballot")
            register = await versions("voter_register")
    finally:
        await engine.dispose()
    voters_transactions = {xmin for xmin, _, _ in register}
    assert len(register) == VOTERS
    readable = [
        (xmin, ctid, c) for xmin, ctid, data in ballots for c in contents if c.encode() in data
    ]
    assert sorted(c for _, _, c in readable) == sorted(contents)  # only the counted ballots
    # No readable ballot was written by a voter's transaction.
    assert not {xmin for xmin, _, _ in readable} & voters_transactions
    # What the voters' transactions wrote besides the register holds no ballot's content.
    assert 0 < len(sealed) <= VOTERS  # dead versions: pruning may have taken some
    for xmin, _, data in sealed:
        assert xmin in voters_transactions
        assert not any(c.encode() in data for c in contents)
    by_place = [c for _, _, c in sorted(readable, key=lambda r: r[1])]
    assert _paired_right(by_place, contents) < BETTER_THAN_CHANCE
    assert _paired_right(by_place[::-1], contents) < BETTER_THAN_CHANCE


@ONCE
def test_a_sealed_ballot_opens_with_its_key_and_poll_only() -> None:
    seal = BallotSeal("a key")
    sealed = seal.seal(poll_id=7, capacity=40, content='["1","2"]', receipt="ABCDEF012345")
    assert seal.open(poll_id=7, sealed=sealed) == ('["1","2"]', "ABCDEF012345")
    assert b"ABCDEF" not in sealed
    with pytest.raises(Unreadable):
        BallotSeal("another key").open(poll_id=7, sealed=sealed)
    with pytest.raises(Unreadable):
        seal.open(poll_id=8, sealed=sealed)  # moved to another poll
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(Unreadable):
        seal.open(poll_id=7, sealed=tampered)
    # The shortest and the widest ballot of a poll seal to the same length.
    assert len(seal.seal(poll_id=7, capacity=40, content='"for"', receipt="A" * 12)) == len(sealed)


async def test_a_poll_sealed_under_another_secret_key_stays_open_and_says_why(
    open_session: OpenSession,
) -> None:
    poll_id = await create(open_session, question="Clé ?", method="yes_no")
    await act(open_session, poll_id, "open")
    phone = await open_session.phone("Zoé")
    await vote(phone, open_session, poll_id, {"choice": "for"})
    async with open_session.server.db.session() as db:
        row = (await db.exec(select(SealedBallot))).one()
        # As if the server had restarted with another COCREATE_SECRET_KEY since.
        row.sealed = BallotSeal("another key").seal(
            poll_id=poll_id, capacity=20, content='"for"', receipt="0" * 12
        )
        db.add(row)
        await db.commit()
    response = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/polls/{poll_id}/close", htmx=False
    )
    assert response.status_code == 409
    assert "sealed with another secret key" in response.text
    async with open_session.server.db.session() as db:
        poll = await db.get(polls.Poll, poll_id)
        assert poll is not None
        assert poll.closed_at is None  # nothing lost: still open, its ballot still sealed
        assert len((await db.exec(select(SealedBallot))).all()) == 1


@ONCE
def test_the_database_file_and_the_generated_key_are_readable_by_their_owner_only(
    tmp_path: Path,
) -> None:
    previous = os.umask(0o022)  # the usual umask: files readable by everyone
    try:
        url = f"sqlite:///{tmp_path / 'private.db'}"
        configured = Settings(database_url=url, secret_key_file=str(tmp_path / "secret"))
        key = configured.signing_key()
        assert configured.signing_key() == key  # kept, read back the second time
        upgrade(url)
    finally:
        os.umask(previous)
    for name in ("private.db", "private.db-wal", "private.db-shm", "secret"):
        path = tmp_path / name
        if name.endswith(("-wal", "-shm")) and not path.exists():
            continue
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("secret.")]  # no draft left


OPTION_IDS = st.lists(
    st.integers(min_value=1, max_value=2**31 - 1).map(str), min_size=2, max_size=30, unique=True
)


@st.composite
def ballots(draw: st.DrawFn) -> tuple[voting.BallotForm, dict[str, str | list[str]]]:
    """A poll of any method, and any form a phone could post that its rules accept."""
    method = draw(st.sampled_from(list(voting.Method)))
    options = [] if method in voting.OPTIONLESS else draw(OPTION_IDS)
    rules: dict[str, object] = {"seats": 1}
    if method is voting.Method.DOTS:
        points = draw(st.integers(1, voting.MAX_POINTS))
        rules = {"points": points, "cap": draw(st.integers(1, points))}
    if method is voting.Method.SCORE:
        rules = {"min": 0, "max": draw(st.integers(1, voting.MAX_SCORE))}
    if draw(st.booleans()):
        rules["colleges"] = {
            str(c): {"name": "C", "weight": 50, "electorate": 3}
            for c in draw(st.lists(st.integers(1, 2**31 - 1), min_size=1, max_size=5))
        }
    shape = voting.BallotForm(method=method, rules=rules, options=options)
    form: dict[str, str | list[str]] = {}
    if method is voting.Method.YES_NO:
        form["choice"] = draw(st.sampled_from(["for", "against", "abstain", "blank"]))
    elif method is voting.Method.CONSENT:
        form["choice"] = draw(st.sampled_from(["consent", "objection", "stand_aside"]))
        form["reason"] = "r" + draw(st.text(max_size=voting.MAX_REASON_CHARS - 1))
    elif method is voting.Method.APPROVAL:
        form["approve"] = draw(st.lists(st.sampled_from(options), unique=True))
    elif method is voting.Method.DOTS:
        left = int(rules["points"])  # type: ignore[call-overload]
        for option in options:
            given = draw(st.integers(0, min(left, int(rules["cap"]))))  # type: ignore[call-overload]
            form[f"points-{option}"] = str(given)
            left -= given
    elif method is voting.Method.SCORE:
        for option in draw(st.lists(st.sampled_from(options), unique=True)):
            form[f"score-{option}"] = str(draw(st.integers(0, int(rules["max"]))))  # type: ignore[call-overload]
    elif method is voting.Method.JUDGMENT:
        for option in options:
            form[f"grade-{option}"] = draw(st.sampled_from(voting.GRADES))
    else:
        ranked = draw(st.lists(st.sampled_from(options), unique=True))
        for rank, option in enumerate(ranked, 1):
            form[f"rank-{option}"] = str(rank)
    return shape, form


@ONCE
@given(ballots())
@hypothesis_settings(max_examples=300, deadline=None)
def test_no_valid_ballot_is_wider_than_its_poll_pads_it(
    drawn: tuple[voting.BallotForm, dict[str, str | list[str]]],
) -> None:
    shape, form = drawn
    try:
        content = voting.parse_ballot(shape, form)
    except Invalid:
        return  # refused with a reason: never sealed
    if "colleges" in shape.rules:
        content = {"college": max(shape.rules["colleges"], key=len), "vote": content}
    assert len(voting.canonical(content).encode()) <= voting.max_ballot_bytes(shape)


@ONCE
def test_the_widest_reason_fits_its_consent_ballot() -> None:
    shape = voting.BallotForm(method=voting.Method.CONSENT, rules={}, options=[])
    for character in ("\x01", "\U0001f600", "é", '"'):
        content = voting.parse_ballot(
            shape, {"choice": "stand_aside", "reason": character * voting.MAX_REASON_CHARS}
        )
        assert len(voting.canonical(content).encode()) <= voting.max_ballot_bytes(shape)
