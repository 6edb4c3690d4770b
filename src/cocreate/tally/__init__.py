"""Pure tally engine: ballots in, result out. No I/O, no database, no clock.

One module per family of methods. Every function is deterministic: the same ballots and
the same ``seed`` give the same result whatever the order of the ballots, so anyone can
recount a poll from its exported ballot file (``cocreate recount``).
"""
