"""The configuration: every parameter the manual's `inspurvcfg` knows, plus our own.

One YAML file of `parameter: value` lines, named as the manual writes them. Each value
is parsed from its source text (not from YAML's guess at its type), so `usingSSL: Yes`
means true, a WWPN keeps its leading zeros and `password: 1234` stays a string. The
file is checked as a whole before anything uses it; the first problem is reported with
the file line and the parameter.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from yaml.nodes import MappingNode, ScalarNode

from orchestrator import passwords
from core.errors import ConfigError

# Reading uses libyaml when PyYAML has it: ~40x faster than a pure-Python parser and it
# bounds nesting depth. Editing (configedit) needs ruamel.yaml's round trip instead.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_NULL_TAG = "tag:yaml.org,2002:null"
# The tags YAML gives a plain value on its own; any other comes from an explicit tag.
_CORE_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in (
    "str", "int", "bool", "float", "null", "timestamp", "value", "merge"))
_INT32_MAX = 2**31 - 1          # a bound every timeout consumer takes (Windows waits: 32-bit ms)


# --- value kinds: text -> value, value -> showcfg text, value -> YAML value ---------------

@dataclass(frozen=True)
class Kind:
    """How a parameter's text becomes a value, and how the value is shown and stored.

    `parse(text, base)` raises ValueError with what the value must be; `base` is the
    folder relative paths are resolved against (the config file's, or the working
    folder for a command-line argument).
    """
    parse: Callable[[str, Path], Any]
    show: Callable[[Any], str] = str
    store: Callable[[Any], Any] = lambda value: value
    secret: bool = False


def _single_line(text: str) -> str:
    text = text.strip()
    if any(ch < " " or ch == "\x7f" for ch in text):
        raise ValueError("must be a single line without control characters")
    return text


def _integer(lo: int, hi: int) -> Kind:
    def parse(text: str, _base: Path) -> int:
        text = text.strip()
        # ASCII digits only: int() would also take "1_0", "+5" and non-Latin digits.
        if not re.fullmatch(r"[0-9]{1,10}", text) or not lo <= int(text) <= hi:
            raise ValueError(f"must be an integer {lo}..{hi}")
        return int(text)
    return Kind(parse)


_TRUE = ("true", "yes", "1")
_FALSE = ("false", "no", "0")


def _flag(digits: bool) -> Kind:
    """A yes/no setting; the manual shows some as true/false and some as 1/0."""
    def parse(text: str, _base: Path) -> bool:
        word = text.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise ValueError("must be one of true, false, yes, no, 1, 0")
    if digits:
        return Kind(parse, show=lambda v: "1" if v else "0", store=int)
    return Kind(parse, show=lambda v: "true" if v else "false")


def _choice(*options: str) -> Kind:
    def parse(text: str, _base: Path) -> str:
        word = text.strip().lower()
        if word not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return word
    return Kind(parse)


def _wwpn(text: str, _base: Path) -> str:
    text = text.strip()
    if re.fullmatch(r"[0-9A-Fa-f]{16}", text):
        return text.upper()
    if text.lower().startswith(("iqn.", "eui.")):
        # The manual requires vss_free_host and vss_res_host to be FC hosts.
        raise ValueError("must be a WWPN of exactly 16 hex digits; the free and reserved "
                         "hosts are FC hosts, an iSCSI name is not accepted")
    if re.fullmatch(r"[0-9A-Fa-f]+", text):
        raise ValueError(f"must be a WWPN of exactly 16 hex digits, not {len(text)}")
    raise ValueError("must be a WWPN of exactly 16 hex digits")


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"


def _is_host(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return len(text) <= 253 and re.fullmatch(rf"{_LABEL}(?:\.{_LABEL})*", text) is not None


def _host(text: str, _base: Path) -> str:
    text = text.strip()
    if text and not _is_host(text):
        raise ValueError("must be a host name or IP address, without scheme or port")
    return text


def _initiator(text: str, _base: Path) -> str:
    text = _single_line(text)
    if not text or re.fullmatch(r"[0-9A-Fa-f]{16}", text):
        return text.upper()
    if re.fullmatch(r"(iqn\.\d{4}-\d{2}\.[a-z0-9.-]+(:\S+)?|eui\.[0-9A-Fa-f]{16})", text, re.IGNORECASE):
        return text
    raise ValueError("must be a WWPN of 16 hex digits or an iSCSI name (iqn.yyyy-mm.domain[:id] or eui.<16 hex>)")


def _https_url(text: str, _base: Path) -> str:
    text = _single_line(text)
    if not text:
        return text
    problem = "must be an https URL of the VMware web service, such as https://vcenter.example.com/sdk"
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        raise ValueError(problem) from None
    if (parts.scheme.lower() != "https" or not parts.hostname or not _is_host(parts.hostname)
            or parts.username is not None or parts.query or parts.fragment):
        raise ValueError(problem)
    return text


def _text(text: str, _base: Path) -> str:
    return _single_line(text)


def _name(required: bool) -> Kind:
    """An array object's name or id (pool, I/O group, host, cluster)."""
    def parse(text: str, _base: Path) -> str:
        text = text.strip()
        if (text or required) and not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}", text):
            raise ValueError("must be an array object name or id: up to 63 letters, digits, "
                             "'_', '.' or '-'")
        return text
    return Kind(parse)


