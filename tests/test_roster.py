"""The member roster, members joining with their code, and binding polls."""

from __future__ import annotations

import asyncio
import hashlib
import html
import json

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from cocreate import polls
from cocreate.models import (
    Ballot,
    College,
    Decision,
    Member,
    Participant,
    Poll,
    PollElector,
    Proxy,
    SealedBallot,
    VoterRegister,
)
from cocreate.polls import Quorum
from tests.conftest import Browser, OpenSession, signed_in
from tests.test_polls import act, create, vote

ROSTER = """nom;numéro;courriel;collège
Alice Martin;001;alice@example.org;Salariés
Bernard Petit;002;;Usagers
Chantal Roux;003;chantal@example.org;Usagers
"""


async def import_csv(open_session: OpenSession, text: str) -> str:
    response = await open_session.facilitator.http.post(
        "/roster/import",
        data={"csrf_token": open_session.facilitator.csrf},
        files={"file": ("roster.csv", text.encode(), "text/csv")},
    )
    assert response.status_code in (200, 422), response.text
    return response.text


async def roster_rows(open_session: OpenSession) -> list[tuple[object, ...]]:
    async with open_session.server.db.session() as db:
        found = await db.exec(select(Member).order_by(col(Member.number)))
        return [(m.number, m.name, m.email, m.college_id, m.voting_code) for m in found.all()]


async def test_a_roster_file_that_cannot_be_read_is_refused_whole_and_says_why(
    open_session: OpenSession,
) -> None:
    """A field past the CSV reader's 128 KiB, a NUL character, a quote left open over
    the whole file: 400 with the reason on the page, and the roster as it was."""
    await import_csv(open_session, ROSTER)
    before = await roster_rows(open_session)
    huge = "x" * (128 * 1024 + 1)
    too_long = "cannot be read: a field is longer than 131,072 characters."
    nothing = "Nothing was imported"
    # What is sent; the reason the roster page gives (a pasted NUL is refused with
    # every form's, before the roster is looked at).
    unreadable = {
        "a field over 128 KiB": (f"nom;numéro\nDenis;004\n{huge};005\n", f"Line 3 {too_long}"),
        "a quoted field over 128 KiB": (f'nom;numéro\n"{huge}";005\n', f"Line 2 {too_long}"),
        "a NUL character": ("nom;numéro\nDe\x00nis;004\n", "The file contains a NUL character."),
    }
    for what, (text, reason) in unreadable.items():
        for sent in ("file", "pasted"):
            data = {"csrf_token": open_session.facilitator.csrf}
            if sent == "file":
                files = {"file": ("roster.csv", text.encode(), "text/csv")}
            else:
                files = {"file": ("", b"", "application/octet-stream")}
                data["csv"] = text
            response = await open_session.facilitator.http.post(
                "/roster/import", data=data, files=files
            )
            assert response.status_code == 400, (what, sent, response.status_code)
            if "NUL" in what and sent == "pasted":
                assert "The form contains a NUL character." in response.text
            else:
                assert nothing in response.text, (what, sent)
                assert reason in response.text, (what, sent)
            assert await roster_rows(open_session) == before, (what, sent)


async def test_a_roster_saved_with_old_mac_line_endings_is_read(open_session: OpenSession) -> None:
    """Carriage returns alone end lines (spreadsheets of old Macs); inside quotes they
    stay in the cell, as the delimiter does."""
    page = await import_csv(open_session, 'nom;numéro\rAlice;001\r"Petit;\rBernard";002\r')
    assert "Import done: 2 added, 0 updated." in page
    names = sorted(str(row[1]) for row in await roster_rows(open_session))
    assert names == ["Alice", "Petit;\rBernard"]


async def codes(open_session: OpenSession) -> dict[str, str]:
    async with open_session.server.db.session() as db:
        return {m.number: m.voting_code for m in (await db.exec(select(Member))).all()}


async def member_id(open_session: OpenSession, number: str) -> int:
    async with open_session.server.db.session() as db:
        member = (await db.exec(select(Member).where(Member.number == number))).one()
        assert member.id is not None
        return member.id


async def member_phone(open_session: OpenSession, code: str) -> Browser:
    phone = Browser(open_session.server)
    open_session.devices.append(phone)
    await phone.get(f"/s/{open_session.code}")
    joined = await phone.post(
        f"/s/{open_session.code}/join-member", {"voting_code": code}, htmx=False
    )
    assert joined.status_code == 303, joined.text
    await phone.get(f"/s/{open_session.code}")
    return phone


async def test_import_a_french_roster_then_update_it_by_number(open_session: OpenSession) -> None:
    page = await import_csv(open_session, ROSTER)
    assert "Import done: 3 added, 0 updated." in page
    assert "Alice Martin" in page
    assert "Salariés" in page
    again = await import_csv(open_session, "name,number\nAlice Martin-Dupont,001\n")
    assert "0 added, 1 updated" in again
    async with open_session.server.db.session() as db:
        alice = (await db.exec(select(Member).where(Member.number == "001"))).one()
    assert alice.name == "Alice Martin-Dupont"
    assert len(alice.voting_code) == 8


