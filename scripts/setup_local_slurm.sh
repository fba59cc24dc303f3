#!/usr/bin/env bash
# A one-node SLURM on this machine, for `snakemake --profile profiles/slurm` and
# tests/test_slurm.py: installs Debian's slurm-wlm, slurmdbd, MariaDB and munge, writes
# /etc/slurm/slurm.conf and slurmdbd.conf for this host, starts MariaDB, munged,
# slurmdbd, slurmctld and slurmd directly (containers and CI runners have no systemd)
# and waits for the node to be idle and for sacct to answer.
# Accounting (slurmdbd on MariaDB) is there because snakemake-executor-plugin-slurm reads
# job states with sacct, as on a real cluster: without it sacct fails, and the plugin
# silently drops the jobs it was watching (profiles/slurm/config.yaml says how).
# Idempotent: a second run leaves running daemons alone unless their configuration changed.
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
PACKAGES="slurm-wlm slurmdbd mariadb-server munge"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v slurmdbd >/dev/null \
        || ! command -v mariadbd >/dev/null || ! command -v munged >/dev/null; then
    command -v apt-get >/dev/null || die "$PACKAGES are not all installed and there is no apt-get (Debian/Ubuntu only)"
    say "installing $PACKAGES with apt"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
else
    say "$PACKAGES already installed"
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
# Accounting in slurmdbd: Snakemake reads job states with sacct. Finished jobs also
# stay visible to squeue/scontrol for a day (tests/test_slurm.py reads them there).
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
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

# slurmdbd.conf: job records in MariaDB, reached through its socket as root (MariaDB's
# root logs in by unix socket, so no password is stored). slurmdbd wants it mode 0600.
new_dbd_conf=$(mktemp)
trap 'rm -f "$new_conf" "$new_dbd_conf"' EXIT
cat >"$new_dbd_conf" <<EOF
# Written by scripts/setup_local_slurm.sh: accounting for the one-node SLURM.
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
PidFile=/run/slurmdbd.pid
LogFile=$LOGS/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=root
StorageLoc=slurm_acct_db
EOF

running() { local pid; pid=$(cat "$1" 2>/dev/null) && kill -0 "$pid" 2>/dev/null; }
stop() {  # the daemon whose pid file this script's configuration names
    if running "$1"; then
        say "stopping $(basename "$1" .pid) (pid $(cat "$1")) to load the new configuration"
        kill "$(cat "$1")"
        for _ in $(seq 50); do running "$1" || return 0; sleep 0.2; done
        die "$(basename "$1" .pid) (pid $(cat "$1")) did not stop"
    fi
}
# install_conf NEW TARGET MODE: installs NEW as TARGET unless equal; true when it changed.
install_conf() {
    if cmp -s "$1" "$2"; then
        say "$2 unchanged"
        return 1
    fi
    say "writing $2"
    [[ -f $2 ]] && cp "$2" "$2.bak"
    install -m "$3" "$1" "$2"
}
# start DAEMON: starts it unless its pid file names a live process; it detaches by itself.
start() {
    if running "/run/$1.pid"; then
        say "$1 already running (pid $(cat "/run/$1.pid"))"
    else
        say "starting $1"
        "$1" || die "$1 did not start: see $LOGS/$1.log"
    fi
}
# await SECONDS WHAT COMMAND...: runs COMMAND once a second until it succeeds.
await() {
    local seconds=$1 what=$2
    shift 2
    for _ in $(seq "$seconds"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
    die "$what did not answer within ${seconds}s: see $LOGS/ and /var/log/mysql/"
}

say "node $NODE, $CPUS CPUs, $MEM_MB MB"
if install_conf "$new_conf" "$CONF" 0644; then
    stop /run/slurmd.pid
    stop /run/slurmctld.pid
fi
if install_conf "$new_dbd_conf" /etc/slurm/slurmdbd.conf 0600; then
    stop /run/slurmdbd.pid
fi

# 4. Daemons, started directly, in the order they need each other.
started=$(date +%s)
if ! mariadb-admin --silent ping >/dev/null 2>&1; then
    say "starting MariaDB"
    /etc/init.d/mariadb start >/dev/null || die "MariaDB did not start: see /var/log/mysql/"
fi
install -d -o munge -g munge -m 0755 /run/munge
if ! pgrep -x munged >/dev/null; then
    say "starting munged"
    runuser -u munge -- /usr/sbin/munged
fi
munge -n | unmunge >/dev/null || die "munge does not work: see /var/log/munge/munged.log"
start slurmdbd
await "$WAIT_SECONDS" slurmdbd sacctmgr --noheader list cluster
start slurmctld
start slurmd

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
# 6. sacct answers once slurmctld has registered the cluster with slurmdbd.
await "$WAIT_SECONDS" sacct sacct --noheader -X --starttime now-1minutes
say "node $NODE is $state in partition debug, accounting answers (daemons ready in $(( $(date +%s) - started )) s)"
sinfo
