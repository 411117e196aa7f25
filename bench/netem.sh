#!/usr/bin/env bash
# Measured wall time of `dyad run` with the two parties in two network namespaces joined by a veth
# pair under `tc netem`, next to `dyad cost`'s estimate for the same job.
#
#   bench/netem.sh [--profiles lan,wan,gbit] [--correlations dealer|ot] [--shapes bert-base|ci|FILE]
#                  [--dyad PATH] [--limit SECONDS] [--emulator netem|link] [PROTOCOL ...]
#
# Default protocols: nimbus.linear bumblebee.linear nimbus.gelu bumblebee.gelu, each at the dims
# `dyad cost --shapes` gives it. Profiles (Nimbus's settings, one-way latency, per direction):
#   lan  3 Gbit/s, 0.8 ms     wan  200 Mbit/s, 40 ms     gbit  1 Gbit/s, 0.5 ms
# netem delays and rate-limits each direction on its sending end, so a round costs one latency,
# as in the cost model (bench/src/network.rs).
#
# Where the kernel has no sch_netem (some VM kernels are built without it), or with
# --emulator link, the link is emulated in user space instead: `dyad link`, in the client's
# namespace, relays the connection across the veth pair with the same latency and bandwidth per
# direction (store-and-forward per 64 KiB chunk; see bench/src/link.rs). The output says which.
#
# Needs root, iproute2 (ip, tc) and jq; installs nothing. Its namespaces,
# dyad-s-PID and dyad-c-PID, and their veth pair are removed on exit, however it exits. Traffic
# stays on that pair (10.77.0.1 ↔ 10.77.0.2, no route out); each job runs under `timeout`
# (--limit, default 1800 s) and each party waits at most 600 s for the other.
set -euo pipefail

profiles=lan,wan,gbit
correlations=dealer
shapes=bert-base
limit=1800
emulator=""
dyad=""
protocols=()
while [ $# -gt 0 ]; do
    case "$1" in
        --profiles) profiles="$2"; shift 2 ;;
        --correlations) correlations="$2"; shift 2 ;;
        --shapes) shapes="$2"; shift 2 ;;
        --dyad) dyad="$2"; shift 2 ;;
        --limit) limit="$2"; shift 2 ;;
        --emulator) emulator="$2"; shift 2 ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "netem.sh: unknown option $1" >&2; exit 2 ;;
        *) protocols+=("$1"); shift ;;
    esac
done
[ ${#protocols[@]} -gt 0 ] || protocols=(nimbus.linear bumblebee.linear nimbus.gelu bumblebee.gelu)

missing=()
[ "$(id -u)" = 0 ] || missing+=("root")
for tool in ip tc jq timeout; do command -v "$tool" > /dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
    echo "netem.sh: needs ${missing[*]} (Debian: apt-get install iproute2 jq); installing nothing" >&2
    exit 2
fi
[ -f "$shapes" ] && shapes="$(realpath "$shapes")"
[ -n "$dyad" ] && dyad="$(realpath "$dyad")"
if [ -z "$dyad" ]; then
    cd "$(dirname "$0")/.."
    cargo build --release --quiet
    dyad="$PWD/target/release/dyad"
fi
[ -x "$dyad" ] || { echo "netem.sh: $dyad is not an executable" >&2; exit 2; }

server_ns="dyad-s-$$"
client_ns="dyad-c-$$"
work="$(mktemp -d)"
cleanup() {
    for ns in "$server_ns" "$client_ns"; do
        ip netns pids "$ns" 2> /dev/null | xargs -r kill -9 2> /dev/null || true
    done
    ip netns del "$server_ns" 2> /dev/null || true
    ip netns del "$client_ns" 2> /dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$server_ns"
ip netns add "$client_ns"
ip link add "vs$$" netns "$server_ns" type veth peer name "vc$$" netns "$client_ns"
ip -n "$server_ns" addr add 10.77.0.1/30 dev "vs$$"
ip -n "$client_ns" addr add 10.77.0.2/30 dev "vc$$"
for ns in "$server_ns" "$client_ns"; do ip -n "$ns" link set lo up; done
ip -n "$server_ns" link set "vs$$" up
ip -n "$client_ns" link set "vc$$" up

if [ -z "$emulator" ]; then
    if tc -n "$server_ns" qdisc add dev "vs$$" root netem delay 1ms 2> /dev/null; then
        emulator=netem
        tc -n "$server_ns" qdisc del dev "vs$$" root
    else
        emulator=link
    fi
fi
case "$emulator" in
    netem) echo "link: tc netem on the veth pair" ;;
    link) echo "link: this kernel has no sch_netem (or --emulator link): dyad link relays across the veth pair in user space" ;;
    *) echo "netem.sh: --emulator netem or link, not $emulator" >&2; exit 2 ;;
esac

shape_of() { # the profile's rate and one-way delay for tc, and its cost-model YAML
    case "$1" in
        lan) echo "3gbit 0.8ms 3e9 0.8e-3" ;;
        wan) echo "200mbit 40ms 200e6 40e-3" ;;
        gbit) echo "1gbit 0.5ms 1e9 0.5e-3" ;;
        *) echo "netem.sh: unknown profile $1 (lan, wan, gbit)" >&2; exit 2 ;;
    esac
}

IFS=, read -r -a profile_list <<< "$profiles"
for profile in "${profile_list[@]}"; do shape_of "$profile" > /dev/null; done

