package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

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

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestRunServesAndShutsDown(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "Cluster.config")
	if err := os.WriteFile(cfg, []byte("# test\nalpha 127.0.0.1 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	out := &syncBuffer{}
	ready := make(chan string, 1)
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, env(map[string]string{"CFG_PATH": cfg, "SELF_IP": "127.0.0.1", "PORT": "0"}), out, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case code := <-done:
		t.Fatalf("run exited early with %d:\n%s", code, out)
	}
	port := addr[strings.LastIndex(addr, ":"):]
	resp, err := http.Get("http://127.0.0.1" + port + "/ping")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"name":"alpha"`) {
		t.Fatalf("ping: %d %s", resp.StatusCode, body)
	}

	start := time.Now()
	cancel(errors.New("received terminated"))
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit code %d", code)
		}
	case <-time.After(time.Second):
		t.Fatal("run did not return within 1s")
	}
	if d := time.Since(start); d > 700*time.Millisecond {
		t.Errorf("shutdown took %v", d)
	}

	var msgs []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m struct {
			Node, Message string
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		if m.Node != "alpha" {
			t.Errorf("node = %q in %s", m.Node, line)
		}
		msgs = append(msgs, m.Message)
	}
	want := []string{"config loaded", "listening", "request", "shutting down", "stopped"}
	if strings.Join(msgs, ",") != strings.Join(want, ",") {
		t.Fatalf("messages %q, want %q", msgs, want)
	}
}

func TestRunBadConfig(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "Cluster.config")
	if err := os.WriteFile(cfg, []byte("alpha 127.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	code := run(context.Background(), env(map[string]string{"CFG_PATH": cfg, "NODE_NAME": "n9"}), out, nil)
	if code != 1 || !strings.Contains(out.String(), `"node":"n9"`) ||
		!strings.Contains(out.String(), "Cluster.config:1: expected 3 fields") {
		t.Fatalf("code %d, output %s", code, out)
	}
}
