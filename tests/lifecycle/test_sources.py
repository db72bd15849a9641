"""Sources must be this host's volumes (mapped to the consumer's array host) or shadow
copies it may import (on the reserved host): another host's volume is refused with 201
(unsupported volume) before anything changes on the array."""
from __future__ import annotations

import pytest

from core.errors import VssError
from core.records import SetOptions

from .conftest import BACKUP_IQN, MiB, SRC1, fill


def test_another_hosts_volume_is_refused_before_anything_changes(array, view, make_orch):
    orch = make_orch("h")
    other = view.uid("vss_target_vol")                  # a volume of the free host, not this one's
    before = view.snapshot()
    with pytest.raises(VssError) as err:
        orch.create([SRC1, other])
    assert err.value.code == 201 and "vss_target_vol" in err.value.detail
    assert "vss_iscsi_host" in err.value.detail and "\n" not in str(err.value)
    assert view.snapshot() == before and orch.sets() == [] and orch.store.keys() == []


def test_a_backup_host_may_copy_an_importable_shadow_copy_but_not_the_source(array, view, make_orch):
    app = make_orch("app")
    image = fill(array, SRC1, b"ledger ")
    record = app.create([SRC1], SetOptions(transportable=True))
    target = record.shadows[0].target_uid
    backup = make_orch("backup", initiator=BACKUP_IQN)
    before = view.snapshot()
    with pytest.raises(VssError) as err:
        backup.create([SRC1])                           # the application host's volume
    assert err.value.code == 201 and view.snapshot() == before
    copy = backup.create([target], SetOptions(transportable=True))    # the shadow copy: importable
    assert array.read(copy.shadows[0].target_uid, 0, MiB) == image[:MiB]
