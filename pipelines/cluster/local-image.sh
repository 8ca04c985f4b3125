#!/usr/bin/env bash
# Build the Dockerfile's CPU image with podman on a machine that reaches no container registry (and
# perhaps no PyPI): the base image is made here with debootstrap, and the build's pip reads the
# same wheel folders and package indexes as this machine's pip. Run as root; Debian/Ubuntu only
# (it apt-installs podman, runc and debootstrap when they are missing).
#   sudo bash pipelines/cluster/local-image.sh build     # flowreid:cpu (makes the base first if needed)
#   sudo bash pipelines/cluster/local-image.sh podman run --rm $(bash pipelines/cluster/local-image.sh run-flags) \
#       -v /srv/data:/data:ro -v /srv/stores:/stores flowreid:cpu flowprep extract --dataset mars --out /stores/mars.h5
#   sudo bash pipelines/cluster/local-image.sh clean     # remove the images and all podman storage used here
# `podman ...` runs podman with the settings below; `flags` prints them for `podman $(... flags)`, and
# `run-flags` what `podman run` needs here (host network, limits).
# Settings (environment): IMAGE (the tag to build, default localhost/flowreid:cpu); FLOWREID_PODMAN_ROOT (podman's storage, default /var/tmp/flowreid-podman);
# TORCH_INDEX (the wheel index torch comes from; default: the wheel folders and file:// indexes pip is
# configured with here, else the Dockerfile's https://download.pytorch.org/whl/cpu); DEBIAN_MIRROR (default http://deb.debian.org/debian).
# Podman runs with runc (crun fails on hybrid cgroups), the overlay storage driver (FLOWREID_PODMAN_DRIVER=vfs
# where overlay does not work: vfs copies the whole 1.6 GB image for every container, minutes each) and the
# host network; containers get explicit nofile/nproc limits.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
storage=${FLOWREID_PODMAN_ROOT:-/var/tmp/flowreid-podman}
base=localhost/flowreid-base:bookworm
image=${IMAGE:-localhost/flowreid:cpu}
podman_flags=(--root "$storage/root" --runroot "$storage/run" --storage-driver "${FLOWREID_PODMAN_DRIVER:-overlay}"
  --runtime runc)
# for `podman build` and `podman run` (`run-flags` prints them, e.g. for a SLURM LAUNCHER): the default
# limits are higher than runc may set on some hosts (a sandboxed VM here refuses nofile=4096)
limits=(--network host --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

install_missing() {
  local missing=()
  command -v podman > /dev/null || missing+=(podman)
  command -v runc > /dev/null || missing+=(runc)
  command -v debootstrap > /dev/null || missing+=(debootstrap)
  ((${#missing[@]} == 0)) && return
  echo "installing ${missing[*]}" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } > /dev/null 2>&1 \
    || { echo "local-image.sh: apt-get install ${missing[*]} failed" >&2; exit 1; }
}

run_podman() { podman "${podman_flags[@]}" "$@"; }

make_base() {  # Debian bookworm (minbase) + python3 in a venv at /opt/python, like python:3.11-slim-bookworm
  run_podman image exists "$base" && return
  local tree
  tree=$(mktemp -d /var/tmp/flowreid-base.XXXXXX)
  chmod 0755 "$tree"  # it becomes the image's /: mktemp's 0700 would lock every other user out
  echo "debootstrap bookworm into $tree" >&2
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$tree" \
    "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" > "$tree.log" 2>&1 \
    || { echo "local-image.sh: debootstrap failed, see $tree.log" >&2; exit 1; }
  chroot "$tree" python3 -m venv /opt/python
  chroot "$tree" apt-get clean
  tar -C "$tree" -c . | run_podman import --change 'CMD ["python3"]' \
    --change 'ENV PATH=/opt/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$base" > /dev/null
  rm -rf "$tree" "$tree.log"
}

pip_sources() {  # the wheel folders and file:// indexes this machine's pip uses, one a line
  local key value
  { pip config list 2> /dev/null || true; env | grep -E '^PIP_(FIND_LINKS|INDEX_URL|EXTRA_INDEX_URL)=' || true; } \
    | while IFS='=' read -r key value; do
      case "$key" in
        *find-links | *index-url | PIP_FIND_LINKS | PIP_INDEX_URL | PIP_EXTRA_INDEX_URL)
          value=${value//\'/}
          for value in $value; do echo "$key $value"; done ;;
      esac
    done | sort -u
}

build() {
  make_base
  local context conf mounts=() find_links=() indexes=() key value path args
  context=$(mktemp -d /var/tmp/flowreid-context.XXXXXX)
  trap "rm -rf '$context' '$context.pip.conf'" EXIT  # also when the build fails
  # a clean copy: podman bind-mounts the context into the RUN step, and `pip install /src` writes there
  git -C "$repo" ls-files -z --cached --others --exclude-standard | (cd "$repo" && xargs -0 cp --parents -t "$context")
  while read -r key value; do
    path=${value#file://}
    [[ -e "$path" ]] || continue
    case "$key" in
      *find-links | PIP_FIND_LINKS) find_links+=("$value") ;;
      *) indexes+=("$value"); path=$(dirname "$path") ;;  # a simple/ index links to files beside it
    esac
    [[ " ${mounts[*]} " == *" $path:$path:ro "* ]] || mounts+=(-v "$path:$path:ro")
  done < <(pip_sources)
  args=(--build-arg VARIANT=cpu --build-arg "CPU_BASE=$base")
  if [[ -n "${TORCH_INDEX+set}" ]]; then
    args+=(--build-arg "TORCH_INDEX=$TORCH_INDEX")
  elif ((${#mounts[@]} > 0)); then
    args+=(--build-arg "TORCH_INDEX=")  # torch too from the local folders below
  fi  # else the Dockerfile's default: PyTorch's CPU index
  if ((${#mounts[@]} > 0)); then
    # offline: only this machine's folders and indexes; without them pip fetches PyPI's CUDA torch (gigabytes)
    conf="$context.pip.conf"
    printf '[global]\nfind-links = %s\n' "${find_links[*]:-}" > "$conf"
    if ((${#indexes[@]} > 0)); then
      printf 'index-url = %s\nextra-index-url = %s\n' "${indexes[0]}" "${indexes[*]:1}" >> "$conf"
    else
      printf 'no-index = true\n' >> "$conf"
    fi
    mounts+=(-v "$conf:/etc/pip-build.conf:ro")
    args+=(--build-arg PIP_CONFIG_FILE=/etc/pip-build.conf)
  fi
  run_podman build --layers=false "${limits[@]}" "${args[@]}" "${mounts[@]}" -t "$image" "$context"
}

clean() {
  [[ -d "$storage" ]] || return 0
  run_podman rm --all --force > /dev/null 2>&1 || true
  run_podman rmi --all --force > /dev/null 2>&1 || true
  run_podman system reset --force > /dev/null 2>&1 || true
  rm -rf "$storage"
}

[[ $(id -u) == 0 ]] || { echo "local-image.sh: run it as root (sudo)" >&2; exit 1; }
case "${1:-}" in
  build) install_missing; build ;;
  base) install_missing; make_base ;;
  podman) shift; install_missing; run_podman "$@" ;;
  flags) echo "${podman_flags[*]}" ;;
  run-flags) echo "${limits[*]}" ;;
  clean) clean ;;
  *) echo "usage: $0 build|base|podman ARGS|flags|run-flags|clean" >&2; exit 2 ;;
esac
