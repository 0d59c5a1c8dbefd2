package tlsconf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smtpx/smtpx/internal/certs"
)

func TestBuildFiles(t *testing.T) {
	dir := t.TempDir()
	c, err := certs.SelfSigned(certs.Options{Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := c.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.pem")
	if err := os.WriteFile(big, nil, 0o644); err != nil || os.Truncate(big, MaxFile+1) != nil {
		t.Fatal("cannot make a big file")
	}
	notPEM := filepath.Join(dir, "x.txt")
	os.WriteFile(notPEM, []byte("hello"), 0o644)

	cfg, err := Options{CAFile: cert, CertFile: cert, KeyFile: key}.Build()
	if err != nil || cfg.RootCAs == nil || len(cfg.Certificates) != 1 {
		t.Fatalf("good files: %v", err)
	}
	for _, tt := range []struct {
		o          Options
		flag, want string
	}{
		// A device or a huge file fails in bounded memory (these ran out of memory).
		{Options{CAFile: "/dev/zero"}, "--ca-file", "larger than 4 MiB"},
		{Options{CertFile: big, KeyFile: key}, "--cert", "larger than 4 MiB"},
		{Options{CertFile: cert, KeyFile: big}, "--key", "larger than 4 MiB"},
		{Options{CAFile: filepath.Join(dir, "missing")}, "--ca-file", "no such file"},
		{Options{CAFile: notPEM}, "--ca-file", "holds no PEM certificate"},
		{Options{CertFile: cert}, "--cert", "go together"},
		{Options{CertFile: cert, KeyFile: notPEM}, "--cert", ""},
		{Options{Min: "0.9"}, "--tls-min", "1.0, 1.1"},
		{Options{SNI: "a\r\nb"}, "--tls-sni", "line breaks"},
	} {
		_, err := tt.o.Build()
		e, ok := err.(*Error)
		if !ok || e.Flag != tt.flag || !strings.Contains(e.Msg, tt.want) {
			t.Errorf("%+v: %v, want %s: %s", tt.o, err, tt.flag, tt.want)
		}
	}
}
