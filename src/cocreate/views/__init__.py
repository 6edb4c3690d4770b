"""HTTP handlers, one module per page family: public pages, the phone (participant), the
projector, the facilitator's pages, running a session, polls, members, decisions, impact,
surveys, exports, the API."""
