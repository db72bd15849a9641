"""`inspurvcfg showcfg` and `set`, and the checks that follow a successful `set`
(reconnecting after new credentials, warning about settings that strand existing
shadow copies; manual 3.1-3.4, 5.2)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from core.errors import VssError
from orchestrator.cli.secret_input import typed_secret
from orchestrator.cli.vcfg_base import (AFTER_SET, PROG, UsageError, after_set, array_error, connect, load,
                                        verb)
from orchestrator.config import PARAMS, Config, Param, config_path, find_param
from orchestrator.configedit import read_values, set_values
from orchestrator.output import warn


def _show(param: Param, config: Config) -> str:
    value = param.show(config)
    return f"{param.label}: {value}" if value else f"{param.label}:"


def _clear_text(config: Config) -> None:
    if config.password and not config.using_ssl:
        warn(PROG, "usingSSL is false: the CIMOM password goes over the network in clear text "
             "(set usingSSL true, port 5989)")


@verb("showcfg", "show every parameter and its value (passwords masked)")
def showcfg(args: argparse.Namespace) -> None:
    config = load(args)
    for param in PARAMS:
        print(_show(param, config))
    _clear_text(config)


def _set_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("param", help="parameter name as the manual writes it (any case)")
    parser.add_argument("value", nargs="?",
                        help="new value; put -- before a value starting with '-'. Without it, "
                             "password and vmpassword are asked for (not shown) or read as one "
                             "line of standard input")


@verb("set", "set one parameter", _set_arguments)
def set_(args: argparse.Namespace) -> None:
    param = find_param(args.param)
    text = args.value
    if text is None:
        if not param.secret:
            raise UsageError("the following arguments are required: value")
        text = typed_secret(param.key, PROG)
    elif param.secret and text:
        warn(PROG, f"a {param.key} given on the command line is visible to other users (ps, "
             f"shell history); '{PROG} set {param.key}' without a value asks for it instead")
    # A relative path typed on the command line means one relative to where it was typed.
    values = read_values(param, text, Path.cwd())
    config = set_values(config_path(args.config), {p.key: p.kind.store(v) for p, v in values.items()})
    for changed in values:
        print(_show(changed, config))
    if {"password", "usingSSL"} & {p.key for p in values}:
        _clear_text(config)
    for check in AFTER_SET:
        check(param, config)


_CONNECTION = {"cimomHost", "cimomPort", "username", "password", "usingSSL", "caFile",
               "namespace", "targetMCS", "cimomTimeout"}
_HOST_SIDE = {"storageProtocol", "vmhost", "vmusername", "vmpassword", "vmcredential",
              "vmdomain"}
CHECK_TIMEOUT_MS = 5000


@after_set
def connection_test(param: Param, config: Config) -> None:
    """New connection settings are tried at once; a failure is a warning (the setting is
    saved and the next `set` may complete it), not an error."""
    if param.key not in _CONNECTION or os.environ.get("VSSORCH_SET_CHECK", "1") == "0":
        return
    try:
        timeout = min(config.cimom_timeout or CHECK_TIMEOUT_MS, CHECK_TIMEOUT_MS)
        who = connect(config, timeout).identity()
    except Exception as exc:
        warn(PROG, f"connection test failed: {array_error(exc)}")
        return
    print(f"connected: {who.product} {who.version}, cluster {who.cluster_name} ({who.cluster_id})")


@after_set
def stranded_copies(param: Param, config: Config) -> None:
    """Manual 5.2: shadow copies made under the old host-side settings may not be
    deletable under the new ones."""
    if param.key not in _HOST_SIDE:
        return
    from orchestrator.recordstore import RecordStore
    try:
        sets = RecordStore(config.state_dir).sets()
    except VssError as exc:
        warn(PROG, f"cannot tell whether shadow copies exist: {exc}")
        return
    if sets:
        count = sum(len(s.shadows) for s in sets)
        warn(PROG, f"{count} shadow copies exist (see 'vssorch list'); they were made with the "
             f"previous {param.key} and deleting, importing or restoring them may now fail "
             "(manual 5.2): change it back or delete them first")
