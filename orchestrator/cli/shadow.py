"""`vssorch shadow ...`: a requestor like diskshadow (manual chapter 4) that walks VSS's
order of provider calls, through the service or in this process.

    vssorch shadow [--service URL [--token-file F] | --in-process] [--config FILE] [--host-name H]
                   [--json] COMMAND [--json]
      providers                          list providers (GetProviderCapabilities)
      create UID... [--transportable] [--persistent|--auto-release] [--differential]
             [--metadata FILE] [--exec CMD]
                                         add volume(s) + create; prints the flush-and-hold window
      list [SET]                         list shadows
      expose ID / unexpose ID            LocateLuns / OnLunStateChange(DO_MASK_LUNS) on this host
      import FILE                        LocateLuns with the target LUNs saved by create --metadata
      delete (--set ID | --id ID | --all) OnLunEmpty for each target
      resync ID                          PRE_RECOVERY, ResyncLuns, POST_RECOVERY (restore)

The flush-and-hold window is VSS's: writes are held from just before CommitSnapshots
until it returns. The writers-frozen window runs from before PreCommitSnapshots until
PostCommitSnapshots returns. `--exec CMD` runs after every create, while the shadow
copies exist, and its exit status is the command's; an auto-release set is deleted after
it (the requestor lets go of it).

IDs are one scheme with `vssorch list`: a shadow copy is named by its shadow id or its VSS
snapshot id, a set by its set id, each with or without braces, in any case.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

from core.errors import MESSAGES, BadInput, VssError
from orchestrator.config import config_path, load_config
from orchestrator.output import guarded
from orchestrator.vss_luns import LunChange
from orchestrator.vss_types import Attr, LunInfo, clean_uid

DEFAULT_URL = "http://127.0.0.1:5990"


def same_id(a: str, b: str) -> bool:
    """GUIDs as VSS writes them ({...}) and as they are typed (bare, any case) are one id."""
    def bare(text: str) -> str:
        text = text.strip()
        return (text[1:-1] if text.startswith("{") and text.endswith("}") else text).lower()
    return bare(a) == bare(b)


class CallFailed(VssError):
    """A provider call failed; `reply` is the service's reply."""

    def __init__(self, call: str, reply: dict):
        code = reply.get("code", 4001)
        super().__init__(code if code in MESSAGES else 4001, f"{call}: {reply.get('error', reply)}")
        self.reply = reply


