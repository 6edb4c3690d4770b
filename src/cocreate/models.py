"""Tables of cocreate, named after the glossary (``docs/glossary.md``).

Lifecycles are timestamps (``opened_at``, ``closed_at``, ``hidden_at``…) and history is
kept: a changed vote supersedes the old row instead of overwriting it.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cocreate.errors import Invalid

# Bounded sizes for every user-written field (characters).
MAX_EMAIL_CHARS = 254
MAX_NAME_CHARS = 60
MAX_TITLE_CHARS = 200
MAX_NEED_CHARS = 2_000
MAX_TERRITORY_CHARS = 200
MAX_PLACE_CHARS = 200
MAX_PROPOSAL_CHARS = 500
MAX_COMMENT_CHARS = 1_000
MAX_NOTE_CHARS = 2_000
MAX_QUESTION_CHARS = 300
MAX_OPTION_CHARS = 200
MAX_POLL_OPTIONS = 30
MAX_BALLOT_JSON_CHARS = 4_000  # the largest ballot: a grade or a score for each of 30 options
MAX_MEMBER_NUMBER_CHARS = 40
MAX_PROMPT_CHARS = 2_000
MAX_STEPS = 40
MAX_STEP_MINUTES = 240
VOTING_CODE_LENGTH = 8
JOIN_CODE_LENGTH = 6
MAX_OWNER_CHARS = 120
MAX_UNIT_CHARS = 40
MAX_TOKEN_NAME_CHARS = 80
SURVEY_CODE_LENGTH = 10
SHA256_HEX_CHARS = 64
# The hash the first entry of a project's decision register is chained to.
GENESIS_HASH = "0" * SHA256_HEX_CHARS


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso_utc(value: datetime) -> str:
    """ISO 8601 in UTC to the second; stored times without a zone are UTC (SQLite drops it)."""
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%SZ")


class _Stored(Protocol):
    id: int | None


def key(row: _Stored) -> int:
    """The primary key of a stored row (``id`` is None only before its insert)."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} is not stored yet")
    return row.id


# Ids, event numbers and every number stored are INTEGER columns: 32 bits on PostgreSQL
# (64 on SQLite). A larger number names nothing; sent to PostgreSQL it is an error.
MAX_ID = 2**31 - 1


