#!/bin/sh
# Runs on the build instance over SSH, as the login user; sudo for the rest.
set -eu
echo "${GREETING}: provisioned on $(uname -n) as $(id -un)"
echo "${GREETING}" > provisioned.txt
echo "${GREETING} (built $(date -u +%Y-%m-%dT%H:%M:%SZ))" | sudo tee /etc/imgbuild-demo >/dev/null
# A small package from the instance's own package manager.
if command -v apt-get >/dev/null 2>&1; then
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q tree
else
  sudo yum install -y -q tree
fi
