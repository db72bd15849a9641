"""A scripted PowerShell runner for the Windows and Hyper-V host adapters (nothing real runs
PowerShell here): it expects scripts in order, checks each one's hygiene and answers with
recorded JSON; HOSTILE is a value that must never be pasted into a script."""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

HOSTILE = "x'; Remove-Item C:\\ -Recurse #"
_ENDS_WITH_JSON = re.compile(r"ConvertTo-Json\b[^\n]*-Compress -Depth \d+\s*\Z")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []


@dataclass
class Call:
    script: str
    params: dict[str, Any]
    reply: Any


@dataclass
class ScriptedRunner:
    """Expects scripts in order; checks each and answers with the recorded JSON."""

    expected: list[Call] = field(default_factory=list)
    seen: list[Call] = field(default_factory=list)

    def expect(self, script: str, params: dict[str, Any], reply: Any) -> ScriptedRunner:
        self.expected.append(Call(script, params, reply))
        return self

    def run(self, script: str, params: dict[str, Any]) -> Any:
        assert self.expected, f"unexpected script:\n{script}"
        call = self.expected.pop(0)
        assert script is call.script, f"wrong script, got:\n{script}"
        assert params == call.params
        # Hygiene every script must have: values only as parameters, errors stop it,
        # and the last statement prints JSON.
        assert script.startswith("param(")
        assert "$ErrorActionPreference = 'Stop'" in script
        assert _ENDS_WITH_JSON.search(script), script[-120:]
        for name in params:
            assert f"${name}" in script.split("\n", 1)[0], f"{name} not declared in param()"
        for value in _strings(list(params.values())):
            if value:
                assert value not in script, f"value {value!r} pasted into the script"
        self.seen.append(Call(script, copy.deepcopy(params), call.reply))
        # What comes back went through JSON, as from ConvertTo-Json.
        return json.loads(json.dumps(call.reply))

    def done(self) -> None:
        assert not self.expected, f"{len(self.expected)} expected scripts were not run"
