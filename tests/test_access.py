"""Every handler wears one decorator of the family in views/access.py, which says who may
call it and what it is handed; a form post's decorator checks the CSRF token.

Read from the route table, no request sent: the authorization matrix
(test_authorization_matrix.py) sends them all.
"""

from __future__ import annotations

from starlette.routing import Route

from cocreate.app import routes
from cocreate.views.access import worn_by
from tests.test_authorization_matrix import CASES, FACILITATORS, IN_A, NOBODY

HANDLERS = {route.name: route for route in routes if isinstance(route, Route)}
# The decorators that read the form, its CSRF token checked, before the handler runs.
FORM_POSTS = {
    "public_action",
    "participant_action",
    "facilitator_action",
    "facilitator_upload",
    "console_action",
}
READS = {"public_page", "participant_page", "facilitator_page", "facilitator_download", "api_read"}
FOR_FACILITATORS = {
    "facilitator_page",
    "facilitator_action",
    "facilitator_upload",
    "facilitator_download",
    "console_action",
}


def test_every_route_s_handler_wears_a_decorator_of_the_family() -> None:
    bare = sorted(name for name, route in HANDLERS.items() if worn_by(route.endpoint) is None)
    assert not bare, f"handlers without @public_page, @facilitator_action…: {bare}"


def test_every_form_post_has_its_csrf_token_checked_before_its_handler_runs() -> None:
    wrong = []
    for name, route in HANDLERS.items():
        kind = worn_by(route.endpoint)
        posts = "POST" in (route.methods or ())
        if kind not in (FORM_POSTS if posts else READS):
            wrong.append(f"{name} ({', '.join(sorted(route.methods or ()))}): @{kind}")
    assert not wrong, "\n".join(wrong)


def test_whom_a_decorator_lets_through_agrees_with_the_policy() -> None:
    wrong = []
    for case in CASES:
        kind = worn_by(HANDLERS[case.name].endpoint)
        narrower = (
            FACILITATORS
            if kind in FOR_FACILITATORS
            else IN_A
            if kind in ("participant_page", "participant_action")
            else NOBODY
            if kind == "api_read"
            else None
        )
        if narrower is not None and not case.allowed <= narrower:
            wrong.append(f"{case.name}: @{kind} refuses {sorted(case.allowed - narrower)}")
    assert not wrong, "\n".join(wrong)
