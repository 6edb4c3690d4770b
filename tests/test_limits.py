"""What one client may try, and how fast: join-code guessing, sign-ins, socket floods."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
from collections.abc import Iterator

import httpx
import pytest
import websockets
from sqlmodel import func, select

from cocreate import accounts
from cocreate.limits import RateLimit, TokenBucket
from cocreate.models import Participant
from cocreate.projects import JOIN_CODE_ALPHABET
from cocreate.settings import JOINS_PER_MINUTE
from cocreate.web import (
    CODE_GUESS_BURST,
    CODE_GUESSES_PER_S,
    MEMBER_CODE_GUESS_BURST,
    MEMBER_CODE_GUESS_BURST_ALL,
    MEMBER_CODE_GUESSES_PER_S,
    MEMBER_CODE_GUESSES_PER_S_ALL,
    SIGN_IN_BURST_PER_ACCOUNT,
    SIGN_IN_BURST_PER_CLIENT,
    SIGN_INS_PER_S_PER_ACCOUNT,
    SIGN_INS_PER_S_PER_CLIENT,
    Limits,
    join_limit,
)
from tests.conftest import PASSWORD, Browser, OpenSession, Server, signed_in
from tests.test_roster import ROSTER, codes, import_csv


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_one_more_per_refill() -> None:
    clock = Clock()
    bucket = TokenBucket(burst=3, per_second=0.5, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    assert bucket.empty()
    assert bucket.seconds_until_one() == 2
    clock.now += 1.9
    assert not bucket.take()
    clock.now += 0.1
    assert bucket.take()
    clock.now += 3600  # refills up to the burst, never beyond
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_each_key_has_its_own_allowance_and_memory_stays_bounded() -> None:
    clock = Clock()
    limit = RateLimit(burst=2, per_second=1.0, max_keys=100, clock=clock)
    assert [limit.take("a"), limit.take("a"), limit.take("a")] == [True, True, False]
    assert limit.exhausted("a")
    assert not limit.exhausted("b")  # never seen: nothing spent
    assert limit.take("b")
    assert limit.retry_after("a") == 1
    limit.give_back("a")  # an attempt that did not count: spendable again, once
    assert [limit.take("a"), limit.take("a")] == [True, False]
    # Many clients: full buckets are forgotten first, without losing a limit.
    for n in range(500):
        limit.take(n)
        clock.now += 0.5
    assert len(limit) <= 100


def unknown_codes(known: str) -> list[str]:
    codes = ("".join(letters) for letters in itertools.product(JOIN_CODE_ALPHABET[:4], repeat=6))
    return [code for code in itertools.islice(codes, CODE_GUESS_BURST + 5) if code != known]


@pytest.fixture
def guess_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The server's clock for join-code guesses, moved by the test alone: on a busy
    machine, sixty requests may take seconds, and the allowance would refill meanwhile."""
    clock = Clock()
    default = Limits.default

    def with_clock(cls: type[Limits]) -> Limits:
        guesses = RateLimit(burst=CODE_GUESS_BURST, per_second=CODE_GUESSES_PER_S, clock=clock)
        return dataclasses.replace(default(), code_guesses=guesses)

    monkeypatch.setattr(Limits, "default", classmethod(with_clock))
    return clock


@pytest.mark.wire
async def test_guessing_join_codes_is_stopped_and_then_says_nothing(
    guess_clock: Clock, open_session: OpenSession
) -> None:
    phone = await open_session.phone("Awa")
    visitor = Browser(open_session.server)
    open_session.devices.append(visitor)
    guesses = unknown_codes(open_session.code)
    for code in guesses[:CODE_GUESS_BURST]:
        assert (await visitor.get(f"/s/{code}")).status_code == 404
    # Out of guesses: every session page is refused, the live one's too (else its
    # answer would tell the guesser it exists), with when to come back.
    for path in (f"/s/{guesses[-1]}", f"/s/{open_session.code}", f"/s/{open_session.code}/screen"):
        refused = await visitor.get(path)
        assert refused.status_code == 429
        assert "Too many unknown codes were tried from here" in refused.text
        assert refused.headers["retry-after"] == "1"  # one guess back each second

    async def open_and_listen() -> None:
        socket = await phone.socket(open_session.code, "phone")  # sends its hello: may be refused
        await socket.ws.recv()

    with pytest.raises(websockets.ConnectionClosed) as closed:
        await open_and_listen()
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
        1008,
        "too many unknown codes; wait",
    )
    # The facilitator's console is not a session page: untouched.
    assert (
        await open_session.facilitator.get(f"/sessions/{open_session.session_id}/console")
    ).status_code == 200
    # Back after the time it was told (a live code spends no guess): let in again.
    guess_clock.now += 1
    assert (await visitor.get(f"/s/{open_session.code}")).status_code == 200


