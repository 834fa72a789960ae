#!/usr/bin/env python3
"""A mobile or web app's view of moat, written with boto3 as an app for AWS
IoT Core would be: it holds no long-term AWS key.

    cognito_app.py credentials --endpoint URL --ca FILE --pool POOL [--login TOKEN]

        GetId, then GetCredentialsForIdentity (both unsigned), as a guest or,
        with --login, with a developer token
        (GetOpenIdTokenForDeveloperIdentity's, made by the app's back end)
        under the login provider cognito-identity.amazonaws.com. Prints one
        JSON object: identityId, accessKeyId, secretKey, sessionToken,
        expiration (epoch seconds) and wssUrl, a wss://.../mqtt URL
        presigned with botocore's SigV4QueryAuth (signing name
        iotdevicegateway, the session token in the signed query).

    cognito_app.py publish --endpoint URL --ca FILE --topic T [--topic T ...] --payload P

        Reads the object printed by "credentials" on stdin and publishes P
        at QoS 1 to each topic with boto3's iot-data client and those
        temporary credentials. Prints {"results": [...]}, one entry per
        topic: {"topic", "ok": true} or {"topic", "ok": false, "code",
        "status", "message"} (the AWS error code, e.g. ForbiddenException).

The Go test (apps_cognito_test.go) runs it with no ambient AWS
configuration: no AWS_* variables, AWS_CONFIG_FILE and
AWS_SHARED_CREDENTIALS_FILE set to /dev/null.
"""

import argparse
import json
import sys

import boto3
import botocore
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

DEVELOPER_PROVIDER = "cognito-identity.amazonaws.com"
PRESIGN_SECONDS = 300


def presigned_wss_url(endpoint, region, creds):
    """A wss:// URL for /mqtt presigned for the iotdevicegateway service."""
    url = "wss://" + endpoint.split("://", 1)[1].rstrip("/") + "/mqtt"
    request = AWSRequest(method="GET", url=url)
    SigV4QueryAuth(creds, "iotdevicegateway", region, expires=PRESIGN_SECONDS).add_auth(request)
    return request.url


def credentials(args):
    # The app has no credentials: the unsigned operations need none.
    cognito = boto3.client("cognito-identity", endpoint_url=args.endpoint, region_name=args.region,
                           verify=args.ca, config=Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 1}))
    logins = {DEVELOPER_PROVIDER: args.login} if args.login else {}
    identity = cognito.get_id(IdentityPoolId=args.pool, Logins=logins)["IdentityId"]
    got = cognito.get_credentials_for_identity(IdentityId=identity, Logins=logins)
    c = got["Credentials"]
    creds = Credentials(c["AccessKeyId"], c["SecretKey"], c["SessionToken"])
    json.dump({
        "identityId": got["IdentityId"],
        "accessKeyId": c["AccessKeyId"],
        "secretKey": c["SecretKey"],
        "sessionToken": c["SessionToken"],
        "expiration": int(c["Expiration"].timestamp()),
        "wssUrl": presigned_wss_url(args.endpoint, args.region, creds),
    }, sys.stdout)


def publish(args):
    c = json.load(sys.stdin)
    data = boto3.client("iot-data", endpoint_url=args.endpoint, region_name=args.region, verify=args.ca,
                        aws_access_key_id=c["accessKeyId"], aws_secret_access_key=c["secretKey"],
                        aws_session_token=c["sessionToken"], config=Config(retries={"max_attempts": 1}))
    results = []
    for topic in args.topic:
        try:
            data.publish(topic=topic, qos=1, payload=args.payload.encode())
            results.append({"topic": topic, "ok": True})
        except ClientError as e:
            results.append({"topic": topic, "ok": False, "code": e.response["Error"].get("Code", ""),
                            "status": e.response["ResponseMetadata"].get("HTTPStatusCode", 0),
                            "message": e.response["Error"].get("Message", "")})
    json.dump({"results": results}, sys.stdout)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("credentials", "publish"):
        s = sub.add_parser(name)
        s.add_argument("--endpoint", required=True, help="https://HOST:PORT of moat")
        s.add_argument("--ca", required=True, help="moat's root-ca.pem")
        s.add_argument("--region", default="us-east-1")
    c = sub.choices["credentials"]
    c.add_argument("--pool", required=True, help="identity pool id")
    c.add_argument("--login", help="developer token (GetOpenIdTokenForDeveloperIdentity)")
    pub = sub.choices["publish"]
    pub.add_argument("--topic", action="append", required=True)
    pub.add_argument("--payload", required=True)
    args = p.parse_args()
    {"credentials": credentials, "publish": publish}[args.command](args)


if __name__ == "__main__":
    main()
