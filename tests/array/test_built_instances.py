"""Instances the embedded array builds share their property objects (simulator/providers/
base.py): every instance of every class is still written as pywbem writes it, and a
shared property never stands for a value of another type or another instance."""
from __future__ import annotations

from simulator.array import Array
from simulator.operations import Operations
from simulator.providers import base
from simulator.seed import apply_seed
from simulator import xmlwrite as W
from tests.support.demo import DEMO


def test_every_instance_of_the_demo_array_is_written_as_pywbem_writes_it(tmp_path):
    array = Array(tmp_path / "st")
    apply_seed(array, DEMO)
    ops = Operations(array)
    written = 0
    for _ in range(2):                     # the second round is built from shared properties
        with array.store.transaction():
            for provider in ops.providers.values():
                for inst in provider.enumerate(array):
                    assert W.instance(inst) == inst.tocimxml().toxml(), inst.classname
                    written += 1
    volumes = [i for i in Operations(array).providers["ibmtssvc_storagevolume"].enumerate(array)]
    assert len({v["Name"] for v in volumes}) == len(volumes) > 1     # per-volume values not mixed up
    assert written > 100


def test_a_shared_property_keeps_the_type_of_its_value():
    decl = ("label", "Label", "string", False, None)
    assert [base._shared(decl, v).value for v in (True, 1, "1", 1.0)] == ["True", "1", "1", "1.0"]
    assert base._shared(decl, True) is base._shared(decl, True)
    flags = ("flags", "Flags", "uint16", True, None)
    assert base._shared(flags, [1, 2]).value == [1, 2] and base._shared(flags, [2, 1]).value == [2, 1]