class Requestor:
    """The requestor's side of VSS: one method per diskshadow action."""

    def __init__(self, client):
        self.client = client
        self.requests: dict[str, int] = {}

    def call(self, name: str, **args) -> dict:
        reply = self.client.call(name, **args)
        self.requests[name] = self.requests.get(name, 0) + reply.get("array_requests", 0)
        if not reply.get("ok"):
            raise CallFailed(name, reply)
        return reply["result"]

    def providers(self) -> dict:
        return self.call("GetProviderCapabilities")

    def create(self, uids: list[str], *, transportable=False, persistent=True, differential=False,
               set_id: str | None = None) -> dict:
        """DoSnapshotSet as VSS runs it; any failure before the end of PostCommit aborts."""
        context = int((Attr.PERSISTENT | Attr.NO_AUTO_RELEASE if persistent else 0)
                      | (Attr.TRANSPORTABLE if transportable else 0) | (Attr.DIFFERENTIAL if differential else 0))
        luns = [LunInfo.for_uid(u).to_json() for u in uids]
        self.requests = {}
        t0 = time.perf_counter()
        answer = self.call("AreLunsSupported", context=context, luns=luns)
        if not answer["supported"]:
            why = "; ".join(f"{k}: {v}" for k, v in answer["reasons"].items())
            raise VssError(201, f"the provider does not support these volumes together ({why})")
        set_id = set_id or f"{{{uuid.uuid4()}}}"
        snapshot_ids = [f"{{{uuid.uuid4()}}}" for _ in uids]
        phase = "begin"
        try:
            for sid, lun in zip(snapshot_ids, luns):
                self.call("BeginPrepareSnapshot", set_id=set_id, snapshot_id=sid, context=context, luns=[lun])
            self.call("EndPrepareSnapshots", set_id=set_id)
            frozen = time.perf_counter()                 # writers freeze
            self.call("PreCommitSnapshots", set_id=set_id)
            hold = time.perf_counter()                   # file systems flush and hold writes
            self.call("CommitSnapshots", set_id=set_id)
            released = time.perf_counter()
            self.call("PostCommitSnapshots", set_id=set_id, snapshots_count=len(uids))
            thawed = time.perf_counter()                 # writers thaw
            phase = "post"
        finally:
            if phase != "post":
                self.client.call("AbortSnapshots", set_id=set_id)
        self.call("PreFinalCommitSnapshots", set_id=set_id)
        self.call("PostFinalCommitSnapshots", set_id=set_id)
        targets = self.call("GetTargetLuns", source_luns=luns, set_id=set_id)["luns"]
        if not transportable:        # surfaced on the creating machine
            self.call("LocateLuns", luns=targets)
            for t in targets:
                self.call("FillInLunInfo", device_name=t["serial"], lun=t)
        done = time.perf_counter()
        # the ids `vssorch list` shows (one id scheme: either is accepted everywhere)
        shadow_of = {sh["snapshot_id"]: sh["shadow_id"] for s in self.sets(set_id) for sh in s["shadows"]}
        return {"set_id": set_id, "shadow_ids": [shadow_of.get(i) for i in snapshot_ids],
                "snapshot_ids": snapshot_ids, "sources": uids, "targets": targets,
                "context": context, "hold_ms": 1000 * (released - hold),
                "frozen_ms": 1000 * (thawed - frozen), "create_ms": 1000 * (done - t0),
                "array_requests": dict(self.requests)}

    def sets(self, set_id: str | None = None) -> list[dict]:
        return self.call("ListSnapshots", **({"set_id": set_id} if set_id else {}))["sets"]

    def find(self, ident: str) -> tuple[dict, dict]:
        """A shadow copy by its shadow id (as `vssorch list` shows it) or its VSS snapshot
        id, with or without braces, in any case."""
        for s in self.sets():
            for sh in s["shadows"]:
                if any(same_id(ident, i) for i in (sh["shadow_id"], sh["snapshot_id"]) if i):
                    return s, sh
        raise BadInput(711, f"no shadow copy {ident}")

    def set_named(self, ident: str) -> str:
        """The set id as the provider keeps it, from any spelling of it."""
        for s in self.sets():
            if same_id(ident, s["set_id"]):
                return s["set_id"]
        raise BadInput(711, f"no shadow copy set {ident}")

    def expose(self, ident: str) -> list[str]:
        _, sh = self.find(ident)
        return self.call("LocateLuns", luns=[LunInfo.for_uid(sh["target_uid"]).to_json()])["located"]

    def unexpose(self, ident: str) -> list[str]:
        _, sh = self.find(ident)
        return self.call("OnLunStateChange", snapshot_luns=[LunInfo.for_uid(sh["target_uid"]).to_json()],
                         original_luns=[LunInfo.for_uid(sh["source_uid"]).to_json()],
                         flags=LunChange.DO_MASK_LUNS)["masked"]

    def import_(self, targets: list[dict]) -> list[str]:
        located = self.call("LocateLuns", luns=targets)["located"]
        for t in targets:
            self.call("FillInLunInfo", device_name=t.get("serial", ""), lun=t)
        return located

    def delete(self, *, set_id: str | None = None, ident: str | None = None, everything=False) -> list[str]:
        if ident is not None:          # an empty id too: it names no shadow copy
            shadows = [self.find(ident)[1]]
        elif everything or set_id is not None:
            wanted = None if everything or set_id is None else self.set_named(set_id)
            shadows = [sh for s in self.sets(wanted) for sh in s["shadows"]]
        else:       # `shadow delete` requires one of --set, --id, --all
            raise BadInput(711, "name the shadow copy set (--set), the shadow copy (--id) or --all")
        deleted: list[str] = []
        for sh in shadows:
            if sh["shadow_id"] not in deleted:
                deleted += self.call("OnLunEmpty", lun=LunInfo.for_uid(sh["target_uid"]).to_json())["deleted"]
        return deleted

    def resync(self, ident: str) -> list[str]:
        _, sh = self.find(ident)
        snap, orig = [LunInfo.for_uid(sh["target_uid"]).to_json()], [LunInfo.for_uid(sh["source_uid"]).to_json()]
        self.call("OnLunStateChange", snapshot_luns=snap, original_luns=orig, flags=LunChange.NOTIFY_LUN_PRE_RECOVERY)
        removed = self.call("ResyncLuns", source_luns=snap, target_luns=orig)["removed"]
        self.call("OnLunStateChange", snapshot_luns=[], original_luns=orig, flags=LunChange.NOTIFY_LUN_POST_RECOVERY)
        return removed


