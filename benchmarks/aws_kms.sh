#!/usr/bin/env bash
# Signing through the AWS KMS driver against moto server: bare aws-sdk-kms vs tresor's layered(AwsKms)
# (audit off and on) at 1, 8 and 64 concurrent requests, and the KMS requests per vault operation.
# Starts moto (scripts/services/moto.sh), runs target/<profile>/tresor-aws-kms-bench, stops moto.
#
# usage: benchmarks/aws_kms.sh [--release] [-- ARGS for tresor-aws-kms-bench]
#   --release   build with the release profile (default: dev, whose dependencies are optimised; the
#               figures are dominated by the HTTP round trip to the emulator)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
profile=dev
dir=debug
while [ $# -gt 0 ]; do
    case "$1" in
        --release) profile=release; dir=release ;;
        --) shift; break ;;
        -h|--help) sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "aws_kms.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
done

cd "$root"
cargo build --profile "$profile" -p tresor-bench --features aws --bin tresor-aws-kms-bench
trap 'bash scripts/services/moto.sh stop' EXIT
trap 'exit 130' INT TERM
bash scripts/services/moto.sh start
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
TRESOR_TEST_AWS_ENDPOINT=$(bash scripts/services/moto.sh url)
export TRESOR_TEST_AWS_ENDPOINT
"target/$dir/tresor-aws-kms-bench" "$@"
