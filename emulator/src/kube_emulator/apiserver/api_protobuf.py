"""Kubernetes' protobuf wire format for the built-in kinds, to and from the JSON objects the store keeps.

A protobuf body (`application/vnd.kubernetes.protobuf`) is the 4-byte magic `k8s\\x00` and a
`runtime.Unknown` holding the object's apiVersion and kind and its message bytes. The messages are
built at import from `api_proto_fields.MESSAGES` (the published field numbers) into a descriptor pool
of the `protobuf` runtime, which does the wire encoding; this module maps between those messages and
the JSON forms kubectl and client-go use:

- metav1.Time <-> `2006-01-02T15:04:05Z`, metav1.MicroTime <-> `2006-01-02T15:04:05.000000Z`,
  metav1.Duration <-> Go's duration string; resource.Quantity <-> its string; IntOrString <-> an int or
  a string; RawExtension and FieldsV1 <-> the JSON they carry; `bytes` <-> base64.
- Go encodes every non-pointer field, zero or not; JSON's `omitempty` leaves zero values out, so a
  zero scalar is dropped unless the table marks the field as a pointer (`?`: `replicas: 0` stays).
- Embedded structs (`^`) are inlined, as encoding/json does (a Volume's source, a Probe's handler).

A field number the table does not know is a DecodeError (400), never silently dropped.
`normalise_times(kind_message, obj)` rewrites a JSON object's Time and MicroTime fields to the forms
above (what a kube-apiserver stores whatever offset or precision a client sent).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError as ProtobufDecodeError
from google.protobuf.message import Message
from google.protobuf.unknown_fields import UnknownFieldSet

from kube_emulator.apiserver.api_events import format_time, parse_time
from kube_emulator.apiserver.api_proto_fields import MESSAGES

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"
_SCALARS = {
    "string": descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
    "bool": descriptor_pb2.FieldDescriptorProto.TYPE_BOOL,
    "int32": descriptor_pb2.FieldDescriptorProto.TYPE_INT32,
    "int64": descriptor_pb2.FieldDescriptorProto.TYPE_INT64,
    "double": descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE,
    "float": descriptor_pb2.FieldDescriptorProto.TYPE_FLOAT,
    "bytes": descriptor_pb2.FieldDescriptorProto.TYPE_BYTES,
}
_ZERO_TIME = -62135596800  # Go's zero time.Time (0001-01-01T00:00:00Z) in Unix seconds
_TIMES = {"meta.v1.Time", "meta.v1.MicroTime"}


class DecodeError(ValueError):
    """The protobuf body cannot be read; the message says why (one line)."""


@dataclass(frozen=True)
class Field:
    name: str
    number: int
    type: str  # a scalar name or a message name
    repeated: bool = False
    map: bool = False
    pointer: bool = False
    inline: bool = False


def parse_fields(spec: str) -> list[Field]:
    """`"name=1:string labels=11:map:string items=2:*core.v1.Pod replicas=1:int32?"` -> Fields."""
    fields = []
    for part in spec.split():
        name, _, rest = part.partition("=")
        number, _, kind = rest.partition(":")
        pointer, inline = kind.endswith("?"), kind.endswith("^")
        kind = kind.rstrip("?^")
        repeated, kind = kind.startswith("*"), kind.removeprefix("*")
        is_map, kind = kind.startswith("map:"), kind.removeprefix("map:")
        fields.append(Field(name, int(number), kind, repeated, is_map, pointer, inline))
    return fields


FIELDS: dict[str, list[Field]] = {name: parse_fields(spec) for name, spec in MESSAGES.items()}
_BY_NAME: dict[str, dict[str, Field]] = {m: {f.name: f for f in fs} for m, fs in FIELDS.items()}


def _proto_name(message: str) -> str:
    return message.replace(".", "_")


def _build_pool() -> descriptor_pool.DescriptorPool:
    file = descriptor_pb2.FileDescriptorProto(name="kube_emulator_k8s.proto", package="k8s", syntax="proto2")
    label = descriptor_pb2.FieldDescriptorProto
    for message, fields in FIELDS.items():
        proto = file.message_type.add(name=_proto_name(message))
        for field in fields:
            entry = proto.field.add(name=field.name, number=field.number)
            entry.label = label.LABEL_REPEATED if field.repeated or field.map else label.LABEL_OPTIONAL
            if field.map:
                entry_name = f"{field.name[0].upper()}{field.name[1:]}Entry"
                nested = proto.nested_type.add(name=entry_name)
                nested.options.map_entry = True
                nested.field.add(name="key", number=1, type=label.TYPE_STRING, label=label.LABEL_OPTIONAL)
                value = nested.field.add(name="value", number=2, label=label.LABEL_OPTIONAL)
                _set_type(value, field.type)
                entry.type, entry.type_name = label.TYPE_MESSAGE, f".k8s.{_proto_name(message)}.{entry_name}"
            else:
                _set_type(entry, field.type)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return pool


def _set_type(entry: descriptor_pb2.FieldDescriptorProto, kind: str) -> None:
    if kind in _SCALARS:
        entry.type = _SCALARS[kind]
    else:
        entry.type = descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE
        entry.type_name = f".k8s.{_proto_name(kind)}"


_POOL = _build_pool()
_CLASSES: dict[str, type[Message]] = {}


def message_class(message: str) -> type[Message]:
    if message not in _CLASSES:
        descriptor = _POOL.FindMessageTypeByName(f"k8s.{_proto_name(message)}")
        _CLASSES[message] = message_factory.GetMessageClass(descriptor)
    return _CLASSES[message]


def message_for(api_version: str, kind: str) -> str | None:
    """The table's message of a kind: `("apps/v1", "Deployment")` -> "apps.v1.Deployment"."""
    group, _, version = api_version.rpartition("/")
    package = group.split(".")[0] if group else "core"
    for name in (f"{package}.{version}.{kind}", f"meta.v1.{kind}"):
        if name in FIELDS:
            return name
    return None


