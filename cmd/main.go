// Command server is the kvnode example service deployed by clusterdeploy: one replica of a
// small replicated key-value store. See README.md for the configuration, the endpoints and
// the log format.
//
// Environment:
//
//	CFG_PATH   replica table (default /root/Cluster.config); format in internal/config
//	SELF_IP    this node's address; its line in the table gives the node's name
//	NODE_NAME  name to use when SELF_IP matches no line (then os.Hostname())
//	PORT       listening port on 0.0.0.0 (default 40404)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"example.com/kvnode/internal/config"
	"example.com/kvnode/internal/jsonlog"
	"example.com/kvnode/internal/node"
)

const (
	defaultPort     = 40404
	shutdownTimeout = 500 * time.Millisecond
)

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		sig := <-sigs
		cancel(fmt.Errorf("received %s", sig))
	}()
	os.Exit(run(ctx, os.Getenv, os.Stdout, nil))
}

// run serves until ctx is cancelled and returns the exit code. If ready is not nil it
// receives the listening address once the server accepts connections.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer, ready chan<- string) int {
	hostname, _ := os.Hostname()
	fallbackName := getenv("NODE_NAME")
	if fallbackName == "" {
		fallbackName = hostname
	}
	cfgPath := getenv("CFG_PATH")
	if cfgPath == "" {
		cfgPath = config.DefaultPath
	}
	port := defaultPort
	if p := getenv("PORT"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 65535 {
			jsonlog.NewLogger(stdout, fallbackName).Error("invalid PORT", "port", p)
			return 2
		}
		port = n
	}
	replicas, err := config.Load(cfgPath)
	if err != nil {
		jsonlog.NewLogger(stdout, fallbackName).Error("cannot load config", "path", cfgPath, "error", err.Error())
		return 1
	}
	selfIP := getenv("SELF_IP")
	id := node.ResolveSelf(replicas, selfIP, port, getenv("NODE_NAME"), hostname)
	log := jsonlog.NewLogger(stdout, id.Name)
	log.Info("config loaded", "path", cfgPath, "replicas", len(replicas),
		"self_ip", selfIP, "address", id.Address, "in_table", id.Index >= 0)
	if id.Index < 0 {
		log.Warn("this node is not in the replica table", "self_ip", selfIP, "port", port)
	}

	ln, err := net.Listen("tcp4", net.JoinHostPort("0.0.0.0", strconv.Itoa(port)))
	if err != nil {
		log.Error("cannot listen", "error", err.Error())
		return 1
	}
	if port == 0 { // tests
		port = ln.Addr().(*net.TCPAddr).Port
	}
	nd := node.New(node.Options{
		Name: id.Name, Address: id.Address, Port: port,
		Replicas: replicas, SelfIndex: id.Index,
		Logger: log, Client: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
	})
	srv := &http.Server{
		Handler:           nd.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "port", port)
	if ready != nil {
		ready <- ln.Addr().String()
	}

	select {
	case err := <-serveErr:
		log.Error("server failed", "error", err.Error())
		return 1
	case <-ctx.Done():
	}
	log.Info("shutting down", "reason", context.Cause(ctx).Error(), "timeout_ms", shutdownTimeout.Milliseconds())
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	code := 0
	if err := srv.Shutdown(sctx); err != nil {
		// Requests still running (e.g. a slow /peers probe): cut them off.
		log.Warn("graceful shutdown timed out, closing connections", "error", err.Error())
		_ = srv.Close()
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("server failed", "error", err.Error())
		code = 1
	}
	log.Info("stopped", "exit_code", code)
	return code
}
