#!/usr/bin/env bash
# Signing through the AWS KMS driver against local-kms: bare aws-sdk-kms vs tresor's driver alone and
# layered (audit off and on, with and without the rate limiter) at 1, 8 and 64 concurrent requests, and the
# KMS requests per vault operation in each mode (external: generate, sign, decrypt).
# Starts local-kms (scripts/services/local-kms.sh), runs target/<profile>/tresor-aws-kms-bench, stops it.
#
# usage: benchmarks/aws_kms.sh [--release] [--no-service] [-- ARGS for tresor-aws-kms-bench]
#   --release     build with the release profile (default: dev, whose dependencies are optimised; the
#                 figures are dominated by the HTTP round trip to local-kms)
#   --no-service  use the local-kms already running at TRESOR_TEST_AWS_ENDPOINT (scripts/test.sh kms-aws)
# Exit code 3: local-kms cannot be installed here (the last line says why, starting with "blocked:").
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
profile=dev
dir=debug
service=1
while [ $# -gt 0 ]; do
    case "$1" in
        --release) profile=release; dir=release ;;
        --no-service) service=0 ;;
        --) shift; break ;;
        -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "aws_kms.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
done

cd "$root"
cargo build --profile "$profile" -p tresor-bench --features aws --bin tresor-aws-kms-bench
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
if [ "$service" = 1 ]; then
    trap 'bash scripts/services/local-kms.sh stop' EXIT
    trap 'exit 130' INT TERM
    bash scripts/services/local-kms.sh start
    TRESOR_TEST_AWS_ENDPOINT=$(bash scripts/services/local-kms.sh url)
fi
: "${TRESOR_TEST_AWS_ENDPOINT:?no local-kms: run without --no-service, or start it}"
export TRESOR_TEST_AWS_ENDPOINT
"target/$dir/tresor-aws-kms-bench" "$@"
