
# The Deep Learning Base OSS Nvidia Driver GPU AMI ships the NVIDIA driver, Docker and the
# NVIDIA container toolkit: check that they are really there before anything relies on them.
nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader
docker --version
nvidia-ctk --version
