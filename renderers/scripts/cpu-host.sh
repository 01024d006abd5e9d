
# Plain Ubuntu: install Docker from the distribution.
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q docker.io
systemctl enable --now docker