async def test_a_bad_roster_line_imports_nothing_and_says_where(open_session: OpenSession) -> None:
    page = await import_csv(open_session, "nom;numéro\nAlice;001\n;002\nBob;001\n")
    assert "Nothing was imported" in page
    assert "Line 3: A name and a member number are needed." in page
    assert "Line 4:" in page
    assert "appears twice" in page
    no_header = await import_csv(open_session, "Alice;001\n")
    assert "must name the columns" in no_header
    async with open_session.server.db.session() as db:
        assert (await db.exec(select(Member))).all() == []


async def test_a_member_joins_with_their_code_once_whatever_the_phone(
    open_session: OpenSession,
) -> None:
    await import_csv(open_session, ROSTER)
    code = (await codes(open_session))["002"]
    phone = await member_phone(open_session, code.lower())  # codes are typed in any case
    page = await phone.get(f"/s/{open_session.code}")
    assert "You take part as Bernard Petit. (member)" in page.text
    await member_phone(open_session, code)  # the same member on a second phone
    async with open_session.server.db.session() as db:
        present = (
            await db.exec(select(Participant).where(col(Participant.member_id).is_not(None)))
        ).all()
    assert len(present) == 1
    stranger = Browser(open_session.server)
    open_session.devices.append(stranger)
    await stranger.get(f"/s/{open_session.code}")
    refused = await stranger.post(
        f"/s/{open_session.code}/join-member", {"voting_code": "ZZZZZZZZ"}, htmx=False
    )
    assert refused.status_code == 404
    assert "not on the roster" in refused.text
    # Said on the join page, beside the field, the member form open: no page of its own.
    assert 'aria-describedby="voting-code-error"' in refused.text
    assert '<details class="member-join" open>' in refused.text
    assert 'id="display_name"' in refused.text  # the join page, as it was
    assert 'value="ZZZZZZZZ"' in refused.text  # the code as typed, to mend
    link = await stranger.get(f"/m/{code}")
    assert link.status_code == 200
    assert f"/s/{open_session.code}/join-member" in link.text  # the open session to join


async def test_binding_poll_members_only_with_quorum(open_session: OpenSession) -> None:
    await import_csv(open_session, ROSTER)
    member_codes = await codes(open_session)
    alice = await member_phone(open_session, member_codes["001"])
    guest = await open_session.phone("Invitée")
    poll_id = await create(
        open_session,
        question="Approuver les comptes ?",
        method="yes_no",
        binding="1",
        quorum_percent="50",
    )
    # One member of three present: below a quorum of half.
    refused = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/polls/{poll_id}/open", htmx=False
    )
    assert refused.status_code == 409
    assert "Quorum not reached: 1 members present out of 3, 2 needed." in refused.text
    # From the console's page (htmx), said beside the button, the page staying as it was.
    path = f"/sessions/{open_session.session_id}/polls/{poll_id}/open"
    fac = open_session.facilitator
    beside = await fac.http.post(
        path,
        data={"csrf_token": fac.csrf},
        headers={"HX-Request": "true", "X-Error-Target": f"poll-error-{poll_id}"},
    )
    assert beside.status_code == 409
    assert beside.headers["HX-Retarget"] == f"#poll-error-{poll_id}"
    assert "Quorum not reached" in beside.text
    for odd in ("#flash", "a b", "x" * 90, "1abc", "</p>"):
        elsewhere = await fac.http.post(
            path,
            data={"csrf_token": fac.csrf},
            headers={"HX-Request": "true", "X-Error-Target": odd},
        )
        assert elsewhere.headers["HX-Retarget"] == "#flash", odd
    console = (await fac.get(f"/sessions/{open_session.session_id}/console")).text
    assert f'data-error-target="poll-error-{poll_id}"' in console
    assert f'<div id="poll-error-{poll_id}" class="field-error"' in console
    async with open_session.server.db.session() as db:
        assert (await db.exec(select(PollElector))).all() == []  # nothing frozen
        poll = await db.get(Poll, poll_id)
        assert poll is not None
        assert poll.opened_at is None

    bernard = await member_phone(open_session, member_codes["002"])
    # Opened from the console's page: the console is loaded again, as a page.
    opened = await fac.post(path)
    assert opened.status_code == 200
    assert opened.headers["HX-Redirect"] == f"/sessions/{open_session.session_id}/console#polls"
    await vote(alice, open_session, poll_id, {"choice": "for"})
    await vote(bernard, open_session, poll_id, {"choice": "for"})
    not_member = await guest.post(
        f"/s/{open_session.code}/polls/{poll_id}/ballot", {"choice": "against"}
    )
    assert not_member.status_code == 403
    assert "Only members on the roster" in not_member.text
    # The guest's phone shows no ballot it could not cast: it says the vote is the
    # members', with the form to join as one; a member's phone shows the ballot.
    for page in (
        (await guest.get(f"/s/{open_session.code}")).text,
        (await guest.get(f"/s/{open_session.code}/polls/{poll_id}/ballots")).text,
    ):
        assert "This vote is for the members of the cooperative." in page
        assert f'id="ballot-{poll_id}"' not in page
        assert 'name="voting_code"' in page
    member_page = (await alice.get(f"/s/{open_session.code}/polls/{poll_id}/ballots")).text
    assert "This vote is for the members" not in member_page
    assert f'id="ballot-{poll_id}"' in member_page
    # A member added after opening is not in this poll's electorate.
    await import_csv(open_session, "nom;numéro\nDenis Blanc;004\n")
    denis = await member_phone(open_session, (await codes(open_session))["004"])
    late = await denis.post(f"/s/{open_session.code}/polls/{poll_id}/ballot", {"choice": "for"})
    assert late.status_code == 403

    await act(open_session, poll_id, "close")
    async with open_session.server.db.session() as db:
        decision = (await db.exec(select(Decision).where(Decision.poll_id == poll_id))).one()
        register = (await db.exec(select(VoterRegister))).all()
        ballots = (await db.exec(select(sa.func.count()).select_from(Ballot))).one()
    assert decision.quorum_met is True
    assert decision.electorate_size == 3
    assert decision.turnout == 2
    assert decision.outcome == "adopted"
    assert {r.member_id for r in register} == {
        await member_id(open_session, "001"),
        await member_id(open_session, "002"),
    }
    assert ballots == 2


