"""The SVC-family CIM agent's names and numbers the adapter uses: classes, method
operation values, return codes and the state values of its replies (IBM's 6.4 MOF,
the agent's guide, a real cluster's dumps). Facts only, no behaviour.
"""
from __future__ import annotations

from core.model import COPYING, EMPTY_GROUP, IDLE, PREPARED, PREPARING, STOPPED, STOPPING

VOLUME = "IBMTSSVC_StorageVolume"
CLUSTER = "IBMTSSVC_Cluster"
POOL = "IBMTSSVC_ConcreteStoragePool"
IOGROUP = "IBMTSSVC_IOGroup"
HARDWARE_ID = "IBMTSSVC_StorageHardwareID"
CONTROLLER = "IBMTSSVC_ProtocolController"
FCMAP = "IBMTSSVC_LocalStorageSynchronized"
FCSET = "IBMTSSVC_FlashCopyStorageSynchronizedSet"
SCS = "IBMTSSVC_StorageConfigurationService"
CCS = "IBMTSSVC_ControllerConfigurationService"
MAPS_TO_VOLUMES = "CIM_ProtocolControllerForUnit"
MAPPING = "IBMTSSVC_SystemVolumeController"     # the one ProtocolControllerForUnit class
AGENT_PRODUCT = "IBMTSSVC"    # the agent's schema: a real cluster reports no product name

# ModifySynchronization / ModifySynchronizedSet operations
OP_DETACH, OP_RESYNC, OP_PREPARE, OP_QUIESCE, SET_ADD = 2, 4, 6, 8, 0
COPYTYPE_FLASHCOPY, COPYTYPE_AUTODELETE = 4, 5
FAIL_IF_NOT_OLDEST = 5
# StopDependentMaps values the agent takes only with Restore true (the others only on a stop)
RESTORE_STOPS = (1, 2, 3, 6)
ELEMENT_VOLUME, ELEMENT_THIN, ELEMENT_THIN_COMPRESSED = 2, 5, 8
JOB_STARTED = 4096
RC_ALREADY_EXPOSED, RC_NOT_EXPOSED = 4101, 4100
OPERATIONAL_OK = 2

# FlashCopy set Status -> the group state in SVC words
GROUP_STATES = {0x1000: EMPTY_GROUP, 11: IDLE, 2: IDLE, 3: PREPARING, 4: PREPARED, 5: COPYING,
                0x8002: STOPPING, 0x8001: STOPPED, 12: STOPPED}
# a mapping's SyncState (DMTF) -> its state in SVC words (the agent's "flash | status")
SYNC_STATES = {2: IDLE, 6: IDLE, 11: IDLE, 3: PREPARING, 4: PREPARED, 5: COPYING, 10: COPYING,
               7: STOPPING, 8: STOPPING, 9: STOPPED, 12: STOPPED, 13: STOPPED}

# the properties each kind of record is read from
VOL_PROPS = ["ElementName", "Name", "NumberOfBlocks", "BlockSize", "PoolName", "GroupName",
             "IsSpaceEfficient", "Compressed", "Deduplicated", "OperationalStatus"]
HOST_PROPS = ["ElementName", "HostID", "PortWWN", "iSCSIName"]
GROUP_PROPS = ["ElementName", "Status"]
