"""Seeded random pod histories through plan(): the status never lies and the planner never collides.

Invariants checked after every reconcile: no pod created twice or while its name exists (World asserts),
Running never with a failed worker of the current attempt, Succeeded only when every worker exited 0,
terminal phases are final, restarts never exceed backoffLimit, conditions are unique and in order.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from reconcile_world import World

from mnft_operator.conditions import ORDER

TERMINAL = ("Succeeded", "Failed")


def current_pods(w: World) -> list[dict[str, Any]]:
    gen = str(w.status().get("restarts", 0))
    return [
        o
        for (kind, _), o in w.objects.items()
        if kind == "Pod" and o["metadata"]["labels"]["finetune.mindspore.io/generation"] == gen
    ]


def random_action(w: World, rng: random.Random) -> None:
    pods = [name for kind, name in w.objects if kind == "Pod"]
    action = rng.choice(["run", "run", "exit0", "fail", "finish", "advance", "delete", "suspend"])
    if action == "advance":
        w.advance(rng.choice([1, 30, 400]))
    elif action == "finish":
        w.finish_deletions()
    elif action == "suspend":
        w.job["spec"].setdefault("runPolicy", {})["suspend"] = rng.random() < 0.3
    elif pods:
        name = rng.choice(pods)
        index = int(name.rsplit("-", 1)[1])
        if "deletionTimestamp" in w.objects[("Pod", name)]["metadata"]:
            return
        if action == "run":
            w.run(index)
        elif action == "exit0":
            w.exit(index, 0, message='{"epochs": 1, "final_loss": 0.5, "accuracy": 0.5, "checkpoint": "c"}')
        elif action == "fail":
            w.exit(index, rng.choice([1, 137, 143]), message="error: boom", at=rng.randint(0, 100))
        elif action == "delete":
            del w.objects[("Pod", name)]


@pytest.mark.parametrize("seed", range(40))
def test_random_histories_keep_the_invariants(seed: int) -> None:
    rng = random.Random(seed)
    spec: dict[str, Any] = {
        "platform": rng.choice(["CPU", "GPU"]),
        "image": "i",
        "workers": rng.randint(1, 3),
        "dataset": {"path": "/d"},
        "runPolicy": {
            "backoffLimit": rng.randint(0, 2),
            "cleanPodPolicy": rng.choice(["Running", "All", "None"]),
        },
    }
    if rng.random() < 0.3:
        spec["runPolicy"]["activeDeadlineSeconds"] = 600
    w = World(spec)
    finished: str | None = None
    for _ in range(60):
        before = [dict(p, status=dict(p.get("status") or {})) for p in current_pods(w)]
        w.step()
        st = w.status()
        phase = st.get("phase")
        if finished is not None:
            assert phase == finished
        if phase in TERMINAL:
            finished = phase
        if phase == "Running":
            assert all(p["status"].get("phase") != "Failed" for p in before)
            assert len(before) == spec["workers"]
        if phase == "Succeeded" and finished == "Succeeded" and "completionTime" in st:
            assert st["workers"]["succeeded"] == spec["workers"]
        assert st.get("restarts", 0) <= spec["runPolicy"]["backoffLimit"]
        types = [c["type"] for c in st.get("conditions", [])]
        assert types == sorted(set(types), key=ORDER.index)
        assert all(v is not None for v in st.values())
        random_action(w, rng)
    w.finish_deletions()
    quiet = w.settle()  # whatever happened, the planner converges
    assert quiet.create == () and quiet.delete == ()
