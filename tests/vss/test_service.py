"""The service itself: token, request checking, configuration reload, Unix socket, sets
in parallel, state kept across a restart, cleanup at start, and the two commands."""
from __future__ import annotations

import http.client
import json
import os
import stat
import subprocess
import sys
import threading
import uuid

from structlog.testing import capture_logs

from orchestrator.cli.shadow import Requestor
from orchestrator.service import Service
from orchestrator.service_client import HttpClient
from orchestrator.vss_types import Attr, LunInfo

from tests.support.arrayproc import ROOT
from tests.support.demo import SRC1, SRC2
from tests.support.service import client_of

PERSISTENT = int(Attr.PERSISTENT | Attr.NO_AUTO_RELEASE)


def raw(svc: Service, body: bytes, path: str = "/v1/GetProviderCapabilities", token: str | None = None,
        headers: dict | None = None) -> tuple[int, dict]:
    host, port = svc.urls[0][len("http://"):].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    hdrs = {"Authorization": f"Bearer {svc.token if token is None else token}", **(headers or {})}
    conn.request("POST", path, body=body, headers=hdrs)
    resp = conn.getresponse()
    out = resp.status, json.loads(resp.read())
    conn.close()
    return out


def test_token_file_is_private_and_a_wrong_token_is_refused(service):
    assert stat.S_IMODE(os.stat(service.token_path).st_mode) == 0o600
    with capture_logs() as logs:
        status, reply = raw(service, b"{}", token="not-the-token")
        assert status == 401 and reply["code"] == 5 and "\n" not in reply["error"]
        status, _ = raw(service, b"{}", token="")
        assert status == 401
        status, reply = raw(service, b"{}")
        assert status == 200 and reply["ok"] and reply["result"]["max_volumes"] == 64
    assert service.token not in repr(logs)


def test_bad_requests_are_400_with_one_line_and_change_nothing(service, view):
    start = view.snapshot()
    for body in (b"{not json", b"[1, 2]", b'{"set_id": 5}', b'{"set_id": "a", "extra": 1}', b"\xff\xfe"):
        status, reply = raw(service, body, path="/v1/EndPrepareSnapshots")
        assert status == 400, body
        assert reply["code"] == 4001 and reply["error"].startswith("error 4001: bad request") and "\n" not in reply["error"]
    bad_lun = json.dumps({"set_id": "s", "snapshot_id": "a", "context": 0, "luns": [{"vendor": 1}]}).encode()
    assert raw(service, bad_lun, path="/v1/BeginPrepareSnapshot")[0] == 400
    assert raw(service, b"{}", path="/v1/NoSuchCall")[0] == 404
    assert raw(service, b"{}", headers={"Content-Length": str(1 << 30)})[0] == 400
    assert view.snapshot() == start
    assert Requestor(client_of(service)).sets() == []


def test_configuration_reload_and_a_broken_file_keeps_the_old_one(service, config_file):
    client = client_of(service)
    first = service.provider.orch
    text = config_file.read_text()
    config_file.write_text(text.replace("backgroundCopy: 0", "backgroundCopy: 20"))
    assert client.call("GetProviderCapabilities")["ok"]
    assert service.watch.reloads == 1 and service.provider.orch is not first
    assert service.provider.orch.config.background_copy == 20
    config_file.write_text(text + "backgroundCopy: [broken\n")
    with capture_logs() as logs:
        for _ in range(2):
            assert client.call("GetProviderCapabilities")["ok"]
    assert service.watch.reloads == 1 and service.provider.orch.config.background_copy == 20
    assert [e["event"] for e in logs].count("configuration change ignored, keeping the previous one") == 1
    assert Requestor(client).create([SRC1])["array_requests"]["CommitSnapshots"] == 1


def test_unix_socket(start_service, tmp_path):
    svc = start_service(listen=None, unix_socket=tmp_path / "provider.sock")
    assert svc.urls == [f"unix:{tmp_path / 'provider.sock'}"]
    assert stat.S_IMODE(os.stat(tmp_path / "provider.sock").st_mode) == 0o600
    client = HttpClient.from_token_file(svc.urls[0], svc.token_path)
    assert client.call("GetProviderCapabilities")["result"]["type"] == "VSS_PROV_HARDWARE"
    assert HttpClient(svc.urls[0], "wrong").call("GetProviderCapabilities")["code"] == 5


def test_sets_in_parallel(service, view):
    results, errors = {}, []

    def create(uid):
        try:
            results[uid] = Requestor(client_of(service)).create([uid])
        except Exception as exc:   # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=create, args=(u,)) for u in (SRC1, SRC2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    sets = Requestor(client_of(service)).sets()
    assert sorted(s["set_id"] for s in sets) == sorted(r["set_id"] for r in results.values())
    assert len(view.fcmaps()) == 2


