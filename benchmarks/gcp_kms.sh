#!/usr/bin/env bash
# Signing through the GCP KMS driver against tresor's GCP KMS API test server (tests/services/gcp-kms; not
# Google's service): bare google-cloud-kms-v1 vs tresor's driver alone and layered (audit off and on) at 1, 8
# and 64 concurrent requests, and the KMS requests per vault operation in each mode (external: generate,
# sign, decrypt). Starts the server (scripts/services/gcp-kms.sh), runs target/<profile>/tresor-gcp-kms-bench,
# stops it.
#
# usage: benchmarks/gcp_kms.sh [--release] [--no-service] [-- ARGS for tresor-gcp-kms-bench]
#   --release     build with the release profile (default: dev, whose dependencies are optimised)
#   --no-service  use the server already running at TRESOR_TEST_GCP_ENDPOINT (scripts/test.sh kms-gcp)
# Exit code 3: the server's venv cannot be installed here (the last line says why, starting "blocked:").
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
        *) echo "gcp_kms.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
done

cd "$root"
cargo build --profile "$profile" -p tresor-bench --features gcp --bin tresor-gcp-kms-bench
if [ "$service" = 1 ]; then
    trap 'bash scripts/services/gcp-kms.sh stop' EXIT
    trap 'exit 130' INT TERM
    bash scripts/services/gcp-kms.sh start
    TRESOR_TEST_GCP_ENDPOINT=$(bash scripts/services/gcp-kms.sh url)
fi
: "${TRESOR_TEST_GCP_ENDPOINT:?no test server: run without --no-service, or start it}"
export TRESOR_TEST_GCP_ENDPOINT
"target/$dir/tresor-gcp-kms-bench" "$@"
