#!/usr/bin/env python3
"""Generate SigV4 vectors signed by botocore for the sigv4 package tests.

Regenerate (from the repository root) with:

    python3 internal/auth/sigv4/testdata/gen_botocore.py

Each vector is one request exactly as botocore would put it on the wire
(method, URL, headers, body) plus the credentials and the signing time.
Most go through a real botocore client (iot, iot-data) whose HTTP send is
replaced by a stub, so the path-label escaping is botocore's own; a few are
signed directly with botocore.auth.SigV4Auth to cover corners (dot segments
in the path, tabs in a header value, UNSIGNED-PAYLOAD, session tokens).
The clock is fixed so the output is deterministic; the Go test sets
Verifier.Now to the same instant.
"""
import base64
import datetime
import json
import os

import botocore
import botocore.auth
import botocore.session
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.credentials import Credentials

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "botocore")
SIGNED_AT = datetime.datetime(2026, 1, 15, 10, 15, 0)
AKID = "AKIDMOATEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//////////+token/with+plus=="

botocore.auth.get_current_datetime = lambda: SIGNED_AT


def vector(name, service, method, url, headers, body, token=None, note=""):
    if isinstance(body, str):
        body = body.encode()
    return {
        "name": name,
        "note": note,
        "botocore_version": botocore.__version__,
        "service": service,
        "region": "us-east-1",
        "signed_at": SIGNED_AT.strftime("%Y%m%dT%H%M%SZ"),
        "access_key_id": AKID,
        "secret": SECRET,
        "session_token": token or "",
        "method": method,
        "url": url,
        "headers": [[k, v] for k, v in headers.items()],
        "body_base64": base64.b64encode(body or b"").decode(),
    }


def via_client(name, service, call, token=None, note=""):
    """Run one client call, capture the signed request, return a vector."""
    captured = {}

    def before_send(request, **kwargs):
        captured["req"] = request
        resp = AWSResponse(request.url, 200, {}, None)
        resp._content = b"{}"
        return resp

    session = botocore.session.get_session()
    session.set_credentials(AKID, SECRET, token)
    client = session.create_client(
        service, region_name="us-east-1", endpoint_url="https://localhost:8443")
    client.meta.events.register("before-send", before_send)
    try:
        call(client)
    except Exception:
        pass  # the stub's empty answer may not parse; the request is captured
    r = captured["req"]
    headers = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in r.headers.items()}
    # Unsigned and run-dependent: pin them so regenerating gives the same files.
    headers["User-Agent"] = "Botocore/" + botocore.__version__
    if "amz-sdk-invocation-id" in headers:
        headers["amz-sdk-invocation-id"] = "00000000-0000-4000-8000-000000000000"
    signing_name = client.meta.service_model.signing_name
    return vector(name, signing_name, r.method, r.url, headers, r.body, token, note)


def direct(name, service, method, url, headers, body=b"", token=None, unsigned=False, note=""):
    """Sign an AWSRequest with SigV4Auth directly."""
    req = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    if unsigned:
        req.context["payload_signing_enabled"] = False
    botocore.auth.SigV4Auth(Credentials(AKID, SECRET, token), service, "us-east-1").add_auth(req)
    return vector(name, service, method, url, dict(req.headers.items()), body, token, note)


vectors = [
    via_client("iot-list-things", "iot",
               lambda c: c.list_things(maxResults=10, attributeName="color", attributeValue="dark blue/x")),
    via_client("iot-create-thing", "iot",
               lambda c: c.create_thing(thingName="lamp-1", attributePayload={"attributes": {"room": "hall"}})),
    via_client("iot-describe-thing-session-token", "iot",
               lambda c: c.describe_thing(thingName="lamp-1"), token=TOKEN),
    via_client("iot-delete-thing", "iot",
               lambda c: c.delete_thing(thingName="lamp-1", expectedVersion=3)),
    via_client("iotdata-publish-shadow-topic", "iot-data",
               lambda c: c.publish(topic="$aws/things/lamp-1/shadow/update", qos=1,
                                   payload=b'{"state":{"desired":{"on":true}}}'),
               note="topic label with $ and / escaped by botocore: /topics/%24aws%2Fthings%2F..."),
    via_client("iotdata-get-named-shadow", "iot-data",
               lambda c: c.get_thing_shadow(thingName="lamp-1", shadowName="night mode")),
    via_client("iotdata-update-shadow-token", "iot-data",
               lambda c: c.update_thing_shadow(thingName="lamp-1", payload=b'{"state":{}}'), token=TOKEN),
    direct("direct-dot-segments", "iot", "GET", "https://localhost:8443/things/./lamp-1/../lamp-2", {},
           note="botocore removes dot segments before encoding the canonical URI"),
    direct("direct-header-tab", "iotdata", "POST", "https://localhost:8443/topics/a?qos=0",
           {"X-Custom": "a\tb  c", "Content-Type": "application/json"}, b"{}",
           note="botocore collapses all whitespace runs; the Go SDK only spaces"),
    direct("direct-unsigned-payload", "iotdata", "POST", "https://localhost:8443/topics/a%2Fb?qos=1",
           {"Content-Type": "application/octet-stream"}, b"\x00\x01binary", unsigned=True,
           note="X-Amz-Content-SHA256: UNSIGNED-PAYLOAD"),
    direct("direct-session-token-query", "iotdevicegateway", "GET",
           "https://localhost:8443/mqtt?b=2&a=1&a=0", {}, token=TOKEN),
]

os.makedirs(OUT, exist_ok=True)
for v in vectors:
    with open(os.path.join(OUT, v["name"] + ".json"), "w") as f:
        json.dump(v, f, indent=2, sort_keys=True)
        f.write("\n")
print("wrote %d vectors to %s" % (len(vectors), OUT))