def _namespace(text: str, _base: Path) -> str:
    text = text.strip()
    if not re.fullmatch(r"[A-Za-z0-9_]+(?:/[A-Za-z0-9_]+)*", text):
        raise ValueError("must be a CIM namespace such as root/ibm")
    return text


_WINDOWS_PATH = re.compile(r"[A-Za-z]:[\\/]|\\\\")     # C:\... or \\server\share


def foreign_path(text: str, windows: bool = os.name == "nt") -> bool:
    """A Windows path (drive letter or UNC) on another system: not a relative path."""
    return not windows and _WINDOWS_PATH.match(text) is not None


def _path(required: bool) -> Kind:
    def parse(text: str, base: Path) -> Path | None:
        text = _single_line(text)
        if not text:
            if required:
                raise ValueError("must be a path")
            return None
        if foreign_path(text):
            raise ValueError(f"{text} not found: a Windows path, and this system is not Windows")
        return base / text   # an absolute path stays as it is

    def text(value: Path | None) -> str:
        return "" if value is None else str(value)
    return Kind(parse, show=text, store=text)


def _secret(text: str, _base: Path) -> str:
    return text          # any characters; never shown, so never checked against a pattern


# Shown only as set or not set.
_SECRET = Kind(_secret, show=lambda v: "********" if v else "", secret=True)


# --- the parameters -------------------------------------------------------------------

@dataclass(frozen=True)
class Param:
    """One configuration parameter as users name it (file key, `set` and `showcfg`)."""
    key: str                    # the manual's spelling; also the YAML key
    attr: str                   # the Config field
    kind: Kind
    label: str                  # the showcfg label
    aliases: tuple[str, ...]    # other names `set` accepts, as the manual uses them
    env: str | None             # environment variable that overrides the file

    @property
    def secret(self) -> bool:
        return self.kind.secret

    def show(self, config: Config) -> str:
        return self.kind.show(getattr(config, self.attr))


def _param(key: str, kind: Kind, default: Any = dataclasses.MISSING, *,
           default_factory: Any = dataclasses.MISSING, label: str = "",
           aliases: tuple[str, ...] = (), env: str | None = None) -> Any:
    meta = {"key": key, "kind": kind, "label": label or key, "aliases": aliases, "env": env}
    # A secret's clear text stays out of the Config's repr (tracebacks, debug logs).
    return field(default=default, default_factory=default_factory, metadata=meta,
                 repr=not kind.secret)


def _program_data(env: Mapping[str, str]) -> Path:
    return Path(env.get("ProgramData") or r"C:\ProgramData") / "vssorch"


def default_state_dir(env: Mapping[str, str] = os.environ, windows: bool = os.name == "nt") -> Path:
    """Where recovery files live unless stateDir says otherwise."""
    return _program_data(env) / "state" if windows else Path("/var/lib/vssorch")


def default_config_path(env: Mapping[str, str] = os.environ, windows: bool = os.name == "nt") -> Path:
    return _program_data(env) / "config.yaml" if windows else Path("/etc/vssorch/config.yaml")


_TIME = _integer(0, _INT32_MAX)


