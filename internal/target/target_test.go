package target

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		addr    string
		tls     TLSMode
		lmtp    bool
		network string
		err     bool
	}{
		{in: "mx.example.com", addr: "mx.example.com:25"},
		{in: "127.0.0.1:2525", addr: "127.0.0.1:2525"},
		{in: "[::1]:2525", addr: "[::1]:2525"},
		{in: "[::1]", addr: "[::1]:25"},
		{in: "::1", addr: "[::1]:25"},
		{in: "smtp://127.0.0.1", addr: "127.0.0.1:25"},
		{in: "smtps://127.0.0.1", addr: "127.0.0.1:465", tls: TLSImplicit},
		{in: "submission://127.0.0.1", addr: "127.0.0.1:587", tls: TLSRequired},
		{in: "submission://127.0.0.1:2587", addr: "127.0.0.1:2587", tls: TLSRequired},
		{in: "lmtp://[::1]:24", addr: "[::1]:24", lmtp: true},
		{in: "unix:///run/smtp.sock", addr: "/run/smtp.sock", network: "unix"},
		{in: "", err: true},
		{in: "host:0", err: true},
		{in: "host:99999", err: true},
		{in: "host:abc", err: true},
		{in: "[::1", err: true},
		{in: "[nothost]:25", err: true},
		{in: "ftp://host", err: true},
		{in: "smtp://host/path", err: true},
		{in: "host\r\nRCPT", err: true},
		{in: ":25", err: true},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in, 25)
		if tt.err {
			if err == nil {
				t.Errorf("Parse(%q) = %+v, want error", tt.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got.Address() != tt.addr || got.TLS != tt.tls || got.LMTP != tt.lmtp {
			t.Errorf("Parse(%q) = %+v (addr %s)", tt.in, got, got.Address())
		}
		if tt.network != "" && got.Network != tt.network {
			t.Errorf("Parse(%q) network %s", tt.in, got.Network)
		}
	}
}
