"""Open data downloads of a project: five datasets in CSV and JSON, for its facilitator
only; cells neutralised against formulas, ballots anonymised, nothing hidden published."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re

import pytest
from sqlmodel import select

from cocreate import opendata, polls
from cocreate.models import Ballot, BallotReceipt, Participant
from tests.conftest import Browser, OpenSession, signed_in
from tests.test_api import HOSTILE_CALL, HOSTILE_IDEA, Furnished, furnish

BOM = "\ufeff"


def export_path(open_session: OpenSession, dataset: str, fmt: str) -> str:
    return f"/projects/{open_session.project_id}/export/{dataset}.{fmt}"


async def download(browser: Browser, open_session: OpenSession, dataset: str, fmt: str) -> bytes:
    response = await browser.http.get(export_path(open_session, dataset, fmt))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="project-{open_session.project_id}-{dataset}.{fmt}"'
    )
    expected = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    assert response.headers["content-type"] == expected
    return response.content


def rows_of(body: bytes) -> list[dict[str, str]]:
    text = body.decode("utf-8")
    assert text.startswith(BOM)  # spreadsheets in French read the accents right
    return list(csv.DictReader(io.StringIO(text.removeprefix(BOM))))


@pytest.fixture
async def furnished(open_session: OpenSession) -> Furnished:
    return await furnish(open_session)


async def test_every_dataset_downloads_as_csv_and_json(
    open_session: OpenSession, furnished: Furnished
) -> None:
    for name, shape in opendata.DATASETS.items():
        document = json.loads(await download(open_session.facilitator, open_session, name, "json"))
        assert document["project_id"] == open_session.project_id
        rows = rows_of(await download(open_session.facilitator, open_session, name, "csv"))
        assert rows, name
        assert list(rows[0]) == list(shape.columns)

    decisions = rows_of(await download(open_session.facilitator, open_session, "decisions", "csv"))
    assert [r["position"] for r in decisions] == ["1", "2", "3", "4"]
    hands = decisions[2]
    assert (hands["text"], hands["votes_for"], hands["votes_against"]) == (
        "Ouvrir la salle des fêtes le soir",
        "1",
        "1",
    )
    assert hands["needs"] == "Les enfants n'ont pas de lieu le soir"
    assert decisions[3]["follow_up_status"] == "done"
    assert decisions[3]["follow_up_owner"] == "Commission locaux"
    register = json.loads(
        await download(open_session.facilitator, open_session, "decisions", "json")
    )
    assert [d["seal"]["entry_hash"] for d in register["decisions"]] == [
        r["entry_hash"] for r in decisions
    ]

    follow = rows_of(await download(open_session.facilitator, open_session, "follow-up", "csv"))
    assert [(r["status"], r["progress"], r["note"]) for r in follow] == [
        ("in_progress", "40", "Devis demandé"),
        ("done", "100", ""),
    ]
    assert {r["decision_id"] for r in follow} == {str(furnished.call.id)}

    indicators = rows_of(
        await download(open_session.facilitator, open_session, "indicators", "csv")
    )
    assert [(r["measured_on"], r["value"]) for r in indicators] == [
        ("2026-01-01", "4"),
        ("2026-03-01", "12.5"),
    ]
    assert indicators[0]["target"] == "25.5"
    assert indicators[0]["decision_ids"] == str(furnished.show_of_hands.id)


async def test_what_participants_wrote_never_runs_as_a_formula(
    open_session: OpenSession, furnished: Furnished
) -> None:
    proposals = rows_of(await download(open_session.facilitator, open_session, "proposals", "csv"))
    [hostile] = [
        r for r in proposals if (r["type"], r["id"]) == ("idea", str(furnished.hostile_id))
    ]
    assert hostile["text"] == "'" + HOSTILE_IDEA
    decisions = rows_of(await download(open_session.facilitator, open_session, "decisions", "csv"))
    assert decisions[3]["text"] == "'" + HOSTILE_CALL
    for name in opendata.DATASETS:
        for row in rows_of(await download(open_session.facilitator, open_session, name, "csv")):
            for cell in row.values():
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)
    # JSON keeps the text as written: it is data, not a spreadsheet.
    document = json.loads(
        await download(open_session.facilitator, open_session, "proposals", "json")
    )
    assert HOSTILE_IDEA in [c["text"] for c in document["contributions"]]


async def test_contributions_published_name_no_author_and_leave_out_what_was_hidden(
    open_session: OpenSession, furnished: Furnished
) -> None:
    document = json.loads(
        await download(open_session.facilitator, open_session, "proposals", "json")
    )
    by_id = {(c["type"], c["id"]): c for c in document["contributions"]}
    need = by_id[("need", furnished.need_id)]
    idea = by_id[("idea", furnished.idea_id)]
    assert need["text"] == "Les enfants n'ont pas de lieu le soir"
    assert idea["answers_needs"] == [furnished.need_id]
    assert idea["votes"] == {"for": 1, "against": 1, "abstain": 0}
    assert idea["session_id"] == open_session.session_id
    [comment] = [c for c in document["contributions"] if c["type"] == "comment"]
    assert (comment["parent_id"], comment["text"]) == (furnished.idea_id, "Avec des bénévoles")
    assert furnished.hidden_id not in {c["id"] for c in document["contributions"]}
    body = await download(open_session.facilitator, open_session, "proposals", "csv")
    assert "Une idée à masquer" not in body.decode()
    for name in ("Awa", "Bruno"):
        assert name not in body.decode()
        assert name not in json.dumps(document, ensure_ascii=False)


async def test_ballots_are_the_anonymised_files_recounted_at_closing(
    open_session: OpenSession, furnished: Furnished
) -> None:
    body = await download(open_session.facilitator, open_session, "ballots", "json")
    document = json.loads(body)
    files = {p["poll_id"]: p for p in document["polls"]}
    assert set(files) == {furnished.secret_poll_id, furnished.named_poll_id}
    for poll_id, exported in files.items():
        # The very file counted at closing: its SHA-256 is the one frozen then.
        data = polls.export_bytes(exported["ballot_file"])
        assert hashlib.sha256(data).hexdigest() == exported["ballots_sha256"], poll_id
    assert sorted(files[furnished.secret_poll_id]["ballot_file"]["ballots"]) == [
        "against",
        "for",
    ]
    assert files[furnished.secret_poll_id]["ballot_file"]["poll"]["secret"] is True
    # Nothing that points to a voter: no participant id or name, no receipt, no ballot id.
    csv_body = (await download(open_session.facilitator, open_session, "ballots", "csv")).decode()
    async with open_session.server.db.session() as db:
        stored = (await db.exec(select(Ballot))).all()
        receipts = (await db.exec(select(BallotReceipt))).all()
        voters = (await db.exec(select(Participant))).all()
    assert len(stored) == len(receipts) == 3
    for trace in [b.id for b in stored] + [r.code for r in receipts]:
        assert trace not in body.decode()
        assert trace not in csv_body
    for voter in voters:
        assert voter.display_name not in body.decode()
        assert voter.display_name not in csv_body
    for exported in document["polls"]:
        assert set(exported["ballot_file"]) == {"format", "version", "poll", "ballots"}
        assert all(isinstance(b, str) for b in exported["ballot_file"]["ballots"])
    rows = rows_of(csv_body.encode())
    secret_rows = [r for r in rows if r["poll_id"] == str(furnished.secret_poll_id)]
    assert [(r["secret"], r["ballot_number"], r["ballot"]) for r in secret_rows] == [
        ("true", "1", '"against"'),
        ("true", "2", '"for"'),
    ]


async def test_only_the_projects_facilitator_downloads_it(open_session: OpenSession) -> None:
    other = await signed_in(open_session.server, "dominique@example.org")
    phone = await open_session.phone("Awa")
    anonymous = Browser(open_session.server)
    open_session.devices.extend([other, anonymous])
    for name in opendata.DATASETS:
        for fmt in opendata.FORMATS:
            path = export_path(open_session, name, fmt)
            assert (await open_session.facilitator.http.get(path)).status_code == 200
            for stranger in (other, phone, anonymous):
                refused = await stranger.http.get(path)
                assert refused.status_code == 403, (path, refused.status_code)
                assert "attachment" not in refused.headers.get("content-disposition", "")
    for wrong in ("votes.csv", "ballots.xlsx", "ballots.csv.json", "ballots"):
        path = f"/projects/{open_session.project_id}/export/{wrong}"
        assert (await open_session.facilitator.http.get(path)).status_code == 404, wrong
    missing = await open_session.facilitator.http.get("/projects/999999/export/ballots.csv")
    assert missing.status_code == 404


async def test_the_register_page_links_every_download_for_its_facilitator_only(
    open_session: OpenSession,
) -> None:
    register = (
        await open_session.facilitator.get(f"/projects/{open_session.project_id}/decisions")
    ).text
    links = re.findall(
        rf'href="(/projects/{open_session.project_id}/export/[a-z-]+\.(?:csv|json))"', register
    )
    assert sorted(links) == sorted(
        export_path(open_session, dataset, fmt)
        for dataset in opendata.DATASETS
        for fmt in opendata.FORMATS
    )
    for link in links:
        assert (await open_session.facilitator.http.get(link)).status_code == 200, link
    await open_session.facilitator.post(
        f"/projects/{open_session.project_id}/publish", {"published": "1"}, htmx=False
    )
    phone = await open_session.phone("Awa")
    public = (await phone.get(f"/projects/{open_session.project_id}/decisions")).text
    assert "/export/" not in public