def register(sub) -> None:
    p = sub.add_parser("shadow", help="a diskshadow-like requestor driving the provider's VSS calls")
    p.add_argument("--service", metavar="URL", help=f"the provider service (http://... or unix:PATH; default {DEFAULT_URL})")
    p.add_argument("--token-file", metavar="FILE", help="the service token (default <stateDir>/service.token)")
    p.add_argument("--in-process", action="store_true", help="run the provider in this process, no service")
    p.add_argument("--config", metavar="FILE", help="configuration file")
    p.add_argument("--host-name", metavar="NAME", help="the array host that is this machine (in process); with "
                   "the service, only the name it was started with (vssorch serve --host-name)")
    p.add_argument("--json", action="store_true", help="print results as JSON (also after the command)")
    s = p.add_subparsers(dest="shadow_command", metavar="COMMAND")
    s.required = True

    def command(name: str, text: str):
        c = s.add_parser(name, help=text, description=text)
        # --json after the command too; SUPPRESS keeps the one given before it
        c.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print results as JSON")
        return c
    command("providers", "list providers (GetProviderCapabilities)")
    c = command("create", "add volume(s) and create a shadow-copy set; prints the flush-and-hold window")
    c.add_argument("volumes", nargs="+", metavar="UID", help="source volume UID (page 0x83 NAA id)")
    c.add_argument("--transportable", action="store_true")
    g = c.add_mutually_exclusive_group()
    g.add_argument("--persistent", action="store_true", default=True)
    g.add_argument("--auto-release", dest="persistent", action="store_false")
    c.add_argument("--differential", action="store_true", help="copy-on-write (copy rate 0)")
    c.add_argument("--metadata", metavar="FILE", help="write the set's target LUNs there (for import)")
    c.add_argument("--exec", dest="exec_cmd", metavar="CMD",
                   help="run CMD once the shadow copies exist (before an auto-release set is deleted); "
                        "its exit status is the command's")
    command("list", "list shadow copies").add_argument("set_id", nargs="?", metavar="SET")
    for name, text in (("expose", "show a shadow copy's target on this host (LocateLuns)"),
                       ("unexpose", "take it away from this host (OnLunStateChange DO_MASK_LUNS)"),
                       ("resync", "copy a shadow copy back over its source (ResyncLuns)")):
        command(name, text).add_argument("ident", metavar="ID", help="shadow id (vssorch list) or VSS snapshot id")
    command("import", "import a transportable set on this host (LocateLuns)").add_argument(
        "metadata", metavar="FILE", help="written by create --metadata")
    d = command("delete", "delete shadow copies (OnLunEmpty for each target)")
    dg = d.add_mutually_exclusive_group(required=True)
    dg.add_argument("--set", dest="set_id", metavar="ID")
    dg.add_argument("--id", dest="ident", metavar="ID")
    dg.add_argument("--all", action="store_true")
    p.set_defaults(func=guarded(run))


def client_from(args):
    if args.in_process:
        from orchestrator.engine import Orchestrator
        from orchestrator.service_client import InProcessClient
        from orchestrator.vss import VssProvider
        config = load_config(config_path(args.config))
        orch = Orchestrator.from_config(config, consumer=None if args.host_name else "auto")
        return InProcessClient(VssProvider(lambda: orch, config.state_dir, args.host_name))
    from orchestrator.service_client import HttpClient
    token_file = args.token_file
    if token_file is None:
        token_file = load_config(config_path(args.config)).state_dir / "service.token"
    client = HttpClient.from_token_file(args.service or DEFAULT_URL, Path(token_file))
    if args.host_name is not None:
        # the service maps targets to the host it was started with; a command cannot change it
        status, info = client.request("GET", "/v1")
        if status != 200:
            client.close()
            raise CallFailed("GET /v1", info)
        serving = info.get("host_name")
        if serving != args.host_name:
            client.close()
            raise BadInput(205, f"--host-name {args.host_name}: the service at {client.url} acts for "
                                f"{serving or 'this machine (found from its initiators)'}; start it with "
                                f"`vssorch serve --host-name {args.host_name}` or use --in-process")
    return client


