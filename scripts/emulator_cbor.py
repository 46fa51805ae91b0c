"""CloudWatch's RPC v2 CBOR protocol in front of moto, for scripts/emulator_server.py.

The Rust SDK's CloudWatch client (aws-sdk-cloudwatch 1.140) speaks only the protocol CloudWatch
lists first, Smithy RPC v2 CBOR: `POST /service/GraniteServiceVersion20100801/operation/<Op>`,
a CBOR body, `smithy-protocol: rpc-v2-cbor`. moto 5.2 serves CloudWatch in its JSON and query
protocols only, and answers 404 to that path. Each such request is turned into the same call in
the JSON protocol (`X-Amz-Target: GraniteServiceVersion20100801.<Op>`, the same members), moto
answers it, and its answer goes back as CBOR, shaped by the operation's output in botocore's
model of CloudWatch: timestamps as tag 1 (epoch seconds), doubles as floats, blobs as byte
strings (https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html). An error keeps
moto's status and its `x-amzn-query-error` header, from which the SDK takes the error's code, as
from CloudWatch.

Only the CBOR this needs is read and written (RFC 8949): integers, floats, text and byte strings,
arrays and maps (of definite or indefinite length), tags, booleans and null.
"""

import base64
import io
import json
import struct
from collections import namedtuple
from datetime import datetime

import botocore.session

PREFIX = "/service/GraniteServiceVersion20100801/operation/"
TARGET = "GraniteServiceVersion20100801."

Tag = namedtuple("Tag", "tag value")
_MODEL = botocore.session.get_session().get_service_model("cloudwatch")


def serve(environ, start_response, moto):
    """Answers one CBOR request to CloudWatch through `moto(environ, start_response)`."""
    operation = environ["PATH_INFO"][len(PREFIX) :]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    body = json.dumps(decode(raw) if raw else {}).encode()
    inner = dict(environ)
    inner.update(
        {
            "PATH_INFO": "/",
            "CONTENT_TYPE": "application/x-amz-json-1.0",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_X_AMZ_TARGET": TARGET + operation,
            "wsgi.input": io.BytesIO(body),
        }
    )
    answered = {}

    def keep(status, headers, exc_info=None):
        answered.update(status=status, headers=headers)

    text = b"".join(moto(inner, keep))
    answer = json.loads(text) if text.strip() else {}
    ok = answered["status"].startswith("2")
    shape = _MODEL.operation_model(operation).output_shape if ok else None
    out = encode(_shaped(answer, shape))
    headers = [
        (name, value)
        for name, value in answered["headers"]
        if name.lower() not in ("content-type", "content-length")
    ]
    headers += [
        ("Content-Type", "application/cbor"),
        ("Content-Length", str(len(out))),
        ("smithy-protocol", "rpc-v2-cbor"),
    ]
    start_response(answered["status"], headers)
    return [out]


def _shaped(value, shape):
    """A JSON protocol value as the CBOR protocol has it, by its shape in the model."""
    if shape is None or value is None:
        return value
    kind = shape.type_name
    if kind == "structure":
        return {k: _shaped(v, shape.members.get(k)) for k, v in value.items()}
    if kind == "list":
        return [_shaped(v, shape.member) for v in value]
    if kind == "map":
        return {k: _shaped(v, shape.value) for k, v in value.items()}
    if kind == "timestamp":
        seconds = value
        if isinstance(value, str):
            seconds = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        return Tag(1, float(seconds))
    if kind == "blob":
        return base64.b64decode(value)
    if kind in ("double", "float"):
        return float(value)
    return value


def decode(data):
    """The value of one CBOR item; tags are dropped (a timestamp is its epoch seconds) and byte
    strings become base64 text, as the JSON protocol has them."""
    value, _ = _item(data, 0)
    return value


def _argument(data, i):
    major, info = data[i] >> 5, data[i] & 31
    i += 1
    if info < 24:
        return major, info, i
    if info == 31:
        return major, None, i
    size = 1 << (info - 24)
    return major, int.from_bytes(data[i : i + size], "big"), i + size


def _item(data, i):
    floats = {0xF9: (">e", 2), 0xFA: (">f", 4), 0xFB: (">d", 8)}
    if data[i] in floats:
        form, size = floats[data[i]]
        return struct.unpack(form, data[i + 1 : i + 1 + size])[0], i + 1 + size
    major, arg, i = _argument(data, i)
    if major in (0, 1):
        return (arg if major == 0 else -1 - arg), i
    if major in (2, 3):
        raw, i = _string(data, i, arg)
        return (raw.decode() if major == 3 else base64.b64encode(raw).decode()), i
    if major in (4, 5):
        count = None if arg is None else arg * (major - 3)
        items = []
        while data[i] != 0xFF if count is None else len(items) < count:
            item, i = _item(data, i)
            items.append(item)
        i += 1 if count is None else 0
        return (items if major == 4 else dict(zip(items[::2], items[1::2]))), i
    if major == 6:
        return _item(data, i)
    return {20: False, 21: True}.get(arg), i


def _string(data, i, length):
    """The bytes of a string of `length`, or of the chunks of one of indefinite length."""
    if length is not None:
        return data[i : i + length], i + length
    raw = b""
    while data[i] != 0xFF:
        _, size, i = _argument(data, i)
        raw, i = raw + data[i : i + size], i + size
    return raw, i + 1


def encode(value):
    """`value` as CBOR: dicts as maps, lists as arrays, `Tag`s as tags, floats as doubles."""
    out = bytearray()
    _put(out, value)
    return bytes(out)


def _head(out, major, n):
    if n < 24:
        out.append(major << 5 | n)
        return
    size = next(s for s in (1, 2, 4, 8) if n < 1 << (8 * s))
    out.append(major << 5 | (24 + size.bit_length() - 1))
    out += n.to_bytes(size, "big")


def _put(out, value):
    if value is None or isinstance(value, bool):
        out.append({None: 0xF6, True: 0xF5, False: 0xF4}[value])
    elif isinstance(value, Tag):
        _head(out, 6, value.tag)
        _put(out, value.value)
    elif isinstance(value, int):
        _head(out, 0, value) if value >= 0 else _head(out, 1, -1 - value)
    elif isinstance(value, float):
        out.append(0xFB)
        out += struct.pack(">d", value)
    elif isinstance(value, (bytes, str)):
        raw = value.encode() if isinstance(value, str) else value
        _head(out, 3 if isinstance(value, str) else 2, len(raw))
        out += raw
    elif isinstance(value, list):
        _head(out, 4, len(value))
        for item in value:
            _put(out, item)
    else:
        _head(out, 5, len(value))
        for key, item in value.items():
            _put(out, key)
            _put(out, item)