# ---- times --------------------------------------------------------------------------------------------
def _times_below(message: str, seen: frozenset[str] = frozenset()) -> bool:
    """Whether `message` holds a Time or MicroTime field anywhere below it."""
    if message in _HAS_TIMES:
        return _HAS_TIMES[message]
    found = False
    for field in FIELDS.get(message, ()):
        if field.type in _TIMES:
            found = True
        elif field.type in FIELDS and field.type not in seen:
            found = _times_below(field.type, seen | {message})
        if found:
            break
    _HAS_TIMES[message] = found
    return found


_HAS_TIMES: dict[str, bool] = {}
_CANONICAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z")


def normalise_times(message: str | None, value: Any) -> Any:
    """`value` (a JSON object of `message`) with every Time / MicroTime field in its canonical form."""
    if message is None or not isinstance(value, Mapping) or not _times_below(message):
        return value
    fields = _BY_NAME.get(message, {})
    result = dict(value)
    for field in fields.values():
        if field.inline:
            result = normalise_times(field.type, result)
            continue
        item = result.get(field.name)
        if item is None or field.type in {"string", "bool", "int32", "int64", "double", "bytes", "float"}:
            continue
        if field.type in _TIMES:
            micro = field.type == "meta.v1.MicroTime"
            if field.repeated:
                result[field.name] = [_canonical_time(t, micro) for t in item]
            else:
                result[field.name] = _canonical_time(item, micro)
        elif field.map and isinstance(item, Mapping):
            result[field.name] = {k: normalise_times(field.type, v) for k, v in item.items()}
        elif field.repeated and isinstance(item, list):
            result[field.name] = [normalise_times(field.type, v) for v in item]
        else:
            result[field.name] = normalise_times(field.type, item)
    return result


def _canonical_time(value: Any, micro: bool) -> Any:
    if not isinstance(value, str) or not value:
        return value
    match = _CANONICAL.fullmatch(value)
    if match is not None and bool(match.group(1)) == micro:
        return value
    return format_time(parse_time(value), micro)


