"""What a create's answer means for the job: created, a name conflict, worth retrying, or never possible.

- created: 201, or 409 for an object whose controller ownerReference is this job (an earlier attempt's answer
  was lost);
- conflict: 409 for an object at one of the job's names that this job does not control. It is never adopted
  or deleted (like a StatefulSet's pods); the job waits, backing off, until someone removes it;
- permanent: 422 Invalid and 400 BadRequest (the same object is refused every time), and 403 from Pod Security
  Admission ("violates PodSecurity": the operator's pod does not change until the job does): the job fails;
- transient: anything else (403 `exceeded quota` clears when other pods finish, 429, 5xx, 404 while a
  namespace or CRD is being set up): retried with backoff.
"""

from __future__ import annotations

from mnft_operator.pod_state import describe_owner, is_owned
from mnft_operator.types import CreateResult

CREATED = "created"
CONFLICT = "conflict"
PERMANENT = "permanent"
TRANSIENT = "transient"

PERMANENT_CODES = (400, 422)
POD_SECURITY = "violates PodSecurity"


def classify(result: CreateResult, job_uid: str) -> str:
    if result.code in (200, 201):
        return CREATED
    if result.code == 409:
        if result.existing is not None and is_owned({"metadata": result.existing}, job_uid):
            return CREATED
        return CONFLICT
    if result.code in PERMANENT_CODES or (result.code == 403 and POD_SECURITY in result.message):
        return PERMANENT
    return TRANSIENT


def describe(result: CreateResult, namespace: str) -> str:
    """One line for the condition and the event: the object and the API's own words."""
    what = f"{result.kind} {namespace}/{result.name}"
    if result.code == 409:
        owner = describe_owner(None if result.existing is None else {"metadata": result.existing})
        return f"{what} already exists and this job does not control it ({owner}); delete or rename it"
    detail = result.message or result.reason or "no message"
    return f"creating {what} failed: HTTP {result.code} {result.reason}: {detail}".replace(": :", ":")
