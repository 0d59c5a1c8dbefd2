#!/usr/bin/env bash
# Measure smtpx against the tools it replaces, side by side on this machine,
# and print one table of ratios (markdown) on stdout; progress goes to stderr.
#
#   testdata/bench/compare.sh     # ROUNDS=5 BIG_ROUNDS=5 ONE_ROUNDS=10 COUNT=10000 by default
#   OLD_SMTPX=/path/to/smtpx testdata/bench/compare.sh   # also time an older build
#                                 # (bulk verify, TLS resumption) for the ratios
#
# It installs what it needs when missing (Debian packages postfix for
# smtp-sink/smtp-source with the "No configuration" preseed, swaks, curl,
# hyperfine, openssl, jq; mailpit v1.33.1 with go install), starts smtp-sink and
# mailpit on loopback, builds smtpx, and runs every comparison of the
# performance issue, plus the start-up of `codes` next to two floors (a Go
# hello world, and a program that only links the libraries the issues name).
# Throughput and big-message runs alternate between the
# tools round by round and keep the median, so a noisy neighbour hurts both
# sides alike. Loopback addresses only; every loop is bounded.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin:$(go env GOPATH)/bin:/usr/sbin"

ROUNDS=${ROUNDS:-5}         # alternating rounds of the 10,000-message runs
BIG_ROUNDS=${BIG_ROUNDS:-5} # alternating rounds of the 256 MiB message
ONE_ROUNDS=${ONE_ROUNDS:-10} # rounds of 3 hyperfine runs per one-message command
COUNT=${COUNT:-10000}     # messages per throughput run
BIG_MIB=256

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'compare.sh: %s\n' "$*" >&2; exit 1; }

# --- peers -----------------------------------------------------------------
need_apt=()
command -v smtp-sink >/dev/null || need_apt+=(postfix)
command -v smtp-source >/dev/null || need_apt+=(postfix)
command -v swaks >/dev/null || need_apt+=(swaks)
command -v curl >/dev/null || need_apt+=(curl)
command -v hyperfine >/dev/null || need_apt+=(hyperfine)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v jq >/dev/null || need_apt+=(jq)
[ -x /usr/bin/time ] || need_apt+=(time)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]}"
  apt-get update -qq
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
command -v mailpit >/dev/null || { log "installing mailpit"; go install github.com/axllent/mailpit@v1.33.1; }

# --- workspace ---------------------------------------------------------------
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

log "building smtpx as a release is built (static, stripped)"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$TMP/smtpx" .
SMTPX="$TMP/smtpx"
# Start-up floors: the Go runtime alone, and every library smtpx links.
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$TMP/floor-hello" ./testdata/bench/floor/hello
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$TMP/floor-deps" ./testdata/bench/floor/deps
# The bulk verify benchmark's MX: a local fake that answers at once.
go build -o "$TMP/verifyfake" ./testdata/bench/verifyfake

