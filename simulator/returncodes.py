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

# AttachReplica(s) / ModifySynchronization / sets (vendor range)
COPYTYPE_NOT_SUPPORTED = 0x8000
INVALID_SOURCE = 0x8001
INVALID_TARGET = 0x8002      # AttachReplica; for ModifySynchronization: invalid state
INVALID_STATE = 0x8002
INVALID_OPERATION = 0x8001
ALREADY_IN_SET_VENDOR = 0x8003
DEVICE_CONNECTION_FAILURE = 0x8004
INVALID_SET = 0x8005
NOT_OLDEST = 0x8101
RESTORE_NOT_TRUE = 0x8102
NOT_A_STOP = 0x8103
# The manual's 32816 (0x8030): the volume is already in a localcopy relationship.
ALREADY_IN_LOCALCOPY = 32816

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

# Device errors: 0x9000 + n, each standing for a CMMVC message.
DEVICE_ERROR_BASE = 0x9000
VOLUME_OFFLINE = DEVICE_ERROR_BASE + 512      # surfaced as the manual's 512 by the adapter
VOLUME_MAPPED = DEVICE_ERROR_BASE + 40       # CMMVC5840E delete refused while host-mapped
VOLUME_IN_FCMAP = 37865                       # CMMVC6052E: member of a FlashCopy mapping


class ArrayError(Exception):
    """A method refused by the array: carries the return code the client will see."""

    def __init__(self, rc: int, message: str, out: dict | None = None):
        super().__init__(f"rc={rc}: {message}")
        self.rc = rc
        self.message = message
        self.out = out or {}  # output parameters still reported (e.g. per-pair ReturnValues)

# Device errors of this embedded array (0x9000 + n; n is ours, the message names the
# CMMVC condition it stands for).
VOLUME_MAPPED_TO_OTHER_HOST = DEVICE_ERROR_BASE + 71   # CMMVC6071E without Force
PORT_NOT_LOGGED_IN = DEVICE_ERROR_BASE + 67            # CMMVC5867E, Validate=true
POOL_FULL = DEVICE_ERROR_BASE + 60                     # CMMVC5860E not enough extents