@dataclass(frozen=True)
class Config:
    """Every setting, typed. Field order is the order `showcfg` prints them in: the
    manual's sample output (3.2.2.6), the parameters it leaves out next to their kin,
    then the ones this product adds."""

    cimom_host: str = _param("cimomHost", Kind(_host), "")
    cimom_port: int = _param("cimomPort", _integer(1, 65535), 5989)
    username: str = _param("username", Kind(_text), "", label="username <cimom>")
    password: str = _param("password", _SECRET, "", env="VSSORCH_PASSWORD")
    using_ssl: bool = _param("usingSSL", _flag(digits=False), True)
    vss_free_initiator: str = _param("vssFreeInitiator", Kind(_wwpn), "5000000000000000")
    vss_reserved_initiator: str = _param("vssReservedInitiator", Kind(_wwpn), "5000000000000001")
    background_copy: int = _param("backgroundCopy", _integer(0, 100), 50)
    target_mcs: str = _param("targetMCS", _name(required=False), "")
    incremental_lc: bool = _param("incrementalLC", _flag(digits=False), False)
    cimom_timeout: int = _param("cimomTimeout", _TIME, 0)
    rescan_once_arr: bool = _param("rescanOnceArr", _flag(digits=True), False)
    rescan_once_rem: bool = _param("rescanOnceRem", _flag(digits=True), False)
    rescan_rem_min: int = _param("rescanRemMin", _TIME, 0)
    rescan_rem_max: int = _param("rescanRemMax", _TIME, 45)
    storage_protocol: str = _param("storageProtocol", _choice("auto", "fc", "iscsi"), "auto")
    storage_pool: str = _param("storagePool", _name(required=False), "")
    allocate_option: str = _param("allocateOption", _choice("standard", "se"), "standard")
    io_group: str = _param("ioGroup", _name(required=False), "")
    deduped: bool = _param("deduped", _flag(digits=True), False)
    compressed: bool = _param("compressed", _flag(digits=True), False)
    vm_host: str = _param("vmhost", Kind(_https_url), "")
    vm_username: str = _param("vmusername", Kind(_text), "", aliases=("vmuser",))
    vm_password: str = _param("vmpassword", _SECRET, "", env="VSSORCH_VMPASSWORD")
    vm_credential: Path | None = _param("vmcredential", _path(required=False), None)
    vm_timeout: int = _param("vmtimeout", _integer(1, _INT32_MAX), 600000, aliases=("vtimeout",))
    vm_domain: str = _param("vmdomain", Kind(_text), "")
    namespace: str = _param("namespace", Kind(_namespace), "root/ibm")
    ca_file: Path | None = _param("caFile", _path(required=False), None)
    state_dir: Path = _param("stateDir", _path(required=True), default_factory=default_state_dir)
    free_host_name: str = _param("freeHostName", _name(required=True), "vss_free_host")
    res_host_name: str = _param("resHostName", _name(required=True), "vss_res_host")
    host_adapter: str = _param("hostAdapter", _choice("auto", "windows", "linux", "sim"), "auto")
    sim_initiator: str = _param("simInitiator", Kind(_initiator), "")
    restore_stall_seconds: int = _param("restoreStallSeconds", _integer(1, _INT32_MAX), 600)


PARAMS: tuple[Param, ...] = tuple(
    Param(attr=f.name, **f.metadata) for f in dataclasses.fields(Config))
_BY_KEY: Mapping[str, Param] = {p.key: p for p in PARAMS}
# Lower-cased names and aliases -> parameter: `set` takes names in any case.
_BY_NAME: Mapping[str, Param] = {
    name.lower(): p for p in PARAMS for name in (p.key, *p.aliases)}


def suggest(name: str) -> str | None:
    """The parameter a mistyped name most likely meant (did-you-mean)."""
    lowered = name.lower()
    if lowered in _BY_NAME:
        return _BY_NAME[lowered].key
    close = difflib.get_close_matches(lowered, list(_BY_NAME), n=1, cutoff=0.75)
    return _BY_NAME[close[0]].key if close else None


def _unknown(name: str) -> str:
    hint = suggest(name)
    return f"unknown parameter '{name}'" + (f" (did you mean {hint}?)" if hint else "")


def find_param(name: str) -> Param:
    """A parameter by any of the names `set` accepts, in any case."""
    try:
        return _BY_NAME[name.lower()]
    except KeyError:
        raise ConfigError(_unknown(name)) from None


def read_value(param: Param, text: str, base: Path) -> Any:
    """A command-line value for `param`; relative paths are taken from `base`."""
    try:
        return param.kind.parse(text, base)
    except ValueError as exc:
        raise ConfigError(f"{param.key}: {exc}") from None


# --- locating, reading and checking the file ------------------------------------------

def config_path(explicit: str | None = None, env: Mapping[str, str] = os.environ) -> Path:
    """`--config FILE`, else $VSSORCH_CONFIG, else the system's location."""
    chosen = explicit or env.get("VSSORCH_CONFIG")
    return Path(chosen) if chosen else default_config_path(env)


