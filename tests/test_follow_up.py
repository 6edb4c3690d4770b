"""Suivi: owner, due and review dates, status and progress of each decision, with the
history of its updates, on the project's register and, once published, for everyone."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from cocreate.errors import Invalid
from cocreate.follow_up import Change, checked
from cocreate.models import FollowUp, FollowUpStatus, FollowUpUpdate
from tests.conftest import Browser, OpenSession, signed_in


def change(status: FollowUpStatus, progress: int = 0, note: str = "") -> Change:
    return Change(
        owner=" Le bureau ",
        due_on=None,
        review_on=None,
        status=status,
        progress=progress,
        note=note,
    )


def test_an_abandoned_decision_needs_a_reason() -> None:
    with pytest.raises(Invalid, match="Say why the decision is abandoned"):
        checked(change(FollowUpStatus.ABANDONED, note="  "), None)
    kept = checked(change(FollowUpStatus.ABANDONED, note="Plus de budget"), None)
    assert kept.note == "Plus de budget"
    assert kept.owner == "Le bureau"


def test_a_done_decision_is_carried_out_in_full() -> None:
    assert checked(change(FollowUpStatus.DONE, progress=60), None).progress == 100


@pytest.mark.parametrize("progress", [-1, 101])
def test_progress_is_a_percentage(progress: int) -> None:
    with pytest.raises(Invalid, match="from 0 to 100"):
        checked(change(FollowUpStatus.IN_PROGRESS, progress=progress), None)


async def decided(
    open_session: OpenSession, text: str = "Ouvrir la salle le soir", outcome: str = "adopted"
) -> str:
    made = await open_session.facilitator.post(
        f"/projects/{open_session.project_id}/decisions",
        {"text": text, "outcome": outcome, "note": "Conseil du 3 mars"},
        htmx=False,
    )
    assert made.status_code == 303, made.text
    return str(made.headers["location"])


async def follow(browser: Browser, url: str, **form: str) -> int:
    sent = {"owner": "", "due_on": "", "review_on": "", "status": "planned", "progress": "0"}
    return (
        await browser.post(url + "/follow-up", {**sent, "note": "", **form}, htmx=False)
    ).status_code


async def test_a_decision_is_followed_until_it_is_done(open_session: OpenSession) -> None:
    url = await decided(open_session)
    page = (await open_session.facilitator.get(url)).text
    assert "Not planned yet" in page

    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    review = (date.today() + timedelta(days=90)).isoformat()
    assert (
        await follow(
            open_session.facilitator,
            url,
            owner="Commission locaux",
            due_on=tomorrow,
            review_on=review,
            status="in_progress",
            progress="40",
            note="Devis demandé",
        )
        == 303
    )
    # Abandoning without a reason is refused, and changes nothing.
    refused = await open_session.facilitator.post(
        url + "/follow-up",
        {"owner": "X", "status": "abandoned", "progress": "40", "note": " "},
        htmx=False,
    )
    assert refused.status_code == 422
    assert "Say why the decision is abandoned." in refused.text
    # Done: 100 %, whatever the form said.
    assert (
        await follow(
            open_session.facilitator,
            url,
            owner="Commission locaux",
            status="done",
            progress="70",
            note="Salle ouverte",
        )
        == 303
    )

    async with open_session.server.db.session() as db:
        current = (await db.exec(select(FollowUp))).one()
        updates = (await db.exec(select(FollowUpUpdate).order_by(FollowUpUpdate.id))).all()
    assert (current.status, current.progress, current.owner) == ("done", 100, "Commission locaux")
    assert [(u.status, u.progress, u.note) for u in updates] == [
        ("in_progress", 40, "Devis demandé"),
        ("done", 100, "Salle ouverte"),
    ]
    page = (await open_session.facilitator.get(url)).text
    assert "Devis demandé" in page
    assert "Salle ouverte" in page
    assert 'badge--done">Done' in page
    register = (
        await open_session.facilitator.get(f"/projects/{open_session.project_id}/decisions")
    ).text
    assert 'badge--done">Done' in register
    assert "By Commission locaux" in register


async def test_late_and_abandoned_decisions_show_as_such(open_session: OpenSession) -> None:
    late_url = await decided(open_session, "Repeindre la salle")
    gone_url = await decided(open_session, "Acheter un minibus")
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    assert (
        await follow(open_session.facilitator, late_url, due_on=yesterday, status="in_progress")
        == 303
    )
    assert (
        await follow(
            open_session.facilitator, gone_url, status="abandoned", note="Trop cher pour nous"
        )
        == 303
    )
    register = (
        await open_session.facilitator.get(f"/projects/{open_session.project_id}/decisions")
    ).text
    assert 'badge--late">Late' in register
    assert 'badge--abandoned">Abandoned' in register
    gone = (await open_session.facilitator.get(gone_url)).text
    assert "Why it was abandoned" in gone
    assert "Trop cher pour nous" in gone
    # Changing the owner later keeps the reason: it need not be written again.
    assert (
        await follow(open_session.facilitator, gone_url, owner="Bureau", status="abandoned") == 303
    )
    assert "Trop cher pour nous" in (await open_session.facilitator.get(gone_url)).text


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"due_on": "2026-02-30"}, "is not a date"),
        ({"review_on": "demain"}, "is not a date"),
        ({"due_on": "0001-01-01"}, "is not a date"),
        ({"status": "finished"}, "Choose a status from the list."),
        ({"progress": "150"}, "from 0 to 100"),
        ({"progress": "-5"}, "from 0 to 100"),
        ({"owner": "x" * 121}, "at most 120 characters"),
    ],
)
async def test_bad_follow_up_input_is_refused_with_a_reason(
    open_session: OpenSession, form: dict[str, str], message: str
) -> None:
    url = await decided(open_session)
    sent = {"owner": "", "status": "planned", "progress": "0", "note": "", **form}
    refused = await open_session.facilitator.post(url + "/follow-up", sent, htmx=False)
    assert refused.status_code == 422, refused.text
    assert message in refused.text
    async with open_session.server.db.session() as db:
        assert (await db.exec(select(FollowUp))).first() is None


async def test_a_rejected_decision_has_nothing_to_follow(open_session: OpenSession) -> None:
    url = await decided(open_session, "Fermer le local", outcome="rejected")
    assert await follow(open_session.facilitator, url, status="in_progress") == 409
    assert "nothing to carry out" in (await open_session.facilitator.get(url)).text


async def test_the_people_concerned_see_where_each_decision_stands(
    open_session: OpenSession,
) -> None:
    url = await decided(open_session)
    assert (
        await follow(
            open_session.facilitator, url, owner="Awa", status="in_progress", progress="30"
        )
        == 303
    )
    phone = await open_session.phone("Awa")
    register_url = f"/projects/{open_session.project_id}/decisions"
    assert (await phone.get(register_url)).status_code == 403  # not published yet
    assert (await phone.get(url)).status_code == 403
    await open_session.facilitator.post(
        f"/projects/{open_session.project_id}/publish", {"published": "1"}, htmx=False
    )
    public = (await phone.get(url)).text
    assert 'badge--in_progress">In progress' in public
    assert "30%" in public
    assert "/follow-up" not in public  # no form for them
    assert "/correction" not in public
    # Nor may they, or another facilitator, write it.
    assert await follow(phone, url, status="done") == 403
    other = await signed_in(open_session.server, "dominique@example.org")
    open_session.devices.append(other)
    assert await follow(other, url, status="done") == 403
    async with open_session.server.db.session() as db:
        assert (await db.exec(select(FollowUp))).one().status == "in_progress"
