package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseGood(t *testing.T) {
	in := "# replica table\n" +
		"\n" +
		"node1 172.30.99.11 40404\n" +
		"   # indented comment\n" +
		"node2\t172.30.99.12\t\t40405\r\n" + // tabs and CRLF
		"  node3   172.30.99.13   1  \n" +
		"   \n"
	got, err := Parse(strings.NewReader(in), "test.config")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []Replica{
		{"node1", "172.30.99.11", 40404},
		{"node2", "172.30.99.12", 40405},
		{"node3", "172.30.99.13", 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if u := got[0].BaseURL(); u != "http://node1:40404" {
		t.Errorf("BaseURL = %q", u)
	}
}

func TestParseBad(t *testing.T) {
	cases := []struct {
		name, in string
		line     int
		msg      string
	}{
		{"two fields", "node1 1.2.3.4 1\nnode2 1.2.3.5\n", 2, "expected 3 fields"},
		{"four fields", "# c\n\nnode1 1.2.3.4 40404 # trailing\n", 3, "got 5"},
		{"port not a number", "node1 1.2.3.4 http\n", 1, `invalid port "http"`},
		{"port zero", "node1 1.2.3.4 0\n", 1, "invalid port"},
		{"port too big", "node1 1.2.3.4 65536\n", 1, "invalid port"},
		{"duplicate hostname", "a 1.1.1.1 1\nb 1.1.1.2 1\na 1.1.1.3 1\n", 3, "first defined on line 1"},
		{"duplicate target", "a 1.1.1.1 1\nb 1.1.1.1 1\n", 2, "duplicate address and port 1.1.1.1:1"},
		{"empty", "# nothing\n\n", 0, "no replicas defined"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.in), "bad.config")
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("want *ParseError, got %v", err)
			}
			if pe.Line != tc.line || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got line %d %q, want line %d containing %q", pe.Line, err, tc.line, tc.msg)
			}
			if tc.line > 0 && !strings.HasPrefix(err.Error(), "bad.config:") {
				t.Fatalf("error %q does not name the file", err)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "Cluster.config")
	if err := os.WriteFile(p, []byte("n1 10.0.0.1 40404\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Load(p)
	if err != nil || len(got) != 1 || got[0].Hostname != "n1" {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	if _, err := Load(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load(missing) = %v", err)
	}
	t.Setenv("CFG_PATH", "")
	if PathFromEnv() != DefaultPath {
		t.Fatal("default path")
	}
	t.Setenv("CFG_PATH", p)
	if PathFromEnv() != p {
		t.Fatal("CFG_PATH ignored")
	}
}
