"""Method return codes of the embedded array, as the SVC-family CIM agent uses them.

Values are DMTF/SNIA generic codes (0..6, 4096) and the vendor-specific ranges from
the agent's MOF (0x8000.., 0x9000 + n device errors). One module so that every
provider and the FlashCopy engine speak the same numbers.
"""

OK = 0
NOT_SUPPORTED = 1
UNSPECIFIED_ERROR = 2
TIMEOUT = 3
FAILED = 4
INVALID_PARAMETER = 5
IN_USE = 6
NOT_IN_SET = 7
ALREADY_IN_SET = 8
INCOMPATIBLE_SET = 9
JOB_STARTED = 4096

# CreateOrModifyElementFromStoragePool
SIZE_NOT_SUPPORTED = 4097
INVALID_POOL = 32771
NAME_EXISTS = 32775
INVALID_IOGROUP = 32777
COMPRESSION_NOT_SUPPORTED = 32792

# AttachReplica(s) / ModifySynchronization / ModifySynchronizedSet (vendor range, the
# ValueMaps of BlockServices.mof)
COPYTYPE_NOT_SUPPORTED = 0x8000
INVALID_SOURCE = 0x8001      # AttachReplica(s)
INVALID_TARGET = 0x8002      # AttachReplica(s)
INVALID_SET = 0x8005         # AttachReplica(s), ModifySynchronization
INVALID_OPERATION = 0x8001   # ModifySynchronization(Set)
INVALID_STATE = 0x8002       # ModifySynchronization(Set)
NOT_OLDEST = 0x8101
RESTORE_NOT_TRUE = 0x8102
NOT_A_STOP = 0x8103
STOP_DEPENDENT_INVALID = 0x8104   # a StopDependentMaps value the operation does not take
MUTUALLY_EXCLUSIVE = 0x8105       # ModifySynchronization: Split and Force together

# Masking (ExposePaths / HidePaths / AttachDevice / DetachDevice)
INVALID_LU = 4097
INVALID_INITIATOR = 4098
ALREADY_EXPOSED = 4101
LUN_IN_USE = 4102
NOT_EXPOSED = 4100
DEVICE_NUMBER_CONFLICT = 4097
INVALID_DEVICE = 4096

# StorageHardwareIDManagementService
HARDWARE_ID_EXISTS = 0x1000
INVALID_IDTYPE = 0x1001

# Device errors: 36864 (0x9000) + n, each a CMMVC message of deviceerrors.txt: the
# agent passes the CLI's refusal on as its number.
DEVICE_ERROR_BASE = 0x9000
VOLUME_OFFLINE = 37161                  # CMMVC5782E the object specified is offline
VOLUME_IN_FCMAP = 37865                 # CMMVC6052E the object is a member of a FlashCopy mapping
VOLUME_MAPPED_TO_OTHER_HOST = 37883     # CMMVC6071E already mapped to a host
OBJECT_EXISTS = 37846                   # CMMVC6035E (a FlashCopy mapping or group name in use)
VOLUME_MAPPED = 38159                   # CMMVC5840E delete refused: mapped or in a mapping
POOL_FULL = 38333                       # CMMVC5860E not enough extents
PORT_NOT_LOGGED_IN = 38400              # CMMVC5867E WWPN already assigned or not valid
GROUP_NOT_EMPTY = 38670                 # CMMVC5895E group holds mappings: force needed
FC_SIZE_MISMATCH = 38844                # CMMVC5924E source and target sizes differ
FC_GROUP_EMPTY_START = 38859            # CMMVC6001E start of an empty group
FC_GROUP_EMPTY_STOP = 38860             # CMMVC5990E stop of an empty group
FC_TARGET_IS_TARGET = 38869             # CMMVC6247E target already a target of a mapping
FC_SPLIT_REFUSED = 39789                # CMMVC6469E split needs a 100% copied mapping

# FlashCopy refusals by (request, state of the mapping or group), from the CMMVC5896E..
# CMMVC6243E family: what startfcmap, prestartfcmap, stopfcmap and rmfcmap answer.
FC_REFUSED = {
    ("delete", "preparing"): 38816, ("delete", "prepared"): 38817,
    ("delete", "copying"): 38818, ("delete", "stopped"): 38819,     # stopped: -force needed
    ("delete", "stopping"): 38863,
    ("prepare", "preparing"): 38821, ("prepare", "prepared"): 38822,
    ("prepare", "copying"): 38823, ("prepare", "stopping"): 38847,
    ("start", "idle_or_copied"): 38825, ("start", "preparing"): 38826,   # must be prepared
    ("start", "copying"): 38827, ("start", "stopped"): 38828,
    ("start", "stopping"): 38864,
    ("stop", "idle_or_copied"): 38830, ("stop", "preparing"): 38831,
    ("stop", "stopped"): 38832, ("stop", "stopping"): 38865,
    ("modify", "preparing"): 38833, ("modify", "prepared"): 38834,
    ("modify", "copying"): 38835, ("modify", "stopping"): 38848,
}


class ArrayError(Exception):
    """A method refused by the array: carries the return code the client will see."""

    def __init__(self, rc: int, message: str, out: dict | None = None):
        super().__init__(f"rc={rc}: {message}")
        self.rc = rc
        self.message = message
        self.out = out or {}  # output parameters still reported (e.g. per-pair ReturnValues)