# ---- protobuf -> JSON ---------------------------------------------------------------------------------
def decode(raw: bytes) -> dict[str, Any]:
    """A `k8s\\x00` envelope -> the JSON object it carries (apiVersion and kind from the envelope)."""
    if not raw.startswith(MAGIC):
        raise DecodeError("the protobuf body does not start with the k8s\\x00 magic")
    envelope = _parse("runtime.Unknown", raw[len(MAGIC) :])
    api_version = envelope.typeMeta.apiVersion
    kind = envelope.typeMeta.kind
    if envelope.contentEncoding:
        raise DecodeError(f"content encoding {envelope.contentEncoding!r} is not supported")
    if not kind or not api_version:
        raise DecodeError("the protobuf envelope names no apiVersion and kind")
    message = message_for(api_version, kind)
    if message is None:
        raise DecodeError(f"no protobuf message is known for {kind} in {api_version}")
    body = to_json(message, _parse(message, envelope.raw))
    return {"apiVersion": api_version, "kind": kind, **body}


def _parse(message: str, data: bytes) -> Message:
    instance = message_class(message)()
    try:
        instance.ParseFromString(data)
    except ProtobufDecodeError as error:
        raise DecodeError(f"{message} cannot be decoded: {error}") from None
    return instance


def to_json(message: str, instance: Message) -> dict[str, Any]:
    unknown = UnknownFieldSet(instance)
    if len(unknown):
        numbers = sorted({f.field_number for f in unknown})
        raise DecodeError(f"{message.rpartition('.')[2]} has fields unknown to this server: {numbers}")
    result: dict[str, Any] = {}
    fields = _BY_NAME[message]
    for descriptor, value in instance.ListFields():
        field = fields[descriptor.name]
        if field.map:
            result[field.name] = {k: _value_to_json(field, v) for k, v in value.items()}
        elif field.repeated:
            result[field.name] = [v for v in (_value_to_json(field, v) for v in value) if v is not _OMIT]
        elif field.inline:
            result.update(to_json(field.type, value))
        else:
            converted = _value_to_json(field, value)
            if converted is not _OMIT:
                result[field.name] = converted
    return result


_OMIT = object()


def _value_to_json(field: Field, value: Any) -> Any:
    kind = field.type
    if kind == "bytes":
        return base64.b64encode(value).decode()
    if kind in _SCALARS:
        if not field.repeated and not field.map and not field.pointer and not value:
            return _OMIT
        return value
    if kind in _TIMES:
        if value.seconds in (0, _ZERO_TIME) and value.nanos == 0:  # Go sends the zero time as {}
            return _OMIT
        moment = datetime.fromtimestamp(value.seconds, timezone.utc) + timedelta(
            microseconds=value.nanos // 1000
        )
        return format_time(moment, micro=kind == "meta.v1.MicroTime")
    if kind == "meta.v1.Duration":
        return go_duration(value.duration)
    if kind == "resource.Quantity":
        return value.string
    if kind == "intstr.IntOrString":
        return value.strVal if value.type == 1 else value.intVal
    if kind in ("runtime.RawExtension", "meta.v1.FieldsV1"):
        raw = value.raw if kind == "runtime.RawExtension" else value.Raw
        return json.loads(raw) if raw else _OMIT
    return to_json(kind, value)


def go_duration(nanos: int) -> str:
    """Go's time.Duration.String(): 90s -> "1m30s", 1.5s -> "1.5s", 0 -> "0s"."""
    if nanos == 0:
        return "0s"
    sign, nanos = ("-", -nanos) if nanos < 0 else ("", nanos)
    hours, rest = divmod(nanos, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    seconds = f"{rest / 10**9:.9f}".rstrip("0").rstrip(".")
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if hours or minutes else "") + f"{seconds}s"
    return sign + text


def parse_go_duration(text: str) -> int:
    units = {"h": 3600 * 10**9, "m": 60 * 10**9, "s": 10**9, "ms": 10**6, "us": 10**3, "µs": 10**3, "ns": 1}
    sign = -1 if text.startswith("-") else 1
    parts = re.findall(r"([\d.]+)(h|ms|m|s|us|µs|ns)", text.lstrip("+-"))
    if not parts:
        raise ValueError(f"time: invalid duration {text!r}")
    return sign * round(sum(float(n) * units[u] for n, u in parts))


