"""The WQL the adapter sends for indexed lookups (adapters/cim/queries.py), without an array."""
from __future__ import annotations

from adapters.cim.queries import QUERY_CHUNK, wql


def test_queries_stay_within_the_agents_in_list_limit():
    values = [f"v{n:04d}" for n in range(2 * QUERY_CHUNK + 1)]
    queries = list(wql("C", ["A", "B"], values, ["A", "B"]))
    # two properties share the limit: each query lists half of it, under both properties
    assert len(queries) == 5
    lists = [q.split(" WHERE ")[1].split(" OR ") for q in queries]
    assert all(a.startswith("A IN (") and b == "B" + a[1:] for a, b in lists)
    listed = [a[len("A IN ("):-1].split(", ") for a, _ in lists]
    assert all(len(chunk) <= QUERY_CHUNK // 2 for chunk in listed)
    assert [v.strip("'") for chunk in listed for v in chunk] == values
    assert all(q.startswith("SELECT A, B FROM C WHERE ") for q in queries)


def test_a_quote_in_a_value_is_doubled():
    assert list(wql("C", ["A"], ["it's"], None)) == ["SELECT * FROM C WHERE A IN ('it''s')"]
