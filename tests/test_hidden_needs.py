"""A need the room does not see — hidden by the facilitator, or waiting for approval
under pre-moderation — reaches no one through the ideas that answer it.

Each such need carries a word found nowhere else. It is linked every way a user can
link a need (a phone's proposal, the console's link, merging ideas, merging needs),
decisions are taken on the ideas that answer it (a show of hands, a poll, a
correction), the register is published, and then every page, live frame, download, API
answer and the minutes (HTML and PDF) are searched for those words. Only the console
shows them: the facilitator moderates what the room does not see.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pytest
from sqlmodel import select

from cocreate import opendata, polls
from cocreate.models import Decision, ProposalNeed
from tests.conftest import Browser, OpenSession
from tests.test_agenda import add_step, move
from tests.test_api import api, new_token
from tests.test_hidden_results import caught_up
from tests.test_live_session import proposal_id_of
from tests.test_minutes_pdf import pdf_text
from tests.test_polls import act, create, vote

VISIBLE = "Les enfants n'ont pas de lieu le soir"
DUPLICATE = "Aucun endroit pour les jeunes le soir"
# Words that appear nowhere but in the need that carries them.
HIDDEN = "Besoin Xhiddenword"  # hidden before any decision
PENDING = "Besoin Xpendingword"  # never approved
LATE = "Besoin Xlateword"  # hidden after decisions copied it
MERGED = "Besoin Xmergedword"  # hidden, then merged into a need the room sees
SECRETS = {"Xhiddenword", "Xpendingword", "Xlateword", "Xmergedword"}


@dataclass
class Seen:
    """Everything the room, the public and the open data received, by where it was seen."""

    texts: dict[str, str] = field(default_factory=dict)

    def add(self, where: str, text: str) -> None:
        self.texts[where] = text

    def leaks(self, secrets: set[str]) -> list[tuple[str, str]]:
        return [
            (where, word)
            for where, text in self.texts.items()
            for word in sorted(secrets)
            if word in text
        ]


async def linked(open_session: OpenSession) -> set[tuple[int, int]]:
    async with open_session.server.db.session() as db:
        rows = (await db.exec(select(ProposalNeed.proposal_id, ProposalNeed.need_id))).all()
    return set(rows)


async def test_a_proposal_cannot_answer_a_need_that_waits_or_is_hidden(
    open_session: OpenSession,
) -> None:
    sid, code = open_session.session_id, open_session.code
    await add_step(open_session, "needs", "Besoins")
    await add_step(open_session, "ideas", "Idées")
    awa = await open_session.phone("Awa")
    await move(open_session, "start")
    await open_session.facilitator.post(f"/sessions/{sid}/room", {"premoderation": "1"})
    assert (await awa.post(f"/s/{code}/needs", {"text": PENDING})).status_code == 200
    await open_session.facilitator.post(f"/sessions/{sid}/room", {"premoderation": "0"})
    assert (await awa.post(f"/s/{code}/needs", {"text": HIDDEN})).status_code == 200
    pending, hidden = (
        await proposal_id_of(open_session, PENDING),
        await proposal_id_of(open_session, HIDDEN),
    )
    await open_session.facilitator.post(f"/sessions/{sid}/proposals/{hidden}/hide")
    await move(open_session, "next")

    # A phone sending a need's number it was never offered.
    waits = await awa.post(f"/s/{code}/proposals", {"text": "Une idée", "need": str(pending)})
    assert waits.status_code == 409
    assert "waiting for the facilitator&#39;s approval" in waits.text
    gone = await awa.post(f"/s/{code}/proposals", {"text": "Une idée", "need": str(hidden)})
    assert gone.status_code == 409
    assert "The facilitator has hidden this need" in gone.text
    assert "Xpendingword" not in waits.text + gone.text
    assert "Xhiddenword" not in waits.text + gone.text

    # The console's link, by number.
    assert (await awa.post(f"/s/{code}/proposals", {"text": "Une idée"})).status_code == 200
    idea = await proposal_id_of(open_session, "Une idée")
    base = f"/sessions/{sid}/proposals/{idea}/needs"
    waits = await open_session.facilitator.post(base, {"need": str(pending)})
    assert waits.status_code == 409
    assert "waiting for the facilitator&#39;s approval" in waits.text
    gone = await open_session.facilitator.post(base, {"need": str(hidden)})
    assert gone.status_code == 409
    assert "The facilitator has hidden this need" in gone.text
    assert await linked(open_session) == set()  # nothing was written by any refusal
    # Nor can a poll offer them as options (the console offers the ideas the room sees).
    reasons = {pending: "is waiting for the facilitator", hidden: "has hidden this proposal"}
    for need_id, reason in reasons.items():
        offered = await open_session.facilitator.http.post(
            f"/sessions/{sid}/polls",
            data={
                "question": "Lequel ?",
                "method": "approval",
                "options": "Autre chose",
                "proposal": [str(idea), str(need_id)],
                "csrf_token": open_session.facilitator.csrf,
            },
        )
        assert offered.status_code == 409, offered.text
        assert reason in offered.text.replace("&#39;", "'")

    # Once approved (or shown again), the same need can be answered.
    await open_session.facilitator.post(f"/sessions/{sid}/proposals/{pending}/approve")
    assert (await open_session.facilitator.post(base, {"need": str(pending)})).status_code == 200
    assert await linked(open_session) == {(idea, pending)}


@pytest.mark.wire
async def test_hidden_and_waiting_needs_reach_no_page_socket_download_api_or_minutes(
    open_session: OpenSession,
) -> None:
    sid, code, fac = open_session.session_id, open_session.code, open_session.facilitator
    await add_step(open_session, "needs", "Besoins")
    await add_step(open_session, "ideas", "Idées")
    awa, ben = await open_session.phone("Awa"), await open_session.phone("Ben")
    screen = await open_session.projector()
    seq = await open_session.seq()
    phone_live = await ben.socket(code, "phone", last_seq=seq)
    screen_live = await screen.socket(code, "screen", last_seq=seq)
    lives = {"phone socket": phone_live, "projector socket": screen_live}

    await move(open_session, "start")
    for text in (VISIBLE, DUPLICATE, HIDDEN, LATE, MERGED):
        assert (await awa.post(f"/s/{code}/needs", {"text": text})).status_code == 200
    await fac.post(f"/sessions/{sid}/room", {"premoderation": "1"})
    assert (await awa.post(f"/s/{code}/needs", {"text": PENDING})).status_code == 200
    await fac.post(f"/sessions/{sid}/room", {"premoderation": "0"})
    need = {text: await proposal_id_of(open_session, text) for text in (VISIBLE, DUPLICATE, HIDDEN)}
    need |= {text: await proposal_id_of(open_session, text) for text in (LATE, MERGED, PENDING)}

    await move(open_session, "next")
    # Ideas answering needs while the room still sees them.
    ideas = {
        "Ouvrir la salle des fêtes": (VISIBLE, HIDDEN, LATE),
        "Un local associatif": (MERGED,),
        "Une maison des jeunes": (DUPLICATE,),
        "Une salle municipale": (HIDDEN,),
    }
    for text, answers in ideas.items():
        sent = await awa.post(
            f"/s/{code}/proposals", {"text": text, "need": [str(need[n]) for n in answers]}
        )
        assert sent.status_code == 200, sent.text
    idea = {text: await proposal_id_of(open_session, text) for text in ideas}
    salle, local, maison, municipale = idea.values()

    # The facilitator hides two needs: from here, the room must not see them again.
    hidden_from: dict[str, int] = {}
    for text in (HIDDEN, MERGED):
        for name, live in lives.items():
            hidden_from[f"{name} {text}"] = await caught_up(open_session, live)
        assert (await fac.post(f"/sessions/{sid}/proposals/{need[text]}/hide")).status_code == 200
    # Merging carries links along: a hidden need into one the room sees, a need the
    # room sees into a hidden one, an idea answering a hidden need into another idea.
    merges = ((MERGED, VISIBLE), (DUPLICATE, HIDDEN))
    for duplicate, kept in merges:
        merged = await fac.post(
            f"/sessions/{sid}/proposals/{need[duplicate]}/merge", {"into": str(need[kept])}
        )
        assert merged.status_code == 200, merged.text
    merged = await fac.post(f"/sessions/{sid}/proposals/{municipale}/merge", {"into": str(local)})
    assert merged.status_code == 200, merged.text
    # Links refused: to a waiting need, to a hidden one.
    for answer in (PENDING, HIDDEN):
        refused = await fac.post(
            f"/sessions/{sid}/proposals/{salle}/needs", {"need": str(need[answer])}
        )
        assert refused.status_code == 409, refused.text

    await move(open_session, "end")  # the free wall: votes are open
    for phone, choice in ((awa, "for"), (ben, "against")):
        voted = await phone.post(f"/s/{code}/proposals/{salle}/vote", {"choice": choice})
        assert voted.status_code == 200
    decided = await fac.post(
        f"/sessions/{sid}/proposals/{salle}/decision", {"outcome": "adopted", "note": ""}
    )
    assert decided.status_code == 200, decided.text
    poll_id = await create(
        open_session,
        question="Quel lieu ?",
        method="approval",
        proposal=[str(local), str(maison)],
    )
    await act(open_session, poll_id, "open")
    async with open_session.server.db.session() as db:
        options = [str(o.id) for o in await polls.poll_options(db, poll_id)]
    await vote(awa, open_session, poll_id, {"approve": options[:1]})
    await act(open_session, poll_id, "close")

    # A need hidden after decisions copied it into the register.
    for name, live in lives.items():
        hidden_from[f"{name} {LATE}"] = await caught_up(open_session, live)
    assert (await fac.post(f"/sessions/{sid}/proposals/{need[LATE]}/hide")).status_code == 200
    # Phones and projector redraw the idea that answered it, without it.
    for live in lives.values():
        frame = await live.until_text(f'id="proposal-{salle}"')
        assert "Xlateword" not in frame
    async with open_session.server.db.session() as db:
        decisions = (await db.exec(select(Decision).order_by(Decision.position))).all()
    # A correction copies the provenance of the entry it corrects.
    corrected = await fac.post(
        f"/projects/{open_session.project_id}/decisions/{decisions[0].id}/correction",
        {"text": "Ouvrir la salle des fêtes le soir", "outcome": "adopted", "note": "Précision"},
        htmx=False,
    )
    assert corrected.status_code == 303, corrected.text
    published = await fac.post(
        f"/projects/{open_session.project_id}/publish", {"published": "1"}, htmx=False
    )
    assert published.status_code == 303
    for live in lives.values():
        await caught_up(open_session, live)

    seen = Seen()
    for name, live in lives.items():
        for index, frame in enumerate(live.frames):
            seen.add(f"{name} frame {index}", frame)
    stranger = Browser(open_session.server)
    open_session.devices.append(stranger)
    async with open_session.server.db.session() as db:
        decision_ids = (await db.exec(select(Decision.id).order_by(Decision.position))).all()
    pages = {
        "phone page": (ben, f"/s/{code}"),
        "projector page": (screen, f"/s/{code}/screen"),
        "poll result": (ben, f"/s/{code}/polls/{poll_id}"),
        "public register": (stranger, f"/projects/{open_session.project_id}/decisions"),
        "public impact": (stranger, f"/projects/{open_session.project_id}/impact"),
        "register (facilitator)": (fac, f"/projects/{open_session.project_id}/decisions"),
        "minutes": (fac, f"/sessions/{sid}/minutes"),
    }
    for decision_id in decision_ids:
        path = f"/projects/{open_session.project_id}/decisions/{decision_id}"
        pages[f"decision {decision_id}"] = (stranger, path)
        pages[f"decision {decision_id} (facilitator)"] = (fac, path)
    for where, (browser, path) in pages.items():
        answer = await browser.get(path)
        assert answer.status_code == 200, (where, answer.text)
        seen.add(where, answer.text)
    # Drawn in a thread, slowly on a busy machine: the words do not depend on the language.
    answer = await fac.get(f"/sessions/{sid}/minutes.pdf?lang=fr", timeout=60)
    assert answer.status_code == 200
    seen.add("minutes PDF", pdf_text(answer.content))
    for dataset in opendata.DATASETS:
        for fmt in opendata.FORMATS:
            answer = await fac.get(f"/projects/{open_session.project_id}/export/{dataset}.{fmt}")
            assert answer.status_code == 200, (dataset, fmt)
            seen.add(f"download {dataset}.{fmt}", answer.content.decode("utf-8"))
    token = await new_token(open_session.server, "camille@example.org")
    for path in (
        "/api/v1/projects",
        f"/api/v1/projects/{open_session.project_id}",
        f"/api/v1/projects/{open_session.project_id}/sessions",
        f"/api/v1/sessions/{sid}",
        f"/api/v1/projects/{open_session.project_id}/decisions",
        f"/api/v1/projects/{open_session.project_id}/indicators",
    ):
        answer = await api(open_session.server, path, token)
        assert answer.status_code == 200, path
        seen.add(f"API {path}", json.dumps(answer.json(), ensure_ascii=False))

    # What the room saw while the needs were still shown is no leak: a word counts
    # from the moment its need was hidden (a waiting need's, from the start).
    for name in lives:
        for text in (HIDDEN, MERGED, LATE):
            for index in range(hidden_from[f"{name} {text}"]):
                where = f"{name} frame {index}"
                seen.texts[where] = seen.texts[where].replace(text.split()[1], "")
    assert seen.leaks(SECRETS) == []
    # The register still shows what the room saw when it decided, the late need aside,
    # and says that a need is left out; its sealed copy is untouched and still checks.
    assert "Les enfants n&#39;ont pas de lieu le soir" in seen.texts["public register"]
    hands, _, correction = decision_ids
    for decision_id in (hands, correction):
        assert (
            "1 need copied when this was decided is not shown"
            in (seen.texts[f"decision {decision_id}"])
        )
    register = json.loads(seen.texts[f"API /api/v1/projects/{open_session.project_id}/decisions"])
    assert register["verification"]["intact"] is True
    assert [d["withheld_needs"] for d in register["decisions"]] == [1, 0, 1]
    assert register["decisions"][0]["needs"] == [VISIBLE]
    async with open_session.server.db.session() as db:
        sealed = (await db.exec(select(Decision.provenance).order_by(Decision.position))).all()
    assert ["Xlateword" in text for text in sealed] == [True, False, True]

    # The facilitator moderates them on the console, where they are.
    console = (await fac.get(f"/sessions/{sid}/console")).text
    for word in ("Xhiddenword", "Xpendingword", "Xlateword"):
        assert word in console
    card = console[console.index(f'id="proposal-{salle}"') :]
    answered = card[: card.index("</article>")]
    assert "Also answers, not shown to the room:" in answered
    assert f"#{need[HIDDEN]} {HIDDEN} (hidden)" in answered
    assert f"#{need[LATE]} {LATE} (hidden)" in answered
    csv = (await fac.get(f"/sessions/{sid}/contributions.csv")).text
    for line in csv.splitlines():
        if any(word in line for word in SECRETS):
            assert line.startswith("need,"), line
            assert re.search(r",(hidden|pending|merged into \d+),", line), line
    for live in lives.values():
        await live.close()
