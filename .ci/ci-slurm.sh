#!/usr/bin/env bash
# ci-slurm.sh up|down -- throw-away single-node SLURM for CI.
# Debian bookworm, run as root, no systemd. Tested with Slurm 22.05.8 (bookworm).
#   SLURM_CI_ACCOUNTING=none      (default) no accounting: sacct does not work,
#                                 snakemake profile must set slurm-status-command: squeue
#   SLURM_CI_ACCOUNTING=slurmdbd  + MariaDB + slurmdbd: sacct works (plugin defaults work)
set -euo pipefail
ACCT=${SLURM_CI_ACCOUNTING:-none}
RUN=/run/slurm-ci                  # our pid files (NOT /run/slurmctld.pid: a stale one breaks the package's prerm)
NODE=${SLURM_CI_NODE:-$(hostname -s)}   # any name works: slurmd -N + NodeAddr=127.0.0.1
export DEBIAN_FRONTEND=noninteractive

stop_pidfile() {                   # stop one daemon we started, by its pid file
  local f=$1 p
  [ -s "$f" ] || return 0
  p=$(cat "$f")
  if kill -0 "$p" 2>/dev/null; then
    kill -TERM "$p"
    for _ in $(seq 60); do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$p" 2>/dev/null && kill -KILL "$p" || true
  fi
  rm -f "$f"
}
wait_for() {                       # wait_for SECONDS DESCRIPTION CMD...
  local n=$1 what=$2; shift 2
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  echo "ci-slurm: timed out waiting for $what" >&2
  tail -n 20 /var/log/munge/munged.log /var/log/slurm/*.log /var/log/slurm/*.stderr >&2 2>/dev/null || true
  return 1
}

down() {
  command -v scancel >/dev/null && [ -s $RUN/slurmctld.pid ] && scancel --user=root 2>/dev/null || true
  stop_pidfile $RUN/slurmd.pid
  stop_pidfile $RUN/slurmctld.pid
  stop_pidfile $RUN/slurmdbd.pid
  stop_pidfile /run/mysqld/mysqld.pid
  stop_pidfile /run/munge/munged.pid
}

up() {
  down                             # idempotent: clear anything a previous run left
  local pkgs="munge slurmctld slurmd slurm-client"
  [ "$ACCT" = slurmdbd ] && pkgs="$pkgs slurmdbd mariadb-server"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $pkgs >/dev/null

  # --- munge (key is created by the package's postinst; make one if not)
  mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
  [ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
  chmod 0700 /etc/munge; chmod 0400 /etc/munge/munge.key; chmod 0755 /run/munge
  runuser -u munge -- /usr/sbin/munged </dev/null >>/var/log/munge/munged.stderr 2>&1   # daemonizes; pid in /run/munge/munged.pid
  wait_for 20 munged bash -c 'munge -n | unmunge'

  # --- slurm dirs
  rm -rf /var/spool/slurmctld /var/spool/slurmd   # fresh controller state every run
  mkdir -p $RUN /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
  chown slurm:slurm $RUN /var/spool/slurmctld /var/log/slurm

  # --- node size from the hardware, memory with 10% headroom
  local hw cpus mem
  hw=$(slurmd -C 2>/dev/null | head -1)
  cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$hw")
  mem=$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<<"$hw")
  mem=$(( mem * 9 / 10 ))

  local acct_lines="AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none"
  if [ "$ACCT" = slurmdbd ]; then
    acct_lines="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobAcctGatherType=jobacct_gather/linux"
  fi

  cat > /etc/slurm/slurm.conf <<CONF
ClusterName=ci
SlurmctldHost=localhost
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
$acct_lines
MinJobAge=300
SlurmdTimeout=30
KillWait=5
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

  if [ "$ACCT" = slurmdbd ]; then
    mkdir -p /run/mysqld; chown mysql:mysql /run/mysqld
    /usr/sbin/mariadbd --user=mysql --bind-address=127.0.0.1 --pid-file=/run/mysqld/mysqld.pid \
        </dev/null >/var/log/slurm/mariadb.log 2>&1 &
    wait_for 60 mariadb mariadb -uroot -e 'SELECT 1'
    mariadb -uroot -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
      CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurmci';
      GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"
    cat > /etc/slurm/slurmdbd.conf <<CONF
AuthType=auth/munge
DbdHost=localhost
SlurmUser=slurm
LogFile=/var/log/slurm/slurmdbd.log
PidFile=$RUN/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=slurmci
StorageLoc=slurm_acct_db
CONF
    chown slurm:slurm /etc/slurm/slurmdbd.conf; chmod 0600 /etc/slurm/slurmdbd.conf
    /usr/sbin/slurmdbd </dev/null >>/var/log/slurm/slurmdbd.stderr 2>&1
    wait_for 60 slurmdbd sacctmgr -n list cluster
  fi

  # daemonize; detach std fds so a CI runner never waits on them
  /usr/sbin/slurmctld </dev/null >>/var/log/slurm/slurmctld.stderr 2>&1   # registers cluster "ci" in slurmdbd by itself
  /usr/sbin/slurmd -N "$NODE" </dev/null >>/var/log/slurm/slurmd.stderr 2>&1
  wait_for 60 "node $NODE idle" bash -c "scontrol ping | grep -q UP && sinfo -h -n $NODE -o %t | grep -qx idle"
  [ "$ACCT" = slurmdbd ] && wait_for 30 sacct sacct -n
  sinfo
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
