"""Impact indicators (social, ecological, political) with dated measurements drawn as
charts, and questionnaires that ask the people concerned what became of a decision."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import select

from cocreate.errors import Invalid
from cocreate.impact import chart, parse_number
from cocreate.models import (
    Decision,
    Indicator,
    IndicatorDecision,
    IndicatorMeasurement,
    Participant,
    Survey,
    SurveyAnswer,
)
from tests.browsing import NEEDS_CHROMIUM, axe_problems, shoot
from tests.conftest import PASSWORD, Browser, OpenSession, signed_in
from tests.test_live_session import proposal_id_of

# --- numbers and charts, pure ---------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("12,5", "12.5"),
        ("1 000", "1000"),
        ("1\u202f250,75", "1250.75"),
        ("-3", "-3"),
        ("0.10", "0.10"),
        ("1e3", "1000"),
        ("-0", "0"),
        ("42", "42"),
    ],
)
def test_numbers_are_kept_as_typed_in_french_or_english(typed: str, kept: str) -> None:
    assert parse_number(typed, name="x") == kept


@pytest.mark.parametrize("typed", ["douze", "1,2,3", "NaN", "Infinity", "1e400", "1e20", "--1"])
def test_what_is_not_a_number_is_refused(typed: str) -> None:
    with pytest.raises(Invalid):
        parse_number(typed, name="x")


def test_a_chart_spreads_measurements_by_date_between_baseline_and_target() -> None:
    indicator = Indicator(project_id=1, family="social", name="Repas", baseline="10", target="50")
    measurements = [
        IndicatorMeasurement(indicator_id=1, measured_on=date(2026, 3, 1), value="30", id=2),
        IndicatorMeasurement(indicator_id=1, measured_on=date(2026, 1, 1), value="10", id=1),
        IndicatorMeasurement(indicator_id=1, measured_on=date(2026, 5, 1), value="50", id=3),
    ]
    drawn = chart(indicator, measurements)
    assert [p.value for p in drawn.points] == ["10", "30", "50"]  # in date order
    xs = [p.x for p in drawn.points]
    assert (xs[0], xs[-1]) == (8, 312)  # the whole width
    assert xs[1] == pytest.approx(8 + 304 * 59 / 120, abs=0.1)  # by days, not by rank
    assert drawn.points[0].y == drawn.baseline_y == 136  # the lowest value at the bottom
    assert drawn.points[-1].y == drawn.target_y == 12  # the highest at the top
    assert (drawn.low, drawn.high) == (Decimal(10), Decimal(50))
    one = chart(indicator, measurements[:1])
    assert one.points[0].x == 160  # alone: in the middle


# --- indicators in a project ----------------------------------------------------------


async def add_indicator(open_session: OpenSession, **form: str) -> int:
    made = await open_session.facilitator.post(
        f"/projects/{open_session.project_id}/impact", form, htmx=False
    )
    assert made.status_code == 303, made.text
    found = re.search(r"#indicator-(\d+)", made.headers["location"])
    assert found is not None
    return int(found.group(1))


async def decide(open_session: OpenSession, text: str) -> int:
    made = await open_session.facilitator.post(
        f"/projects/{open_session.project_id}/decisions",
        {"text": text, "outcome": "adopted", "note": "Conseil"},
        htmx=False,
    )
    assert made.status_code == 303, made.text
    return int(made.headers["location"].rsplit("/", 1)[1])


async def test_indicators_in_three_families_with_measurements_and_decisions(
    open_session: OpenSession,
) -> None:
    base = f"/projects/{open_session.project_id}/impact"
    meals = await add_indicator(
        open_session,
        family="social",
        name="Repas servis",
        unit="repas",
        baseline="0",
        target="1 200",
    )
    co2 = await add_indicator(
        open_session, family="ecological", name="CO₂ évité", unit="kg", baseline="0", target=""
    )
    voice = await add_indicator(
        open_session,
        family="political",
        name="Bénéficiaires qui votent",
        unit="%",
        baseline="12,5",
        target="50",
    )
    for day, value in (("2026-01-15", "150"), ("2026-03-15", "480,5"), ("2026-02-15", "300")):
        sent = await open_session.facilitator.post(
            f"{base}/{meals}/measurements",
            {"measured_on": day, "value": value, "note": "Registre de la cantine"},
            htmx=False,
        )
        assert sent.status_code == 303, sent.text
    kitchen = await decide(open_session, "Ouvrir une cantine solidaire")
    linked = await open_session.facilitator.post(
        f"{base}/{meals}/decisions", {"decision": str(kitchen)}, htmx=False
    )
    assert linked.status_code == 303

    page = (await open_session.facilitator.get(base)).text
    for text in (
        "Social",
        "Ecological",
        "Political and democratic",
        "Repas servis",
        "Latest: 480.5 on March 15, 2026",
        "40% of the way to the target",
        "Bénéficiaires qui votent",
        "Baseline: 12.5",
        "Target: 50",
    ):
        assert text in page, text
    chart_svg = page[page.index(f'id="indicator-{meals}"') :]
    assert chart_svg.index("<polyline") < chart_svg.index(f'id="indicator-{co2}"')
    assert f'href="/projects/{open_session.project_id}/decisions/{kitchen}">Decision 1</a>' in page
    async with open_session.server.db.session() as db:
        stored = (await db.exec(select(IndicatorMeasurement))).all()
        links = (await db.exec(select(IndicatorDecision))).all()
    assert sorted(m.value for m in stored) == ["150", "300", "480.5"]
    assert [(link.indicator_id, link.decision_id) for link in links] == [(meals, kitchen)]
    # Unlinking: the box unticked.
    await open_session.facilitator.post(f"{base}/{meals}/decisions", {}, htmx=False)
    async with open_session.server.db.session() as db:
        assert (await db.exec(select(IndicatorDecision))).first() is None
    assert voice


@pytest.mark.parametrize(
    ("path", "form", "message"),
    [
        ("", {"family": "cultural", "name": "X", "baseline": "0"}, "Choose social"),
        ("", {"family": "social", "name": " ", "baseline": "0"}, "Name what the indicator"),
        ("", {"family": "social", "name": "X", "baseline": "beaucoup"}, "is not a number"),
        ("", {"family": "social", "name": "X", "baseline": "0", "target": "1e99"}, "not a number"),
        ("/{i}/measurements", {"measured_on": "2026-13-01", "value": "1"}, "is not a date"),
        ("/{i}/measurements", {"measured_on": "", "value": "1"}, "Give the date"),
        ("/{i}/measurements", {"measured_on": "2026-01-01", "value": ""}, "Give a number"),
        ("/{i}/decisions", {"decision": "999999"}, "Choose decisions of this project"),
        ("/{i}/decisions", {"decision": "abc"}, "Choose decisions of this project"),
    ],
)
async def test_bad_impact_input_is_refused_and_stores_nothing(
    open_session: OpenSession, path: str, form: dict[str, str], message: str
) -> None:
    indicator = await add_indicator(open_session, family="social", name="Repas", baseline="0")
    url = f"/projects/{open_session.project_id}/impact" + path.format(i=indicator)
    refused = await open_session.facilitator.post(url, form, htmx=False)
    assert refused.status_code == 422, refused.text
    assert message in refused.text
    async with open_session.server.db.session() as db:
        assert len((await db.exec(select(Indicator))).all()) == 1
        assert (await db.exec(select(IndicatorMeasurement))).first() is None
        assert (await db.exec(select(IndicatorDecision))).first() is None


async def test_indicators_are_public_with_the_decisions_and_written_by_their_owner(
    open_session: OpenSession,
) -> None:
    base = f"/projects/{open_session.project_id}/impact"
    indicator = await add_indicator(
        open_session, family="social", name="Familles aidées", baseline="3"
    )
    phone = await open_session.phone("Awa")
    assert (await phone.get(base)).status_code == 403
    await open_session.facilitator.post(
        f"/projects/{open_session.project_id}/publish", {"published": "1"}, htmx=False
    )
    public = await phone.get(base)
    assert public.status_code == 200
    assert "Familles aidées" in public.text
    assert "/measurements" not in public.text  # no forms
    other = await signed_in(open_session.server, "dominique@example.org")
    open_session.devices.append(other)
    for browser in (phone, other):
        refused = await browser.post(
            f"{base}/{indicator}/measurements",
            {"measured_on": "2026-01-01", "value": "9"},
            htmx=False,
        )
        assert refused.status_code == 403
        made = await browser.post(base, {"family": "social", "name": "X", "baseline": "0"})
        assert made.status_code == 403


# --- asking the people concerned ----------------------------------------------------


async def decided_in_session(open_session: OpenSession, *phones: Browser) -> int:
    await phones[0].post(f"/s/{open_session.code}/proposals", {"text": "Une épicerie solidaire"})
    idea = await proposal_id_of(open_session, "Une épicerie solidaire")
    for phone in phones:
        await phone.post(f"/s/{open_session.code}/proposals/{idea}/vote", {"choice": "for"})
    done = await open_session.facilitator.post(
        f"/sessions/{open_session.session_id}/proposals/{idea}/decision", {"outcome": "adopted"}
    )
    assert done.status_code == 200, done.text
    async with open_session.server.db.session() as db:
        return int((await db.exec(select(Decision.id))).one() or 0)


async def test_the_participants_say_whether_a_decision_answered_their_need(
    open_session: OpenSession,
) -> None:
    awa, ben = await open_session.phone("Awa"), await open_session.phone("Ben")
    decision = await decided_in_session(open_session, awa, ben)
    page_url = f"/projects/{open_session.project_id}/decisions/{decision}"
    opened = await open_session.facilitator.post(page_url + "/survey", htmx=False)
    assert opened.status_code == 303
    page = (await open_session.facilitator.get(page_url)).text
    found = re.search(r"/f/([a-z0-9]{10})/qr\.svg", page)
    assert found is not None
    code = found.group(1)
    assert f"{open_session.server.base_url}/f/{code}" in page
    qr = await awa.get(f"/f/{code}/qr.svg")
    assert qr.headers["content-type"] == "image/svg+xml"

    # Awa answers on the phone she used in the session, then changes her mind.
    form = (await awa.get(f"/f/{code}")).text
    assert "Did this decision answer your need?" in form
    assert "Une épicerie solidaire" in form
    for rating, comment in (("4", "Bien"), ("5", "Très bien, merci")):
        sent = await awa.post(f"/f/{code}", {"rating": rating, "comment": comment}, htmx=False)
        assert sent.status_code == 303, sent.text
    assert "your answer is recorded" in (await awa.get(sent.headers["location"])).text

    # Ben comes back on a new phone with his personal link.
    shown = await ben.post(f"/s/{open_session.code}/link", {}, htmx=False)
    assert shown.status_code == 200
    link = re.search(r'id="my-link" class="copyable" readonly value="([^"]+)"', shown.text)
    assert link is not None
    assert (await ben.post(f"/s/{open_session.code}/link", {}, htmx=False)).text.count(
        link.group(1)
    ) == 1
    new_phone = Browser(open_session.server)
    open_session.devices.append(new_phone)
    stranger_view = (await new_phone.get(f"/f/{code}")).text
    assert "open your personal participant link first" in stranger_view
    refused = await new_phone.post(f"/f/{code}", {"rating": "1"}, htmx=False)
    assert refused.status_code == 403
    path = link.group(1).removeprefix(open_session.server.base_url)
    asked = await new_phone.get(path)  # asked first, then confirmed (a GET changes nobody)
    assert "Open this link as Ben?" in asked.text
    confirmed = await new_phone.post(path, htmx=False)
    assert confirmed.status_code == 303
    welcome = await new_phone.get(confirmed.headers["location"])
    assert welcome.status_code == 200
    assert "Welcome back, Ben" in welcome.text
    assert f'href="/f/{code}"' in welcome.text
    sent = await new_phone.post(f"/f/{code}", {"rating": "2", "comment": ""}, htmx=False)
    assert sent.status_code == 303

    async with open_session.server.db.session() as db:
        answers = (await db.exec(select(SurveyAnswer))).all()
        names = {p.id: p.display_name for p in (await db.exec(select(Participant))).all()}
    assert sorted((names[a.participant_id], a.rating) for a in answers) == [("Awa", 5), ("Ben", 2)]
    for url in (page_url, f"/projects/{open_session.project_id}/impact"):
        results = (await open_session.facilitator.get(url)).text
        assert "2 answers · average 3.5 out of 5" in results, url
        assert "Très bien, merci" in results

    # Bad answers are refused; once closed, nothing more is taken.
    for bad in ({"rating": "6"}, {"rating": "trois"}, {"rating": "3", "comment": "x" * 1001}):
        assert (await awa.post(f"/f/{code}", bad, htmx=False)).status_code == 422
    await open_session.facilitator.post(page_url + "/survey/close", htmx=False)
    late = await awa.post(f"/f/{code}", {"rating": "1"}, htmx=False)
    assert late.status_code == 409
    async with open_session.server.db.session() as db:
        assert sorted(a.rating for a in (await db.exec(select(SurveyAnswer))).all()) == [2, 5]


async def test_a_personal_link_asks_before_a_phone_becomes_someone_else(
    open_session: OpenSession,
) -> None:
    """Opening someone's /p/TOKEN made the phone that person silently, on a plain GET.
    Now a phone that is not them is asked, on a page saying whom it would become (and
    whom it is now), and only a confirmation with the form's token changes it."""
    awa = await open_session.phone("Awa")
    bruno = await open_session.phone("Bruno")
    shown = await awa.post(f"/s/{open_session.code}/link", {}, htmx=False)
    found = re.search(r'value="[^"]*(/p/[\w-]+)"', shown.text)
    assert found is not None
    link = found.group(1)
    # Awa's own phone: welcomed at once.
    assert "Welcome back, Awa" in (await awa.get(link)).text

    asked = await bruno.get(link)
    assert asked.status_code == 200
    assert "Open this link as Awa?" in asked.text
    assert "This phone takes part as Bruno in this session." in asked.text
    assert "it will no longer be Bruno but Awa" in asked.text
    assert f'<form method="post" action="{link}"' in asked.text
    assert (
        "You take part as Bruno." in (await bruno.get(f"/s/{open_session.code}")).text
    )  # unchanged
    # Without the form's token (another site's page posting it), nothing changes either.
    forged = await bruno.post(link, htmx=False, csrf=False)
    assert forged.status_code == 403
    assert "You take part as Bruno." in (await bruno.get(f"/s/{open_session.code}")).text
    confirmed = await bruno.post(link, htmx=False)
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == link
    assert "Welcome back, Awa" in (await bruno.get(link)).text
    assert "You take part as Awa." in (await bruno.get(f"/s/{open_session.code}")).text

    # A phone that is nobody in this session is asked too, and told whom it would become.
    stranger = Browser(open_session.server)
    open_session.devices.append(stranger)
    asked = await stranger.get(link)
    assert "Open this link as Awa?" in asked.text
    assert "This phone takes part as" not in asked.text
    assert 'id="display_name"' in (await stranger.get(f"/s/{open_session.code}")).text  # unchanged
    async with open_session.server.db.session() as db:
        assert len((await db.exec(select(Participant))).all()) == 2