def test_a_restart_between_callbacks_continues_the_set(start_service, config_file, view):
    svc = start_service()
    client = client_of(svc)
    set_id = f"{{{uuid.uuid4()}}}"
    assert client.call("BeginPrepareSnapshot", set_id=set_id, snapshot_id="a", context=PERSISTENT,
                       luns=[LunInfo.for_uid(SRC1).to_json()])["ok"]
    assert client.call("EndPrepareSnapshots", set_id=set_id)["ok"]
    assert client.call("PreCommitSnapshots", set_id=set_id)["ok"]
    svc.stop()
    again = client_of(start_service(cleanup=False))
    # a lifecycle resumed from its file first reads the group's state (engine's crash
    # check), so the start is not the only request here as it is without a restart
    assert again.call("CommitSnapshots", set_id=set_id)["array_requests"] <= 3
    assert again.call("PostCommitSnapshots", set_id=set_id, snapshots_count=1)["ok"]
    assert len(view.fcmaps()) == 1


def test_a_restart_right_after_the_hold_window_rolls_the_set_back(start_service, view):
    """CommitSnapshots writes nothing: the files still say "about to commit", so a
    service that stops before PostCommitSnapshots leaves a set cleanup rolls back (the
    group's start is undone with its mappings) and VSS's PostCommit is refused."""
    start = view.snapshot()
    svc = start_service()
    client = client_of(svc)
    set_id = f"{{{uuid.uuid4()}}}"
    assert client.call("BeginPrepareSnapshot", set_id=set_id, snapshot_id="a", context=PERSISTENT,
                       luns=[LunInfo.for_uid(SRC1).to_json()])["ok"]
    for call in ("EndPrepareSnapshots", "PreCommitSnapshots", "CommitSnapshots"):
        assert client.call(call, set_id=set_id)["ok"], call
    assert [state for _, _, state in view.fcmaps().values()] == ["copying"]     # the point in time was taken
    client.close()
    svc.stop()
    fresh = start_service()
    assert [r["action"] for r in fresh.cleanup_report] == ["rolled back"]
    assert view.snapshot() == start
    reply = client_of(fresh).call("PostCommitSnapshots", set_id=set_id, snapshots_count=1)
    assert reply["hresult"] == "VSS_E_BAD_STATE"


def test_cleanup_at_start_rolls_back_an_unfinished_set(start_service, view):
    start = view.snapshot()
    svc = start_service()
    client = client_of(svc)
    assert client.call("BeginPrepareSnapshot", set_id="crashed", snapshot_id="a", context=PERSISTENT,
                       luns=[LunInfo.for_uid(SRC2).to_json()])["ok"]
    assert client.call("EndPrepareSnapshots", set_id="crashed")["ok"]
    assert view.snapshot() != start
    svc.stop()
    fresh = start_service()
    assert [r["action"] for r in fresh.cleanup_report] == ["rolled back"]
    assert view.snapshot() == start
    # VSS never comes back for that set; if it did, the set is gone
    assert client_of(fresh).call("CommitSnapshots", set_id="crashed")["ok"] is False


def _vssorch(*args, **kw):
    return subprocess.run([sys.executable, "-m", "orchestrator.cli.main", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, **kw)


def test_serve_and_shadow_commands(config_file, view, tmp_path):
    start = view.snapshot()
    serve = subprocess.Popen([sys.executable, "-m", "orchestrator.cli.main", "serve", "--config", str(config_file),
                              "--listen", "127.0.0.1:0", "--host-name", "vss_iscsi_host"],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "VSSORCH_LOG_FILE": str(tmp_path / "serve.log")})
    try:
        line = serve.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), line + serve.stderr.read()
        url = line.split()[2]
        base = ["shadow", "--service", url, "--config", str(config_file)]
        out = _vssorch(*base, "providers")
        assert "Inspur Storage Volume Shadow Copy Service Hardware Provider" in out.stdout
        meta = tmp_path / "set.json"
        out = _vssorch(*base, "create", SRC1, SRC2, "--transportable", "--metadata", str(meta))
        assert out.returncode == 0, out.stderr
        assert "flush-and-hold window" in out.stdout and "(CommitSnapshots, 1 array request(s))" in out.stdout
        targets = json.loads(meta.read_text())["targets"]
        out = _vssorch(*base, "list")
        assert "Transportable" in out.stdout and "2 shadow copies listed" in out.stdout
        out = _vssorch(*base, "import", str(meta))
        assert out.returncode == 0 and all(t["serial"] in out.stdout for t in targets)
        out = _vssorch(*base, "create", "not-a-uid")
        assert out.returncode == 2 and out.stderr.count("\n") == 1 and "201" in out.stderr
        out = _vssorch("shadow", "--service", url, "--token-file", str(meta), "list")
        assert out.returncode == 1 and "error 3002" in out.stderr and out.stderr.count("\n") == 1
        assert "the provider service is not running (start `vssorch serve` or use --in-process)" in out.stderr
        out = _vssorch(*base, "delete", "--all")
        assert out.returncode == 0 and "2 shadow copies deleted" in out.stdout
        out = _vssorch(*base, "create", SRC1, "--auto-release", "--exec", "true")
        assert out.returncode == 0, out.stderr
        assert view.snapshot() == start
    finally:
        serve.terminate()
        assert serve.wait(timeout=30) == 0
    logged = (tmp_path / "serve.log").read_text()
    assert "CommitSnapshots" in logged
    token = (config_file.parent / "state" / "service.token").read_text().strip()
    assert token not in logged and "passw0rd" not in logged


