
# Plain Ubuntu: install Docker from the distribution. At first boot apt-daily and
# unattended-upgrades can hold apt's locks for minutes. apt-get waits for the dpkg lock
# when told to (DPkg::Lock::Timeout); `apt-get update` takes the package-lists lock
# without waiting, so it is retried.
export DEBIAN_FRONTEND=noninteractive
for attempt in $(seq 1 @APT_UPDATE_ATTEMPTS@); do
  if apt-get update -q; then break; fi
  if [ "$attempt" -eq @APT_UPDATE_ATTEMPTS@ ]; then
    echo "apt-get update failed @APT_UPDATE_ATTEMPTS@ times, @APT_RETRY_SECONDS@ s apart" >&2
    exit 1
  fi
  sleep @APT_RETRY_SECONDS@
done
apt-get -o DPkg::Lock::Timeout=@APT_LOCK_TIMEOUT@ install -y -q docker.io
systemctl enable --now docker
