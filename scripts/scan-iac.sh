#!/usr/bin/env bash
# npm run scan:iac — an independent IaC scan (checkov) of the synthesized template, once as deployed by
# default, once with -c encryptionKey=new and once with -c securityLake=true -c encryptionKey=new. Not part of npm test: it installs checkov from PyPI into
# its own venv (.venv-checkov). Accepted findings are skipped by id; the README's "Security" section
# gives the reason for each. Any other finding fails the scan.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${CHECKOV_VENV:-.venv-checkov}"
if [ ! -x "$venv/bin/checkov" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "checkov==3.3.30"
fi

# Accepted in both variants: see README, "Security".
accepted="CKV_AWS_18,CKV_AWS_116,CKV_AWS_117"
# Accepted only without a customer-managed key: the AWS-owned/managed-key defaults.
without_key="CKV_AWS_119,CKV_AWS_149,CKV_AWS_158,CKV_AWS_26,CKV_AWS_27,CKV_AWS_173"

status=0
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for variant in default kms securitylake; do
  out="$work/$variant"
  if [ "$variant" = kms ]; then
    npm run --silent synth -- -c encryptionKey=new -o "$out" >/dev/null
    skip="$accepted"
  elif [ "$variant" = securitylake ]; then
    npm run --silent synth -- -c encryptionKey=new -c securityLake=true -o "$out" >/dev/null
    skip="$accepted"
  else
    npm run --silent synth -- -o "$out" >/dev/null
    skip="$accepted,$without_key"
  fi
  echo "== checkov, $variant template (skipping accepted: $skip)"
  "$venv/bin/checkov" -f "$out/MonitorLake.template.json" --framework cloudformation --compact --quiet --skip-download \
    --skip-check "$skip" || status=1
done
exit "$status"
