package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/kvnode/internal/config"
	"example.com/kvnode/internal/jsonlog"
)

// testCluster runs n nodes on httptest servers. The replica table names them node1..nodeN
// (address 127.0.0.1, distinct ports); the shared client dials "nodeK:port" as 127.0.0.1:port,
// and "deadN" hostnames are added as unreachable replicas.
type testCluster struct {
	nodes   []*Node
	servers []*httptest.Server
	logs    *syncBuffer
	table   []config.Replica
	client  *http.Client
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newTestCluster(t *testing.T, n, dead int) *testCluster {
	t.Helper()
	c := &testCluster{logs: &syncBuffer{}}
	for i := 0; i < n; i++ {
		srv := httptest.NewUnstartedServer(nil)
		port := srv.Listener.Addr().(*net.TCPAddr).Port
		c.servers = append(c.servers, srv)
		c.table = append(c.table, config.Replica{Hostname: fmt.Sprintf("node%d", i+1), Address: "127.0.0.1", Port: port})
	}
	for i := 0; i < dead; i++ {
		// A port that was just free: connection refused.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		c.table = append(c.table, config.Replica{Hostname: fmt.Sprintf("dead%d", i+1), Address: "127.0.0.1", Port: port})
	}
	dialer := &net.Dialer{Timeout: time.Second}
	c.client = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			return dialer.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
		},
	}}
	for i, srv := range c.servers {
		id := ResolveSelf(c.table, "127.0.0.1", c.table[i].Port, "", "")
		if id.Index != i || id.Name != c.table[i].Hostname {
			t.Fatalf("ResolveSelf for node %d = %+v", i, id)
		}
		nd := New(Options{
			Name: id.Name, Address: id.Address, Port: c.table[i].Port,
			Replicas: c.table, SelfIndex: id.Index,
			Logger: jsonlog.NewLogger(c.logs, id.Name), Client: c.client,
			ProbeTimeout: 500 * time.Millisecond, ReplicationTimeout: time.Second,
		})
		c.nodes = append(c.nodes, nd)
		srv.Config.Handler = nd.Handler()
		srv.Start()
		t.Cleanup(srv.Close)
	}
	return c
}

func (c *testCluster) url(i int, path string) string { return c.servers[i].URL + path }

func do(t *testing.T, method, url string, body string, hdr map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding %q: %v", b, err)
	}
	return v
}

func TestPingAndStatus(t *testing.T) {
	c := newTestCluster(t, 2, 0)
	code, b := do(t, "GET", c.url(1, "/ping"), "", nil)
	if p := decode[PingResponse](t, b); code != 200 || p.Name != "node2" || !p.OK {
		t.Fatalf("ping: %d %s", code, b)
	}
	code, b = do(t, "GET", c.url(0, "/status"), "", nil)
	st := decode[StatusResponse](t, b)
	if code != 200 || st.Name != "node1" || st.Address != "127.0.0.1" || st.Port != c.table[0].Port ||
		len(st.Replicas) != 2 || st.Replicas[1] != c.table[1] {
		t.Fatalf("status: %d %s", code, b)
	}
	// Raw JSON keys are the documented ones.
	var raw map[string]any
	_ = json.Unmarshal(b, &raw)
	rep0 := raw["replicas"].([]any)[0].(map[string]any)
	for _, k := range []string{"hostname", "address", "port"} {
		if _, ok := rep0[k]; !ok {
			t.Fatalf("replica lacks %q: %s", k, b)
		}
	}
	if code, _ := do(t, "POST", c.url(0, "/ping"), "", nil); code != http.StatusMethodNotAllowed {
		t.Fatalf("POST /ping = %d", code)
	}
}

func TestPeers(t *testing.T) {
	c := newTestCluster(t, 3, 1)
	code, b := do(t, "GET", c.url(0, "/peers"), "", nil)
	if code != 200 {
		t.Fatalf("peers: %d %s", code, b)
	}
	pr := decode[PeersResponse](t, b)
	if len(pr.Peers) != 4 {
		t.Fatalf("want 4 peers: %s", b)
	}
	for i, p := range pr.Peers {
		if p.Replica != c.table[i] {
			t.Errorf("peer %d = %+v, want %+v", i, p.Replica, c.table[i])
		}
		live := strings.HasPrefix(p.Hostname, "node")
		if p.Reachable != live || (p.Error == "") != live || p.LatencyMS < 0 {
			t.Errorf("peer %+v: reachable should be %v", p, live)
		}
	}
	if !strings.Contains(string(b), `"error":""`) || !strings.Contains(string(b), `"latency_ms":`) {
		t.Errorf("peers JSON lacks documented keys: %s", b)
	}
}