def test_in_process_driver(config_file, view):
    start = view.snapshot()
    base = ["shadow", "--in-process", "--config", str(config_file), "--host-name", "vss_iscsi_host", "--json"]
    out = _vssorch(*base, "create", SRC2, "--differential")
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["array_requests"]["CommitSnapshots"] == 1 and res["context"] & Attr.DIFFERENTIAL
    assert json.loads(_vssorch(*base, "delete", "--set", res["set_id"]).stdout) != []
    assert view.snapshot() == start


def _files(folder) -> dict:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_second_or_refused_serve_changes_nothing(start_service, array, view, config_file):
    from tests.support.view import READS
    first = start_service()
    assert client_of(first).call("BeginPrepareSnapshot", set_id="live", snapshot_id="a", context=PERSISTENT,
                                 luns=[LunInfo.for_uid(SRC1).to_json()])["ok"]
    assert client_of(first).call("EndPrepareSnapshots", set_id="live")["ok"]   # a live set: not cleanup's
    files, arrayed = _files(first.state_dir), view.snapshot()
    array.admin("DELETE", "stats")
    # (the other refusals: tests/vss/test_service_http.py, tests/cli/test_command_errors.py)
    serve = ["serve", "--config", str(config_file), "--listen", "127.0.0.1:0"]
    for extra, exit_code, words in (([], 1, "another vssorch serve (process"),
                                    (["--host-name", "nobody_here"], 2, "the array has no host")):
        done = _vssorch(*serve, *extra)
        assert done.returncode == exit_code, (extra, done.stderr)
        assert done.stderr.count("\n") == 1 and words in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert _files(first.state_dir) == files and view.snapshot() == arrayed
    assert set(array.stats()) <= READS, array.stats()
    # the first service and its set carry on
    assert client_of(first).call("PreCommitSnapshots", set_id="live")["ok"]
    assert client_of(first).call("CommitSnapshots", set_id="live")["ok"]


# As on Windows' CPython: no AF_UNIX, so socketserver has no UnixStreamServer either.
_NO_UNIX_SOCKETS = ("import runpy, socket, socketserver, sys\n"
                    "del socket.AF_UNIX, socketserver.UnixStreamServer\n"
                    "sys.argv = ['vssorch', *sys.argv[1:]]\n"
                    "runpy.run_module('orchestrator.cli.main', run_name='__main__')\n")


def test_without_unix_sockets_the_service_serves_tcp_and_refuses_unix(config_file, tmp_path):
    """The service used to define its Unix-socket server on import, so on a system
    without Unix sockets `vssorch serve` could not even start."""
    sock = tmp_path / "vss.sock"
    done = subprocess.run([sys.executable, "-c", _NO_UNIX_SOCKETS, "serve", "--config", str(config_file),
                           "--no-tcp", "--unix", str(sock)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "error 4000" in done.stderr and "has no Unix sockets; use --listen" in done.stderr
    assert not sock.exists() and not (tmp_path / "state" / "service.token").exists()
    token = tmp_path / "token"
    token.write_text("t" * 32)
    done = subprocess.run([sys.executable, "-c", _NO_UNIX_SOCKETS, "shadow", "--service", f"unix:{sock}",
                           "--token-file", str(token), "providers"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "error 3002" in done.stderr and "no Unix sockets" in done.stderr, done.stderr
    serve = subprocess.Popen([sys.executable, "-c", _NO_UNIX_SOCKETS, "serve", "--config", str(config_file),
                              "--listen", "127.0.0.1:0"], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        line = serve.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), line + serve.stderr.read()
        out = _vssorch("shadow", "--service", line.split()[2], "--config", str(config_file), "providers")
        assert out.returncode == 0 and "Hardware Provider" in out.stdout, out.stderr
    finally:
        serve.terminate()
        serve.wait(timeout=60)
