"""A real 2-worker CPU job through the real operator, the embedded API and the local kubelet: success
with its result, and a missing dataset failing at once with the trainer's own error."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from local_e2e_helpers import JobWatch, job_manifest, small_subset

EPOCHS = 2


def _final_weights(path: Path) -> dict[str, np.ndarray]:
    import mindspore as ms

    return {name: param.asnumpy() for name, param in ms.load_checkpoint(str(path)).items()}


@pytest.mark.slow  # real MindSpore ranks
def test_two_worker_cpu_job_succeeds_with_rank0_result(tmp_path: Path, demo_data: Path, local_cluster):
    small_subset(demo_data / "digits-0-4", tmp_path / "datasets" / "digits", per_class=24)
    out = tmp_path / "out"
    cluster = local_cluster({"data": tmp_path / "datasets", "out": out})
    hyper = {"imageHeight": 32, "imageWidth": 32, "batchSize": 16, "epochSize": EPOCHS}
    cluster.create_job(job_manifest("e2e-happy", "digits", hyperparameters=hyper))
    watch = JobWatch(cluster, "e2e-happy")
    assert watch.wait_finished(timeout=300) == "Succeeded", "\n".join(watch.lines[-40:])

    # status.result.accuracy is exactly what rank 0 printed.
    results = [line for line in watch.rank_lines(0, 0) if line.startswith("result:")]
    assert len(results) == 1, watch.lines
    printed = ast.literal_eval(results[0][len("result:") :])["acc"]
    assert watch.status["result"]["accuracy"] == printed
    assert int(watch.status.get("restarts") or 0) == 0
    assert len(watch.pod_uids) == 2
    # Rank 0 reports every epoch; both ranks joined one 2-process cluster.
    epochs = [line.split("]")[0] for line in watch.rank_lines(0, 0) if line.startswith("epoch[")]
    assert epochs == [f"epoch[{e}/{EPOCHS}" for e in range(1, EPOCHS + 1)]
    for rank in (0, 1):
        assert any(
            line.startswith(f"distributed: rank {rank} of 2 joined") for line in watch.rank_lines(rank, rank)
        )

    # Checkpoints of both ranks are on disk, with identical final weights (data parallel, mean gradients).
    finals = [out / "checkpoint" / f"ckpt_{rank}" / f"mobilenetv2_{EPOCHS}.ckpt" for rank in (0, 1)]
    assert all(path.is_file() for path in finals), sorted(str(p) for p in out.rglob("*"))
    rank0, rank1 = _final_weights(finals[0]), _final_weights(finals[1])
    assert rank0.keys() == rank1.keys()
    # Every trained parameter and the optimizer state agree; BatchNorm moving statistics are each rank's own
    # (no SyncBN), as in the recipe.
    shared = [name for name in rank0 if "moving_" not in name]
    assert any(name.endswith("head.1.weight") for name in shared) and any("moments." in n for n in shared)
    for name in shared:
        np.testing.assert_array_equal(rank0[name], rank1[name], err_msg=name)
    assert watch.status["result"]["checkpoint"].endswith(f"ckpt_0/mobilenetv2_{EPOCHS}.ckpt")


def test_missing_dataset_fails_at_once_with_the_trainers_error(tmp_path: Path, local_cluster):
    (tmp_path / "datasets").mkdir()
    cluster = local_cluster({"data": tmp_path / "datasets", "out": tmp_path / "out"})
    cluster.create_job(job_manifest("e2e-nodata", "no-such-dataset"))
    watch = JobWatch(cluster, "e2e-nodata")
    assert watch.wait_finished(timeout=120) == "Failed", "\n".join(watch.lines[-40:])
    failed = next(c for c in watch.status["conditions"] if c["type"] == "Failed")
    assert failed["status"] == "True"
    # The trainer's one-line error (it names the path), as the first failing rank printed it.
    errors = [line.split("] ", 1)[1] for line in watch.lines if "no-such-dataset" in line]
    assert errors, (watch.lines, watch.status)
    assert errors[0].startswith("error: --dataset_path ")
    assert any(failed["message"].endswith(error) for error in errors), (errors, failed)
    assert failed["reason"] == "TrainerError"
    assert "\n" not in failed["message"].strip()
    assert int(watch.status.get("restarts") or 0) == 0
    assert len(watch.pod_uids) == 2  # never recreated: the first attempt's error ended the job
