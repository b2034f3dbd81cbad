"""Which DEVICE_ID each Ascend process gets, from the operator's rendered env and rank table (pure).

1x1, 1x2, 1x4 on chips 4-7, 1x8 and 2x8, in rankTable and dynamicCluster mode: every process drives its
own chip through the container's logical id 0..N-1 (docs/architecture.md, "Ascend device ids").
"""

from __future__ import annotations

import pytest

from ascend_launch_cases import CASES, Case, device_view, expected_devices
from mnft_trainer.pod.launch import plan_processes


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_each_process_drives_its_own_logical_device(c: Case) -> None:
    for index, env in enumerate(c.pod_envs):
        specs = plan_processes(env, c.table, free_port=lambda: 40000)
        workers = [s for s in specs if s.rank is not None]
        assert [device_view(s.env) for s in workers] == expected_devices(c, index)
        assert [s.rank for s in workers] == [index * c.devices + i for i in range(c.devices)]


@pytest.mark.parametrize("c", [c for c in CASES if c.mode == "rankTable"], ids=lambda c: c.id)
def test_rank_table_keeps_physical_chips_and_launch_maps_them(c: Case) -> None:
    assert c.table is not None
    for index, env in enumerate(c.pod_envs):
        server = c.table["server_list"][index]
        specs = plan_processes(env, c.table)
        # The table names the physical chips (what HCCL matches); the process gets the chip's logical id.
        physical = {d["rank_id"]: int(d["device_id"]) for d in server["device"]}
        assert [physical[s.env["RANK_ID"]] - c.first_chip for s in specs] == [
            int(s.env["DEVICE_ID"]) for s in specs
        ]
        assert {s.env["RANK_TABLE_FILE"] for s in specs} == {"/user/serverid/devindex/config/hccl.json"}


@pytest.mark.parametrize("c", [c for c in CASES if c.mode == "dynamicCluster"], ids=lambda c: c.id)
def test_dynamic_cluster_ranks_match_their_node_ids(c: Case) -> None:
    world = c.workers * c.devices
    for index, env in enumerate(c.pod_envs):
        specs = plan_processes(env, None, free_port=lambda: 40000)
        scheduler = [s for s in specs if s.rank is None]
        assert len(scheduler) == (1 if index == 0 and world > 1 else 0)
        for s in specs:
            if s.rank is not None and world > 1:
                assert (s.env["MS_NODE_ID"], s.env["MS_ROLE"]) == (s.env["RANK_ID"], "MS_WORKER")
                assert s.env["MS_TOPO_TIMEOUT"] == "600"
