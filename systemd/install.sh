#!/usr/bin/env bash
# Installs active-router as a systemd service: builds it, copies it to
# /opt/active-router, creates the service user, installs the default policy
# (unless one exists) and the unit. Run as root from a clone.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
prefix="${PREFIX:-/opt/active-router}"
etc="${ETC_DIR:-/etc/active-router}"
unit_dir="${UNIT_DIR:-/etc/systemd/system}"

bash "$src/.ci/setup"
id -u active-router >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin active-router
mkdir -p "$prefix" "$etc"
cp -a "$src/package.json" "$src/package-lock.json" "$src/dist" "$src/node_modules" "$src/policies" "$src/README.md" "$prefix/"
[[ -f "$etc/policy.yaml" ]] || cp "$src/policies/examples/default.yaml" "$etc/policy.yaml"
# The unit names /opt/active-router and /etc/active-router; follow PREFIX and ETC_DIR when they differ.
sed -e "s#/opt/active-router#$prefix#g" -e "s#/etc/active-router#$etc#g" "$src/systemd/active-router.service" > "$unit_dir/active-router.service"
chmod 0644 "$unit_dir/active-router.service"
if [[ -d /run/systemd/system ]]; then
  systemctl daemon-reload
  echo "installed; start with: systemctl enable --now active-router"
else
  echo "installed to $prefix and $unit_dir (systemd is not running here: nothing started)"
fi