def whole_number(raw: str) -> int | None:
    """A number as a form or a socket sends it (an id, minutes, a percentage), or None:
    ASCII digits up to MAX_ID only. ``str.isdigit`` also takes '²', which ``int``
    refuses; ``int`` refuses more than 4,300 digits; past 64 bits, the database does."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(MAX_ID)):
        return None
    value = int(raw)
    return value if value <= MAX_ID else None


def clean_text(text: str, *, max_chars: int, empty: str, too_long: str) -> str:
    """Words someone typed (a name, a need, a proposal, a comment) as they are stored,
    or Invalid with ``empty`` or ``too_long`` (which may name ``max`` and ``count``)."""
    # Control characters other than line breaks and tabs are never meant.
    text = "".join(ch for ch in text if ch in "\n\t" or ch.isprintable()).strip()
    text = text.replace("\r\n", "\n")
    if not text:
        raise Invalid(empty)
    if len(text) > max_chars:
        raise Invalid(too_long, max=max_chars, count=len(text))
    return text


class Choice(enum.StrEnum):
    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"


class Outcome(enum.StrEnum):
    ADOPTED = "adopted"
    REJECTED = "rejected"
    DEFERRED = "deferred"


def _fk(target: str, *, nullable: bool = False, index: bool = True) -> Any:
    return Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey(target, ondelete="CASCADE"), nullable=nullable, index=index
        ),
    )


class Facilitator(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=MAX_EMAIL_CHARS, unique=True, index=True)
    display_name: str = Field(max_length=MAX_NAME_CHARS)
    password_hash: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    # Carried in the signed cookie and compared on every request: signing out and
    # changing the password add one, which revokes every cookie issued before.
    session_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class Project(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = _fk("facilitator.id")
    title: str = Field(max_length=MAX_TITLE_CHARS)
    need: str = Field(default="", max_length=MAX_NEED_CHARS)
    territory: str = Field(default="", max_length=MAX_TERRITORY_CHARS)
    decisions_published_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    # The decision register's length and the hash of its last entry: deleting the last
    # entries, which no later entry seals, shows as a register shorter than this.
    register_length: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    register_head: str = Field(
        default=GENESIS_HASH,
        max_length=SHA256_HEX_CHARS,
        sa_column_kwargs={"server_default": GENESIS_HASH},
    )


class Session(SQLModel, table=True):
    """A live meeting (workshop or general assembly) of a project."""

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = _fk("project.id")
    title: str = Field(max_length=MAX_TITLE_CHARS)
    # Where it is held (an address, a room, "online"), for the minutes.
    place: str = Field(
        default="", max_length=MAX_PLACE_CHARS, sa_column_kwargs={"server_default": ""}
    )
    join_code: str | None = Field(
        default=None, max_length=JOIN_CODE_LENGTH, unique=True, index=True
    )
    # Number of the last event of this session; every event takes the next one.
    seq: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow)
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    # The agenda step the room is on (None: no agenda running, every input is open).
    current_step_id: int | None = None
    # Pre-moderation: contributions wait for the facilitator's approval before showing.
    premoderation: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    locked_at: datetime | None = None  # a locked room takes no new participants
    # What the facilitator puts on the projector (presenter.py): None, the current step;
    # else "join", "proposal", "turnout", "result" or "decisions", with the proposal or
    # poll shown.
    presenting: str | None = Field(default=None, max_length=20)
    presenting_id: int | None = None


class Step(SQLModel, table=True):
    """One step of a session's agenda. Its timer is stored as what it needs to compute
    the remaining time at any instant: the planned total, the time already run before
    the current run, and when the current run started (None while paused)."""

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = _fk("session.id")
    position: int
    kind: str = Field(max_length=20)
    title: str = Field(max_length=MAX_TITLE_CHARS)
    prompt: str = Field(default="", max_length=MAX_PROMPT_CHARS)
    duration_s: int | None = None  # planned; None: no timer
    auto_close: bool = Field(default=True)  # at zero, the step's inputs close
    # Vote steps: the poll voted on, and whether results show live or on reveal.
    poll_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("poll.id", ondelete="SET NULL"), nullable=True
        ),
    )
    live_results: bool = Field(default=False)
    revealed_at: datetime | None = None
    started_at: datetime | None = None
    timer_total_s: int | None = None
    timer_elapsed_ms: int = Field(default=0)
    timer_running_since: datetime | None = None


class FacilitationScript(SQLModel, table=True):
    """An agenda saved for reuse: its steps as JSON (kind, title, prompt, minutes…)."""

    __tablename__ = "facilitation_script"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = _fk("facilitator.id")
    name: str = Field(max_length=MAX_TITLE_CHARS)
    steps: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


DEFAULT_PROXY_CAP = 1  # proxies one member may hold, until the facilitator says otherwise


class Organisation(SQLModel, table=True):
    """The cooperative or association whose members vote. One per facilitator account for
    now; its settings are the statutes' (how many proxies one member may hold)."""

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(
        sa_column=sa.Column(
            sa.Integer,
            sa.ForeignKey("facilitator.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        )
    )
    name: str = Field(max_length=MAX_TITLE_CHARS)
    proxy_cap: int = Field(default=DEFAULT_PROXY_CAP)
    created_at: datetime = Field(default_factory=utcnow)


class College(SQLModel, table=True):
    """A SCIC voting college; weights of an organisation's colleges add up to 100 %."""

    __table_args__ = (sa.UniqueConstraint("organisation_id", "name", name="uq_college_name"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = _fk("organisation.id", index=False)
    name: str = Field(max_length=MAX_NAME_CHARS)
    weight_percent: int = Field(default=0)


class Member(SQLModel, table=True):
    """Sociétaire: on the organisation's roster, with a personal voting code."""

    __table_args__ = (sa.UniqueConstraint("organisation_id", "number", name="uq_member_number"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = _fk("organisation.id", index=False)
    number: str = Field(max_length=MAX_MEMBER_NUMBER_CHARS)
    name: str = Field(max_length=MAX_NAME_CHARS * 2)
    email: str = Field(default="", max_length=MAX_EMAIL_CHARS)
    college_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("college.id", ondelete="SET NULL"), nullable=True
        ),
    )
    # Typed (or scanned) on a phone to join a session as this member.
    voting_code: str = Field(max_length=VOTING_CODE_LENGTH, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    archived_at: datetime | None = None


# Who recorded a proxy (``Proxy.declared_by``), and who took it back (``revoked_by``).
DECLARED_BY_FACILITATOR = "facilitator"
DECLARED_BY_MEMBER = "member"
REVOKED_BY_FACILITATOR = "facilitator"
REVOKED_BY_ARRIVAL = "arrival"  # the principal came in person and votes themselves


class Proxy(SQLModel, table=True):
    """Procuration: for one session, a member's vote is held by another member. Kept
    when revoked (``revoked_at``), so the log shows every proxy ever given."""

    __table_args__ = (
        sa.Index(
            "uq_proxy_principal",
            "session_id",
            "principal_id",
            unique=True,
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = _fk("session.id", index=False)
    principal_id: int = _fk("member.id")
    holder_id: int = _fk("member.id")
    declared_by: str = Field(max_length=20)  # DECLARED_BY_FACILITATOR or _MEMBER
    recorded_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    revoked_by: str | None = Field(default=None, max_length=20)  # REVOKED_BY_…


class Participant(SQLModel, table=True):
    __table_args__ = (
        sa.Index(
            "uq_participant_member",
            "session_id",
            "member_id",
            unique=True,
            sqlite_where=sa.text("member_id IS NOT NULL"),
            postgresql_where=sa.text("member_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = _fk("session.id")
    display_name: str = Field(max_length=MAX_NAME_CHARS)
    joined_at: datetime = Field(default_factory=utcnow)
    # Set when a member joined with their voting code: their presence at this session.
    member_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("member.id", ondelete="SET NULL"), nullable=True
        ),
    )
    removed_at: datetime | None = None  # removed by the facilitator: can no longer act
    # The participant's own link (/p/TOKEN), made when they ask for it: opened on
    # another phone, or after the cookie is gone, it makes that phone this participant.
    link_token: str | None = Field(default=None, max_length=32, unique=True)


class ActionKey(SQLModel, table=True):
    """A phone's action, known by the key the phone gave it (``action_keys``): sent
    again, it is answered without being stored twice. Only the key's digest is kept."""

    __tablename__ = "action_key"

    session_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("session.id", ondelete="CASCADE"), primary_key=True
        )
    )
    digest: str = Field(primary_key=True, max_length=64)  # SHA-256 of the key, hex
    participant_id: int | None = None  # who took the action (for a join: who it made)
    subject_id: int | None = None  # what it made: a proposal, a need, a comment
    created_at: datetime = Field(default_factory=utcnow)


class ProposalKind(enum.StrEnum):
    IDEA = "idea"  # a solution put forward
    NEED = "need"  # a problem a participant faces


class Proposal(SQLModel, table=True):
    """A contribution on the wall: an idea (a proposed solution) or a need."""

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = _fk("session.id")
    author_id: int = _fk("participant.id")
    kind: ProposalKind = Field(
        default=ProposalKind.IDEA,
        sa_column=sa.Column(sa.String(10), nullable=False, server_default="idea"),
    )
    text: str = Field(max_length=MAX_PROPOSAL_CHARS)
    created_at: datetime = Field(default_factory=utcnow)
    hidden_at: datetime | None = None
    vote_closed_at: datetime | None = None
    # Pre-moderation: waiting for approval until then (None: shown).
    pending: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    pinned_at: datetime | None = None
    edited_at: datetime | None = None
    # Merged into another proposal (a duplicate): it leaves the wall, its votes,
    # comments and reactions live on in the one it was merged into.
    merged_into_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("proposal.id", ondelete="SET NULL"), nullable=True
        ),
    )


class ProposalRevision(SQLModel, table=True):
    """A proposal's text before the facilitator corrected it: the author's words are kept."""

    __tablename__ = "proposal_revision"

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = _fk("proposal.id")
    text: str = Field(max_length=MAX_PROPOSAL_CHARS)
    replaced_at: datetime = Field(default_factory=utcnow)


class ProposalNeed(SQLModel, table=True):
    """An idea answers a need (both are proposals of the same session)."""

    __tablename__ = "proposal_need"

    proposal_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("proposal.id", ondelete="CASCADE"), primary_key=True
        )
    )
    need_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("proposal.id", ondelete="CASCADE"), primary_key=True
        )
    )


