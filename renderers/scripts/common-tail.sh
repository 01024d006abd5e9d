
# Rotate container logs (vLLM and LiteLLM would otherwise fill the disk). Merge into
# daemon.json: on the GPU AMI it already registers the NVIDIA runtime.
python3 - <<'PY'
import json
import pathlib

path = pathlib.Path("@DOCKER_DAEMON_CONFIG@")
config = json.loads(path.read_text()) if path.exists() else {}
config["log-driver"] = "json-file"
config["log-opts"] = {"max-size": "@LOG_MAX_SIZE@", "max-file": "@LOG_MAX_FILES@"}
path.write_text(json.dumps(config, indent=2) + "\n")
PY
systemctl restart docker

# Pulumi drives Docker over SSH as ubuntu. A login keeps the groups it started with: only
# sessions opened after this line can use Docker, so `pulumi up` checks in a new one.
usermod -aG docker ubuntu

# Model weights live on the root volume and survive container replacement.
install -d -m 0755 @HF_CACHE_DIR@

# The SSM agent may have started before the instance role was usable; refused, it waits
# 25-30 minutes before asking again. Restarted now, it registers within seconds.
# (A snap on Ubuntu AMIs, a deb elsewhere; in ssh mode it is idle either way.)
for unit in snap.amazon-ssm-agent.amazon-ssm-agent.service amazon-ssm-agent.service; do
  if systemctl is-enabled --quiet "$unit" 2>/dev/null; then
    systemctl restart "$unit"
  fi
done

date -u +%Y-%m-%dT%H:%M:%SZ > @BOOTSTRAP_DONE@
echo "metis-llm bootstrap done"
