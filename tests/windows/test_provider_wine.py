"""The native VSS hardware provider DLL (windows/provider/) under Wine, against a real
`vssorch serve` process and the embedded array: the harness plays the VSS service
(it calls through the vtable slots of Microsoft's vsprov.h), the array is read with
its own pywbem connection, and CommitSnapshots is counted in the array's own request
statistics."""
from __future__ import annotations

import json
import re
import socket
import subprocess
from collections import Counter
from typing import Callable

from orchestrator.service_client import HttpClient
from orchestrator.vss import PROVIDER_ID, PROVIDER_VERSION
from orchestrator.vss_luns import PRODUCT, VENDOR
from orchestrator.vss_types import HResult, LunInfo

from tests.support.data import MiB, fill
from tests.support.demo import SRC1, SRC2
from tests.support.wine import HOST, winpath

S_OK, S_FALSE, E_NOINTERFACE = "0x00000000", "0x00000001", "0x80004002"
VETO = f"0x{HResult.VSS_E_PROVIDER_VETO.value:08X}"
CLSID = "{D9D0F1A9-07C5-4648-BE40-85733796215D}"
# VSS_PRV_CAPABILITY_LUN_RESYNC | _PLEX | _DIFFERENTIAL: what the service says it does
CAPABILITIES = 0x8 | 0x80 | 0x100
SYSTEM_DLLS = {"kernel32.dll", "advapi32.dll", "ole32.dll", "oleaut32.dll", "user32.dll", "winhttp.dll", "msvcrt.dll"}


