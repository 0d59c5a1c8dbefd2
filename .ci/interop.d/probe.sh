#!/usr/bin/env bash
# Interop: smtpx probe against Postfix smtp-sink and mailpit, servers nobody
# here wrote. Loopback only. $1 is the smtpx binary.
set -euo pipefail
SMTPX=${1:?usage: probe.sh SMTPX}
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    (: >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
wait_port() {
  for _ in $(seq 100); do (: >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done
  echo "nothing listens on 127.0.0.1:$1"; exit 1
}
# expect STATUS CMD...: run CMD, keep its output in $tmp/out and $tmp/err,
# and fail unless it exits with STATUS.
expect() {
  local want=$1 rc
  shift
  set +e
  "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  set -e
  if [ "$rc" != "$want" ]; then
    echo "FAIL: $* exited $rc, want $want"; cat "$tmp/out" "$tmp/err"; exit 1
  fi
}
# has REGEX: the last output matched REGEX.
has() { grep -Eq -- "$1" "$tmp/out" || { echo "FAIL: no '$1' in:"; cat "$tmp/out"; exit 1; }; }

echo "--- smtp-sink"
SINK_PORT=$(free_port)
smtp-sink -u nobody "127.0.0.1:$SINK_PORT" 100 &
pids+=($!)
wait_port "$SINK_PORT"
expect 0 "$SMTPX" probe --color=never "127.0.0.1:$SINK_PORT"
has '^  PASS  ehlo\.pipelining '
has '^  PASS  ehlo\.dsn '
has '^  PASS  ehlo\.enhancedstatuscodes '
has '^  WARN  tls\.starttls +STARTTLS is not offered'
expect 0 "$SMTPX" probe -q --require PIPELINING,DSN,ENHANCEDSTATUSCODES "127.0.0.1:$SINK_PORT"
expect 6 "$SMTPX" probe --require-tls "127.0.0.1:$SINK_PORT"
grep -q '^smtpx: error: .*tls\.starttls: STARTTLS is not offered, and TLS is required$' "$tmp/err"
"$SMTPX" probe --json "127.0.0.1:$SINK_PORT" |
  jq -e '.exit == 0 and ([.endpoints[0].checks[] | select(.id == "tls.starttls") | .status] == ["warn"])' >/dev/null
echo "smtp-sink: extensions reported, missing STARTTLS warned, --require-tls exits 6"

echo "--- mailpit"
cat >"$tmp/gencert.go" <<'EOF'
// gencert writes a self-signed ECDSA certificate for 127.0.0.1, valid for
// 365 days, to DIR/cert.pem and DIR/key.pem.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

func main() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	t := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "127.0.0.1", Organization: []string{"smtpx ci"}},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, t, t, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	k, _ := x509.MarshalECPrivateKey(key)
	dir := os.Args[1]
	_ = os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: k}), 0o600)
}
EOF
go run "$tmp/gencert.go" "$tmp"
MP_SMTP=$(free_port)
MP_HTTP=$(free_port)
MP_POP=$(free_port)
mailpit --smtp "127.0.0.1:$MP_SMTP" --listen "127.0.0.1:$MP_HTTP" --pop3 "127.0.0.1:$MP_POP" \
  --smtp-tls-cert "$tmp/cert.pem" --smtp-tls-key "$tmp/key.pem" --database "$tmp/mailpit.db" \
  --disable-version-check --smtp-disable-rdns --quiet &
pids+=($!)
wait_port "$MP_SMTP"
MP=127.0.0.1:$MP_SMTP
expect 0 "$SMTPX" probe --color=never "$MP"
has '^  PASS  tls\.starttls +STARTTLS offered and accepted: 220 '
has '^  PASS  tls\.version +TLS 1\.[23]$'
has '^  INFO  tls\.cipher +TLS_'
has '^  INFO  tls\.cert\.chain +CN=127\.0\.0\.1,O=smtpx ci, '
has '\((36[45]) days left\)$'
has '^  WARN  tls\.cert\.verify +verification failed: certificate is not signed by a trusted authority'
expect 0 "$SMTPX" probe --color=never --ca-file "$tmp/cert.pem" "$MP"
has '^  PASS  tls\.cert\.verify +verified for 127\.0\.0\.1$'
expect 0 "$SMTPX" probe -q --require STARTTLS "$MP"
expect 1 "$SMTPX" probe -q --require CHUNKING "$MP"
grep -q 'require\.chunking: CHUNKING is not advertised$' "$tmp/err"
expect 1 "$SMTPX" probe -q --cert-days 400 "$MP"
grep -q 'tls\.cert\.expiry: expires in 36[45] days .*within --cert-days 400$' "$tmp/err"
expect 6 "$SMTPX" probe -q --require-tls "$MP"
"$SMTPX" probe --json --ca-file "$tmp/cert.pem" "$MP" |
  jq -e '.exit == 0 and .endpoints[0].verification.verified and (.endpoints[0].tls.version | startswith("TLS 1."))' >/dev/null
echo "mailpit: STARTTLS, TLS facts, verification failed then verified with --ca-file, gates 0/1/1/6"
