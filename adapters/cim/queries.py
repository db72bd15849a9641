"""Indexed lookups: instances whose property is one of some values, by ExecQuery.

An indexed query builds only the instances asked for (enumerating a 10,000-volume
array takes half a minute, and a lifecycle must not read every mapping of a busy
array). An agent that turns queries down is enumerated from then on: `where` answers
None and the caller reads every instance of the class.
"""
from __future__ import annotations

from typing import Iterable, Iterator, Sequence

from pywbem import CIMInstance

from core.log import get_logger
from adapters.cim import errors as E
from adapters.cim.agent import Agent
from adapters.cim.replies import instances
from core.errors import ArrayCallError

log = get_logger("vssorch.cim")

QUERY_CHUNK = 1000            # values in one IN list: the agent's limit
# what an agent without (this kind of) ExecQuery answers
_NO_QUERY = ("CIM_ERR_NOT_SUPPORTED", "CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED", "CIM_ERR_INVALID_QUERY")


def wql(classname: str, props: Sequence[str], values: Sequence[str],
        select: Sequence[str] | None) -> Iterator[str]:
    """The queries for instances with one of props equal to one of values, each within
    the agent's IN-list limit."""
    step = QUERY_CHUNK // len(props)
    for i in range(0, len(values), step):
        listed = ", ".join("'" + v.replace("'", "''") + "'" for v in values[i:i + step])
        where = " OR ".join(f"{prop} IN ({listed})" for prop in props)
        yield f"SELECT {', '.join(select) if select else '*'} FROM {classname} WHERE {where}"


class Queries:
    def __init__(self, agent: Agent):
        self._agent = agent
        self._enabled = True      # until the agent turns ExecQuery down

    def where(self, classname: str, props: Sequence[str], values: Iterable[str],
              select: Sequence[str] | None = None) -> list[CIMInstance] | None:
        """Instances of classname with one of props equal to one of values (queries
        ignore case: callers compare exactly); None once the agent turns queries down."""
        wanted = sorted(set(values))
        if not wanted:
            return []
        if not self._enabled:
            return None
        try:
            found: list[CIMInstance] = []
            for query in wql(classname, props, wanted, select):
                found += instances(self._agent.read("ExecQuery", "WQL", query), f"ExecQuery {classname}")
            return found
        except ArrayCallError as exc:
            if not any(status in exc.detail for status in _NO_QUERY):
                raise
            log.info("cim agent answers no queries: objects are enumerated", reason=E.one_line(exc.detail, 120))
            self._enabled = False
            return None
