from pathlib import Path

from kube_emulator.kubelet.pod_process import oom_kill_count


def test_oom_kill_count_reads_cgroup_v2_then_v1_files(tmp_path: Path) -> None:
    v2, v1 = tmp_path / "memory.events", tmp_path / "memory.oom_control"
    assert oom_kill_count([v2, v1]) is None
    v1.write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n")
    assert oom_kill_count([v2, v1]) == 3
    v2.write_text("low 0\nhigh 0\nmax 0\noom 1\noom_kill 1\n")
    assert oom_kill_count([v2, v1]) == 1