async def test_failed_sign_ins_are_slowed_per_account(open_session: OpenSession) -> None:
    visitor = Browser(open_session.server)
    open_session.devices.append(visitor)
    await visitor.get("/login")
    for _ in range(SIGN_IN_BURST_PER_ACCOUNT):
        wrong = await visitor.post(
            "/login", {"email": "camille@example.org", "password": "guess"}, htmx=False
        )
        assert wrong.status_code == 400
    # Even the right password now waits: the guesser cannot tell it was right.
    held = await visitor.post(
        "/login", {"email": "camille@example.org", "password": PASSWORD}, htmx=False
    )
    assert held.status_code == 429
    assert "Too many failed sign-ins. Try again in" in held.text
    assert int(held.headers["retry-after"]) > 0
    assert "facilitator_id" not in str(visitor.http.cookies)
    # Another account from the same place is still answered.
    other = await visitor.post(
        "/login", {"email": "dominique@example.org", "password": "guess"}, htmx=False
    )
    assert other.status_code == 400


@pytest.fixture
def sign_in_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The server's clock for sign-ins, moved by the test alone (no refill meanwhile)."""
    clock = Clock()
    default = Limits.default

    def with_clock(cls: type[Limits]) -> Limits:
        return dataclasses.replace(
            default(),
            sign_ins=RateLimit(
                burst=SIGN_IN_BURST_PER_CLIENT, per_second=SIGN_INS_PER_S_PER_CLIENT, clock=clock
            ),
            sign_ins_per_account=RateLimit(
                burst=SIGN_IN_BURST_PER_ACCOUNT, per_second=SIGN_INS_PER_S_PER_ACCOUNT, clock=clock
            ),
        )

    monkeypatch.setattr(Limits, "default", classmethod(with_clock))
    return clock


@pytest.fixture
def password_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The passwords the server checked against a hash, in order (the server runs in
    this process: its check is counted where it happens)."""
    checked: list[str] = []
    verify = accounts._verify

    def counted(stored: str, password: str) -> bool:
        checked.append(password)
        return verify(stored, password)

    monkeypatch.setattr(accounts, "_verify", counted)
    return checked


async def sign_in_at_once(server: Server, attempts: list[tuple[str, str]]) -> list[int]:
    """Every attempt sent at the same moment, each from a browser of its own (one
    address: the loopback); their answers' status codes."""
    browsers = [Browser(server) for _ in attempts]
    try:
        await asyncio.gather(*(browser.get("/login") for browser in browsers))
        answers = await asyncio.gather(
            *(
                browser.post("/login", {"email": email, "password": password}, htmx=False)
                for browser, (email, password) in zip(browsers, attempts, strict=True)
            )
        )
    finally:
        await asyncio.gather(*(browser.close() for browser in browsers))
    for answer in answers:
        assert answer.status_code == 429 or "Wrong e-mail or password." in answer.text
    return [answer.status_code for answer in answers]


async def test_parallel_sign_ins_reach_the_password_check_no_more_than_the_limits_allow(
    sign_in_clock: Clock, password_checks: list[str], server: Server
) -> None:
    camille = await signed_in(server, "camille@example.org")
    await camille.close()
    password_checks.clear()  # the sign-in above
    # Forty wrong passwords for one account, all at once: the account's allowance.
    guesses = [("camille@example.org", f"guess {n}") for n in range(40)]
    answers = await sign_in_at_once(server, guesses)
    assert len(password_checks) == SIGN_IN_BURST_PER_ACCOUNT
    assert answers.count(400) == SIGN_IN_BURST_PER_ACCOUNT
    assert answers.count(429) == 40 - SIGN_IN_BURST_PER_ACCOUNT
    # Forty accounts from the same address, all at once: what is left of the address's.
    sprayed = [(f"someone{n}@example.org", PASSWORD) for n in range(40)]
    answers = await sign_in_at_once(server, sprayed)
    assert len(password_checks) == SIGN_IN_BURST_PER_CLIENT
    assert answers.count(400) == SIGN_IN_BURST_PER_CLIENT - SIGN_IN_BURST_PER_ACCOUNT
    # The right password waits too, until an attempt comes back (ten seconds).
    right = await sign_in_at_once(server, [("camille@example.org", PASSWORD)])
    assert right == [429]
    assert len(password_checks) == SIGN_IN_BURST_PER_CLIENT


