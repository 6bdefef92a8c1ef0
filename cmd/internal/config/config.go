// Package config reads the replica table ("Cluster.config") shared by the kvnode server
// and by the clustertest suite.
//
// # File format
//
// One replica per line, three fields separated by any run of spaces or tabs:
//
//	# comment
//	<hostname> <address> <port>
//
// for example
//
//	node1 172.30.99.11 40404
//	node2 172.30.99.12 40404
//
// Rules:
//
//   - Blank lines, and lines whose first non-blank character is '#', are ignored.
//     There are no trailing comments: "node1 10.0.0.1 40404 # x" has too many fields.
//   - hostname: the name the other replicas use to reach this one, as
//     http://<hostname>:<port>; unique within the file.
//   - address: the replica's IP address; a node finds its own line by comparing it
//     with $SELF_IP (and, when several lines share an address, also the port).
//   - port: decimal TCP port, 1-65535.
//   - The same <address> <port> pair may not appear twice, and the file must define
//     at least one replica.
//
// Every other line is an error that names the file and the 1-based line number, e.g.
//
//	/root/Cluster.config:3: expected 3 fields "<hostname> <address> <port>", got 2
package config

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
)

// DefaultPath is used when $CFG_PATH is unset or empty.
const DefaultPath = "/root/Cluster.config"

// Replica is one line of the table.
type Replica struct {
	Hostname string `json:"hostname"`
	Address  string `json:"address"`
	Port     int    `json:"port"`
}

// BaseURL is the address other nodes use to reach the replica: http://<hostname>:<port>.
func (r Replica) BaseURL() string {
	return "http://" + net.JoinHostPort(r.Hostname, strconv.Itoa(r.Port))
}

// ParseError reports a malformed table; Line is 1-based (0 for file-level problems).
type ParseError struct {
	Name string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.Name, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.Name, e.Line, e.Msg)
}

// PathFromEnv returns $CFG_PATH, or DefaultPath.
func PathFromEnv() string {
	if p := os.Getenv("CFG_PATH"); p != "" {
		return p
	}
	return DefaultPath
}

// Load reads and parses the table at path.
func Load(path string) ([]Replica, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads a table from r; name is used in error messages.
func Parse(r io.Reader, name string) ([]Replica, error) {
	var (
		out      []Replica
		byName   = map[string]int{}
		byTarget = map[string]int{}
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	lineNo := 0
	fail := func(format string, args ...any) error {
		return &ParseError{Name: name, Line: lineNo, Msg: fmt.Sprintf(format, args...)}
	}
	for sc.Scan() {
		lineNo++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Fields(text)
		if len(f) != 3 {
			return nil, fail("expected 3 fields \"<hostname> <address> <port>\", got %d", len(f))
		}
		port, err := strconv.Atoi(f[2])
		if err != nil || port < 1 || port > 65535 {
			return nil, fail("invalid port %q (want an integer 1-65535)", f[2])
		}
		rep := Replica{Hostname: f[0], Address: f[1], Port: port}
		if first, dup := byName[rep.Hostname]; dup {
			return nil, fail("duplicate hostname %q (first defined on line %d)", rep.Hostname, first)
		}
		target := net.JoinHostPort(rep.Address, f[2])
		if first, dup := byTarget[target]; dup {
			return nil, fail("duplicate address and port %s (first defined on line %d)", target, first)
		}
		byName[rep.Hostname] = lineNo
		byTarget[target] = lineNo
		out = append(out, rep)
	}
	if err := sc.Err(); err != nil {
		lineNo++
		return nil, fail("read error: %v", err)
	}
	if len(out) == 0 {
		return nil, &ParseError{Name: name, Msg: "no replicas defined"}
	}
	return out, nil
}