async def test_voting_sheet_has_a_qr_card_per_member(open_session: OpenSession) -> None:
    await import_csv(open_session, ROSTER)
    sheet = await open_session.facilitator.get("/roster/sheet")
    assert sheet.status_code == 200
    assert sheet.text.count('class="code-card"') == 3
    assert sheet.text.count("<svg") >= 3
    for code in (await codes(open_session)).values():
        assert f"/m/{code}" in sheet.text
    stranger = Browser(open_session.server)
    open_session.devices.append(stranger)
    assert (await stranger.get("/roster/sheet")).status_code == 303


async def record_proxy(open_session: OpenSession, principal: str, holder: str) -> int:
    response = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/proxies",
        {"principal": principal, "holder": holder},
        htmx=False,
    )
    return response.status_code


async def set_cap(open_session: OpenSession, cap: int) -> None:
    response = await open_session.facilitator.post(
        "/roster/settings", {"proxy_cap": str(cap)}, htmx=False
    )
    assert response.status_code == 303


async def test_proxies_count_for_the_quorum_and_let_the_holder_vote_twice(
    open_session: OpenSession,
) -> None:
    await import_csv(open_session, ROSTER + "Denis Blanc;004;;Usagers\n")
    member_codes = await codes(open_session)
    await set_cap(open_session, 2)
    alice = await member_phone(open_session, member_codes["001"])
    bernard = await member_phone(open_session, member_codes["002"])
    assert await record_proxy(open_session, "003", "001") == 303
    # Denis declares his own proxy with his voting code.
    stranger = Browser(open_session.server)
    open_session.devices.append(stranger)
    await stranger.get(f"/m/{member_codes['004']}")
    declared = await stranger.post(
        f"/s/{open_session.code}/proxies",
        {"voting_code": member_codes["004"], "holder": "001"},
        htmx=False,
    )
    assert declared.status_code == 200
    assert "Alice Martin will vote for you" in declared.text
    # The cap (2) is reached; a present member cannot give a proxy; no chains.
    assert await record_proxy(open_session, "002", "001") == 409
    assert await record_proxy(open_session, "001", "002") == 409
    console = await open_session.facilitator.get(f"/sessions/{open_session.session_id}/console")
    assert console.text.count("by the member") == 1

    # 2 present + 2 represented of 4 members: a quorum of 100 % is met.
    poll_id = await create(
        open_session, question="Budget ?", method="yes_no", binding="1", quorum_percent="100"
    )
    await act(open_session, poll_id, "open")
    ballots = await alice.get(f"/s/{open_session.code}/polls/{poll_id}/ballots")
    assert "Proxy: you vote for Chantal Roux." in ballots.text
    assert "Proxy: you vote for Denis Blanc." in ballots.text
    chantal, denis = await member_id(open_session, "003"), await member_id(open_session, "004")
    await vote(alice, open_session, poll_id, {"choice": "for"})
    await vote(alice, open_session, poll_id, {"choice": "against", "as_member": str(chantal)})
    await vote(alice, open_session, poll_id, {"choice": "for", "as_member": str(denis)})
    twice = await alice.post(
        f"/s/{open_session.code}/polls/{poll_id}/ballot",
        {"choice": "for", "as_member": str(chantal)},
    )
    assert twice.status_code == 409
    not_held = await bernard.post(
        f"/s/{open_session.code}/polls/{poll_id}/ballot",
        {"choice": "for", "as_member": str(chantal)},
    )
    assert not_held.status_code == 403
    await vote(bernard, open_session, poll_id, {"choice": "for"})
    await act(open_session, poll_id, "close")
    async with open_session.server.db.session() as db:
        decision = (await db.exec(select(Decision).where(Decision.poll_id == poll_id))).one()
        register = (await db.exec(select(VoterRegister))).all()
    assert (decision.votes_for, decision.votes_against) == (3, 1)
    assert decision.quorum_met is True
    assert len(register) == 4
    assert {r.member_id for r in register} == {
        await member_id(open_session, n) for n in ("001", "002", "003", "004")
    }


async def test_revoked_proxies_stay_in_the_log(open_session: OpenSession) -> None:
    await import_csv(open_session, ROSTER)
    assert await record_proxy(open_session, "003", "001") == 303
    async with open_session.server.db.session() as db:
        proxy = (await db.exec(select(Proxy))).one()
    revoked = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/proxies/{proxy.id}/revoke", htmx=False
    )
    assert revoked.status_code == 303
    console = await open_session.facilitator.get(f"/sessions/{open_session.session_id}/console")
    assert "Revoked on" in console.text
    assert await record_proxy(open_session, "003", "002") == 303  # given again, to someone else