# ---- JSON -> protobuf ---------------------------------------------------------------------------------
def encode(obj: Mapping[str, Any]) -> bytes | None:
    """A JSON object -> a `k8s\\x00` envelope; None when no message is known for its kind."""
    api_version, kind = str(obj.get("apiVersion") or ""), str(obj.get("kind") or "")
    message = message_for(api_version, kind)
    if message is None:
        return None
    envelope = message_class("runtime.Unknown")()
    envelope.typeMeta.apiVersion = api_version
    envelope.typeMeta.kind = kind
    envelope.raw = from_json(message, obj).SerializeToString(deterministic=True)
    return MAGIC + envelope.SerializeToString(deterministic=True)


WATCH_MEDIA_TYPE = f"{MEDIA_TYPE};stream=watch"


def watch_frame(event_type: str, obj: Mapping[str, Any]) -> bytes | None:
    """One event of a protobuf watch stream, as client-go's LengthDelimitedFramer reads it: a 4-byte
    big-endian length, then a metav1.WatchEvent (raw, no envelope) whose object is the enveloped object."""
    embedded = encode(obj)
    if embedded is None:
        return None
    event = message_class("meta.v1.WatchEvent")()
    event.type = event_type
    event.object.raw = embedded
    data = event.SerializeToString(deterministic=True)
    return len(data).to_bytes(4, "big") + data


def from_json(message: str, obj: Mapping[str, Any]) -> Message:
    instance = message_class(message)()
    _fill(message, instance, obj)
    return instance


def _fill(message: str, instance: Any, obj: Mapping[str, Any]) -> None:
    for field in FIELDS[message]:
        if field.inline:
            _fill(field.type, getattr(instance, field.name), obj)
            continue
        value = obj.get(field.name)
        if value is None:
            continue
        target = getattr(instance, field.name)
        if field.map:
            for key, item in value.items():
                if field.type in _SCALARS:
                    target[key] = _scalar_from_json(field.type, item)
                else:
                    _message_from_json(field.type, target[key], item)
        elif field.repeated:
            for item in value:
                if field.type in _SCALARS:
                    target.append(_scalar_from_json(field.type, item))
                else:
                    _message_from_json(field.type, target.add(), item)
        elif field.type in _SCALARS:
            setattr(instance, field.name, _scalar_from_json(field.type, value))
        else:
            _message_from_json(field.type, target, value)


def _scalar_from_json(kind: str, value: Any) -> Any:
    if kind == "bytes":
        try:
            return base64.b64decode(value)
        except (binascii.Error, TypeError):
            return str(value).encode()
    if kind in ("int32", "int64"):
        return int(value)
    if kind in ("double", "float"):
        return float(value)
    if kind == "bool":
        return bool(value)
    return str(value)


def _message_from_json(kind: str, target: Any, value: Any) -> None:
    if kind in _TIMES:
        moment = parse_time(value)
        target.seconds = int(moment.timestamp())
        if kind == "meta.v1.MicroTime":
            target.nanos = moment.microsecond * 1000
    elif kind == "meta.v1.Duration":
        target.duration = parse_go_duration(str(value))
    elif kind == "resource.Quantity":
        target.string = str(value)
    elif kind == "intstr.IntOrString":
        if isinstance(value, int):
            target.type, target.intVal = 0, value
        else:
            target.type, target.strVal = 1, str(value)
    elif kind == "runtime.RawExtension":
        target.raw = json.dumps(value, separators=(",", ":")).encode()
    elif kind == "meta.v1.FieldsV1":
        target.Raw = json.dumps(value, separators=(",", ":")).encode()
    elif isinstance(value, Mapping):
        target.SetInParent()
        _fill(kind, target, value)


def wants_protobuf(accept: str) -> bool:
    """True when the Accept header takes protobuf and no JSON (`*/*` counts as JSON)."""
    types = [part.split(";")[0].strip().lower() for part in accept.split(",") if part.strip()]
    return MEDIA_TYPE in types and not any(t in ("application/json", "*/*", "application/*") for t in types)