async def test_a_successful_sign_in_spends_no_attempt(
    sign_in_clock: Clock, password_checks: list[str], server: Server
) -> None:
    camille = await signed_in(server, "camille@example.org")
    await camille.close()
    for _ in range(SIGN_IN_BURST_PER_ACCOUNT + 1):
        browser = Browser(server)
        await browser.get("/login")
        response = await browser.post(
            "/login", {"email": "camille@example.org", "password": PASSWORD}, htmx=False
        )
        await browser.close()
        assert response.status_code == 303
    # Its allowance is whole: as many wrong passwords as ever are answered.
    wrong = [("camille@example.org", "guess")] * (SIGN_IN_BURST_PER_ACCOUNT + 1)
    answers = [(await sign_in_at_once(server, [attempt]))[0] for attempt in wrong]
    assert answers == [400] * SIGN_IN_BURST_PER_ACCOUNT + [429]


@pytest.mark.wire
async def test_a_socket_that_floods_is_closed_with_1008(open_session: OpenSession) -> None:
    phone = await open_session.phone("Awa")
    calm = await phone.socket(open_session.code, "phone")
    for _ in range(3):  # a few stray messages are tolerated
        await calm.ws.send(json.dumps({"last_seq": 0}))
    await calm.quiet(0.3)  # reads on for a while: a close would raise here
    assert calm.ws.close_code is None
    flood = await phone.socket(open_session.code, "phone")

    async def flood_until_closed() -> None:
        for _ in range(200):
            await flood.ws.send(json.dumps({"last_seq": 0}))
        while True:
            await flood.ws.recv()

    with pytest.raises(websockets.ConnectionClosed) as closed:
        await flood_until_closed()
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1008, "too many messages")


@pytest.fixture
def join_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The server's clock for joins, moved by the test alone (300 joins may take longer
    than the allowance takes to refill on a busy machine)."""
    clock = Clock()
    default = Limits.default

    def with_clock(cls: type[Limits]) -> Limits:
        return dataclasses.replace(default(), joins=join_limit(JOINS_PER_MINUTE, clock))

    monkeypatch.setattr(Limits, "default", classmethod(with_clock))
    return clock


async def test_a_room_behind_one_address_gets_300_phones_in_and_a_flood_is_refused(
    join_clock: Clock, open_session: OpenSession
) -> None:
    async def arrive(name: str, phone: Browser | None = None) -> httpx.Response:
        """A phone of its own (no cookie yet) joins; a connection may serve several."""
        if phone is None:
            phone = Browser(open_session.server)
            open_session.devices.append(phone)
        phone.http.cookies.clear()
        await phone.get(f"/s/{open_session.code}")
        return await phone.post(f"/s/{open_session.code}/join", {"display_name": name}, htmx=False)

    async def arrive_in_turn(connection: int) -> list[int]:
        phone = Browser(open_session.server)
        open_session.devices.append(phone)
        return [
            (await arrive(f"Phone {connection}-{n}", phone)).status_code
            for n in range(JOINS_PER_MINUTE // 50)
        ]

    # A whole room, from one address, at once (50 connections).
    answers = await asyncio.gather(*(arrive_in_turn(c) for c in range(50)))
    assert [status for statuses in answers for status in statuses] == [303] * JOINS_PER_MINUTE
    # The 301st of the same minute (a script making participants) is refused, and told
    # when to come back.
    refused = await arrive("Robot")
    assert refused.status_code == 429
    assert "Too many phones joined from this address just now. Try again in 1 s." in refused.text
    assert refused.headers["retry-after"] == "1"
    async with open_session.server.db.session() as db:
        count = (await db.exec(select(func.count()).select_from(Participant))).one()
    assert count == JOINS_PER_MINUTE
    # A latecomer a moment later is let in: the allowance refills, 300 a minute.
    join_clock.now += 60 / JOINS_PER_MINUTE
    assert (await arrive("Late")).status_code == 303
    assert (await arrive("Robot")).status_code == 429


@pytest.fixture
def member_code_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The server's clock for voting-code guesses, moved by the test alone."""
    clock = Clock()
    default = Limits.default

    def with_clock(cls: type[Limits]) -> Limits:
        return dataclasses.replace(
            default(),
            member_codes=RateLimit(
                burst=MEMBER_CODE_GUESS_BURST, per_second=MEMBER_CODE_GUESSES_PER_S, clock=clock
            ),
            member_codes_all=RateLimit(
                burst=MEMBER_CODE_GUESS_BURST_ALL,
                per_second=MEMBER_CODE_GUESSES_PER_S_ALL,
                clock=clock,
            ),
        )

    monkeypatch.setattr(Limits, "default", classmethod(with_clock))
    return clock