class Reaction(enum.StrEnum):
    AGREE = "agree"
    DISAGREE = "disagree"
    PASS = "pass"  # noqa: S105 - a reaction, not a password


class ProposalReaction(SQLModel, table=True):
    """A participant's current reaction to a proposal during a discussion."""

    __tablename__ = "proposal_reaction"
    __table_args__ = (sa.UniqueConstraint("proposal_id", "participant_id", name="uq_reaction"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = _fk("proposal.id", index=False)
    participant_id: int = _fk("participant.id")
    reaction: Reaction = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    reacted_at: datetime = Field(default_factory=utcnow)


class Comment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = _fk("proposal.id")
    author_id: int = _fk("participant.id")
    text: str = Field(max_length=MAX_COMMENT_CHARS)
    created_at: datetime = Field(default_factory=utcnow)


class Vote(SQLModel, table=True):
    """One vote as cast; a change of mind supersedes it and adds a new row."""

    __table_args__ = (
        sa.Index(
            "uq_vote_current",
            "proposal_id",
            "participant_id",
            unique=True,
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = _fk("proposal.id", index=False)
    participant_id: int = _fk("participant.id")
    choice: Choice = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    cast_at: datetime = Field(default_factory=utcnow)
    superseded_at: datetime | None = None


class Decision(SQLModel, table=True):
    """An entry of the project's decision register: the outcome of a proposal's vote, of
    a poll or of a facilitator's call, or the correction of an earlier entry.

    Never edited: each entry carries the hash of the one before it (``register.py``)."""

    __table_args__ = (sa.UniqueConstraint("project_id", "position", name="uq_decision_position"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = _fk("project.id")
    # None: decided outside a session (a facilitator's call recorded on the project).
    session_id: int | None = _fk("session.id", nullable=True)
    proposal_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer,
            sa.ForeignKey("proposal.id", ondelete="CASCADE"),
            nullable=True,
            unique=True,
        ),
    )
    poll_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer,
            sa.ForeignKey("poll.id", ondelete="CASCADE"),
            nullable=True,
            unique=True,
        ),
    )
    decided_by_id: int = _fk("facilitator.id")
    # What was decided, copied so the register reads the same whatever happens later.
    proposal_text: str = Field(max_length=MAX_PROPOSAL_CHARS)
    outcome: Outcome = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    votes_for: int
    votes_against: int
    votes_abstain: int
    note: str = Field(default="", max_length=MAX_NOTE_CHARS)
    decided_at: datetime = Field(default_factory=utcnow)
    # How it was decided: "show_of_hands" for a proposal's vote, else the poll's method.
    method: str = Field(default="show_of_hands", max_length=20)
    # A poll's result in one line (winners, majority reached…), and what a check needs.
    summary: str = Field(default="", max_length=MAX_NOTE_CHARS)
    electorate_size: int | None = None
    turnout: int | None = None
    quorum_met: bool | None = None
    ballots_sha256: str | None = Field(default=None, max_length=64)
    # Where it came from (needs, proposals, comments, poll and rules, result) as JSON,
    # copied when it was decided.
    provenance: str = Field(default="{}", sa_column=sa.Column(sa.Text, nullable=False))
    # The entry this one corrects.
    amends_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("decision.id"), nullable=True),
    )
    # Its place in the project's register (from 1), and the chain of hashes.
    position: int = Field(default=0)
    prev_hash: str = Field(default="", max_length=SHA256_HEX_CHARS)
    entry_hash: str = Field(default="", max_length=SHA256_HEX_CHARS)


class FollowUpStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    ABANDONED = "abandoned"


class FollowUp(SQLModel, table=True):
    """Suivi: where carrying out a decision stands now (its updates keep the history)."""

    __tablename__ = "follow_up"

    decision_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("decision.id", ondelete="CASCADE"), primary_key=True
        )
    )
    owner: str = Field(default="", max_length=MAX_OWNER_CHARS)
    due_on: date | None = None
    review_on: date | None = None
    status: FollowUpStatus = Field(
        default=FollowUpStatus.PLANNED, sa_column=sa.Column(sa.String(12), nullable=False)
    )
    progress: int = Field(default=0)  # percent
    reason: str = Field(default="", max_length=MAX_NOTE_CHARS)  # why it was abandoned
    updated_at: datetime = Field(default_factory=utcnow)


class FollowUpUpdate(SQLModel, table=True):
    """One dated update of a decision's follow-up, as it was written."""

    __tablename__ = "follow_up_update"

    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = _fk("decision.id")
    written_by_id: int = _fk("facilitator.id", index=False)
    written_at: datetime = Field(default_factory=utcnow)
    status: FollowUpStatus = Field(sa_column=sa.Column(sa.String(12), nullable=False))
    progress: int
    note: str = Field(default="", max_length=MAX_NOTE_CHARS)


