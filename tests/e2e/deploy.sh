#!/usr/bin/env bash
# deploy/ makes a working keyed cluster with today's loads-broker and
# loads-agent.  The systemd units: ExecStart (its line continuations),
# Environment=, EnvironmentFile= and the specifiers %i/%H read the way
# systemd reads them (deploy_py below), the setup of each unit's header
# comment followed (keygen, allow folder, broker.pub, agent.env), a broker
# and agents @1 and @2 started with exactly those arguments and
# environments; `systemd-analyze verify` where it exists.  The Kubernetes
# manifest: each container's command and args, env, and secret volumes
# laid out as the pods would see them (the Secret made from the keys of
# the header's steps, with the volumes' modes), the Service's name and
# ports resolved, the agents named by their pods' host names (a UTS
# namespace each, where unshare can make one).  Each time, a keyed runner
# from a third machine runs `-c 5 --agents 2`: 10 hits, nginx's 10 lines,
# both agents by name in the summary, their builds where the files say.
#
# What this test does in place of the system: each machine or pod is a
# folder of its own (its "/"), into which every absolute path a deploy
# file names is mapped; the programs of /usr/local/bin (make install's
# PREFIX) or of the image's PATH are BUILD's; each starts in its "/" with
# only the environment systemd or the pod would give it (a PATH, the
# file's variables; the sanitizers' options of the test run pass).  The
# broker listens on a free loopback port in place of 0.0.0.0:7780 (tests
# use loopback only), and the agents' endpoint (agent.env's example, the
# Service's name and port) becomes that address: the ports must still
# agree with each other.  User=, ProtectSystem= and the like, and
# Kubernetes' readOnly and resource settings, are not emulated; commands
# of a header run as this test's user ("sudo -u loads" and "-o loads"
# dropped).  DEPLOY_DIR checks another copy of deploy/ (to see this test
# fail on a broken one).
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/e2e/cluster_lib.bash"

DEPLOY=${DEPLOY_DIR:-$REPO/deploy}
PREFIX=$(sed -n 's/^PREFIX *?= *//p' "$REPO/Makefile")
[[ -n $PREFIX ]] || fail "no 'PREFIX ?= ...' in the Makefile"
python3 -c 'import yaml' 2>/dev/null ||
    fail "python3 cannot import yaml (python3-yaml: scripts/deps installs it)"
