// Package node implements the kvnode HTTP API: health (/ping), the replica table (/status),
// reachability of every replica (/peers) and a naively replicated key-value store (/kv/{key}).
package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"sync"
	"time"

	"example.com/kvnode/internal/config"
)

// ReplicatedHeader marks a PUT forwarded by another replica; such a PUT is stored but not
// forwarded again.
const ReplicatedHeader = "X-Replicated"

// MaxValueBytes bounds the body of PUT /kv/{key}.
const MaxValueBytes = 16 << 20

// Options configures a Node. Zero durations and a nil client get defaults.
type Options struct {
	Name      string           // this node's name (reported by /ping and /status, used in logs)
	Address   string           // this node's address ($SELF_IP)
	Port      int              // the port the node listens on
	Replicas  []config.Replica // the whole table, this node included
	SelfIndex int              // index of this node in Replicas, -1 if absent
	Logger    *slog.Logger
	Client    *http.Client // outgoing probes and replication

	ProbeTimeout       time.Duration // per /peers probe; default 1s
	ReplicationTimeout time.Duration // per forwarded PUT; default 2s
}

// Node is one replica. Create it with New.
type Node struct {
	opt  Options
	mu   sync.RWMutex
	data map[string][]byte
}

// New returns a node with an empty store.
func New(opt Options) *Node {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	if opt.Client == nil {
		opt.Client = &http.Client{}
	}
	if opt.ProbeTimeout <= 0 {
		opt.ProbeTimeout = time.Second
	}
	if opt.ReplicationTimeout <= 0 {
		opt.ReplicationTimeout = 2 * time.Second
	}
	if opt.Replicas == nil {
		opt.Replicas = []config.Replica{}
	}
	return &Node{opt: opt, data: map[string][]byte{}}
}

// FindSelf returns the index of the replica whose address is selfIP, preferring one whose
// port is also port (several replicas may share an address); -1 if there is none.
func FindSelf(replicas []config.Replica, selfIP string, port int) int {
	if selfIP == "" {
		return -1
	}
	first := -1
	for i, r := range replicas {
		if r.Address != selfIP {
			continue
		}
		if r.Port == port {
			return i
		}
		if first < 0 {
			first = i
		}
	}
	return first
}

// Identity is who a node is, as resolved by ResolveSelf.
type Identity struct {
	Name    string
	Address string
	Index   int // in the replica table, -1 if absent
}

// ResolveSelf determines the node's identity: the table line whose address is selfIP gives
// the name; otherwise the name is nodeName, else osHostname, and (when selfIP is empty) the
// address is taken from the line with that hostname, if any.
func ResolveSelf(replicas []config.Replica, selfIP string, port int, nodeName, osHostname string) Identity {
	if i := FindSelf(replicas, selfIP, port); i >= 0 {
		return Identity{Name: replicas[i].Hostname, Address: selfIP, Index: i}
	}
	id := Identity{Name: nodeName, Address: selfIP, Index: -1}
	if id.Name == "" {
		id.Name = osHostname
	}
	if selfIP == "" {
		for i, r := range replicas {
			if r.Hostname == id.Name {
				id.Address, id.Index = r.Address, i
				break
			}
		}
	}
	return id
}

// Handler returns the API with request logging.
func (n *Node) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ping", n.handlePing)
	mux.HandleFunc("GET /status", n.handleStatus)
	mux.HandleFunc("GET /peers", n.handlePeers)
	mux.HandleFunc("PUT /kv/{key}", n.handlePut)
	mux.HandleFunc("GET /kv/{key}", n.handleGet)
	return n.logRequests(mux)
}

// ---- responses ----

type PingResponse struct {
	Name string `json:"name"`
	OK   bool   `json:"ok"`
}

type StatusResponse struct {
	Name     string           `json:"name"`
	Address  string           `json:"address"`
	Port     int              `json:"port"`
	Replicas []config.Replica `json:"replicas"`
}

type Peer struct {
	config.Replica
	Reachable bool    `json:"reachable"`
	LatencyMS float64 `json:"latency_ms"`
	Error     string  `json:"error"`
}