async def test_only_decisions_of_a_session_can_be_asked_about(open_session: OpenSession) -> None:
    decision = await decide(open_session, "Assurer le local")  # a facilitator's call
    refused = await open_session.facilitator.post(
        f"/projects/{open_session.project_id}/decisions/{decision}/survey", htmx=False
    )
    assert refused.status_code == 409
    assert "outside a session" in refused.text
    assert (await open_session.facilitator.get("/f/abcdefghjk")).status_code == 404
    assert (await open_session.facilitator.get("/p/not-a-real-token-at-all")).status_code == 404


@pytest.mark.browser
@NEEDS_CHROMIUM
async def test_register_impact_and_questionnaire_pass_axe_at_360_px(
    browser: Any, open_session: OpenSession
) -> None:
    awa = await open_session.phone("Awa")
    decision = await decided_in_session(open_session, awa)
    base = f"/projects/{open_session.project_id}"
    indicator = await add_indicator(
        open_session, family="social", name="Repas servis", unit="repas", baseline="0", target="100"
    )
    for day, value in (("2026-01-15", "20"), ("2026-02-15", "45")):
        await open_session.facilitator.post(
            f"{base}/impact/{indicator}/measurements",
            {"measured_on": day, "value": value},
            htmx=False,
        )
    await open_session.facilitator.post(
        f"{base}/decisions/{decision}/follow-up",
        {"owner": "Le bureau", "status": "in_progress", "progress": "50", "note": "Local trouvé"},
        htmx=False,
    )
    await open_session.facilitator.post(f"{base}/decisions/{decision}/survey", htmx=False)
    async with open_session.server.db.session() as db:
        code = (await db.exec(select(Survey.code))).one()
    server = open_session.server.base_url
    for locale in ("fr-FR", "en-GB"):
        context = await browser.new_context(
            viewport={"width": 360, "height": 640}, locale=locale, is_mobile=True
        )
        page = await context.new_page()
        await page.goto(f"{server}/login")
        await page.fill("#email", "camille@example.org")
        await page.fill("#password", PASSWORD)
        await page.click("button.primary")
        await page.wait_for_url(f"{server}/projects")
        for path in (f"{base}/decisions", f"{base}/decisions/{decision}", f"{base}/impact"):
            await page.goto(server + path)
            assert await axe_problems(page) == [], (locale, path)
            assert await page.evaluate("document.documentElement.scrollWidth") <= 360, path
        await shoot(page, f"impact-{locale}")
        phone = await context.new_page()
        await phone.goto(f"{server}/f/{code}")
        assert await axe_problems(phone) == [], (locale, "survey")
        await context.close()