# The PATH systemd gives a service, and that of a Debian image.
SYS_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# deploy_py unit FILE INSTANCE HOST ROOT | k8s FILE DEPLOYMENT ROOT |
# services FILE: what systemd or Kubernetes would run, one item a line:
# "arg WORD" (in order), "env NAME=VALUE", "mkdir DIR", "cwd DIR",
# "secret NAME KEY FILE MODE" (a Secret's key mounted as FILE), "service
# NAME PORT DEPLOYMENT CONTAINERPORT".  Every absolute path but the
# program's is inside ROOT.  What it does not emulate it refuses.
deploy_py() {
    python3 - "$@" <<'PY'
import os, re, shlex, sys

def die(msg):
    sys.exit("deploy_py: " + msg)

def inside(root, v):
    return root + v if v.startswith("/") else v

def unit(path, instance, host, root):
    name = os.path.basename(path)
    full = name.replace("@.", "@" + instance + ".") if instance else name
    spec = {"i": instance, "I": instance, "H": host, "n": full, "N": full.rsplit(".", 1)[0],
            "p": name.split("@")[0].rsplit(".", 1)[0], "%": "%"}
    def pct(s):
        def one(m):
            if m.group(1) not in spec:
                die(f"{path}: the specifier %{m.group(1)} is not emulated by this test")
            return spec[m.group(1)]
        return re.sub(r"%(.)", one, s)
    # A backslash at the end of a line joins it to the next, as a space.
    conf, section = {}, None
    for line in open(path).read().replace("\\\n", " ").splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        k, eq, v = line.partition("=")
        if not eq:
            die(f"{path}: not KEY=VALUE: {line}")
        conf.setdefault((section, k.strip()), []).append(v.strip())
    svc = lambda k: conf.get(("Service", k), [])
    env = {}
    for v in svc("Environment"):
        for a in shlex.split(pct(v)):
            k, _, val = a.partition("=")
            env[k] = val
    # Its files are read at the start, after Environment= (they win).
    for v in svc("EnvironmentFile"):
        v = pct(v)
        optional, v = v.startswith("-"), v.lstrip("-")
        try:
            lines = open(inside(root, v)).read().splitlines()
        except OSError as e:
            if optional:
                continue
            die(f"EnvironmentFile={v}: {e.strerror}")
        for l in lines:
            l = l.strip()
            if l and l[0] not in "#;":
                k, eq, val = l.partition("=")
                if not eq:
                    die(f"{v}: not NAME=VALUE: {l}")
                val = val.strip()
                if len(val) >= 2 and val[0] == val[-1] and val[0] in "'\"":
                    val = val[1:-1]
                env[k.strip()] = val
    bases = {"CacheDirectory": "/var/cache", "StateDirectory": "/var/lib",
             "LogsDirectory": "/var/log", "RuntimeDirectory": "/run"}
    for k, base in bases.items():
        for v in svc(k):
            for d in pct(v).split():
                print("mkdir", inside(root, base + "/" + d))
    execs = svc("ExecStart")
    if len(execs) != 1:
        die(f"{path}: one ExecStart= expected, {len(execs)} found")
    cmd = pct(execs[0])
    if cmd[:1] in "-@:+!":
        die(f"{path}: the ExecStart= prefix {cmd[0]} is not emulated by this test")
    def var(n):
        if n not in env:
            die(f"{path}: ExecStart= uses ${{{n}}}, set by no Environment= or EnvironmentFile=")
        return env[n]
    argv = []
    for w in shlex.split(cmd):
        # $NAME alone is split into words; ${NAME} is one word (or part of one).
        m = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", w)
        if m:
            argv += var(m.group(1)).split()
        else:
            argv.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: var(m.group(1)), w))
    for k, v in env.items():
        print("env", k + "=" + inside(root, v))
    print("cwd", root)
    print("arg", argv[0])
    for a in argv[1:]:
        print("arg", inside(root, a))

def docs(path):
    import yaml
    return [d for d in yaml.safe_load_all(open(path)) if d]

def deployment(path, name):
    for d in docs(path):
        if d.get("kind") == "Deployment" and d["metadata"]["name"] == name:
            return d
    die(f"{path}: no Deployment {name}")

def k8s(path, name, root):
    pod = deployment(path, name)["spec"]["template"]["spec"]
    if len(pod["containers"]) != 1:
        die(f"{path}: {name}: one container per pod expected")
    c = pod["containers"][0]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for m in c.get("volumeMounts", []):
        v = volumes.get(m["name"]) or die(f"{path}: {name}: no volume {m['name']}")
        if "subPath" in m:
            die(f"{path}: {name}: subPath is not emulated by this test")
        dest = root + m["mountPath"]
        if "secret" in v:
            s = v["secret"]
            if "items" not in s:
                die(f"{path}: {name}: a secret volume without items is not emulated")
            print("mkdir", dest)
            for it in s["items"]:
                mode = it.get("mode", s.get("defaultMode", 0o644))
                print("secret", s["secretName"], it["key"], dest + "/" + it["path"], "%o" % mode)
        elif "emptyDir" in v:
            print("mkdir", dest)
        else:
            die(f"{path}: {name}: volume {v['name']}: only secret and emptyDir are emulated")
    for e in c.get("env", []):
        if "value" not in e:
            die(f"{path}: {name}: env {e['name']}: only value: is emulated")
        print("env", e["name"] + "=" + inside(root, str(e["value"])))
    print("cwd", inside(root, c.get("workingDir", "/")))
    # Without command:, args follow the image's ENTRYPOINT (none in a
    # Debian image: args[0] is then the program).
    argv = [str(a) for a in (c.get("command") or []) + (c.get("args") or [])]
    if not argv:
        die(f"{path}: {name}: no command or args")
    print("arg", argv[0])
    for a in argv[1:]:
        print("arg", inside(root, a))

