"""`vssorch states` draws every state table the code runs: the lifecycles as before, the
VSS provider's phase order and the embedded array's FlashCopy mapping states, from the
tables themselves."""
from __future__ import annotations

import pytest

from orchestrator.cli.main import main
from orchestrator.vss_phases import EVENTS, STEPS, Phase
from simulator.flashcopy_states import DELETED, MOVES, STATES
from states import KINDS


def run(capsys, *argv: str) -> str:
    assert main(["states", *argv]) == 0
    return capsys.readouterr().out


def test_the_vss_phase_table_as_rows(capsys):
    lines = run(capsys, "vss", "--format", "table").splitlines()
    assert lines[0] == "vss:"
    rows = [line.split() for line in lines[1:] if line.strip()]
    assert len(rows) == len(STEPS)
    for row, step in zip(rows, STEPS):
        assert row[:2] == [step.source.value, f"--{step.trigger}-->"] and row[2] == step.dest.value
        assert (row[3:] == ["(event)"]) == (step.trigger in EVENTS)


def test_the_flashcopy_table_as_a_diagram(capsys):
    out = run(capsys, "flashcopy")
    assert "FlashCopy mapping states" in out and "stateDiagram-v2" in out
    for state in (*STATES, DELETED):
        assert f'state "{state}" as {state}' in out
    assert "[*] --> idle_or_copied" in out
    edges = {line.strip().split(": ")[0]: line.split(": ")[1].split(" | ")
             for line in out.splitlines() if " --> " in line and "[*]" not in line}
    for move in MOVES:
        assert move.trigger in edges[f"{move.source} --> {move.dest}"], move
    assert sum(len(t) for t in edges.values()) == len(MOVES)


def test_without_a_kind_every_table_follows_the_lifecycles_unchanged(capsys):
    each = [run(capsys, kind) for kind in (*KINDS, "vss", "flashcopy")]
    assert run(capsys) == "".join(each)
    vss = run(capsys, "vss")
    assert all(f'state "{p.value}"' in vss for p in Phase)


def test_an_unknown_table_is_bad_usage(capsys):
    with pytest.raises(SystemExit) as e:
        main(["states", "suspended"])
    assert e.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
