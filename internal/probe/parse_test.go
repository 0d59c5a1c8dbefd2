package probe

import (
	"net/netip"
	"os"
	"strings"
	"testing"
)

func TestParseConnectTo(t *testing.T) {
	tests := []struct {
		in   string
		want ConnectTo
		err  bool
	}{
		{"mx.example.com:25:127.0.0.1:2525", ConnectTo{Host: "mx.example.com", Port: 25, To: "127.0.0.1:2525"}, false},
		{"::127.0.0.1:2525", ConnectTo{To: "127.0.0.1:2525"}, false},
		{"[::1]:25:[::1]:2525", ConnectTo{Host: "::1", Port: 25, To: "[::1]:2525"}, false},
		{"127.0.0.11:25:127.0.0.1:", ConnectTo{Host: "127.0.0.11", Port: 25, To: "127.0.0.1:"}, false},
		{"a:25:b", ConnectTo{}, true},
		{"a:x:b:25", ConnectTo{}, true},
		{"a:25:b:99999", ConnectTo{}, true},
		{"[::1:25:b:1", ConnectTo{}, true},
		{"a:25:b:1:extra", ConnectTo{}, true},
	}
	for _, tt := range tests {
		got, err := ParseConnectTo(tt.in)
		if (err != nil) != tt.err || !tt.err && got != tt.want {
			t.Errorf("%q: %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	rules := []ConnectTo{
		{Host: "mx1.example.test", Port: 25, To: "127.0.0.1:1001"},
		{Host: "127.0.0.12", Port: 0, To: "127.0.0.1:"},
	}
	a11, a12 := netip.MustParseAddr("127.0.0.11"), netip.MustParseAddr("127.0.0.12")
	for _, tt := range []struct {
		host string
		addr netip.Addr
		port int
		want string
	}{
		{"mx1.example.test", a11, 25, "127.0.0.1:1001"},
		{"mx1.example.test", a11, 587, "127.0.0.11:587"},
		{"mx2.example.test", a12, 587, "127.0.0.1:587"},
		{"", netip.MustParseAddr("::1"), 25, "[::1]:25"},
	} {
		if got := dialAddr(rules, tt.host, tt.addr, tt.port); got != tt.want {
			t.Errorf("dialAddr(%s %s %d) = %s, want %s", tt.host, tt.addr, tt.port, got, tt.want)
		}
	}
}

func TestKnownID(t *testing.T) {
	for _, id := range []string{"tls.cert.verify", "tls.cert.*", "require.chunking", "ehlo.pipelining", "ehlo.*", "*", "mta_sts.*", "require.*"} {
		if !KnownID(id) {
			t.Errorf("KnownID(%q) = false", id)
		}
	}
	for _, id := range []string{"tls.cert", "nope", "require.", "tls.cert.verify.x"} {
		if KnownID(id) {
			t.Errorf("KnownID(%q) = true", id)
		}
	}
	g := gates{ignore: []string{"tls.cert.*", "banner"}}
	if !g.ignored("tls.cert.verify") || !g.ignored("banner") || g.ignored("banner.delay") || g.ignored("tls.version") {
		t.Error("ignore patterns")
	}
}

func TestStats(t *testing.T) {
	s := stats([]map[string]float64{{"connect": 3, "banner": 1}, {"connect": 1}, {"connect": 2, "banner": 3}})
	if got := s["connect"]; got != (Stat{Min: 1, Median: 2, Max: 3, N: 3}) {
		t.Errorf("connect %+v", got)
	}
	if got := s["banner"]; got != (Stat{Min: 1, Median: 2, Max: 3, N: 2}) {
		t.Errorf("banner %+v", got)
	}
	if _, ok := s["handshake"]; ok {
		t.Error("a phase that never happened has stats")
	}
}

func TestMakePlan(t *testing.T) {
	tests := []struct {
		o     Options
		mode  Mode
		ports []int
		err   string
	}{
		{Options{Target: "example.com"}, ModeDomain, []int{25}, ""},
		{Options{Target: "Example.COM."}, ModeDomain, []int{25}, ""},
		{Options{Target: "example.com", Ports: []int{25, 587, 25}}, ModeDomain, []int{25, 587}, ""},
		{Options{Target: "mx.example.com:2525"}, ModeHost, []int{2525}, ""},
		{Options{Target: "mx.example.com", NoMX: true}, ModeHost, []int{25}, ""},
		{Options{Target: "127.0.0.1"}, ModeHost, []int{25}, ""},
		{Options{Target: "[::1]:26"}, ModeHost, []int{26}, ""},
		{Options{Target: "smtps://mx.example.com"}, ModeHost, []int{465}, ""},
		{Options{Target: "unix:///run/smtp.sock"}, ModeSocket, []int{0}, ""},
		{Options{Socket: "/run/smtp.sock"}, ModeSocket, []int{0}, ""},
		{Options{}, "", nil, "needs a TARGET"},
		{Options{Target: "a:25", Ports: []int{26}}, "", nil, "--port was given"},
		{Options{Target: "a", Ports: []int{0}}, "", nil, "out of range"},
		{Options{Target: "a b"}, "", nil, "space"},
		{Options{Target: "127.0.0.1:2525", RequireMTASTS: true}, "", nil, "needs a mail domain"},
		{Options{Target: "127.0.0.1:2525", RequireDANE: true}, "", nil, "host name or mail domain"},
		{Options{Target: "127.0.0.1", Family: 6}, "", nil, "not an IPv6"},
		{Options{Target: "x", Require: []string{"A B"}}, "", nil, "not an EHLO keyword"},
		{Options{Target: "x", Ignore: []string{"nope"}}, "", nil, "not a check id"},
		{Options{Target: "x", Socket: "/s"}, "", nil, "both given"},
		{Options{Target: "bad..name"}, "", nil, ""},
		{Options{Target: "x", Count: 5000}, "", nil, "--count"},
	}
	for _, tt := range tests {
		p, err := makePlan(&tt.o)
		if tt.mode == "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%+v: err %v, want %q", tt.o, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%+v: %v", tt.o, err)
			continue
		}
		if p.mode != tt.mode || len(p.ports) != len(tt.ports) {
			t.Errorf("%+v: mode %s ports %v", tt.o, p.mode, p.ports)
		}
		for i := range tt.ports {
			if p.ports[i] != tt.ports[i] {
				t.Errorf("%+v: ports %v, want %v", tt.o, p.ports, tt.ports)
			}
		}
	}
}

// TestREADMEListsEveryCheck keeps the README's check id table in step with
// IDs and Keywords.
func TestREADMEListsEveryCheck(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Skip("no README.md next to the module:", err)
	}
	s := string(b)
	i, j := strings.Index(s, "<!-- BEGIN probe -->"), strings.Index(s, "<!-- END probe -->")
	if i < 0 || j < i {
		t.Fatal("README.md has no probe section")
	}
	sec := s[i:j]
	for _, x := range IDs {
		id := x.ID
		if strings.HasSuffix(id, ".") {
			id += "KEYWORD"
		}
		if !strings.Contains(sec, "| `"+id+"` | "+x.Scope+" | ") {
			t.Errorf("README probe section does not list %s (%s)", id, x.Scope)
		}
	}
	for _, kw := range Keywords {
		if id := KeywordID("ehlo.", kw); !strings.Contains(sec, "`"+id+"`") {
			t.Errorf("README probe section does not list %s", id)
		}
	}
}