def services(path):
    all_docs = docs(path)
    for s in all_docs:
        if s.get("kind") != "Service":
            continue
        sel = s["spec"]["selector"].items()
        deps = [d for d in all_docs if d.get("kind") == "Deployment" and
                sel <= d["spec"]["template"]["metadata"]["labels"].items()]
        if len(deps) != 1:
            die(f"{path}: Service {s['metadata']['name']} selects {len(deps)} Deployments")
        ports = [p for c in deps[0]["spec"]["template"]["spec"]["containers"]
                 for p in c.get("ports", [])]
        for p in s["spec"]["ports"]:
            t = p.get("targetPort", p["port"])
            if isinstance(t, str):
                named = [q["containerPort"] for q in ports if q.get("name") == t]
                if not named:
                    die(f"{path}: Service {s['metadata']['name']}: no container port named {t}")
                t = named[0]
            print("service", s["metadata"]["name"], p["port"], deps[0]["metadata"]["name"], t)

cmd, args = sys.argv[1], sys.argv[2:]
{"unit": unit, "k8s": k8s, "services": services}[cmd](*args)
PY
}

# header FILE: FILE's leading comment, without its "# ", continued lines
# joined.
header() {
    sed -n '/^#/!q; s/^# \{0,1\}//p' "$1" | sed -e ':a' -e '/\\$/N; s/\\\n */ /; ta'
}