def harness(wine, args: list[str], env: dict, checks: dict[tuple[str, str], Callable[[list[dict]], None]] | None = None,
            stdin: str | None = None) -> list[dict]:
    """Runs the harness; at each pause line runs the matching check (with the call lines
    so far) before letting it go on. Returns the call lines."""
    cmd = ["wine", str(wine.harness), *args]
    if checks:
        cmd += ["--pause", ",".join(sorted({m for _, m in checks}))]
    proc = subprocess.Popen(cmd, env=wine.env(**env), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines: list[dict] = []
    try:
        if stdin is not None:
            proc.stdin.write(stdin)
            proc.stdin.close()
        for raw in proc.stdout:
            msg = json.loads(raw)
            if "pause" not in msg:
                lines.append(msg)
                continue
            check = (checks or {}).get((msg["pause"], msg["method"]))
            if check:
                check(lines)
            proc.stdin.write("\n")
            proc.stdin.flush()
        assert proc.wait(timeout=120) == 0, proc.stderr.read()[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return lines


def service_env(served, **extra) -> dict:
    return {"VSSORCH_SERVICE_URL": served.url, "VSSORCH_TOKEN_FILE": winpath(served.token_file), **extra}


def test_wine_dll_links_statically_and_imports_only_system_dlls(wine):
    for binary in (wine.dll, wine.harness):
        imported = {name.lower() for name in re.findall(r"DLL Name: (\S+)", dump_of(binary))}
        assert imported and imported <= SYSTEM_DLLS, imported
    exports = set(re.findall(r"\[\s*\d+\]\s+(\w+)", dump_of(wine.dll)))
    assert {"DllGetClassObject", "DllCanUnloadNow", "DllRegisterServer", "DllUnregisterServer", "VssRegisterW"} <= exports


def dump_of(binary) -> str:
    return subprocess.run(["x86_64-w64-mingw32-objdump", "-p", str(binary)], capture_output=True, text=True,
                          check=True).stdout


def registry(text: str) -> dict[str, dict[str, str]]:
    """`reg query KEY /s` output as {key: {value name: data}}."""
    keys: dict[str, dict[str, str]] = {}
    key = ""
    for line in text.splitlines():
        if line.startswith("HKEY_"):
            key = line.strip()
            keys[key] = {}
        elif match := re.match(r"^\s+(\S+)\s+REG_SZ\s+(.*?)\s*$", line):
            keys[key][match[1]] = match[2]
    return keys


def test_wine_regsvr32_writes_and_removes_the_com_keys(wine):
    key = rf"HKEY_CLASSES_ROOT\CLSID\{CLSID}"                   # the merged view COM reads
    assert wine.run("regsvr32", "/s", winpath(wine.dll)).returncode == 0
    try:
        query = wine.run("reg", "query", key, "/s")
        assert query.returncode == 0, query.stderr
        assert registry(query.stdout) == {
            key: {"(Default)": "Inspur Storage Volume Shadow Copy Service Hardware Provider"},
            key + r"\InprocServer32": {"(Default)": winpath(wine.dll), "ThreadingModel": "Both"}}
    finally:
        assert wine.run("regsvr32", "/s", "/u", winpath(wine.dll)).returncode == 0
    assert wine.run("reg", "query", key).returncode != 0


def test_wine_rundll32_runs_the_vss_registration_and_reports_its_outcome(wine, tmp_path):
    log = tmp_path / "provider.log"
    ran = wine.run("rundll32", f"{winpath(wine.dll)},VssRegister", VSSORCH_PROVIDER_LOG=winpath(log))
    assert ran.returncode == 0
    # the provider id is the one the service reports; Wine has no VSS: IVssAdmin cannot be
    # created (REGDB_E_CLASSNOTREG), and the log says so
    assert (f"error vssorch provider: registering {PROVIDER_ID.upper()} (hardware, version {PROVIDER_VERSION}) "
            "with VSS: 0x80040154") in log.read_text()


def test_wine_lun_information_converts_both_ways_exactly(wine):
    luns = [
        LunInfo(vendor="IBM", product="2145", revision="0000", serial="D000000000000001", bus_type="iscsi",
                device_type=0, identifiers=[]).to_json(),
        {"vendor": "IBM", "product": "2145", "revision": "0000", "serial": "ß-serial", "bus_type": "fibre",
         "device_type": 31, "device_type_modifier": 7, "command_queueing": True,
         "disk_signature": "{0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0}",
         "identifiers": [{"code_set": "binary", "type": "naa", "association": "lun", "id": SRC1},
                         {"code_set": "ascii", "type": "t10", "association": "lun", "id": "IBM     2145    \u00e9\u00ff"},
                         {"code_set": "utf8", "type": "scsi_name", "association": "lun", "id": "iqn.x:\u4e2d"},
                         {"code_set": "binary", "type": "eui64", "association": "lun", "id": "0011223344556677"}],
         "interconnects": [{"type": "fcph3", "address": "500507680140ABCD", "port": "0102"},
                           {"type": "scsi", "address": "", "port": ""}]},
        {**LunInfo().to_json(), "bus_type": "filebackedvirtual", "device_type": 5},
    ]
    out = harness(wine, ["-", "roundtrip"], {}, stdin="".join(json.dumps(lun) + "\n" for lun in luns))
    assert out == luns
    # and the service's own schema takes what the DLL sends
    assert [LunInfo.from_json(lun).to_json() for lun in out] == luns
    # VDS has no association: another one cannot come back, an unknown name is refused
    odd = [{"identifiers": [{"code_set": "binary", "type": "naa", "association": "port", "id": "00"}]},
           {"identifiers": [{"code_set": "binary", "type": "nope", "association": "lun", "id": "00"}]}]
    out = harness(wine, ["-", "roundtrip"], {}, stdin="".join(json.dumps(lun) + "\n" for lun in odd))
    assert out[0]["identifiers"] == [] and "unknown identifier type" in out[1]["error"]


def test_wine_provider_creates_imports_deletes_and_aborts_through_the_service(wine, served):
    view, array = served.view, served.array
    start = view.snapshot()
    uid_name = {v["uid"]: name for name, v in view.volumes().items()}
    seen: dict = {}

    def targets(lines) -> list[str]:
        luns = next(line for line in lines if line["method"] == "GetTargetLuns")["luns"]
        return [uid_name[LunInfo.from_json(lun).uid] for lun in luns]

    def before_commit(lines):
        seen["stats"] = Counter(array.stats())

    def after_commit(lines):
        seen["commit"] = dict(Counter(array.stats()) - seen["stats"])

    def after_targets(lines):
        names = targets(lines)
        assert len(set(names)) == 2 and not set(names) & {"vss_src_vol", "vss_src_vol2"}
        assert set(names) <= view.host_volumes()["vss_res_host"]      # transportable: held for export
        copies = {(s, t) for s, t, _ in view.fcmaps().values()}
        assert {("vss_src_vol", names[0]), ("vss_src_vol2", names[1])} <= copies

    def after_locate(lines):
        assert set(targets(lines)) <= view.host_volumes()[HOST]      # imported: this host sees them

    def after_mask(lines):
        assert not set(targets(lines)) & view.host_volumes()[HOST]

    def before_abort(lines):
        seen["prepared"] = view.snapshot()

    checks = {("before", "CommitSnapshots"): before_commit, ("after", "CommitSnapshots"): after_commit,
              ("after", "GetTargetLuns"): after_targets, ("after", "LocateLuns"): after_locate,
              ("after", "OnLunStateChange"): after_mask,
              ("before", "AbortSnapshots"): before_abort}
    lines = harness(wine, [winpath(wine.dll), "scenario", SRC1, SRC2], service_env(served), checks)

    calls = [line["method"] for line in lines]
    assert calls == ["LoadLibrary", "DllGetClassObject", "CreateInstance"] + ["QueryInterface"] * 5 + [
        "OnLoad", "GetProviderCapabilities", "AreLunsSupported", "BeginPrepareSnapshot", "BeginPrepareSnapshot",
        "EndPrepareSnapshots", "PreCommitSnapshots", "CommitSnapshots", "PostCommitSnapshots",
        "PreFinalCommitSnapshots", "PostFinalCommitSnapshots", "GetTargetLuns", "FillInLunInfo", "LocateLuns",
        "OnLunStateChange", "OnLunEmpty", "OnLunEmpty", "BeginPrepareSnapshot", "EndPrepareSnapshots", "AbortSnapshots", "OnUnload",
        "DllCanUnloadNow", "Release", "DllCanUnloadNow"]
    qi = [line for line in lines if line["method"] == "QueryInterface"]
    assert [q["hr"] for q in qi] == [S_OK] * 4 + [E_NOINTERFACE] and all(q["same_identity"] for q in qi[:4])
    unload = [line["hr"] for line in lines if line["method"] == "DllCanUnloadNow"]
    assert unload == [S_FALSE, S_OK]                     # held, then every reference released
    assert next(line for line in lines if line["method"] == "Release")["refs"] == 0
    failed = [line for line in lines[3:] if line["method"] not in ("QueryInterface", "DllCanUnloadNow")
              and line["hr"] != S_OK]
    assert failed == []

    by = {line["method"]: line for line in lines}
    assert by["GetProviderCapabilities"]["mask"] == CAPABILITIES
    assert by["AreLunsSupported"]["supported"] is True
    # CommitSnapshots through the DLL: exactly one array request, the group's start
    assert seen["commit"] == {"ModifySynchronizedSet": 1}
    target_luns = by["GetTargetLuns"]["luns"]
    for lun in target_luns:
        assert (lun["vendor"], lun["product"], lun["identifiers"][0]["type"]) == (VENDOR, PRODUCT, "naa")
    filled = by["FillInLunInfo"]
    assert filled["supported"] is True
    assert LunInfo.from_json(filled["lun"]).uid == LunInfo.from_json(target_luns[0]).uid
    assert (filled["lun"]["vendor"], filled["lun"]["product"]) == (VENDOR, PRODUCT)
    # the second set had its targets prepared, the abort took everything back; the first
    # set's copies went with OnLunEmpty: the array is as it was
    assert seen["prepared"] != start
    assert view.snapshot() == start
    client = HttpClient.from_token_file(served.url, served.token_file)
    try:
        assert client.call("ListSnapshots")["result"]["sets"] == []
    finally:
        client.close()


def test_wine_resync_through_the_async_object_restores_the_original(wine, served):
    array, view = served.array, served.view
    start = view.snapshot()
    original = fill(array, SRC2, b"before the shadow copy ", MiB)

    def overwrite(lines):
        fill(array, SRC2, b"written after it ", MiB)

    lines = harness(wine, [winpath(wine.dll), "resync", SRC2], service_env(served),
                    {("after", "PostCommitSnapshots"): overwrite})
    calls = [(line["method"], line["hr"]) for line in lines if line["method"] not in
             ("LoadLibrary", "DllGetClassObject", "CreateInstance", "QueryInterface", "DllCanUnloadNow", "Release")]
    assert [c for c, _ in calls] == [
        "BeginPrepareSnapshot", "EndPrepareSnapshots", "PreCommitSnapshots", "CommitSnapshots",
        "PostCommitSnapshots", "GetTargetLuns", "OnLunStateChange", "ResyncLuns", "IVssAsync::Wait",
        "IVssAsync::QueryStatus", "OnLunStateChange"]
    assert {hr for _, hr in calls} == {S_OK}, calls
    assert next(line for line in lines if line["method"] == "IVssAsync::QueryStatus")["status"] == "0x0004230A"
    assert array.read(SRC2, 0, len(original)) == original      # VSS_S_ASYNC_FINISHED, and the data is back
    assert view.snapshot() == start


def test_wine_commit_is_vetoed_when_the_service_does_not_answer(wine, tmp_path):
    (tmp_path / "token").write_text("some-token\n")
    log = tmp_path / "provider.log"
    with socket.socket() as silent:           # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        env = {"VSSORCH_SERVICE_URL": f"http://127.0.0.1:{silent.getsockname()[1]}",
               "VSSORCH_TOKEN_FILE": winpath(tmp_path / "token"), "VSSORCH_COMMIT_TIMEOUT_MS": "300",
               "VSSORCH_PROVIDER_LOG": winpath(log)}
        lines = harness(wine, [winpath(wine.dll), "commit"], env)
    commit = next(line for line in lines if line["method"] == "CommitSnapshots")
    assert commit["hr"] == VETO
    assert "CommitSnapshots vetoed: vssorch serve did not answer within 300 ms" in log.read_text()


def test_wine_a_refused_token_is_a_veto_and_changes_nothing(wine, served, tmp_path):
    (tmp_path / "token").write_text("not-the-service-token\n")
    log = tmp_path / "provider.log"
    before = Counter(served.array.stats())
    env = {**service_env(served), "VSSORCH_TOKEN_FILE": winpath(tmp_path / "token"), "VSSORCH_PROVIDER_LOG": winpath(log)}
    lines = harness(wine, [winpath(wine.dll), "commit"], env)
    assert next(line for line in lines if line["method"] == "CommitSnapshots")["hr"] == VETO
    assert "vssorch serve refused the token" in log.read_text()
    assert Counter(served.array.stats()) == before


def test_wine_the_services_hresult_is_the_methods(wine, served, tmp_path):
    log = tmp_path / "provider.log"
    lines = harness(wine, [winpath(wine.dll), "commit"], {**service_env(served), "VSSORCH_PROVIDER_LOG": winpath(log)})
    commit = next(line for line in lines if line["method"] == "CommitSnapshots")
    # a set VSS never prepared: the service's VSS_E_OBJECT_NOT_FOUND, its one-line error in the log
    assert commit["hr"] == f"0x{HResult.VSS_E_OBJECT_NOT_FOUND.value:08X}"
    assert re.search(r"error vssorch provider: CommitSnapshots: VSS_E_OBJECT_NOT_FOUND \(0x80042308\): error \d+: ",
                     log.read_text())