async def test_a_scic_vote_is_counted_per_college_then_weighted(open_session: OpenSession) -> None:
    """The worked case of tests/tally/test_colleges.py at small scale: the users' college
    (30 %) votes against, the employees' (70 %) for; head count and weighted result differ."""
    await import_csv(
        open_session,
        "nom;numéro;collège\nA1;1;Salariés\nU1;2;Usagers\nU2;3;Usagers\nU3;4;Usagers\n",
    )
    refused = await open_session.facilitator.post(
        "/roster/colleges", {"weight-999": "100"}, htmx=False
    )
    assert refused.status_code == 404
    async with open_session.server.db.session() as db:
        ids = {c.name: c.id for c in (await db.exec(select(College))).all()}
    weights = {f"weight-{ids['Salariés']}": "70", f"weight-{ids['Usagers']}": "30"}
    assert (
        await open_session.facilitator.post("/roster/colleges", weights, htmx=False)
    ).status_code == 303
    member_codes = await codes(open_session)
    phones = {n: await member_phone(open_session, member_codes[n]) for n in ("1", "2", "3", "4")}
    # The employees' college has one member: the secret poll opens once confirmed.
    poll_id = await create(
        open_session, question="Nouveau local ?", method="yes_no", binding="1", small_colleges="1"
    )
    await act(open_session, poll_id, "open")
    await vote(phones["1"], open_session, poll_id, {"choice": "for"})
    for n in ("2", "3", "4"):
        await vote(phones[n], open_session, poll_id, {"choice": "against"})
    await act(open_session, poll_id, "close")
    async with open_session.server.db.session() as db:
        decision = (await db.exec(select(Decision).where(Decision.poll_id == poll_id))).one()
        poll = await db.get(Poll, poll_id)
        assert poll is not None
    # One for, three against by head count; 70 % for once weighted: adopted.
    assert (decision.votes_for, decision.votes_against) == (1, 3)
    assert decision.outcome == "adopted"
    page = await phones["2"].get(f"/s/{open_session.code}/polls/{poll_id}")
    assert "Weighted by college: 70.0% for" in page.text
    # One employee: the per-college count would show how they voted.
    assert "Count per college" not in page.text
    export = await open_session.facilitator.get(
        f"/s/{open_session.code}/polls/{poll_id}/ballots.json"
    )
    ballots = export.json()["ballots"]
    assert {b["college"] for b in ballots} == {str(ids["Salariés"]), str(ids["Usagers"])}
    assert all(set(b) == {"college", "vote"} for b in ballots)  # which college, never who


def test_quorum_edges() -> None:
    """A quorum of a share of members is reached at exactly that share, not one below."""
    assert Quorum(electorate=10, present=5, percent=50).met
    assert not Quorum(electorate=10, present=4, percent=50).met
    assert Quorum(electorate=7, present=3, percent=40).needed == 3  # 2.8 members: 3 needed
    assert not Quorum(electorate=7, present=2, percent=40).met
    assert Quorum(electorate=3, present=0, percent=0).met


async def test_add_and_edit_one_member_in_the_console(open_session: OpenSession) -> None:
    page = await open_session.facilitator.post(
        "/roster/member",
        {"name": "Élodie Garnier", "number": "42", "email": "", "college": "Bénévoles"},
        htmx=False,
    )
    assert page.status_code == 200
    assert "1 added" in page.text
    code = (await codes(open_session))["42"]
    edited = await open_session.facilitator.post(
        "/roster/member",
        {"name": "Élodie Garnier-Roy", "number": "42", "email": "e@example.org", "college": ""},
        htmx=False,
    )
    assert "1 updated" in edited.text
    assert (await codes(open_session))["42"] == code  # the code survives the edit
    bad = await open_session.facilitator.post(
        "/roster/member", {"name": "", "number": "43", "email": "", "college": ""}, htmx=False
    )
    assert bad.status_code == 422
    assert "A name and a member number are needed." in bad.text


async def test_a_ranked_vote_weighs_each_ballot_by_its_college(open_session: OpenSession) -> None:
    """Employees (70 %, one ballot) rank X first; the three users (30 %) rank Y first. By
    head count Y wins 3 to 1; each ballot weighing its college's share, X wins 70 to 30."""
    await import_csv(
        open_session,
        "nom;numéro;collège\nS1;1;Salariés\nU1;2;Usagers\nU2;3;Usagers\nU3;4;Usagers\n",
    )
    async with open_session.server.db.session() as db:
        ids = {c.name: c.id for c in (await db.exec(select(College))).all()}
    weights = {f"weight-{ids['Salariés']}": "70", f"weight-{ids['Usagers']}": "30"}
    await open_session.facilitator.post("/roster/colleges", weights, htmx=False)
    member_codes = await codes(open_session)
    phones = {n: await member_phone(open_session, member_codes[n]) for n in ("1", "2", "3", "4")}
    for method in ("irv", "schulze", "judgment"):
        poll_id = await create(
            open_session,
            question=f"Lieu ({method}) ?",
            method=method,
            options="X\nY",
            binding="1",
            small_colleges="1",
        )
        await act(open_session, poll_id, "open")
        async with open_session.server.db.session() as db:
            x, y = [str(o.id) for o in await polls.poll_options(db, poll_id)]
        if method == "judgment":
            first = {f"grade-{x}": "tres_bien", f"grade-{y}": "passable"}
            others = {f"grade-{x}": "passable", f"grade-{y}": "tres_bien"}
        else:
            first, others = (
                {f"rank-{x}": "1", f"rank-{y}": "2"},
                {f"rank-{y}": "1", f"rank-{x}": "2"},
            )
        await vote(phones["1"], open_session, poll_id, first)
        for n in ("2", "3", "4"):
            await vote(phones[n], open_session, poll_id, others)
        await act(open_session, poll_id, "close")
        async with open_session.server.db.session() as db:
            decision = (await db.exec(select(Decision).where(Decision.poll_id == poll_id))).one()
        assert decision.summary == "X", method
        page = await phones["2"].get(f"/s/{open_session.code}/polls/{poll_id}")
        assert page.status_code == 200