# A loopback port nothing listens on (bounded: 200 tries).
free_port() {
  local p i
  for i in $(seq 200); do
    p=$((20000 + RANDOM % 20000))
    (: >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  die "no free port"
}
wait_port() {
  local i
  for i in $(seq 100); do
    (: >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  die "nothing listens on 127.0.0.1:$1"
}

SINK_PORT=$(free_port)
smtp-sink -u nobody "127.0.0.1:$SINK_PORT" 1000 >"$TMP/sink.log" 2>&1 &
SINK_PID=$!
PIDS+=("$SINK_PID")
wait_port "$SINK_PORT"
SINK="127.0.0.1:$SINK_PORT"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
MP_PORT=$(free_port)
MP_HTTP=$(free_port)
mailpit --smtp "127.0.0.1:$MP_PORT" --listen "127.0.0.1:$MP_HTTP" \
  --disable-version-check --smtp-disable-rdns --quiet \
  --database "$TMP/mailpit.db" --smtp-tls-cert "$TMP/cert.pem" --smtp-tls-key "$TMP/key.pem" \
  --smtp-auth-accept-any >"$TMP/mailpit.log" 2>&1 &
PIDS+=($!)
wait_port "$MP_PORT"
MAILPIT="127.0.0.1:$MP_PORT"

# A 1 KiB message (1024 bytes with CRLF line ends), as smtp-source -l 1024.
{
  printf 'From: a@example.org\r\nTo: b@example.com\r\nSubject: bench\r\n\r\n'
  for _ in $(seq 13); do printf '%076d\r\n' 0; done
} | head -c 1022 >"$TMP/1k.eml"
printf '\r\n' >>"$TMP/1k.eml"
# The 256 MiB message: 78-byte CRLF lines.
{
  printf 'From: a@example.org\r\nTo: b@example.com\r\nSubject: big\r\n\r\n'
  head -c $((BIG_MIB * 1024 * 1024 / 78 * 76)) /dev/zero | tr '\0' 'x' | fold -w 76 | sed 's/$/\r/'
} >"$TMP/big.eml"
BIG_BYTES=$(stat -c %s "$TMP/big.eml")

ENV=(--from a@example.org --to b@example.com)

# --- helpers ------------------------------------------------------------------
# timed OUT CMD...: run CMD, append "wall user sys maxrss_kb" to OUT; the
# command must succeed.
timed() {
  local out=$1
  shift
  /usr/bin/time -f '%e %U %S %M' -o "$TMP/time" "$@" >/dev/null 2>"$TMP/err" ||
    { cat "$TMP/err" >&2; die "failed: $*"; }
  cat "$TMP/time" >>"$out"
}
# The sink's CPU seconds so far (utime + stime).
sink_cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$SINK_PID/stat"; }
# median FILE COLUMN
median() { awk -v c="$2" '{print $c}' "$1" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# median of user+sys
median_cpu() { awk '{print $2+$3}' "$1" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
calc() { awk "BEGIN {printf \"$1\", $2}"; }
verdict() { awk "BEGIN {print ($1) ? \"yes\" : \"**no**\"}"; }
# hyperfine in ONE_ROUNDS rounds of 3 runs of each command, so the
# commands take turns rather than one of them meeting all of a burst of
# other load. Prints "median min cpu" in milliseconds per command, one line
# each: the median and minimum wall time of all runs (the minimum is the run
# least disturbed by other load) and the median user+sys CPU time.
hmedians() {
  local r n=$#
  : >"$TMP/hall"
  for r in $(seq "$ONE_ROUNDS"); do
    hyperfine -N --style none --warmup 1 --runs 3 --export-json "$TMP/h.json" "$@" >/dev/null 2>&1 ||
      die "hyperfine failed: $*"
    jq -r '.results | to_entries[] | .key as $k | .value as $v | $v.times[] | "\($k) \(. * 1000) \(($v.user + $v.system) * 1000)"' \
      "$TMP/h.json" >>"$TMP/hall"
  done
  for r in $(seq 0 $((n - 1))); do
    awk -v k="$r" '$1 == k {print $2, $3}' "$TMP/hall" >"$TMP/hk"
    printf '%.2f %.2f %.2f\n' "$(median "$TMP/hk" 1)" "$(sort -g "$TMP/hk" | head -1 | cut -d' ' -f1)" "$(median "$TMP/hk" 2)"
  done
}
# cell "median min cpu" -> "median (min M, CPU C)"
cell() { echo "$1 (min $2, CPU $3)"; }
ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); }

# --- 1, 2: throughput, 10,000 messages ----------------------------------------
for conc in 8 1; do
  log "$COUNT messages over $conc connection(s), $ROUNDS alternating rounds"
  : >"$TMP/x$conc"
  : >"$TMP/s$conc"
  : >"$TMP/xs$conc"
  : >"$TMP/ss$conc"
  for r in $(seq "$ROUNDS"); do
    a=$(sink_cpu)
    timed "$TMP/x$conc" "$SMTPX" send -q --server "$SINK" "${ENV[@]}" --data "@$TMP/1k.eml" --count "$COUNT" --concurrency "$conc"
    b=$(sink_cpu)
    calc '%.2f\n' "$b - $a" >>"$TMP/xs$conc"
    timed "$TMP/s$conc" smtp-source -s "$conc" -d -m "$COUNT" -l 1024 -f a@example.org -t b@example.com "$SINK"
    c=$(sink_cpu)
    calc '%.2f\n' "$c - $b" >>"$TMP/ss$conc"
    log "  round $r: smtpx $(tail -1 "$TMP/x$conc" | cut -d' ' -f1) s, smtp-source $(tail -1 "$TMP/s$conc" | cut -d' ' -f1) s"
  done
  xw=$(median "$TMP/x$conc" 1)
  sw=$(median "$TMP/s$conc" 1)
  xr=$(calc '%.0f' "$COUNT / $xw")
  sr=$(calc '%.0f' "$COUNT / $sw")
  ratio=$(calc '%.2f' "$sw / $xw")
  s_flag="-s $conc -d"
  row "$COUNT × 1 KiB to smtp-sink, $conc connection$([ "$conc" = 1 ] || echo s) (msgs/s)" \
    "$xr" "$sr (smtp-source $s_flag)" "${ratio}×" "≥ 1.5×" "$(verdict "$ratio >= 1.5")"
done
x_cpu=$(median_cpu "$TMP/x8")
s_cpu=$(median_cpu "$TMP/s8")
x_sink=$(median "$TMP/xs8" 1)
s_sink=$(median "$TMP/ss8" 1)

# --- 3, 4: one message per process ---------------------------------------------
log "one message per process: smtpx, smtp-source -m 1, swaks ($ONE_ROUNDS rounds of 3 runs)"
mapfile -t one < <(hmedians \
  "$SMTPX send -q --server $SINK ${ENV[*]} --data @$TMP/1k.eml" \
  "smtp-source -m 1 -l 1024 -f a@example.org -t b@example.com $SINK" \
  "swaks --silent 2 --server $SINK ${ENV[*]} --data @$TMP/1k.eml")
read -r xm xn xc <<<"${one[0]}"
read -r sm sn sc <<<"${one[1]}"
read -r wm wn wc <<<"${one[2]}"
ratio=$(calc '%.2f' "$xm / $sm")
row "1 message per process, plaintext to smtp-sink (ms wall)" "$(cell "$xm" "$xn" "$xc")" "$(cell "$sm" "$sn" "$sc") smtp-source -m 1" \
  "${ratio}× (min $(calc '%.2f' "$xn / $sn")×)" "≤ 1.2×" "$(verdict "$ratio <= 1.2")"
ratio=$(calc '%.1f' "$wm / $xm")
row "1 message per process vs swaks (ms wall)" "$(cell "$xm" "$xn" "$xc")" "$(cell "$wm" "$wn" "$wc") swaks" \
  "${ratio}× faster (min $(calc '%.1f' "$wn / $xn")×)" "≥ 5× faster" "$(verdict "$ratio >= 5")"

# --- start-up: codes, against the floors ------------------------------------------
log "start-up: smtpx codes, a Go hello world, the named libraries alone ($ONE_ROUNDS rounds of 3 runs)"
mapfile -t su < <(hmedians "$SMTPX codes 550 5.7.26" "$TMP/floor-hello" "$TMP/floor-deps")
read -r xm xn xc <<<"${su[0]}"
read -r hm hn hc <<<"${su[1]}"
read -r dm dn dc <<<"${su[2]}"
ratio=$(calc '%.2f' "$xm / $dm")
row "codes 550 5.7.26: start-up plus lookup (ms wall)" "$(cell "$xm" "$xn" "$xc")" \
  "$(cell "$hm" "$hn" "$hc") Go hello world; $(cell "$dm" "$dn" "$dc") every library smtpx links, alone" \
  "${ratio}× the libraries' floor (min $(calc '%.2f' "$xn / $dn")×)" "≤ 1.15× and < 10 ms" "$(verdict "$ratio <= 1.15 && $xm < 10")"

# --- 5: STARTTLS + AUTH to mailpit ----------------------------------------------
log "STARTTLS + AUTH PLAIN to mailpit: smtpx vs curl ($ONE_ROUNDS rounds of 3 runs)"
export SMTPX_PASSWORD=pw
mapfile -t tls < <(hmedians \
  "$SMTPX send -q --server $MAILPIT --tls --ca-file $TMP/cert.pem --auth=PLAIN --user u ${ENV[*]} --data @$TMP/1k.eml" \
  "curl -sS --ssl-reqd --cacert $TMP/cert.pem --login-options AUTH=PLAIN --user u:pw --mail-from a@example.org --mail-rcpt b@example.com --upload-file $TMP/1k.eml smtp://$MAILPIT")
read -r xm xn xc <<<"${tls[0]}"
read -r cm cn cc <<<"${tls[1]}"
ratio=$(calc '%.2f' "$xm / $cm")
row "STARTTLS + AUTH PLAIN, 1 message to mailpit (ms wall)" "$(cell "$xm" "$xn" "$xc")" "$(cell "$cm" "$cn" "$cc") curl smtp://" \
  "${ratio}× (min $(calc '%.2f' "$xn / $cn")×)" "≤ 1.0×" "$(verdict "$ratio <= 1.0")"

# --- 6: a 256 MiB --data message ------------------------------------------------
log "a $BIG_MIB MiB message to smtp-sink: smtpx --data vs curl --upload-file, $BIG_ROUNDS alternating rounds"
: >"$TMP/xb"
: >"$TMP/cb"
for r in $(seq "$BIG_ROUNDS"); do
  timed "$TMP/xb" "$SMTPX" send -q --server "$SINK" "${ENV[@]}" --data "@$TMP/big.eml"
  timed "$TMP/cb" curl -sS --mail-from a@example.org --mail-rcpt b@example.com --upload-file "$TMP/big.eml" "smtp://$SINK"
  log "  round $r: smtpx $(tail -1 "$TMP/xb" | cut -d' ' -f1) s, curl $(tail -1 "$TMP/cb" | cut -d' ' -f1) s"
done
xw=$(median "$TMP/xb" 1)
cw=$(median "$TMP/cb" 1)
xr=$(calc '%.0f' "$BIG_BYTES / 1048576 / $xw")
cr=$(calc '%.0f' "$BIG_BYTES / 1048576 / $cw")
ratio=$(calc '%.2f' "$cw / $xw")
row "$BIG_MIB MiB --data to smtp-sink (MiB/s)" "$xr" "$cr (curl --upload-file)" "${ratio}×" "≥ 1.0×" "$(verdict "$ratio >= 1.0")"
rss=$(sort -g -k4 "$TMP/xb" | tail -1 | awk '{printf "%.1f", $4 / 1024}')
crss=$(sort -g -k4 "$TMP/cb" | tail -1 | awk '{printf "%.1f", $4 / 1024}')
row "$BIG_MIB MiB --data: peak RSS (MiB, worst round)" "$rss" "$crss (curl)" "–" "≤ 32 MiB" "$(verdict "$rss <= 32")"

# --- 7: CPU per 10,000 messages ---------------------------------------------------
x_wall=$(median "$TMP/x8" 1)
x_us=$(calc '%.0f' "$x_cpu * 1e6 / $COUNT")
row "CPU per $COUNT messages at 8 connections (s user+sys)" \
  "$x_cpu ($x_us µs/msg, in $x_wall s wall)" \
  "$s_cpu smtp-source; smtp-sink: $x_sink in smtpx's run, $s_sink in smtp-source's" \
  "$(calc '%.2f' "$x_cpu / $s_cpu")×" "≤ 20 µs/msg" "$(verdict "$x_us <= 20")"

# --- 8: bulk verify, a million addresses over 10,000 domains --------------------
VERIFY_N=${VERIFY_N:-1000000}
# An older build is timed on fewer addresses (its time grew faster than the
# list), and smtpx again on the same list for the ratio.
VERIFY_OLD_N=${VERIFY_OLD_N:-100000}
log "bulk verify: $VERIFY_N addresses over 10,000 domains to a local fake MX"
"$TMP/verifyfake" >"$TMP/vf.addr" &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$TMP/vf.addr" ] && break; sleep 0.1; done
VF=$(cat "$TMP/vf.addr")
# verify_run BIN N: "wall maxrss_kb" of one run over N addresses, which must
# give exactly one row per line.
verify_run() {
  awk -v n="$2" 'BEGIN { srand(20); for (i = 0; i < n; i++) printf "%s%d@d%d.test\n", (i % 10 == 0 ? "no" : "ok"), i, int(rand() * 10000) }' >"$TMP/list.txt"
  /usr/bin/time -f '%e %M' -o "$TMP/vtime" "$1" verify --json --delay 0 --per-mx 8 --concurrency 8 \
    --mx "$VF" --file "$TMP/list.txt" >"$TMP/vrows" 2>"$TMP/verr" || true
  [ "$(grep -o '^{"line":[0-9]*' "$TMP/vrows" | sort -u | wc -l)" = "$2" ] &&
    [ "$(wc -l <"$TMP/vrows")" = "$2" ] || { cat "$TMP/verr" >&2; die "$1 verify: not one row per line of $2"; }
  cat "$TMP/vtime"
}
read -r vw vrss <<<"$(verify_run "$SMTPX" "$VERIFY_N")"
vmib=$(calc '%.1f' "$vrss / 1024")
row "verify $VERIFY_N addresses, 10,000 domains, --per-mx 8 (addresses/s)" "$(calc '%.0f' "$VERIFY_N / $vw")" "–" "–" "report" "–"
row "verify $VERIFY_N addresses: peak RSS (MiB)" "$vmib" "–" "–" "≤ 64 MiB" "$(verdict "$vmib <= 64")"
if [ -n "${OLD_SMTPX:-}" ]; then
  log "  $VERIFY_OLD_N addresses, smtpx and $OLD_SMTPX"
  read -r nw nrss <<<"$(verify_run "$SMTPX" "$VERIFY_OLD_N")"
  read -r ow orss <<<"$(verify_run "$OLD_SMTPX" "$VERIFY_OLD_N")"
  row "verify $VERIFY_OLD_N addresses (addresses/s; peak RSS MiB)" \
    "$(calc '%.0f' "$VERIFY_OLD_N / $nw"); $(calc '%.1f' "$nrss / 1024")" \
    "$(calc '%.0f' "$VERIFY_OLD_N / $ow"); $(calc '%.1f' "$orss / 1024") ($OLD_SMTPX)" \
    "$(calc '%.2f' "$ow / $nw")× the rate" "≥ 1.0×" "$(verdict "$ow >= $nw")"
fi

# --- 9: TLS load: plaintext, STARTTLS, STARTTLS+AUTH, implicit TLS ---------------
TLS_COUNT=${TLS_COUNT:-2000}
log "TLS load: $TLS_COUNT messages per run to smtpx sink and mailpit, $ROUNDS rounds"
# The sink asks for AUTH whenever it offers it: one without AUTH, one with.
XSINK_PORT=$(free_port)
XSINK_AUTH_PORT=$(free_port)
XSINK_TLS_PORT=$(free_port)
"$SMTPX" sink -q --listen "127.0.0.1:$XSINK_PORT" --tls --cert "$TMP/cert.pem" --key "$TMP/key.pem" \
  --max-conns 1000 --max-size 1M >"$TMP/xsink.log" 2>&1 &
PIDS+=($!)
"$SMTPX" sink -q --listen "127.0.0.1:$XSINK_AUTH_PORT" --tls --auth-any --cert "$TMP/cert.pem" --key "$TMP/key.pem" \
  --max-conns 1000 --max-size 1M >"$TMP/xsink-auth.log" 2>&1 &
PIDS+=($!)
"$SMTPX" sink -q --listen "127.0.0.1:$XSINK_TLS_PORT" --tls-on-connect --auth-any --cert "$TMP/cert.pem" --key "$TMP/key.pem" \
  --max-conns 1000 --max-size 1M >"$TMP/xsink-tls.log" 2>&1 &
PIDS+=($!)
MP_TLS_PORT=$(free_port)
MP_TLS_HTTP=$(free_port)
mailpit --smtp "127.0.0.1:$MP_TLS_PORT" --listen "127.0.0.1:$MP_TLS_HTTP" \
  --disable-version-check --smtp-disable-rdns --quiet \
  --database "$TMP/mailpit-tls.db" --smtp-tls-cert "$TMP/cert.pem" --smtp-tls-key "$TMP/key.pem" \
  --smtp-require-tls --smtp-auth-accept-any >"$TMP/mailpit-tls.log" 2>&1 &
PIDS+=($!)
wait_port "$XSINK_PORT"
wait_port "$XSINK_AUTH_PORT"
wait_port "$XSINK_TLS_PORT"
wait_port "$MP_TLS_PORT"
export SMTPX_PASSWORD=pw
# tls_mode NAME: the flags of one way to connect, for a server HOST:PORT pair.
declare -A MODE=(
  [plain]="--no-tls"
  [starttls]="--tls --ca-file $TMP/cert.pem"
  [starttls+auth]="--tls --ca-file $TMP/cert.pem --auth=PLAIN --user u"
  [implicit]="--tls-on-connect --ca-file $TMP/cert.pem --auth=PLAIN --user u"
)
for srv in sink mailpit; do
  for conc in 1 8; do
    for m in plain starttls starttls+auth implicit; do : >"$TMP/t-$srv-$conc-$m"; done
    for r in $(seq "$ROUNDS"); do
      for m in plain starttls starttls+auth implicit; do
        case $srv/$m in
        sink/starttls+auth) addr=127.0.0.1:$XSINK_AUTH_PORT ;;
        sink/implicit) addr=127.0.0.1:$XSINK_TLS_PORT ;;
        sink/*) addr=127.0.0.1:$XSINK_PORT ;;
        mailpit/implicit) addr=127.0.0.1:$MP_TLS_PORT ;;
        *) addr=$MAILPIT ;;
        esac
        # shellcheck disable=SC2086
        timed "$TMP/t-$srv-$conc-$m" "$SMTPX" send -q --server "$addr" "${ENV[@]}" --data "@$TMP/1k.eml" \
          --count "$TLS_COUNT" --concurrency "$conc" ${MODE[$m]}
      done
    done
    pw=$(median "$TMP/t-$srv-$conc-plain" 1)
    aw=$(median "$TMP/t-$srv-$conc-starttls+auth" 1)
    rates=""
    for m in plain starttls starttls+auth implicit; do
      rates+="$m $(calc '%.0f' "$TLS_COUNT / $(median "$TMP/t-$srv-$conc-$m" 1)"); "
    done
    ratio=$(calc '%.2f' "$aw / $pw")
    row "$TLS_COUNT × 1 KiB to $([ $srv = sink ] && echo "smtpx sink" || echo mailpit), $conc connection$([ "$conc" = 1 ] || echo s), one connection reused (msgs/s)" \
      "${rates%; }" "–" "STARTTLS+AUTH ${ratio}× plaintext time" "≤ 1.3×" "$(verdict "$ratio <= 1.3")"
  done
done

# --- 10: a new TLS connection per message: session resumption ----------------------
PC_COUNT=${PC_COUNT:-1000}
log "a new STARTTLS connection per message to mailpit ($PC_COUNT messages, $ROUNDS rounds): TLS 1.3 and 1.2, full and resumed"
# Each round runs every variant once, in turn; the client's CPU seconds
# (user+sys) are the median over the rounds.
declare -A PCF=(
  [plain]="--no-tls"
  [full13]="--tls --ca-file $TMP/cert.pem --tls-no-resume"
  [res13]="--tls --ca-file $TMP/cert.pem"
  [full12]="--tls --ca-file $TMP/cert.pem --tls-max 1.2 --tls-no-resume"
  [res12]="--tls --ca-file $TMP/cert.pem --tls-max 1.2"
)
PCV=(plain full13 res13 full12 res12)
for v in "${PCV[@]}"; do : >"$TMP/pc-$v"; done
for _ in $(seq "$ROUNDS"); do
  for v in "${PCV[@]}"; do
    # shellcheck disable=SC2086 # the flags are words
    timed "$TMP/pc-$v" "$SMTPX" send -q --server "$MAILPIT" "${ENV[@]}" --data "@$TMP/1k.eml" --count "$PC_COUNT" --per-connection 1 ${PCF[$v]}
  done
done
pc_us() { calc '%.0f' "($(median_cpu "$TMP/pc-$1") - $(median_cpu "$TMP/pc-plain")) * 1e6 / $PC_COUNT"; }
for ver in 13 12; do
  # shellcheck disable=SC2086
  hs=$("$SMTPX" send --json --server "$MAILPIT" "${ENV[@]}" --data "@$TMP/1k.eml" --count 100 --per-connection 1 ${PCF[res$ver]} |
    jq -r '"\(.tls_handshakes.resumed) resumed, \(.tls_handshakes.full) full"')
  r_us=$(pc_us "res$ver")
  f_us=$(pc_us "full$ver")
  row "STARTTLS handshake CPU per new connection, client, TLS 1.${ver#1} (µs, TLS minus plaintext run)" \
    "$r_us resumed (of 100: $hs)" "$f_us full (--tls-no-resume)" \
    "$(calc '%.2f' "$r_us / $f_us")×" "≤ 0.5×" "$(verdict "$r_us <= $f_us / 2")"
done

# --- 11: Go benchmarks -------------------------------------------------------------
log "go test -bench: load send loop, TLS per connection, bulk verify"
BENCH=$(go test -run '^$' -bench 'BenchmarkRunSMTPSink|NewConn|BenchmarkBulk' -benchtime 3s \
  ./internal/load ./internal/verify 2>&1 | grep '^Benchmark' || true)

# --- report -------------------------------------------------------------------------
cpu=$(awk -F: '/model name/ {sub(/^ /, "", $2); print $2; exit}' /proc/cpuinfo)
echo "Measured $(date -u +%Y-%m-%d) on $(nproc) vCPU ($cpu), $(uname -sr), $(go version | awk '{print $3}'), load average at the end $(cut -d' ' -f1-3 /proc/loadavg)."
echo "Medians of $ROUNDS alternating rounds ($COUNT messages), $BIG_ROUNDS rounds ($BIG_MIB MiB), $((ONE_ROUNDS * 3)) runs taking turns (one message per process)."
echo
echo "| comparison | smtpx | other | ratio | target | met |"
echo "|---|---:|---:|---:|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo '```'
echo "$BENCH"
echo '```'
