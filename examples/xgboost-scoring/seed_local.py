"""Put the sample threat feed and a trained model into S3 (a local moto server or real S3).

    python seed_local.py --bucket risk-demo --model build/model.ubj

Uses boto3 as configured by the environment (AWS_ENDPOINT_URL, credentials, region), creates
the bucket if needed, uploads ``sample_data/threat_feed.json`` to ``intel/threat_feed.json``
and the model to ``models/<file name>``, and prints the environment variables the two
functions need.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import boto3
from botocore.exceptions import ClientError

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bucket", required=True)
    parser.add_argument(
        "--model",
        type=Path,
        action="append",
        default=[],
        help="model file (.ubj/.json); repeat for an ensemble",
    )
    parser.add_argument("--feed", type=Path, default=HERE / "sample_data" / "threat_feed.json")
    args = parser.parse_args(argv)

    s3 = boto3.client("s3")
    try:
        s3.head_bucket(Bucket=args.bucket)
    except ClientError:
        s3.create_bucket(Bucket=args.bucket)
    feed_key = f"intel/threat_feed{args.feed.suffix}"
    s3.upload_file(str(args.feed), args.bucket, feed_key)
    uris = []
    for model in args.model:
        if model.suffix not in (".ubj", ".json"):
            parser.error(f"{model}: models are save_model files (.ubj or .json)")
        key = f"models/{model.name}"
        s3.upload_file(str(model), args.bucket, key)
        uris.append(f"s3://{args.bucket}/{key}")
    print(f"export THREAT_FEED_URI=s3://{args.bucket}/{feed_key}")
    if uris:
        print(f"export MODEL_URI={','.join(uris)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
