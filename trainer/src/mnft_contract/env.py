"""Environment variable names of the worker pods (docs/architecture.md, "Pod environment rendered by
the operator") and of the processes `mnft launch` starts, with their meaning.

The operator renders `POD` (`mnft_operator.env.pod_env`); launch sets `PROCESS` for each process it
starts; `USER_SETTINGS` are read by launch or the trainer but left to the job's spec.env. A job's
spec.env may set none of `POD` and `PROCESS` (`mnft_operator.reserved`).
"""

from __future__ import annotations

# -- rendered by the operator into every worker pod --
MNFT_JOB_NAME = "MNFT_JOB_NAME"  # the MobileNetFineTune's name
MNFT_NAMESPACE = "MNFT_NAMESPACE"  # its namespace
MNFT_PLATFORM = "MNFT_PLATFORM"  # CPU, GPU or Ascend (also `mnft train`'s default --platform)
MNFT_WORKER_INDEX = "MNFT_WORKER_INDEX"  # this pod's index i, 0-based
MNFT_WORKERS = "MNFT_WORKERS"  # number of worker pods
MNFT_DEVICES_PER_WORKER = "MNFT_DEVICES_PER_WORKER"  # processes (devices) per pod
MNFT_COMM_MODE = "MNFT_COMM_MODE"  # DYNAMIC_CLUSTER or RANK_TABLE, never `auto`
TERMINATION_MESSAGE_PATH = "TERMINATION_MESSAGE_PATH"  # where the message goes (`termination`)
# dynamic cluster (CPU, GPU): MindSpore's msrun variables, plus mnft's node rank and local size
MS_SCHED_HOST = "MS_SCHED_HOST"  # worker 0's DNS name; launch resolves it to an IP
MS_SCHED_PORT = "MS_SCHED_PORT"  # the scheduler's port (spec.communication.schedulerPort)
MS_WORKER_NUM = "MS_WORKER_NUM"  # training processes of the job: workers x devicesPerWorker
MNFT_NODE_RANK = "MNFT_NODE_RANK"  # = MNFT_WORKER_INDEX
MNFT_LOCAL_WORKER_NUM = "MNFT_LOCAL_WORKER_NUM"  # = MNFT_DEVICES_PER_WORKER
MS_TOPO_TIMEOUT = "MS_TOPO_TIMEOUT"  # seconds the cluster may take to form (msrun's --cluster_time_out)
# rank table (Ascend)
RANK_TABLE_FILE = "RANK_TABLE_FILE"  # the hccl.json path (`rank_table.FILE`)
RANK_SIZE = "RANK_SIZE"  # training processes of the job (launch sets it per process too)
MNFT_RANK_TABLE_TIMEOUT = "MNFT_RANK_TABLE_TIMEOUT"  # seconds launch waits for the table's `completed`

# -- set by `mnft launch` for each process --
MS_ROLE = "MS_ROLE"  # MS_SCHED for the scheduler, MS_WORKER for a training process
MS_NODE_ID = "MS_NODE_ID"  # = RANK_ID (dynamic cluster)
RANK_ID = "RANK_ID"  # the process's global rank
LOCAL_RANK = "LOCAL_RANK"  # its index in the pod (what MindSpore's get_local_rank() reads before init)
MNFT_LOCAL_RANK = "MNFT_LOCAL_RANK"  # = LOCAL_RANK
DEVICE_ID = "DEVICE_ID"  # the device MindSpore drives: the container's logical id (GPU: 0)
ASCEND_DEVICE_ID = "ASCEND_DEVICE_ID"  # = DEVICE_ID on Ascend
CUDA_VISIBLE_DEVICES = "CUDA_VISIBLE_DEVICES"  # GPU: the one visible GPU of the process
PYTHONUNBUFFERED = "PYTHONUNBUFFERED"  # always 1: line-prefixed output arrives as it is printed

# -- read by launch or the trainer, left to spec.env --
GLOG_v = "GLOG_v"  # MindSpore's C++ log level; launch defaults it to 3 (errors only)
ASCEND_VISIBLE_DEVICES = "ASCEND_VISIBLE_DEVICES"  # set by the Ascend device plugin / runtime
MNFT_LAUNCH_GRACE_SECONDS = "MNFT_LAUNCH_GRACE_SECONDS"  # seconds between SIGTERM and SIGKILL of children
MNFT_LAUNCH_DRY_RUN = "MNFT_LAUNCH_DRY_RUN"  # 1: launch prints each process's env and starts nothing

# -- read by the trainer (MNFT_*: reserved, spec.env cannot set it) --
MNFT_FEATURE_ENGINE = "MNFT_FEATURE_ENGINE"  # the frozen backbone's feature engine (mnft_trainer.engine)

# values
DYNAMIC_CLUSTER = "dynamicCluster"
RANK_TABLE = "rankTable"
ROLE_SCHEDULER = "MS_SCHED"
ROLE_WORKER = "MS_WORKER"

POD_COMMON = (
    MNFT_JOB_NAME,
    MNFT_NAMESPACE,
    MNFT_PLATFORM,
    MNFT_WORKER_INDEX,
    MNFT_WORKERS,
    MNFT_DEVICES_PER_WORKER,
    MNFT_COMM_MODE,
    TERMINATION_MESSAGE_PATH,
)
POD_DYNAMIC_CLUSTER = (
    MS_SCHED_HOST,
    MS_SCHED_PORT,
    MS_WORKER_NUM,
    MNFT_NODE_RANK,
    MNFT_LOCAL_WORKER_NUM,
    MS_TOPO_TIMEOUT,
)
POD_RANK_TABLE = (RANK_TABLE_FILE, RANK_SIZE, MNFT_RANK_TABLE_TIMEOUT)
POD = POD_COMMON + POD_DYNAMIC_CLUSTER + POD_RANK_TABLE
PROCESS = (
    MS_ROLE,
    MS_NODE_ID,
    RANK_ID,
    LOCAL_RANK,
    MNFT_LOCAL_RANK,
    DEVICE_ID,
    ASCEND_DEVICE_ID,
    CUDA_VISIBLE_DEVICES,
    PYTHONUNBUFFERED,
)
USER_SETTINGS = (GLOG_v, ASCEND_VISIBLE_DEVICES, MNFT_LAUNCH_GRACE_SECONDS, MNFT_LAUNCH_DRY_RUN)