type PeersResponse struct {
	Peers []Peer `json:"peers"`
}

type PutResponse struct {
	Key      string            `json:"key"`
	Replicas map[string]string `json:"replicas"`
}

type errorResponse struct {
	Error string `json:"error"`
	Key   string `json:"key,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// ---- handlers ----

func (n *Node) handlePing(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, PingResponse{Name: n.opt.Name, OK: true})
}

func (n *Node) handleStatus(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, StatusResponse{
		Name: n.opt.Name, Address: n.opt.Address, Port: n.opt.Port, Replicas: n.opt.Replicas,
	})
}

func (n *Node) handlePeers(w http.ResponseWriter, r *http.Request) {
	peers := make([]Peer, len(n.opt.Replicas))
	var wg sync.WaitGroup
	for i, rep := range n.opt.Replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			peers[i] = n.probe(r.Context(), rep)
		}()
	}
	wg.Wait()
	writeJSON(w, http.StatusOK, PeersResponse{Peers: peers})
}

func (n *Node) probe(ctx context.Context, rep config.Replica) Peer {
	p := Peer{Replica: rep}
	ctx, cancel := context.WithTimeout(ctx, n.opt.ProbeTimeout)
	defer cancel()
	start := time.Now()
	err := func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rep.BaseURL()+"/ping", nil)
		if err != nil {
			return err
		}
		resp, err := n.opt.Client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}()
	p.LatencyMS = millis(time.Since(start))
	if err != nil {
		p.Error = err.Error()
	} else {
		p.Reachable = true
	}
	return p
}

func (n *Node) handlePut(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxValueBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, errorResponse{Error: "value too large", Key: key})
			return
		}
		writeJSON(w, http.StatusBadRequest, errorResponse{Error: "reading body: " + err.Error(), Key: key})
		return
	}
	n.mu.Lock()
	n.data[key] = body
	n.mu.Unlock()

	resp := PutResponse{Key: key, Replicas: map[string]string{n.opt.Name: "ok"}}
	if r.Header.Get(ReplicatedHeader) == "1" {
		writeJSON(w, http.StatusOK, resp)
		return
	}
	type result struct{ host, status string }
	results := make(chan result)
	others := 0
	for i, rep := range n.opt.Replicas {
		if i == n.opt.SelfIndex {
			continue
		}
		others++
		go func() {
			results <- result{rep.Hostname, n.forward(r.Context(), rep, key, body, r.Header.Get("Content-Type"))}
		}()
	}
	status := http.StatusOK
	for range others {
		res := <-results
		resp.Replicas[res.host] = res.status
		if res.status != "ok" {
			status = http.StatusBadGateway
		}
	}
	writeJSON(w, status, resp)
}

// forward sends the PUT to one replica and returns "ok" or "error: ...".
func (n *Node) forward(ctx context.Context, rep config.Replica, key string, body []byte, contentType string) string {
	ctx, cancel := context.WithTimeout(ctx, n.opt.ReplicationTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut,
		rep.BaseURL()+"/kv/"+url.PathEscape(key), bytes.NewReader(body))
	if err != nil {
		return "error: " + err.Error()
	}
	req.ContentLength = int64(len(body))
	req.Header.Set(ReplicatedHeader, "1")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := n.opt.Client.Do(req)
	if err != nil {
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Sprintf("error: status %d", resp.StatusCode)
	}
	return "ok"
}

func (n *Node) handleGet(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	n.mu.RLock()
	v, ok := n.data[key]
	n.mu.RUnlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, errorResponse{Error: "key not found", Key: key})
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(v)
}

// ---- request logging ----

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (n *Node) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelWarn
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Float64("duration_ms", millis(time.Since(start))),
			slog.String("remote", r.RemoteAddr),
		}
		if r.Header.Get(ReplicatedHeader) == "1" {
			attrs = append(attrs, slog.Bool("replicated", true))
		}
		n.opt.Logger.LogAttrs(r.Context(), level, "request", attrs...)
	})
}

// millis converts d to milliseconds, rounded to the microsecond.
func millis(d time.Duration) float64 {
	return math.Round(float64(d)/1e3) / 1e3
}
