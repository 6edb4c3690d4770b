"""HTTP handlers, one module per page family: the phone (participant), the projector,
the facilitator's pages, polls, members, decisions, impact, surveys, exports, the API."""
