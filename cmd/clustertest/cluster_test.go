//go:build clustertest

package clustertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"example.com/kvnode/internal/config"
)

var (
	replicas []config.Replica
	wait     = 10 * time.Second
	client   = &http.Client{Timeout: 3 * time.Second}
)

func TestMain(m *testing.M) {
	path := config.PathFromEnv()
	var err error
	if replicas, err = config.Load(path); err != nil {
		fmt.Fprintf(os.Stderr, "clustertest: %v\n", err)
		os.Exit(1)
	}
	if w := os.Getenv("CLUSTERTEST_WAIT"); w != "" {
		if wait, err = time.ParseDuration(w); err != nil {
			fmt.Fprintf(os.Stderr, "clustertest: CLUSTERTEST_WAIT: %v\n", err)
			os.Exit(1)
		}
	}
	fmt.Printf("clustertest: %d replicas from %s, retrying each check for up to %s\n", len(replicas), path, wait)
	os.Exit(m.Run())
}

// eventually retries check until it succeeds or the wait expires.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(wait)
	attempts := 0
	for {
		attempts++
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %d attempts over %s: %v", what, attempts, wait, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func request(method, url string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func getJSON(url string, v any) error {
	code, b, err := request(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("GET %s: status %d: %s", url, code, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("GET %s: %v in %q", url, err, b)
	}
	return nil
}

func key(r config.Replica) string { return fmt.Sprintf("%s %s %d", r.Hostname, r.Address, r.Port) }

func sameSet(got []config.Replica) error {
	var g, w []string
	for _, r := range got {
		g = append(g, key(r))
	}
	for _, r := range replicas {
		w = append(w, key(r))
	}
	sort.Strings(g)
	sort.Strings(w)
	if strings.Join(g, "; ") != strings.Join(w, "; ") {
		return fmt.Errorf("replicas %q, want %q", g, w)
	}
	return nil
}

// forEachNode runs check against every replica in parallel subtests.
func forEachNode(t *testing.T, check func(t *testing.T, r config.Replica)) {
	for _, r := range replicas {
		t.Run(r.Hostname, func(t *testing.T) {
			t.Parallel()
			check(t, r)
		})
	}
}

func TestPing(t *testing.T) {
	forEachNode(t, func(t *testing.T, r config.Replica) {
		eventually(t, "GET /ping", func() error {
			var p struct {
				Name string `json:"name"`
				OK   bool   `json:"ok"`
			}
			if err := getJSON(r.BaseURL()+"/ping", &p); err != nil {
				return err
			}
			if !p.OK || p.Name != r.Hostname {
				return fmt.Errorf("ping = %+v, want name %q ok true", p, r.Hostname)
			}
			return nil
		})
	})
}

func TestStatusListsAllReplicas(t *testing.T) {
	forEachNode(t, func(t *testing.T, r config.Replica) {
		eventually(t, "GET /status", func() error {
			var st struct {
				Name     string           `json:"name"`
				Replicas []config.Replica `json:"replicas"`
			}
			if err := getJSON(r.BaseURL()+"/status", &st); err != nil {
				return err
			}
			if st.Name != r.Hostname {
				return fmt.Errorf("status name %q, want %q", st.Name, r.Hostname)
			}
			return sameSet(st.Replicas)
		})
	})
}

func TestReplicatedPut(t *testing.T) {
	first, last := replicas[0], replicas[len(replicas)-1]
	host, _ := os.Hostname()
	k := fmt.Sprintf("clustertest-%s-%d-%d", host, os.Getpid(), time.Now().UnixNano())
	v := []byte("value written on " + first.Hostname + " at " + time.Now().UTC().Format(time.RFC3339Nano))
	eventually(t, "PUT /kv/"+k+" on "+first.Hostname, func() error {
		code, b, err := request(http.MethodPut, first.BaseURL()+"/kv/"+k, v)
		if err != nil {
			return err
		}
		if code != http.StatusOK {
			return fmt.Errorf("status %d: %s", code, b)
		}
		return nil
	})
	eventually(t, "GET /kv/"+k+" on "+last.Hostname, func() error {
		code, b, err := request(http.MethodGet, last.BaseURL()+"/kv/"+k, nil)
		if err != nil {
			return err
		}
		if code != http.StatusOK || !bytes.Equal(b, v) {
			return fmt.Errorf("status %d, body %q, want 200 %q", code, b, v)
		}
		return nil
	})
}

func TestPeersAllReachable(t *testing.T) {
	forEachNode(t, func(t *testing.T, r config.Replica) {
		eventually(t, "GET /peers", func() error {
			var pr struct {
				Peers []struct {
					config.Replica
					Reachable bool    `json:"reachable"`
					LatencyMS float64 `json:"latency_ms"`
					Error     string  `json:"error"`
				} `json:"peers"`
			}
			if err := getJSON(r.BaseURL()+"/peers", &pr); err != nil {
				return err
			}
			var seen []config.Replica
			var bad []string
			for _, p := range pr.Peers {
				seen = append(seen, p.Replica)
				if !p.Reachable {
					bad = append(bad, fmt.Sprintf("%s (%s)", p.Hostname, p.Error))
				}
			}
			if err := sameSet(seen); err != nil {
				return err
			}
			if len(bad) > 0 {
				return fmt.Errorf("unreachable from %s: %s", r.Hostname, strings.Join(bad, ", "))
			}
			return nil
		})
	})
}
