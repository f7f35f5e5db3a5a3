#!/usr/bin/env python3
"""Lint template.yaml as `sam deploy` sees it, without AWS.

1. cfn-lint on template.yaml (the SAM source; cfn-lint applies the transform itself).
2. The SAM transform (samtranslator, the library behind `sam deploy`) with each function's
   CodeUri replaced by an S3 URI, as `sam package` uploads it, and a managed policy loader that
   answers from samtranslator's bundled map instead of calling IAM.
3. cfn-lint on the translated CloudFormation JSON.

Any finding, or a transform error, exits 1. Usage: scripts/lint-template.py [template.yaml]
"""
import json
import os
import subprocess
import sys
import tempfile

import boto3

from samtranslator.internal.managed_policies import get_bundled_managed_policy_map
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

CODE_URI = "s3://checkout-idem-artifacts/checkout-idem/bootstrap.zip"


def managed_policies():
    """The policy loader: the AWS managed policy names samtranslator ships (name to ARN), so
    the transform needs no IAM ListPolicies call."""
    return get_bundled_managed_policy_map("aws")


def s3_code(template):
    """Replaces every function's local CodeUri (and the Globals one) by an S3 URI."""
    for res in template.get("Resources", {}).values():
        if res.get("Type") in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion"):
            props = res.setdefault("Properties", {})
            key = "ContentUri" if res["Type"].endswith("LayerVersion") else "CodeUri"
            if not str(props.get(key, "")).startswith("s3://") and "InlineCode" not in props:
                props[key] = CODE_URI
    fn = template.get("Globals", {}).get("Function", {})
    if "CodeUri" in fn:
        fn["CodeUri"] = CODE_URI
    return template


def cfn_lint(path):
    print(f"cfn-lint {path}", flush=True)
    return subprocess.run(["cfn-lint", "--", path]).returncode


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "template.yaml"
    failed = cfn_lint(src) != 0
    with open(src) as f:
        template = s3_code(yaml_parse(f.read()))
    params = {"AWS::Region": "us-east-1", "AWS::Partition": "aws", "AWS::AccountId": "123456789012"}
    try:
        out = Translator(None, Parser(), boto_session=boto3.session.Session(region_name="us-east-1")).translate(template, params, get_managed_policy_map=managed_policies)
    except Exception as e:  # InvalidDocumentException lists every cause
        causes = getattr(e, "causes", None) or [e]
        for c in causes:
            print(f"{src}: SAM transform: {getattr(c, 'message', c)}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "template.translated.json")
        with open(path, "w") as f:
            json.dump(out, f, indent=1)
        failed = cfn_lint(path) != 0 or failed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
