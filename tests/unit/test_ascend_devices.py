import json

from mnft_local.ascend_devices import AscendDevicePlugin, ascend_annotation
from mnft_operator.names import ASCEND_DEVICE_ANNOTATION


def test_ascend_annotation_gives_each_pod_unique_device_ips():
    assert json.loads(ascend_annotation("w-0", "127.0.0.1", 2, 0)) == {
        "pod_name": "w-0",
        "server_id": "127.0.0.1",
        "devices": [
            {"device_id": "0", "device_ip": "192.168.100.101"},
            {"device_id": "1", "device_ip": "192.168.101.101"},
        ],
    }
    assert json.loads(ascend_annotation("w-1", "127.0.0.1", 1, 1))["devices"] == [
        {"device_id": "0", "device_ip": "192.168.100.102"}
    ]


def test_plugin_allocates_once_per_pod_and_keeps_an_existing_annotation():
    plugin = AscendDevicePlugin()
    assert (plugin.resource, plugin.capacity) == ("huawei.com/Ascend910", 8)
    first = plugin.allocate({"metadata": {"name": "w-0"}}, 2, "127.0.0.1")
    second = plugin.allocate({"metadata": {"name": "w-1"}}, 1, "127.0.0.1")
    assert json.loads(first[ASCEND_DEVICE_ANNOTATION]) == json.loads(
        ascend_annotation("w-0", "127.0.0.1", 2, 0)
    )
    assert json.loads(second[ASCEND_DEVICE_ANNOTATION]) == json.loads(
        ascend_annotation("w-1", "127.0.0.1", 1, 1)
    )
    annotated = {"metadata": {"name": "w-2", "annotations": {ASCEND_DEVICE_ANNOTATION: "{}"}}}
    assert plugin.allocate(annotated, 1, "127.0.0.1") == {}
