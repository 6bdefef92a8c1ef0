package jsonlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestOneObjectPerLine(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf, "node1")
	log.Info("config loaded", "path", "/root/Cluster.config", "replicas", 3)
	log.With("component", "http").WithGroup("req").Warn("request\nwith newline", "status", 502,
		"duration_ms", 1.5, "err", errors.New("boom"), "took", 2*time.Millisecond)
	log.Debug("hidden")
	log.Error("bare")

	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 lines, got %d:\n%s", len(lines), buf.String())
	}
	var recs []map[string]any
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		for _, k := range []string{"time", "level", "node", "message", "fields"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("line %q lacks %q", l, k)
			}
		}
		if len(m) != 5 {
			t.Fatalf("line %q has extra keys", l)
		}
		ts, err := time.Parse(time.RFC3339Nano, m["time"].(string))
		if err != nil || ts.Location() != time.UTC || !strings.HasSuffix(m["time"].(string), "Z") {
			t.Fatalf("time %v not RFC3339Nano UTC: %v", m["time"], err)
		}
		recs = append(recs, m)
	}
	if recs[0]["level"] != "info" || recs[0]["node"] != "node1" || recs[0]["message"] != "config loaded" {
		t.Errorf("rec0 = %v", recs[0])
	}
	if f := recs[0]["fields"].(map[string]any); f["replicas"] != 3.0 || f["path"] != "/root/Cluster.config" {
		t.Errorf("fields0 = %v", f)
	}
	f1 := recs[1]["fields"].(map[string]any)
	req := f1["req"].(map[string]any)
	if recs[1]["level"] != "warn" || f1["component"] != "http" || req["status"] != 502.0 ||
		req["err"] != "boom" || req["took"] != "2ms" || req["duration_ms"] != 1.5 {
		t.Errorf("rec1 = %v", recs[1])
	}
	if f := recs[2]["fields"].(map[string]any); len(f) != 0 {
		t.Errorf("fields2 = %v, want {}", f)
	}
	if !strings.Contains(lines[2], `"fields":{}`) {
		t.Errorf("empty fields not encoded as {}: %s", lines[2])
	}
}