async def test_closing_a_binding_poll_with_a_college_weighted_0_percent_decides(
    open_session: OpenSession,
) -> None:
    """The founders' college weighs 0 %: its ballots are counted and weigh nothing. Closing
    the poll records a decision for every method that weighs ballots (it used to answer 500
    and leave the poll open), and the founders' X does not beat the employees' Y."""
    await import_csv(
        open_session,
        "nom;numéro;collège\nS1;1;Salariés\nS2;2;Salariés\nS3;3;Salariés\n"
        "F1;4;Fondateurs\nF2;5;Fondateurs\nF3;6;Fondateurs\n",
    )
    async with open_session.server.db.session() as db:
        ids = {c.name: c.id for c in (await db.exec(select(College))).all()}
    weights = {f"weight-{ids['Salariés']}": "100", f"weight-{ids['Fondateurs']}": "0"}
    assert (
        await open_session.facilitator.post("/roster/colleges", weights, htmx=False)
    ).status_code == 303
    member_codes = await codes(open_session)
    phones = {n: await member_phone(open_session, member_codes[n]) for n in ("1", "4", "5")}
    for method in ("irv", "stv", "schulze", "judgment"):
        poll_id = await create(
            open_session, question=f"Lieu ({method}) ?", method=method, options="X\nY", binding="1"
        )
        await act(open_session, poll_id, "open")
        async with open_session.server.db.session() as db:
            x, y = [str(o.id) for o in await polls.poll_options(db, poll_id)]
        if method == "judgment":
            for_x = {f"grade-{x}": "excellent", f"grade-{y}": "a_rejeter"}
            for_y = {f"grade-{y}": "excellent", f"grade-{x}": "a_rejeter"}
        else:
            for_x, for_y = {f"rank-{x}": "1", f"rank-{y}": "2"}, {f"rank-{y}": "1"}
        await vote(phones["1"], open_session, poll_id, for_y)
        for n in ("4", "5"):
            await vote(phones[n], open_session, poll_id, for_x)
        await act(open_session, poll_id, "close")
        async with open_session.server.db.session() as db:
            decision = (await db.exec(select(Decision).where(Decision.poll_id == poll_id))).one()
            poll = await db.get(Poll, poll_id)
            assert poll is not None
        assert poll.closed_at is not None, method
        assert decision.summary == "Y", method
        page = await phones["4"].get(f"/s/{open_session.code}/polls/{poll_id}")
        assert page.status_code == 200, method
        export = await open_session.facilitator.get(
            f"/s/{open_session.code}/polls/{poll_id}/ballots.json"
        )
        assert polls.recount(export.content).winners == (y,), method
    # When only the founders vote, no ballot weighs anything: the poll closes, nobody wins.
    for method in ("irv", "judgment", "approval"):
        poll_id = await create(
            open_session, question=f"Seuls ({method}) ?", method=method, options="X\nY", binding="1"
        )
        await act(open_session, poll_id, "open")
        async with open_session.server.db.session() as db:
            x = str((await polls.poll_options(db, poll_id))[0].id)
        ballot = {
            "judgment": {f"grade-{x}": "excellent"},
            "irv": {f"rank-{x}": "1"},
            "approval": {"approve": x},
        }[method]
        await vote(phones["4"], open_session, poll_id, ballot)
        await act(open_session, poll_id, "close")
        page = await phones["4"].get(f"/s/{open_session.code}/polls/{poll_id}")
        assert page.status_code == 200, method
        assert "only colleges weighted 0% expressed a choice, so no option wins" in page.text


async def test_an_approval_vote_weighed_by_college(open_session: OpenSession) -> None:
    """Employees (70 %) approve X only; the three users (30 %) approve Y. By head count Y
    wins 3 to 1; weighted, X has 70 % and Y 30 %."""
    await import_csv(
        open_session,
        "nom;numéro;collège\nS1;1;Salariés\nU1;2;Usagers\nU2;3;Usagers\nU3;4;Usagers\n",
    )
    async with open_session.server.db.session() as db:
        ids = {c.name: c.id for c in (await db.exec(select(College))).all()}
    weights = {f"weight-{ids['Salariés']}": "70", f"weight-{ids['Usagers']}": "30"}
    await open_session.facilitator.post("/roster/colleges", weights, htmx=False)
    member_codes = await codes(open_session)
    phones = {n: await member_phone(open_session, member_codes[n]) for n in ("1", "2", "3", "4")}
    poll_id = await create(
        open_session,
        question="Quel lieu ?",
        method="approval",
        options="X\nY",
        binding="1",
        small_colleges="1",
    )
    await act(open_session, poll_id, "open")
    async with open_session.server.db.session() as db:
        x, y = [str(o.id) for o in await polls.poll_options(db, poll_id)]
    await vote(phones["1"], open_session, poll_id, {"approve": [x]})
    for n in ("2", "3", "4"):
        await vote(phones[n], open_session, poll_id, {"approve": [y]})
    await act(open_session, poll_id, "close")
    async with open_session.server.db.session() as db:
        decision = (await db.exec(select(Decision).where(Decision.poll_id == poll_id))).one()
    assert decision.summary == "X"
    page = await phones["2"].get(f"/s/{open_session.code}/polls/{poll_id}")
    assert "70.0%" in page.text
    assert "Count per college" not in page.text  # one employee: their approval would show