async def test_guessing_voting_codes_is_stopped_per_client_and_for_everyone(
    member_code_clock: Clock, open_session: OpenSession
) -> None:
    """Wrong voting codes answered 404 forever (900 guesses, no 429) on the member's link,
    the member's join form and the proxy form. Each client (its address, here given by
    the trusted proxy's X-Forwarded-For) and all of them together are now limited."""
    await import_csv(open_session, ROSTER)
    known = await codes(open_session)
    right = known["001"]
    wrong = (code for code in unknown_member_codes() if code not in known.values())

    def visitor(address: str) -> Browser:
        device = Browser(open_session.server)
        device.http.headers["X-Forwarded-For"] = address
        open_session.devices.append(device)
        return device

    async def guess(device: Browser, n: int, code: str) -> httpx.Response:
        """One try of a code, on each address that takes one in turn."""
        if n % 3 == 0:
            return await device.get(f"/m/{code}")
        path = "/join-member" if n % 3 == 1 else "/proxies"
        return await device.post(
            f"/s/{open_session.code}{path}", {"voting_code": code, "holder": "002"}
        )

    guesser = visitor("203.0.113.7")
    await guesser.get(f"/s/{open_session.code}")
    for n in range(MEMBER_CODE_GUESS_BURST):
        answer = await guess(guesser, n, next(wrong))
        assert answer.status_code == 404
        assert "not on the roster" in answer.text
    # Out of guesses: every address that takes a code refuses this client, a right code
    # included (else the answer would tell which code is right), and says when to return.
    for n in range(3):
        refused = await guess(guesser, n, right)
        assert refused.status_code == 429
        assert "Too many wrong voting codes were tried from here. Try again in 10 s." in (
            refused.text
        )
        assert refused.headers["retry-after"] == "10"
    assert (
        await guesser.get(f"/s/{open_session.code}")
    ).status_code == 200  # joining by name: open
    # Another address is still answered, a right code let in.
    member = visitor("198.51.100.20")
    assert (await member.get(f"/m/{right}")).status_code == 200

    # Many addresses, each within its own allowance, together exhaust the server's.
    crowd = [visitor(f"192.0.2.{n}") for n in range(1, 10)]
    for device in crowd:
        await device.get(f"/s/{open_session.code}")
    remaining = MEMBER_CODE_GUESS_BURST_ALL - MEMBER_CODE_GUESS_BURST
    assert remaining == len(crowd) * MEMBER_CODE_GUESS_BURST

    async def guess_all(device: Browser) -> list[int]:
        return [
            (await guess(device, n, next(wrong))).status_code
            for n in range(MEMBER_CODE_GUESS_BURST)
        ]

    statuses = await asyncio.gather(*(guess_all(device) for device in crowd))
    assert {status for batch in statuses for status in batch} == {404}
    held = await member.get(f"/m/{right}")
    assert held.status_code == 429
    assert "Too many wrong voting codes were tried on this server just now." in held.text
    assert held.headers["retry-after"] == "1"
    # A second later the server's allowance has one guess again: the member gets in,
    # while the first guesser still waits for their own.
    member_code_clock.now += 1
    assert (await member.get(f"/m/{right}")).status_code == 200
    assert (await guess(guesser, 0, right)).status_code == 429
    member_code_clock.now += 9
    assert (await guess(guesser, 0, right)).status_code == 200


def unknown_member_codes() -> Iterator[str]:
    return ("".join(letters) for letters in itertools.product(JOIN_CODE_ALPHABET[:5], repeat=8))
