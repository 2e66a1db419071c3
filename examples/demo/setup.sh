#!/bin/sh
# Runs on the build instance over SSH.
set -eu
echo "${GREETING}: provisioned on $(uname -n) as $(id -un)"
echo "${GREETING}" > provisioned.txt
