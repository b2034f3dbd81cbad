"""The HCCL rank table's format (hccl.json), as the operator writes it and `mnft launch` reads it.

MindX's version "1.0" table with exactly the fields MindX's ascend-operator writes for it, all numbers
as strings (docs/architecture.md, "Rank table format"):
`{"status": "completed", "version": "1.0", "server_count": "2", "server_list": [{"server_id": ...,
"host_ip": ..., "container_ip": ..., "device": [{"device_id": ..., "device_ip": ..., "rank_id": ...}]}]}`.
Until every worker pod is annotated the table is `{"status": "initializing"}`.
"""

from __future__ import annotations

DIR = "/user/serverid/devindex/config"  # where the ConfigMap is mounted (MindX's path)
FILE_NAME = "hccl.json"  # the ConfigMap key and file name
FILE = f"{DIR}/{FILE_NAME}"  # the pod's RANK_TABLE_FILE
CONFIGMAP_VERSION_KEY = "version"  # the ConfigMap's other key: changes with every rebuild

STATUS = "status"
INITIALIZING = "initializing"
COMPLETED = "completed"
VERSION = "1.0"

# top level, in the order written
TABLE_KEYS = (STATUS, "version", "server_count", "server_list")
SERVER_LIST = "server_list"
SERVER_KEYS = ("server_id", "host_ip", "container_ip", "device")  # one per worker pod, by index
DEVICES = "device"
DEVICE_KEYS = ("device_id", "device_ip", "rank_id")  # device_id: the chip's physical id
DEVICE_ID, DEVICE_IP, RANK_ID = DEVICE_KEYS

DEFAULT_TIMEOUT_S = 600.0  # MNFT_RANK_TABLE_TIMEOUT when the pod does not set it
