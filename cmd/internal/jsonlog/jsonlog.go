// Package jsonlog is a log/slog handler writing exactly one JSON object per line:
//
//	{"time":"2024-05-01T12:00:00.123456789Z","level":"info","node":"node1","message":"listening","fields":{"addr":"0.0.0.0:40404"}}
//
// time is RFC 3339 with nanoseconds in UTC, level is lower case (debug, info, warn, error),
// node is fixed per handler, and fields holds every attribute (groups become nested objects;
// fields is {} when there are none).
package jsonlog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"
)

// Handler implements slog.Handler.
type Handler struct {
	mu     *sync.Mutex
	w      io.Writer
	level  slog.Leveler
	node   string
	fields map[string]any // attributes added with WithAttrs, already nested by group
	groups []string       // current group path (WithGroup)
}

// New returns a handler writing to w; a nil level means slog.LevelInfo.
func New(w io.Writer, node string, level slog.Leveler) *Handler {
	if level == nil {
		level = slog.LevelInfo
	}
	return &Handler{mu: &sync.Mutex{}, w: w, level: level, node: node, fields: map[string]any{}}
}

// NewLogger is shorthand for slog.New(New(w, node, nil)).
func NewLogger(w io.Writer, node string) *slog.Logger { return slog.New(New(w, node, nil)) }

func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

type line struct {
	Time    string         `json:"time"`
	Level   string         `json:"level"`
	Node    string         `json:"node"`
	Message string         `json:"message"`
	Fields  map[string]any `json:"fields"`
}

func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	fields := cloneMap(h.fields)
	if r.NumAttrs() > 0 {
		target := descend(fields, h.groups)
		r.Attrs(func(a slog.Attr) bool { addAttr(target, a); return true })
	}
	rec := line{
		Time:    t.UTC().Format(time.RFC3339Nano),
		Level:   strings.ToLower(r.Level.String()),
		Node:    h.node,
		Message: r.Message,
		Fields:  fields,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		// Unencodable field value: keep the line, stringify the fields.
		buf.Reset()
		rec.Fields = map[string]any{"fields": fmt.Sprint(fields), "encode_error": err.Error()}
		if err := enc.Encode(rec); err != nil {
			return err
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.w.Write(buf.Bytes()) // Encode ends the object with '\n': one write per line
	return err
}

func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	h2.fields = cloneMap(h.fields)
	target := descend(h2.fields, h.groups)
	for _, a := range attrs {
		addAttr(target, a)
	}
	return &h2
}

func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.groups = append(append([]string(nil), h.groups...), name)
	return &h2
}

func descend(m map[string]any, groups []string) map[string]any {
	for _, g := range groups {
		sub, ok := m[g].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[g] = sub
		}
		m = sub
	}
	return m
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			v = cloneMap(sub)
		}
		out[k] = v
	}
	return out
}

func addAttr(m map[string]any, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		attrs := a.Value.Group()
		if len(attrs) == 0 {
			return
		}
		target := m
		if a.Key != "" {
			target = descend(m, []string{a.Key})
		}
		for _, ga := range attrs {
			addAttr(target, ga)
		}
		return
	}
	if a.Key == "" {
		return
	}
	m[a.Key] = value(a.Value)
}

func value(v slog.Value) any {
	switch v.Kind() {
	case slog.KindString:
		return v.String()
	case slog.KindInt64:
		return v.Int64()
	case slog.KindUint64:
		return v.Uint64()
	case slog.KindFloat64:
		f := v.Float64()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Sprint(f)
		}
		return f
	case slog.KindBool:
		return v.Bool()
	case slog.KindDuration:
		return v.Duration().String()
	case slog.KindTime:
		return v.Time().UTC().Format(time.RFC3339Nano)
	}
	a := v.Any()
	switch x := a.(type) {
	case nil:
		return nil
	case error:
		return x.Error()
	case fmt.Stringer:
		if _, ok := a.(json.Marshaler); !ok {
			return x.String()
		}
	}
	if b, err := json.Marshal(a); err == nil {
		return json.RawMessage(b)
	}
	return fmt.Sprintf("%+v", a)
}