async def test_one_member_one_vote_under_concurrent_binding_submissions(
    open_session: OpenSession,
) -> None:
    """Ten submissions at once from one member's phone, and the proxy holder racing for the
    same principal from another request: one ballot per member, no more."""
    await import_csv(open_session, ROSTER)
    member_codes = await codes(open_session)
    alice = await member_phone(open_session, member_codes["001"])
    await record_proxy(open_session, "003", "001")
    poll_id = await create(open_session, question="Course ?", method="yes_no", binding="1")
    await act(open_session, poll_id, "open")
    chantal = await member_id(open_session, "003")

    async def post(data: dict[str, str]) -> int:
        response = await alice.post(f"/s/{open_session.code}/polls/{poll_id}/ballot", data)
        return response.status_code

    own = await asyncio.gather(*(post({"choice": "for"}) for _ in range(10)))
    proxy = await asyncio.gather(
        *(post({"choice": "against", "as_member": str(chantal)}) for _ in range(10))
    )
    assert sorted(own) == [200] + [409] * 9
    assert sorted(proxy) == [200] + [409] * 9
    async with open_session.server.db.session() as db:
        assert len((await db.exec(select(SealedBallot))).all()) == 2  # secret: sealed till closing
        register = (await db.exec(select(VoterRegister))).all()
    assert sorted(r.member_id or 0 for r in register) == sorted(
        [await member_id(open_session, "001"), chantal]
    )


@pytest.mark.wire
async def test_a_principal_arriving_in_person_takes_the_proxy_back_and_the_holder_is_told_live(
    open_session: OpenSession,
) -> None:
    """A holder could vote for a principal who had come in person, who was then refused.
    Arriving takes the proxy back; the holder's phone says so at once; a ballot the
    holder had already cast for the principal stays counted (the register shows it)."""
    await import_csv(open_session, ROSTER + "Denis Blanc;004;;Usagers\n")
    member_codes = await codes(open_session)
    await set_cap(open_session, 2)
    alice = await member_phone(open_session, member_codes["001"])
    assert await record_proxy(open_session, "003", "001") == 303
    assert await record_proxy(open_session, "004", "001") == 303
    poll_id = await create(open_session, question="Budget ?", method="yes_no", binding="1")
    await act(open_session, poll_id, "open")
    chantal, denis = await member_id(open_session, "003"), await member_id(open_session, "004")
    await vote(alice, open_session, poll_id, {"choice": "for", "as_member": str(denis)})
    live = await alice.socket(open_session.code, "phone", last_seq=await open_session.seq())

    chantal_phone = await member_phone(open_session, member_codes["003"])
    # Alice's phone loads her ballots again: Chantal's is gone, and the page says why.
    reload = await live.until_text(f'id="ballots-{poll_id}"')
    assert f'hx-get="/s/{open_session.code}/polls/{poll_id}/ballots"' in reload
    assert "Chantal" not in reload  # the frame goes to every phone: it names nobody
    ballots = (await alice.get(f"/s/{open_session.code}/polls/{poll_id}/ballots")).text
    assert "Proxy: you vote for Chantal Roux." not in ballots
    assert "Chantal Roux has come in person and votes themselves" in ballots
    refused = await alice.post(
        f"/s/{open_session.code}/polls/{poll_id}/ballot",
        {"choice": "against", "as_member": str(chantal)},
    )
    assert refused.status_code == 403
    assert "You do not hold this member's proxy." in html.unescape(refused.text)
    await vote(chantal_phone, open_session, poll_id, {"choice": "against"})  # she votes herself

    # Denis arrives after Alice voted for him: that ballot stays, and he is told so.
    denis_phone = await member_phone(open_session, member_codes["004"])
    again = await denis_phone.post(
        f"/s/{open_session.code}/polls/{poll_id}/ballot", {"choice": "for"}
    )
    assert again.status_code == 409
    assert "You have already voted in this poll." in again.text
    ballots = (await alice.get(f"/s/{open_session.code}/polls/{poll_id}/ballots")).text
    assert "Your ballot for Denis Blanc is in the box and counts" in ballots
    async with open_session.server.db.session() as db:
        taken_back = (await db.exec(select(Proxy))).all()
        register = (await db.exec(select(VoterRegister))).all()
        alice_id = (
            await db.exec(select(Participant.id).where(Participant.display_name == "Alice Martin"))
        ).one()
    assert {(p.principal_id, p.revoked_by) for p in taken_back} == {
        (chantal, "arrival"),
        (denis, "arrival"),
    }
    assert all(p.revoked_at is not None for p in taken_back)
    assert {(r.member_id, r.participant_id) for r in register} == {
        (denis, alice_id),  # cast by the holder before Denis came
        (chantal, (await participant_of_member(open_session, chantal))),
    }
    console = await open_session.facilitator.get(f"/sessions/{open_session.session_id}/console")
    assert console.text.count("the member came in person") == 2