func TestReplicatedPut(t *testing.T) {
	c := newTestCluster(t, 3, 0)
	code, b := do(t, "PUT", c.url(0, "/kv/greeting"), "hello world", nil)
	pr := decode[PutResponse](t, b)
	want := map[string]string{"node1": "ok", "node2": "ok", "node3": "ok"}
	if code != 200 || pr.Key != "greeting" || fmt.Sprint(pr.Replicas) != fmt.Sprint(want) {
		t.Fatalf("put: %d %s", code, b)
	}
	for i := range c.nodes {
		code, b := do(t, "GET", c.url(i, "/kv/greeting"), "", nil)
		if code != 200 || string(b) != "hello world" {
			t.Fatalf("node %d: %d %q", i+1, code, b)
		}
	}
	if code, _ := do(t, "GET", c.url(2, "/kv/missing"), "", nil); code != 404 {
		t.Fatalf("missing key: %d", code)
	}
	// Each forwarded request is logged as replicated, with the documented fields.
	logs := c.logs.String()
	if n := strings.Count(logs, `"replicated":true`); n != 2 {
		t.Fatalf("want 2 replicated requests logged, got %d:\n%s", n, logs)
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m struct {
			Message string         `json:"message"`
			Fields  map[string]any `json:"fields"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		for _, k := range []string{"method", "path", "status", "duration_ms", "remote"} {
			if _, ok := m.Fields[k]; m.Message == "request" && !ok {
				t.Fatalf("request log lacks %q: %s", k, line)
			}
		}
	}
}

func TestReplicatedHeaderStopsForwarding(t *testing.T) {
	c := newTestCluster(t, 2, 0)
	code, b := do(t, "PUT", c.url(0, "/kv/k"), "v", map[string]string{ReplicatedHeader: "1"})
	if pr := decode[PutResponse](t, b); code != 200 || len(pr.Replicas) != 1 || pr.Replicas["node1"] != "ok" {
		t.Fatalf("put: %d %s", code, b)
	}
	if code, _ := do(t, "GET", c.url(1, "/kv/k"), "", nil); code != 404 {
		t.Fatalf("value was forwarded despite %s: %d", ReplicatedHeader, code)
	}
}

func TestPutWithFailedReplica(t *testing.T) {
	c := newTestCluster(t, 2, 1)
	code, b := do(t, "PUT", c.url(1, "/kv/a%20b"), "x", nil)
	pr := decode[PutResponse](t, b)
	if code != http.StatusBadGateway || pr.Key != "a b" || pr.Replicas["node1"] != "ok" || pr.Replicas["node2"] != "ok" ||
		!strings.HasPrefix(pr.Replicas["dead1"], "error: ") {
		t.Fatalf("put: %d %s", code, b)
	}
	for i := range c.nodes { // stored locally and on the live replica all the same
		if code, b := do(t, "GET", c.url(i, "/kv/a%20b"), "", nil); code != 200 || string(b) != "x" {
			t.Fatalf("node %d: %d %q", i+1, code, b)
		}
	}
}

func TestResolveSelf(t *testing.T) {
	table := []config.Replica{
		{Hostname: "a", Address: "10.0.0.1", Port: 1},
		{Hostname: "b", Address: "10.0.0.2", Port: 1},
		{Hostname: "c", Address: "10.0.0.2", Port: 2},
	}
	cases := []struct {
		selfIP, nodeName, host string
		port                   int
		want                   Identity
	}{
		{"10.0.0.1", "x", "h", 9, Identity{"a", "10.0.0.1", 0}},
		{"10.0.0.2", "", "", 2, Identity{"c", "10.0.0.2", 2}},
		{"10.0.0.2", "", "", 9, Identity{"b", "10.0.0.2", 1}},
		{"10.0.0.9", "x", "h", 1, Identity{"x", "10.0.0.9", -1}},
		{"10.0.0.9", "", "h", 1, Identity{"h", "10.0.0.9", -1}},
		{"", "b", "h", 1, Identity{"b", "10.0.0.2", 1}},
		{"", "", "zz", 1, Identity{"zz", "", -1}},
	}
	for _, tc := range cases {
		if got := ResolveSelf(table, tc.selfIP, tc.port, tc.nodeName, tc.host); got != tc.want {
			t.Errorf("ResolveSelf(%q, %d, %q, %q) = %+v, want %+v", tc.selfIP, tc.port, tc.nodeName, tc.host, got, tc.want)
		}
	}
}
