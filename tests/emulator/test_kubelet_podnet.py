import hashlib
import ipaddress

from kube_emulator.kubelet.podnet import PodIPAllocator, candidate_ip, rewrite_pod_dns


def test_candidate_ip_is_sha256_of_namespace_and_name():
    digest = hashlib.sha256(b"default/job-worker-0#0").digest()
    assert (
        candidate_ip("default", "job-worker-0")
        == f"127.{1 + digest[0] % 255}.{digest[1]}.{1 + digest[2] % 254}"
    )
    assert candidate_ip("default", "job-worker-0") == "127.136.72.2"
    assert candidate_ip("default", "job-worker-1") == "127.27.111.254"
    assert candidate_ip("default", "job-worker-0", attempt=1) == "127.137.85.161"


def test_candidate_ips_stay_in_loopback_and_avoid_localhost_block():
    for i in range(2000):
        ip = ipaddress.ip_address(candidate_ip("ns", f"p{i}"))
        assert ip in ipaddress.ip_network("127.0.0.0/8")
        assert ip not in ipaddress.ip_network("127.0.0.0/16")
        assert str(ip).split(".")[3] not in ("0", "255")


def test_allocator_is_deterministic_and_avoids_collisions(monkeypatch):
    alloc = PodIPAllocator()
    assert alloc.ip_for("default", "a") == candidate_ip("default", "a")
    assert alloc.ip_for("default", "a") == candidate_ip("default", "a")

    # Force a collision: every pod's first candidate is the same address.
    import kube_emulator.kubelet.podnet as podnet

    real = podnet.candidate_ip
    monkeypatch.setattr(
        podnet,
        "candidate_ip",
        lambda ns, n, attempt=0, network="": "127.9.9.9" if attempt == 0 else real(ns, n, attempt, network),
    )
    colliding = PodIPAllocator()
    assert colliding.ip_for("default", "x") == "127.9.9.9"
    assert colliding.ip_for("default", "y") == real("default", "y", 1)
    colliding.release("default", "x")
    assert colliding.ip_for("default", "z") == "127.9.9.9"


def fake_ip(ns: str, host: str, sub: str) -> str:
    return f"ip({ns}/{host}.{sub})"


def test_rewrite_fully_qualified_names_always():
    text = "tcp://job-worker-0.job.team-a.svc.cluster.local:8118 and job-worker-1.job.default.svc"
    assert rewrite_pod_dns(text, "default", set(), fake_ip) == (
        "tcp://ip(team-a/job-worker-0.job):8118 and ip(default/job-worker-1.job)"
    )


def test_rewrite_short_names_only_for_known_subdomains():
    assert rewrite_pod_dns("job-worker-0.job", "ns1", {"job"}, fake_ip) == "ip(ns1/job-worker-0.job)"
    assert (
        rewrite_pod_dns("job-worker-0.job.other:80", "ns1", {"job"}, fake_ip)
        == "ip(other/job-worker-0.job):80"
    )
    assert rewrite_pod_dns("job-worker-0.job", "ns1", {"elsewhere"}, fake_ip) == "job-worker-0.job"


def test_rewrite_leaves_files_ips_and_longer_names_alone():
    for text in (
        "/ckpt/mobilenetv2.ckpt",
        "192.168.100.101",
        "a.job.b.c.d",
        "www.example.com",
        "x.job.default.svc.example.org",
    ):
        assert rewrite_pod_dns(text, "default", {"job"}, fake_ip) == text
    assert rewrite_pod_dns("model.ckpt", "default", {"job"}, fake_ip) == "model.ckpt"
    assert (
        rewrite_pod_dns("--host=w-0.job.default.svc", "default", set(), fake_ip)
        == "--host=ip(default/w-0.job)"
    )


def test_two_pod_networks_give_the_same_pod_name_different_addresses():
    # Two local clusters on one host share the loopback: a job of the same name in each must not get the
    # same scheduler address (the kubelet gives every start its own network).
    first, second = PodIPAllocator(network="a1b2"), PodIPAllocator(network="c3d4")
    names = [f"job-worker-{i}" for i in range(64)]
    ours = {first.ip_for("default", n) for n in names}
    theirs = {second.ip_for("default", n) for n in names}
    assert ours.isdisjoint(theirs)
    assert first.ip_for("default", "job-worker-0") == candidate_ip("default", "job-worker-0", network="a1b2")
    assert candidate_ip("default", "job-worker-0", network="a1b2") != candidate_ip("default", "job-worker-0")
