"""The oneDNN ISA cap is a default: set when absent, never overriding the user's value."""

import os

from mnft_trainer.onednn import cap_onednn_isa


def test_cap_sets_avx2_when_absent():
    env: dict[str, str] = {"PATH": "/bin"}
    assert cap_onednn_isa(env) == "AVX2"
    assert env == {"PATH": "/bin", "ONEDNN_MAX_CPU_ISA": "AVX2"}


def test_cap_keeps_a_value_the_user_set():
    env = {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE"}
    assert cap_onednn_isa(env) == "AVX512_CORE"
    assert env == {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE"}


def test_without_an_env_it_caps_the_process_environment(monkeypatch):
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    assert cap_onednn_isa() == "AVX2"
    assert os.environ["ONEDNN_MAX_CPU_ISA"] == "AVX2"
