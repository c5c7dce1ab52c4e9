"""An API Gateway HTTP API (payload 2.0) handler; `requests` comes from the layer."""

import json

import requests


def handler(event, context):
    http = event["requestContext"]["http"]
    body = {"method": http["method"], "path": event["rawPath"], "requests": requests.__version__}
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps(body)}
