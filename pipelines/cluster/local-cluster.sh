#!/usr/bin/env bash
# A SLURM cluster of two nodes on this one machine, to try the templates in this folder (and what the
# tests in tests/cluster/ run): munged, slurmctld and two slurmd, all started by this script as root,
# with their configuration, state and logs under one folder. Debian/Ubuntu only (it apt-installs
# slurmctld, slurmd, slurm-client and munge when they are missing).
#   sudo bash pipelines/cluster/local-cluster.sh up        # start (does nothing if already up)
#   eval "$(bash pipelines/cluster/local-cluster.sh env)"  # point sbatch/squeue/scancel at it
#   sudo bash pipelines/cluster/local-cluster.sh status    # sinfo, or exit 1 when it is down
#   sudo bash pipelines/cluster/local-cluster.sh down      # stop every daemon it started
# Settings (environment): FLOWREID_CLUSTER_DIR (default /tmp/flowreid-cluster); FLOWREID_CLUSTER_PORT,
# the first of three TCP ports (default 16817).
# The nodes are named `localhost` and this machine's host name, so a job's node names resolve (the
# multi-node template meets at its first node by name). Each node declares the resources the templates
# ask for (64 CPUs, 256 GB, 8 GPUs): Slurm schedules them, nothing checks them (SlurmdParameters=
# config_overrides), and the jobs run on the CPUs this machine has. No accounting (sacct): poll squeue.
set -euo pipefail
dir=${FLOWREID_CLUSTER_DIR:-/tmp/flowreid-cluster}
port=${FLOWREID_CLUSTER_PORT:-16817}
conf="$dir/slurm.conf"
nodes=(127.0.0.1 127.0.0.2)

need_root() { [[ $(id -u) == 0 ]] || { echo "local-cluster.sh $1: run it as root (sudo)" >&2; exit 1; }; }

install_missing() {
  local missing=()
  command -v munged > /dev/null || missing+=(munge)
  command -v slurmctld > /dev/null || missing+=(slurmctld)
  command -v slurmd > /dev/null || missing+=(slurmd)
  command -v sbatch > /dev/null || missing+=(slurm-client)
  ((${#missing[@]} == 0)) && return
  echo "installing ${missing[*]}" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } \
    > "$dir/apt.log" 2>&1 \
    || { echo "local-cluster.sh: apt-get install ${missing[*]} failed, see $dir/apt.log" >&2; exit 1; }
}

write_config() {
  mkdir -p "$dir/munge" "$dir/ctld" "$dir/log"
  chmod 0755 "$dir" "$dir/munge"  # munged refuses a socket folder that others can write to, or cannot reach
  [[ -f "$dir/munge.key" ]] || { head -c 1024 /dev/urandom > "$dir/munge.key"; chmod 0400 "$dir/munge.key"; }
  local node_lines="" i
  for i in 0 1; do
    node_lines+="NodeName=${nodes[i]} NodeHostname=localhost NodeAddr=${nodes[i]} Port=$((port + 1 + i))"
    node_lines+=" CPUs=64 RealMemory=262144 Gres=gpu:8 State=UNKNOWN"$'\n'
  done
  cat > "$conf" << EOF
ClusterName=flowreid-local
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket.2
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/spool-%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd-%n.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=batch_sched_delay=0
SlurmdParameters=config_overrides
GresTypes=gpu
MpiDefault=none
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
${node_lines}PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  # Slurm counts GPUs by their device files: eight stand-ins for /dev/null (char 1:3)
  mkdir -p "$dir/dev"
  for i in 0 1 2 3 4 5 6 7; do [[ -c "$dir/dev/gpu$i" ]] || mknod "$dir/dev/gpu$i" c 1 3; done
  echo "Name=gpu File=$dir/dev/gpu[0-7]" > "$dir/gres.conf"
}

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2> /dev/null; }

up() {
  need_root up
  mkdir -p "$dir"
  install_missing
  write_config
  alive "$dir/munged.pid" || munged --force --key-file="$dir/munge.key" --socket="$dir/munge/munge.socket.2" \
    --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munged.seed"
  alive "$dir/slurmctld.pid" || slurmctld -f "$conf"
  local node
  for node in "${nodes[@]}"; do
    alive "$dir/slurmd-$node.pid" || slurmd -f "$conf" -N "$node"
  done
  local tries
  for ((tries = 0; tries < 100; tries++)); do
    if [[ $(SLURM_CONF="$conf" sinfo -h -o '%t' -N 2> /dev/null | grep -c '^idle\|^mix\|^alloc') == 2 ]]; then
      echo "local cluster up (2 nodes); for sbatch/squeue: export SLURM_CONF=$conf"
      return
    fi
    sleep 0.2
  done
  echo "local-cluster.sh: the nodes did not come up; logs in $dir/log" >&2
  SLURM_CONF="$conf" sinfo -N >&2 || true
  exit 1
}

stop() {  # stop the daemon whose pid file is $1 and wait until it has exited
  local pid tries
  alive "$1" || { rm -f "$1"; return 0; }
  pid=$(cat "$1")
  kill "$pid"
  for ((tries = 0; tries < 100; tries++)); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2> /dev/null && kill -9 "$pid"
  rm -f "$1"
}

down() {
  need_root down
  [[ -f "$conf" ]] && SLURM_CONF="$conf" scancel --full --quiet --user=root 2> /dev/null || true
  local node
  for node in "${nodes[@]}"; do stop "$dir/slurmd-$node.pid"; done
  stop "$dir/slurmctld.pid"
  stop "$dir/munged.pid"
  echo "local cluster down (state and logs kept in $dir)"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) alive "$dir/slurmctld.pid" && SLURM_CONF="$conf" sinfo -N ;;
  env) echo "export SLURM_CONF=$conf" ;;
  *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