@pytest.mark.browser
@NEEDS_CHROMIUM
async def test_a_phone_asks_for_its_link_and_another_phone_becomes_it(
    browser: Any, open_session: OpenSession
) -> None:
    server = open_session.server.base_url
    context = await browser.new_context(
        viewport={"width": 360, "height": 640}, locale="fr-FR", is_mobile=True
    )
    page = await context.new_page()
    await page.goto(f"{server}/s/{open_session.code}")
    await page.fill("#display_name", "Awa")
    await page.click("form[action$='/join'] button")
    await page.wait_for_selector("text=Revenir plus tard")
    await page.click("text=Revenir plus tard")
    await page.click("text=Afficher mon lien personnel")
    link = await page.input_value("#my-link")
    assert link.startswith(f"{server}/p/")
    assert await axe_problems(page) == []
    other_context = await browser.new_context(viewport={"width": 360, "height": 640})
    other = await other_context.new_page()
    await other.goto(f"{server}/s/{open_session.code}")  # Bruno's phone, in the same session
    await other.fill("#display_name", "Bruno")
    await other.click("form[action$='/join'] button")
    await other.wait_for_selector("text=You take part as Bruno.")
    await other.goto(link)
    assert "Awa" in await other.inner_text("h1")
    assert "This phone takes part as Bruno" in await other.inner_text("main")
    assert await axe_problems(other) == []
    assert await other.evaluate("document.documentElement.scrollWidth") <= 360
    await shoot(other, "participant-link-confirm")
    await other.click("form[action^='/p/'] button")
    await other.wait_for_selector("text=Welcome back, Awa")
    assert await axe_problems(other) == []
    await other_context.close()
    await context.close()
