#!/usr/bin/env bash
# A one-node SLURM on this machine, for `snakemake --profile profiles/slurm` and
# tests/test_slurm.py: installs Debian's slurm-wlm and munge, writes
# /etc/slurm/slurm.conf for this host, starts munged, slurmctld and slurmd directly
# (containers and CI runners have no systemd) and waits for the node to be idle.
# Idempotent: a second run leaves running daemons alone unless slurm.conf changed.
# Usage (as root): bash scripts/setup_local_slurm.sh
set -euo pipefail

CONF=/etc/slurm/slurm.conf
SPOOL=/var/spool/slurm
LOGS=/var/log/slurm
WAIT_SECONDS=${WAIT_SECONDS:-90}

say() { echo "setup_local_slurm: $*"; }
die() { echo "setup_local_slurm: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (installs packages, writes /etc/slurm, starts daemons)"

# 1. Packages.
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    command -v apt-get >/dev/null || die "slurm-wlm and munge are not installed and there is no apt-get (Debian/Ubuntu only)"
    say "installing slurm-wlm and munge with apt"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
else
    say "slurm-wlm and munge already installed"
fi

# 2. Munge key: every SLURM message is signed with it.
if [[ ! -s /etc/munge/munge.key ]]; then
    say "creating /etc/munge/munge.key"
    mungekey --create --keyfile /etc/munge/munge.key
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key

# 3. slurm.conf for this host. RealMemory is what `free` reports, so slurmd finds the
# memory it is told about and does not drain the node.
NODE=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(free -m | awk '/^Mem:/ {print $2}')
mkdir -p /etc/slurm "$SPOOL/ctld" "$SPOOL/d" "$LOGS"
new_conf=$(mktemp)
trap 'rm -f "$new_conf"' EXIT
cat >"$new_conf" <<EOF
# Written by scripts/setup_local_slurm.sh: a one-node SLURM for local runs and tests.
ClusterName=local
SlurmctldHost=$NODE
# Jobs run as the submitting user; the daemons as root keep this single machine simple.
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$SPOOL/ctld
SlurmdSpoolDir=$SPOOL/d
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
# No cgroups in containers: track processes through /proc, bind no tasks.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
# No slurmdbd: Snakemake reads job states from squeue, so finished jobs stay
# visible to squeue/scontrol for a day.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MinJobAge=86400
# Cores and memory are consumable: several small jobs share the node.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# A node that was down comes back by itself once slurmd registers.
ReturnToService=2
SchedulerType=sched/backfill
NodeName=$NODE CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF

running() { local pid; pid=$(cat "$1" 2>/dev/null) && kill -0 "$pid" 2>/dev/null; }
stop() {  # the daemon whose pid file this script's slurm.conf names
    if running "$1"; then
        say "stopping $(basename "$1" .pid) (pid $(cat "$1")) to load the new slurm.conf"
        kill "$(cat "$1")"
        for _ in $(seq 50); do running "$1" || return 0; sleep 0.2; done
        die "$(basename "$1" .pid) (pid $(cat "$1")) did not stop"
    fi
}

if cmp -s "$new_conf" "$CONF"; then
    say "$CONF unchanged (node $NODE, $CPUS CPUs, $MEM_MB MB)"
else
    say "writing $CONF (node $NODE, $CPUS CPUs, $MEM_MB MB)"
    [[ -f $CONF ]] && cp "$CONF" "$CONF.bak"
    install -m 0644 "$new_conf" "$CONF"
    stop /run/slurmd.pid
    stop /run/slurmctld.pid
fi

# 4. Daemons, started directly: they detach and write their pid files.
started=$(date +%s)
install -d -o munge -g munge -m 0755 /run/munge
if ! pgrep -x munged >/dev/null; then
    say "starting munged"
    runuser -u munge -- /usr/sbin/munged
fi
munge -n | unmunge >/dev/null || die "munge does not work: see /var/log/munge/munged.log"
if running /run/slurmctld.pid; then
    say "slurmctld already running (pid $(cat /run/slurmctld.pid))"
else
    say "starting slurmctld"
    slurmctld || die "slurmctld did not start: see $LOGS/slurmctld.log"
fi
if running /run/slurmd.pid; then
    say "slurmd already running (pid $(cat /run/slurmd.pid))"
else
    say "starting slurmd"
    slurmd || die "slurmd did not start: see $LOGS/slurmd.log"
fi

# 5. Wait for the node to take jobs; resume it if it is down or drained.
state=""
for _ in $(seq "$WAIT_SECONDS"); do
    state=$(sinfo --noheader --nodes="$NODE" --format=%t 2>/dev/null || true)
    case $state in
        idle|mix|alloc) break ;;
        down*|drain*|drng*|fail*|inval*)
            say "node $NODE is $state; resuming it"
            scontrol update nodename="$NODE" state=resume || true ;;
    esac
    sleep 1
done
case $state in
    idle|mix|alloc) ;;
    *) die "node $NODE not idle after ${WAIT_SECONDS}s (state '${state:-no answer}'): see $LOGS/slurmctld.log, $LOGS/slurmd.log" ;;
esac
say "node $NODE is $state in partition debug (daemons ready in $(( $(date +%s) - started )) s)"
sinfo