# header_steps FILE ROOT: runs in ROOT the commands of FILE's header that
# make its files (install -d, loads-broker --keygen; ";" separates
# commands), their absolute paths inside ROOT.  The others (install of the
# file, useradd, systemctl, kubectl) are the system's, emulated here.
header_steps() {
    local line c w i
    local -a cmds words cmd
    while IFS= read -r line; do
        line=${line%%#*}
        IFS=';' read -ra cmds <<<"$line"
        for c in "${cmds[@]}"; do
            read -ra words <<<"$c"
            ((${#words[@]} >= 2)) || continue
            [[ ${words[0]} == sudo && ${words[1]} == -u ]] && words=("${words[@]:3}")
            [[ "${words[*]:0:2}" == "install -d" || "${words[*]:0:2}" == "loads-broker --keygen" ]] ||
                continue
            cmd=()
            for ((i = 0; i < ${#words[@]}; i++)); do
                w=${words[i]}
                [[ ${words[0]} == install && $w == -o ]] && { i=$((i + 1)); continue; }
                if [[ $w == loads-broker ]]; then
                    w=$BUILD/loads-broker
                elif [[ $w == /* ]]; then
                    w=$2$w
                fi
                cmd+=("$w")
            done
            echo "  $(basename "$1"):${words[*]}"
            (cd "$2" && "${cmd[@]}" >/dev/null) || fail "$(basename "$1"): '${words[*]}' failed"
        done
    done < <(header "$1")
}

# key_copy FILE DEST: a public key file carried to another host, as the
# headers say (install -o loads -m 600, without -o here).
key_copy() {
    install -m 600 "$1" "$2" 2>&1 || fail "cannot install $1 as $2 (the headers' step)"
}

# header_match FILE ERE: BASH_REMATCH of ERE in FILE's header, or a failure.
header_match() {
    [[ $(header "$1") =~ $2 ]] || fail "the header of $1 no longer says /$2/" "$(header "$1")"
}

# spec TEXT HOME: deploy_py's lines into ARGV, ENVS (after PATH and HOME)
# and CWD; makes the folders, lays out the secret files (from
# SECRET_NAME's keys, SECRET[key]).
declare -A SECRET=()
SECRET_NAME=
spec() {
    local line kind rest name key file mode
    ARGV=()
    ENVS=("PATH=$SYS_PATH" "HOME=$2")
    CWD=
    while IFS= read -r line; do
        kind=${line%% *}
        rest=${line#* }
        case $kind in
        arg) ARGV+=("$rest") ;;
        env) ENVS+=("$rest") ;;
        cwd) CWD=$rest ;;
        mkdir) mkdir -p "$rest" ;;
        secret)
            read -r name key file mode <<<"$rest"
            [[ $name == "$SECRET_NAME" ]] || fail "secret $name: the header makes $SECRET_NAME"
            [[ -n ${SECRET[$key]:-} ]] || fail "the Secret $name has no key $key (the header's kubectl)"
            install -D -m "$mode" "${SECRET[$key]}" "$file"
            ;;
        *) fail "deploy_py: $line" ;;
        esac
    done <<<"$1"
    mkdir -p "$CWD"
}

# program: ARGV[0], the program systemd (an absolute path: make install's)
# or the image (a name: on its PATH) runs, becomes BUILD's.
program() {
    local p=${ARGV[0]}
    if [[ $p == /* ]]; then
        [[ $p == "$PREFIX/bin/"* ]] || fail "$p: not a program make install puts in $PREFIX/bin"
        p=${p#"$PREFIX/bin/"}
    fi
    [[ $p != */* && -x $BUILD/$p ]] || fail "${ARGV[0]}: not one of the programs of $BUILD"
    ARGV[0]=$BUILD/$p
}

# launch LOG HOST: ARGV in CWD, with only ENVS; in a UTS namespace with
# the host name HOST when HOST is given (an agent's pod); sets LAUNCHED.
launch() {
    local v
    local -a pre=()
    for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
        [[ -n ${!v:-} ]] && ENVS+=("$v=${!v}")
    done
    [[ -n $2 ]] && pre=(unshare --uts -- /bin/sh -c 'hostname "$0" && exec "$@"' "$2")
    echo "  $(basename "$1" .log): ${ARGV[*]}"
    (cd "$CWD" && exec "${pre[@]}" env -i "${ENVS[@]}" "${ARGV[@]}") </dev/null >"$1" 2>&1 &
    LAUNCHED=$!
    PIDS+=("$LAUNCHED")
}

# loopback: the broker's endpoint in ARGV, on every interface
# (tcp://0.0.0.0:N, tcp://*:N), becomes BROKER (loopback); sets
# LISTEN_PORT to N.
loopback() {
    local i
    LISTEN_PORT=
    for i in "${!ARGV[@]}"; do
        if [[ ${ARGV[i]} =~ ^tcp://(0\.0\.0\.0|\*):([0-9]+)$ ]]; then
            LISTEN_PORT=${BASH_REMATCH[2]}
            ARGV[i]=$BROKER
        fi
    done
    [[ -n $LISTEN_PORT ]] || fail "the broker listens on no tcp://0.0.0.0:PORT" "${ARGV[*]}"
}

# wait_broker: the broker's log says it listens on BROKER with keys.
wait_broker() {
    local i
    for ((i = 0; i < 50; i++)); do
        grep -qs "listening on $BROKER (CURVE keys, allow list)" "$BROKER_LOG" && return 0
        alive "$LAUNCHED" || break
        sleep 0.1
    done
    fail "no 'listening on $BROKER (CURVE keys, allow list)' from the broker" "$(cat "$BROKER_LOG")"
}

# run_two NAME1 NAME2 KEYS...: -c 5 on the 2 agents NAME1 and NAME2 with
# the runner's KEYS: 10 hits, nginx's 10 lines.
run_two() {
    local a1=$1 a2=$2
    shift 2
    wait_started 2 "$@"
    : >"$NGINX_LOG"
    run_loads example.TestWebSite.test_something --server-url "$NGINX_URL" -c 5 --agents 2 \
        --broker "$BROKER" "$@"
    expect_status 0
    expect_out_line "Hits: 10"
    expect_out_line "Errors: 0"
    expect_out_contains "Agents: 2 (0 lost)"
    expect_out_contains "$a1:"
    expect_out_contains "$a2:"
    expect_access_log 10
}

# built DIR: the agent built the shipped test (its .so, in the runner's
# cache) in DIR.
built() {
    [[ -n $(find "$1" -name 'example-*.so') ]] ||
        fail "no example-*.so built in $1" "$(find "$TMP_ROOT" -name 'example-*.so')"
}

# wait_started N KEYS...: wait_agents N KEYS, failing at once when
# something launch started has exited (with its log).
wait_started() {
    local i p idle
    for ((i = 0; i < 100; i++)); do
        for p in "${STARTED[@]}"; do
            alive "$p" || fail "process $p exited" "$(agent_logs)"
        done
        cluster_check "${@:2}"
        idle=$(grep -c ' idle ' <<<"$CHECK_OUT" || true)
        ((idle >= $1)) && { echo "  $idle idle agents"; return 0; }
        sleep 0.1
    done
    wait_agents "$@"
}

# stop_cluster: SIGTERM (the units' KillSignal) to what launch started.
stop_cluster() {
    local p
    for p in "${STARTED[@]}"; do
        stop_pid "$p"
    done
    STARTED=()
}

use_module example.c
start_nginx
STARTED=()
BU=$DEPLOY/loads-broker.service
AU=$DEPLOY/loads-agent@.service
HOST=$(hostname)

if command -v systemd-analyze >/dev/null; then
    step "systemd-analyze verify (the program's path: $BUILD's)"
    mkdir "$TMP_ROOT/verify"
    for u in "$BU" "$AU"; do
        sed "s|^\(ExecStart=[-@:+!]*\)$PREFIX/bin/|\1$BUILD/|" "$u" >"$TMP_ROOT/verify/${u##*/}"
        out=$(systemd-analyze verify --man=no "$TMP_ROOT/verify/${u##*/}" 2>&1) ||
            fail "systemd-analyze verify ${u##*/}" "$out"
        [[ -z $out ]] || fail "systemd-analyze verify ${u##*/} warns" "$out"
    done
else
    echo "  no systemd-analyze here: the units' syntax is not verified"
fi

step "systemd: the headers' setup on a broker host, an agent host, a runner's"
BH=$TMP_ROOT/broker-host
AH=$TMP_ROOT/agent-host
RH=$TMP_ROOT/runner-host
mkdir -p "$BH" "$AH" "$RH"
header_steps "$BU" "$BH"
header_steps "$AU" "$AH"
header_match "$BU" "loads-broker --keygen (/[^[:space:]]+)"
BROKER_PUB=${BASH_REMATCH[1]}
header_match "$BU" "public key file into (/[^[:space:],]+)"
ALLOW=${BASH_REMATCH[1]}
header_match "$AU" "\((/[^[:space:])]+)\) goes into the broker's allow folder"
key_copy "$AH${BASH_REMATCH[1]}" "$BH$ALLOW/"
header_match "$AU" "broker's public key file as (/[^[:space:],]+)"
key_copy "$BH$BROKER_PUB" "$AH${BASH_REMATCH[1]}"
"$BUILD/loads-broker" --keygen "$RH/runner" >/dev/null
key_copy "$RH/runner" "$BH$ALLOW/"
cp "$BH$BROKER_PUB" "$RH/broker.pub"
# systemd gives a service the home of its User= (useradd's --home).
header_match "$BU" "useradd [^#]*--home[[:space:]]+(/[^[:space:]]+)"
SYS_HOME=${BASH_REMATCH[1]}
RUNNER_KEYS=(--key "$RH/runner" --broker-key "$RH/broker.pub")

step "systemd: loads-broker.service"
PORT=$(free_port)
BROKER=tcp://127.0.0.1:$PORT
BROKER_LOG=$TMP_ROOT/broker.log
out=$(deploy_py unit "$BU" "" "$HOST" "$BH") || fail "reading $BU"
spec "$out" "$BH$SYS_HOME"
program
loopback
echo "  (tcp://0.0.0.0:$LISTEN_PORT is $BROKER here)"
launch "$BROKER_LOG" ""
STARTED+=("$LAUNCHED")
wait_broker

step "systemd: loads-agent@1 and @2 on host $HOST"
header_match "$AU" "in[[:space:]#]+(/[^[:space:]:]+):[[:space:]]+([A-Za-z_]+)=tcp://([^[:space:]:]+):([0-9]+)"
[[ ${BASH_REMATCH[4]} == "$LISTEN_PORT" ]] ||
    fail "the agent's header says port ${BASH_REMATCH[4]}, the broker's unit listens on $LISTEN_PORT"
mkdir -p "$(dirname "$AH${BASH_REMATCH[1]}")"
echo "${BASH_REMATCH[2]}=$BROKER" >"$AH${BASH_REMATCH[1]}"
echo "  $AH${BASH_REMATCH[1]}: $(cat "$AH${BASH_REMATCH[1]}")"
for i in 1 2; do
    out=$(deploy_py unit "$AU" "$i" "$HOST" "$AH") || fail "reading $AU"
    spec "$out" "$AH$SYS_HOME"
    program
    launch "$TMP_ROOT/agent-$i.log" ""
    STARTED+=("$LAUNCHED")
done
run_two "$HOST-1" "$HOST-2" "${RUNNER_KEYS[@]}"
header_match "$AU" "built under (/[^[:space:]]+)-N"
for i in 1 2; do
    built "$AH${BASH_REMATCH[1]}-$i"
done
stop_cluster

step "Kubernetes: the header's keys and Secret, on a laptop"
KY=$DEPLOY/kubernetes.yaml
LAP=$TMP_ROOT/laptop
mkdir -p "$LAP"
header_steps "$KY" "$LAP"
header_match "$KY" "kubectl create secret generic ([^[:space:]]+)(([[:space:]]+--from-file=[^[:space:]]+)+)"
SECRET_NAME=${BASH_REMATCH[1]}
for f in ${BASH_REMATCH[2]}; do
    f=${f#--from-file=}
    [[ $f == *=* ]] && { SECRET[${f%%=*}]=$LAP/${f#*=}; continue; }
    SECRET[${f##*/}]=$LAP/$f
done
echo "  Secret $SECRET_NAME: ${!SECRET[*]}"
header_match "$KY" "with[[:space:]]+--key[[:space:]]+([^[:space:]]+)[[:space:]]+--broker-key[[:space:]]+([^[:space:].]+)"
RUNNER_KEYS=(--key "$LAP/${BASH_REMATCH[1]}" --broker-key "$LAP/${BASH_REMATCH[2]}")

step "Kubernetes: the Service and the broker's pod"
out=$(deploy_py services "$KY") || fail "reading $KY"
echo "$out"
read -r _ SVC SVC_PORT SVC_DEP SVC_TARGET <<<"$out"
[[ $SVC_DEP == loads-broker ]] || fail "the Service selects $SVC_DEP, not loads-broker"
PORT=$(free_port)
BROKER=tcp://127.0.0.1:$PORT
BROKER_LOG=$TMP_ROOT/broker-pod.log
out=$(deploy_py k8s "$KY" loads-broker "$TMP_ROOT/pod-broker") || fail "reading $KY"
spec "$out" "$TMP_ROOT/pod-broker/root"
program
loopback
[[ $LISTEN_PORT == "$SVC_TARGET" ]] ||
    fail "the broker listens on port '${LISTEN_PORT}', the Service sends to $SVC_TARGET" "${ARGV[*]}"
echo "  (tcp://0.0.0.0:$LISTEN_PORT, the Service $SVC:$SVC_PORT, is $BROKER here)"
launch "$BROKER_LOG" ""
STARTED+=("$LAUNCHED")
wait_broker

step "Kubernetes: two agent pods"
# A pod's host name is its name (loads-agent-<template hash>-<suffix>):
# a UTS namespace of its own gives it one.
UTS=1
unshare --uts true 2>/dev/null || {
    UTS=
    echo "  unshare --uts fails here: the agents have this host's name, $HOST"
}
NAMES=()
for i in 1 2; do
    out=$(deploy_py k8s "$KY" loads-agent "$TMP_ROOT/pod-agent-$i") || fail "reading $KY"
    spec "$out" "$TMP_ROOT/pod-agent-$i/root"
    program
    for j in "${!ARGV[@]}"; do
        if [[ ${ARGV[j]} == "tcp://$SVC:$SVC_PORT" ]]; then
            ARGV[j]=$BROKER
        elif [[ ${ARGV[j]} == tcp://* ]]; then
            fail "the agent's ${ARGV[j]} is not the Service's tcp://$SVC:$SVC_PORT"
        fi
    done
    pod=${UTS:+loads-agent-5f7d9c8b6-pod$i}
    NAMES+=("${pod:-$HOST}")
    launch "$TMP_ROOT/agent-pod-$i.log" "$pod"
    STARTED+=("$LAUNCHED")
done
run_two "${NAMES[@]}" "${RUNNER_KEYS[@]}"
for i in 1 2; do
    built "$TMP_ROOT/pod-agent-$i"
done
stop_cluster
