"""Our MOF against the real agent's signatures (facts.json): any drift fails here."""
import pytest

from tests.conformance import schema_facts as sf


@pytest.mark.parametrize("classname", sorted(sf.ours()))
def test_class_matches_the_real_schema(classname):
    assert sf.class_differences(classname) == []


def test_extensions_are_exactly_the_allowed_ones_each_with_a_reason():
    marked = sf.extension_reasons()
    allowed = {tuple(e["target"]): e["reason"] for e in sf.EXTENSIONS}
    assert set(marked) == set(allowed)
    assert all(reason.strip() for reason in marked.values())


def test_facts_cover_the_whole_agent_schema():
    # a truncated or regenerated facts file must still hold every IBMTSSVC class
    assert sum(1 for name in sf.real() if name.startswith("IBMTSSVC_")) == 349
