"""The vcsim harness' identity (tools/vcsim): the user it accepts and this machine's VM and
ESXi host ports it is started with, for the ESXi adapter tests."""
from __future__ import annotations

USER = "vss-operator"
PASSWORD = "Pw-7f3a9c-must-not-leak"
SELF_IP = "192.0.2.10"
SELF_DNS = "vss-host.example.test"
SELF_UUID = "421f245c-1a2b-3c4d-5e6f-00112233aabb"  # as vSphere's config.uuid has it
# The second WWPN has its top bit set: vSphere sends it as a negative long.
FC_WWPNS = ("10000090FA1B2C3D", "C0507601D4E20000")
IQN = "iqn.1998-01.com.vmware:esx-test-1"
NPIV_WWPNS = ("28000C2900000001", "28000C2900000002")
TIMEOUT_MS = 10_000