class IndicatorFamily(enum.StrEnum):
    """The three families of impact the social and solidarity economy reports on."""

    SOCIAL = "social"  # people reached, jobs created, needs met
    ECOLOGICAL = "ecological"  # kg CO2 avoided, waste diverted
    POLITICAL = "political"  # democratic life: who takes part in deciding


class Indicator(SQLModel, table=True):
    """An impact indicator of a project: what is measured, in which unit, from where to
    where."""

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = _fk("project.id")
    family: IndicatorFamily = Field(sa_column=sa.Column(sa.String(12), nullable=False))
    name: str = Field(max_length=MAX_TITLE_CHARS)
    unit: str = Field(default="", max_length=MAX_UNIT_CHARS)
    # Decimal numbers as text (exact, as typed: "12.5"), compared as numbers when drawn.
    baseline: str = Field(default="0", max_length=30)
    target: str | None = Field(default=None, max_length=30)
    created_at: datetime = Field(default_factory=utcnow)


class IndicatorMeasurement(SQLModel, table=True):
    """A dated value of an indicator."""

    __tablename__ = "indicator_measurement"

    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = _fk("indicator.id")
    measured_on: date
    value: str = Field(max_length=30)
    note: str = Field(default="", max_length=MAX_NOTE_CHARS)
    recorded_at: datetime = Field(default_factory=utcnow)


class IndicatorDecision(SQLModel, table=True):
    """An indicator tells the impact of this decision (among others)."""

    __tablename__ = "indicator_decision"

    indicator_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("indicator.id", ondelete="CASCADE"), primary_key=True
        )
    )
    decision_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("decision.id", ondelete="CASCADE"), primary_key=True
        )
    )


class Survey(SQLModel, table=True):
    """Back to the people concerned: a short questionnaire on what became of a decision,
    for the participants of the session that took it."""

    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = _fk("decision.id")
    # The link's code (/f/CODE), random: it is printed and shown as a QR code.
    code: str = Field(max_length=SURVEY_CODE_LENGTH, unique=True, index=True)
    opened_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None


class SurveyAnswer(SQLModel, table=True):
    """One participant's answer: did the decision answer their need (1 to 5), and why."""

    __tablename__ = "survey_answer"
    __table_args__ = (sa.UniqueConstraint("survey_id", "participant_id", name="uq_survey_answer"),)

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = _fk("survey.id", index=False)
    participant_id: int = _fk("participant.id")
    rating: int  # 1 (not at all) to 5 (fully)
    comment: str = Field(default="", max_length=MAX_COMMENT_CHARS)
    answered_at: datetime = Field(default_factory=utcnow)


