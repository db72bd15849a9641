"""A password for `inspurvcfg set password` without a value: typed at the terminal
(twice, not echoed) or one line of standard input, never on the command line, where
`ps` and the shell's history show it."""
from __future__ import annotations

import getpass
import sys

from core.errors import ConfigError


def typed_secret(key: str, prog: str) -> str:
    try:
        if sys.stdin.isatty():
            value = getpass.getpass(f"{key}: ")
            if getpass.getpass(f"{key} again: ") != value:
                raise ConfigError(f"{key}: the two entries differ; nothing was changed")
        else:
            line = sys.stdin.readline()
            if not line:
                raise ConfigError(f"{key}: standard input is empty; nothing was changed")
            value = line.rstrip("\r\n")
    except EOFError:
        raise ConfigError(f"{key}: nothing entered; nothing was changed") from None
    if not value:
        raise ConfigError(f"{key}: nothing entered; nothing was changed (to clear it: "
                          f"{prog} set {key} '')")
    return value