printf '%-18s %-14s %-6s %12s %12s %7s %14s %14s %7s\n' PROTOCOL SHAPE PROFILE ONLINE_S ESTIMATE RATIO PER_QUERY_S ESTIMATE RATIO
port=7000
for profile in "${profile_list[@]}"; do
    settings="$(shape_of "$profile")"
    read -r rate delay bits latency <<< "$settings"
    if [ "$emulator" = netem ]; then
        for ns_dev in "$server_ns vs$$" "$client_ns vc$$"; do
            read -r ns dev <<< "$ns_dev"
            tc -n "$ns" qdisc replace dev "$dev" root netem delay "$delay" rate "$rate" limit 1000000
        done
    fi
    printf -- '- {name: netem-%s, bandwidth_bits_per_second: %s, latency_seconds: %s}\n' "$profile" "$bits" "$latency" > "$work/profile.yaml"
    for protocol in "${protocols[@]}"; do
        if ! timeout --foreground "$limit" "$dyad" cost "$protocol" --shapes "$shapes" \
            --profiles "$work/profile.yaml" --correlations "$correlations" --format json \
            > "$work/cost.json" 2> "$work/cost.err"; then
            echo "$protocol $profile: dyad cost failed: $(tail -1 "$work/cost.err")"
            continue
        fi
        if [ "$(jq '.costs | length' "$work/cost.json")" = 0 ]; then
            echo "$protocol: not measured under $correlations: $(jq -r '.refused[0].reason' "$work/cost.json")"
            continue
        fi
        dims="$(jq -r '.costs[0].dims | map(tostring) | join("x")' "$work/cost.json")"
        port=$((port + 1))
        common=(run "$protocol" --shape "$dims" --seed 1 --correlations "$correlations" --timeout 600 --format json)
        timeout --foreground "$limit" ip netns exec "$server_ns" "$dyad" "${common[@]}" --party server \
            --listen "10.77.0.1:$port" > "$work/server.json" 2> "$work/server.err" &
        server_pid=$!
        target="10.77.0.1:$port"
        if [ "$emulator" = link ]; then
            timeout --foreground "$limit" ip netns exec "$client_ns" "$dyad" link --listen "127.0.0.1:$port" \
                --connect "$target" --bandwidth "$bits" --latency "$latency" --timeout 600 2> "$work/link.err" &
            target="127.0.0.1:$port"
        fi
        timeout --foreground "$limit" ip netns exec "$client_ns" "$dyad" "${common[@]}" --party client \
            --connect "$target" > "$work/client.json" 2> "$work/client.err" &
        client_pid=$!
        # Waiting in the background lets an interrupt reach the trap at once.
        failed=""
        wait "$client_pid" || failed="client: $(tail -1 "$work/client.err")"
        wait "$server_pid" || failed="${failed:-server: $(tail -1 "$work/server.err")}"
        wait || true
        if [ -n "$failed" ]; then
            echo "$protocol $dims $profile: the run failed ($failed)"
            continue
        fi
        jq -r --arg p "$protocol" --arg s "$dims" --arg f "$profile" --slurpfile c "$work/cost.json" \
            --slurpfile srv "$work/server.json" '
            def r: . * 1000 | round / 1000;
            [$srv[0], .] as $both
            | ($both | map(.wall.online_seconds) | max) as $online
            | ($both | map(.wall.offline_seconds + .wall.online_seconds) | max) as $query
            | ($c[0].costs[0].estimates[] | select(.profile == "netem-" + $f)) as $e
            | [$p, $s, $f, ($online | r), ($e.online_seconds | r), ($online / $e.online_seconds | . * 100 | round / 100),
               (if $e.per_query_seconds == null then "-" else ($query | r) end),
               ($e.per_query_seconds // "-" | if type == "number" then r else . end),
               (if $e.per_query_seconds == null then "-" else ($query / $e.per_query_seconds | . * 100 | round / 100) end)]
            | @tsv' "$work/client.json" | tee -a "$work/rows.tsv" \
            | awk -F'\t' '{printf "%-18s %-14s %-6s %12s %12s %7s %14s %14s %7s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9}'
    done
done

if [ "$correlations" = ot ]; then
    echo "under ot the parties generate correlations when the protocol asks for them, so a party's online"
    echo "time includes waiting for the other's offline work: compare PER_QUERY_S"
fi

# The papers' pairs, measured (baseline time over proposal time, online; per query under ot).
awk -F'\t' '
    BEGIN {
        n = split("nimbus.linear bumblebee.linear COP/SIP:2.9-12.5x;" \
            "nimbus.gelu bumblebee.gelu GELU:2.9-4.0x;nimbus.gelu_small bumblebee.gelu GELU:2.9-4.0x;" \
            "nimbus.gelu_example_small bumblebee.gelu GELU:2.9-4.0x;" \
            "nimbus.softmax bumblebee.softmax Softmax:2.9-4.0x;nimbus.softmax_small bumblebee.softmax Softmax:2.9-4.0x;" \
            "nimbus.softmax_example_small bumblebee.softmax Softmax:2.9-4.0x", pairs, ";")
    }
    { online[$1 FS $3] = $4; query[$1 FS $3] = $7; seen[$3] = 1 }
    END {
        for (f in seen) for (i = 1; i <= n; i++) {
            split(pairs[i], q, " "); p = q[1]; b = q[2]; split(q[3], c, ":")
            if ((p FS f) in online && (b FS f) in online && online[p FS f] > 0) {
                line = sprintf("%s over %s, %s: %.2fx online", p, b, f, online[b FS f] / online[p FS f])
                if (query[p FS f] != "-" && query[p FS f] > 0) line = line sprintf(", %.2fx per query", query[b FS f] / query[p FS f])
                print line sprintf(" (paper, %s: %s)", c[1], c[2])
            }
        }
    }' "$work/rows.tsv"
