"""The host's image slots (traceability/image_slots.py): a bound shared by threads and by worker
processes, freed when a holder ends, even by dying."""
from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from traceability.image_slots import HostSlots, NoFreeSlot

HOLD_ONE_SLOT = """
import sys, time
from traceability.image_slots import HostSlots
with HostSlots(sys.argv[1], 1, wait_seconds=5).hold():
    print("holding", flush=True)
    time.sleep(60)
"""


def test_at_most_count_threads_hold_a_slot_at_once(tmp_path):
    slots = HostSlots(str(tmp_path), 2, wait_seconds=10)
    inside, peak, lock = [0], [0], threading.Lock()

    def work() -> None:
        with slots.hold():
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            time.sleep(0.05)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] == 2


def test_a_slot_held_by_another_thread_is_waited_for_then_refused(tmp_path):
    slots = HostSlots(str(tmp_path), 1, wait_seconds=0.2)
    with slots.hold():
        refused: list[BaseException] = []

        def other() -> None:
            try:
                with slots.hold():
                    pass
            except NoFreeSlot as exc:
                refused.append(exc)

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert len(refused) == 1
    with slots.hold():  # released when the block ended
        pass


def test_a_slot_held_by_another_process_counts_and_is_freed_when_it_dies(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD_ONE_SLOT, str(tmp_path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(NoFreeSlot):
            with HostSlots(str(tmp_path), 1, wait_seconds=0.2).hold():
                pass
        with HostSlots(str(tmp_path), 2, wait_seconds=0.2).hold():  # the second slot is free
            pass
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    with HostSlots(str(tmp_path), 1, wait_seconds=1).hold():  # a killed holder frees its slot
        pass


def test_the_slots_are_built_at_start_up_from_the_configuration(app):
    slots = app.extensions["image_slots"]
    assert slots.count == app.config["IMAGE_DECODE_SLOTS"] == 2
    assert slots.folder.startswith(app.instance_path)