def read_text(path: Path) -> str:
    """The file's text, newlines untouched; a UTF-8 byte-order mark (Notepad) is dropped."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file (create it with "
                          "'inspurvcfg set <param> <value>' or copy config.example.yaml)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None


def syntax_error(source: str, exc: Exception) -> ConfigError:
    """A YAML parser's complaint (PyYAML's or ruamel.yaml's) as one line naming the file line."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or "invalid YAML"
    return ConfigError(f"{source}:{mark.line + 1}: {problem}" if mark else f"{source}: {problem}")


def _compose(text: str, source: str) -> MappingNode | None:
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise syntax_error(source, exc) from None
    except RecursionError:      # only the pure-Python parser recurses
        raise ConfigError(f"{source}: nested too deeply") from None
    if root is None or (isinstance(root, ScalarNode) and root.tag == _NULL_TAG):
        return None
    if not isinstance(root, MappingNode):
        raise ConfigError(f"{source}:{root.start_mark.line + 1}: "
                          "the file must be a mapping of 'parameter: value' lines")
    return root


def parse_config(text: str, source: str, base: Path,
                 env: Mapping[str, str] = os.environ) -> Config:
    """Check a whole configuration text and build its Config (or raise ConfigError).

    `source` names the file in messages; `base` is the folder relative paths are
    resolved against; `env` may override secrets.
    """
    root = _compose(text, source)
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in root.value if root is not None else ():
        line = key_node.start_mark.line + 1
        name = key_node.value if isinstance(key_node, ScalarNode) else "<complex key>"
        param = _BY_KEY.get(name)
        if param is None:
            raise ConfigError(f"{source}:{line}: {_unknown(name)}")
        if param.key in lines:
            raise ConfigError(f"{source}:{line}: {param.key}: given twice (first on line "
                              f"{lines[param.key]})")
        lines[param.key] = line
        if not isinstance(value_node, ScalarNode):
            raise ConfigError(f"{source}:{line}: {param.key}: must be a single value")
        where = f"{source}:{value_node.start_mark.line + 1}: {param.key}"
        if value_node.tag not in _CORE_TAGS:     # `key: !abc` is a tag, not the text "!abc"
            raise ConfigError(f"{where}: YAML reads this value as a tag ({value_node.tag}); "
                              "put it in quotes")
        if value_node.tag == _NULL_TAG:
            continue     # `key:` with nothing after it (or ~, null) keeps the default
        try:
            values[param.attr] = param.kind.parse(value_node.value, base)
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    sealed = [p for p in PARAMS if p.secret and passwords.is_sealed(values.get(p.attr, ""))
              and not (p.env and env.get(p.env))]
    for param in PARAMS:
        if param.env and env.get(param.env):
            values[param.attr] = env[param.env]
    config = Config(**values)
    _check_together(config, source, lines)
    opened: dict[str, Any] = {}
    for param in sealed:    # the one place consumers' clear text comes from (key: beside stateDir)
        try:
            opened[param.attr] = passwords.reveal(getattr(config, param.attr), config.state_dir)
        except ValueError as exc:
            raise ConfigError(f"{source}:{lines[param.key]}: {param.key}: {exc}") from None
    return dataclasses.replace(config, **opened)


def _check_together(config: Config, source: str, lines: Mapping[str, int]) -> None:
    """Rules between two parameters; reported at the later of their lines in the file."""
    c = config
    broken = (
        ("vssFreeInitiator", "vssReservedInitiator",
         c.vss_free_initiator == c.vss_reserved_initiator,
         f"must differ (both {c.vss_free_initiator})"),
        ("freeHostName", "resHostName", c.free_host_name == c.res_host_name,
         f"must differ (both {c.free_host_name})"),
        ("rescanRemMin", "rescanRemMax", c.rescan_rem_min > c.rescan_rem_max,
         f"must be in order ({c.rescan_rem_min} is more than {c.rescan_rem_max})"),
    )
    for first, second, failed, problem in broken:
        if failed:
            line = max(lines.get(first, 0), lines.get(second, 0))
            where = f"{source}:{line}" if line else source
            raise ConfigError(f"{where}: {first} and {second} {problem}")


def load_config(path: Path, env: Mapping[str, str] = os.environ) -> Config:
    """Read and check the configuration file; relative paths in it are taken from its folder."""
    return parse_config(read_text(path), str(path), path.absolute().parent, env)
