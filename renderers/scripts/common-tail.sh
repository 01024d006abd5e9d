
# Rotate container logs (vLLM and LiteLLM would otherwise fill the disk). Merge into
# daemon.json: on the GPU AMI it already registers the NVIDIA runtime.
python3 - <<'PY'
import json
import pathlib

path = pathlib.Path("/etc/docker/daemon.json")
config = json.loads(path.read_text()) if path.exists() else {}
config["log-driver"] = "json-file"
config["log-opts"] = {"max-size": "@LOG_MAX_SIZE@", "max-file": "@LOG_MAX_FILES@"}
path.write_text(json.dumps(config, indent=2) + "\n")
PY
systemctl restart docker

# Pulumi drives Docker over SSH as ubuntu.
usermod -aG docker ubuntu

# Model weights live on the root volume and survive container replacement.
install -d -m 0755 @HF_CACHE_DIR@

echo "metis-llm bootstrap done"