def _volumes(texts: list[str]) -> list[str]:
    out = []
    for t in texts:
        uid = clean_uid(t)
        if uid is None:
            raise BadInput(201, f"{t!r} is not a 32-digit volume UID")
        out.append(uid)
    return out


def _print_create(res: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(res, indent=1))
        return
    print(f"Shadow copy set ID {res['set_id']}")
    for shadow, sid, src, tgt in zip(res["shadow_ids"], res["snapshot_ids"], res["sources"], res["targets"]):
        print(f"* Shadow copy ID = {shadow}\n  - VSS snapshot ID: {sid}\n  - original volume: {src}\n"
              f"  - shadow copy LUN: {tgt['serial']}")
    attrs = ", ".join(name for name, a in Attr.__members__.items() if res["context"] & a) or "Auto_Release"
    print(f"  attributes: {attrs} HARDWARE_ASSISTED")
    rq = res["array_requests"]
    print(f"flush-and-hold window: {res['hold_ms']:.1f} ms (CommitSnapshots, {rq.get('CommitSnapshots', 0)} array request(s))")
    print(f"writers frozen: {res['frozen_ms']:.1f} ms (PreCommit..PostCommit); whole create {res['create_ms']:.1f} ms")
    print("array requests: " + ", ".join(f"{k} {v}" for k, v in rq.items()))


def _create(req: Requestor, args, volumes: list[str]) -> int:
    res = req.create(volumes, transportable=args.transportable, persistent=args.persistent,
                     differential=args.differential)
    if args.metadata:
        Path(args.metadata).write_text(json.dumps({"set_id": res["set_id"], "targets": res["targets"]}, indent=1))
    _print_create(res, args.json)
    status = 0
    try:
        if args.exec_cmd:
            sys.stdout.flush()          # our lines before the command's
            status = subprocess.run(args.exec_cmd, shell=True, check=False).returncode
            if status:
                print(f"vssorch: --exec command exited with status {status}", file=sys.stderr)
    finally:
        if not args.persistent:         # the requestor lets go of an auto-release set
            req.delete(set_id=res["set_id"])
    return status if 0 <= status < 256 else 1


def run(args) -> int:
    if args.shadow_command == "create":
        volumes = _volumes(args.volumes)
    client = client_from(args)
    req = Requestor(client)
    try:
        cmd = args.shadow_command
        if cmd == "providers":
            p = req.providers()
            print(json.dumps(p, indent=1) if args.json else
                  f"* ProviderID: {p['provider_id']}\n  type: {p['type']}\n  name: {p['name']}\n"
                  f"  version: {p['version']}\n1 provider registered")
        elif cmd == "create":
            return _create(req, args, volumes)
        elif cmd == "list":
            sets = req.sets(req.set_named(args.set_id) if args.set_id else None)
            if args.json:
                print(json.dumps(sets, indent=1))
            for s in [] if args.json else sets:
                kind = "Transportable" if s["transportable"] else "Not transportable"
                print(f"Shadow copy set {s['set_id']} ({s['state']}, {kind}, "
                      f"{'Persistent' if s['persistent'] else 'Auto_Release'})")
                for sh in s["shadows"]:
                    shown = ", ".join(sh["exposed_to"]) or "not exposed"
                    print(f"  * {sh['shadow_id']}  {sh['source_name'] or sh['source_uid']}"
                          f" -> {sh['target_uid']}  ({shown})")
            if not args.json:
                print(f"{sum(len(s['shadows']) for s in sets)} shadow copies listed")
        elif cmd in ("expose", "unexpose", "resync"):
            out = getattr(req, cmd)(args.ident)
            print(json.dumps(out) if args.json else f"{cmd}: {', '.join(out) or 'nothing to do'}")
        elif cmd == "import":
            try:
                meta = json.loads(Path(args.metadata).read_text())
                targets = meta["targets"]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise BadInput(2505, f"{args.metadata}: not a metadata file of create --metadata ({exc})") from None
            out = req.import_(targets)
            print(json.dumps(out) if args.json else f"imported: {', '.join(out)}")
        elif cmd == "delete":
            out = req.delete(set_id=args.set_id, ident=args.ident, everything=args.all)
            print(json.dumps(out) if args.json else f"{len(out)} shadow copies deleted")
    finally:
        client.close()
    return 0
