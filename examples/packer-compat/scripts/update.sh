#!/bin/sh
set -eu
echo "updating packages for ${ENVIRONMENT}"
if command -v dnf >/dev/null 2>&1; then
  dnf -y upgrade --refresh
fi