async def participant_of_member(open_session: OpenSession, member: int) -> int:
    async with open_session.server.db.session() as db:
        found = (await db.exec(select(Participant.id).where(Participant.member_id == member))).one()
    assert found is not None
    return found


async def test_no_chain_of_proxies_from_the_members_form_or_the_facilitators(
    open_session: OpenSession,
) -> None:
    await import_csv(open_session, ROSTER + "Denis Blanc;004;;Usagers\n")
    member_codes = await codes(open_session)
    assert await record_proxy(open_session, "003", "001") == 303  # Chantal's vote, held by Alice

    # Alice, who holds Chantal's proxy, cannot give her own: not on the console…
    chained = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/proxies", {"principal": "001", "holder": "002"}
    )
    assert chained.status_code == 409
    assert "Alice Martin holds another member's proxy, so cannot give their own" in html.unescape(
        chained.text
    )
    # …nor with her own code.
    alice = Browser(open_session.server)
    open_session.devices.append(alice)
    await alice.get(f"/m/{member_codes['001']}")
    declared = await alice.post(
        f"/s/{open_session.code}/proxies", {"voting_code": member_codes["001"], "holder": "002"}
    )
    assert declared.status_code == 409
    assert "You hold another member's proxy: you cannot give yours (no chains)." in html.unescape(
        declared.text
    )
    # Nor can Chantal, who gave hers, hold Denis's, from either form.
    assert await record_proxy(open_session, "004", "003") == 409
    denis = Browser(open_session.server)
    open_session.devices.append(denis)
    await denis.get(f"/m/{member_codes['004']}")
    to_chantal = await denis.post(
        f"/s/{open_session.code}/proxies", {"voting_code": member_codes["004"], "holder": "003"}
    )
    assert to_chantal.status_code == 409
    assert "A member who gave their own proxy cannot hold one." in to_chantal.text
    async with open_session.server.db.session() as db:
        assert len((await db.exec(select(Proxy))).all()) == 1


async def test_a_phone_in_the_room_by_name_becomes_the_member_whose_code_it_types(
    open_session: OpenSession,
) -> None:
    """One person, one voice: a phone that joined by name and then types a voting code
    is that member from then on, not a second participant with a second ballot."""
    await import_csv(open_session, ROSTER)
    member_codes = await codes(open_session)
    poll_id = await create(open_session, question="Un goûter ?", method="yes_no")  # consultative
    await act(open_session, poll_id, "open")
    phone = await open_session.phone("Bernie")
    await vote(phone, open_session, poll_id, {"choice": "for"})
    joined = await phone.post(
        f"/s/{open_session.code}/join-member", {"voting_code": member_codes["002"]}, htmx=False
    )
    assert joined.status_code == 303
    assert (
        "You take part as Bernard Petit. (member)"
        in (await phone.get(f"/s/{open_session.code}")).text
    )
    again = await phone.post(
        f"/s/{open_session.code}/polls/{poll_id}/ballot", {"choice": "against"}
    )
    assert again.status_code == 409
    async with open_session.server.db.session() as db:
        people = (await db.exec(select(Participant))).all()
    assert [(p.display_name, p.member_id) for p in people] == [
        ("Bernard Petit", await member_id(open_session, "002"))
    ]
    renamed = await phone.post(f"/s/{open_session.code}/join", {"display_name": "Bernie"})
    assert renamed.status_code == 409
    assert "A member takes part under their name on the roster." in renamed.text
    # A phone the facilitator removed cannot come back as a member either.
    other = await open_session.phone("Zoé")
    async with open_session.server.db.session() as db:
        zoe = (await db.exec(select(Participant).where(Participant.display_name == "Zoé"))).one()
    await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/participants/{zoe.id}/remove"
    )
    refused = await other.post(
        f"/s/{open_session.code}/join-member", {"voting_code": member_codes["001"]}, htmx=False
    )
    assert refused.status_code == 403
    assert "The facilitator has removed you from this session." in refused.text


