#!/usr/bin/env bash
# Stops and removes the active-router service. The policy in /etc/active-router
# and the state in /var/lib/active-router are kept unless --purge is given.
set -euo pipefail
prefix="${PREFIX:-/opt/active-router}"
unit_dir="${UNIT_DIR:-/etc/systemd/system}"
if [[ -d /run/systemd/system ]]; then
  systemctl disable --now active-router 2>/dev/null || true
fi
# Fail-open even if the service was killed: remove any rule of ours that is left.
if [[ -x "$prefix/dist/daemon/cli/main.js" || -f "$prefix/dist/daemon/cli/main.js" ]]; then
  node "$prefix/dist/daemon/cli/main.js" cleanup || true
fi
rm -f "$unit_dir/active-router.service"
rm -rf "$prefix"
if [[ "${1:-}" == "--purge" ]]; then
  rm -rf /etc/active-router /var/lib/active-router
  userdel active-router 2>/dev/null || true
fi
[[ -d /run/systemd/system ]] && systemctl daemon-reload
echo "active-router removed"