class ApiToken(SQLModel, table=True):
    """A facilitator's key to the read-only API: only its SHA-256 is kept."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    facilitator_id: int = _fk("facilitator.id")
    name: str = Field(max_length=MAX_TOKEN_NAME_CHARS)
    token_sha256: str = Field(max_length=SHA256_HEX_CHARS, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class Poll(SQLModel, table=True):
    """A vote with a method and rules. Options and rules freeze when it opens."""

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = _fk("session.id")
    question: str = Field(max_length=MAX_QUESTION_CHARS)
    method: str = Field(max_length=20)
    # The method's parameters (majority rule, seats, points…) as JSON.
    rules: str = Field(default="{}", max_length=2_000)
    secret: bool = Field(default=False)
    # Binding: members only, roster frozen at opening, quorum checked. Else every
    # participant of the session votes.
    binding: bool = Field(default=False)
    # Consultative (a "sondage": the room's temperature, ranking ideas, finding dates):
    # its result is shown, and no decision is written in the register.
    consultative: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    quorum_met: bool | None = None  # at closing, for binding polls with a quorum
    # Consent: the round this one amends (rounds are kept, each a poll of its own).
    previous_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("poll.id", ondelete="SET NULL"), nullable=True
        ),
    )
    # Frozen at closing: the result as JSON, and the SHA-256 of the exported ballot file.
    result: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    ballots_sha256: str | None = Field(default=None, max_length=64)
    electorate_size: int | None = None


class PollOption(SQLModel, table=True):
    __tablename__ = "poll_option"

    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = _fk("poll.id")
    position: int
    label: str = Field(max_length=MAX_OPTION_CHARS)
    proposal_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("proposal.id", ondelete="SET NULL"), nullable=True
        ),
    )


class VoterRegister(SQLModel, table=True):
    """Émargement: who voted in a poll, never what.

    In a consultative poll each participant signs once. In a binding poll each member's
    vote is signed once, by the member or by the holder of their proxy (``participant``
    is then the holder, ``member`` the principal)."""

    __tablename__ = "voter_register"
    __table_args__ = (
        sa.Index(
            "uq_register_participant",
            "poll_id",
            "participant_id",
            unique=True,
            sqlite_where=sa.text("member_id IS NULL"),
            postgresql_where=sa.text("member_id IS NULL"),
        ),
        sa.Index(
            "uq_register_member",
            "poll_id",
            "member_id",
            unique=True,
            sqlite_where=sa.text("member_id IS NOT NULL"),
            postgresql_where=sa.text("member_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = _fk("poll.id", index=False)
    participant_id: int = _fk("participant.id")
    member_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("member.id", ondelete="CASCADE"), nullable=True
        ),
    )
    signed_at: datetime = Field(default_factory=utcnow)


class PollElector(SQLModel, table=True):
    """A binding poll's electorate: the roster as it stood when the poll opened."""

    __tablename__ = "poll_elector"
    __table_args__ = (sa.UniqueConstraint("poll_id", "member_id", name="uq_elector"),)

    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = _fk("poll.id", index=False)
    member_id: int = _fk("member.id")
    college_id: int | None = None  # the member's college at opening (weights apply per college)


class Ballot(SQLModel, table=True):
    """What was cast in a poll. A named poll's ballot is written when it is cast and
    names its voter. A secret poll's ballots are written all at once when the poll
    closes (``sealed.py``), in the order of their content, each with a random id (no
    insertion order on SQLite: the table has no rowid): nothing here points to a voter,
    nor to a time, a receipt or an order of casting."""

    __table_args__ = ({"sqlite_with_rowid": False},)

    id: str = Field(primary_key=True, max_length=32)
    poll_id: int = _fk("poll.id")
    content: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    # Named polls only: who cast it, published with the choice after closing.
    voter_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("participant.id", ondelete="SET NULL"), nullable=True
        ),
    )


class SealedBallot(SQLModel, table=True):
    """A secret poll's ballot while the poll is open: its content and receipt, padded to
    one size per poll and sealed (AES-256-GCM) with a key derived from the server's
    secret key, which the database does not hold. Whatever the database file keeps of
    the moment it was written (its place, the transaction it shares with the register,
    the WAL) leads to nothing readable. Opened and deleted when the poll closes."""

    __tablename__ = "sealed_ballot"
    __table_args__ = ({"sqlite_with_rowid": False},)

    id: str = Field(primary_key=True, max_length=32)
    poll_id: int = _fk("poll.id")
    sealed: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))


class BallotReceipt(SQLModel, table=True):
    """A receipt code a voter was shown, kept apart from the ballots: the list of a
    poll's counted receipts is published after closing, and a receipt says that a
    ballot was counted, never which one. A secret poll's receipts are written when it
    closes, in the order of their codes."""

    __tablename__ = "ballot_receipt"
    __table_args__ = ({"sqlite_with_rowid": False},)

    poll_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("poll.id", ondelete="CASCADE"), primary_key=True
        )
    )
    code: str = Field(sa_column=sa.Column(sa.String(16), primary_key=True))


class Event(SQLModel, table=True):
    """What happened in a session, numbered; phones catch up from here on reconnect."""

    __table_args__ = (sa.UniqueConstraint("session_id", "seq", name="uq_event_session_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = _fk("session.id", index=False)
    seq: int
    kind: str = Field(max_length=40)
    subject_id: int
    created_at: datetime = Field(default_factory=utcnow)