@pytest.mark.wire
async def test_a_small_college_makes_a_secret_weighed_poll_ask_for_confirmation_and_hide_its_votes(
    open_session: OpenSession,
) -> None:
    """The founders' college has one member: in a secret poll weighed by college the count
    per college and the ballot file would show how she voted. The poll form lists the
    small college; the poll opens only once confirmed; then no screen, minutes or export
    shows per-college figures, and the ballot file goes to the facilitator alone, who can
    still recount it. A named poll, which publishes who voted what, needs none of this."""
    await import_csv(
        open_session,
        "nom;numéro;collège\nF1;1;Fondateurs\nS1;2;Salariés\nS2;3;Salariés\nS3;4;Salariés\n",
    )
    async with open_session.server.db.session() as db:
        ids = {c.name: c.id for c in (await db.exec(select(College))).all()}
    weights = {f"weight-{ids['Fondateurs']}": "40", f"weight-{ids['Salariés']}": "60"}
    assert (
        await open_session.facilitator.post("/roster/colleges", weights, htmx=False)
    ).status_code == 303
    console = await open_session.facilitator.get(f"/sessions/{open_session.session_id}/console")
    assert "Small colleges" in console.text
    assert "Fondateurs: 1 member" in console.text
    assert "Salariés: 3 members" not in console.text
    assert 'name="small_colleges"' in console.text

    member_codes = await codes(open_session)
    phones = {n: await member_phone(open_session, member_codes[n]) for n in ("1", "2", "3", "4")}
    screen = await open_session.projector()
    live = await screen.socket(open_session.code, "screen", last_seq=await open_session.seq())

    unconfirmed = await create(
        open_session, question="Sans confirmation ?", method="yes_no", binding="1"
    )
    refused = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/polls/{unconfirmed}/open", htmx=False
    )
    assert refused.status_code == 409
    assert "these colleges have fewer than 3 members: Fondateurs (1)" in refused.text
    async with open_session.server.db.session() as db:
        poll = await db.get(Poll, unconfirmed)
        assert poll is not None
        assert poll.opened_at is None
        assert (await db.exec(select(PollElector))).all() == []  # nothing frozen

    poll_id = await create(
        open_session, question="Fusionner ?", method="yes_no", binding="1", small_colleges="1"
    )
    await act(open_session, poll_id, "open")
    await vote(phones["1"], open_session, poll_id, {"choice": "against"})
    for n in ("2", "3", "4"):
        await vote(phones[n], open_session, poll_id, {"choice": "for"})
    await act(open_session, poll_id, "close")
    await live.until(lambda f: f'id="poll-{poll_id}"' in f and "poll-result" in f)
    async with open_session.server.db.session() as db:
        poll = await db.get(Poll, poll_id)
        assert poll is not None
    result = json.loads(poll.result or "")
    assert result["adopted"] is True  # 60 % for
    assert result["details"]["weighted_for_percent"] == 60.0
    assert result["details"]["small_colleges"] is True
    assert "colleges" not in result["details"]  # stored, sealed in the register, exported

    page = await phones["2"].get(f"/s/{open_session.code}/polls/{poll_id}")
    assert "Weighted by college: 60.0% for" in page.text
    assert "No per-college figures: a college cast fewer than 3 ballots" in page.text
    assert "Count per college" not in page.text
    assert "kept for its facilitator" in page.text
    assert f"/polls/{poll_id}/ballots.json" not in page.text
    assert not any("Count per college" in frame for frame in live.frames)
    minutes = await open_session.facilitator.get(f"/sessions/{open_session.session_id}/minutes")
    assert "as the facilitator confirmed" in minutes.text
    assert "Count per college" not in minutes.text
    decisions = await open_session.facilitator.get(
        f"/projects/{open_session.project_id}/export/decisions.json"
    )
    assert decisions.status_code == 200
    assert '"share"' not in decisions.text  # the key of a per-college row

    # The ballot file: kept for the facilitator, a plain refusal for everyone else.
    path = f"/s/{open_session.code}/polls/{poll_id}/ballots.json"
    stranger = Browser(open_session.server)
    open_session.devices.append(stranger)
    other = await signed_in(open_session.server, "autre@example.org")
    open_session.devices.append(other)
    for who in (phones["1"], phones["2"], screen, stranger, other):
        kept = await who.get(path)
        assert kept.status_code == 403
        assert "The ballots of this poll are kept for its facilitator" in kept.text
    export = await open_session.facilitator.get(path)
    assert export.status_code == 200
    assert hashlib.sha256(export.content).hexdigest() == poll.ballots_sha256
    assert polls.recount(export.content).as_json() == result  # the recount stays possible

    # A named poll publishes who voted what: no confirmation, per-college figures shown.
    named = await create(
        open_session, question="À main levée ?", method="yes_no", binding="1", secret=""
    )
    await act(open_session, named, "open")
    await vote(phones["1"], open_session, named, {"choice": "for"})
    await act(open_session, named, "close")
    shown = await phones["2"].get(f"/s/{open_session.code}/polls/{named}")
    assert "Count per college" in shown.text
    assert (
        await phones["2"].get(f"/s/{open_session.code}/polls/{named}/ballots.json")
    ).status_code == 200
    await live.close()


async def test_the_names_of_small_colleges_are_shown_as_text(open_session: OpenSession) -> None:
    markup = '<img src=x onerror="alert(1)">'
    await import_csv(
        open_session, f"nom;numéro;collège\nA;1;{markup}\nB;2;Autres\nC;3;Autres\nD;4;Autres\n"
    )
    async with open_session.server.db.session() as db:
        ids = {c.name: c.id for c in (await db.exec(select(College))).all()}
    weights = {f"weight-{ids[markup]}": "50", f"weight-{ids['Autres']}": "50"}
    assert (
        await open_session.facilitator.post("/roster/colleges", weights, htmx=False)
    ).status_code == 303
    console = await open_session.facilitator.get(f"/sessions/{open_session.session_id}/console")
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;: 1 member" in console.text
    assert markup not in console.text
    poll_id = await create(open_session, question="Ouvrir ?", method="yes_no", binding="1")
    refused = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/polls/{poll_id}/open", htmx=False
    )
    assert refused.status_code == 409
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; (1)" in refused.text
    assert markup not in refused.text
